package ledger

import (
	"cmp"
	"slices"
)

// Continuous reconciliation.
//
// The GL's Inventory account, by warehouse × item, must equal inventory's
// valuation. Comparing the two "now" is wrong mid-flow: inventory has
// movements the ledger has not posted yet, and the ledger may have posted
// movements newer than the valuation it is shown. So each comparison is
// made at one journal watermark W, the inventory sequence the valuation is
// complete through: the GL side counts only entries of movements with seq ≤ W
// (and every manual entry), and the movements ≤ W the ledger has not posted
// yet are listed as in flight, each with its value. What is left is an
// unexplained difference, reported with the manual entries that touch it.

// StockKey is one warehouse × item in one currency.
type StockKey struct {
	Warehouse, Item, Currency string
}

// PendingMovement is an inventory movement at or below the watermark that
// the ledger has not posted (in flight, or parked).
type PendingMovement struct {
	MovementID string
	Seq        int64
	Key        StockKey
	Value      int64
	Parked     bool // its event is parked: it needs a rule or a fix, not time
}

// ReconRow is the comparison of one warehouse × item.
type ReconRow struct {
	Key StockKey
	// Through is the inventory sequence both sides were taken at.
	Through   int64
	Inventory int64 // inventory's valuation
	GL        int64 // the GL's Inventory balance for movements ≤ Through (and manual entries)
	InFlight  int64 // value of the movements ≤ Through not yet posted (parked ones excluded)
	// Difference is GL + InFlight - Inventory: zero when the books agree.
	Difference int64
	// Manual names the manual entries on Inventory for this key, the usual
	// explanation of a difference.
	Manual []string
}

// ReconInput is one page of the comparison, at one watermark.
type ReconInput struct {
	Through   int64
	Inventory map[StockKey]int64 // valuation lines of the page
	// GLNow is the GL's Inventory now; GLAfter the part of it from
	// movements newer than Through (not yet in the valuation).
	GLNow, GLAfter map[StockKey]int64
	Pending        []PendingMovement
	Manual         map[StockKey][]string
}

// Compare makes the rows of one page: every key the valuation or the GL
// knows, a row when either side is non-zero or they differ.
func Compare(in ReconInput) []ReconRow {
	keys := map[StockKey]bool{}
	for k := range in.Inventory {
		keys[k] = true
	}
	for k := range in.GLNow {
		keys[k] = true
	}
	flight := map[StockKey]int64{}
	for _, p := range in.Pending {
		if !p.Parked { // a parked event explains nothing until it is posted
			flight[p.Key] += p.Value
		}
		keys[p.Key] = true
	}
	var rows []ReconRow
	for k := range keys {
		r := ReconRow{Key: k, Through: in.Through, Inventory: in.Inventory[k], GL: in.GLNow[k] - in.GLAfter[k], InFlight: flight[k], Manual: in.Manual[k]}
		r.Difference = r.GL + r.InFlight - r.Inventory
		if r.Inventory == 0 && r.GL == 0 && r.InFlight == 0 {
			continue
		}
		rows = append(rows, r)
	}
	SortRows(rows)
	return rows
}

// SortRows orders rows by warehouse, item, currency.
func SortRows(rows []ReconRow) {
	slices.SortFunc(rows, func(a, b ReconRow) int {
		return cmp.Or(cmp.Compare(a.Key.Warehouse, b.Key.Warehouse), cmp.Compare(a.Key.Item, b.Key.Item), cmp.Compare(a.Key.Currency, b.Key.Currency))
	})
}

// Reconciliation is the outcome of one run.
type Reconciliation struct {
	// RunID is the id under which the run is recorded.
	RunID   string
	Rows    []ReconRow
	Pending []PendingMovement
	// Through is the lowest watermark of the run's pages (each page of the
	// valuation is complete through its own).
	Through int64
	// Checkpoint is the highest sequence through which every value-changing
	// movement is posted: the next run need not look at movements below it.
	Checkpoint int64
}

// Differences are the rows whose sides do not agree.
func (r *Reconciliation) Differences() []ReconRow {
	var out []ReconRow
	for _, row := range r.Rows {
		if row.Difference != 0 {
			out = append(out, row)
		}
	}
	return out
}

// Clean reports whether the books agree with the warehouse: no row differs
// once the movements in flight are counted (a parked movement is not
// counted: it needs action, so its value shows as a difference).
func (r *Reconciliation) Clean() bool { return len(r.Differences()) == 0 }
