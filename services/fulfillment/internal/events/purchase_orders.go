package events

import (
	"context"
	"fmt"
	"strings"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/protoevent"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// OrdersContext is the bounded context whose purchase orders fulfillment
// expects goods for.
const OrdersContext = "orders"

// PurchaseOrderReleasedSubject is the subject the purchase orders consumer reads.
var PurchaseOrderReleasedSubject = protoevent.Subject(&ordersv1.PurchaseOrderReleased{})

// PurchaseOrdersHandler opens the expected receipts of orders'
// PurchaseOrderReleased events, a batch per transaction, each event once. An
// event that cannot be decoded, or whose order has no id or a line without
// a warehouse, is natsx.Permanent: no redelivery fixes it.
func PurchaseOrdersHandler(a *app.Service) natsx.BatchHandler {
	return func(ctx context.Context, msgs []*natsx.Message) []error {
		errs := make([]error, len(msgs))
		var releases []app.Release
		var at []int
		for i, msg := range msgs {
			r, err := releaseOf(msg)
			if err != nil {
				errs[i] = natsx.Permanent(err)
				continue
			}
			releases = append(releases, r)
			at = append(at, i)
		}
		if len(releases) == 0 {
			return errs
		}
		for j, err := range a.ApplyReleases(ctx, releases) {
			errs[at[j]] = err
		}
		return errs
	}
}

func releaseOf(msg *natsx.Message) (app.Release, error) {
	var ev ordersv1.PurchaseOrderReleased
	if err := protoevent.Decode(msg, &ev); err != nil {
		return app.Release{}, err
	}
	id := msg.EventID
	if id == "" {
		id = ev.GetEventId()
	}
	po := ev.GetPurchaseOrder()
	order := fulfillment.ReleasedOrder{
		ID:       strings.TrimPrefix(po.GetName(), "purchaseOrders/"),
		Supplier: strings.TrimPrefix(po.GetSupplier(), "suppliers/"),
		Partner:  po.GetPartner(),
		Currency: po.GetCurrencyCode(), TolerancePct: po.GetOverReceiptTolerancePercent(),
	}
	if order.ID == "" {
		order.ID = strings.TrimPrefix(ev.GetAggregateId(), "purchaseOrders/")
	}
	for _, l := range po.GetLines() {
		order.Lines = append(order.Lines, fulfillment.ReleasedLine{Warehouse: l.GetWarehouse(), ExpectedLine: fulfillment.ExpectedLine{
			POLine: int(l.GetLineNumber()), SKU: l.GetItem(), Quantity: l.GetQuantity().GetValue(), UoM: l.GetQuantity().GetUom(),
			BaseQty: l.GetBaseQuantity(), BaseUoM: l.GetBaseUom(), ExpectedDate: l.GetExpectedDate(),
			UnitPrice: l.GetUnitPrice(), TolerancePct: l.GetOverReceiptTolerancePercent()}})
	}
	if _, err := fulfillment.ExpectedReceipts(order, ev.GetOccurredAt().AsTime()); err != nil {
		return app.Release{}, fmt.Errorf("event %s: %w", id, err)
	}
	return app.Release{EventID: id, Order: order}, nil
}
