package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
)

// subjectCount is how many messages stream holds on subject.
func (h *harness) subjectCount(stream, subject string) uint64 {
	h.t.Helper()
	st, err := h.js.Stream(context.Background(), stream)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	if err != nil {
		h.t.Fatal(err)
	}
	return info.State.Subjects[subject]
}

// waitCount waits until stream holds want messages on subject (the relay
// publishes asynchronously), then checks that no more come.
func (h *harness) waitCount(stream, subject string, want uint64) {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for h.subjectCount(stream, subject) < want {
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: %d messages, want %d", subject, h.subjectCount(stream, subject), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if got := h.subjectCount(stream, subject); got != want {
		h.t.Fatalf("%s: %d messages, want exactly %d", subject, got, want)
	}
}

func shipmentConfirmed(t *testing.T, eventID, shipment, salesOrder string, lines ...*fulfillmentv1.ShippedLine) outbox.Message {
	t.Helper()
	m, err := protoevent.Message(eventID, &fulfillmentv1.ShipmentConfirmed{
		EventId: eventID, OccurredAt: timestamppb.Now(), AggregateId: "shipments/" + shipment, AggregateVersion: 1,
		Shipment: "shipments/" + shipment, OutboundOrder: "outboundOrders/" + salesOrder[len("salesOrders/"):],
		SalesOrder: salesOrder, Warehouse: "WH1", Carrier: "carriers/UPS", TrackingNumber: "1Z999",
		Lines: lines, ShipTime: timestamppb.New(time.Now().Add(-time.Minute)),
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A partner's sales order goes through the API and the bus: confirmation is
// published for fulfillment, fulfillment's shipment (delivered three times,
// once as a new event for the same shipment) is invoiced once and the
// backorder's shipment once more, each invoice published for the ledger;
// a payment settles them and ageing shows what is left.
func TestSalesOrderShippedInvoicedAndPaidThroughTheBus(t *testing.T) {
	h, _ := start(t)
	ctx := context.Background()
	pa := caller.NewContext(ctx, caller.Partner("partner-a"))
	pb := caller.NewContext(ctx, caller.Partner("partner-b"))

	item, err := protoevent.Message("item-w1", &inventoryv1.ItemCreated{
		EventId: "item-w1", OccurredAt: timestamppb.Now(), AggregateId: "items/W-1", AggregateVersion: 1,
		Item: &inventoryv1.Item{Name: "items/W-1", Sku: "W-1", Description: "Widget", BaseUom: "EA", Version: 1,
			Uoms: []*inventoryv1.UomConversion{{Uom: "CS", Factor: "12"}}},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.publish(item)
	h.settle()
	terms := int32(14)
	cus, err := h.svc.api.CreateCustomer(pa, &ordersv1.CreateCustomerRequest{Customer: &ordersv1.Customer{
		Code: "BOB", DisplayName: "Bob's", CurrencyCode: "USD", PaymentTermsDays: &terms, DefaultTaxRatePercent: "8.25",
		CreditLimit: &typev1.Money{MinorUnits: 100000}}})
	if err != nil || cus.GetPartner() != "partner-a" || cus.GetPaymentTermsDays() != 14 || cus.GetCreditLimit().GetCurrencyCode() != "USD" {
		t.Fatalf("customer = %v, %v", cus, err)
	}
	req := &ordersv1.CreateSalesOrderRequest{RequestId: "so-1", SalesOrder: &ordersv1.SalesOrder{
		Customer: "customers/BOB", CustomerReference: "BOB-PO-1",
		Lines: []*ordersv1.SalesOrderLine{{Item: "W-1", Quantity: &typev1.Quantity{Value: "3", Uom: "CS"}, UnitPrice: "24.00", Warehouse: "WH1"}},
	}}
	bad := proto.Clone(req).(*ordersv1.CreateSalesOrderRequest)
	bad.SalesOrder.State = ordersv1.SalesOrderState_SALES_ORDER_STATE_SHIPPED
	bad.SalesOrder.Lines[0].ShippedQuantity = "36"
	_, err = h.svc.api.CreateSalesOrder(pa, bad)
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument || len(e.Violations) != 2 ||
		e.Violations[0].Field != "sales_order.state" || e.Violations[1].Field != "sales_order.lines[0].shipped_quantity" {
		t.Fatalf("partner setting output-only fields: %v", err)
	}
	so, err := h.svc.api.CreateSalesOrder(pa, req)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := h.svc.api.CreateSalesOrder(pa, req); err != nil || !proto.Equal(again, so) {
		t.Fatalf("retry answered %v, %v; want exactly the first answer %v", again, err, so)
	}
	// 3 CS x 24.00 = 72.00, tax 8.25 % = 5.94, total 77.94
	if so.GetTotal().GetMinorUnits() != 7794 || so.GetTaxTotal().GetMinorUnits() != 594 || so.GetLines()[0].GetBaseQuantity() != "36" ||
		so.GetLines()[0].GetTaxRatePercent() != "8.25" || so.GetPartner() != "partner-a" {
		t.Fatalf("created %v", so)
	}
	if _, err := h.svc.api.GetSalesOrder(pb, &ordersv1.GetSalesOrderRequest{Name: so.GetName()}); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("another partner's get: %v", err)
	}
	if _, err := h.svc.api.ConfirmSalesOrder(pb, &ordersv1.ConfirmSalesOrderRequest{Name: so.GetName()}); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("another partner's confirm: %v", err)
	}
	conf, err := h.svc.api.ConfirmSalesOrder(pa, &ordersv1.ConfirmSalesOrderRequest{Name: so.GetName(), RequestId: "c-1"})
	if err != nil || conf.GetState() != ordersv1.SalesOrderState_SALES_ORDER_STATE_CONFIRMED || conf.GetConfirmTime() == nil {
		t.Fatalf("confirm: %v %v", conf, err)
	}
	h.waitCount("ORDERS", protoevent.Subject(&ordersv1.SalesOrderConfirmed{}), 1)

	s1 := shipmentConfirmed(t, "ship-1", "SH-1", so.GetName(), &fulfillmentv1.ShippedLine{SalesOrderLine: 1, BaseQuantity: "30",
		Quantity: &typev1.Quantity{Value: "30", Uom: "EA"}})
	h.publish(s1)
	h.redeliver(s1, "again-1")
	h.publish(shipmentConfirmed(t, "ship-1-resent", "SH-1", so.GetName(), &fulfillmentv1.ShippedLine{SalesOrderLine: 1, BaseQuantity: "30"}))
	h.settleOn("FULFILLMENT", "orders-shipments")
	got, err := h.svc.api.GetSalesOrder(pa, &ordersv1.GetSalesOrderRequest{Name: so.GetName()})
	if err != nil || got.GetState() != ordersv1.SalesOrderState_SALES_ORDER_STATE_PARTIALLY_SHIPPED ||
		got.GetLines()[0].GetShippedQuantity() != "30" || got.GetLines()[0].GetBackorderQuantity() != "6" {
		t.Fatalf("after the first shipment: %v %v", got, err)
	}
	h.publish(shipmentConfirmed(t, "ship-2", "SH-2", so.GetName(), &fulfillmentv1.ShippedLine{SalesOrderLine: 1, BaseQuantity: "6"}))
	h.settleOn("FULFILLMENT", "orders-shipments")
	h.waitCount("ORDERS", protoevent.Subject(&ordersv1.InvoiceIssued{}), 2)

	invs, err := h.svc.api.ListInvoices(pa, &ordersv1.ListInvoicesRequest{SalesOrder: so.GetName()})
	if err != nil || len(invs.GetInvoices()) != 2 {
		t.Fatalf("invoices: %v %v", invs, err)
	}
	var total int64
	for _, inv := range invs.GetInvoices() {
		total += inv.GetTotal().GetMinorUnits()
		if inv.GetDueTime().AsTime().Sub(inv.GetIssueTime().AsTime()) != 14*24*time.Hour || inv.GetState() != ordersv1.InvoiceState_INVOICE_STATE_OPEN {
			t.Errorf("invoice %v: want open, due 14 days after issue", inv)
		}
	}
	// 30 EA = 2.5 CS x 24 = 60.00 + 4.95 tax; 6 EA = 12.00 + 0.99
	if total != 6495+1299 {
		t.Errorf("invoiced %d, want 7794", total)
	}
	if other, err := h.svc.api.ListInvoices(pb, &ordersv1.ListInvoicesRequest{}); err != nil || len(other.GetInvoices()) != 0 {
		t.Errorf("partner b lists %v %v", other, err)
	}

	pay, err := h.svc.api.RecordPayment(pa, &ordersv1.RecordPaymentRequest{RequestId: "pay-1", Payment: &ordersv1.Payment{
		Customer: "customers/BOB", Amount: &typev1.Money{CurrencyCode: "USD", MinorUnits: 7000}, Method: ordersv1.PaymentMethod_PAYMENT_METHOD_BANK_TRANSFER}})
	if err != nil || len(pay.GetApplications()) != 2 || pay.GetUnappliedAmount().GetMinorUnits() != 0 {
		t.Fatalf("payment: %v %v", pay, err)
	}
	h.waitCount("ORDERS", protoevent.Subject(&ordersv1.PaymentReceived{}), 1)
	ageing, err := h.svc.api.ListReceivablesAgeing(pa, &ordersv1.ListReceivablesAgeingRequest{AsOfTime: timestamppb.New(time.Now().AddDate(0, 0, 20))})
	if err != nil || len(ageing.GetRows()) != 1 {
		t.Fatalf("ageing: %v %v", ageing, err)
	}
	row := ageing.GetRows()[0]
	if row.GetOpenTotal().GetMinorUnits() != 794 || len(row.GetBuckets()) != 5 || row.GetBuckets()[1].GetAmount().GetMinorUnits() != 794 ||
		row.GetBuckets()[1].GetMinDaysPastDue() != 1 || row.GetBuckets()[1].GetMaxDaysPastDue() != 30 {
		t.Errorf("ageing row %v: want 7.94 open, 1-30 days past due", row)
	}
}
