package store_test

import (
	"context"
	"fmt"
	"testing"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/events"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/store"
)

// A stock command loads the layers it reaches, not the book: a FIFO item
// with 40 open layers is locked with two of them (the oldest and the newest
// cost), the sums of the rest agree with the layers table, and an issue
// still takes the oldest layers, in order.
func TestAStockCommandLoadsOnlyTheLayersItReaches(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		var ids []string
		for i := range 40 {
			ids = append(ids, receive(t, svc, "WIDGET", "A1", "1", "EA", fmt.Sprintf("%d.00", i+1), "", "").ID)
		}
		m, err := issue(svc, "WIDGET", "A1", "3", "EA", "")
		if err != nil {
			t.Fatal(err)
		}
		st := store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode)
		err = st.InTx(context.Background(), func(tx app.Tx) error {
			b, err := tx.LockBook(context.Background(), "W1", "WIDGET", inventory.CostFIFO)
			if err != nil {
				return err
			}
			if len(b.Open) > 2 || b.Rest == nil {
				t.Errorf("a receipt's book loaded %d layers (rest %v); want at most 2 and the rest summed", len(b.Open), b.Rest)
			}
			var q inventory.Qty
			var v int64
			n := b.Rest.Layers
			for _, l := range b.Open {
				q, v, n = q+l.QtyRemaining, v+l.ValueRemaining, n+1
			}
			q, v = q+b.Rest.Qty, v+b.Rest.Value
			if n != 37 || q != 37_000_000 || v != (4+40)*37/2*100 {
				t.Errorf("book = %d layers, %s, %d; want 37 layers, 37 EA, %d", n, q, v, (4+40)*37/2*100)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Layers) != 3 || m.Layers[0].LayerID != ids[0] || m.Layers[2].LayerID != ids[2] || m.Value != -600 {
			t.Errorf("issue of 3 took %+v worth %d; want the three oldest layers, -6.00", m.Layers, m.Value)
		}
		// An issue of 20 reaches past the first batch the book loads.
		m, err = issue(svc, "WIDGET", "A1", "20", "EA", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Layers) != 20 || m.Layers[0].LayerID != ids[3] || m.Layers[19].LayerID != ids[22] || m.Value != -(4+23)*20/2*100 {
			t.Errorf("issue of 20 took %d layers from %s to %s worth %d; want receipts 4..23, %d",
				len(m.Layers), m.Layers[0].LayerID, m.Layers[len(m.Layers)-1].LayerID, m.Value, -(4+23)*20/2*100)
		}
		checkCostSums(t, db)
	})
}

// The sums kept by triggers (cost_books, cost_lots) are the sums of the
// layers, after receipts, issues, moving averages, lots and counts.
func TestCostSumsFollowEveryLayerChange(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		receive(t, svc, "WIDGET", "A1", "5", "EA", "1.10", "", "")
		receive(t, svc, "WIDGET", "A2", "1", "CS", "13.00", "", "")
		receive(t, svc, "AVG", "A1", "4", "BAG", "2.00", "", "")
		receive(t, svc, "AVG", "A1", "3", "KG", "7.00", "", "")
		receive(t, svc, "MILK", "A1", "6", "EA", "0.90", "L1", "2030-01-01")
		receive(t, svc, "MILK", "A1", "2", "EA", "0.95", "L2", "2030-02-01")
		for _, c := range []struct{ sku, q, uom, lot string }{{"WIDGET", "9", "EA", ""}, {"AVG", "2.5", "KG", ""}, {"MILK", "6", "EA", "L1"}} {
			if _, err := issue(svc, c.sku, "A1", c.q, c.uom, c.lot); err != nil && c.sku != "WIDGET" {
				t.Fatal(err)
			}
		}
		if _, err := issue(svc, "WIDGET", "A2", "4", "EA", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CountStock(context.Background(), app.Count{RequestID: rid("cnt"), SKU: "MILK", Warehouse: "W1", Location: "A1", Lot: "L2",
			ExpiryDate: "2030-02-01", Counted: app.Quantity{Value: "1", UoM: "EA"}}); err != nil {
			t.Fatal(err)
		}
		checkCostSums(t, db)
	})
}

// checkCostSums compares cost_books and cost_lots with the layers.
func checkCostSums(t *testing.T, db *sqldb.DB) {
	t.Helper()
	for _, q := range []struct{ name, sql string }{
		{"cost_books", `SELECT COUNT(*) FROM (
			SELECT warehouse, sku, COUNT(*) AS n, SUM(qty_remaining) AS q, SUM(value_remaining) AS v FROM cost_layers WHERE qty_remaining <> 0 GROUP BY warehouse, sku) l
			FULL JOIN (SELECT * FROM cost_books WHERE layers <> 0 OR qty_open <> 0 OR value_open <> 0) b ON b.warehouse = l.warehouse AND b.sku = l.sku
			WHERE l.n IS NULL OR b.layers IS NULL OR l.n <> b.layers OR l.q <> b.qty_open OR l.v <> b.value_open`},
		{"cost_lots", `SELECT COUNT(*) FROM (
			SELECT warehouse, sku, lot, SUM(qty_remaining) AS q, SUM(value_remaining) AS v,
				SUM(CASE WHEN qty_remaining > 0 THEN qty_remaining ELSE 0 END) AS sq, SUM(CASE WHEN qty_remaining > 0 THEN value_remaining ELSE 0 END) AS sv,
				SUM(CASE WHEN qty_remaining < 0 THEN 1 ELSE 0 END) AS neg
			FROM cost_layers WHERE qty_remaining <> 0 GROUP BY warehouse, sku, lot) l
			FULL JOIN (SELECT * FROM cost_lots WHERE qty_open <> 0 OR value_open <> 0 OR stock_qty <> 0 OR negatives <> 0) b
				ON b.warehouse = l.warehouse AND b.sku = l.sku AND b.lot = l.lot
			WHERE l.q IS NULL OR b.qty_open IS NULL OR l.q <> b.qty_open OR l.v <> b.value_open OR l.sq <> b.stock_qty OR l.sv <> b.stock_value OR l.neg <> b.negatives`},
	} {
		var n int
		if err := db.QueryRowContext(context.Background(), q.sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		if n != 0 {
			t.Errorf("%s disagrees with the layers on %d rows", q.name, n)
		}
	}
}
