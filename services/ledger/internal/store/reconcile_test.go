package store_test

import (
	"context"
	"testing"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/events"
	"trueup.dev/services/ledger/internal/ledger"
)

// fakeInventory stands in for the inventory service (whose real API the
// dev-stack tests reconcile against): a valuation at one watermark and the
// journal's movements.
type fakeInventory struct {
	through   int64
	valuation map[ledger.StockKey]int64
	movements []ledger.PendingMovement
}

func (f *fakeInventory) Valuation(ctx context.Context, fn func(int64, map[ledger.StockKey]int64) error) error {
	return fn(f.through, f.valuation)
}

func (f *fakeInventory) Movements(ctx context.Context, after, through int64, fn func([]ledger.PendingMovement) error) error {
	var page []ledger.PendingMovement
	for _, m := range f.movements {
		if m.Seq > after && m.Seq <= through {
			page = append(page, m)
		}
	}
	return fn(page)
}

// TestReconciliationNamesWhatDiffers: movements in flight explain a gap;
// a parked event and a manual entry on Inventory do not, and are named.
func TestReconciliationNamesWhatDiffers(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		a := ledger.StockKey{Warehouse: "MAIN", Item: "A", Currency: "USD"}
		b := ledger.StockKey{Warehouse: "MAIN", Item: "B", Currency: "USD"}
		c := ledger.StockKey{Warehouse: "MAIN", Item: "C", Currency: "USD"}
		rcv := func(id, sku string, value, seq int64) app.Inbound {
			return stockEvent(t, id, movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: po, srcID: "PO-1",
				value: value, currency: "USD", wh: "MAIN", sku: sku, seq: seq, at: day1})
		}
		// e3 has no rule (a receipt against a count): parked.
		e3 := stockEvent(t, "e3", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_COUNT,
			value: 70, currency: "USD", wh: "MAIN", sku: "C", seq: 3, at: day1})
		if _, err := svc.PostEvents(ctx, []app.Inbound{rcv("e1", "A", 1000, 1), rcv("e2", "B", 300, 2), e3, rcv("e5", "A", 40, 5)}); err != nil {
			t.Fatal(err)
		}
		inv := &fakeInventory{
			through:   4, // e5 (seq 5) is newer than the valuation: not counted on either side
			valuation: map[ledger.StockKey]int64{a: 1000, b: 500, c: 70},
			movements: []ledger.PendingMovement{
				{MovementID: "m-e1", Seq: 1, Key: a, Value: 1000}, {MovementID: "m-e2", Seq: 2, Key: b, Value: 300},
				{MovementID: "m-e3", Seq: 3, Key: c, Value: 70}, {MovementID: "m-e4", Seq: 4, Key: b, Value: 200}, // e4 in flight
				{MovementID: "m-e5", Seq: 5, Key: a, Value: 40},
			},
		}
		svc.SetInventory(inv)
		r, err := svc.Reconcile(ctx, events.Decode)
		if err != nil {
			t.Fatal(err)
		}
		diffs := map[ledger.StockKey]int64{}
		for _, row := range r.Rows {
			diffs[row.Key] = row.Difference
		}
		if diffs[a] != 0 || diffs[b] != 0 || diffs[c] != -70 || r.Clean() {
			t.Fatalf("differences %v clean %v; want only C, by its parked event", diffs, r.Clean())
		}
		if len(r.Pending) != 2 || r.Pending[0].MovementID != "m-e3" || !r.Pending[0].Parked || r.Pending[1].MovementID != "m-e4" || r.Pending[1].Parked {
			t.Fatalf("pending = %+v; want m-e3 parked and m-e4 in flight", r.Pending)
		}
		if r.Checkpoint != 2 {
			t.Errorf("checkpoint %d, want 2 (everything through seq 2 is posted)", r.Checkpoint)
		}
		// A manual entry on Inventory for A is a difference, named.
		e, err := svc.CreateEntry(ctx, "manual-1", app.ManualEntry{Reason: "test", EffectiveAt: day1, Lines: []ledger.Line{
			{Account: ledger.AcctInventory, Side: ledger.Debit, Amount: 5, Currency: "USD", Dims: ledger.Dimensions{Warehouse: "MAIN", Item: "A"}},
			{Account: ledger.AcctWriteDowns, Side: ledger.Credit, Amount: 5, Currency: "USD"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		r, err = svc.Reconcile(ctx, events.Decode)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range r.Rows {
			if row.Key == a && (row.Difference != 5 || len(row.Manual) != 1 || row.Manual[0] != e.ID) {
				t.Errorf("row A = %+v; want a difference of 5 naming %s", row, e.ID)
			}
		}
	})
}
