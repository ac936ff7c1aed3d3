// Package events turns fulfillment domain events into the protobuf events of
// trueup.fulfillment.v1, ready for the outbox.
package events

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/resname"
	"trueup.dev/services/fulfillment/internal/fulfillment"
	"trueup.dev/services/fulfillment/internal/protoconv"
)

// Context is the bounded context whose stream carries these events.
const Context = "fulfillment"

// Encode maps one domain event to an outbox message with a fresh event id. The
// event's time is when the fact happened (the resource's create time), not when
// it was encoded.
func Encode(_ context.Context, event any) (outbox.Message, error) {
	id := protoevent.NewID()
	switch e := event.(type) {
	case fulfillment.CarrierCreated:
		return protoevent.Message(id, &fulfillmentv1.CarrierCreated{
			EventId:          id,
			OccurredAt:       timestamppb.New(e.Carrier.CreatedAt),
			AggregateId:      resname.Format(protoconv.CarrierPattern, e.Carrier.Code),
			AggregateVersion: 1,
			Carrier:          protoconv.CarrierToProto(&e.Carrier),
		}, e.Carrier.CreatedAt)
	case fulfillment.ReceiptLineRecorded:
		return protoevent.Message(id, &fulfillmentv1.ReceiptLineRecorded{
			EventId:          id,
			OccurredAt:       timestamppb.New(e.Line.RecordedAt),
			AggregateId:      resname.Format(protoconv.ExpectedReceiptPattern, e.Receipt.ID),
			AggregateVersion: e.Receipt.Version,
			PurchaseOrder:    orderName(e.Receipt.PurchaseOrder),
			Warehouse:        e.Receipt.Warehouse,
			Line:             protoconv.ReceivedLineToProto(&e.Receipt, e.Line),
			Partner:          e.Receipt.Partner,
		}, e.Line.RecordedAt)
	case fulfillment.ReceiptDiscrepancyFlagged:
		return protoevent.Message(id, &fulfillmentv1.ReceiptDiscrepancyFlagged{
			EventId:          id,
			OccurredAt:       timestamppb.New(e.Discrepancy.CreatedAt),
			AggregateId:      resname.Format(protoconv.ExpectedReceiptPattern, e.Receipt.ID),
			AggregateVersion: e.Receipt.Version,
			Discrepancy:      protoconv.DiscrepancyToProto(e.Discrepancy, e.Receipt.PurchaseOrder),
			Partner:          e.Receipt.Partner,
		}, e.Discrepancy.CreatedAt)
	case fulfillment.ReceiptDiscrepancyResolved:
		return protoevent.Message(id, &fulfillmentv1.ReceiptDiscrepancyResolved{
			EventId:          id,
			OccurredAt:       timestamppb.New(e.Discrepancy.ResolvedAt),
			AggregateId:      resname.Format(protoconv.ExpectedReceiptPattern, e.Receipt.ID),
			AggregateVersion: e.Receipt.Version,
			Discrepancy:      protoconv.DiscrepancyToProto(e.Discrepancy, e.Receipt.PurchaseOrder),
			Partner:          e.Receipt.Partner,
		}, e.Discrepancy.ResolvedAt)
	case fulfillment.ReceiptClosedEvent:
		ev := &fulfillmentv1.ReceiptClosed{
			EventId:              id,
			OccurredAt:           timestamppb.New(e.Receipt.ClosedAt),
			AggregateId:          resname.Format(protoconv.ExpectedReceiptPattern, e.Receipt.ID),
			AggregateVersion:     e.Receipt.Version,
			PurchaseOrder:        orderName(e.Receipt.PurchaseOrder),
			Warehouse:            e.Receipt.Warehouse,
			LineCount:            int32(e.Totals.Lines),
			OpenDiscrepancyCount: int32(e.Totals.OpenDiscrepancies),
			Partner:              e.Receipt.Partner,
		}
		for _, t := range e.Totals.Items {
			ev.Totals = append(ev.Totals, &fulfillmentv1.ReceiptItemTotal{Item: t.SKU, ExpectedBaseQuantity: t.Expected.String(),
				ReceivedBaseQuantity: t.Received.String(), DamagedBaseQuantity: t.Damaged.String()})
		}
		return protoevent.Message(id, ev, e.Receipt.ClosedAt)
	case fulfillment.ShortPickRecorded:
		l := e.Order.Line(e.Line)
		ev := &fulfillmentv1.ShortPickRecorded{EventId: id, OccurredAt: timestamppb.New(e.Order.UpdatedAt),
			AggregateId: resname.Format(protoconv.OutboundOrderPattern, e.Order.ID), AggregateVersion: e.Order.Version,
			SalesOrder: "salesOrders/" + e.Order.ID, SalesOrderLine: int32(e.Line), ShortBaseQuantity: e.Short.String(),
			Reason: e.Reason, Partner: e.Order.Partner}
		if l != nil {
			ev.Item, ev.Warehouse = "items/"+l.SKU, l.Warehouse
		}
		return protoevent.Message(id, ev, e.Order.UpdatedAt)
	case fulfillment.ShipmentConfirmedEvent:
		sh := e.Shipment
		ev := &fulfillmentv1.ShipmentConfirmed{EventId: id, OccurredAt: timestamppb.New(sh.ShippedAt),
			AggregateId: resname.Format(protoconv.ShipmentPattern, sh.ID), AggregateVersion: sh.Version,
			Shipment: resname.Format(protoconv.ShipmentPattern, sh.ID), OutboundOrder: resname.Format(protoconv.OutboundOrderPattern, e.Order.ID),
			SalesOrder: "salesOrders/" + e.Order.ID, Warehouse: sh.Warehouse, TrackingNumber: sh.Tracking,
			ShipTime: timestamppb.New(sh.ShippedAt), ServiceLevel: sh.ServiceLevel, CartonCount: int32(len(sh.Cartons)), Partner: sh.Partner}
		if sh.Carrier != "" {
			ev.Carrier = resname.Format(protoconv.CarrierPattern, sh.Carrier)
		}
		for _, l := range sh.Lines {
			ev.Lines = append(ev.Lines, &fulfillmentv1.ShippedLine{SalesOrderLine: int32(l.Line), Item: "items/" + l.SKU,
				Quantity: &typev1.Quantity{Value: l.Qty.String(), Uom: l.BaseUoM}, BaseQuantity: l.Qty.String(), Lot: l.Lot,
				Cost: &typev1.Money{CurrencyCode: l.CostCurrency, MinorUnits: l.CostMinor}})
		}
		return protoevent.Message(id, ev, sh.ShippedAt)
	}
	return outbox.Message{}, fmt.Errorf("fulfillment events: no encoding for %T", event)
}

func orderName(id string) string {
	if id == "" {
		return ""
	}
	return "purchaseOrders/" + id
}
