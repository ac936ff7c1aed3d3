package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/protoevent"
)

// A purchase order created through the API by a partner is released (the
// event reaches the ORDERS stream with what fulfillment needs), and inventory's
// receipt, delivered three times through JetStream, counts once.
func TestPurchaseOrderReleasedAndReceivedThroughTheBus(t *testing.T) {
	h, _ := start(t)
	ctx := context.Background()
	pctx := caller.NewContext(ctx, caller.Partner("partner-a"))

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
	if _, err := h.svc.api.CreateSupplier(ctx, &ordersv1.CreateSupplierRequest{Supplier: &ordersv1.Supplier{Code: "ACME", DisplayName: "Acme", CurrencyCode: "EUR"}}); err != nil {
		t.Fatal(err)
	}
	req := &ordersv1.CreatePurchaseOrderRequest{RequestId: "po-1", PurchaseOrder: &ordersv1.PurchaseOrder{
		Supplier: "suppliers/ACME",
		Lines:    []*ordersv1.PurchaseOrderLine{{Item: "W-1", Quantity: &typev1.Quantity{Value: "2", Uom: "CS"}, UnitPrice: "30", Warehouse: "WH1", ExpectedDate: "2026-12-24"}},
	}}

	// A partner may not set output-only fields.
	bad := proto.Clone(req).(*ordersv1.CreatePurchaseOrderRequest)
	bad.PurchaseOrder.State = ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_RECEIVED
	bad.PurchaseOrder.Partner = "partner-b"
	bad.PurchaseOrder.Lines[0].ReceivedQuantity = "24"
	_, err = h.svc.api.CreatePurchaseOrder(pctx, bad)
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument || len(e.Violations) != 3 ||
		e.Violations[0].Field != "purchase_order.state" || e.Violations[1].Field != "purchase_order.partner" || e.Violations[2].Field != "purchase_order.lines[0].received_quantity" {
		t.Fatalf("partner setting output-only fields: %v", err)
	}
	// An internal caller's output-only fields are ignored.
	ignored, err := h.svc.api.CreatePurchaseOrder(ctx, bad)
	if err != nil || ignored.GetState() != ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_DRAFT || ignored.GetPartner() != "" {
		t.Fatalf("internal create: %v %v", ignored, err)
	}

	po, err := h.svc.api.CreatePurchaseOrder(pctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if po.GetPartner() != "partner-a" || po.GetLines()[0].GetBaseQuantity() != "24" || po.GetTotal().GetMinorUnits() != 6000 || po.GetLines()[0].GetLineNumber() != 1 {
		t.Fatalf("created %v", po)
	}
	if _, err := h.svc.api.GetPurchaseOrder(caller.NewContext(ctx, caller.Partner("partner-b")), &ordersv1.GetPurchaseOrderRequest{Name: po.GetName()}); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("another partner's get: %v", err)
	}
	if _, err := h.svc.api.GetPurchaseOrder(ctx, &ordersv1.GetPurchaseOrderRequest{Name: "orders/x"}); apperr.KindOf(err) != apperr.KindInvalidArgument {
		t.Errorf("bad name: %v", err)
	}
	rel, err := h.svc.api.ReleasePurchaseOrder(pctx, &ordersv1.ReleasePurchaseOrderRequest{Name: po.GetName(), RequestId: "rel-1"})
	if err != nil || rel.GetState() != ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_RELEASED {
		t.Fatalf("release: %v %v", rel, err)
	}

	// The released event on the bus.
	deadline := time.Now().Add(15 * time.Second)
	var ev ordersv1.PurchaseOrderReleased
	for {
		st, err := h.js.Stream(ctx, "ORDERS")
		if err != nil {
			t.Fatal(err)
		}
		msg, err := st.GetLastMsgForSubject(ctx, protoevent.Subject(&ordersv1.PurchaseOrderReleased{}))
		if err == nil {
			if err := proto.Unmarshal(msg.Data, &ev); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no PurchaseOrderReleased on ORDERS: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ev.GetAggregateId() != po.GetName() || ev.GetPurchaseOrder().GetLines()[0].GetBaseQuantity() != "24" || ev.GetPurchaseOrder().GetPartner() != "partner-a" {
		t.Errorf("released event %v", &ev)
	}

	id := po.GetName()[len("purchaseOrders/"):]
	receipt, err := protoevent.Message("rcpt-1", &inventoryv1.StockReceived{
		EventId: "rcpt-1", OccurredAt: timestamppb.Now(), AggregateId: "items/W-1", AggregateVersion: 2,
		Movement: &inventoryv1.Movement{Name: "movements/1", Type: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, Item: "items/W-1",
			Warehouse: "WH1", Quantity: &typev1.Quantity{Value: "1", Uom: "CS"}, BaseQuantity: "12",
			Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: id, Line: "1"}},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.publish(receipt)
	h.redeliver(receipt, "again-1")
	h.redeliver(receipt, "again-2")
	h.settleConsumer("orders-receipts")
	got, err := h.svc.api.GetPurchaseOrder(pctx, &ordersv1.GetPurchaseOrderRequest{Name: po.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetLines()[0].GetReceivedQuantity() != "12" || got.GetState() != ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_PARTIALLY_RECEIVED {
		t.Errorf("after a receipt delivered three times: %v", got)
	}
	list, err := h.svc.api.ListPurchaseOrders(pctx, &ordersv1.ListPurchaseOrdersRequest{State: ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_PARTIALLY_RECEIVED})
	if err != nil || len(list.GetPurchaseOrders()) != 1 {
		t.Errorf("partner's list of partially received: %v %v", list, err)
	}
}

// settleConsumer waits until durable has acknowledged everything in INVENTORY.
func (h *harness) settleConsumer(durable string) { h.settleOn("INVENTORY", durable) }

// settleOn waits until durable has acknowledged everything in stream.
func (h *harness) settleOn(stream, durable string) {
	h.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := h.js.Stream(ctx, stream)
		if err != nil {
			h.t.Fatal(err)
		}
		last := st.CachedInfo().State.LastSeq
		if c, err := h.js.Consumer(ctx, stream, durable); err == nil {
			info := c.CachedInfo()
			if info.AckFloor.Stream >= last && info.NumAckPending == 0 && info.NumPending == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s did not catch up with %s seq %d", durable, stream, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
