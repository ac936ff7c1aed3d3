package store_test

import (
	"context"
	"slices"
	"testing"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

// An issue against a purchase order line is goods returned to the supplier:
// allowed, valued at the cost it consumes like any issue, and reported as
// StockIssued with the order as its source (orders takes it out of the
// line's received quantity, the ledger out of GRNI). It takes no reason code,
// which would post it elsewhere than GRNI.
func TestIssueAgainstAPurchaseOrderReturnsToTheSupplier(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := stockFixture(t, db)
		receive(t, svc, "WIDGET", "RCV", "12", "EA", "1.50", "", "")
		src := inventory.SourceDoc{Type: inventory.SourcePurchaseOrder, ID: "PO-1", Line: "1"}
		ret := app.Issue{RequestID: "po-return/PO-1/1/1", SKU: "WIDGET", Warehouse: "W1", Location: "RCV",
			Quantity: app.Quantity{Value: "2", UoM: "EA"}, Source: src}
		if v := ret.Check(); len(v) != 0 {
			t.Fatalf("stateless check refused a return to the supplier: %+v", v)
		}
		m, err := svc.IssueStock(ctx, ret)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type != inventory.MoveIssue || m.BaseQty.String() != "-2" || m.Value != -300 || m.Source != src {
			t.Fatalf("return = %+v", m)
		}
		if oh, _ := level(t, svc, "WIDGET", "RCV"); oh != "10" {
			t.Errorf("on hand after the return = %s, want 10", oh)
		}
		if types := outboxTypes(t, db); !slices.Contains(types, "trueup.inventory.v1.StockIssued") {
			t.Errorf("no StockIssued in the outbox: %v", types)
		}
		// The caller's retry (orders derives the request id from the
		// discrepancy) answers the same movement.
		if again, err := svc.IssueStock(ctx, ret); err != nil || again.ID != m.ID {
			t.Errorf("retry = %+v, %v; want movement %s", again, err, m.ID)
		}

		scrap := ret
		scrap.RequestID, scrap.Reason = rid("scrap"), "SCRAP"
		wantKind(t, scrap.Check().Err(), apperr.KindInvalidArgument, "reason_code")
		_, err = svc.IssueStock(ctx, scrap)
		wantKind(t, err, apperr.KindInvalidArgument, "reason_code")
		if oh, _ := level(t, svc, "WIDGET", "RCV"); oh != "10" {
			t.Errorf("a refused issue changed stock: %s", oh)
		}
	})
}
