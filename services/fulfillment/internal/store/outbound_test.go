package store_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/events"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// confirmedMsg is orders' SalesOrderConfirmed for SO1: line 1 10 EA of W-1,
// line 2 5 EA of LOT-1, at MAIN.
func confirmedMsg(t *testing.T, eventID string) *natsx.Message {
	t.Helper()
	m, err := protoevent.Message(eventID, &ordersv1.SalesOrderConfirmed{EventId: eventID, OccurredAt: timestamppb.New(t0),
		AggregateId: "salesOrders/SO1", AggregateVersion: 2, SalesOrder: &ordersv1.SalesOrder{Name: "salesOrders/SO1",
			Customer: "customers/NORTHWIND", Lines: []*ordersv1.SalesOrderLine{
				{LineNumber: 1, Item: "W-1", Quantity: &typev1.Quantity{Value: "10", Uom: "EA"}, BaseQuantity: "10", BaseUom: "EA", Warehouse: "MAIN"},
				{LineNumber: 2, Item: "LOT-1", Quantity: &typev1.Quantity{Value: "5", Uom: "EA"}, BaseQuantity: "5", BaseUom: "EA", Warehouse: "MAIN"},
			}}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return &natsx.Message{EventID: m.ID, Type: m.Type, Subject: m.Subject, Data: m.Payload}
}

func cancelledMsg(t *testing.T, eventID string, line int32, cancelled string) *natsx.Message {
	t.Helper()
	m, err := protoevent.Message(eventID, &ordersv1.SalesOrderCancelled{EventId: eventID, OccurredAt: timestamppb.New(t0),
		AggregateId: "salesOrders/SO1", AggregateVersion: 3, CancelledLines: []int32{line}, SalesOrder: &ordersv1.SalesOrder{
			Name: "salesOrders/SO1", Lines: []*ordersv1.SalesOrderLine{{LineNumber: line, CancelledQuantity: cancelled}}}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return &natsx.Message{EventID: m.ID, Type: m.Type, Subject: m.Subject, Data: m.Payload}
}

func TestOutboundOrdersFromSalesOrders(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, ob := newService(t, db)
		inv := newFakeInventory()
		inv.avail["W-1"] = 10 * qty.One
		inv.avail["LOT-1"] = 3 * qty.One // two short at allocation
		svc.SetInventory(inv)
		svc.SetClaimTTL(time.Hour)
		handle := events.SalesOrdersHandler(svc, func(ctx context.Context) {
			if _, err := svc.Work(ctx); err != nil {
				t.Error(err)
			}
		})
		// Delivered three times: one order, one reservation per line.
		conf := confirmedMsg(t, "conf-1")
		for _, errs := range [][]error{handle(ctx, []*natsx.Message{conf, conf}), handle(ctx, []*natsx.Message{conf})} {
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		before := pending(t, ob)
		o, err := svc.GetOutboundOrder(ctx, "SO1")
		if err != nil || o.State != fulfillment.OutboundReleased || len(inv.allocs) != 2 {
			t.Fatalf("order = %+v, %v; %d allocations", o, err, len(inv.allocs))
		}
		if l := o.Line(2); l.Allocated != 3*qty.One || l.Short != 2*qty.One {
			t.Fatalf("LOT-1 line = %+v", l)
		}
		picks, _ := svc.ListTasks(ctx, app.TaskFilter{Type: fulfillment.TaskPick, Reference: "SO1"}, "", 10)
		if len(picks) != 2 || picks[0].Qty != 10*qty.One || picks[0].To != "STG-01" || picks[0].Wave == "" {
			t.Fatalf("picks = %+v", picks)
		}
		// Short pick with no other bin: short for good, and the rest released.
		k, out, err := svc.ConfirmPick(ctx, "pk-1", picks[0].ID, fulfillment.Pick{Quantity: "7"})
		if err != nil || k.State != fulfillment.TaskDone || out.Short != 3*qty.One || out.Retry != nil {
			t.Fatalf("pick = %+v, %+v, %v", k, out, err)
		}
		p := inv.picks["fulfillment:pick:"+picks[0].ID]
		if p.Qty != 7*qty.One || !p.ReleaseRemaining || p.To != "STG-01" || p.Order != "SO1" || p.Line != 1 {
			t.Fatalf("inventory pick = %+v", p)
		}
		if _, again, err := svc.ConfirmPick(ctx, "pk-1", picks[0].ID, fulfillment.Pick{Quantity: "7"}); err != nil || again == nil || again.Short != 3*qty.One {
			t.Fatalf("retried pick: %v", err)
		}
		if _, _, err := svc.ConfirmPick(ctx, "pk-2", picks[0].ID, fulfillment.Pick{Quantity: "7"}); apperr.KindOf(err) != apperr.KindFailedPrecondition {
			t.Fatalf("picking a done task: %v", err)
		}
		if _, _, err := svc.ConfirmPick(ctx, "pk-3", picks[1].ID, fulfillment.Pick{Quantity: "4"}); apperr.KindOf(err) != apperr.KindInvalidArgument {
			t.Fatalf("picking more than the task: %v", err)
		}
		if got := pending(t, ob) - before; got != 1 {
			t.Fatalf("%d events from the short pick and its retry, want one ShortPickRecorded", got)
		}
		// Pack 5 of the 7, ship them; the rest ships next.
		sh, err := svc.PackShipment(ctx, "pack-1", "SO1", "MAIN", []fulfillment.PackLine{{Line: 1, Qty: 5 * qty.One}}, []fulfillment.Carton{{Weight: "2.5"}})
		if err != nil || len(sh.Lines) != 1 || sh.Lines[0].Qty != 5*qty.One || len(sh.Cartons) != 1 {
			t.Fatalf("pack = %+v, %v", sh, err)
		}
		if _, err := svc.PackShipment(ctx, "pack-x", "SO1", "MAIN", []fulfillment.PackLine{{Line: 1, Qty: 3 * qty.One}}, nil); apperr.KindOf(err) != apperr.KindInvalidArgument {
			t.Fatalf("packing more than staged: %v", err)
		}
		if _, err := svc.CreateCarrier(ctx, "ups", fulfillment.Carrier{Code: "UPS", DisplayName: "UPS"}); err != nil {
			t.Fatal(err)
		}
		shipped, err := svc.ShipShipment(ctx, "ship-1", sh.ID, "carriers/UPS", "GROUND", "1Z1")
		if err != nil || shipped.State != fulfillment.ShipmentShipped || shipped.Lines[0].CostMinor != 750 || shipped.Carrier != "UPS" {
			t.Fatalf("ship = %+v, %v", shipped, err)
		}
		if again, err := svc.ShipShipment(ctx, "ship-1", sh.ID, "carriers/UPS", "GROUND", "1Z1"); err != nil || again.Version != shipped.Version || len(inv.shipped) != 1 {
			t.Fatalf("retried ship = %+v, %v", again, err)
		}
		if _, err := svc.ShipShipment(ctx, "ship-2", sh.ID, "UPS", "", ""); apperr.KindOf(err) != apperr.KindFailedPrecondition {
			t.Fatalf("shipping twice: %v", err)
		}
		if _, err := svc.ShipShipment(ctx, "ship-3", "SH-NOPE", "UPS", "", ""); apperr.KindOf(err) != apperr.KindNotFound {
			t.Fatalf("an unknown shipment: %v", err)
		}
		o, _ = svc.GetOutboundOrder(ctx, "SO1")
		if l := o.Line(1); l.Shipped != 5*qty.One || l.Picked != 7*qty.One || o.State != fulfillment.OutboundPartiallyShipped {
			t.Fatalf("after the first shipment: %v %+v", o.State, l)
		}

		// Line 2 is cancelled mid-pick: its task is cancelled, its allocation
		// released (redelivery changes nothing).
		canc := cancelledMsg(t, "canc-1", 2, "5")
		handle(ctx, []*natsx.Message{canc})
		handle(ctx, []*natsx.Message{canc})
		o, _ = svc.GetOutboundOrder(ctx, "SO1")
		if l := o.Line(2); l.Cancelled != 5*qty.One || l.NeedRelease || l.Allocated != 0 || l.Short != 0 {
			t.Fatalf("cancelled line = %+v", l)
		}
		if len(inv.releases) != 1 {
			t.Fatalf("releases = %v", inv.releases)
		}
		if k, _ := svc.GetTask(ctx, picks[1].ID); k.State != fulfillment.TaskCancelled {
			t.Fatalf("line 2's pick = %v", k.State)
		}
		// The rest of line 1 ships: the order is done.
		sh2, err := svc.PackShipment(ctx, "pack-2", "SO1", "MAIN", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ShipShipment(ctx, "ship-4", sh2.ID, "", "", ""); err != nil {
			t.Fatal(err)
		}
		o, _ = svc.GetOutboundOrder(ctx, "SO1")
		if o.State != fulfillment.OutboundShipped || len(o.Staged) != 0 {
			t.Fatalf("order = %v, staged %v", o.State, o.Staged)
		}
		all, _ := svc.ListShipments(ctx, "SO1", "", 10)
		if len(all) != 2 {
			t.Fatalf("shipments = %d", len(all))
		}
	})
}
