package app

import (
	"context"

	"trueup.dev/services/inventory/internal/inventory"
)

// ItemMasterReader holds the item-master queries beyond Reader's basics
// (lookups by code, audit queries).
type ItemMasterReader interface {
	// LookupItemCode returns the SKU a normalised code maps to, or NotFound.
	LookupItemCode(ctx context.Context, code inventory.ItemCode) (string, error)
	// AllItems returns the whole item master, with conversions and codes, in
	// SKU order: audits and imports look at every item at once.
	AllItems(ctx context.Context) ([]*inventory.Item, error)
	// AuditStockFacts returns what the audit checks in stock and documents:
	// units used by allocations and movements, stock against cost layer value
	// per warehouse, and stock in blocked locations.
	AuditStockFacts(ctx context.Context) (inventory.StockFacts, error)
	// ItemUsage returns what an item's stock and open allocations rely on.
	ItemUsage(ctx context.Context, sku string) (inventory.ItemUsage, error)
}

// ItemMasterTx holds the item-master writes beyond Tx's basics (updates, imports).
type ItemMasterTx interface {
	// UpdateItem stores it, a validated item at its next version, if the
	// stored version is still prevVersion, else Conflict (NotFound if there is
	// no such item). Conversions and codes are replaced as a whole; a code
	// another item holds is AlreadyExists naming that item.
	UpdateItem(ctx context.Context, it *inventory.Item, prevVersion int64) error
	// InsertItems writes many validated new items with few statements. It
	// trusts the caller to have checked SKUs and codes against the item master
	// in the same transaction; one taken concurrently is a Conflict (retry).
	InsertItems(ctx context.Context, items []*inventory.Item) error
}
