package grpcapi

import (
	"context"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/protoconv"
)

// ReceiveStock records a receipt.
func (s *Server) ReceiveStock(ctx context.Context, req *inventoryv1.ReceiveStockRequest) (*inventoryv1.Movement, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh, loc := n.location("location", req.GetLocation())
	at := n.effectiveTime(req.GetEffectiveTime())
	c := app.Receive{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, Location: loc, Quantity: qty(req.GetQuantity()),
		Lot: req.GetLot(), ExpiryDate: req.GetExpiryDate(), Source: protoconv.SourceFromProto(req.GetSource()),
		Cost: unitCost(req.GetUnitCost()), EffectiveAt: at,
	}
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	m, err := s.app.ReceiveStock(ctx, c)
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}

// MoveStock moves stock between two locations.
func (s *Server) MoveStock(ctx context.Context, req *inventoryv1.MoveStockRequest) (*inventoryv1.Movement, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh, from := n.location("from_location", req.GetFromLocation())
	wh2, to := n.location("to_location", req.GetToLocation())
	if wh != "" && wh2 != "" && inventory.NormalizeCode(wh) != inventory.NormalizeCode(wh2) {
		n.v.Add("to_location", "must be in the same warehouse as from_location")
	}
	at := n.effectiveTime(req.GetEffectiveTime())
	c := app.Move{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, From: from, To: to, Quantity: qty(req.GetQuantity()),
		Lot: req.GetLot(), Source: protoconv.SourceFromProto(req.GetSource()), EffectiveAt: at,
	}
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	m, err := s.app.MoveStock(ctx, c)
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}

// IssueStock issues stock.
func (s *Server) IssueStock(ctx context.Context, req *inventoryv1.IssueStockRequest) (*inventoryv1.Movement, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh, loc := n.location("location", req.GetLocation())
	at := n.effectiveTime(req.GetEffectiveTime())
	c := app.Issue{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, Location: loc, Quantity: qty(req.GetQuantity()),
		Lot: req.GetLot(), Reason: req.GetReasonCode(), Source: protoconv.SourceFromProto(req.GetSource()), EffectiveAt: at,
	}
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	m, err := s.app.IssueStock(ctx, c)
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}

// AdjustStock corrects stock.
func (s *Server) AdjustStock(ctx context.Context, req *inventoryv1.AdjustStockRequest) (*inventoryv1.Movement, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh, loc := n.location("location", req.GetLocation())
	at := n.effectiveTime(req.GetEffectiveTime())
	c := app.Adjust{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, Location: loc, Quantity: qty(req.GetQuantity()),
		Lot: req.GetLot(), ExpiryDate: req.GetExpiryDate(), Reason: req.GetReasonCode(), Source: protoconv.SourceFromProto(req.GetSource()),
		Cost: unitCost(req.GetUnitCost()), EffectiveAt: at,
	}
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	m, err := s.app.AdjustStock(ctx, c)
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}

// CountStock records a count, or with validate_only answers what it would book.
func (s *Server) CountStock(ctx context.Context, req *inventoryv1.CountStockRequest) (*inventoryv1.Movement, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh, loc := n.location("location", req.GetLocation())
	at := n.effectiveTime(req.GetEffectiveTime())
	c := app.Count{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, Location: loc, Counted: qty(req.GetCountedQuantity()),
		Lot: req.GetLot(), ExpiryDate: req.GetExpiryDate(), Reason: req.GetReasonCode(), Source: protoconv.SourceFromProto(req.GetSource()),
		Cost: unitCost(req.GetUnitCost()), EffectiveAt: at,
	}
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	count := s.app.CountStock
	if req.GetValidateOnly() {
		count = s.app.PreviewCount
	}
	m, err := count(ctx, c)
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}
