package e2e

import (
	"context"
	"strings"
	"testing"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
)

// TestOutbound is order to cash across the suite. Widgets are in two cost
// layers (the opening 120 EA at 1.50 in A-01-01, then 24 EA at 2.00 in
// A-01-02). A partner orders 11 CS (132 EA) of widgets at 30.00 a case and
// 4 KG of coffee at 20.00, 10 % tax, over REST, and confirms it. The
// warehouse (gRPC) picks every task, one of them short (8 of 12 at
// A-01-02), packs what was picked and ships it with a tracking number: the
// order ships 128 EA and backorders 4; inventory issues the stock FIFO at
// ship-confirm (120 × 1.50 + 8 × 2.00 = 196.00 of widgets, 4 × 9.80 of
// coffee); COGS takes the consumed cost; one invoice (400.00 + 40.00 tax)
// makes AR, revenue and sales tax. Then the backorder is picked and shipped
// (4 × 2.00 of COGS, an invoice of 11.00) and the partner's payment clears
// the receivable. Every order-to-cash stage has its time.
func TestOutbound(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: "out-layer-2", Item: "items/WIDGET-100",
			Location: "warehouses/MAIN/locations/A-01-02", Quantity: &typev1.Quantity{Value: "24", Uom: "EA"},
			UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "2.00", Uom: "EA"},
			Source:   &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: "PO-E2E-2", Line: "1"}}); err != nil {
			t.Fatal(err)
		}
		e.checkBooks(t)
		before := map[string]int64{}
		for _, a := range []string{"1400", "1200", "4000", "2200", "5000"} {
			before[a] = e.balance(t, a, "")
		}
		moved := func(a string) int64 { return e.balance(t, a, "") - before[a] }

		var so ordersv1.SalesOrder
		e.mustREST(t, "POST", "/v1/salesOrders", "out-so-1", `{"customer":"customers/NORTHWIND","lines":[
			{"item":"WIDGET-100","quantity":{"value":"11","uom":"CS"},"unitPrice":"30.00","taxRatePercent":"10","warehouse":"MAIN"},
			{"item":"COFFEE-BEANS","quantity":{"value":"4","uom":"KG"},"unitPrice":"20.00","taxRatePercent":"10","warehouse":"MAIN"}]}`, &so)
		if so.GetTotal().GetMinorUnits() != 45100 || so.GetLines()[0].GetBaseQuantity() != "132" {
			t.Fatalf("sales order = %v", &so)
		}
		var confirmed ordersv1.SalesOrder
		e.mustREST(t, "POST", "/v1/"+so.GetName()+":confirm", "out-so-1-confirm", `{}`, &confirmed)
		if confirmed.GetState() != ordersv1.SalesOrderState_SALES_ORDER_STATE_CONFIRMED {
			t.Fatalf("confirmed = %v", &confirmed)
		}
		id := strings.TrimPrefix(so.GetName(), "salesOrders/")
		outbound := "outboundOrders/" + id
		e.waitForOutbound(t, outbound, "released with its pick tasks", func(o *fulfillmentv1.OutboundOrder) bool {
			return o.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_RELEASED && len(e.picks(t, id, fulfillmentv1.TaskState_TASK_STATE_OPEN)) == 3
		})

		// The pickers: everything but 4 EA at A-01-02.
		for _, k := range e.picks(t, id, fulfillmentv1.TaskState_TASK_STATE_OPEN) {
			q := k.GetBaseQuantity()
			if k.GetItem() == "WIDGET-100" && k.GetFromLocation() == "warehouses/MAIN/locations/A-01-02" {
				if q != "12" {
					t.Fatalf("the A-01-02 widget pick = %v", k)
				}
				q = "8"
			}
			r, err := e.ful.ConfirmPick(ctx, &fulfillmentv1.ConfirmPickRequest{RequestId: "out-pick-" + k.GetName(), Name: k.GetName(), Quantity: &typev1.Quantity{Value: q}})
			if err != nil {
				t.Fatalf("pick %v: %v", k, err)
			}
			if q == "8" && (r.GetRetry() != nil || r.GetShortBaseQuantity() != "4") {
				t.Fatalf("the short pick = %v", r)
			}
		}
		e.waitForOutbound(t, outbound, "picked, 4 EA short", func(o *fulfillmentv1.OutboundOrder) bool {
			return o.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_PICKED
		})
		cost := e.packAndShip(t, outbound, "out-1", "1Z999AA10000000001")
		if cost["WIDGET-100"] != 19600 || cost["COFFEE-BEANS"] != 3920 {
			t.Fatalf("shipment cost %v, want FIFO 196.00 of widgets and 39.20 of coffee", cost)
		}
		e.waitFor(t, "the order shipped with 4 EA backordered", func() bool {
			got, err := e.ord.GetSalesOrder(ctx, &ordersv1.GetSalesOrderRequest{Name: so.GetName()})
			return err == nil && got.GetLines()[0].GetShippedQuantity() == "128" && got.GetLines()[0].GetBackorderQuantity() == "4" &&
				got.GetLines()[1].GetShippedQuantity() == "4"
		})
		invoices := e.invoices(t, so.GetName(), 1)
		if inv := invoices[0]; inv.GetNetTotal().GetMinorUnits() != 40000 || inv.GetTaxTotal().GetMinorUnits() != 4000 || inv.GetTotal().GetMinorUnits() != 44000 {
			t.Fatalf("invoice = %v", inv)
		}
		e.checkBooks(t)
		for a, want := range map[string]int64{"1400": -23520, "5000": 23520, "1200": 44000, "4000": -40000, "2200": -4000} {
			if got := moved(a); got != want {
				t.Errorf("after the first shipment account %s moved %d, want %d", a, got, want)
			}
		}

		// The backorder: tried again, reserved, picked, shipped, invoiced.
		if _, err := e.ful.RetryBackorder(ctx, &fulfillmentv1.RetryBackorderRequest{Name: outbound}); err != nil {
			t.Fatal(err)
		}
		var retry []*fulfillmentv1.Task
		e.waitFor(t, "the backorder's pick task", func() bool {
			retry = e.picks(t, id, fulfillmentv1.TaskState_TASK_STATE_OPEN)
			return len(retry) == 1
		})
		if retry[0].GetBaseQuantity() != "4" {
			t.Fatalf("backorder pick = %v", retry[0])
		}
		if _, err := e.ful.ConfirmPick(ctx, &fulfillmentv1.ConfirmPickRequest{RequestId: "out-pick-bo", Name: retry[0].GetName(), Quantity: &typev1.Quantity{Value: "4"}}); err != nil {
			t.Fatal(err)
		}
		e.waitForOutbound(t, outbound, "the backorder picked", func(o *fulfillmentv1.OutboundOrder) bool { return len(o.GetStaged()) == 1 })
		if cost := e.packAndShip(t, outbound, "out-2", "1Z999AA10000000002"); cost["WIDGET-100"] != 800 {
			t.Fatalf("backorder cost %v, want 4 × 2.00", cost)
		}
		invoices = e.invoices(t, so.GetName(), 2)
		var total int64
		for _, inv := range invoices {
			total += inv.GetTotal().GetMinorUnits()
		}
		if total != 45100 {
			t.Fatalf("invoices total %d, want 440.00 + 11.00", total)
		}

		// The partner pays both invoices over REST.
		var pay ordersv1.Payment
		e.mustREST(t, "POST", "/v1/payments", "out-pay-1", `{"customer":"customers/NORTHWIND","amount":{"currencyCode":"USD","minorUnits":"45100"},
			"method":"PAYMENT_METHOD_BANK_TRANSFER","reference":"NW-REMIT-E2E"}`, &pay)
		if len(pay.GetApplications()) != 2 {
			t.Fatalf("payment = %v", &pay)
		}
		var final *ordersv1.SalesOrder
		e.waitFor(t, "every order-to-cash stage timed", func() bool {
			var err error
			final, err = e.ord.GetSalesOrder(ctx, &ordersv1.GetSalesOrderRequest{Name: so.GetName()})
			return err == nil && final.GetPayTime() != nil && final.GetAllocateTime() != nil && final.GetPickTime() != nil
		})
		if final.GetConfirmTime() == nil || final.GetShipTime() == nil || final.GetInvoiceTime() == nil ||
			final.GetPayTime().AsTime().Before(final.GetConfirmTime().AsTime()) || final.GetState() != ordersv1.SalesOrderState_SALES_ORDER_STATE_SHIPPED {
			t.Fatalf("stage times = %v", final)
		}
		books := e.checkBooks(t)
		for a, want := range map[string]int64{"1400": -24320, "5000": 24320, "1200": 0, "4000": -41000, "2200": -4100} {
			if got := moved(a); got != want {
				t.Errorf("at the end account %s moved %d, want %d", a, got, want)
			}
		}
		// The partner tracks its parcels over REST.
		var ships fulfillmentv1.ListShipmentsResponse
		e.mustREST(t, "GET", "/v1/shipments?outboundOrder="+outbound, "", "", &ships)
		tracking := map[string]bool{}
		for _, s := range ships.GetShipments() {
			tracking[s.GetTrackingNumber()] = s.GetState() == fulfillmentv1.ShipmentState_SHIPMENT_STATE_SHIPPED
		}
		if !tracking["1Z999AA10000000001"] || !tracking["1Z999AA10000000002"] {
			t.Errorf("shipments over REST = %v", ships.GetShipments())
		}
		e.redeliverAll(t, books)
		e.invoices(t, so.GetName(), 2)
	})
}

