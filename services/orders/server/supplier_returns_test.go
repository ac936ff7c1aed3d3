package server

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/protoevent"
)

// issuingInventory is a gRPC stand-in for the inventory service's
// IssueStock: it answers one movement per request id, refuses an issue from
// location EMPTY as inventory does when the stock is not there, and records
// what it was asked and by whom. (The real inventory is behind the dev-stack
// test cmd/trueup/po_return_flow_test.go; services do not import each other.)
type issuingInventory struct {
	inventoryv1.UnimplementedInventoryServiceServer
	mu      sync.Mutex
	reqs    []*inventoryv1.IssueStockRequest
	callers []string
	issued  map[string]*inventoryv1.Movement
}

func (f *issuingInventory) IssueStock(ctx context.Context, req *inventoryv1.IssueStockRequest) (*inventoryv1.Movement, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	md, _ := metadata.FromIncomingContext(ctx)
	f.reqs = append(f.reqs, req)
	f.callers = append(f.callers, strings.Join(md.Get(caller.InternalMetadataKey), ","))
	if m, ok := f.issued[req.GetRequestId()]; ok {
		return m, nil
	}
	if strings.HasSuffix(req.GetLocation(), "/EMPTY") {
		e := apperr.Precondition("INSUFFICIENT_STOCK", "not enough stock of W-1 at "+req.GetLocation()+": 0 available, 2 wanted",
			apperr.Violation{Type: "INSUFFICIENT_STOCK", Subject: req.GetLocation(), Description: "0 available"})
		return nil, grpcserver.ToStatus(e).Err()
	}
	m := &inventoryv1.Movement{Name: "movements/m-1", Type: inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE, Item: req.GetItem(),
		Warehouse: "warehouses/WH1", FromLocation: req.GetLocation(), Quantity: req.GetQuantity(), BaseQuantity: "-" + req.GetQuantity().GetValue(),
		Value: &typev1.Money{CurrencyCode: "EUR", MinorUnits: -300}, Source: req.GetSource(), EffectiveTime: timestamppb.Now()}
	f.issued[req.GetRequestId()] = m
	return m, nil
}

