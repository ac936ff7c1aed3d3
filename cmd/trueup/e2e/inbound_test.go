package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
)

// TestInbound is procure to pay across the suite. A partner creates and
// releases a purchase order in cases over REST (4 CS of widgets at 15.00,
// 2 CS of coffee at 60.00); the warehouse, with its scanners on gRPC,
// receives 3 CS of widgets (one case short), one case of coffee in good
// condition and one damaged (to quarantine), and a box of bolts nobody
// ordered (held); closes the receipt; puts the good stock away. The partner
// then bills what came at 15.60 a case for the widgets (4 % over, inside
// the bill's 5 % tolerance). The books: Dr Inventory 165.00 / Cr GRNI
// 165.00 at receipt, then Dr GRNI 165.00, Dr PPV 1.80 / Cr AP 166.80, and
// the order's GRNI is cleared.
func TestInbound(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		start := e.checkBooks(t)
		before := map[string]int64{}
		for _, a := range []string{"1400", "2100", "2000", "5200"} {
			before[a] = e.balance(t, a, "")
		}

		// The partner's purchase order, over REST; a retried release with
		// the same Idempotency-Key answers the first release.
		var po ordersv1.PurchaseOrder
		e.mustREST(t, "POST", "/v1/purchaseOrders", "in-po-1", `{"supplier":"suppliers/ACME","lines":[
			{"item":"WIDGET-100","quantity":{"value":"4","uom":"CS"},"unitPrice":"15.00","warehouse":"MAIN"},
			{"item":"COFFEE-BEANS","quantity":{"value":"2","uom":"CS"},"unitPrice":"60.00","warehouse":"MAIN"}]}`, &po)
		if po.GetTotal().GetMinorUnits() != 18000 || po.GetLines()[0].GetBaseQuantity() != "48" || po.GetLines()[1].GetBaseQuantity() != "12" {
			t.Fatalf("purchase order = %v", &po)
		}
		var released, again ordersv1.PurchaseOrder
		e.mustREST(t, "POST", "/v1/"+po.GetName()+":release", "in-po-1-release", `{}`, &released)
		e.mustREST(t, "POST", "/v1/"+po.GetName()+":release", "in-po-1-release", `{}`, &again)
		if released.GetState() != ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_RELEASED || again.GetVersion() != released.GetVersion() {
			t.Fatalf("release = %v, retried = %v", &released, &again)
		}
		id := strings.TrimPrefix(po.GetName(), "purchaseOrders/")
		receipt := "expectedReceipts/" + id + "-MAIN"
		e.waitFor(t, "the expected receipt in fulfillment", func() bool {
			er, err := e.ful.GetExpectedReceipt(ctx, &fulfillmentv1.GetExpectedReceiptRequest{Name: receipt})
			return err == nil && len(er.GetLines()) == 2
		})

		// The dock, with a scanner (gRPC).
		scan := func(req, item, qty, uom, lot string, cond fulfillmentv1.Condition) *fulfillmentv1.RecordReceiptLineResponse {
			t.Helper()
			r := &fulfillmentv1.RecordReceiptLineRequest{RequestId: req, Receipt: receipt, Item: item, Location: "RCV-01", Condition: cond,
				Quantity: &typev1.Quantity{Value: qty, Uom: uom}, Lot: lot}
			if lot != "" {
				r.ExpiryDate = "2027-10-31"
			}
			resp, err := e.ful.RecordReceiptLine(ctx, r)
			if err != nil {
				t.Fatalf("scan %s: %v", req, err)
			}
			return resp
		}
		good := fulfillmentv1.Condition_CONDITION_GOOD
		if l := scan("in-scan-1", "WIDGET-100", "3", "CS", "", good).GetLine(); l.GetBaseQuantity() != "36" || l.GetState() != fulfillmentv1.ReceivedLineState_RECEIVED_LINE_STATE_BOOKED {
			t.Fatalf("widgets = %v", l)
		}
		// A scanner that retries after a lost answer books once.
		scan("in-scan-1", "WIDGET-100", "3", "CS", "", good)
		scan("in-scan-2", "COFFEE-BEANS", "1", "CS", "L2701", good)
		dmg := scan("in-scan-3", "COFFEE-BEANS", "1", "CS", "L2701", fulfillmentv1.Condition_CONDITION_DAMAGED)
		if dmg.GetLine().GetLocation() != "warehouses/MAIN/locations/QC-01" || len(dmg.GetDiscrepancies()) != 1 ||
			dmg.GetDiscrepancies()[0].GetKind() != fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_DAMAGED {
			t.Fatalf("damaged coffee = %v", dmg)
		}
		bolt := scan("in-scan-4", "BOLT-M8", "1", "BX", "", good)
		if bolt.GetLine().GetState() != fulfillmentv1.ReceivedLineState_RECEIVED_LINE_STATE_HELD ||
			bolt.GetDiscrepancies()[0].GetKind() != fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_UNEXPECTED_ITEM {
			t.Fatalf("unexpected bolts = %v", bolt)
		}
		closed, err := e.ful.CloseReceipt(ctx, &fulfillmentv1.CloseReceiptRequest{RequestId: "in-close", Name: receipt})
		if err != nil || closed.GetReceipt().GetState() != fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_CLOSED {
			t.Fatalf("close = %v, %v", closed, err)
		}

		// The partner lists the discrepancies over REST: damaged, unexpected, short.
		var discs fulfillmentv1.ListReceiptDiscrepanciesResponse
		e.mustREST(t, "GET", "/v1/receiptDiscrepancies?receipt="+receipt, "", "", &discs)
		kinds := map[fulfillmentv1.DiscrepancyKind]*fulfillmentv1.ReceiptDiscrepancy{}
		for _, d := range discs.GetDiscrepancies() {
			kinds[d.GetKind()] = d
		}
		short := kinds[fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_SHORT]
		if len(discs.GetDiscrepancies()) != 3 || kinds[fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_DAMAGED] == nil ||
			kinds[fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_UNEXPECTED_ITEM] == nil || short == nil ||
			short.GetExpectedBaseQuantity() != "48" || short.GetActualBaseQuantity() != "36" {
			t.Fatalf("discrepancies = %v", discs.GetDiscrepancies())
		}

		// Putaway: the good stock leaves the dock for its bins.
		for {
			k, err := e.ful.ClaimNextTask(ctx, &fulfillmentv1.ClaimNextTaskRequest{Warehouse: "MAIN", Type: fulfillmentv1.TaskType_TASK_TYPE_PUTAWAY})
			if status.Code(err) == codes.NotFound {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.ful.ConfirmPutaway(ctx, &fulfillmentv1.ConfirmPutawayRequest{RequestId: "in-put-" + k.GetName(), Name: k.GetName()}); err != nil {
				t.Fatal(err)
			}
		}
		stock := e.stockByBin(t, "MAIN")
		// 120 EA of opening stock were in A-01-01 already.
		for key, want := range map[string]string{
			"WIDGET-100@A-01-01#":        "156",
			"COFFEE-BEANS@A-01-02#L2701": "6",
			"COFFEE-BEANS@QC-01#L2701":   "6",
			"WIDGET-100@RCV-01#":         "",
			"BOLT-M8@RCV-01#":            "",
		} {
			if stock[key] != want {
				t.Errorf("stock %s = %q, want %q (all: %v)", key, stock[key], want, stock)
			}
		}

		// The partner's bill for what came.
		var bill ordersv1.SupplierBill
		e.mustREST(t, "POST", "/v1/supplierBills", "in-bill-1", jsonBody(`{"billNumber":"ACME-7001","purchaseOrder":%q,"billDate":"2026-12-02",
			"priceTolerancePercent":"5","lines":[
			{"purchaseOrderLine":1,"quantity":{"value":"3","uom":"CS"},"unitPrice":"15.60"},
			{"purchaseOrderLine":2,"quantity":{"value":"2","uom":"CS"},"unitPrice":"60.00"}]}`, po.GetName()), &bill)
		if bill.GetState() != ordersv1.SupplierBillState_SUPPLIER_BILL_STATE_APPROVED || bill.GetPriceVariance().GetMinorUnits() != 180 ||
			bill.GetGrniCleared().GetMinorUnits() != 16500 || bill.GetTotal().GetMinorUnits() != 16680 {
			t.Fatalf("bill = %v", &bill)
		}
		e.waitFor(t, "the order's GRNI cleared", func() bool {
			resp, err := e.recon.GetGrniAgeing(ctx, &ledgerv1.GetGrniAgeingRequest{PageSize: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range resp.GetRows() {
				if r.GetPurchaseOrder() == id && r.GetOpen().GetMinorUnits() != 0 {
					return false
				}
			}
			return true
		})
		books := e.checkBooks(t)
		for a, want := range map[string]int64{"1400": 16500, "2100": 0, "2000": -16680, "5200": 180} {
			if got := e.balance(t, a, "") - before[a]; got != want {
				t.Errorf("account %s moved %d, want %d", a, got, want)
			}
		}
		if books.entries-start.entries < 4 {
			t.Errorf("%d journal entries for the flow, want the receipts, putaways and the bill", books.entries-start.entries)
		}
		// The partner sees the order received and billed.
		var got ordersv1.PurchaseOrder
		e.mustREST(t, "GET", "/v1/"+po.GetName(), "", "", &got)
		if got.GetLines()[0].GetReceivedQuantity() != "36" || got.GetLines()[0].GetBilledQuantity() != "36" || got.GetBillTime() == nil {
			t.Errorf("purchase order after the bill = %v", &got)
		}
		if code, _ := e.rest(t, "GET", "/v1/"+po.GetName()+"-nope", "", "", nil); code != http.StatusNotFound {
			t.Errorf("an unknown order = %d, want 404", code)
		}
		e.redeliverAll(t, books)
	})
}

// stockByBin maps "ITEM@BIN#LOT" to on-hand in base units for a warehouse.
func (e *env) stockByBin(t *testing.T, warehouse string) map[string]string {
	t.Helper()
	resp, err := e.inv.ListStock(context.Background(), &inventoryv1.ListStockRequest{Warehouse: "warehouses/" + warehouse, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, l := range resp.GetLevels() {
		if l.GetOnHand() == "0" {
			continue
		}
		bin := strings.TrimPrefix(l.GetLocation(), "warehouses/"+warehouse+"/locations/")
		out[strings.TrimPrefix(l.GetItem(), "items/")+"@"+bin+"#"+l.GetLot()] = l.GetOnHand()
	}
	return out
}
