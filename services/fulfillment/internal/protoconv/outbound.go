package protoconv

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/resname"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// Resource name patterns of outbound orders and shipments.
const (
	OutboundOrderPattern = "outboundOrders/*"
	ShipmentPattern      = "shipments/*"
)

var outboundStates = map[fulfillment.OutboundState]fulfillmentv1.OutboundOrderState{
	fulfillment.OutboundAllocating:       fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_ALLOCATING,
	fulfillment.OutboundReleased:         fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_RELEASED,
	fulfillment.OutboundPicked:           fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_PICKED,
	fulfillment.OutboundPartiallyShipped: fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_PARTIALLY_SHIPPED,
	fulfillment.OutboundShipped:          fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_SHIPPED,
	fulfillment.OutboundCancelled:        fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_CANCELLED,
}

// OutboundStateFromProto maps a state filter; ok=false for an unknown one.
func OutboundStateFromProto(s fulfillmentv1.OutboundOrderState) (fulfillment.OutboundState, bool) {
	if s == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_UNSPECIFIED {
		return 0, true
	}
	for d, p := range outboundStates {
		if p == s {
			return d, true
		}
	}
	return 0, false
}

// OutboundOrderToProto maps an outbound order.
func OutboundOrderToProto(o *fulfillment.OutboundOrder) *fulfillmentv1.OutboundOrder {
	out := &fulfillmentv1.OutboundOrder{Name: resname.Format(OutboundOrderPattern, o.ID), SalesOrder: "salesOrders/" + o.ID,
		State: outboundStates[o.State], Partner: o.Partner, CreateTime: timestamppb.New(o.CreatedAt),
		UpdateTime: optionalTime(o.UpdatedAt), Version: o.Version}
	if o.Customer != "" {
		out.Customer = "customers/" + o.Customer
	}
	for _, l := range o.Lines {
		pl := &fulfillmentv1.OutboundLine{SalesOrderLine: int32(l.Line), Item: l.SKU, Warehouse: l.Warehouse, BaseUom: l.BaseUoM,
			OrderedQuantity: l.Ordered.String(), AllocatedQuantity: l.Allocated.String(), PickedQuantity: l.Picked.String(),
			PackedQuantity: l.Packed.String(), ShippedQuantity: l.Shipped.String(), ShortQuantity: l.Short.String(),
			CancelledQuantity: l.Cancelled.String()}
		if l.Allocation != "" {
			pl.Allocation = "allocations/" + l.Allocation
		}
		out.Lines = append(out.Lines, pl)
	}
	for _, s := range o.Staged {
		wh := ""
		if l := o.Line(s.Line); l != nil {
			wh = l.Warehouse
		}
		out.Staged = append(out.Staged, &fulfillmentv1.StagedLine{SalesOrderLine: int32(s.Line), Lot: s.Lot,
			Location: LocationName(wh, s.Location), Quantity: s.Qty.String(), PackedQuantity: s.Packed.String()})
	}
	return out
}

// ShipmentToProto maps a shipment.
func ShipmentToProto(s *fulfillment.Shipment) *fulfillmentv1.Shipment {
	out := &fulfillmentv1.Shipment{Name: resname.Format(ShipmentPattern, s.ID), OutboundOrder: resname.Format(OutboundOrderPattern, s.OutboundOrder),
		Warehouse: s.Warehouse, ServiceLevel: s.ServiceLevel, TrackingNumber: s.Tracking, CreateTime: timestamppb.New(s.CreatedAt),
		ShipTime: optionalTime(s.ShippedAt), Partner: s.Partner, Version: s.Version}
	switch s.State {
	case fulfillment.ShipmentPacked:
		out.State = fulfillmentv1.ShipmentState_SHIPMENT_STATE_PACKED
	case fulfillment.ShipmentShipped:
		out.State = fulfillmentv1.ShipmentState_SHIPMENT_STATE_SHIPPED
	}
	if s.Carrier != "" {
		out.Carrier = resname.Format(CarrierPattern, s.Carrier)
	}
	for _, l := range s.Lines {
		it := &fulfillmentv1.ShipmentItem{SalesOrderLine: int32(l.Line), Item: l.SKU, Lot: l.Lot, Location: LocationName(s.Warehouse, l.Location),
			BaseQuantity: l.Qty.String(), BaseUom: l.BaseUoM}
		if l.Movement != "" {
			it.Movement = "movements/" + l.Movement
			it.Cost = &typev1.Money{CurrencyCode: l.CostCurrency, MinorUnits: l.CostMinor}
		}
		out.Lines = append(out.Lines, it)
	}
	for _, c := range s.Cartons {
		out.Cartons = append(out.Cartons, &fulfillmentv1.Carton{Number: int32(c.Number), WeightKg: c.Weight, LengthCm: c.Length, WidthCm: c.Width, HeightCm: c.Height})
	}
	return out
}
