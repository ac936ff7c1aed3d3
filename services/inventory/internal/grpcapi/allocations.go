package grpcapi

import (
	"context"
	"fmt"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/paging"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/protoconv"
)

// AllocateStock reserves stock.
func (s *Server) AllocateStock(ctx context.Context, req *inventoryv1.AllocateStockRequest) (*inventoryv1.Allocation, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh := n.warehouse("warehouse", req.GetWarehouse())
	c := app.Allocate{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, Quantity: qty(req.GetQuantity()),
		Order: protoconv.SourceFromProto(req.GetOrder()), AllowPartial: req.GetAllowPartial(),
	}
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	a, err := s.app.AllocateStock(ctx, c)
	if err != nil {
		return nil, err
	}
	return protoconv.AllocationToProto(a), nil
}

// GetAllocation returns an allocation.
func (s *Server) GetAllocation(ctx context.Context, req *inventoryv1.GetAllocationRequest) (*inventoryv1.Allocation, error) {
	var n names
	id := n.allocation("name", req.GetName())
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	a, err := s.app.GetAllocation(ctx, id)
	if err != nil {
		return nil, err
	}
	return protoconv.AllocationToProto(a), nil
}

// ReleaseAllocation gives back reserved stock, and puts picked stock back.
func (s *Server) ReleaseAllocation(ctx context.Context, req *inventoryv1.ReleaseAllocationRequest) (*inventoryv1.Allocation, error) {
	var n names
	id := n.allocation("name", req.GetName())
	var back string
	if req.GetReturnLocation() != "" {
		_, back = n.location("return_location", req.GetReturnLocation())
	}
	at := n.effectiveTime(req.GetEffectiveTime())
	c := app.Release{RequestID: req.GetRequestId(), AllocationID: id, ReturnLocation: back, EffectiveAt: at}
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	a, err := s.app.ReleaseAllocation(ctx, c)
	if err != nil {
		return nil, err
	}
	return protoconv.AllocationToProto(a), nil
}

// ConfirmPick moves allocated stock to staging.
func (s *Server) ConfirmPick(ctx context.Context, req *inventoryv1.ConfirmPickRequest) (*inventoryv1.Movement, error) {
	var n names
	id := n.allocation("allocation", req.GetAllocation())
	wh, loc := n.location("location", req.GetLocation())
	var to string
	if req.GetToLocation() != "" {
		var toWh string
		toWh, to = n.location("to_location", req.GetToLocation())
		if wh != "" && toWh != "" && inventory.NormalizeCode(wh) != inventory.NormalizeCode(toWh) {
			n.v.Add("to_location", "must be in the same warehouse as location")
		}
	}
	at := n.effectiveTime(req.GetEffectiveTime())
	c := app.ConfirmPick{
		RequestID: req.GetRequestId(), AllocationID: id, Warehouse: wh, Location: loc, Lot: req.GetLot(),
		Quantity: qty(req.GetQuantity()), Source: protoconv.SourceFromProto(req.GetSource()),
		ToLocation: to, ReleaseRemaining: req.GetReleaseRemaining(), EffectiveAt: at,
	}
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	m, err := s.app.ConfirmPick(ctx, c)
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}

// ConfirmShipment issues picked stock.
func (s *Server) ConfirmShipment(ctx context.Context, req *inventoryv1.ConfirmShipmentRequest) (*inventoryv1.ConfirmShipmentResponse, error) {
	var n names
	var id string
	if req.GetAllocation() != "" {
		id = n.allocation("allocation", req.GetAllocation())
	}
	c := app.Ship{RequestID: req.GetRequestId(), AllocationID: id, Source: protoconv.SourceFromProto(req.GetSource())}
	if req.GetOrder() != nil {
		c.Order = protoconv.SourceFromProto(req.GetOrder())
	}
	for i, l := range req.GetLines() {
		_, loc := n.location(fmt.Sprintf("lines[%d].location", i), l.GetLocation())
		c.Lines = append(c.Lines, app.ShipLine{Location: loc, Lot: l.GetLot(), Quantity: qty(l.GetQuantity())})
	}
	c.EffectiveAt = n.effectiveTime(req.GetEffectiveTime())
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	ms, err := s.app.ConfirmShipment(ctx, c)
	if err != nil {
		return nil, err
	}
	resp := &inventoryv1.ConfirmShipmentResponse{}
	for _, m := range ms {
		resp.Movements = append(resp.Movements, protoconv.MovementToProto(m))
	}
	return resp, nil
}

// ListAllocations pages through an order's allocations.
func (s *Server) ListAllocations(ctx context.Context, req *inventoryv1.ListAllocationsRequest) (*inventoryv1.ListAllocationsResponse, error) {
	f := app.AllocationFilter{Order: protoconv.SourceFromProto(req.GetOrder())}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), fmt.Sprint(f.Order.Type, "|", f.Order.ID, "|", f.Order.Line))
	if err != nil {
		return nil, err
	}
	as, err := s.app.ListAllocations(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &inventoryv1.ListAllocationsResponse{}
	for _, a := range as {
		resp.Allocations = append(resp.Allocations, protoconv.AllocationToProto(a))
	}
	if k := len(as); k > 0 {
		resp.NextPageToken = page.Next(k, as[k-1].ID)
	}
	return resp, nil
}
