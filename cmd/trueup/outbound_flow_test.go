package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
)

// outboundKit drives sales orders through fulfillment on the dev stack.
type outboundKit struct {
	t   *testing.T
	ctx context.Context
	inv inventoryv1.InventoryServiceClient
	ord ordersv1.OrdersServiceClient
	ful fulfillmentv1.FulfillmentServiceClient
	n   int
}

// confirm creates and confirms a sales order of one line and returns its id.
func (k *outboundKit) confirm(item, q, uom string) string {
	k.t.Helper()
	k.n++
	so, err := k.ord.CreateSalesOrder(k.ctx, &ordersv1.CreateSalesOrderRequest{RequestId: fmt.Sprintf("ob-so-%d", k.n), SalesOrder: &ordersv1.SalesOrder{
		Customer: "customers/NORTHWIND",
		Lines:    []*ordersv1.SalesOrderLine{{Item: item, Quantity: &typev1.Quantity{Value: q, Uom: uom}, UnitPrice: "10.00", Warehouse: "MAIN"}},
	}})
	if err != nil {
		k.t.Fatal(err)
	}
	if _, err := k.ord.ConfirmSalesOrder(k.ctx, &ordersv1.ConfirmSalesOrderRequest{Name: so.GetName(), RequestId: fmt.Sprintf("ob-so-%d-confirm", k.n)}); err != nil {
		k.t.Fatal(err)
	}
	return strings.TrimPrefix(so.GetName(), "salesOrders/")
}

// outbound waits until the order's outbound order satisfies ok.
func (k *outboundKit) outbound(id, what string, ok func(*fulfillmentv1.OutboundOrder) bool) *fulfillmentv1.OutboundOrder {
	k.t.Helper()
	var o *fulfillmentv1.OutboundOrder
	waitFor(k.t, what, func() bool {
		var err error
		o, err = k.ful.GetOutboundOrder(k.ctx, &fulfillmentv1.GetOutboundOrderRequest{Name: "outboundOrders/" + id})
		return err == nil && ok(o)
	})
	return o
}

// picks lists the order's pick tasks.
func (k *outboundKit) picks(id string) []*fulfillmentv1.Task {
	k.t.Helper()
	resp, err := k.ful.ListTasks(k.ctx, &fulfillmentv1.ListTasksRequest{Warehouse: "MAIN", Type: fulfillmentv1.TaskType_TASK_TYPE_PICK, PageSize: 1000})
	if err != nil {
		k.t.Fatal(err)
	}
	var out []*fulfillmentv1.Task
	for _, t := range resp.GetTasks() {
		if strings.HasPrefix(t.GetName(), "tasks/PICK-"+id+"-") {
			out = append(out, t)
		}
	}
	return out
}

func (k *outboundKit) pick(task, q string) *fulfillmentv1.ConfirmPickResponse {
	k.t.Helper()
	resp, err := k.ful.ConfirmPick(k.ctx, &fulfillmentv1.ConfirmPickRequest{RequestId: "pick-" + task, Name: task, Quantity: &typev1.Quantity{Value: q}})
	if err != nil {
		k.t.Fatalf("pick %s: %v", task, err)
	}
	return resp
}

func (k *outboundKit) stockAt(item, loc string) string {
	k.t.Helper()
	resp, err := k.inv.ListStock(k.ctx, &inventoryv1.ListStockRequest{Warehouse: "warehouses/MAIN", Item: "items/" + item,
		Location: "warehouses/MAIN/locations/" + loc, PageSize: 100})
	if err != nil {
		k.t.Fatal(err)
	}
	var total []string
	for _, l := range resp.GetLevels() {
		total = append(total, l.GetOnHand())
	}
	return strings.Join(total, "+")
}

