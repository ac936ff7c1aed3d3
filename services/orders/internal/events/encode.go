// Package events is the orders service's side of the bus: it turns orders
// domain events into the protobuf events of trueup.orders.v1, ready for the
// outbox, and handles the inventory events the catalog read model follows
// and the receipts that purchase orders count.
package events

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/resname"
	"trueup.dev/services/orders/internal/orders"
	"trueup.dev/services/orders/internal/protoconv"
)

// Context is the bounded context whose stream carries these events.
const Context = "orders"

// Encode maps one domain event to an outbox message with a fresh event id. The
// event's time is when the fact happened (the resource's create time), not when
// it was encoded.
func Encode(_ context.Context, event any) (outbox.Message, error) {
	id := protoevent.NewID()
	switch e := event.(type) {
	case orders.SupplierCreated:
		return protoevent.Message(id, &ordersv1.SupplierCreated{
			EventId:          id,
			OccurredAt:       timestamppb.New(e.Supplier.CreatedAt),
			AggregateId:      resname.Format(protoconv.SupplierPattern, e.Supplier.Code),
			AggregateVersion: 1,
			Supplier:         protoconv.SupplierToProto(&e.Supplier),
		}, e.Supplier.CreatedAt)
	case orders.CustomerCreated:
		return protoevent.Message(id, &ordersv1.CustomerCreated{
			EventId:          id,
			OccurredAt:       timestamppb.New(e.Customer.CreatedAt),
			AggregateId:      resname.Format(protoconv.CustomerPattern, e.Customer.Code),
			AggregateVersion: 1,
			Customer:         protoconv.CustomerToProto(&e.Customer),
		}, e.Customer.CreatedAt)
	case orders.PurchaseOrderReleased:
		po := &e.Order
		return protoevent.Message(id, &ordersv1.PurchaseOrderReleased{
			EventId:          id,
			OccurredAt:       timestamppb.New(po.ReleasedAt),
			AggregateId:      resname.Format(protoconv.PurchaseOrderPattern, po.ID),
			AggregateVersion: po.Version,
			PurchaseOrder:    protoconv.PurchaseOrderToProto(po),
		}, po.ReleasedAt)
	case orders.SalesOrderConfirmed:
		so := &e.Order
		return protoevent.Message(id, &ordersv1.SalesOrderConfirmed{
			EventId:          id,
			OccurredAt:       timestamppb.New(so.ConfirmedAt),
			AggregateId:      resname.Format(protoconv.SalesOrderPattern, so.ID),
			AggregateVersion: so.Version,
			SalesOrder:       protoconv.SalesOrderToProto(so),
		}, so.ConfirmedAt)
	case orders.SalesOrderCancelled:
		so := &e.Order
		ev := &ordersv1.SalesOrderCancelled{
			EventId:          id,
			OccurredAt:       timestamppb.New(so.CancelledAt),
			AggregateId:      resname.Format(protoconv.SalesOrderPattern, so.ID),
			AggregateVersion: so.Version,
			SalesOrder:       protoconv.SalesOrderToProto(so),
			Reason:           e.Reason,
		}
		for _, n := range e.Lines {
			ev.CancelledLines = append(ev.CancelledLines, int32(n))
		}
		return protoevent.Message(id, ev, so.CancelledAt)
	case orders.InvoiceIssued:
		return protoevent.Message(id, protoconv.InvoiceIssuedToProto(id, &e.Invoice), e.Invoice.UpdatedAt)
	case orders.PaymentReceived:
		return protoevent.Message(id, protoconv.PaymentReceivedToProto(id, &e.Payment), e.Payment.CreatedAt)
	case orders.SupplierPaymentMade:
		return protoevent.Message(id, protoconv.SupplierPaymentMadeToProto(id, &e.Payment), e.Payment.CreatedAt)
	case orders.SupplierBillApproved:
		b := &e.Bill
		return protoevent.Message(id, protoconv.SupplierBillApprovedToProto(id, b), b.ApprovedAt)
	}
	return outbox.Message{}, fmt.Errorf("orders events: no encoding for %T", event)
}
