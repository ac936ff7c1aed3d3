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

// SupplierBillPattern is the resource name pattern of supplier bills.
const SupplierBillPattern = "supplierBills/*"

var billStatesToProto = map[orders.BillState]ordersv1.SupplierBillState{
	orders.BillRecorded: ordersv1.SupplierBillState_SUPPLIER_BILL_STATE_RECORDED,
	orders.BillApproved: ordersv1.SupplierBillState_SUPPLIER_BILL_STATE_APPROVED,
	orders.BillOnHold:   ordersv1.SupplierBillState_SUPPLIER_BILL_STATE_ON_HOLD,
	orders.BillRejected: ordersv1.SupplierBillState_SUPPLIER_BILL_STATE_REJECTED,
}

var matchesToProto = map[orders.Match]ordersv1.BillMatch{
	orders.MatchMatched:          ordersv1.BillMatch_BILL_MATCH_MATCHED,
	orders.MatchPartial:          ordersv1.BillMatch_BILL_MATCH_PARTIAL,
	orders.MatchPriceVariance:    ordersv1.BillMatch_BILL_MATCH_PRICE_VARIANCE,
	orders.MatchQuantityVariance: ordersv1.BillMatch_BILL_MATCH_QUANTITY_VARIANCE,
}

// BillStateFromProto maps a state filter; UNSPECIFIED is 0 (all).
func BillStateFromProto(s ordersv1.SupplierBillState) (orders.BillState, bool) {
	if s == ordersv1.SupplierBillState_SUPPLIER_BILL_STATE_UNSPECIFIED {
		return 0, true
	}
	for d, p := range billStatesToProto {
		if p == s {
			return d, true
		}
	}
	return 0, false
}

func minor(cur string, v int64) *typev1.Money { return &typev1.Money{CurrencyCode: cur, MinorUnits: v} }

// SupplierBillToProto maps a bill to the API resource.
func SupplierBillToProto(b *orders.Bill) *ordersv1.SupplierBill {
	out := &ordersv1.SupplierBill{
		Name:                     resname.Format(SupplierBillPattern, b.ID),
		BillNumber:               b.Number,
		PurchaseOrder:            resname.Format(PurchaseOrderPattern, b.PurchaseOrder),
		Supplier:                 resname.Format(SupplierPattern, b.Supplier),
		CurrencyCode:             b.Currency,
		BillDate:                 b.BillDate,
		Tax:                      minor(b.Currency, b.Tax),
		PriceTolerancePercent:    b.PriceTolerancePercent,
		QuantityTolerancePercent: b.QuantityTolerancePercent,
		State:                    billStatesToProto[b.State],
		Match:                    matchesToProto[b.Match],
		NetTotal:                 minor(b.Currency, b.NetTotal()),
		Total:                    minor(b.Currency, b.Total()),
		GrniCleared:              minor(b.Currency, b.GRNICleared()),
		PriceVariance:            minor(b.Currency, b.PPV()),
		Partner:                  b.Partner,
		Reason:                   b.Reason,
		CreateTime:               timestamppb.New(b.CreatedAt),
		UpdateTime:               timestamppb.New(b.UpdatedAt),
		Version:                  b.Version,
		PaidAmount:               minor(b.Currency, b.Paid),
		OpenAmount:               minor(b.Currency, b.Open()),
		PaidTime:                 optTime(b.PaidAt),
		DueDate:                  b.DueDate,
	}
	if !b.ApprovedAt.IsZero() {
		out.ApproveTime = timestamppb.New(b.ApprovedAt)
	}
	for i := range b.Lines {
		l := &b.Lines[i]
		out.Lines = append(out.Lines, &ordersv1.BillLine{
			PurchaseOrderLine: int32(l.POLine),
			Quantity:          &typev1.Quantity{Value: l.Quantity, Uom: l.UoM},
			UnitPrice:         l.UnitPrice,
			Item:              l.SKU,
			Warehouse:         l.Warehouse,
			BaseQuantity:      l.BaseQty.String(),
			BilledAmount:      minor(b.Currency, l.Amount),
			OrderedAmount:     minor(b.Currency, l.OrderedAmount),
			GrniCleared:       minor(b.Currency, l.GRNI),
			PriceVariance:     minor(b.Currency, l.PPV()),
			Match:             matchesToProto[l.Match],
		})
	}
	return out
}

