package app

import (
	"context"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/services/ledger/internal/ledger"
)

// InventoryView is what reconciliation reads from the inventory service.
type InventoryView interface {
	// Valuation calls fn with each page of inventory's valuation by
	// warehouse × item (lots summed), each page complete through the journal
	// sequence it reports.
	Valuation(ctx context.Context, fn func(through int64, lines map[ledger.StockKey]int64) error) error
	// Movements calls fn with the movements after < seq ≤ through that
	// change value, in sequence order, a page at a time.
	Movements(ctx context.Context, after, through int64, fn func([]ledger.PendingMovement) error) error
}

// ReconcileReader is the ledger side of reconciliation.
type ReconcileReader interface {
	// InventoryAfter sums the lines on account of the entries posted from
	// inventory movements with seq > after, by warehouse × item × currency.
	InventoryAfter(ctx context.Context, account string, after int64) (map[ledger.StockKey]int64, error)
	// ManualEntriesOn lists, by warehouse × item × currency, the entries on
	// account that were not posted from an inventory movement (manual
	// entries and reversals).
	ManualEntriesOn(ctx context.Context, account string) (map[ledger.StockKey][]string, error)
	// PostedMovements reports which of ids have an entry.
	PostedMovements(ctx context.Context, ids []string) (map[string]bool, error)
	// LastCheckpoint is the checkpoint of the latest reconciliation run (0
	// before the first).
	LastCheckpoint(ctx context.Context) (int64, error)
}

// ReconcileTx records runs.
type ReconcileTx interface {
	// SaveReconciliation records one run.
	SaveReconciliation(ctx context.Context, run ReconciliationRun) error
}

// ReconciliationRun is the record of one run.
type ReconciliationRun struct {
	ID          string
	RunAt       time.Time
	Through     int64
	Checkpoint  int64
	Clean       bool
	Differences int
	Caller      string
}

// SetInventory gives the service its view of inventory; without one,
// Reconcile answers Unavailable.
func (s *Service) SetInventory(v InventoryView) { s.inventory = v }

