package store_test

import (
	"context"
	"testing"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/ledger/internal/app"
)

// TestTransferReceiptOfSeveralLayersPostsEachMovement: a transfer that
// carried two cost layers arrives as one StockTransferReceived with two
// TRANSFER_IN movements; each becomes its own entry naming its movement, so
// the reconciliation finds both posted (one merged entry named only the
// first, and the second stayed "in flight" for ever), and a redelivery
// posts nothing more.
func TestTransferReceiptOfSeveralLayersPostsEachMovement(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		in := movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_IN, currency: "USD", wh: "EAST", sku: "A", transfer: "T-9", at: day1}
		a, b := in, in
		a.value, a.seq = 2750, 5
		b.value, b.seq = 250, 6
		ev := inbound(t, "tr-in", &inventoryv1.StockTransferReceived{EventId: "tr-in", Movements: []*inventoryv1.Movement{a.proto("m-a"), b.proto("m-b")}})
		for range 2 {
			if _, err := svc.PostEvents(ctx, []app.Inbound{ev}); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"m-a", "m-b"} {
			es, err := svc.ListEntries(ctx, app.EntryFilter{MovementID: id}, paging.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 1 || len(es[0].Lines) != 2 {
				t.Fatalf("entries of movement %s = %+v, want one of two lines", id, es)
			}
		}
		if got := balance(t, svc, app.BalanceQuery{Account: "1400", GroupBy: []string{"warehouse", "item"}}); got["1400 USD EAST A"] != 3000 {
			t.Fatalf("EAST inventory = %v, want 30.00", got)
		}
	})
}
