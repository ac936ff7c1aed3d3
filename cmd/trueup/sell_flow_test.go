package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
)

// TestSalesOrderIsShippedInvoicedAndPaid drives order to cash across the dev
// stack: a sales order is created and confirmed in orders; fulfillment opens
// its outbound order, inventory reserves the stock, a worker picks it,
// packs it and ships it (inventory issues it: COGS in the ledger under the
// order); fulfillment's ShipmentConfirmed — delivered once more by hand —
// makes orders issue exactly one invoice, which the ledger posts
// (receivable, revenue, sales tax), so nothing of the order is
// shipped-not-invoiced; the customer's payment clears the receivable.
func TestSalesOrderIsShippedInvoicedAndPaid(t *testing.T) {
	st, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	ord := ordersv1.NewOrdersServiceClient(conn)
	led := ledgerv1.NewLedgerServiceClient(conn)
	recon := ledgerv1.NewReconciliationServiceClient(conn)
	waitFor(t, "WIDGET-100 in the orders catalog", func() bool {
		_, err := ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/WIDGET-100"})
		return err == nil
	})

	// 2 cases (24 EA) at 30.00 a case, 8.25 % tax: 60.00 + 4.95.
	so, err := ord.CreateSalesOrder(ctx, &ordersv1.CreateSalesOrderRequest{RequestId: "flow-so-1", SalesOrder: &ordersv1.SalesOrder{
		Customer: "customers/NORTHWIND",
		Lines: []*ordersv1.SalesOrderLine{{Item: "100-2001", Quantity: &typev1.Quantity{Value: "2", Uom: "CS"}, UnitPrice: "30.00",
			TaxRatePercent: "8.25", Warehouse: "MAIN"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if so.GetTotal().GetMinorUnits() != 6495 || so.GetLines()[0].GetItem() != "WIDGET-100" || so.GetLines()[0].GetBaseQuantity() != "24" {
		t.Fatalf("created = %v", so)
	}
	if so, err = ord.ConfirmSalesOrder(ctx, &ordersv1.ConfirmSalesOrderRequest{Name: so.GetName(), RequestId: "flow-so-1-confirm"}); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(so.GetName(), "salesOrders/")

	// The warehouse side, in fulfillment: the confirmation opens the
	// outbound order, inventory reserves the stock, a pick task goes out.
	ful := fulfillmentv1.NewFulfillmentServiceClient(conn)
	var pick *fulfillmentv1.Task
	waitFor(t, "the pick task of the outbound order", func() bool {
		resp, err := ful.ListTasks(ctx, &fulfillmentv1.ListTasksRequest{Warehouse: "MAIN", Type: fulfillmentv1.TaskType_TASK_TYPE_PICK})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range resp.GetTasks() {
			if strings.HasPrefix(k.GetName(), "tasks/PICK-"+id+"-") {
				pick = k
			}
		}
		return pick != nil
	})
	if pick.GetFromLocation() != "warehouses/MAIN/locations/A-01-01" || pick.GetBaseQuantity() != "24" || pick.GetToLocation() != "warehouses/MAIN/locations/STG-01" {
		t.Fatalf("pick task = %v", pick)
	}
	if _, err := ful.ClaimTask(ctx, &fulfillmentv1.ClaimTaskRequest{Name: pick.GetName()}); err != nil {
		t.Fatal(err)
	}
	picked, err := ful.ConfirmPick(ctx, &fulfillmentv1.ConfirmPickRequest{RequestId: "flow-so-1-pick", Name: pick.GetName(),
		Quantity: &typev1.Quantity{Value: "2", Uom: "CS"}})
	if err != nil || picked.GetTask().GetState() != fulfillmentv1.TaskState_TASK_STATE_DONE || picked.GetShortBaseQuantity() != "0" {
		t.Fatalf("pick = %v, %v", picked, err)
	}
	packed, err := ful.PackShipment(ctx, &fulfillmentv1.PackShipmentRequest{RequestId: "flow-so-1-pack", OutboundOrder: "outboundOrders/" + id,
		Warehouse: "MAIN", Cartons: []*fulfillmentv1.Carton{{WeightKg: "6.5", LengthCm: "40", WidthCm: "30", HeightCm: "30"}}})
	if err != nil || packed.GetState() != fulfillmentv1.ShipmentState_SHIPMENT_STATE_PACKED || len(packed.GetLines()) != 1 {
		t.Fatalf("pack = %v, %v", packed, err)
	}
	shipment := strings.TrimPrefix(packed.GetName(), "shipments/")
	shipped, err := ful.ShipShipment(ctx, &fulfillmentv1.ShipShipmentRequest{RequestId: "flow-so-1-ship", Name: packed.GetName(),
		Carrier: "carriers/UPS", ServiceLevel: "GROUND", TrackingNumber: "1Z999AA10123456784"})
	if err != nil || shipped.GetState() != fulfillmentv1.ShipmentState_SHIPMENT_STATE_SHIPPED {
		t.Fatalf("ship = %v, %v", shipped, err)
	}
	// A retried ship-confirm answers the first; inventory issued once.
	again, err := ful.ShipShipment(ctx, &fulfillmentv1.ShipShipmentRequest{RequestId: "flow-so-1-ship", Name: packed.GetName(),
		Carrier: "carriers/UPS", ServiceLevel: "GROUND", TrackingNumber: "1Z999AA10123456784"})
	if err != nil || again.GetVersion() != shipped.GetVersion() {
		t.Fatalf("retried ship = %v, %v", again, err)
	}
	cost := shipped.GetLines()[0].GetCost().GetMinorUnits() // 24 x 1.50
	if cost != 3600 {
		t.Fatalf("shipment cost %d, want 3600", cost)
	}
	if o, err := ful.GetOutboundOrder(ctx, &fulfillmentv1.GetOutboundOrderRequest{Name: "outboundOrders/" + id}); err != nil ||
		o.GetState() != fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_SHIPPED || o.GetLines()[0].GetShippedQuantity() != "24" {
		t.Fatalf("outbound order = %v, %v", o, err)
	}
	shippedNotInvoiced := func() int64 {
		t.Helper()
		resp, err := recon.ListShippedNotInvoiced(ctx, &ledgerv1.ListShippedNotInvoicedRequest{PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.GetRows() {
			if r.GetOrder() == id {
				return r.GetShippedCost().GetMinorUnits()
			}
		}
		return 0
	}

	// Fulfillment's ShipmentConfirmed, delivered again by hand: still one
	// invoice.
	nc, err := nats.Connect(st.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	shipSubject := protoevent.Subject(&fulfillmentv1.ShipmentConfirmed{})
	first, err := js.OrderedConsumer(ctx, protoevent.StreamName("fulfillment"), jetstream.OrderedConsumerConfig{FilterSubjects: []string{shipSubject}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := first.Next()
	if err != nil {
		t.Fatal(err)
	}
	var confirmed fulfillmentv1.ShipmentConfirmed
	if err := proto.Unmarshal(msg.Data(), &confirmed); err != nil {
		t.Fatal(err)
	}
	if l := confirmed.GetLines(); len(l) != 1 || l[0].GetCost().GetMinorUnits() != 3600 || confirmed.GetTrackingNumber() != "1Z999AA10123456784" ||
		confirmed.GetCarrier() != "carriers/UPS" || confirmed.GetCartonCount() != 1 || confirmed.GetSalesOrder() != so.GetName() {
		t.Fatalf("ShipmentConfirmed = %v", &confirmed)
	}
	m, err := protoevent.Message("flow-ship-event-resent", &confirmed, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	errs, err := natsx.NewPublisher(js).Publish(ctx, []outbox.Message{m})
	if err = errors.Join(append(errs, err)...); err != nil {
		t.Fatal(err)
	}
	var invoice *ordersv1.Invoice
	waitFor(t, "the invoice in orders", func() bool {
		resp, err := ord.ListInvoices(ctx, &ordersv1.ListInvoicesRequest{SalesOrder: so.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetInvoices()) > 1 {
			t.Fatalf("%d invoices for one shipment", len(resp.GetInvoices()))
		}
		if len(resp.GetInvoices()) == 1 {
			invoice = resp.GetInvoices()[0]
		}
		return invoice != nil
	})
	if invoice.GetTotal().GetMinorUnits() != 6495 || invoice.GetShipment() != "shipments/"+shipment || invoice.GetLines()[0].GetQuantity().GetUom() != "CS" {
		t.Fatalf("invoice = %v", invoice)
	}
	if got, _ := ord.GetSalesOrder(ctx, &ordersv1.GetSalesOrderRequest{Name: so.GetName()}); got.GetState() != ordersv1.SalesOrderState_SALES_ORDER_STATE_SHIPPED {
		t.Fatalf("order after the shipment = %v", got)
	}
	waitFor(t, "the invoice posted: nothing of the order shipped-not-invoiced", func() bool { return shippedNotInvoiced() == 0 })

	balance := func(account string) int64 { // debit - credit, USD
		t.Helper()
		tb, err := led.GetTrialBalance(ctx, &ledgerv1.GetTrialBalanceRequest{})
		if err != nil || !tb.GetBalanced() {
			t.Fatalf("trial balance = %v, %v; want balanced", tb, err)
		}
		var b int64
		for _, r := range tb.GetRows() {
			if r.GetAccount() == "accounts/"+account && r.GetCurrencyCode() == "USD" {
				b += r.GetDebit().GetMinorUnits() - r.GetCredit().GetMinorUnits()
			}
		}
		return b
	}
	if ar, rev, tax := balance("1200"), balance("4000"), balance("2200"); ar != 6495 || rev != -6000 || tax != -495 {
		t.Fatalf("AR %d, revenue %d, sales tax %d; want 6495, -6000, -495", ar, rev, tax)
	}

	pay, err := ord.RecordPayment(ctx, &ordersv1.RecordPaymentRequest{RequestId: "flow-pay-1", Payment: &ordersv1.Payment{
		Customer: "customers/NORTHWIND", Amount: &typev1.Money{CurrencyCode: "USD", MinorUnits: 6495},
		Method: ordersv1.PaymentMethod_PAYMENT_METHOD_BANK_TRANSFER, Reference: "NW-REMIT-1"}})
	if err != nil || len(pay.GetApplications()) != 1 || pay.GetApplications()[0].GetInvoice() != invoice.GetName() {
		t.Fatalf("payment = %v, %v", pay, err)
	}
	waitFor(t, "the payment posted: the receivable cleared", func() bool { return balance("1200") == 0 })
	if got, _ := ord.GetInvoice(ctx, &ordersv1.GetInvoiceRequest{Name: invoice.GetName()}); got.GetState() != ordersv1.InvoiceState_INVOICE_STATE_PAID {
		t.Fatalf("invoice after payment = %v", got)
	}

	// Every order-to-cash stage has its time: allocated and picked from
	// inventory's own events for the outbound order, the rest from orders.
	var final *ordersv1.SalesOrder
	waitFor(t, "the order's stage times", func() bool {
		final, err = ord.GetSalesOrder(ctx, &ordersv1.GetSalesOrderRequest{Name: so.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		return final.GetAllocateTime() != nil && final.GetPickTime() != nil && final.GetPayTime() != nil
	})
	if final.GetShipTime() == nil || final.GetInvoiceTime() == nil || final.GetPayTime().AsTime().Before(final.GetConfirmTime().AsTime()) {
		t.Fatalf("stage times = %v", final)
	}
	tm, err := ord.GetOrderToCashTimings(ctx, &ordersv1.GetOrderToCashTimingsRequest{})
	if err != nil || tm.GetDocumentCount() != 1 || len(tm.GetStages()) != 7 {
		t.Fatalf("timings = %v, %v", tm, err)
	}
	for _, st := range tm.GetStages() {
		if st.GetCount() != 1 || st.GetP50() == nil {
			t.Errorf("step %s -> %s = %v, want one order timed", st.GetFromStage(), st.GetToStage(), st)
		}
	}
}
