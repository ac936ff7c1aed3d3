package protoconv

import (
	"strconv"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/resname"
	"trueup.dev/services/orders/internal/orders"
)

// SupplierPaymentPattern is the resource name pattern of supplier payments.
const SupplierPaymentPattern = "supplierPayments/*"

// SupplierPaymentToProto maps a supplier payment to the API resource.
func SupplierPaymentToProto(p *orders.SupplierPayment) *ordersv1.SupplierPayment {
	out := &ordersv1.SupplierPayment{
		Name:            resname.Format(SupplierPaymentPattern, p.ID),
		Supplier:        resname.Format(SupplierPattern, p.Supplier),
		Amount:          minor(p.Currency, p.Amount),
		Method:          methodsToProto[p.Method],
		Reference:       p.Reference,
		UnappliedAmount: minor(p.Currency, p.Unapplied()),
		PayTime:         timestamppb.New(p.PaidAt),
		CreateTime:      timestamppb.New(p.CreatedAt),
		Partner:         p.Partner,
	}
	for _, a := range p.Applications {
		out.Applications = append(out.Applications, &ordersv1.SupplierPaymentApplication{
			SupplierBill: resname.Format(SupplierBillPattern, a.Invoice), Amount: minor(p.Currency, a.Amount)})
	}
	return out
}

// SupplierPaymentMadeToProto is the event the ledger posts a supplier
// payment from.
func SupplierPaymentMadeToProto(eventID string, p *orders.SupplierPayment) *ordersv1.SupplierPaymentMade {
	name := resname.Format(SupplierPaymentPattern, p.ID)
	ev := &ordersv1.SupplierPaymentMade{
		EventId:          eventID,
		OccurredAt:       timestamppb.New(p.CreatedAt),
		AggregateId:      name,
		AggregateVersion: 1,
		SupplierPayment:  name,
		Supplier:         resname.Format(SupplierPattern, p.Supplier),
		CurrencyCode:     p.Currency,
		Amount:           minor(p.Currency, p.Amount),
		Method:           methodsToProto[p.Method],
		EffectiveTime:    timestamppb.New(p.PaidAt),
	}
	for _, a := range p.Applications {
		ev.Applications = append(ev.Applications, &ordersv1.BillPaymentApplication{
			SupplierBill: resname.Format(SupplierBillPattern, a.Invoice), Amount: minor(p.Currency, a.Amount)})
	}
	return ev
}

// SupplierPaymentInputFromProto maps the client-settable fields of a
// supplier payment. With strict (a partner caller), output-only fields that
// are set are refused.
func SupplierPaymentInputFromProto(p *ordersv1.SupplierPayment, strict bool) (orders.SupplierPaymentInput, error) {
	var v apperr.Violations
	const f = "supplier_payment."
	if strict {
		refuseSet(&v, f, field{"name", p.GetName() != ""}, field{"unapplied_amount", p.GetUnappliedAmount() != nil},
			field{"create_time", p.GetCreateTime() != nil}, field{"partner", p.GetPartner() != ""})
	}
	in := orders.SupplierPaymentInput{Currency: p.GetAmount().GetCurrencyCode(), Amount: p.GetAmount().GetMinorUnits(),
		Reference: p.GetReference()}
	if p.GetAmount() == nil {
		v.Add(f+"amount", "is required: {\"currencyCode\": \"USD\", \"minorUnits\": \"1000\"}")
	}
	for m, pm := range methodsToProto {
		if pm == p.GetMethod() {
			in.Method = m
		}
	}
	if ids, err := resname.Parse(f+"supplier", p.GetSupplier(), SupplierPattern); err != nil {
		v.Add(f+"supplier", "is required: the supplier's name, \"suppliers/{code}\"")
	} else {
		in.Supplier = ids[0]
	}
	if t := p.GetPayTime(); t != nil {
		in.PaidAt = t.AsTime()
	}
	for i, a := range p.GetApplications() {
		af := f + "applications[" + strconv.Itoa(i) + "]."
		ids, err := resname.Parse(af+"supplier_bill", a.GetSupplierBill(), SupplierBillPattern)
		if err != nil {
			v.Add(af+"supplier_bill", "is required: the bill's name, \"supplierBills/{id}\"")
			continue
		}
		if c := a.GetAmount().GetCurrencyCode(); c != "" && orders.NormalizeCurrency(c) != orders.NormalizeCurrency(in.Currency) {
			v.Add(af+"amount.currency_code", "must be the payment's currency (or empty)")
		}
		in.Applications = append(in.Applications, orders.Application{Invoice: ids[0], Amount: a.GetAmount().GetMinorUnits()})
	}
	if err := v.Err(); err != nil {
		return orders.SupplierPaymentInput{}, err
	}
	return in, nil
}
