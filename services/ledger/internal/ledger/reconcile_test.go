package ledger

import "testing"

func TestCompare(t *testing.T) {
	a := StockKey{"MAIN", "A", "USD"}
	b := StockKey{"MAIN", "B", "USD"}
	c := StockKey{"EAST", "A", "USD"}
	rows := Compare(ReconInput{
		Through:   100,
		Inventory: map[StockKey]int64{a: 1000, b: 500, c: 70},
		// a: the GL has a posting of seq 101 (after the valuation) of 30;
		// b: one movement of 200 is in flight, and a manual entry of 5 explains nothing;
		// c: one movement of 70 is parked.
		GLNow:   map[StockKey]int64{a: 1030, b: 305},
		GLAfter: map[StockKey]int64{a: 30},
		Pending: []PendingMovement{{MovementID: "m7", Seq: 99, Key: b, Value: 200}, {MovementID: "m8", Seq: 98, Key: c, Value: 70, Parked: true}},
		Manual:  map[StockKey][]string{b: {"je-1"}},
	})
	want := []ReconRow{
		{Key: c, Through: 100, Inventory: 70, Difference: -70},
		{Key: a, Through: 100, Inventory: 1000, GL: 1000},
		{Key: b, Through: 100, Inventory: 500, GL: 305, InFlight: 200, Difference: 5, Manual: []string{"je-1"}},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows = %+v", rows)
	}
	for i := range want {
		g, w := rows[i], want[i]
		if g.Key != w.Key || g.Inventory != w.Inventory || g.GL != w.GL || g.InFlight != w.InFlight || g.Difference != w.Difference || len(g.Manual) != len(w.Manual) {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
	r := Reconciliation{Rows: rows}
	if r.Clean() || len(r.Differences()) != 2 {
		t.Errorf("clean %v, %d differences; want 2 (the parked movement and the manual entry)", r.Clean(), len(r.Differences()))
	}
}
