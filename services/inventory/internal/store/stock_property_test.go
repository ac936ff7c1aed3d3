package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

// Random sequences of movements in random units: after every step, on-hand
// equals the sum of the journal, the book value in the cost layers equals the
// sum of the journal's values to the minor unit, layers hold exactly the stock
// on hand, and nothing is allocated beyond what is on hand.
func TestStockInvariantsUnderRandomMovements(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		seed := uint64(20261127)
		r := rand.New(rand.NewPCG(seed, 7))
		t.Logf("seed %d", seed)
		locs := []string{"RCV", "A1", "A2", "PF"}
		type itemSpec struct {
			sku  string
			qty  func() (string, string)
			lots []string
		}
		items := []itemSpec{
			{"WIDGET", func() (string, string) {
				if r.IntN(10) == 0 {
					return fmt.Sprint(2500 + r.IntN(5000)), "EA" // beyond 32-bit micro-units
				}
				if r.IntN(3) == 0 {
					return fmt.Sprint(1 + r.IntN(3)), "CS"
				}
				return fmt.Sprint(1 + r.IntN(30)), "EA"
			}, []string{""}},
			{"AVG", func() (string, string) {
				if r.IntN(2) == 0 {
					return fmt.Sprint(1 + r.IntN(9)), "BAG"
				}
				return fmt.Sprintf("%d.%03d", r.IntN(5), 1+r.IntN(999)), "KG"
			}, []string{""}},
			{"MILK", func() (string, string) { return fmt.Sprint(1 + r.IntN(12)), "EA" }, []string{"L1", "L2", "L3"}},
		}
		expiry := map[string]string{"L1": "2030-01-01", "L2": "2030-06-01", "L3": "2031-01-01"}
		var allocations []string
		ops := 0
		refusals := map[string]int{}
		defer func() { t.Logf("refusals: %v", refusals) }()
		for step := 0; step < 160; step++ {
			it := items[r.IntN(len(items))]
			lot := it.lots[r.IntN(len(it.lots))]
			loc := locs[r.IntN(len(locs))]
			q, uom := it.qty()
			var err error
			switch op := r.IntN(9); op {
			case 0, 1, 2:
				exp := ""
				if it.sku == "MILK" {
					exp = expiry[lot]
					if exp == "" {
						exp = "2031-01-01"
						expiry[lot] = exp
					}
				}
				cost := fmt.Sprintf("%d.%04d", r.IntN(20), r.IntN(10000))
				_, err = svc.ReceiveStock(ctx, app.Receive{Source: poSrc, RequestID: rid("p"), SKU: it.sku, Warehouse: "W1", Location: loc,
					Quantity: app.Quantity{Value: q, UoM: uom}, Cost: app.UnitCost{Currency: "USD", Amount: cost}, Lot: lot, ExpiryDate: exp})
			case 3:
				_, err = svc.IssueStock(ctx, app.Issue{Source: shipSrc, RequestID: rid("p"), SKU: it.sku, Warehouse: "W1", Location: loc, Quantity: app.Quantity{Value: q, UoM: uom}, Lot: lot})
			case 4:
				to := locs[(slices.Index(locs, loc)+1+r.IntN(len(locs)-1))%len(locs)]
				_, err = svc.MoveStock(ctx, app.Move{RequestID: rid("p"), SKU: it.sku, Warehouse: "W1", From: loc, To: to, Quantity: app.Quantity{Value: q, UoM: uom}, Lot: lot})
			case 5:
				if r.IntN(2) == 0 {
					q = "-" + q
				}
				_, err = svc.AdjustStock(ctx, app.Adjust{RequestID: rid("p"), SKU: it.sku, Warehouse: "W1", Location: loc, Quantity: app.Quantity{Value: q, UoM: uom}, Lot: lot, Reason: "RANDOM", ExpiryDate: expiry[lot]})
			case 6:
				_, err = svc.CountStock(ctx, app.Count{RequestID: rid("p"), SKU: it.sku, Warehouse: "W1", Location: loc, Counted: app.Quantity{Value: q, UoM: uom}, Lot: lot, ExpiryDate: expiry[lot]})
			case 7:
				var a *inventory.Allocation
				a, err = svc.AllocateStock(ctx, app.Allocate{RequestID: rid("p"), SKU: it.sku, Warehouse: "W1", Quantity: app.Quantity{Value: q, UoM: uom}, AllowPartial: r.IntN(2) == 0})
				if err == nil {
					allocations = append(allocations, a.ID)
				}
			case 8:
				if len(allocations) == 0 {
					continue
				}
				id := allocations[r.IntN(len(allocations))]
				a, gerr := svc.GetAllocation(ctx, id)
				if gerr != nil {
					t.Fatal(gerr)
				}
				if r.IntN(3) == 0 || len(a.Lines) == 0 {
					_, err = svc.ReleaseAllocation(ctx, rid("p"), id)
				} else {
					l := a.Lines[r.IntN(len(a.Lines))]
					_, err = svc.ConfirmPick(ctx, app.ConfirmPick{RequestID: rid("p"), AllocationID: id, Location: l.Location, Lot: l.Lot, Quantity: app.Quantity{Value: l.Open().String()}})
				}
			}
			// Only refusals a correct system gives to these random commands are
			// accepted; anything else (a currency mismatch, an internal error, an
			// invalid argument for well-formed input) fails the test.
			var e *apperr.Error
			if err != nil {
				if !errors.As(err, &e) || !allowedRefusals[e.Reason] {
					t.Fatalf("step %d: unexpected error %v", step, err)
				}
				refusals[e.Reason]++
			}
			if err == nil {
				ops++
			}
			checkStockInvariants(t, db, step)
		}
		if ops < 60 {
			t.Fatalf("only %d of 160 random operations succeeded: the test exercises too little", ops)
		}
	})
}