// TestOutboundShortPicksPartialShipmentsAndCancellations runs outbound
// orders through fulfillment with the real inventory behind it: a short
// pick re-picked from another bin, a short pick with nowhere else to pick
// (the backorder), a partial shipment, and cancellations before and after
// the pick.
func TestOutboundShortPicksPartialShipmentsAndCancellations(t *testing.T) {
	_, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	k := &outboundKit{t: t, ctx: ctx, inv: inventoryv1.NewInventoryServiceClient(conn), ord: ordersv1.NewOrdersServiceClient(conn),
		ful: fulfillmentv1.NewFulfillmentServiceClient(conn)}
	waitFor(t, "the seeded items in the orders catalog", func() bool {
		_, err1 := k.ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/WIDGET-100"})
		_, err2 := k.ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/COFFEE-BEANS"})
		return err1 == nil && err2 == nil
	})
	// A second bin of widgets, for a re-pick.
	if _, err := k.inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: "ob-more-widgets", Item: "items/WIDGET-100",
		Location: "warehouses/MAIN/locations/A-01-02", Quantity: &typev1.Quantity{Value: "30", Uom: "EA"},
		UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "1.50"},
		Source:   &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: "PO-DEMO-2", Line: "1"}}); err != nil {
		t.Fatal(err)
	}

	// Short at A-01-01, the rest found at A-01-02; shipped in two parts.
	a := k.confirm("WIDGET-100", "24", "EA")
	k.outbound(a, "order A released", func(o *fulfillmentv1.OutboundOrder) bool {
		return o.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_RELEASED
	})
	ps := k.picks(a)
	if len(ps) != 1 || ps[0].GetFromLocation() != "warehouses/MAIN/locations/A-01-01" || ps[0].GetWave() == "" {
		t.Fatalf("order A picks = %v", ps)
	}
	if inWave, err := k.ful.ListTasks(ctx, &fulfillmentv1.ListTasksRequest{Warehouse: "MAIN", Wave: ps[0].GetWave()}); err != nil || len(inWave.GetTasks()) != 1 {
		t.Fatalf("the wave's tasks = %v, %v", inWave, err)
	}
	short := k.pick(ps[0].GetName(), "20")
	if short.GetRetry() == nil || short.GetRetry().GetFromLocation() != "warehouses/MAIN/locations/A-01-02" || short.GetRetry().GetBaseQuantity() != "4" || short.GetShortBaseQuantity() != "0" {
		t.Fatalf("short pick = %v", short)
	}
	if again := k.pick(ps[0].GetName(), "20"); again.GetRetry().GetName() != short.GetRetry().GetName() {
		t.Fatalf("retried pick = %v", again)
	}
	k.pick(short.GetRetry().GetName(), "4")
	o := k.outbound(a, "order A picked", func(o *fulfillmentv1.OutboundOrder) bool {
		return o.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_PICKED
	})
	if o.GetLines()[0].GetPickedQuantity() != "24" || len(o.GetStaged()) != 1 || o.GetStaged()[0].GetQuantity() != "24" {
		t.Fatalf("order A = %v", o)
	}
	first, err := k.ful.PackShipment(ctx, &fulfillmentv1.PackShipmentRequest{RequestId: "ob-a-pack-1", OutboundOrder: "outboundOrders/" + a, Warehouse: "MAIN",
		Lines: []*fulfillmentv1.PackLine{{SalesOrderLine: 1, BaseQuantity: "12"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.ful.ShipShipment(ctx, &fulfillmentv1.ShipShipmentRequest{RequestId: "ob-a-ship-1", Name: first.GetName(), Carrier: "UPS", TrackingNumber: "T-A1"}); err != nil {
		t.Fatal(err)
	}
	k.outbound(a, "order A partially shipped", func(o *fulfillmentv1.OutboundOrder) bool {
		return o.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_PARTIALLY_SHIPPED && o.GetLines()[0].GetShippedQuantity() == "12"
	})
	second, err := k.ful.PackShipment(ctx, &fulfillmentv1.PackShipmentRequest{RequestId: "ob-a-pack-2", OutboundOrder: "outboundOrders/" + a, Warehouse: "MAIN"})
	if err != nil || second.GetLines()[0].GetBaseQuantity() != "12" {
		t.Fatalf("second pack = %v, %v", second, err)
	}
	if _, err := k.ful.ShipShipment(ctx, &fulfillmentv1.ShipShipmentRequest{RequestId: "ob-a-ship-2", Name: second.GetName(), Carrier: "UPS", TrackingNumber: "T-A2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.ful.PackShipment(ctx, &fulfillmentv1.PackShipmentRequest{RequestId: "ob-a-pack-3", OutboundOrder: "outboundOrders/" + a, Warehouse: "MAIN"}); !isPrecondition(err) {
		t.Fatalf("packing with nothing staged: %v", err)
	}
	waitFor(t, "two invoices for order A", func() bool {
		resp, err := k.ord.ListInvoices(ctx, &ordersv1.ListInvoicesRequest{SalesOrder: "salesOrders/" + a})
		return err == nil && len(resp.GetInvoices()) == 2
	})

	// Coffee is only in A-01-02: a short pick there is short for good.
	b := k.confirm("COFFEE-BEANS", "2", "KG")
	k.outbound(b, "order B released", func(o *fulfillmentv1.OutboundOrder) bool {
		return o.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_RELEASED
	})
	bp := k.picks(b)
	if len(bp) != 1 || bp[0].GetLot() != "L2611" {
		t.Fatalf("order B picks = %v", bp)
	}
	if r := k.pick(bp[0].GetName(), "1.5"); r.GetRetry() != nil || r.GetShortBaseQuantity() != "0.5" {
		t.Fatalf("short for good = %v", r)
	}
	o = k.outbound(b, "order B picked", func(o *fulfillmentv1.OutboundOrder) bool {
		return o.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_PICKED
	})
	if o.GetLines()[0].GetShortQuantity() != "0.5" {
		t.Fatalf("order B = %v", o)
	}
	bs, err := k.ful.PackShipment(ctx, &fulfillmentv1.PackShipmentRequest{RequestId: "ob-b-pack", OutboundOrder: "outboundOrders/" + b, Warehouse: "MAIN"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.ful.ShipShipment(ctx, &fulfillmentv1.ShipShipmentRequest{RequestId: "ob-b-ship", Name: bs.GetName(), Carrier: "UPS"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "order B shipped short, the rest backordered", func() bool {
		so, err := k.ord.GetSalesOrder(ctx, &ordersv1.GetSalesOrderRequest{Name: "salesOrders/" + b})
		return err == nil && so.GetLines()[0].GetShippedQuantity() == "1.5" && so.GetLines()[0].GetBackorderQuantity() == "0.5"
	})
	// What the allocation still held was released with the short pick.
	if got := k.stockAt("COFFEE-BEANS", "A-01-02"); got != "22.5" {
		t.Fatalf("coffee left at A-01-02 = %s", got)
	}
	// The backorder ships later: tried again, reserved afresh, picked, shipped.
	o, err = k.ful.RetryBackorder(ctx, &fulfillmentv1.RetryBackorderRequest{Name: "outboundOrders/" + b})
	if err != nil || o.GetLines()[0].GetShortQuantity() != "0" {
		t.Fatalf("retry backorder = %v, %v", o, err)
	}
	var retry *fulfillmentv1.Task
	waitFor(t, "the backorder's pick task", func() bool {
		for _, p := range k.picks(b) {
			if p.GetState() == fulfillmentv1.TaskState_TASK_STATE_OPEN {
				retry = p
			}
		}
		return retry != nil
	})
	if retry.GetBaseQuantity() != "0.5" || retry.GetName() != "tasks/PICK-"+b+"-1-g1-1" {
		t.Fatalf("backorder pick = %v", retry)
	}
	k.pick(retry.GetName(), "0.5")
	bs2, err := k.ful.PackShipment(ctx, &fulfillmentv1.PackShipmentRequest{RequestId: "ob-b-pack-2", OutboundOrder: "outboundOrders/" + b, Warehouse: "MAIN"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.ful.ShipShipment(ctx, &fulfillmentv1.ShipShipmentRequest{RequestId: "ob-b-ship-2", Name: bs2.GetName(), Carrier: "UPS"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "order B's backorder shipped", func() bool {
		so, err := k.ord.GetSalesOrder(ctx, &ordersv1.GetSalesOrderRequest{Name: "salesOrders/" + b})
		return err == nil && so.GetLines()[0].GetShippedQuantity() == "2" && so.GetLines()[0].GetBackorderQuantity() == "0"
	})

	// Cancelled before the pick: the task is cancelled, the stock released.
	c := k.confirm("WIDGET-100", "6", "EA")
	k.outbound(c, "order C released", func(o *fulfillmentv1.OutboundOrder) bool {
		return o.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_RELEASED
	})
	if _, err := k.ord.CancelSalesOrder(ctx, &ordersv1.CancelSalesOrderRequest{Name: "salesOrders/" + c, RequestId: "ob-c-cancel", Reason: "customer changed their mind"}); err != nil {
		t.Fatal(err)
	}
	o = k.outbound(c, "order C cancelled and released", func(o *fulfillmentv1.OutboundOrder) bool {
		return o.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_CANCELLED && o.GetLines()[0].GetAllocatedQuantity() == "0"
	})
	if cp := k.picks(c); len(cp) != 1 || cp[0].GetState() != fulfillmentv1.TaskState_TASK_STATE_CANCELLED {
		t.Fatalf("order C picks = %v", cp)
	}
	al, err := k.inv.GetAllocation(ctx, &inventoryv1.GetAllocationRequest{Name: o.GetLines()[0].GetAllocation()})
	if err != nil || al.GetState() != inventoryv1.AllocationState_ALLOCATION_STATE_RELEASED {
		t.Fatalf("order C allocation = %v, %v", al, err)
	}

	// Cancelled after the pick: the staged stock goes back to its bin.
	d := k.confirm("WIDGET-100", "6", "EA")
	k.outbound(d, "order D released", func(o *fulfillmentv1.OutboundOrder) bool {
		return o.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_RELEASED
	})
	dp := k.picks(d)
	k.pick(dp[0].GetName(), "6")
	if got := k.stockAt("WIDGET-100", "STG-01"); got != "6" {
		t.Fatalf("staged before the cancellation = %s", got)
	}
	if _, err := k.ord.CancelSalesOrder(ctx, &ordersv1.CancelSalesOrderRequest{Name: "salesOrders/" + d, RequestId: "ob-d-cancel", Reason: "duplicate order"}); err != nil {
		t.Fatal(err)
	}
	k.outbound(d, "order D cancelled and released", func(o *fulfillmentv1.OutboundOrder) bool {
		return o.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_CANCELLED && len(o.GetStaged()) == 0
	})
	waitFor(t, "the picked stock back in its bin", func() bool { return k.stockAt("WIDGET-100", "STG-01") == "" })

	// A shipped order cannot be cancelled: orders refuses it.
	if _, err := k.ord.CancelSalesOrder(ctx, &ordersv1.CancelSalesOrderRequest{Name: "salesOrders/" + a, RequestId: "ob-a-cancel"}); !isPrecondition(err) {
		t.Fatalf("cancelling a shipped order: %v", err)
	}
}

func isPrecondition(err error) bool { return status.Code(err) == codes.FailedPrecondition }