// Reconcile compares the GL's Inventory account by warehouse × item with
// inventory's valuation at the journal watermark of each valuation page, lists
// the movements in flight (and those whose events are parked, which explain
// nothing), and records the run. decode reads parked events (to know which
// movements they hold); it may be nil.
func (s *Service) Reconcile(ctx context.Context, decode Decoder) (*ledger.Reconciliation, error) {
	if s.inventory == nil {
		return nil, apperr.New(apperr.KindUnavailable, "NO_INVENTORY", "reconciliation needs the inventory service, and this ledger has no address for it")
	}
	checkpoint, err := s.store.LastCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	parked, err := s.parkedMovements(ctx, decode)
	if err != nil {
		return nil, err
	}
	out := &ledger.Reconciliation{}
	seen := map[ledger.StockKey]bool{}
	scanned := checkpoint              // movements up to here have been fetched
	var cands []ledger.PendingMovement // value-changing movements after the checkpoint
	var last ledger.ReconInput         // the GL side of the last page, for the keys no page holds
	var lastPending []ledger.PendingMovement
	err = s.inventory.Valuation(ctx, func(through int64, lines map[ledger.StockKey]int64) error {
		if out.Through == 0 || through < out.Through {
			out.Through = through
		}
		if through > scanned {
			if err := s.inventory.Movements(ctx, scanned, through, func(ms []ledger.PendingMovement) error {
				cands = append(cands, ms...)
				return nil
			}); err != nil {
				return err
			}
			scanned = through
		}
		// The GL side in one snapshot: what is posted, and the balances
		// that include exactly those postings.
		page := ledger.ReconInput{Through: through, Inventory: lines, GLNow: map[ledger.StockKey]int64{}}
		var pending []ledger.PendingMovement
		err := s.store.Snapshot(ctx, func(r Reader) error {
			ids := make([]string, 0, len(cands))
			for _, m := range cands {
				if m.Seq <= through {
					ids = append(ids, m.MovementID)
				}
			}
			posted, err := r.PostedMovements(ctx, ids)
			if err != nil {
				return err
			}
			pending = pending[:0]
			for _, m := range cands {
				if m.Seq <= through && !posted[m.MovementID] {
					m.Parked = parked[m.MovementID]
					pending = append(pending, m)
				}
			}
			glNow, err := inventoryGL(ctx, r)
			if err != nil {
				return err
			}
			if page.GLAfter, err = r.InventoryAfter(ctx, ledger.AcctInventory, through); err != nil {
				return err
			}
			if page.Manual, err = r.ManualEntriesOn(ctx, ledger.AcctInventory); err != nil {
				return err
			}
			last = ledger.ReconInput{Through: through, GLNow: glNow, GLAfter: page.GLAfter, Manual: page.Manual}
			return nil
		})
		if err != nil {
			return err
		}
		lastPending = pending
		for k := range lines {
			seen[k] = true
			page.GLNow[k] = last.GLNow[k]
		}
		for _, p := range pending {
			if _, ok := lines[p.Key]; ok {
				page.Pending = append(page.Pending, p)
			}
		}
		out.Pending = append(out.Pending, page.Pending...)
		out.Rows = append(out.Rows, ledger.Compare(page)...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// What the GL holds for stock no valuation page lists: compared with
	// zero, in the last page's snapshot.
	rest := ledger.ReconInput{Through: last.Through, GLNow: map[ledger.StockKey]int64{}, GLAfter: last.GLAfter, Manual: last.Manual}
	for k, v := range last.GLNow {
		if !seen[k] {
			rest.GLNow[k] = v
		}
	}
	for _, p := range lastPending {
		if !seen[p.Key] {
			rest.Pending = append(rest.Pending, p)
			out.Pending = append(out.Pending, p)
		}
	}
	out.Rows = append(out.Rows, ledger.Compare(rest)...)
	ledger.SortRows(out.Rows)
	out.Checkpoint = scanned
	for _, p := range out.Pending {
		out.Checkpoint = min(out.Checkpoint, p.Seq-1)
	}
	run := ReconciliationRun{ID: newID(), RunAt: s.now(), Through: out.Through, Checkpoint: out.Checkpoint,
		Clean: out.Clean(), Differences: len(out.Differences()), Caller: caller.From(ctx).String()}
	if err := s.store.InTx(ctx, func(tx Tx) error { return tx.SaveReconciliation(ctx, run) }); err != nil {
		return nil, err
	}
	out.RunID = run.ID
	return out, nil
}

// inventoryGL is the GL's Inventory balance now, by warehouse × item × currency.
func inventoryGL(ctx context.Context, r Reader) (map[ledger.StockKey]int64, error) {
	rows, err := r.Balances(ctx, BalanceQuery{Account: ledger.AcctInventory, GroupBy: []string{"warehouse", "item"}})
	if err != nil {
		return nil, err
	}
	out := map[ledger.StockKey]int64{}
	for _, r := range rows {
		out[ledger.StockKey{Warehouse: r.Dims.Warehouse, Item: r.Dims.Item, Currency: r.Currency}] += r.Net()
	}
	return out, nil
}

// parkedMovements are the movement ids the parked events hold.
func (s *Service) parkedMovements(ctx context.Context, decode Decoder) (map[string]bool, error) {
	out := map[string]bool{}
	if decode == nil {
		return out, nil
	}
	after := ""
	for {
		evs, err := s.store.ListParked(ctx, pageAfter(after, 500))
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			d, err := decode(e.EventType, e.Payload)
			if err != nil {
				continue
			}
			for _, m := range d.Movements {
				out[m.MovementID] = true
			}
		}
		if len(evs) < 500 {
			return out, nil
		}
		after = evs[len(evs)-1].EventID
	}
}
