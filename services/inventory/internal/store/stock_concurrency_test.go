package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

// Many concurrent allocations of one item: available never goes below zero,
// every successful allocation is fully backed by stock, and what the levels say
// is allocated equals what the allocations hold.
func TestConcurrentAllocationsNeverOverAllocate(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		receive(t, svc, "WIDGET", "A1", "40", "EA", "1", "", "")
		receive(t, svc, "WIDGET", "A2", "35", "EA", "1", "", "")
		receive(t, svc, "WIDGET", "PF", "25", "EA", "1", "", "")
		const workers = 24
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			granted inventory.Qty
			refused int
		)
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				q := 3 + i%9 // 3..11 EA; the sum asked (168) is well above the 100 on hand
				req := app.Allocate{RequestID: fmt.Sprintf("conc-%d", i), SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: fmt.Sprint(q)}, Order: soSrc}
				for attempt := 0; ; attempt++ {
					a, err := svc.AllocateStock(ctx, req)
					switch {
					case err == nil:
						mu.Lock()
						granted += a.Reserved()
						mu.Unlock()
						if a.Reserved().String() != fmt.Sprint(q) {
							t.Errorf("allocation %d reserved %s, want %d", i, a.Reserved(), q)
						}
						return
					case errors.Is(err, apperr.ErrFailedPrecondition):
						mu.Lock()
						refused++
						mu.Unlock()
						return
					case errors.Is(err, apperr.ErrConflict) && attempt < 5:
						continue // Aborted: safe to retry with the same request id
					default:
						t.Errorf("allocation %d: %v", i, err)
						return
					}
				}
			}(i)
		}
		wg.Wait()
		if granted.String() == "0" || refused == 0 {
			t.Fatalf("granted %s, refused %d: the test did not contend", granted, refused)
		}
		if granted > inventory.Qty(100_000_000) {
			t.Fatalf("granted %s of 100 on hand", granted)
		}
		_, allocated := level(t, svc, "WIDGET", "")
		if allocated != granted.String() {
			t.Fatalf("levels say %s allocated, allocations hold %s", allocated, granted)
		}
		checkStockInvariants(t, db, -1)
		// Whatever is left is exactly available: one more allocation of it succeeds.
		left := inventory.Qty(100_000_000) - granted
		if left > 0 {
			if _, err := svc.AllocateStock(ctx, app.Allocate{RequestID: "rest", SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: left.String()}, Order: soSrc}); err != nil {
				t.Fatalf("allocating the remaining %s: %v", left, err)
			}
		}
	})
}

// Mixed stock commands on one item from many goroutines: none deadlocks or is
// aborted (every command takes the item's lock first), and the invariants hold.
func TestConcurrentMixedCommands(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		receive(t, svc, "WIDGET", "A1", "50", "EA", "1", "", "")
		deadlocksBefore := deadlocks(t, db)
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for w := 0; w < 12; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 8; i++ {
					id := fmt.Sprintf("mix-%d-%d", w, i)
					var err error
					switch (w + i) % 5 {
					case 0:
						_, err = svc.ReceiveStock(ctx, app.Receive{Source: poSrc, RequestID: id, SKU: "WIDGET", Warehouse: "W1", Location: "A2",
							Quantity: app.Quantity{Value: "3"}, Cost: app.UnitCost{Currency: "USD", Amount: "1.25"}})
					case 1:
						_, err = svc.IssueStock(ctx, app.Issue{Source: shipSrc, RequestID: id, SKU: "WIDGET", Warehouse: "W1", Location: "A1", Quantity: app.Quantity{Value: "1"}})
					case 2:
						_, err = svc.MoveStock(ctx, app.Move{RequestID: id, SKU: "WIDGET", Warehouse: "W1", From: "A1", To: "PF", Quantity: app.Quantity{Value: "1"}})
					case 3:
						var a *inventory.Allocation
						a, err = svc.AllocateStock(ctx, app.Allocate{RequestID: id, SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: "2"}, Order: soSrc})
						if err == nil && len(a.Lines) > 0 {
							l := a.Lines[0]
							_, err = svc.ConfirmPick(ctx, app.ConfirmPick{RequestID: id + "-pick", AllocationID: a.ID, Location: l.Location, Quantity: app.Quantity{Value: l.Qty.String()}, ToLocation: "STG", Source: soSrc})
							if err == nil {
								_, err = svc.ConfirmShipment(ctx, app.Ship{RequestID: id + "-ship", AllocationID: a.ID, Source: shipSrc})
							}
						}
					case 4:
						_, err = svc.AdjustStock(ctx, app.Adjust{RequestID: id, SKU: "WIDGET", Warehouse: "W1", Location: "A2", Quantity: app.Quantity{Value: "1"}, Reason: "FOUND"})
					}
					if err != nil && !errors.Is(err, apperr.ErrFailedPrecondition) {
						errs <- fmt.Errorf("%s: %w", id, err)
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n := deadlocks(t, db) - deadlocksBefore; n != 0 {
			t.Errorf("%d deadlocks (retried away, but each costs a second): lock order is inconsistent", n)
		}
		checkStockInvariants(t, db, -1)
	})
}

// deadlocks reads PostgreSQL's deadlock counter for the test database (0 on SQLite).
func deadlocks(t *testing.T, db *sqldb.DB) int64 {
	t.Helper()
	if db.Dialect != sqldb.Postgres {
		return 0
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := conn.QueryRowContext(ctx, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Paging the journal never skips a movement that commits late with a lower
// sequence number (PostgreSQL takes the number at insert, not at commit).
func TestJournalPagingNeverSkipsLateCommits(t *testing.T) {
	db := pgtest.OpenPostgres(t)
	svc := stockFixture(t, db)
	ctx := context.Background()
	insert := func(q interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	}, id string) {
		t.Helper()
		if _, err := q.ExecContext(ctx, `INSERT INTO movements (id, type, sku, warehouse, entered_qty, entered_uom, base_qty, value_minor, created_at)
			VALUES ($1, 4, 'WIDGET', 'W1', '0', 'EA', 0, 0, 1)`, id); err != nil {
			t.Fatal(err)
		}
	}
	late, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Rollback()
	insert(late, "late") // takes the lower seq, commits last
	insert(db, "early")  // takes the higher seq, commits first

	var seen []string
	token := ""
	list := func() {
		page, err := paging.Parse(10, token, "WIDGET|")
		if err != nil {
			t.Fatal(err)
		}
		ms, err := svc.ListMovements(ctx, app.MovementFilter{SKU: "WIDGET"}, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			seen = append(seen, m.ID)
		}
		if len(ms) > 0 { // continue after the last one seen, as a polling reader does
			token = page.Next(page.Limit, fmt.Sprint(ms[len(ms)-1].Seq))
		}
	}
	list() // "early" is committed but must wait behind the running "late"
	if err := late.Commit(); err != nil {
		t.Fatal(err)
	}
	list()
	if fmt.Sprint(seen) != "[late early]" {
		t.Fatalf("journal pages saw %v, want [late early]", seen)
	}
}