func (e *env) waitForOutbound(t *testing.T, name, what string, ok func(*fulfillmentv1.OutboundOrder) bool) *fulfillmentv1.OutboundOrder {
	t.Helper()
	var o *fulfillmentv1.OutboundOrder
	e.waitFor(t, name+" "+what, func() bool {
		var err error
		o, err = e.ful.GetOutboundOrder(context.Background(), &fulfillmentv1.GetOutboundOrderRequest{Name: name})
		return err == nil && ok(o)
	})
	return o
}

// picks lists the sales order's pick tasks in a state.
func (e *env) picks(t *testing.T, salesOrder string, state fulfillmentv1.TaskState) []*fulfillmentv1.Task {
	t.Helper()
	resp, err := e.ful.ListTasks(context.Background(), &fulfillmentv1.ListTasksRequest{Type: fulfillmentv1.TaskType_TASK_TYPE_PICK, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []*fulfillmentv1.Task
	for _, k := range resp.GetTasks() {
		if strings.HasPrefix(k.GetName(), "tasks/PICK-"+salesOrder+"-") && k.GetState() == state {
			out = append(out, k)
		}
	}
	return out
}

// packAndShip packs everything staged for the outbound order in one carton
// and ships it by UPS; it returns the shipment's cost by item.
func (e *env) packAndShip(t *testing.T, outbound, req, tracking string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	packed, err := e.ful.PackShipment(ctx, &fulfillmentv1.PackShipmentRequest{RequestId: req + "-pack", OutboundOrder: outbound, Warehouse: "MAIN",
		Cartons: []*fulfillmentv1.Carton{{WeightKg: "9.5", LengthCm: "60", WidthCm: "40", HeightCm: "40"}}})
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := e.ful.ShipShipment(ctx, &fulfillmentv1.ShipShipmentRequest{RequestId: req + "-ship", Name: packed.GetName(),
		Carrier: "carriers/UPS", ServiceLevel: "GROUND", TrackingNumber: tracking})
	if err != nil || shipped.GetState() != fulfillmentv1.ShipmentState_SHIPMENT_STATE_SHIPPED {
		t.Fatalf("ship = %v, %v", shipped, err)
	}
	cost := map[string]int64{}
	for _, l := range shipped.GetLines() {
		cost[strings.TrimPrefix(l.GetItem(), "items/")] += l.GetCost().GetMinorUnits()
	}
	return cost
}

// invoices waits for the sales order's n invoices, failing on more.
func (e *env) invoices(t *testing.T, salesOrder string, n int) []*ordersv1.Invoice {
	t.Helper()
	var out []*ordersv1.Invoice
	e.waitFor(t, "the order's invoices", func() bool {
		resp, err := e.ord.ListInvoices(context.Background(), &ordersv1.ListInvoicesRequest{SalesOrder: salesOrder})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetInvoices()) > n {
			t.Fatalf("%d invoices for the order, want %d: %v", len(resp.GetInvoices()), n, resp.GetInvoices())
		}
		out = resp.GetInvoices()
		return len(out) == n
	})
	return out
}
