package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

func workerCtx(name string) context.Context {
	return caller.NewContext(context.Background(), caller.Internal(name))
}

func TestPutawayTasksFromReceiving(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		inv := newFakeInventory()
		svc.SetInventory(inv)
		svc.SetClaimTTL(time.Hour)
		releasePO(t, svc, "")
		if _, err := svc.RecordReceiptLine(ctx, "s1", "PO7-MAIN", good("W-1", "1", "CS")); err != nil {
			t.Fatal(err)
		}
		dmg := good("W-1", "1", "EA")
		dmg.Condition = fulfillment.ConditionDamaged
		if _, err := svc.RecordReceiptLine(ctx, "s2", "PO7-MAIN", dmg); err != nil {
			t.Fatal(err)
		}
		res, err := svc.RecordReceiptLine(ctx, "s3", "PO7-MAIN", good("LOT-1", "3", ""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ResolveReceiptDiscrepancy(ctx, "r3", "PO7-MAIN", res.Discrepancies[0].Number,
			fulfillment.Resolve{Resolution: fulfillment.ResolutionAccept, Note: "lot on the label", Lot: "L1"}); err != nil {
			t.Fatal(err)
		}
		// The damaged line waits in quarantine: no putaway for it.
		tasks, err := svc.ListTasks(ctx, app.TaskFilter{Warehouse: "MAIN", Type: fulfillment.TaskPutaway}, "", 10)
		if err != nil || len(tasks) != 2 {
			t.Fatalf("tasks = %v, %v", tasks, err)
		}
		w, lot := tasks[0], tasks[1]
		if w.ID != "PUT-PO7-MAIN-1" || w.To != "A-01-02" || w.Zone != "A" || w.From != "RCV-01" || w.Qty != 12*qty.One || w.State != fulfillment.TaskOpen {
			t.Fatalf("W-1 putaway = %+v", w)
		}
		if lot.ID != "PUT-PO7-MAIN-3" || lot.To != "PF-01" || lot.Zone != "PF" || lot.Lot != "L1" {
			t.Fatalf("LOT-1 putaway = %+v", lot)
		}

		// Two workers take the queue: each gets its own task.
		anna, ben := workerCtx("anna"), workerCtx("ben")
		a, err := svc.ClaimNextTask(anna, app.TaskFilter{Warehouse: "MAIN"})
		if err != nil || a.ID != w.ID || a.ClaimedBy != "anna" {
			t.Fatalf("anna claims %+v, %v", a, err)
		}
		b, err := svc.ClaimNextTask(ben, app.TaskFilter{Warehouse: "MAIN"})
		if err != nil || b.ID != lot.ID {
			t.Fatalf("ben claims %+v, %v", b, err)
		}
		if _, err := svc.ClaimNextTask(ben, app.TaskFilter{Warehouse: "MAIN"}); apperr.KindOf(err) != apperr.KindNotFound {
			t.Fatalf("an empty queue: %v", err)
		}
		if _, err := svc.ClaimTask(ben, a.ID); apperr.KindOf(err) != apperr.KindFailedPrecondition {
			t.Fatalf("ben claims anna's task: %v", err)
		}
		if _, err := svc.ConfirmPutaway(ben, "p-b", a.ID, ""); apperr.KindOf(err) != apperr.KindFailedPrecondition {
			t.Fatalf("ben confirms anna's task: %v", err)
		}
		if open, _ := svc.ListTasks(ctx, app.TaskFilter{Warehouse: "MAIN", State: fulfillment.TaskOpen}, "", 10); len(open) != 0 {
			t.Fatalf("open while both are claimed: %v", open)
		}
		// Ben gives his back; Anna puts hers away in another bin than suggested.
		if k, err := svc.ReleaseTask(ben, b.ID); err != nil || k.State != fulfillment.TaskOpen {
			t.Fatalf("release = %+v, %v", k, err)
		}
		done, err := svc.ConfirmPutaway(anna, "p-a", a.ID, "warehouses/MAIN/locations/A-01-01")
		if err != nil || done.State != fulfillment.TaskDone || done.DoneTo != "A-01-01" || done.DoneBy != "anna" || done.Movement == "" {
			t.Fatalf("confirm = %+v, %v", done, err)
		}
		if again, err := svc.ConfirmPutaway(anna, "p-a", a.ID, "warehouses/MAIN/locations/A-01-01"); err != nil || again.Version != done.Version {
			t.Fatalf("retried confirm = %+v, %v", again, err)
		}
		if len(inv.moves) != 1 || inv.moves[0] != (app.Move{SKU: "W-1", From: "RCV-01", To: "A-01-01", Quantity: "12", UoM: "EA", Receipt: "PO7-MAIN", ReceiptLine: 1}) {
			t.Fatalf("moves = %+v", inv.moves)
		}
		if _, err := svc.ConfirmPutaway(anna, "p-a2", a.ID, ""); apperr.KindOf(err) != apperr.KindFailedPrecondition {
			t.Fatalf("confirming a done task: %v", err)
		}
		if _, err := svc.ConfirmPutaway(ben, "p-blocked", b.ID, "BLOCKED"); apperr.KindOf(err) != apperr.KindFailedPrecondition {
			t.Fatalf("putaway into a blocked bin: %v", err)
		}
	})
}

// A claim lapses after the claim time; anyone may then take the task.
func TestClaimsExpire(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc, _ := newService(t, db) // the clock moves a second per reading
		svc.SetInventory(newFakeInventory())
		svc.SetClaimTTL(3 * time.Second)
		releasePO(t, svc, "")
		if _, err := svc.RecordReceiptLine(context.Background(), "s1", "PO7-MAIN", good("W-1", "1", "CS")); err != nil {
			t.Fatal(err)
		}
		anna, ben := workerCtx("anna"), workerCtx("ben")
		k, err := svc.ClaimNextTask(anna, app.TaskFilter{Warehouse: "MAIN"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ClaimTask(ben, k.ID); apperr.KindOf(err) != apperr.KindFailedPrecondition {
			t.Fatalf("claimed at once: %v", err)
		}
		var got *fulfillment.Task
		for range 5 {
			if got, err = svc.ClaimTask(ben, k.ID); err == nil {
				break
			}
		}
		if got == nil || got.ClaimedBy != "ben" {
			t.Fatalf("the lapsed claim was not taken over: %v", err)
		}
	})
}

func TestConcurrentClaimsNeverShareATask(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		svc.SetInventory(newFakeInventory())
		svc.SetClaimTTL(time.Hour)
		releasePO(t, svc, "")
		const n = 8
		for i := range n {
			if _, err := svc.RecordReceiptLine(ctx, fmt.Sprintf("s%d", i), "PO7-MAIN", good("W-1", "1", "EA")); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		got := make([]string, n+2)
		for i := range n + 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if k, err := svc.ClaimNextTask(workerCtx(fmt.Sprintf("w%d", i)), app.TaskFilter{Warehouse: "MAIN"}); err == nil {
					got[i] = k.ID
				} else if apperr.KindOf(err) != apperr.KindNotFound {
					t.Errorf("worker %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, id := range got {
			if id == "" {
				continue
			}
			if seen[id] {
				t.Fatalf("task %s claimed twice: %v", id, got)
			}
			seen[id] = true
		}
		if len(seen) != n {
			t.Fatalf("%d tasks claimed of %d: %v", len(seen), n, got)
		}
	})
}