func (f *issuingInventory) start(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	inventoryv1.RegisterInventoryServiceServer(srv, f)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

// A RETURN through the API issues the excess in inventory over gRPC (as
// orders, against the order line, with the derived request id), answers the
// order with the received quantity reduced and the movement recorded, and a
// retry answers exactly that again; inventory's StockIssued of the movement,
// delivered through JetStream twice, changes nothing more. Inventory's
// refusal comes back with its code, reason and a message saying what failed.
func TestReturnThroughTheAPIIssuesInInventoryOnce(t *testing.T) {
	inv := &issuingInventory{issued: map[string]*inventoryv1.Movement{}}
	addr := inv.start(t)
	h, _ := start(t, func(d *Deps) { d.InventoryAddr = addr })
	ctx := context.Background()

	item, err := protoevent.Message("item-w1", &inventoryv1.ItemCreated{
		EventId: "item-w1", OccurredAt: timestamppb.Now(), AggregateId: "items/W-1", AggregateVersion: 1,
		Item: &inventoryv1.Item{Name: "items/W-1", Sku: "W-1", Description: "Widget", BaseUom: "EA", Version: 1, WholeUnitsOnly: true},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.publish(item)
	h.settle()
	if _, err := h.svc.api.CreateSupplier(ctx, &ordersv1.CreateSupplierRequest{Supplier: &ordersv1.Supplier{Code: "ACME", DisplayName: "Acme", CurrencyCode: "EUR"}}); err != nil {
		t.Fatal(err)
	}
	po, err := h.svc.api.CreatePurchaseOrder(ctx, &ordersv1.CreatePurchaseOrderRequest{PurchaseOrder: &ordersv1.PurchaseOrder{
		Supplier: "suppliers/ACME",
		Lines:    []*ordersv1.PurchaseOrderLine{{Item: "W-1", Quantity: &typev1.Quantity{Value: "10", Uom: "EA"}, UnitPrice: "1.50", Warehouse: "WH1"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.api.ReleasePurchaseOrder(ctx, &ordersv1.ReleasePurchaseOrderRequest{Name: po.GetName()}); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(po.GetName(), "purchaseOrders/")
	src := &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: id, Line: "1"}
	receipt, err := protoevent.Message("rcpt-1", &inventoryv1.StockReceived{
		EventId: "rcpt-1", OccurredAt: timestamppb.Now(), AggregateId: "items/W-1", AggregateVersion: 2,
		Movement: &inventoryv1.Movement{Name: "movements/r-1", Type: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, Item: "items/W-1",
			Warehouse: "warehouses/WH1", ToLocation: "warehouses/WH1/locations/RCV-01", Quantity: &typev1.Quantity{Value: "12", Uom: "EA"},
			BaseQuantity: "12", Value: &typev1.Money{CurrencyCode: "EUR", MinorUnits: 1800}, Source: src},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.publish(receipt)
	h.settleConsumer("orders-receipts")
	get := func() *ordersv1.PurchaseOrder {
		t.Helper()
		got, err := h.svc.api.GetPurchaseOrder(ctx, &ordersv1.GetPurchaseOrderRequest{Name: po.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if l := get().GetLines()[0]; l.GetOpenDiscrepancyQuantity() != "2" || l.GetReceivedQuantity() != "12" {
		t.Fatalf("over-received line %v", l)
	}

	resolve := func(reqID, location string) (*ordersv1.PurchaseOrder, error) {
		return h.svc.api.ResolveReceiptDiscrepancy(ctx, &ordersv1.ResolveReceiptDiscrepancyRequest{Name: po.GetName(), LineNumber: 1,
			Resolution: ordersv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_RETURN, RequestId: reqID, Location: location})
	}
	// Not enough stock where the caller says the excess is.
	_, err = resolve("ret-empty", "EMPTY")
	// On the wire: the code, inventory's reason (ErrorInfo) and a message
	// saying what could not be done.
	st := grpcserver.ToStatus(err)
	var wire *apperr.Error
	if !errors.As(grpcserver.FromStatus(st.Err()), &wire) || st.Code() != codes.FailedPrecondition || wire.Reason != "INSUFFICIENT_STOCK" ||
		!strings.Contains(st.Message(), "cannot be returned from EMPTY") || len(wire.Violations) != 1 {
		t.Fatalf("not enough stock: %v", st)
	}
	if l := get().GetLines()[0]; l.GetOpenDiscrepancyQuantity() != "2" || l.GetReturningQuantity() != "0" {
		t.Fatalf("after the refusal %v", l)
	}

	first, err := resolve("ret-1", "")
	if err != nil {
		t.Fatal(err)
	}
	l := first.GetLines()[0]
	rd := l.GetResolvedDiscrepancies()
	if l.GetReceivedQuantity() != "10" || l.GetReturnedQuantity() != "2" || l.GetOpenDiscrepancyQuantity() != "0" || l.GetReceivedValue().GetMinorUnits() != 1500 ||
		len(rd) != 1 || rd[0].GetResolution() != ordersv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_RETURN || rd[0].GetMovement() != "movements/m-1" || rd[0].GetQuantity() != "2" {
		t.Fatalf("after the return %v", l)
	}
	inv.mu.Lock()
	last := inv.reqs[len(inv.reqs)-1]
	want := &inventoryv1.IssueStockRequest{RequestId: "po-return/" + id + "/1/1", Item: "items/W-1", Location: "warehouses/WH1/locations/RCV-01",
		Quantity: &typev1.Quantity{Value: "2", Uom: "EA"}, Source: src}
	if !proto.Equal(last, want) || inv.callers[len(inv.callers)-1] != "orders" {
		t.Errorf("inventory asked %v by %q, want %v by orders", last, inv.callers[len(inv.callers)-1], want)
	}
	inv.mu.Unlock()
	if again, err := resolve("ret-1", ""); err != nil || !proto.Equal(again, first) {
		t.Fatalf("retry answered %v, %v; want exactly the first answer %v", again, err, first)
	}

	// Inventory's event of the issue, delivered twice.
	issued, err := protoevent.Message("iss-1", &inventoryv1.StockIssued{
		EventId: "iss-1", OccurredAt: timestamppb.Now(), AggregateId: "items/W-1", AggregateVersion: 3, Movement: inv.issued["po-return/"+id+"/1/1"]}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.publish(issued)
	h.redeliver(issued, "iss-again")
	h.settleConsumer("orders-receipts")
	if got := get(); !proto.Equal(got, first) {
		t.Fatalf("after the issue event %v; want %v", got, first)
	}
	closed, err := h.svc.api.ClosePurchaseOrder(ctx, &ordersv1.ClosePurchaseOrderRequest{Name: po.GetName()})
	if err != nil || closed.GetState() != ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_CLOSED {
		t.Fatalf("close: %v, %v", closed, err)
	}
}