// allowedRefusals are the answers random but well-formed commands may get.
var allowedRefusals = map[string]bool{
	"INSUFFICIENT_STOCK":      true, // issue, move, allocate more than available
	"COUNT_BELOW_ALLOCATED":   true, // count under what is reserved
	"NO_COST":                 true, // stock found before the item's first receipt
	"LOT_NOT_FOUND":           true, // a lot never received
	"ALLOCATION_NOT_ACTIVE":   true, // pick after release
	"ALLOCATION_PICKED":       true, // release after the full pick
	"PICK_EXCEEDS_ALLOCATION": true,
}

func checkStockInvariants(t *testing.T, db *sqldb.DB, step int) {
	t.Helper()
	ctx := context.Background()
	queries := []struct{ name, sql string }{
		{"on hand per level = journal", `SELECT COUNT(*) FROM (
			SELECT j.warehouse, j.sku, j.lot FROM
			  (SELECT warehouse, sku, lot, SUM(base_qty) AS q FROM movements WHERE type <> 2 GROUP BY warehouse, sku, lot) j
			  LEFT JOIN (SELECT warehouse, sku, lot, SUM(on_hand) AS q FROM stock_levels GROUP BY warehouse, sku, lot) s
			  ON s.warehouse = j.warehouse AND s.sku = j.sku AND s.lot = j.lot
			WHERE COALESCE(s.q, 0) <> j.q) x`},
		{"book value in layers = journal value", `SELECT COUNT(*) FROM (
			SELECT j.sku FROM
			  (SELECT warehouse, sku, SUM(value_minor) AS v, SUM(base_qty) AS q FROM movements WHERE type <> 2 GROUP BY warehouse, sku) j
			  LEFT JOIN (SELECT warehouse, sku, SUM(value_remaining) AS v, SUM(qty_remaining) AS q FROM cost_layers GROUP BY warehouse, sku) c
			  ON c.warehouse = j.warehouse AND c.sku = j.sku
			WHERE COALESCE(c.v, 0) <> j.v OR COALESCE(c.q, 0) <> j.q) x`},
		{"no negative stock, allocation within on hand", `SELECT COUNT(*) FROM stock_levels WHERE on_hand < 0 OR allocated < 0 OR allocated > on_hand`},
		{"allocated = open allocation lines", `SELECT COUNT(*) FROM (
			SELECT s.location FROM stock_levels s LEFT JOIN
			  (SELECT a.warehouse, al.location, a.sku, al.lot, SUM(al.qty - al.picked - al.released) AS open
			   FROM allocation_lines al JOIN allocations a ON a.id = al.allocation_id
			   GROUP BY a.warehouse, al.location, a.sku, al.lot) o
			  ON o.warehouse = s.warehouse AND o.location = s.location AND o.sku = s.sku AND o.lot = s.lot
			WHERE COALESCE(o.open, 0) <> s.allocated) x`},
		{"an emptied layer keeps no stranded value", `SELECT COUNT(*) FROM cost_layers WHERE qty_remaining = 0 AND value_remaining <> 0`},
		{"layer never negative or above its receipt", `SELECT COUNT(*) FROM cost_layers WHERE qty_remaining < 0 OR value_remaining < 0 OR qty_remaining > qty_in`},
	}
	for _, q := range queries {
		var bad int
		if err := db.QueryRowContext(ctx, q.sql).Scan(&bad); err != nil {
			t.Fatalf("step %d: %s: %v", step, q.name, err)
		}
		if bad != 0 {
			t.Fatalf("step %d: invariant broken: %s (%d rows)", step, q.name, bad)
		}
	}
}
