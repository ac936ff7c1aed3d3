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
	// From and To bound the record time (CreatedAt), From <= t < To; a zero
	// time leaves that side open.
	From, To time.Time
}

// MovementPage is a page of the journal, oldest (lowest seq) first.
type MovementPage struct {
	Movements []*inventory.Movement
	// Next is where the next page starts after: every movement with seq <=
	// Next that matches the filter is on this page or an earlier one, and no
	// movement still to commit will get a seq <= Next. Always set: at the end
	// of the journal it is the watermark, so a follower polls from it and
	// never skips a movement that commits late.
	Next int64
}

// ValuationPage is a page of a valuation: the lines of up to page.Limit
// items x warehouses (every lot of an item on the same page).
type ValuationPage struct {
	Lines []ValuationLine
	// Through is the journal watermark the valuation is complete through:
	// every movement with seq <= Through is in it, and none after.
	Through int64
	// Next is the page.After of the next page; "" on the last.
	Next string
}

// AllocationFilter narrows an allocation listing to one outbound order (and
// line, when Order.Line is set).
type AllocationFilter struct {
	Order inventory.SourceDoc
}

// ValuationQuery asks for stock value.
type ValuationQuery struct {
	Warehouse string
	SKU       string
	// AsOf is the moment; zero means now.
	AsOf  time.Time
	ByLot bool
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
	// ListMovements pages by journal sequence, never past the journal's
	// watermark; page.After is a MovementPage.Next (a seq), or "".
	ListMovements(ctx context.Context, f MovementFilter, page paging.Page) (MovementPage, error)
	// ListLevels pages by location, sku, lot; page.After is an opaque key.
	ListLevels(ctx context.Context, f LevelFilter, page paging.Page) ([]*inventory.Level, error)
	GetAllocation(ctx context.Context, id string) (*inventory.Allocation, error)
	// ListAllocations pages an order's allocations by id (oldest first);
	// page.After is the last id seen.
	ListAllocations(ctx context.Context, f AllocationFilter, page paging.Page) ([]*inventory.Allocation, error)
	// GetReasonCode returns NotFound for an unknown code.
	GetReasonCode(ctx context.Context, code string) (*inventory.ReasonCode, error)
	// ListReasonCodes pages by code; page.After is the last code seen.
	ListReasonCodes(ctx context.Context, page paging.Page) ([]*inventory.ReasonCode, error)
	// Valuation values stock at the journal's watermark: now (q.AsOf zero)
	// from the cost layers' sums, as of a past time (or by lot) from the
	// journal; paged by warehouse and item, page.After a ValuationPage.Next.
	Valuation(ctx context.Context, q ValuationQuery, page paging.Page) (ValuationPage, error)
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
	// LevelMovementsAfter returns the movements of one level (warehouse,
	// location, sku, lot) that happened after at (by effective time), in
	// journal order: what a count taken at at did not see.
	LevelMovementsAfter(ctx context.Context, warehouse, location, sku, lot string, at time.Time) ([]*inventory.Movement, error)
	// AddToLevel changes a level by deltas, creating it if needed.
	AddToLevel(ctx context.Context, warehouse, location, sku, lot string, onHand, allocated inventory.Qty, receivedAt time.Time) error
	// LockCandidates returns the levels of sku in warehouse with stock available
	// in unblocked, takeable locations and not expired before today
	// (YYYY-MM-DD), locked, in no particular order.
	LockCandidates(ctx context.Context, warehouse, sku, today string) ([]*inventory.Level, error)
	// LockBook loads the cost book of sku in warehouse (inventory.Book),
	// locked, for a command costed by method: in part, with a Rest that loads
	// the layers the command reaches, so that its cost does not grow with the
	// book's history.
	LockBook(ctx context.Context, warehouse, sku string, method inventory.CostMethod) (*inventory.Book, error)
	// SaveLayer inserts or updates a layer.
	SaveLayer(ctx context.Context, l *inventory.Layer) error
	// InsertIssueCorrections records what cost correction correctionID
	// changed of the value of each issue it corrects (issue id -> minor units).
	InsertIssueCorrections(ctx context.Context, correctionID string, byIssue map[string]int64) error
	// InsertMovement appends to the journal and sets m.Seq.
	InsertMovement(ctx context.Context, m *inventory.Movement) error
	InsertAllocation(ctx context.Context, a *inventory.Allocation) error
	// LockAllocation reads an allocation for update.
	LockAllocation(ctx context.Context, id string) (*inventory.Allocation, error)
	// UpdateAllocation stores an allocation's state, lines (inserting new
	// ones) and staged stock.
	UpdateAllocation(ctx context.Context, a *inventory.Allocation) error
	// InsertReasonCode returns AlreadyExists for a code that exists.
	InsertReasonCode(ctx context.Context, rc *inventory.ReasonCode) error
	// LockReasonCode returns a reason code, locked; NotFound for an unknown code.
	LockReasonCode(ctx context.Context, code string) (*inventory.ReasonCode, error)
	// UpdateReasonCode stores the description and active flag of rc.
	UpdateReasonCode(ctx context.Context, rc *inventory.ReasonCode) error
}

// LevelKey is the keyset position of a level in a stock listing (location,
// sku, lot), the page.After of the next page.
func LevelKey(l *inventory.Level) string { return l.Location + "\x00" + l.SKU + "\x00" + l.Lot }
