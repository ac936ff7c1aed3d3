package events

import (
	"context"
	"fmt"
	"strings"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/qty"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// The subjects the sales orders consumer reads.
var (
	SalesOrderConfirmedSubject = protoevent.Subject(&ordersv1.SalesOrderConfirmed{})
	SalesOrderCancelledSubject = protoevent.Subject(&ordersv1.SalesOrderCancelled{})
)

// SalesOrdersHandler opens outbound orders from orders' SalesOrderConfirmed
// and takes cancelled lines off them from SalesOrderCancelled, each event
// once; then it does the inventory work they owe (work, normally
// app.Service.Work), outside the inbox transaction. An event that cannot be
// decoded, or whose order has no id or a line without warehouse, item or a
// positive base quantity, is natsx.Permanent.
func SalesOrdersHandler(a *app.Service, work func(context.Context)) natsx.BatchHandler {
	return func(ctx context.Context, msgs []*natsx.Message) []error {
		errs := make([]error, len(msgs))
		var confirmed []app.Confirmation
		var cancelled []app.Cancellation
		var atConf, atCanc []int
		for i, msg := range msgs {
			c, k, err := salesOrderEventOf(msg)
			switch {
			case err != nil:
				errs[i] = natsx.Permanent(err)
			case c != nil:
				confirmed, atConf = append(confirmed, *c), append(atConf, i)
			case k != nil:
				cancelled, atCanc = append(cancelled, *k), append(atCanc, i)
			}
		}
		// Confirmations first: a batch may hold an order's confirmation and
		// its cancellation.
		if len(confirmed) > 0 {
			for j, err := range a.ApplyConfirmations(ctx, confirmed) {
				errs[atConf[j]] = err
			}
		}
		if len(cancelled) > 0 {
			for j, err := range a.ApplyCancellations(ctx, cancelled) {
				errs[atCanc[j]] = err
			}
		}
		if work != nil {
			work(ctx)
		}
		return errs
	}
}

func salesOrderEventOf(msg *natsx.Message) (*app.Confirmation, *app.Cancellation, error) {
	typ := msg.Type
	if typ == "" {
		switch msg.Subject {
		case SalesOrderConfirmedSubject:
			typ = string((&ordersv1.SalesOrderConfirmed{}).ProtoReflect().Descriptor().FullName())
		case SalesOrderCancelledSubject:
			typ = string((&ordersv1.SalesOrderCancelled{}).ProtoReflect().Descriptor().FullName())
		}
	}
	switch typ {
	case string((&ordersv1.SalesOrderConfirmed{}).ProtoReflect().Descriptor().FullName()):
		var ev ordersv1.SalesOrderConfirmed
		if err := protoevent.Decode(msg, &ev); err != nil {
			return nil, nil, err
		}
		so := ev.GetSalesOrder()
		c := &app.Confirmation{EventID: or(msg.EventID, ev.GetEventId()), Order: orderID(so.GetName(), ev.GetAggregateId()),
			Customer: strings.TrimPrefix(so.GetCustomer(), "customers/"), Partner: so.GetPartner()}
		for _, l := range so.GetLines() {
			c.Lines = append(c.Lines, fulfillment.ConfirmedLine{Line: int(l.GetLineNumber()), SKU: strings.TrimPrefix(l.GetItem(), "items/"),
				Warehouse: l.GetWarehouse(), BaseQty: l.GetBaseQuantity(), BaseUoM: l.GetBaseUom()})
		}
		if _, err := fulfillment.NewOutboundOrder(c.Order, c.Customer, c.Partner, c.Lines, ev.GetOccurredAt().AsTime()); err != nil {
			return nil, nil, fmt.Errorf("event %s: %w", c.EventID, err)
		}
		return c, nil, nil
	case string((&ordersv1.SalesOrderCancelled{}).ProtoReflect().Descriptor().FullName()):
		var ev ordersv1.SalesOrderCancelled
		if err := protoevent.Decode(msg, &ev); err != nil {
			return nil, nil, err
		}
		so := ev.GetSalesOrder()
		k := &app.Cancellation{EventID: or(msg.EventID, ev.GetEventId()), Order: orderID(so.GetName(), ev.GetAggregateId()),
			Cancelled: map[int]qty.Qty{}}
		for _, n := range ev.GetCancelledLines() {
			k.Lines = append(k.Lines, int(n))
		}
		for _, l := range so.GetLines() {
			if l.GetCancelledQuantity() == "" {
				continue
			}
			q, err := qty.Parse(l.GetCancelledQuantity())
			if err != nil {
				return nil, nil, fmt.Errorf("event %s: line %d cancelled quantity %q: %w", k.EventID, l.GetLineNumber(), l.GetCancelledQuantity(), err)
			}
			k.Cancelled[int(l.GetLineNumber())] = q
		}
		if k.Order == "" {
			return nil, nil, fmt.Errorf("event %s: the cancelled sales order has no id", k.EventID)
		}
		return nil, k, nil
	}
	return nil, nil, fmt.Errorf("event %s: type %q on %s is not a sales order event fulfillment follows", msg.EventID, msg.Type, msg.Subject)
}

func orderID(name, aggregate string) string {
	if id := strings.TrimPrefix(name, "salesOrders/"); id != "" {
		return id
	}
	return strings.TrimPrefix(aggregate, "salesOrders/")
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
