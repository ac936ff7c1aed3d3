package main

import (
	"context"
	"strings"
	"testing"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
)

// TestPurchaseOrderIsReceivedThroughInventory drives procure-to-receipt
// across three services of the dev stack: a purchase order is created and
// released in orders; the warehouse receives against it in inventory (in two
// receipts, one of them in cases); orders follows inventory's events to
// RECEIVED, and the ledger holds the receipts in GRNI under the order, not
// billed yet. Then the supplier's bill for the full quantity at the order's
// price is recorded in orders, matched and approved; the ledger posts its
// SupplierBillApproved from the ORDERS stream, clearing the order's GRNI and
// crediting accounts payable.
func TestPurchaseOrderIsReceivedThroughInventory(t *testing.T) {
	_, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	inv := inventoryv1.NewInventoryServiceClient(conn)
	ord := ordersv1.NewOrdersServiceClient(conn)
	recon := ledgerv1.NewReconciliationServiceClient(conn)

	// The catalog follows inventory's items by events: wait for the seeded one.
	waitFor(t, "WIDGET-100 in the orders catalog", func() bool {
		_, err := ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/WIDGET-100"})
		return err == nil
	})
	po, err := ord.CreatePurchaseOrder(ctx, &ordersv1.CreatePurchaseOrderRequest{RequestId: "flow-po-1", PurchaseOrder: &ordersv1.PurchaseOrder{
		Supplier: "suppliers/ACME",
		Lines: []*ordersv1.PurchaseOrderLine{{Item: "WIDGET-100", Quantity: &typev1.Quantity{Value: "24", Uom: "EA"},
			UnitPrice: "1.25", Warehouse: "MAIN"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if po.GetState() != ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_DRAFT || po.GetTotal().GetMinorUnits() != 3000 {
		t.Fatalf("created = %v", po)
	}
	if po, err = ord.ReleasePurchaseOrder(ctx, &ordersv1.ReleasePurchaseOrderRequest{Name: po.GetName(), RequestId: "flow-po-1-release"}); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(po.GetName(), "purchaseOrders/")

	// Fulfillment follows the release: the warehouse expects the order.
	ful := fulfillmentv1.NewFulfillmentServiceClient(conn)
	waitFor(t, "the expected receipt in fulfillment", func() bool {
		er, err := ful.GetExpectedReceipt(ctx, &fulfillmentv1.GetExpectedReceiptRequest{Name: "expectedReceipts/" + id + "-MAIN"})
		return err == nil && len(er.GetLines()) == 1 && er.GetLines()[0].GetBaseQuantity() == "24"
	})

	receive := func(req string, q *typev1.Quantity) {
		t.Helper()
		_, err := inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: req, Item: "items/WIDGET-100",
			Location: "warehouses/MAIN/locations/RCV-01", Quantity: q,
			UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "1.25", Uom: "EA"},
			Source:   &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: id, Line: "1"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	get := func() *ordersv1.PurchaseOrder {
		t.Helper()
		got, err := ord.GetPurchaseOrder(ctx, &ordersv1.GetPurchaseOrderRequest{Name: po.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	receive("flow-po-1-rcv-1", &typev1.Quantity{Value: "12", Uom: "EA"})
	waitFor(t, "the first receipt in orders", func() bool {
		return get().GetState() == ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_PARTIALLY_RECEIVED
	})
	receive("flow-po-1-rcv-2", &typev1.Quantity{Value: "1", Uom: "CS"}) // a case of 12
	waitFor(t, "the order received in full", func() bool {
		return get().GetState() == ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_RECEIVED
	})
	if l := get().GetLines()[0]; l.GetReceivedQuantity() != "24" || l.GetOpenDiscrepancyQuantity() != "0" {
		t.Fatalf("received line = %v", l)
	}

	// The ledger: 24 x 1.25 received into GRNI under the order, nothing billed.
	var row *ledgerv1.GrniAgeingRow
	waitFor(t, "GRNI of the order in the ledger", func() bool {
		resp, err := recon.GetGrniAgeing(ctx, &ledgerv1.GetGrniAgeingRequest{PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.GetRows() {
			if r.GetPurchaseOrder() == id && r.GetOpen().GetMinorUnits() == 3000 {
				row = r
			}
		}
		return row != nil
	})
	if row.GetItem() != "WIDGET-100" || row.GetWarehouse() != "MAIN" || row.GetBilled().GetMinorUnits() != 0 {
		t.Fatalf("GRNI row = %v", row)
	}
	// orders knows the value the receipts were booked at.
	if l := get().GetLines()[0]; l.GetReceivedValue().GetMinorUnits() != 3000 || l.GetOpenGrniValue().GetMinorUnits() != 3000 {
		t.Fatalf("GRNI of the line in orders = %v", l)
	}

	// The bill: 24 EA at the order price 1.25, matched and approved at once.
	billReq := &ordersv1.RecordSupplierBillRequest{RequestId: "flow-bill-1", SupplierBill: &ordersv1.SupplierBill{
		BillNumber: "ACME-INV-1", PurchaseOrder: po.GetName(), BillDate: "2026-12-01",
		Lines: []*ordersv1.BillLine{{PurchaseOrderLine: 1, Quantity: &typev1.Quantity{Value: "24", Uom: "EA"}, UnitPrice: "1.25"}},
	}}
	bill, err := ord.RecordSupplierBill(ctx, billReq)
	if err != nil {
		t.Fatal(err)
	}
	if bill.GetState() != ordersv1.SupplierBillState_SUPPLIER_BILL_STATE_APPROVED || bill.GetMatch() != ordersv1.BillMatch_BILL_MATCH_MATCHED ||
		bill.GetTotal().GetMinorUnits() != 3000 || bill.GetGrniCleared().GetMinorUnits() != 3000 || bill.GetPriceVariance().GetMinorUnits() != 0 {
		t.Fatalf("bill = %v", bill)
	}
	if again, err := ord.RecordSupplierBill(ctx, billReq); err != nil || again.GetName() != bill.GetName() {
		t.Fatalf("retried bill = %v, %v", again, err)
	}
	if l := get().GetLines()[0]; l.GetBilledQuantity() != "24" || l.GetOpenGrniValue().GetMinorUnits() != 0 {
		t.Fatalf("line after the bill = %v", l)
	}
	waitFor(t, "the order's GRNI cleared in the ledger", func() bool {
		resp, err := recon.GetGrniAgeing(ctx, &ledgerv1.GetGrniAgeingRequest{PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.GetRows() {
			if r.GetPurchaseOrder() == id {
				return false
			}
		}
		return true
	})
	led := ledgerv1.NewLedgerServiceClient(conn)
	tb, err := led.GetTrialBalance(ctx, &ledgerv1.GetTrialBalanceRequest{})
	if err != nil || !tb.GetBalanced() {
		t.Fatalf("trial balance = %v, %v; want balanced", tb, err)
	}
	var ap int64
	for _, r := range tb.GetRows() {
		if r.GetAccount() == "accounts/2000" && r.GetCurrencyCode() == "USD" {
			ap += r.GetCredit().GetMinorUnits() - r.GetDebit().GetMinorUnits()
		}
	}
	if ap != 3000 {
		t.Errorf("AP 2000 credited %d, want 3000 (30.00 USD); trial balance %v", ap, tb.GetRows())
	}

	// The supplier is paid: orders applies the payment to the bill and marks
	// the order paid; the ledger clears accounts payable against cash.
	pay, err := ord.RecordSupplierPayment(ctx, &ordersv1.RecordSupplierPaymentRequest{RequestId: "flow-sp-1", SupplierPayment: &ordersv1.SupplierPayment{
		Supplier: "suppliers/ACME", Amount: &typev1.Money{CurrencyCode: "USD", MinorUnits: 3000},
		Method: ordersv1.PaymentMethod_PAYMENT_METHOD_BANK_TRANSFER, Reference: "ACME-REMIT-1"}})
	if err != nil || len(pay.GetApplications()) != 1 || pay.GetApplications()[0].GetSupplierBill() != bill.GetName() {
		t.Fatalf("supplier payment = %v, %v", pay, err)
	}
	if got := get(); got.GetPayTime() == nil || got.GetReceiveTime() == nil || got.GetBillTime() == nil {
		t.Fatalf("order after payment = %v; want receive, bill and pay times", got)
	}
	waitFor(t, "accounts payable cleared in the ledger", func() bool {
		tb, err := led.GetTrialBalance(ctx, &ledgerv1.GetTrialBalanceRequest{})
		if err != nil || !tb.GetBalanced() {
			t.Fatalf("trial balance = %v, %v", tb, err)
		}
		var ap int64
		for _, r := range tb.GetRows() {
			if r.GetAccount() == "accounts/2000" && r.GetCurrencyCode() == "USD" {
				ap += r.GetCredit().GetMinorUnits() - r.GetDebit().GetMinorUnits()
			}
		}
		return ap == 0
	})
	tm, err := ord.GetProcureToPayTimings(ctx, &ordersv1.GetProcureToPayTimingsRequest{})
	if err != nil || tm.GetDocumentCount() != 1 || len(tm.GetStages()) != 4 {
		t.Fatalf("procure-to-pay timings = %v, %v", tm, err)
	}
	for _, st := range tm.GetStages() {
		if st.GetCount() != 1 {
			t.Errorf("step %s -> %s = %v, want the order timed", st.GetFromStage(), st.GetToStage(), st)
		}
	}
}
