package events

import (
	"context"
	"errors"
	"fmt"
	"strings"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/protoevent"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
	"trueup.dev/services/orders/internal/protoconv"
)

// FulfillmentContext is the bounded context whose stream carries shipments.
const FulfillmentContext = "fulfillment"

// ShipmentConfirmedSubject is the subject the shipments consumer reads.
var ShipmentConfirmedSubject = protoevent.Subject(&fulfillmentv1.ShipmentConfirmed{})

// ShipmentsHandler applies fulfillment's ShipmentConfirmed events to the
// sales orders they name and invoices each shipment once, a batch per
// transaction. A shipment naming no sales order (a transfer) is
// acknowledged and otherwise ignored.
//
// An undecodable event, a line that is not a positive base quantity, or a
// shipment naming a sales order (or line) this service does not have is
// natsx.Permanent: it goes to the dead letters with its reason, where an
// operator sees it, instead of an invoice silently missing.
func ShipmentsHandler(a *app.Service) natsx.BatchHandler {
	return func(ctx context.Context, msgs []*natsx.Message) []error {
		errs := make([]error, len(msgs))
		var shipments []app.Shipment
		var at []int
		for i, msg := range msgs {
			sh, ok, err := shipmentOf(msg)
			if err != nil {
				errs[i] = err
				continue
			}
			if ok {
				shipments = append(shipments, sh)
				at = append(at, i)
			}
		}
		if len(shipments) == 0 {
			return errs
		}
		for j, err := range a.ApplyShipments(ctx, shipments) {
			if errors.Is(err, app.ErrUnknownSalesOrder) {
				err = natsx.Permanent(err)
			}
			errs[at[j]] = err
		}
		return errs
	}
}

func shipmentOf(msg *natsx.Message) (app.Shipment, bool, error) {
	var ev fulfillmentv1.ShipmentConfirmed
	if msg.Type != "" && msg.Type != typeName(&ev) {
		return app.Shipment{}, false, natsx.Permanent(fmt.Errorf("event %s: type %q on %s is not ShipmentConfirmed", msg.EventID, msg.Type, msg.Subject))
	}
	if err := protoevent.Decode(msg, &ev); err != nil {
		return app.Shipment{}, false, err
	}
	id := msg.EventID
	if id == "" {
		id = ev.GetEventId()
	}
	if strings.TrimSpace(ev.GetSalesOrder()) == "" {
		return app.Shipment{}, false, nil
	}
	order := strings.TrimPrefix(strings.TrimSpace(ev.GetSalesOrder()), strings.TrimSuffix(protoconv.SalesOrderPattern, "*"))
	shipment := strings.TrimPrefix(strings.TrimSpace(ev.GetShipment()), strings.TrimSuffix(protoconv.ShipmentPattern, "*"))
	if shipment == "" {
		return app.Shipment{}, false, natsx.Permanent(fmt.Errorf("event %s: the shipment has no name", id))
	}
	sh := app.Shipment{EventID: id, ID: shipment, SalesOrder: order, ShippedAt: ev.GetShipTime().AsTime(), Trace: msg.SpanContext()}
	if ev.GetShipTime() == nil {
		sh.ShippedAt = ev.GetOccurredAt().AsTime()
	}
	byLine := map[int]int{} // line -> index in sh.Lines: one shipment may carry a line in several parts
	for _, l := range ev.GetLines() {
		qty, err := orders.ParseQty(l.GetBaseQuantity())
		if err != nil || qty <= 0 {
			return app.Shipment{}, false, natsx.Permanent(fmt.Errorf("event %s: line %d base quantity %q is not a positive quantity", id, l.GetSalesOrderLine(), l.GetBaseQuantity()))
		}
		n := int(l.GetSalesOrderLine())
		if n < 1 {
			return app.Shipment{}, false, natsx.Permanent(fmt.Errorf("event %s: sales order line %d is not a line number", id, n))
		}
		if i, ok := byLine[n]; ok {
			sh.Lines[i].Qty += qty
			continue
		}
		byLine[n] = len(sh.Lines)
		sh.Lines = append(sh.Lines, orders.ShippedQty{Line: n, Qty: qty})
	}
	if len(sh.Lines) == 0 {
		return app.Shipment{}, false, natsx.Permanent(fmt.Errorf("event %s: shipment %s carries no lines", id, shipment))
	}
	return sh, true, nil
}