// SupplierBillApprovedToProto is the event the ledger posts: Dr GRNI by each
// line's received value, Dr/Cr PPV by billed - received, Dr tax, Cr AP by the
// total (the lines' billed amounts plus tax, exactly).
func SupplierBillApprovedToProto(eventID string, b *orders.Bill) *ordersv1.SupplierBillApproved {
	name := resname.Format(SupplierBillPattern, b.ID)
	ev := &ordersv1.SupplierBillApproved{
		EventId:          eventID,
		OccurredAt:       timestamppb.New(b.ApprovedAt),
		AggregateId:      name,
		AggregateVersion: b.Version,
		SupplierBill:     name,
		Supplier:         resname.Format(SupplierPattern, b.Supplier),
		PurchaseOrder:    resname.Format(PurchaseOrderPattern, b.PurchaseOrder),
		CurrencyCode:     b.Currency,
		Tax:              minor(b.Currency, b.Tax),
		Total:            minor(b.Currency, b.Total()),
		EffectiveTime:    timestamppb.New(b.ApprovedAt),
	}
	for i := range b.Lines {
		l := &b.Lines[i]
		ev.Lines = append(ev.Lines, &ordersv1.SupplierBillLine{
			Item:          "items/" + l.SKU,
			Warehouse:     "warehouses/" + l.Warehouse,
			Quantity:      &typev1.Quantity{Value: l.Quantity, Uom: l.UoM},
			ReceivedValue: minor(b.Currency, l.GRNI),
			BilledAmount:  minor(b.Currency, l.Amount),
		})
	}
	return ev
}

// BillInputFromProto maps the client-settable fields of a bill and returns
// the purchase order's id. With strict (a partner caller), every output-only
// field that is set is refused with a field violation.
func BillInputFromProto(p *ordersv1.SupplierBill, strict bool) (string, orders.BillInput, error) {
	var v apperr.Violations
	const f = "supplier_bill."
	if strict {
		set := map[string]bool{
			"name": p.GetName() != "", "supplier": p.GetSupplier() != "", "currency_code": p.GetCurrencyCode() != "",
			"state": p.GetState() != 0, "match": p.GetMatch() != 0, "net_total": p.GetNetTotal() != nil,
			"total": p.GetTotal() != nil, "grni_cleared": p.GetGrniCleared() != nil, "price_variance": p.GetPriceVariance() != nil,
			"partner": p.GetPartner() != "", "reason": p.GetReason() != "", "create_time": p.GetCreateTime() != nil,
			"update_time": p.GetUpdateTime() != nil, "approve_time": p.GetApproveTime() != nil, "version": p.GetVersion() != 0,
			"paid_amount": p.GetPaidAmount() != nil, "open_amount": p.GetOpenAmount() != nil, "paid_time": p.GetPaidTime() != nil,
			"due_date": p.GetDueDate() != "",
		}
		for _, n := range []string{"name", "supplier", "currency_code", "state", "match", "net_total", "total", "grni_cleared",
			"price_variance", "partner", "reason", "create_time", "update_time", "approve_time", "version",
			"paid_amount", "open_amount", "paid_time", "due_date"} {
			if set[n] {
				v.Add(f+n, "is output only and may not be set")
			}
		}
	}
	var order string
	if ids, err := resname.Parse(f+"purchase_order", p.GetPurchaseOrder(), PurchaseOrderPattern); err != nil {
		v.Add(f+"purchase_order", "is required: the order's name, \"purchaseOrders/{id}\"")
	} else {
		order = ids[0]
	}
	in := orders.BillInput{Number: p.GetBillNumber(), BillDate: p.GetBillDate(),
		PriceTolerancePercent: p.GetPriceTolerancePercent(), QuantityTolerancePercent: p.GetQuantityTolerancePercent(),
		TaxMinor: p.GetTax().GetMinorUnits(), TaxCurrency: p.GetTax().GetCurrencyCode()}
	for i, l := range p.GetLines() {
		lf := f + "lines[" + strconv.Itoa(i) + "]."
		if strict {
			set := map[string]bool{
				"item": l.GetItem() != "", "warehouse": l.GetWarehouse() != "", "base_quantity": l.GetBaseQuantity() != "",
				"billed_amount": l.GetBilledAmount() != nil, "ordered_amount": l.GetOrderedAmount() != nil,
				"grni_cleared": l.GetGrniCleared() != nil, "price_variance": l.GetPriceVariance() != nil, "match": l.GetMatch() != 0,
			}
			for _, n := range []string{"item", "warehouse", "base_quantity", "billed_amount", "ordered_amount", "grni_cleared", "price_variance", "match"} {
				if set[n] {
					v.Add(lf+n, "is output only and may not be set")
				}
			}
		}
		in.Lines = append(in.Lines, orders.BillLineInput{POLine: int(l.GetPurchaseOrderLine()),
			Quantity: l.GetQuantity().GetValue(), UoM: l.GetQuantity().GetUom(), Price: l.GetUnitPrice()})
	}
	if err := v.Err(); err != nil {
		return "", orders.BillInput{}, err
	}
	return order, in, nil
}
