package app

import (
	"context"

	"trueup.dev/platform/paging"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/inventory/internal/inventory"
)

// Store is the persistence port. Reads outside a transaction see committed state.
type Store interface {
	// InTx runs fn in one transaction: all its writes and events commit together or not at all.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	Reader
}

// Reader answers queries. Get* return apperr NotFound for an unknown key.
type Reader interface {
	ItemMasterReader
	StockReader
	TransferReader
	GetItem(ctx context.Context, sku string) (*inventory.Item, error)
	ListItems(ctx context.Context, page paging.Page) ([]*inventory.Item, error)
	GetWarehouse(ctx context.Context, code string) (*inventory.Warehouse, error)
	ListWarehouses(ctx context.Context, page paging.Page) ([]*inventory.Warehouse, error)
	GetLocation(ctx context.Context, warehouse, code string) (*inventory.Location, error)
	ListLocations(ctx context.Context, warehouse string, page paging.Page) ([]*inventory.Location, error)
}

// Tx is the write side of one transaction.
type Tx interface {
	Reader
	ItemMasterTx
	StockTx
	TransferTx
	// Claimer makes a command idempotent by its request id: use cases run
	// through storetx.RunCommand, which claims, replays and completes.
	storetx.Claimer
	// InsertItem returns AlreadyExists when the SKU exists or a cross-reference
	// code is already mapped to another item (naming that item).
	InsertItem(ctx context.Context, it *inventory.Item) error
	InsertWarehouse(ctx context.Context, w *inventory.Warehouse) error
	InsertLocation(ctx context.Context, l *inventory.Location) error
	// UpdateLocation stores a location's blocked flag and type.
	UpdateLocation(ctx context.Context, l *inventory.Location) error
	// Emit records domain events in the transactional outbox.
	Emit(ctx context.Context, events ...any) error
}
