package main

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
)

// TestPurchaseOrderReturnFlow drives a return to the supplier across
// orders, inventory and the ledger of the dev stack: a purchase order for
// 10 EA at 0 % tolerance is received 12 in inventory; orders shows the
// discrepancy of 2 and refuses to close; RETURN issues the 2 out of
// inventory (refused first from a bin where the stock is not, which
// inventory answers and orders passes on); orders shows 10 received and
// closes; inventory holds 10; the ledger posts the return Dr GRNI / Cr
// Inventory under rules version 4, so the order's GRNI is 10 x price and
// nothing is parked; and the bill for the 10 matches three ways against the
// reduced received quantity and clears it.
func TestPurchaseOrderReturnFlow(t *testing.T) {
	_, conn, _ := startTestStack(t)
	ctx := context.Background()
	inv := inventoryv1.NewInventoryServiceClient(conn)
	ord := ordersv1.NewOrdersServiceClient(conn)
	led := ledgerv1.NewLedgerServiceClient(conn)
	recon := ledgerv1.NewReconciliationServiceClient(conn)

	// An item of its own in a warehouse of its own: the return is valued at
	// inventory's cost of the stock it issues, and no other stock of the
	// item must be there to be issued first.
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(inv.CreateWarehouse(ctx, &inventoryv1.CreateWarehouseRequest{RequestId: "ret-wh",
		Warehouse: &inventoryv1.Warehouse{Code: "RTN", DisplayName: "Returns test", TimeZone: "UTC"}}))
	for code, typ := range map[string]inventoryv1.LocationType{
		"RCV-R1": inventoryv1.LocationType_LOCATION_TYPE_RECEIVING_DOCK,
		"A-R1":   inventoryv1.LocationType_LOCATION_TYPE_STORAGE,
	} {
		must(inv.CreateLocation(ctx, &inventoryv1.CreateLocationRequest{RequestId: "ret-loc-" + code, Parent: "warehouses/RTN",
			Location: &inventoryv1.Location{Code: code, Type: typ}}))
	}
	must(inv.CreateItem(ctx, &inventoryv1.CreateItemRequest{RequestId: "ret-item", Item: &inventoryv1.Item{
		Sku: "RET-100", Description: "Returnable widget", BaseUom: "EA", WholeUnitsOnly: true}}))
	must(ord.CreateSupplier(ctx, &ordersv1.CreateSupplierRequest{RequestId: "ret-sup",
		Supplier: &ordersv1.Supplier{Code: "RETSUP", DisplayName: "Returns supplier", CurrencyCode: "USD"}}))
	waitFor(t, "RET-100 in the orders catalog", func() bool {
		_, err := ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/RET-100"})
		return err == nil
	})

	po, err := ord.CreatePurchaseOrder(ctx, &ordersv1.CreatePurchaseOrderRequest{RequestId: "ret-po", PurchaseOrder: &ordersv1.PurchaseOrder{
		Supplier: "suppliers/RETSUP", OverReceiptTolerancePercent: "0",
		Lines: []*ordersv1.PurchaseOrderLine{{Item: "RET-100", Quantity: &typev1.Quantity{Value: "10", Uom: "EA"}, UnitPrice: "2.50", Warehouse: "RTN"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if po, err = ord.ReleasePurchaseOrder(ctx, &ordersv1.ReleasePurchaseOrderRequest{Name: po.GetName(), RequestId: "ret-po-release"}); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(po.GetName(), "purchaseOrders/")
	get := func() *ordersv1.PurchaseOrder {
		t.Helper()
		got, err := ord.GetPurchaseOrder(ctx, &ordersv1.GetPurchaseOrderRequest{Name: po.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	// 12 arrive at the dock.
	must(inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: "ret-rcv", Item: "items/RET-100",
		Location: "warehouses/RTN/locations/RCV-R1", Quantity: &typev1.Quantity{Value: "12", Uom: "EA"},
		UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "2.50", Uom: "EA"},
		Source:   &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: id, Line: "1"}}))
	waitFor(t, "the over-receipt in orders", func() bool {
		l := get().GetLines()[0]
		return l.GetReceivedQuantity() == "12" && l.GetOpenDiscrepancyQuantity() == "2"
	})
	if _, err := ord.ClosePurchaseOrder(ctx, &ordersv1.ClosePurchaseOrderRequest{Name: po.GetName()}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("close with the discrepancy open: %v", err)
	}

	ret := func(reqID, location string) (*ordersv1.PurchaseOrder, error) {
		return ord.ResolveReceiptDiscrepancy(ctx, &ordersv1.ResolveReceiptDiscrepancyRequest{Name: po.GetName(), LineNumber: 1,
			Resolution: ordersv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_RETURN, RequestId: reqID, Location: location})
	}
	// The excess is not in A-R1: inventory refuses, orders says so.
	_, err = ret("ret-po-return-wrong", "A-R1")
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), "cannot be returned from A-R1") {
		t.Fatalf("return from an empty bin: %v", err)
	}
	// An unknown bin is the request's fault.
	if _, err := ret("ret-po-return-nope", "NOPE"); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("return from an unknown bin: %v", err)
	}

	// From where the receipt put it (the default).
	first, err := ret("ret-po-return", "")
	if err != nil {
		t.Fatal(err)
	}
	l := first.GetLines()[0]
	rd := l.GetResolvedDiscrepancies()
	if l.GetReceivedQuantity() != "10" || l.GetReturnedQuantity() != "2" || l.GetOpenDiscrepancyQuantity() != "0" ||
		l.GetReceivedValue().GetMinorUnits() != 2500 || len(rd) != 1 || rd[0].GetQuantity() != "2" ||
		rd[0].GetResolution() != ordersv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_RETURN || !strings.HasPrefix(rd[0].GetMovement(), "movements/") {
		t.Fatalf("line after the return = %v", l)
	}
	if again, err := ret("ret-po-return", ""); err != nil || !proto.Equal(again, first) {
		t.Fatalf("retry = %v, %v; want exactly the first answer %v", again, err, first)
	}

	// Inventory issued 2 from the dock against the order line, once.
	stock, err := inv.ListStock(ctx, &inventoryv1.ListStockRequest{Warehouse: "warehouses/RTN", Item: "items/RET-100"})
	if err != nil {
		t.Fatal(err)
	}
	var onHand []string
	for _, lv := range stock.GetLevels() {
		onHand = append(onHand, lv.GetLocation()+"="+lv.GetOnHand())
	}
	if len(onHand) != 1 || onHand[0] != "warehouses/RTN/locations/RCV-R1=10" {
		t.Fatalf("stock after the return = %v, want 10 at RCV-R1", onHand)
	}
	moves, err := inv.ListMovements(ctx, &inventoryv1.ListMovementsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	issues := 0
	for _, m := range moves.GetMovements() {
		if m.GetType() == inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE && m.GetItem() == "items/RET-100" {
			issues++
			if m.GetName() != rd[0].GetMovement() || m.GetBaseQuantity() != "-2" || m.GetValue().GetMinorUnits() != -500 ||
				m.GetSource().GetType() != inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER || m.GetSource().GetId() != id || m.GetSource().GetLine() != "1" {
				t.Errorf("return movement = %v", m)
			}
		}
	}
	if issues != 1 {
		t.Errorf("%d issues of RET-100, want 1", issues)
	}

	// The ledger takes the return back out of GRNI under the order: what
	// is left is the 10 kept at the order's price.
	grni := func() int64 {
		t.Helper()
		bal, err := led.QueryBalances(ctx, &ledgerv1.QueryBalancesRequest{Account: "accounts/2100", CurrencyCode: "USD", GroupBy: []string{"document"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bal.GetBalances() {
			if b.GetDimensions().GetDocument() == id {
				return -b.GetNet().GetMinorUnits()
			}
		}
		return 0
	}
	waitFor(t, "the return posted out of GRNI", func() bool { return grni() == 2500 })
	ageing, err := recon.GetGrniAgeing(ctx, &ledgerv1.GetGrniAgeingRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var open int64
	for _, r := range ageing.GetRows() {
		if r.GetPurchaseOrder() == id {
			open += r.GetOpen().GetMinorUnits()
		}
	}
	if open != 2500 {
		t.Errorf("GRNI ageing of the order = %d, want 2500 (10 x 2.50)", open)
	}
	parked, err := led.ListParkedEvents(ctx, &ledgerv1.ListParkedEventsRequest{PageSize: 1000})
	if err != nil || len(parked.GetParkedEvents()) != 0 {
		t.Fatalf("parked events = %v, %v; want none (issue/PURCHASE_ORDER has a rule)", parked, err)
	}
	tb, err := led.GetTrialBalance(ctx, &ledgerv1.GetTrialBalanceRequest{})
	if err != nil || !tb.GetBalanced() {
		t.Fatalf("trial balance = %v, %v", tb, err)
	}

	// Orders applied inventory's StockIssued once: the order is as the
	// return left it, and it closes.
	if got := get(); !proto.Equal(got, first) {
		t.Fatalf("order after the issue event = %v; want %v", got, first)
	}
	closed, err := ord.ClosePurchaseOrder(ctx, &ordersv1.ClosePurchaseOrderRequest{Name: po.GetName(), RequestId: "ret-po-close"})
	if err != nil || closed.GetState() != ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_CLOSED {
		t.Fatalf("close after the return = %v, %v", closed, err)
	}

	// The supplier bills the 10 kept: a 3-way match against the reduced
	// received quantity, clearing the order's GRNI.
	bill, err := ord.RecordSupplierBill(ctx, &ordersv1.RecordSupplierBillRequest{RequestId: "ret-bill", SupplierBill: &ordersv1.SupplierBill{
		BillNumber: "RET-INV-1", PurchaseOrder: po.GetName(), BillDate: "2026-12-01",
		Lines: []*ordersv1.BillLine{{PurchaseOrderLine: 1, Quantity: &typev1.Quantity{Value: "10", Uom: "EA"}, UnitPrice: "2.50"}},
	}})
	if err != nil || bill.GetMatch() != ordersv1.BillMatch_BILL_MATCH_MATCHED || bill.GetState() != ordersv1.SupplierBillState_SUPPLIER_BILL_STATE_APPROVED ||
		bill.GetGrniCleared().GetMinorUnits() != 2500 || bill.GetPriceVariance().GetMinorUnits() != 0 {
		t.Fatalf("bill = %v, %v", bill, err)
	}
	waitFor(t, "the order's GRNI cleared by the bill", func() bool { return grni() == 0 })
}
