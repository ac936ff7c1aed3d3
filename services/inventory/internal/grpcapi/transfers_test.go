package grpcapi_test

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
)

// TransferStock, GetTransfer, ReceiveTransfer and ReverseMovement through the
// proto mapping (SQLite; the store tests cover both dialects).
func TestTransferAndReverseRPCs(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []string{"W1", "W2"} {
		must(s.CreateWarehouse(ctx, &inventoryv1.CreateWarehouseRequest{Warehouse: &inventoryv1.Warehouse{Code: w, DisplayName: w}}))
		must(s.CreateLocation(ctx, &inventoryv1.CreateLocationRequest{Parent: "warehouses/" + w, Location: &inventoryv1.Location{Code: "A1", Type: inventoryv1.LocationType_LOCATION_TYPE_STORAGE}}))
	}
	must(s.CreateItem(ctx, &inventoryv1.CreateItemRequest{Item: &inventoryv1.Item{Sku: "T-3", Description: "Threes", BaseUom: "EA",
		Uoms: []*inventoryv1.UomConversion{{Uom: "PK3", Factor: "3"}}}}))
	po := &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: "PO-1"}
	to := &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_TRANSFER, Id: "TO-1"}
	ea := func(v string) *typev1.Quantity { return &typev1.Quantity{Value: v, Uom: "EA"} }
	rcv, err := s.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: "r1", Item: "items/T-3", Location: "warehouses/W1/locations/A1",
		Quantity: ea("30000"), UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "1.00", Uom: "PK3"}, Source: po})
	if err != nil || rcv.GetValue().GetMinorUnits() != 1_000_000 {
		t.Fatalf("receipt = %v, %v", rcv, err)
	}

	req := &inventoryv1.TransferStockRequest{RequestId: "t1", Item: "items/T-3", FromLocation: "warehouses/W1/locations/A1",
		ToWarehouse: "warehouses/W2", Quantity: ea("30000"), Source: to}
	tr, err := s.TransferStock(ctx, req)
	if err != nil || tr.GetState() != inventoryv1.TransferState_TRANSFER_STATE_IN_TRANSIT || tr.GetValue().GetMinorUnits() != 1_000_000 ||
		len(tr.GetLayers()) != 1 || tr.GetLayers()[0].GetSourceLayerId() != rcv.GetName()[len("movements/"):] ||
		!tr.GetLayers()[0].GetReceiveTime().AsTime().Equal(rcv.GetCreateTime().AsTime()) {
		t.Fatalf("transfer = %v, %v", tr, err)
	}
	if again, err := s.TransferStock(ctx, req); err != nil || !proto.Equal(again, tr) {
		t.Fatalf("retry = %v, %v; want %v", again, err, tr)
	}
	if _, err := s.TransferStock(ctx, &inventoryv1.TransferStockRequest{RequestId: "t2", Item: "items/T-3", FromLocation: "warehouses/W1/locations/A1",
		ToWarehouse: "W2", Quantity: ea("1"), Source: to}); kind(err) != apperr.KindInvalidArgument || !hasViolation(err, "to_warehouse") {
		t.Fatalf("bad to_warehouse: %v", err)
	}
	got, err := s.GetTransfer(ctx, &inventoryv1.GetTransferRequest{Name: tr.GetName()})
	if err != nil || !proto.Equal(got, tr) {
		t.Fatalf("get = %v, %v", got, err)
	}
	v, err := s.GetValuation(ctx, &inventoryv1.GetValuationRequest{Item: "items/T-3"})
	if err != nil || len(v.GetLines()) != 0 {
		t.Fatalf("valuation in transit = %v, %v; want no line (the value is on the transfer)", v, err)
	}
	done, err := s.ReceiveTransfer(ctx, &inventoryv1.ReceiveTransferRequest{RequestId: "rt1", Name: tr.GetName(), Location: "warehouses/W2/locations/A1"})
	if err != nil || done.GetState() != inventoryv1.TransferState_TRANSFER_STATE_RECEIVED || len(done.GetInMovements()) != 1 ||
		done.GetToLocation() != "warehouses/W2/locations/A1" || done.GetReceiveTime() == nil {
		t.Fatalf("received = %v, %v", done, err)
	}
	v, err = s.GetValuation(ctx, &inventoryv1.GetValuationRequest{Warehouse: "warehouses/W2", Item: "items/T-3"})
	if err != nil || len(v.GetLines()) != 1 || v.GetLines()[0].GetValue().GetMinorUnits() != 1_000_000 || v.GetLines()[0].GetQuantity() != "30000" {
		t.Fatalf("W2 valuation = %v, %v; want 30000 EA at exactly 10,000.00", v, err)
	}
	list, err := s.ListMovements(ctx, &inventoryv1.ListMovementsRequest{Item: "items/T-3"})
	if err != nil || len(list.GetMovements()) != 3 {
		t.Fatalf("movements = %v, %v", list, err)
	}
	out, in := list.GetMovements()[1], list.GetMovements()[2]
	if out.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_OUT || out.GetTransfer() != tr.GetName() || out.GetValue().GetMinorUnits() != -1_000_000 ||
		in.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_IN || in.GetValue().GetMinorUnits() != 1_000_000 || in.GetName() != done.GetInMovements()[0] {
		t.Fatalf("out = %v, in = %v", out, in)
	}

	// A wrong receipt, reversed at exactly its value.
	wrong, err := s.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: "r2", Item: "items/T-3", Location: "warehouses/W1/locations/A1",
		Quantity: ea("7"), UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "1.00", Uom: "PK3"}, Source: po})
	if err != nil {
		t.Fatal(err)
	}
	rreq := &inventoryv1.ReverseMovementRequest{RequestId: "rv1", Name: wrong.GetName()}
	rev, err := s.ReverseMovement(ctx, rreq)
	if err != nil || rev.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_REVERSAL || rev.GetReversedMovement() != wrong.GetName() ||
		rev.GetValue().GetMinorUnits() != -wrong.GetValue().GetMinorUnits() || rev.GetBaseQuantity() != "-7" {
		t.Fatalf("reversal = %v, %v", rev, err)
	}
	if again, err := s.ReverseMovement(ctx, rreq); err != nil || !proto.Equal(again, rev) {
		t.Fatalf("retry = %v, %v; want %v", again, err, rev)
	}
	if _, err := s.ReverseMovement(ctx, &inventoryv1.ReverseMovementRequest{RequestId: "rv2", Name: rev.GetName()}); kind(err) != apperr.KindFailedPrecondition {
		t.Fatalf("reversal of a reversal: %v", err)
	}
	if _, err := s.ReverseMovement(ctx, &inventoryv1.ReverseMovementRequest{RequestId: "rv3", Name: "bogus"}); !hasViolation(err, "name") {
		t.Fatalf("bad name: %v", err)
	}

	// A customer return of a shipment from W2, at that issue's cost.
	ship, err := s.IssueStock(ctx, &inventoryv1.IssueStockRequest{RequestId: "i1", Item: "items/T-3", Location: "warehouses/W2/locations/A1", Quantity: ea("3"),
		Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_SHIPMENT, Id: "SH-1"}})
	if err != nil || ship.GetValue().GetMinorUnits() != -100 {
		t.Fatalf("shipment = %v, %v", ship, err)
	}
	rma := &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_RETURN, Id: "RMA-1"}
	retReq := &inventoryv1.ReturnStockRequest{RequestId: "ret1", Issue: ship.GetName(), Location: "warehouses/W2/locations/A1", Quantity: ea("2"), Source: rma}
	ret, err := s.ReturnStock(ctx, retReq)
	if err != nil || ret.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_RETURN || ret.GetValue().GetMinorUnits() != 67 ||
		ret.GetReturnedMovement() != ship.GetName() || ret.GetBaseQuantity() != "2" {
		t.Fatalf("return = %v, %v", ret, err)
	}
	if again, err := s.ReturnStock(ctx, retReq); err != nil || !proto.Equal(again, ret) {
		t.Fatalf("retry = %v, %v; want %v", again, err, ret)
	}
	if _, err := s.ReturnStock(ctx, &inventoryv1.ReturnStockRequest{RequestId: "ret2", Issue: ship.GetName(), Location: "warehouses/W2/locations/A1",
		Quantity: ea("2"), Source: rma}); kind(err) != apperr.KindFailedPrecondition {
		t.Fatalf("return beyond the issue: %v", err)
	}
}
