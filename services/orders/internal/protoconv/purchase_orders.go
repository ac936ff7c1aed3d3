package protoconv

import (
	"strconv"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/resname"
	"trueup.dev/services/orders/internal/orders"
)

// PurchaseOrderPattern is the resource name pattern of purchase orders.
const PurchaseOrderPattern = "purchaseOrders/*"

var statesToProto = map[orders.POState]ordersv1.PurchaseOrderState{
	orders.StateDraft:             ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_DRAFT,
	orders.StateReleased:          ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_RELEASED,
	orders.StatePartiallyReceived: ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_PARTIALLY_RECEIVED,
	orders.StateReceived:          ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_RECEIVED,
	orders.StateClosed:            ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_CLOSED,
	orders.StateCancelled:         ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_CANCELLED,
}

// POStateFromProto maps a state filter; UNSPECIFIED is 0 (all).
func POStateFromProto(s ordersv1.PurchaseOrderState) (orders.POState, bool) {
	if s == ordersv1.PurchaseOrderState_PURCHASE_ORDER_STATE_UNSPECIFIED {
		return 0, true
	}
	for d, p := range statesToProto {
		if p == s {
			return d, true
		}
	}
	return 0, false
}

// ResolutionFromProto maps a discrepancy resolution; 0 for UNSPECIFIED or unknown.
func ResolutionFromProto(r ordersv1.DiscrepancyResolution) orders.Resolution {
	switch r {
	case ordersv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_ACCEPT:
		return orders.ResolveAccept
	case ordersv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_AMEND:
		return orders.ResolveAmend
	case ordersv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_RETURN:
		return orders.ResolveReturn
	}
	return 0
}

// ResolutionToProto maps a discrepancy resolution to the API's enum.
func ResolutionToProto(r orders.Resolution) ordersv1.DiscrepancyResolution {
	switch r {
	case orders.ResolveAccept:
		return ordersv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_ACCEPT
	case orders.ResolveAmend:
		return ordersv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_AMEND
	case orders.ResolveReturn:
		return ordersv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_RETURN
	}
	return ordersv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_UNSPECIFIED
}

// PurchaseOrderToProto maps an order to the API resource (and the event payload).
func PurchaseOrderToProto(po *orders.PurchaseOrder) *ordersv1.PurchaseOrder {
	out := &ordersv1.PurchaseOrder{
		Name:                        resname.Format(PurchaseOrderPattern, po.ID),
		Supplier:                    resname.Format(SupplierPattern, po.Supplier),
		CurrencyCode:                po.Currency,
		State:                       statesToProto[po.State],
		Partner:                     po.Partner,
		OverReceiptTolerancePercent: po.TolerancePercent,
		Total:                       &typev1.Money{CurrencyCode: po.Currency, MinorUnits: po.Total()},
		CreateTime:                  timestamppb.New(po.CreatedAt),
		UpdateTime:                  timestamppb.New(po.UpdatedAt),
		Version:                     po.Version,
	}
	if !po.ReleasedAt.IsZero() {
		out.ReleaseTime = timestamppb.New(po.ReleasedAt)
	}
	out.ReceiveTime, out.BillTime, out.PayTime = optTime(po.ReceivedAt), optTime(po.BilledAt), optTime(po.PaidAt)
	for i := range po.Lines {
		l := &po.Lines[i]
		var resolved []*ordersv1.ResolvedDiscrepancy
		for _, r := range l.Resolutions {
			resolved = append(resolved, &ordersv1.ResolvedDiscrepancy{Number: int32(r.Number), Resolution: ResolutionToProto(r.How),
				Quantity: r.Qty.String(), Movement: r.Movement, ResolveTime: timestamppb.New(r.At)})
		}
		out.Lines = append(out.Lines, &ordersv1.PurchaseOrderLine{
			LineNumber:                  int32(l.Number),
			Item:                        l.SKU,
			Quantity:                    &typev1.Quantity{Value: l.Quantity, Uom: l.UoM},
			BaseQuantity:                l.BaseQty.String(),
			BaseUom:                     l.BaseUoM,
			UnitPrice:                   l.UnitPrice,
			Amount:                      &typev1.Money{CurrencyCode: po.Currency, MinorUnits: l.Amount},
			Warehouse:                   l.Warehouse,
			ExpectedDate:                l.ExpectedDate,
			OverReceiptTolerancePercent: l.TolerancePercent,
			ReceivedQuantity:            l.Received.String(),
			CancelledQuantity:           l.Cancelled.String(),
			OpenDiscrepancyQuantity:     po.OpenDiscrepancy(l).String(),
			AcceptedOverReceiptQuantity: po.AcceptedOverReceipt(l).String(),
			ReceivedValue:               minor(po.Currency, l.ReceivedValue),
			BilledQuantity:              l.BilledQty.String(),
			BilledValue:                 minor(po.Currency, l.BilledValue),
			OpenGrniValue:               minor(po.Currency, l.OpenGRNI()),
			ReturnedQuantity:            l.Returned.String(),
			ReturningQuantity:           l.Returning().String(),
			ResolvedDiscrepancies:       resolved,
		})
	}
	return out
}

