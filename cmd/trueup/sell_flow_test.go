package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
)

// TestSalesOrderIsShippedInvoicedAndPaid drives order to cash across the dev
// stack: a sales order is created and confirmed in orders; inventory
// allocates, picks and ships it under an outbound order named after it (COGS
// in the ledger under the order); the shipment's ShipmentConfirmed — which
// fulfillment will publish; the test publishes it on the FULFILLMENT stream
// in its place, twice — makes orders issue exactly one invoice, which the
// ledger posts (receivable, revenue, sales tax), so nothing of the order is
// shipped-not-invoiced; the customer's payment clears the receivable.
func TestSalesOrderIsShippedInvoicedAndPaid(t *testing.T) {
	st, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	inv := inventoryv1.NewInventoryServiceClient(conn)
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

	// The warehouse side: allocate, pick, ship under the outbound order.
	order := &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_OUTBOUND_ORDER, Id: id}
	al, err := inv.AllocateStock(ctx, &inventoryv1.AllocateStockRequest{RequestId: "flow-so-1-alloc", Item: "items/WIDGET-100",
		Warehouse: "warehouses/MAIN", Quantity: &typev1.Quantity{Value: "24", Uom: "EA"}, Order: order})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inv.ConfirmPick(ctx, &inventoryv1.ConfirmPickRequest{Allocation: al.GetName(), RequestId: "flow-so-1-pick",
		Location: al.GetLines()[0].GetLocation(), Quantity: &typev1.Quantity{Value: "24", Uom: "EA"},
		ToLocation: "warehouses/MAIN/locations/STG-01", Source: order}); err != nil {
		t.Fatal(err)
	}
	shipment := "SH-" + id
	shipped, err := inv.ConfirmShipment(ctx, &inventoryv1.ConfirmShipmentRequest{RequestId: "flow-so-1-ship", Allocation: al.GetName(),
		Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_SHIPMENT, Id: shipment}})
	if err != nil {
		t.Fatal(err)
	}
	cost := -shipped.GetMovements()[0].GetValue().GetMinorUnits() // 24 x 1.50
	if cost != 3600 {
		t.Fatalf("shipment cost %d, want 3600", cost)
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
	waitFor(t, "the order's COGS shipped, not invoiced, in the ledger", func() bool { return shippedNotInvoiced() == cost })

	// Fulfillment's ship-confirm, delivered twice.
	nc, err := nats.Connect(st.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, eventID := range []string{"flow-ship-event-1", "flow-ship-event-1-resent"} {
		m, err := protoevent.Message(eventID, &fulfillmentv1.ShipmentConfirmed{
			EventId: eventID, OccurredAt: timestamppb.Now(), AggregateId: "shipments/" + shipment, AggregateVersion: 1,
			Shipment: "shipments/" + shipment, OutboundOrder: "outboundOrders/" + id, SalesOrder: so.GetName(), Warehouse: "MAIN",
			Carrier: "carriers/UPS", TrackingNumber: "1Z999AA10123456784",
			Lines:    []*fulfillmentv1.ShippedLine{{SalesOrderLine: 1, Item: "items/WIDGET-100", Quantity: &typev1.Quantity{Value: "24", Uom: "EA"}, BaseQuantity: "24"}},
			ShipTime: timestamppb.New(time.Now().Add(-time.Second)),
		}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		errs, err := natsx.NewPublisher(js).Publish(ctx, []outbox.Message{m})
		if err = errors.Join(append(errs, err)...); err != nil {
			t.Fatal(err)
		}
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
