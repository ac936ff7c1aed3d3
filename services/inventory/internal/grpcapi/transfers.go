package grpcapi

import (
	"context"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/resname"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/protoconv"
)

func (n *names) transfer(field, name string) string {
	ids, err := resname.Parse(field, name, protoconv.TransferPattern)
	if err != nil {
		n.v.Add(field, "must be a transfer name, transfers/{id}")
		return ""
	}
	return ids[0]
}

func (n *names) movement(field, name string) string {
	ids, err := resname.Parse(field, name, protoconv.MovementPattern)
	if err != nil {
		n.v.Add(field, "must be a movement name, movements/{id}")
		return ""
	}
	return ids[0]
}

// TransferStock sends stock to another warehouse, into transit.
func (s *Server) TransferStock(ctx context.Context, req *inventoryv1.TransferStockRequest) (*inventoryv1.Transfer, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh, from := n.location("from_location", req.GetFromLocation())
	to := n.warehouse("to_warehouse", req.GetToWarehouse())
	at := n.effectiveTime(req.GetEffectiveTime())
	c := app.Transfer{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, FromLocation: from, ToWarehouse: to, Quantity: qty(req.GetQuantity()),
		Lot: req.GetLot(), Source: protoconv.SourceFromProto(req.GetSource()), EffectiveAt: at,
	}
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	tr, err := s.app.TransferStock(ctx, c)
	if err != nil {
		return nil, err
	}
	return protoconv.TransferToProto(tr), nil
}

// GetTransfer reads a transfer and its value in transit.
func (s *Server) GetTransfer(ctx context.Context, req *inventoryv1.GetTransferRequest) (*inventoryv1.Transfer, error) {
	var n names
	id := n.transfer("name", req.GetName())
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	tr, err := s.app.GetTransfer(ctx, id)
	if err != nil {
		return nil, err
	}
	return protoconv.TransferToProto(tr), nil
}

// ReceiveTransfer books a transfer into its destination.
func (s *Server) ReceiveTransfer(ctx context.Context, req *inventoryv1.ReceiveTransferRequest) (*inventoryv1.Transfer, error) {
	var n names
	id := n.transfer("name", req.GetName())
	wh, loc := n.location("location", req.GetLocation())
	at := n.effectiveTime(req.GetEffectiveTime())
	c := app.ReceiveTransfer{RequestID: req.GetRequestId(), TransferID: id, Warehouse: wh, Location: loc, EffectiveAt: at}
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	tr, err := s.app.ReceiveTransfer(ctx, c)
	if err != nil {
		return nil, err
	}
	return protoconv.TransferToProto(tr), nil
}

// ReverseMovement reverses a wrong receipt.
func (s *Server) ReverseMovement(ctx context.Context, req *inventoryv1.ReverseMovementRequest) (*inventoryv1.Movement, error) {
	var n names
	id := n.movement("name", req.GetName())
	at := n.effectiveTime(req.GetEffectiveTime())
	c := app.Reverse{
		RequestID: req.GetRequestId(), MovementID: id, Source: protoconv.SourceFromProto(req.GetSource()), EffectiveAt: at,
	}
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	m, err := s.app.ReverseMovement(ctx, c)
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}

// ReturnStock takes back stock a customer returned, at its issue's cost.
func (s *Server) ReturnStock(ctx context.Context, req *inventoryv1.ReturnStockRequest) (*inventoryv1.Movement, error) {
	var n names
	issue := n.movement("issue", req.GetIssue())
	wh, loc := n.location("location", req.GetLocation())
	at := n.effectiveTime(req.GetEffectiveTime())
	c := app.Return{
		RequestID: req.GetRequestId(), IssueID: issue, Warehouse: wh, Location: loc, Quantity: qty(req.GetQuantity()),
		Source: protoconv.SourceFromProto(req.GetSource()), EffectiveAt: at,
	}
	if err := n.err(c.Check); err != nil {
		return nil, err
	}
	m, err := s.app.ReturnStock(ctx, c)
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}
