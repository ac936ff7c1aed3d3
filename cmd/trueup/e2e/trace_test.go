package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/telemetry/telemetrytest"
)

// TestOneTraceFromRESTToLedger follows two partner calls through the suite
// with an in-memory exporter and asserts the span tree, parent by parent:
//
//   - POST /v1/payments: the gateway's server span → its gRPC client span →
//     orders' RecordPayment server span → the outbox relay's publish of
//     PaymentRecorded → the ledger's consumer, which posts the receipt of
//     cash;
//   - POST /v1/shipments/{id}:ship: the gateway → fulfillment's ShipShipment
//     → inventory's ConfirmShipment (a gRPC call between services) → the
//     publish of StockIssued → the ledger's consumer (COGS); and
//     fulfillment's publish of ShipmentConfirmed → orders' consumer, whose
//     InvoiceIssued publish → the ledger's consumer (AR, revenue, tax).
//
// Every span of each trace has its parent in the trace (one connected tree
// rooted at the gateway), not merely a shared trace id.
func TestOneTraceFromRESTToLedger(t *testing.T) {
	rec := telemetrytest.NewRecorder(t)
	e := start(t, nil)
	ctx := context.Background()

	var so ordersv1.SalesOrder
	e.mustREST(t, "POST", "/v1/salesOrders", "tr-so", `{"customer":"customers/NORTHWIND","lines":[
		{"item":"WIDGET-100","quantity":{"value":"1","uom":"CS"},"unitPrice":"30.00","taxRatePercent":"10","warehouse":"MAIN"}]}`, &so)
	e.mustREST(t, "POST", "/v1/"+so.GetName()+":confirm", "tr-so-confirm", `{}`, nil)
	id := strings.TrimPrefix(so.GetName(), "salesOrders/")
	outbound := "outboundOrders/" + id
	e.waitForOutbound(t, outbound, "released", func(o *fulfillmentv1.OutboundOrder) bool {
		return o.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_RELEASED && len(e.picks(t, id, fulfillmentv1.TaskState_TASK_STATE_OPEN)) == 1
	})
	k := e.picks(t, id, fulfillmentv1.TaskState_TASK_STATE_OPEN)[0]
	if _, err := e.ful.ConfirmPick(ctx, &fulfillmentv1.ConfirmPickRequest{RequestId: "tr-pick", Name: k.GetName(), Quantity: &typev1.Quantity{Value: "12"}}); err != nil {
		t.Fatal(err)
	}
	e.waitForOutbound(t, outbound, "picked", func(o *fulfillmentv1.OutboundOrder) bool { return len(o.GetStaged()) == 1 })
	packed, err := e.ful.PackShipment(ctx, &fulfillmentv1.PackShipmentRequest{RequestId: "tr-pack", OutboundOrder: outbound, Warehouse: "MAIN"})
	if err != nil {
		t.Fatal(err)
	}
	e.mustREST(t, "POST", "/v1/"+packed.GetName()+":ship", "tr-ship", `{"carrier":"carriers/UPS","trackingNumber":"1Z-TRACE-1"}`, nil)
	e.invoices(t, so.GetName(), 1)
	e.mustREST(t, "POST", "/v1/payments", "tr-pay", `{"customer":"customers/NORTHWIND","amount":{"currencyCode":"USD","minorUnits":"3300"},
		"method":"PAYMENT_METHOD_BANK_TRANSFER","reference":"TRACE-1"}`, nil)
	e.checkBooks(t)
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	spans := rec.Ended()

	pay := traceTree(t, spans, func(s telemetrytest.Span) bool { return s.Name() == "POST /v1/payments" })
	rpc := pay.child(t, pay.root, trace.SpanKindClient, "trueup.orders.v1.OrdersService/RecordPayment", "")
	srv := pay.child(t, rpc, trace.SpanKindServer, "trueup.orders.v1.OrdersService/RecordPayment", "")
	pay.child(t, srv, trace.SpanKindProducer, "orders.v1.PaymentReceived publish", "")
	pay.child(t, srv, trace.SpanKindConsumer, "orders.v1.PaymentReceived process", "ledger-orders-postings")

	ship := traceTree(t, spans, func(s telemetrytest.Span) bool {
		return strings.HasPrefix(s.Name(), "POST /v1/") && strings.HasSuffix(s.Name(), ":ship")
	})
	rpc = ship.child(t, ship.root, trace.SpanKindClient, "trueup.fulfillment.v1.FulfillmentService/ShipShipment", "")
	srv = ship.child(t, rpc, trace.SpanKindServer, "trueup.fulfillment.v1.FulfillmentService/ShipShipment", "")
	call := ship.child(t, srv, trace.SpanKindClient, "trueup.inventory.v1.InventoryService/ConfirmShipment", "")
	issue := ship.child(t, call, trace.SpanKindServer, "trueup.inventory.v1.InventoryService/ConfirmShipment", "")
	ship.child(t, issue, trace.SpanKindProducer, "inventory.v1.StockIssued publish", "")
	ship.child(t, issue, trace.SpanKindConsumer, "inventory.v1.StockIssued process", "ledger-postings")
	ship.child(t, srv, trace.SpanKindProducer, "fulfillment.v1.ShipmentConfirmed publish", "")
	invoicing := ship.child(t, srv, trace.SpanKindConsumer, "fulfillment.v1.ShipmentConfirmed process", "orders-shipments")
	ship.child(t, invoicing, trace.SpanKindProducer, "orders.v1.InvoiceIssued publish", "")
	ship.child(t, invoicing, trace.SpanKindConsumer, "orders.v1.InvoiceIssued process", "ledger-orders-postings")
}

