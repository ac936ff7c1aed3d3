package grpcapi

import (
	"context"
	"fmt"
	"strings"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/resname"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
	"trueup.dev/services/fulfillment/internal/protoconv"
)

// GetOutboundOrder returns an outbound order.
func (s *Server) GetOutboundOrder(ctx context.Context, req *fulfillmentv1.GetOutboundOrderRequest) (*fulfillmentv1.OutboundOrder, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.OutboundOrderPattern)
	if err != nil {
		return nil, err
	}
	o, err := s.app.GetOutboundOrder(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.OutboundOrderToProto(o), nil
}

// ListOutboundOrders pages through outbound orders.
func (s *Server) ListOutboundOrders(ctx context.Context, req *fulfillmentv1.ListOutboundOrdersRequest) (*fulfillmentv1.ListOutboundOrdersResponse, error) {
	st, ok := protoconv.OutboundStateFromProto(req.GetState())
	if !ok {
		return nil, apperr.Invalid(apperr.Field("state", "is not an outbound order state"))
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), fmt.Sprintf("outboundOrders|%d", st))
	if err != nil {
		return nil, err
	}
	os, err := s.app.ListOutboundOrders(ctx, app.OutboundFilter{State: st}, page.After, page.Limit)
	if err != nil {
		return nil, err
	}
	resp := &fulfillmentv1.ListOutboundOrdersResponse{}
	for _, o := range os {
		resp.OutboundOrders = append(resp.OutboundOrders, protoconv.OutboundOrderToProto(o))
	}
	if n := len(os); n > 0 {
		resp.NextPageToken = page.Next(n, os[n-1].ID)
	}
	return resp, nil
}

// ConfirmPick confirms a pick task.
func (s *Server) ConfirmPick(ctx context.Context, req *fulfillmentv1.ConfirmPickRequest) (*fulfillmentv1.ConfirmPickResponse, error) {
	id, err := taskID("name", req.GetName())
	if err != nil {
		return nil, err
	}
	if req.GetQuantity().GetValue() == "" {
		return nil, apperr.Invalid(apperr.Field("quantity.value", "is required: what was picked (\"0\" when none was found)"))
	}
	k, out, err := s.app.ConfirmPick(ctx, req.GetRequestId(), id, fulfillment.Pick{Quantity: req.GetQuantity().GetValue(),
		UoM: req.GetQuantity().GetUom(), From: req.GetLocation(), Lot: req.GetLot(), To: req.GetToLocation()})
	if err != nil {
		return nil, err
	}
	now := s.now()
	resp := &fulfillmentv1.ConfirmPickResponse{Task: protoconv.TaskToProto(k, now), ShortBaseQuantity: out.Short.String()}
	if out.Retry != nil {
		resp.Retry = protoconv.TaskToProto(out.Retry, now)
	}
	return resp, nil
}

// PackShipment packs staged stock into a shipment.
func (s *Server) PackShipment(ctx context.Context, req *fulfillmentv1.PackShipmentRequest) (*fulfillmentv1.Shipment, error) {
	ids, err := resname.Parse("outbound_order", req.GetOutboundOrder(), protoconv.OutboundOrderPattern)
	if err != nil {
		return nil, err
	}
	var v apperr.Violations
	if strings.TrimSpace(req.GetWarehouse()) == "" {
		v.Add("warehouse", "is required: the warehouse the shipment leaves from")
	}
	var lines []fulfillment.PackLine
	for i, l := range req.GetLines() {
		pl := fulfillment.PackLine{Line: int(l.GetSalesOrderLine())}
		if q := strings.TrimSpace(l.GetBaseQuantity()); q != "" {
			if pl.Qty, err = qty.Parse(q); err != nil || pl.Qty <= 0 {
				v.Add(fmt.Sprintf("lines[%d].base_quantity", i), "must be a positive decimal of at most 6 places")
			}
		}
		lines = append(lines, pl)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var cartons []fulfillment.Carton
	for _, c := range req.GetCartons() {
		cartons = append(cartons, fulfillment.Carton{Weight: strings.TrimSpace(c.GetWeightKg()), Length: strings.TrimSpace(c.GetLengthCm()),
			Width: strings.TrimSpace(c.GetWidthCm()), Height: strings.TrimSpace(c.GetHeightCm())})
	}
	sh, err := s.app.PackShipment(ctx, req.GetRequestId(), ids[0], req.GetWarehouse(), lines, cartons)
	if err != nil {
		return nil, err
	}
	return protoconv.ShipmentToProto(sh), nil
}

// ShipShipment hands a packed shipment to its carrier.
func (s *Server) ShipShipment(ctx context.Context, req *fulfillmentv1.ShipShipmentRequest) (*fulfillmentv1.Shipment, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.ShipmentPattern)
	if err != nil {
		return nil, err
	}
	sh, err := s.app.ShipShipment(ctx, req.GetRequestId(), ids[0], req.GetCarrier(), req.GetServiceLevel(), req.GetTrackingNumber())
	if err != nil {
		return nil, err
	}
	return protoconv.ShipmentToProto(sh), nil
}

// GetShipment returns a shipment.
func (s *Server) GetShipment(ctx context.Context, req *fulfillmentv1.GetShipmentRequest) (*fulfillmentv1.Shipment, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.ShipmentPattern)
	if err != nil {
		return nil, err
	}
	sh, err := s.app.GetShipment(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.ShipmentToProto(sh), nil
}

// ListShipments pages through shipments.
func (s *Server) ListShipments(ctx context.Context, req *fulfillmentv1.ListShipmentsRequest) (*fulfillmentv1.ListShipmentsResponse, error) {
	order := ""
	if n := req.GetOutboundOrder(); n != "" {
		ids, err := resname.Parse("outbound_order", n, protoconv.OutboundOrderPattern)
		if err != nil {
			return nil, err
		}
		order = ids[0]
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "shipments|"+order)
	if err != nil {
		return nil, err
	}
	ss, err := s.app.ListShipments(ctx, order, page.After, page.Limit)
	if err != nil {
		return nil, err
	}
	resp := &fulfillmentv1.ListShipmentsResponse{}
	for _, sh := range ss {
		resp.Shipments = append(resp.Shipments, protoconv.ShipmentToProto(sh))
	}
	if n := len(ss); n > 0 {
		resp.NextPageToken = page.Next(n, ss[n-1].ID)
	}
	return resp, nil
}

// RetryBackorder reserves an outbound order's short lines again.
func (s *Server) RetryBackorder(ctx context.Context, req *fulfillmentv1.RetryBackorderRequest) (*fulfillmentv1.OutboundOrder, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.OutboundOrderPattern)
	if err != nil {
		return nil, err
	}
	o, err := s.app.RetryBackorder(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.OutboundOrderToProto(o), nil
}
