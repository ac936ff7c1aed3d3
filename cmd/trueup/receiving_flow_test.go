package main

import (
	"context"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/protoevent"
)

// TestReceivingAgainstAPurchaseOrder runs receiving on the dev stack with the
// real inventory behind fulfillment: a released order is scanned in by the
// supplier's part number and the WMS code, in cases and eaches; a retried
// scan books once; damaged goods go to quarantine and, with the
// over-receipt, are flagged the moment they are scanned (the events are on
// the bus); a lot-tracked line scanned without a lot is held until accepted
// with one; an item not on the order is held; closing flags nothing short.
// Inventory holds the stock where fulfillment says it is, orders counts the
// receipts against the order, and the ledger has them in GRNI at the
// order's price.
func TestReceivingAgainstAPurchaseOrder(t *testing.T) {
	st, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	inv := inventoryv1.NewInventoryServiceClient(conn)
	ord := ordersv1.NewOrdersServiceClient(conn)
	ful := fulfillmentv1.NewFulfillmentServiceClient(conn)
	recon := ledgerv1.NewReconciliationServiceClient(conn)

	waitFor(t, "the seeded items in the orders catalog", func() bool {
		_, err1 := ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/WIDGET-100"})
		_, err2 := ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/COFFEE-BEANS"})
		return err1 == nil && err2 == nil
	})
	po, err := ord.CreatePurchaseOrder(ctx, &ordersv1.CreatePurchaseOrderRequest{RequestId: "rcv-po", PurchaseOrder: &ordersv1.PurchaseOrder{
		Supplier: "suppliers/ACME",
		Lines: []*ordersv1.PurchaseOrderLine{
			{Item: "WIDGET-100", Quantity: &typev1.Quantity{Value: "2", Uom: "CS"}, UnitPrice: "15.00", Warehouse: "MAIN"},
			{Item: "COFFEE-BEANS", Quantity: &typev1.Quantity{Value: "2", Uom: "KG"}, UnitPrice: "10.00", Warehouse: "MAIN"},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if po, err = ord.ReleasePurchaseOrder(ctx, &ordersv1.ReleasePurchaseOrderRequest{Name: po.GetName(), RequestId: "rcv-po-release"}); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(po.GetName(), "purchaseOrders/")
	receipt := "expectedReceipts/" + id + "-MAIN"
	waitFor(t, "the expected receipt", func() bool {
		er, err := ful.GetExpectedReceipt(ctx, &fulfillmentv1.GetExpectedReceiptRequest{Name: receipt})
		return err == nil && len(er.GetLines()) == 2 && er.GetLines()[0].GetUnitPrice() == "15.00" && er.GetCurrencyCode() == "USD"
	})

	// Watch the fulfillment stream for discrepancies.
	nc, err := nats.Connect(st.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	flaggedSubject := protoevent.Subject(&fulfillmentv1.ReceiptDiscrepancyFlagged{})
	watch, err := js.OrderedConsumer(ctx, protoevent.StreamName("fulfillment"), jetstream.OrderedConsumerConfig{FilterSubjects: []string{flaggedSubject}})
	if err != nil {
		t.Fatal(err)
	}

	scan := func(req string, r *fulfillmentv1.RecordReceiptLineRequest) *fulfillmentv1.RecordReceiptLineResponse {
		t.Helper()
		r.RequestId, r.Receipt = req, receipt
		if r.Location == "" {
			r.Location = "RCV-01"
		}
		if r.Condition == fulfillmentv1.Condition_CONDITION_UNSPECIFIED {
			r.Condition = fulfillmentv1.Condition_CONDITION_GOOD
		}
		resp, err := ful.RecordReceiptLine(ctx, r)
		if err != nil {
			t.Fatalf("scan %s: %v", req, err)
		}
		return resp
	}
	// The supplier's part number, one case; then the WMS code, twelve eaches.
	first := scan("rcv-1", &fulfillmentv1.RecordReceiptLineRequest{Item: "AC-W100", Quantity: &typev1.Quantity{Value: "1", Uom: "CS"}})
	if l := first.GetLine(); l.GetItem() != "WIDGET-100" || l.GetBaseQuantity() != "12" || l.GetState() != fulfillmentv1.ReceivedLineState_RECEIVED_LINE_STATE_BOOKED ||
		l.GetMovement() == "" || l.GetPurchaseOrderLine() != 1 || len(first.GetDiscrepancies()) != 0 {
		t.Fatalf("first line = %v", first)
	}
	again := scan("rcv-1", &fulfillmentv1.RecordReceiptLineRequest{Item: "AC-W100", Quantity: &typev1.Quantity{Value: "1", Uom: "CS"}})
	if again.GetLine().GetMovement() != first.GetLine().GetMovement() || again.GetReceipt().GetVersion() != first.GetReceipt().GetVersion() {
		t.Fatalf("the retried scan = %v", again.GetLine())
	}
	// The case barcode: one scan is one case.
	if l := scan("rcv-2", &fulfillmentv1.RecordReceiptLineRequest{Item: "10012345000017", Quantity: &typev1.Quantity{Value: "1"}}).GetLine(); l.GetQuantity().GetUom() != "CS" || l.GetBaseQuantity() != "12" {
		t.Fatalf("case barcode line = %v", l)
	}

	// One more each, damaged: quarantine, and over the order's 24.
	dmg := scan("rcv-3", &fulfillmentv1.RecordReceiptLineRequest{Item: "WIDGET-100", Quantity: &typev1.Quantity{Value: "1", Uom: "EA"},
		Condition: fulfillmentv1.Condition_CONDITION_DAMAGED})
	if dmg.GetLine().GetLocation() != "warehouses/MAIN/locations/QC-01" || len(dmg.GetDiscrepancies()) != 2 ||
		dmg.GetDiscrepancies()[0].GetKind() != fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_DAMAGED ||
		dmg.GetDiscrepancies()[1].GetKind() != fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_OVER ||
		dmg.GetDiscrepancies()[1].GetActualBaseQuantity() != "25" || dmg.GetDiscrepancies()[1].GetExpectedBaseQuantity() != "24" {
		t.Fatalf("damaged = %v", dmg)
	}

	// Coffee without a lot: held until accepted with one.
	coffee := scan("rcv-4", &fulfillmentv1.RecordReceiptLineRequest{Item: "COFFEE-BEANS", Quantity: &typev1.Quantity{Value: "8", Uom: "BAG"}})
	if coffee.GetLine().GetState() != fulfillmentv1.ReceivedLineState_RECEIVED_LINE_STATE_HELD || coffee.GetLine().GetMovement() != "" ||
		coffee.GetDiscrepancies()[0].GetKind() != fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_LOT_MISSING {
		t.Fatalf("coffee = %v", coffee)
	}
	resolved, err := ful.ResolveReceiptDiscrepancy(ctx, &fulfillmentv1.ResolveReceiptDiscrepancyRequest{RequestId: "rcv-fix",
		Name: coffee.GetDiscrepancies()[0].GetName(), Resolution: fulfillmentv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_ACCEPT,
		Note: "lot read off the sacks", Lot: "L2612", ExpiryDate: "2027-09-30"})
	if err != nil || resolved.GetState() != fulfillmentv1.DiscrepancyState_DISCREPANCY_STATE_RESOLVED {
		t.Fatalf("resolve = %v, %v", resolved, err)
	}

	// An item not on the order, with no cost: held, not an error.
	bolt := scan("rcv-5", &fulfillmentv1.RecordReceiptLineRequest{Item: "BOLT-M8", Quantity: &typev1.Quantity{Value: "1", Uom: "BX"}})
	if bolt.GetLine().GetState() != fulfillmentv1.ReceivedLineState_RECEIVED_LINE_STATE_HELD || bolt.GetLine().GetPurchaseOrderLine() != 0 ||
		bolt.GetDiscrepancies()[0].GetKind() != fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_UNEXPECTED_ITEM {
		t.Fatalf("bolt = %v", bolt)
	}
	// A code nobody knows is NotFound; a blocked location FailedPrecondition.
	if _, err := ful.RecordReceiptLine(ctx, &fulfillmentv1.RecordReceiptLineRequest{RequestId: "rcv-x", Receipt: receipt, Item: "NOPE",
		Quantity: &typev1.Quantity{Value: "1"}, Condition: fulfillmentv1.Condition_CONDITION_GOOD, Location: "RCV-01"}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown code: %v", err)
	}

	closed, err := ful.CloseReceipt(ctx, &fulfillmentv1.CloseReceiptRequest{RequestId: "rcv-close", Name: receipt})
	if err != nil || closed.GetReceipt().GetState() != fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_CLOSED ||
		len(closed.GetDiscrepancies()) != 0 || closed.GetReceipt().GetOpenDiscrepancyCount() != 3 {
		t.Fatalf("close = %v, %v", closed, err)
	}
	open, err := ful.ListReceiptDiscrepancies(ctx, &fulfillmentv1.ListReceiptDiscrepanciesRequest{Receipt: receipt,
		State: fulfillmentv1.DiscrepancyState_DISCREPANCY_STATE_OPEN})
	if err != nil || len(open.GetDiscrepancies()) != 3 {
		t.Fatalf("open discrepancies = %v, %v", open, err)
	}

	// The bus carried each discrepancy as it was found: DAMAGED, OVER,
	// LOT_MISSING, UNEXPECTED_ITEM.
	var kinds []fulfillmentv1.DiscrepancyKind
	for len(kinds) < 4 {
		msg, err := watch.Next()
		if err != nil {
			t.Fatalf("after %v: %v", kinds, err)
		}
		var ev fulfillmentv1.ReceiptDiscrepancyFlagged
		if err := proto.Unmarshal(msg.Data(), &ev); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, ev.GetDiscrepancy().GetKind())
	}
	if kinds[0] != fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_DAMAGED || kinds[3] != fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_UNEXPECTED_ITEM {
		t.Fatalf("flagged on the bus: %v", kinds)
	}

	// Inventory holds it where fulfillment put it.
	stock := map[string]string{}
	resp, err := inv.ListStock(ctx, &inventoryv1.ListStockRequest{Warehouse: "warehouses/MAIN", PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range resp.GetLevels() {
		stock[l.GetItem()+"@"+l.GetLocation()+"#"+l.GetLot()] = l.GetOnHand()
	}
	if stock["items/WIDGET-100@warehouses/MAIN/locations/RCV-01#"] != "24" || stock["items/WIDGET-100@warehouses/MAIN/locations/QC-01#"] != "1" ||
		stock["items/COFFEE-BEANS@warehouses/MAIN/locations/RCV-01#L2612"] != "2" {
		t.Fatalf("stock = %v", stock)
	}
	// Putaway: a task per line booked at the dock, to the bin the item is
	// stored in; the damaged each stays in quarantine.
	tasks, err := ful.ListTasks(ctx, &fulfillmentv1.ListTasksRequest{Warehouse: "MAIN", Type: fulfillmentv1.TaskType_TASK_TYPE_PUTAWAY})
	if err != nil || len(tasks.GetTasks()) != 3 {
		t.Fatalf("putaway tasks = %v, %v", tasks, err)
	}
	for _, k := range tasks.GetTasks() {
		want := "warehouses/MAIN/locations/A-01-01"
		if k.GetItem() == "COFFEE-BEANS" {
			want = "warehouses/MAIN/locations/A-01-02"
		}
		if k.GetToLocation() != want || k.GetFromLocation() != "warehouses/MAIN/locations/RCV-01" {
			t.Fatalf("task %v, want to %s", k, want)
		}
	}
	for range 3 {
		k, err := ful.ClaimNextTask(ctx, &fulfillmentv1.ClaimNextTaskRequest{Warehouse: "MAIN", Type: fulfillmentv1.TaskType_TASK_TYPE_PUTAWAY})
		if err != nil || k.GetState() != fulfillmentv1.TaskState_TASK_STATE_CLAIMED {
			t.Fatalf("claim = %v, %v", k, err)
		}
		if done, err := ful.ConfirmPutaway(ctx, &fulfillmentv1.ConfirmPutawayRequest{RequestId: "put-" + k.GetName(), Name: k.GetName()}); err != nil || done.GetState() != fulfillmentv1.TaskState_TASK_STATE_DONE || done.GetMovement() == "" {
			t.Fatalf("confirm = %v, %v", done, err)
		}
	}
	if _, err := ful.ClaimNextTask(ctx, &fulfillmentv1.ClaimNextTaskRequest{Warehouse: "MAIN"}); status.Code(err) != codes.NotFound {
		t.Fatalf("the queue is not empty: %v", err)
	}
	resp, err = inv.ListStock(ctx, &inventoryv1.ListStockRequest{Warehouse: "warehouses/MAIN", PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	stock = map[string]string{}
	for _, l := range resp.GetLevels() {
		stock[l.GetItem()+"@"+l.GetLocation()+"#"+l.GetLot()] = l.GetOnHand()
	}
	if stock["items/WIDGET-100@warehouses/MAIN/locations/A-01-01#"] != "144" || stock["items/COFFEE-BEANS@warehouses/MAIN/locations/A-01-02#L2612"] != "2" ||
		stock["items/WIDGET-100@warehouses/MAIN/locations/RCV-01#"] != "" {
		t.Fatalf("stock after putaway = %v", stock)
	}

	// Orders counted every booked line against the order's lines.
	waitFor(t, "orders to count the receipts", func() bool {
		got, err := ord.GetPurchaseOrder(ctx, &ordersv1.GetPurchaseOrderRequest{Name: po.GetName()})
		return err == nil && got.GetLines()[0].GetReceivedQuantity() == "25" && got.GetLines()[1].GetReceivedQuantity() == "2"
	})
	// The ledger: 25 × 1.25 + 2 × 10.00 in GRNI under the order.
	waitFor(t, "GRNI of the order", func() bool {
		resp, err := recon.GetGrniAgeing(ctx, &ledgerv1.GetGrniAgeingRequest{PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var open int64
		for _, r := range resp.GetRows() {
			if r.GetPurchaseOrder() == id {
				open += r.GetOpen().GetMinorUnits()
			}
		}
		return open == 3125+2000
	})

	// A shipping notice for goods on no order: its lot fills in a scan
	// without one, and the goods book at the notice's cost.
	asn, err := ful.CreateExpectedReceipt(ctx, &fulfillmentv1.CreateExpectedReceiptRequest{RequestId: "rcv-asn", Warehouse: "MAIN",
		Reference: "ACME-ASN-9", ExpectedDate: "2026-12-10", CartonCount: 2, Lines: []*fulfillmentv1.ShippingNoticeLine{{
			Item: "COFFEE-BEANS", Quantity: &typev1.Quantity{Value: "1", Uom: "CS"}, Lot: "L2701", ExpiryDate: "2027-12-31",
			UnitCost: &fulfillmentv1.ReceivedUnitCost{Amount: "9.00", CurrencyCode: "USD", Uom: "KG"}}}})
	if err != nil || asn.GetCartonCount() != 2 || asn.GetLines()[0].GetLot() != "L2701" || asn.GetLines()[0].GetBaseQuantity() != "6" {
		t.Fatalf("notice = %v, %v", asn, err)
	}
	got, err := ful.RecordReceiptLine(ctx, &fulfillmentv1.RecordReceiptLineRequest{RequestId: "rcv-asn-1", Receipt: asn.GetName(), Item: "COFFEE-BEANS",
		Quantity: &typev1.Quantity{Value: "24", Uom: "BAG"}, Condition: fulfillmentv1.Condition_CONDITION_GOOD, Location: "RCV-01"})
	if err != nil || got.GetLine().GetLot() != "L2701" || got.GetLine().GetState() != fulfillmentv1.ReceivedLineState_RECEIVED_LINE_STATE_BOOKED || len(got.GetDiscrepancies()) != 0 {
		t.Fatalf("scan against the notice = %v, %v", got, err)
	}
}
