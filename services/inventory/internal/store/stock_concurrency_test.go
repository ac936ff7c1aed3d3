package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"trueup.dev/platform/apperr"
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
				req := app.Allocate{RequestID: fmt.Sprintf("conc-%d", i), SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: fmt.Sprint(q)}}
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
			if _, err := svc.AllocateStock(ctx, app.Allocate{RequestID: "rest", SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: left.String()}}); err != nil {
				t.Fatalf("allocating the remaining %s: %v", left, err)
			}
		}
	})
}
