package grpcapi_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
)

func hasViolation(err error, field string) bool {
	e, ok := err.(*apperr.Error)
	if !ok {
		return false
	}
	for _, v := range e.Violations {
		if v.Field == field {
			return true
		}
	}
	return false
}

// Pick, then ship, with reason codes and effective times, through the proto
// mapping (SQLite; the store tests cover both dialects).
func TestPickShipAndReasonCodeRPCs(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateWarehouse(ctx, &inventoryv1.CreateWarehouseRequest{Warehouse: &inventoryv1.Warehouse{Code: "W1", DisplayName: "Main"}}))
	for code, typ := range map[string]inventoryv1.LocationType{"A1": inventoryv1.LocationType_LOCATION_TYPE_STORAGE, "SHP": inventoryv1.LocationType_LOCATION_TYPE_SHIPPING_DOCK} {
		must(s.CreateLocation(ctx, &inventoryv1.CreateLocationRequest{Parent: "warehouses/W1", Location: &inventoryv1.Location{Code: code, Type: typ}}))
	}
	must(s.CreateItem(ctx, &inventoryv1.CreateItemRequest{Item: &inventoryv1.Item{Sku: "W-1", Description: "Widget", BaseUom: "EA"}}))
	po := &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: "PO-1"}
	so := &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_OUTBOUND_ORDER, Id: "SO-1", Line: "1"}
	ship := &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_SHIPMENT, Id: "SH-1"}
	ea := func(v string) *typev1.Quantity { return &typev1.Quantity{Value: v, Uom: "EA"} }

	// Effective time: in the past is kept, in the future refused.
	past := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	rcv, err := s.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: "r1", Item: "items/W-1", Location: "warehouses/W1/locations/A1",
		Quantity: ea("10"), UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "2.50"}, Source: po, EffectiveTime: timestamppb.New(past)})
	if err != nil || !rcv.GetEffectiveTime().AsTime().Equal(past) || rcv.GetCreateTime().AsTime().Equal(past) || rcv.GetUnitCost().GetAmount() != "2.50" {
		t.Fatalf("receipt = %v, %v", rcv, err)
	}
	_, err = s.MoveStock(ctx, &inventoryv1.MoveStockRequest{RequestId: "m1", Item: "items/W-1", FromLocation: "warehouses/W1/locations/A1",
		ToLocation: "warehouses/W1/locations/SHP", Quantity: ea("1"), EffectiveTime: timestamppb.New(time.Now().Add(24 * time.Hour))})
	if kind(err) != apperr.KindInvalidArgument || !hasViolation(err, "effective_time") {
		t.Fatalf("future move: %v", err)
	}

	// Reason codes: seeded, created, and required to be known and active.
	list, err := s.ListReasonCodes(ctx, &inventoryv1.ListReasonCodesRequest{PageSize: 3})
	if err != nil || len(list.GetReasonCodes()) != 3 || list.GetNextPageToken() == "" {
		t.Fatalf("reason codes = %v, %v", list, err)
	}
	rc, err := s.CreateReasonCode(ctx, &inventoryv1.CreateReasonCodeRequest{RequestId: "rc1", ReasonCode: &inventoryv1.ReasonCode{
		Code: "FREEBIE", Description: "Trade show give-away", Category: inventoryv1.ReasonCategory_REASON_CATEGORY_SAMPLE, Active: true}})
	if err != nil || rc.GetName() != "reasonCodes/FREEBIE" {
		t.Fatalf("create reason code = %v, %v", rc, err)
	}
	if got, err := s.GetReasonCode(ctx, &inventoryv1.GetReasonCodeRequest{Name: "reasonCodes/FREEBIE"}); err != nil || got.GetCategory() != inventoryv1.ReasonCategory_REASON_CATEGORY_SAMPLE {
		t.Fatalf("get reason code = %v, %v", got, err)
	}
	_, err = s.AdjustStock(ctx, &inventoryv1.AdjustStockRequest{RequestId: "a1", Item: "items/W-1", Location: "warehouses/W1/locations/A1", Quantity: ea("-1"), ReasonCode: "LOST_IT"})
	if kind(err) != apperr.KindInvalidArgument || !hasViolation(err, "reason_code") {
		t.Fatalf("unknown reason: %v", err)
	}
	sample, err := s.IssueStock(ctx, &inventoryv1.IssueStockRequest{RequestId: "i1", Item: "items/W-1", Location: "warehouses/W1/locations/A1", Quantity: ea("1"),
		ReasonCode: "FREEBIE", Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_ADJUSTMENT, Id: "ADJ-1"}})
	if err != nil || sample.GetReasonCategory() != inventoryv1.ReasonCategory_REASON_CATEGORY_SAMPLE || sample.GetValue().GetMinorUnits() != -250 {
		t.Fatalf("sample issue = %v, %v", sample, err)
	}
	cnt, err := s.CountStock(ctx, &inventoryv1.CountStockRequest{RequestId: "c1", Item: "items/W-1", Location: "warehouses/W1/locations/A1", CountedQuantity: ea("9"), ReasonCode: "FOUND"})
	if err != nil || cnt.GetReasonCode() != "FOUND" || cnt.GetReasonCategory() != inventoryv1.ReasonCategory_REASON_CATEGORY_FOUND {
		t.Fatalf("count = %v, %v", cnt, err)
	}

	// Allocation needs its order; pick to the dock; ship; list by order.
	_, err = s.AllocateStock(ctx, &inventoryv1.AllocateStockRequest{RequestId: "al0", Item: "items/W-1", Warehouse: "warehouses/W1", Quantity: ea("4")})
	if kind(err) != apperr.KindInvalidArgument || !hasViolation(err, "order.type") || !hasViolation(err, "order.id") {
		t.Fatalf("allocation without order: %v", err)
	}
	al, err := s.AllocateStock(ctx, &inventoryv1.AllocateStockRequest{RequestId: "al1", Item: "items/W-1", Warehouse: "warehouses/W1", Quantity: ea("4"), Order: so})
	if err != nil {
		t.Fatal(err)
	}
	pickReq := &inventoryv1.ConfirmPickRequest{RequestId: "p1", Allocation: al.GetName(), Location: "warehouses/W1/locations/A1", Quantity: ea("3"),
		ToLocation: "warehouses/W1/locations/SHP", Source: so, ReleaseRemaining: true}
	pick, err := s.ConfirmPick(ctx, pickReq)
	if err != nil || pick.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_MOVE || pick.GetToLocation() != "warehouses/W1/locations/SHP" || pick.GetAllocation() != al.GetName() {
		t.Fatalf("pick = %v, %v", pick, err)
	}
	if again, err := s.ConfirmPick(ctx, pickReq); err != nil || again.GetName() != pick.GetName() {
		t.Fatalf("pick retry = %v, %v", again, err)
	}
	got, err := s.GetAllocation(ctx, &inventoryv1.GetAllocationRequest{Name: al.GetName()})
	if err != nil || got.GetState() != inventoryv1.AllocationState_ALLOCATION_STATE_PICKED || got.GetAllocated() != "3" || len(got.GetStaged()) != 1 ||
		got.GetStaged()[0].GetPickedFrom() != "warehouses/W1/locations/A1" {
		t.Fatalf("allocation after short pick = %v, %v", got, err)
	}
	shipReq := &inventoryv1.ConfirmShipmentRequest{RequestId: "s1", Allocation: al.GetName(), Source: ship}
	shipped, err := s.ConfirmShipment(ctx, shipReq)
	if err != nil || len(shipped.GetMovements()) != 1 || shipped.GetMovements()[0].GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE ||
		shipped.GetMovements()[0].GetValue().GetMinorUnits() != -750 {
		t.Fatalf("shipment = %v, %v", shipped, err)
	}
	if again, err := s.ConfirmShipment(ctx, shipReq); err != nil || again.GetMovements()[0].GetName() != shipped.GetMovements()[0].GetName() {
		t.Fatalf("shipment retry = %v, %v", again, err)
	}
	if _, err := s.ConfirmShipment(ctx, &inventoryv1.ConfirmShipmentRequest{RequestId: "s2", Source: ship}); kind(err) != apperr.KindInvalidArgument || !hasViolation(err, "allocation") {
		t.Fatalf("shipment of nothing named: %v", err)
	}
	ls, err := s.ListAllocations(ctx, &inventoryv1.ListAllocationsRequest{Order: &inventoryv1.SourceDocument{Type: so.GetType(), Id: "SO-1"}})
	if err != nil || len(ls.GetAllocations()) != 1 || ls.GetAllocations()[0].GetState() != inventoryv1.AllocationState_ALLOCATION_STATE_SHIPPED {
		t.Fatalf("allocations of SO-1 = %v, %v", ls, err)
	}

	// Cancelled after pick: the staged stock goes back, at no typed cost.
	al2, err := s.AllocateStock(ctx, &inventoryv1.AllocateStockRequest{RequestId: "al2", Item: "items/W-1", Warehouse: "warehouses/W1", Quantity: ea("2"), Order: so})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmPick(ctx, &inventoryv1.ConfirmPickRequest{RequestId: "p2", Allocation: al2.GetName(), Location: "warehouses/W1/locations/A1", Quantity: ea("2"),
		ToLocation: "warehouses/W1/locations/SHP", Source: so}); err != nil {
		t.Fatal(err)
	}
	rel, err := s.ReleaseAllocation(ctx, &inventoryv1.ReleaseAllocationRequest{RequestId: "rel2", Name: al2.GetName(), ReturnLocation: "warehouses/W1/locations/A1"})
	if err != nil || rel.GetState() != inventoryv1.AllocationState_ALLOCATION_STATE_RELEASED || rel.GetStaged()[0].GetReturned() != "2" {
		t.Fatalf("release after pick = %v, %v", rel, err)
	}
	levels, err := s.ListStock(ctx, &inventoryv1.ListStockRequest{Warehouse: "warehouses/W1", Item: "items/W-1"})
	if err != nil || len(levels.GetLevels()) != 1 || levels.GetLevels()[0].GetOnHand() != "6" || levels.GetLevels()[0].GetAllocated() != "0" {
		t.Fatalf("levels after release = %v, %v", levels, err)
	}
}
