package store_test

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/events"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// releasedMsg is orders' PurchaseOrderReleased for po, as the bus delivers it.
func releasedMsg(t *testing.T, eventID, po, partner string, lines ...*ordersv1.PurchaseOrderLine) *natsx.Message {
	t.Helper()
	m, err := protoevent.Message(eventID, &ordersv1.PurchaseOrderReleased{EventId: eventID, OccurredAt: timestamppb.New(t0),
		AggregateId: "purchaseOrders/" + po, AggregateVersion: 2, PurchaseOrder: &ordersv1.PurchaseOrder{
			Name: "purchaseOrders/" + po, Supplier: "suppliers/ACME", Partner: partner, Lines: lines}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return &natsx.Message{EventID: m.ID, Type: m.Type, Subject: m.Subject, Data: m.Payload}
}

func poLine(n int32, warehouse, date string) *ordersv1.PurchaseOrderLine {
	return &ordersv1.PurchaseOrderLine{LineNumber: n, Item: "W-1", Quantity: &typev1.Quantity{Value: "2", Uom: "CS"},
		BaseQuantity: "24", BaseUom: "EA", Warehouse: warehouse, ExpectedDate: date}
}

func TestReleasedPurchaseOrdersOpenExpectedReceiptsOnce(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		handle := events.PurchaseOrdersHandler(svc)
		po1 := releasedMsg(t, "rel-1", "PO1", "partner-a", poLine(1, "MAIN", "2026-12-24"), poLine(2, "EAST", ""), poLine(3, "MAIN", "2026-12-20"))
		again := releasedMsg(t, "rel-1-resent", "PO1", "partner-a", poLine(1, "MAIN", "2026-12-24"))
		bad := releasedMsg(t, "rel-bad", "PO2", "", poLine(1, "", ""))
		errs := handle(ctx, []*natsx.Message{po1, po1, again, bad})
		if errs[0] != nil || errs[1] != nil || errs[2] != nil || !errors.Is(errs[3], natsx.ErrPermanent) {
			t.Fatalf("errors = %v", errs)
		}
		all, err := svc.ListExpectedReceipts(ctx, app.ReceiptFilter{}, paging.Page{Limit: 10})
		if err != nil || len(all) != 2 {
			t.Fatalf("receipts = %v, %v; want one per warehouse, once", all, err)
		}
		main, err := svc.GetExpectedReceipt(ctx, "PO1-MAIN")
		if err != nil || main.Warehouse != "MAIN" || len(main.Lines) != 2 || main.ExpectedDate() != "2026-12-20" ||
			main.Lines[0].BaseQty != "24" || main.Lines[0].UoM != "CS" || main.Supplier != "ACME" || main.State != fulfillment.ReceiptOpen {
			t.Fatalf("MAIN = %+v, %v", main, err)
		}
		if rs, _ := svc.ListExpectedReceipts(ctx, app.ReceiptFilter{Warehouse: "EAST", PurchaseOrder: "PO1"}, paging.Page{Limit: 10}); len(rs) != 1 || rs[0].ID != "PO1-EAST" {
			t.Errorf("EAST by filter = %v", rs)
		}
		pa := caller.NewContext(ctx, caller.Partner("partner-a"))
		pb := caller.NewContext(ctx, caller.Partner("partner-b"))
		if rs, _ := svc.ListExpectedReceipts(pa, app.ReceiptFilter{}, paging.Page{Limit: 10}); len(rs) != 2 {
			t.Errorf("the order's partner lists %d receipts", len(rs))
		}
		if rs, _ := svc.ListExpectedReceipts(pb, app.ReceiptFilter{}, paging.Page{Limit: 10}); len(rs) != 0 {
			t.Errorf("another partner lists %d receipts", len(rs))
		}
		if _, err := svc.GetExpectedReceipt(pb, "PO1-MAIN"); apperr.KindOf(err) != apperr.KindNotFound {
			t.Errorf("another partner gets the receipt: %v", err)
		}
	})
}