// tree is one trace's spans by id, and its root.
type tree struct {
	root  telemetrytest.Span
	spans map[trace.SpanID]telemetrytest.Span
}

// traceTree finds the one span isRoot picks, collects its trace, and checks
// the trace is a single tree: every span but the root has its parent in it.
func traceTree(t *testing.T, spans []telemetrytest.Span, isRoot func(telemetrytest.Span) bool) tree {
	t.Helper()
	var tr tree
	for _, s := range spans {
		if isRoot(s) {
			if tr.root != nil {
				t.Fatalf("two root candidates: %q and %q", tr.root.Name(), s.Name())
			}
			tr.root = s
		}
	}
	if tr.root == nil {
		t.Fatalf("no root span among %v", telemetrytest.SpanNames(spans))
	}
	if tr.root.Parent().IsValid() {
		t.Fatalf("the root %q has a parent: the gateway should start the trace", tr.root.Name())
	}
	tr.spans = map[trace.SpanID]telemetrytest.Span{}
	id := tr.root.SpanContext().TraceID()
	for _, s := range spans {
		if s.SpanContext().TraceID() == id {
			tr.spans[s.SpanContext().SpanID()] = s
		}
	}
	for _, s := range tr.spans {
		if s != tr.root && tr.spans[s.Parent().SpanID()] == nil {
			t.Errorf("span %q in the trace of %q has parent %s, which is not in the trace", s.Name(), tr.root.Name(), s.Parent().SpanID())
		}
	}
	return tr
}

// child returns the span of the trace that is a direct child of parent with
// the kind and name (and consumer group, when given), failing the test if
// there is none.
func (tr tree) child(t *testing.T, parent telemetrytest.Span, kind trace.SpanKind, name, group string) telemetrytest.Span {
	t.Helper()
	var under []string
	for _, s := range tr.spans {
		if s.Parent().SpanID() != parent.SpanContext().SpanID() {
			continue
		}
		if s.SpanKind() == kind && s.Name() == name && (group == "" || attr(s, "messaging.consumer.group.name") == group) {
			return s
		}
		under = append(under, fmt.Sprintf("%s %q %s", s.SpanKind(), s.Name(), attr(s, "messaging.consumer.group.name")))
	}
	t.Fatalf("no %s span %q (group %q) under %q; its children: %v", kind, name, group, parent.Name(), under)
	return nil
}

func attr(s telemetrytest.Span, key string) string {
	for _, a := range s.Attributes() {
		if a.Key == attribute.Key(key) {
			return a.Value.Emit()
		}
	}
	return ""
}
