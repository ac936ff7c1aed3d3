package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
)

// rawMovement journals a zero movement of sku directly, in q (a transaction
// left open stands for a command that has not committed yet; it holds a key
// share lock on the item, so a stock command of that item would wait).
func rawMovement(t *testing.T, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, sku, id string) {
	t.Helper()
	if _, err := q.ExecContext(context.Background(), `INSERT INTO movements (id, type, sku, warehouse, entered_qty, entered_uom, base_qty, value_minor, created_at)
		VALUES ($1, 4, $2, 'W1', '0', 'EA', 0, 0, 1)`, id, sku); err != nil {
		t.Fatal(err)
	}
}

// A movement numbered before one that has committed, by a transaction that
// began after the committed one's, is not skipped either: the old rule (list
// what transactions older than the oldest running one wrote) listed
// "early" and moved past "late" for good.
func TestAFollowerNeverSkipsAMovementNumberedBeforeOneThatCommitted(t *testing.T) {
	db := pgtest.OpenPostgres(t)
	svc := stockFixture(t, db)
	ctx := context.Background()
	early, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer early.Rollback()
	if _, err := early.ExecContext(ctx, `SELECT pg_current_xact_id()`); err != nil { // the older transaction
		t.Fatal(err)
	}
	late, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback()
	rawMovement(t, late, "WIDGET", "late")   // the younger transaction takes the lower seq...
	rawMovement(t, early, "WIDGET", "early") // ...the older one the higher, and commits first
	if err := early.Commit(); err != nil {
		t.Fatal(err)
	}
	var seen []string
	page, _ := paging.Parse(10, "", "")
	follow := func() {
		t.Helper()
		mp, err := svc.FollowMovements(ctx, app.MovementFilter{SKU: "WIDGET"}, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mp.Movements {
			seen = append(seen, m.ID)
		}
		page.After = fmt.Sprint(mp.Next)
	}
	follow()
	if err := late.Commit(); err != nil {
		t.Fatal(err)
	}
	follow()
	if fmt.Sprint(seen) != "[late early]" {
		t.Fatalf("a follower saw %v; want [late early], nothing skipped", seen)
	}
}

// GetValuation is complete through the journal sequence it reports: every
// movement up to it is in the value, none after, even when a later movement
// has committed (its layers seen) while an earlier one is still running; and
// now (from the layers) agrees with the journal.
func TestValuationIsCompleteThroughItsWatermark(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		value := func(q app.ValuationQuery) (int64, int64) {
			t.Helper()
			q.Warehouse, q.SKU = "W1", "WIDGET"
			vp, err := svc.ValuationPage(ctx, q, paging.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var v int64
			for _, l := range vp.Lines {
				v += l.Value
			}
			return v, vp.Through
		}
		r1 := receive(t, svc, "WIDGET", "A1", "10", "EA", "1.00", "", "")
		if v, w := value(app.ValuationQuery{}); v != 1000 || w != r1.Seq {
			t.Fatalf("after one receipt: %d through %d; want 1000 through %d", v, w, r1.Seq)
		}
		var running *sql.Tx
		if db.Dialect == sqldb.Postgres {
			var err error
			if running, err = db.BeginTx(ctx, nil); err != nil {
				t.Fatal(err)
			}
			defer running.Rollback()
			rawMovement(t, running, "MILK", "running")
		}
		r2 := receive(t, svc, "WIDGET", "A1", "5", "EA", "2.00", "", "")
		if running != nil {
			if v, w := value(app.ValuationQuery{}); v != 1000 || w >= r2.Seq {
				t.Fatalf("with a movement still running: %d through %d; want 1000 through less than %d", v, w, r2.Seq)
			}
			if err := running.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		now, w := value(app.ValuationQuery{})
		if now != 2000 || w < r2.Seq {
			t.Fatalf("after both: %d through %d; want 2000 through %d or more", now, w, r2.Seq)
		}
		if v, _ := value(app.ValuationQuery{AsOf: r1.CreatedAt}); v != 1000 {
			t.Errorf("as of the first receipt: %d, want 1000", v)
		}
		if v, _ := value(app.ValuationQuery{AsOf: r2.CreatedAt}); v != now {
			t.Errorf("as of the last movement (the journal) %d, now (the layers) %d", v, now)
		}
		if v, _ := value(app.ValuationQuery{ByLot: true}); v != now {
			t.Errorf("by lot %d, now %d", v, now)
		}
	})
}
