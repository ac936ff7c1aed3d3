package app

import (
	"context"

	"trueup.dev/services/inventory/internal/inventory"
)

// TransferReader holds the queries of transfers, reversals and returns.
type TransferReader interface {
	// GetTransfer returns NotFound for an unknown transfer.
	GetTransfer(ctx context.Context, id string) (*inventory.Transfer, error)
	// ReversalOf is the id of the movement that reversed id, "" if none.
	ReversalOf(ctx context.Context, id string) (string, error)
	// ReturnedOf is the quantity returned so far against issue movement id.
	ReturnedOf(ctx context.Context, id string) (inventory.Qty, error)
	// CorrectionOf is the sum of what cost corrections changed of issue
	// movement id's value (0 if none; see InsertIssueCorrections).
	CorrectionOf(ctx context.Context, id string) (int64, error)
}

// TransferTx holds the writes of transfers and reversals.
type TransferTx interface {
	InsertTransfer(ctx context.Context, t *inventory.Transfer) error
	// LockTransfer reads a transfer for update (NotFound if unknown).
	LockTransfer(ctx context.Context, id string) (*inventory.Transfer, error)
	// UpdateTransfer stores a transfer's state, destination location,
	// receive time and the destination layers of its carried layers.
	UpdateTransfer(ctx context.Context, t *inventory.Transfer) error
	// LockLayer reads one cost layer for update; nil, nil if there is none.
	LockLayer(ctx context.Context, id string) (*inventory.Layer, error)
	// BookChangedSince reports whether a movement after journal sequence seq
	// changed the stock or value of sku in warehouse (a move between bins
	// does not). The caller holds the item's lock.
	BookChangedSince(ctx context.Context, warehouse, sku string, seq int64) (bool, error)
}
