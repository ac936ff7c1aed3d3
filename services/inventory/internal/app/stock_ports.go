package app

import (
	"context"
	"time"

	"trueup.dev/platform/paging"
	"trueup.dev/services/inventory/internal/inventory"
)

// LevelFilter narrows a stock listing.
type LevelFilter struct {
	Warehouse   string
	SKU         string
	Location    string
	IncludeZero bool
}

// MovementFilter narrows a journal listing.
type MovementFilter struct {
	SKU       string
	Warehouse string
}

// ValuationQuery asks for stock value.
type ValuationQuery struct {
	Warehouse string
	SKU       string
	AsOf      time.Time
	ByLot     bool
}

// ValuationLine is the quantity and value of one warehouse x item (x lot).
type ValuationLine struct {
	Warehouse, SKU, Lot string
	Qty                 inventory.Qty
	Value               int64
	Currency            string
}

// StockReader holds the stock queries.
type StockReader interface {
	// BaseUoMs returns the base unit of each of the given items.
	BaseUoMs(ctx context.Context, skus []string) (map[string]string, error)
	GetMovement(ctx context.Context, id string) (*inventory.Movement, error)
	// ListMovements pages by journal sequence; page.After is the last seq seen.
	ListMovements(ctx context.Context, f MovementFilter, page paging.Page) ([]*inventory.Movement, error)
	// ListLevels pages by location, sku, lot; page.After is an opaque key.
	ListLevels(ctx context.Context, f LevelFilter, page paging.Page) ([]*inventory.Level, error)
	GetAllocation(ctx context.Context, id string) (*inventory.Allocation, error)
	// Valuation sums the journal up to q.AsOf.
	Valuation(ctx context.Context, q ValuationQuery) ([]ValuationLine, error)
}

// StockTx holds the stock writes. Methods that read before a write lock what
// they read (on PostgreSQL; SQLite transactions are serial).
type StockTx interface {
	// LockItem serialises stock commands of one item: every stock command takes
	// this lock first, so the locks it takes after (levels, layers, lots) can
	// never be taken in a conflicting order by another command.
	LockItem(ctx context.Context, sku string) error
	// GetLot returns nil, nil when the lot is unknown.
	GetLot(ctx context.Context, sku, lot string) (*inventory.Lot, error)
	// LotOnHand is the stock of one lot (a serial number) across all locations.
	LotOnHand(ctx context.Context, sku, lot string) (inventory.Qty, error)
	// EnsureLot stores a lot if it is new.
	EnsureLot(ctx context.Context, l *inventory.Lot) error
	// LockLevel returns the level (zero on hand if there is none yet), locked.
	LockLevel(ctx context.Context, warehouse, location, sku, lot string) (*inventory.Level, error)
	// AddToLevel changes a level by deltas, creating it if needed.
	AddToLevel(ctx context.Context, warehouse, location, sku, lot string, onHand, allocated inventory.Qty, receivedAt time.Time) error
	// LockCandidates returns the levels of sku in warehouse with stock available
	// in unblocked, takeable locations and not expired before today
	// (YYYY-MM-DD), locked, in no particular order.
	LockCandidates(ctx context.Context, warehouse, sku, today string) ([]*inventory.Level, error)
	// LockLayers returns the cost layers of sku in warehouse that still hold
	// quantity, in Seq order, locked; and the newest layer that received stock
	// at a cost (QtyIn > 0), open or not, or nil: inventory.Book's Open and
	// Last. A layer in both is one value, so a change to one is seen in the other.
	LockLayers(ctx context.Context, warehouse, sku string) (open []*inventory.Layer, last *inventory.Layer, err error)
	// SaveLayer inserts or updates a layer.
	SaveLayer(ctx context.Context, l *inventory.Layer) error
	// InsertMovement appends to the journal and sets m.Seq.
	InsertMovement(ctx context.Context, m *inventory.Movement) error
	InsertAllocation(ctx context.Context, a *inventory.Allocation) error
	// LockAllocation reads an allocation for update.
	LockAllocation(ctx context.Context, id string) (*inventory.Allocation, error)
	UpdateAllocation(ctx context.Context, a *inventory.Allocation) error
}

// LevelKey is the keyset position of a level in a stock listing (location,
// sku, lot), the page.After of the next page.
func LevelKey(l *inventory.Level) string { return l.Location + "\x00" + l.SKU + "\x00" + l.Lot }