// POInputFromProto maps the client-settable fields of an order. With strict
// (a partner caller), every output-only field that is set is refused with a
// field violation; otherwise output-only fields are ignored (AIP-203).
func POInputFromProto(p *ordersv1.PurchaseOrder, strict bool) (orders.POInput, error) {
	var v apperr.Violations
	const f = "purchase_order."
	if strict {
		outputOnly := map[string]bool{
			"name": p.GetName() != "", "state": p.GetState() != 0, "partner": p.GetPartner() != "",
			"total": p.GetTotal() != nil, "create_time": p.GetCreateTime() != nil, "update_time": p.GetUpdateTime() != nil,
			"release_time": p.GetReleaseTime() != nil, "version": p.GetVersion() != 0,
			"receive_time": p.GetReceiveTime() != nil, "bill_time": p.GetBillTime() != nil, "pay_time": p.GetPayTime() != nil,
		}
		for _, name := range []string{"name", "state", "partner", "total", "create_time", "update_time", "release_time", "version",
			"receive_time", "bill_time", "pay_time"} {
			if outputOnly[name] {
				v.Add(f+name, "is output only and may not be set")
			}
		}
	}
	in := orders.POInput{Currency: p.GetCurrencyCode(), TolerancePercent: p.GetOverReceiptTolerancePercent()}
	if p.GetSupplier() != "" {
		ids, err := resname.Parse(f+"supplier", p.GetSupplier(), SupplierPattern)
		if err != nil {
			v.Add(f+"supplier", "must be a supplier's name, \"suppliers/{code}\"")
		} else {
			in.Supplier = ids[0]
		}
	} else {
		v.Add(f+"supplier", "is required: \"suppliers/{code}\"")
	}
	for i, l := range p.GetLines() {
		lf := f + "lines[" + strconv.Itoa(i) + "]."
		if strict {
			set := map[string]bool{
				"line_number": l.GetLineNumber() != 0, "base_quantity": l.GetBaseQuantity() != "", "base_uom": l.GetBaseUom() != "",
				"amount": l.GetAmount() != nil, "received_quantity": l.GetReceivedQuantity() != "",
				"cancelled_quantity": l.GetCancelledQuantity() != "", "open_discrepancy_quantity": l.GetOpenDiscrepancyQuantity() != "",
				"accepted_over_receipt_quantity": l.GetAcceptedOverReceiptQuantity() != "",
				"received_value":                 l.GetReceivedValue() != nil, "billed_quantity": l.GetBilledQuantity() != "",
				"billed_value": l.GetBilledValue() != nil, "open_grni_value": l.GetOpenGrniValue() != nil,
				"returned_quantity": l.GetReturnedQuantity() != "", "returning_quantity": l.GetReturningQuantity() != "",
				"resolved_discrepancies": len(l.GetResolvedDiscrepancies()) > 0,
			}
			for _, name := range []string{"line_number", "base_quantity", "base_uom", "amount", "received_quantity",
				"cancelled_quantity", "open_discrepancy_quantity", "accepted_over_receipt_quantity",
				"received_value", "billed_quantity", "billed_value", "open_grni_value",
				"returned_quantity", "returning_quantity", "resolved_discrepancies"} {
				if set[name] {
					v.Add(lf+name, "is output only and may not be set")
				}
			}
		}
		in.Lines = append(in.Lines, orders.POLineInput{
			Item: l.GetItem(), Quantity: l.GetQuantity().GetValue(), UoM: l.GetQuantity().GetUom(),
			UnitPrice: l.GetUnitPrice(), Warehouse: l.GetWarehouse(), ExpectedDate: l.GetExpectedDate(),
			TolerancePercent: l.GetOverReceiptTolerancePercent(),
		})
	}
	if err := v.Err(); err != nil {
		return orders.POInput{}, err
	}
	return in, nil
}
