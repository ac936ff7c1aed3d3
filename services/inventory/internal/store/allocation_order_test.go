package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/events"
	"trueup.dev/services/inventory/internal/store"
)

// An allocation over several lots lists its lines in FEFO order, which here
// is not the order of location and lot; a retry, and a read, answer exactly
// what the first call did.
func TestAllocationRetryKeepsFEFOLineOrder(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := stockFixture(t, db)
		receive(t, svc, "MILK", "A1", "2", "", "1.00", "LATE", "2027-06-10")
		receive(t, svc, "MILK", "A2", "2", "", "1.00", "ZSOON", "2027-01-10")
		receive(t, svc, "MILK", "A1", "2", "", "1.00", "MID", "2027-03-10")
		cmd := app.Allocate{RequestID: rid("al"), SKU: "MILK", Warehouse: "W1", Quantity: app.Quantity{Value: "5"}, Order: soSrc}
		first, err := svc.AllocateStock(ctx, cmd)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range first.Lines {
			got = append(got, l.Location+"/"+l.Lot+"/"+l.Qty.String())
		}
		if want := []string{"A2/ZSOON/2", "A1/MID/2", "A1/LATE/1"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("first answer lines = %v, want FEFO %v", got, want)
		}
		again, err := svc.AllocateStock(ctx, cmd)
		if err != nil || !reflect.DeepEqual(again, first) {
			t.Fatalf("retry = %+v, %v; want %+v", again, err, first)
		}
		read, err := svc.GetAllocation(ctx, first.ID)
		if err != nil || !reflect.DeepEqual(read, first) {
			t.Fatalf("get = %+v, %v; want %+v", read, err, first)
		}
	})
}

// Lines allocated before line numbers existed keep the order they were read
// back in until then: by location, then lot.
func TestAllocationLineOrderBackfill(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if err := store.MigrateTo(ctx, db, 6); err != nil {
			t.Fatal(err)
		}
		now := func() time.Time { return t0 }
		svc := stockFixtureOn(t, app.New(store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode), now))
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"old-1", "old-2"} {
			exec(`INSERT INTO allocations (id, sku, warehouse, requested_qty, requested_uom, requested, state, created_at, updated_at)
				VALUES ($1, 'MILK', 'W1', '5', 'EA', 5, 1, 0, 0)`, id)
			for _, l := range []struct{ loc, lot string }{{"A2", "ZSOON"}, {"A1", "MID"}, {"A1", "LATE"}} {
				exec(`INSERT INTO allocation_lines (allocation_id, location, lot, qty) VALUES ($1, $2, $3, 1)`, id, l.loc, l.lot)
			}
		}
		if err := store.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		// The stock the old lines reserve (received on the current schema:
		// today's code writes columns later migrations added).
		receive(t, svc, "MILK", "A1", "2", "", "1.00", "LATE", "2027-06-10")
		receive(t, svc, "MILK", "A2", "2", "", "1.00", "ZSOON", "2027-01-10")
		receive(t, svc, "MILK", "A1", "2", "", "1.00", "MID", "2027-03-10")
		for _, id := range []string{"old-1", "old-2"} {
			a, err := svc.GetAllocation(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range a.Lines {
				got = append(got, l.Location+"/"+l.Lot)
			}
			if want := []string{"A1/LATE", "A1/MID", "A2/ZSOON"}; !reflect.DeepEqual(got, want) {
				t.Fatalf("%s lines after backfill = %v, want %v", id, got, want)
			}
		}
		rows, err := db.QueryContext(ctx, `SELECT line_no FROM allocation_lines WHERE allocation_id = 'old-2' ORDER BY location, lot`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var nos []int
		for rows.Next() {
			var n int
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			nos = append(nos, n)
		}
		if !reflect.DeepEqual(nos, []int{0, 1, 2}) {
			t.Fatalf("backfilled line numbers = %v", nos)
		}
	})
}
