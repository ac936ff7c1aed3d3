package protoconv

import (
	"sort"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/resname"
	"trueup.dev/services/orders/internal/orders"
)

// Resource name patterns of the order-to-cash resources.
const (
	SalesOrderPattern = "salesOrders/*"
	InvoicePattern    = "invoices/*"
	PaymentPattern    = "payments/*"
	ShipmentPattern   = "shipments/*"
)

var soStatesToProto = map[orders.SOState]ordersv1.SalesOrderState{
	orders.SODraft:            ordersv1.SalesOrderState_SALES_ORDER_STATE_DRAFT,
	orders.SOConfirmed:        ordersv1.SalesOrderState_SALES_ORDER_STATE_CONFIRMED,
	orders.SOPartiallyShipped: ordersv1.SalesOrderState_SALES_ORDER_STATE_PARTIALLY_SHIPPED,
	orders.SOShipped:          ordersv1.SalesOrderState_SALES_ORDER_STATE_SHIPPED,
	orders.SOClosed:           ordersv1.SalesOrderState_SALES_ORDER_STATE_CLOSED,
	orders.SOCancelled:        ordersv1.SalesOrderState_SALES_ORDER_STATE_CANCELLED,
}

// SOStateFromProto maps a state filter; UNSPECIFIED is 0 (all).
func SOStateFromProto(s ordersv1.SalesOrderState) (orders.SOState, bool) {
	if s == ordersv1.SalesOrderState_SALES_ORDER_STATE_UNSPECIFIED {
		return 0, true
	}
	for d, p := range soStatesToProto {
		if p == s {
			return d, true
		}
	}
	return 0, false
}

// optTime is t as a timestamp, nil for the zero time (an output-only time
// that has not happened).
func optTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// SalesOrderToProto maps an order to the API resource (and event payload).
func SalesOrderToProto(so *orders.SalesOrder) *ordersv1.SalesOrder {
	out := &ordersv1.SalesOrder{
		Name:              resname.Format(SalesOrderPattern, so.ID),
		Customer:          resname.Format(CustomerPattern, so.Customer),
		CurrencyCode:      so.Currency,
		State:             soStatesToProto[so.State],
		Partner:           so.Partner,
		CustomerReference: so.CustomerRef,
		NetTotal:          minor(so.Currency, so.NetTotal()),
		TaxTotal:          minor(so.Currency, so.TaxTotal()),
		Total:             minor(so.Currency, so.Total()),
		CreateTime:        timestamppb.New(so.CreatedAt),
		UpdateTime:        timestamppb.New(so.UpdatedAt),
		ConfirmTime:       optTime(so.ConfirmedAt),
		CancelTime:        optTime(so.CancelledAt),
		Version:           so.Version,
		AllocateTime:      optTime(so.AllocatedAt),
		PickTime:          optTime(so.PickedAt),
		ShipTime:          optTime(so.ShippedAt),
		InvoiceTime:       optTime(so.InvoicedAt),
		PayTime:           optTime(so.PaidAt),
	}
	for i := range so.Lines {
		l := &so.Lines[i]
		out.Lines = append(out.Lines, &ordersv1.SalesOrderLine{
			LineNumber:        int32(l.Number),
			Item:              l.SKU,
			Quantity:          &typev1.Quantity{Value: l.Quantity, Uom: l.UoM},
			BaseQuantity:      l.BaseQty.String(),
			BaseUom:           l.BaseUoM,
			UnitPrice:         l.UnitPrice,
			TaxRatePercent:    l.TaxRate,
			NetAmount:         minor(so.Currency, l.Net),
			TaxAmount:         minor(so.Currency, l.Tax),
			Warehouse:         l.Warehouse,
			ShippedQuantity:   l.Shipped.String(),
			CancelledQuantity: l.Cancelled.String(),
			BackorderQuantity: l.Backorder().String(),
			InvoicedQuantity:  l.Invoiced.String(),
		})
	}
	return out
}

// field is one output-only field and whether a request set it.
type field struct {
	name string
	set  bool
}

// refuseSet adds a violation for every output-only field that is set.
func refuseSet(v *apperr.Violations, prefix string, fields ...field) {
	for _, f := range fields {
		if f.set {
			v.Add(prefix+f.name, "is output only and may not be set")
		}
	}
}

// SOInputFromProto maps the client-settable fields of a sales order. With
// strict (a partner caller), every output-only field that is set is refused
// with a field violation; otherwise they are ignored (AIP-203).
func SOInputFromProto(p *ordersv1.SalesOrder, strict bool) (orders.SOInput, error) {
	var v apperr.Violations
	const f = "sales_order."
	if strict {
		refuseSet(&v, f, field{"name", p.GetName() != ""}, field{"state", p.GetState() != 0},
			field{"partner", p.GetPartner() != ""}, field{"net_total", p.GetNetTotal() != nil},
			field{"tax_total", p.GetTaxTotal() != nil}, field{"total", p.GetTotal() != nil},
			field{"create_time", p.GetCreateTime() != nil}, field{"update_time", p.GetUpdateTime() != nil},
			field{"confirm_time", p.GetConfirmTime() != nil}, field{"cancel_time", p.GetCancelTime() != nil},
			field{"version", p.GetVersion() != 0}, field{"allocate_time", p.GetAllocateTime() != nil},
			field{"pick_time", p.GetPickTime() != nil}, field{"ship_time", p.GetShipTime() != nil},
			field{"invoice_time", p.GetInvoiceTime() != nil}, field{"pay_time", p.GetPayTime() != nil})
	}
	in := orders.SOInput{Currency: p.GetCurrencyCode(), CustomerRef: p.GetCustomerReference()}
	if p.GetCustomer() != "" {
		ids, err := resname.Parse(f+"customer", p.GetCustomer(), CustomerPattern)
		if err != nil {
			v.Add(f+"customer", "must be a customer's name, \"customers/{code}\"")
		} else {
			in.Customer = ids[0]
		}
	} else {
		v.Add(f+"customer", "is required: \"customers/{code}\"")
	}
	for i, l := range p.GetLines() {
		if strict {
			refuseSet(&v, f+"lines["+strconv.Itoa(i)+"].", field{"line_number", l.GetLineNumber() != 0},
				field{"base_quantity", l.GetBaseQuantity() != ""}, field{"base_uom", l.GetBaseUom() != ""},
				field{"net_amount", l.GetNetAmount() != nil}, field{"tax_amount", l.GetTaxAmount() != nil},
				field{"shipped_quantity", l.GetShippedQuantity() != ""}, field{"cancelled_quantity", l.GetCancelledQuantity() != ""},
				field{"backorder_quantity", l.GetBackorderQuantity() != ""}, field{"invoiced_quantity", l.GetInvoicedQuantity() != ""})
		}
		in.Lines = append(in.Lines, orders.SOLineInput{
			Item: l.GetItem(), Quantity: l.GetQuantity().GetValue(), UoM: l.GetQuantity().GetUom(),
			UnitPrice: l.GetUnitPrice(), TaxRate: l.GetTaxRatePercent(), Warehouse: l.GetWarehouse(),
		})
	}
	if err := v.Err(); err != nil {
		return orders.SOInput{}, err
	}
	return in, nil
}

var invoiceStatesToProto = map[orders.InvoiceState]ordersv1.InvoiceState{
	orders.InvoiceOpen:          ordersv1.InvoiceState_INVOICE_STATE_OPEN,
	orders.InvoicePartiallyPaid: ordersv1.InvoiceState_INVOICE_STATE_PARTIALLY_PAID,
	orders.InvoicePaid:          ordersv1.InvoiceState_INVOICE_STATE_PAID,
}

// InvoiceStateFromProto maps a state filter; UNSPECIFIED is 0 (all).
func InvoiceStateFromProto(s ordersv1.InvoiceState) (orders.InvoiceState, bool) {
	if s == ordersv1.InvoiceState_INVOICE_STATE_UNSPECIFIED {
		return 0, true
	}
	for d, p := range invoiceStatesToProto {
		if p == s {
			return d, true
		}
	}
	return 0, false
}

func invoiceLines(inv *orders.Invoice) []*ordersv1.InvoiceLine {
	var out []*ordersv1.InvoiceLine
	for i := range inv.Lines {
		l := &inv.Lines[i]
		out = append(out, &ordersv1.InvoiceLine{
			Item:           "items/" + l.SKU,
			Warehouse:      "warehouses/" + l.Warehouse,
			Quantity:       &typev1.Quantity{Value: l.Quantity, Uom: l.UoM},
			NetAmount:      minor(inv.Currency, l.Net),
			TaxAmount:      minor(inv.Currency, l.Tax),
			SalesOrderLine: int32(l.SOLine),
			UnitPrice:      l.UnitPrice,
			TaxRatePercent: l.TaxRate,
			BaseQuantity:   l.BaseQty.String(),
		})
	}
	return out
}

// InvoiceToProto maps an invoice to the API resource.
func InvoiceToProto(inv *orders.Invoice) *ordersv1.Invoice {
	return &ordersv1.Invoice{
		Name:         resname.Format(InvoicePattern, inv.ID),
		SalesOrder:   resname.Format(SalesOrderPattern, inv.SalesOrder),
		Customer:     resname.Format(CustomerPattern, inv.Customer),
		Shipment:     resname.Format(ShipmentPattern, inv.Shipment),
		CurrencyCode: inv.Currency,
		State:        invoiceStatesToProto[inv.State],
		Lines:        invoiceLines(inv),
		NetTotal:     minor(inv.Currency, inv.NetTotal()),
		TaxTotal:     minor(inv.Currency, inv.TaxTotal()),
		Total:        minor(inv.Currency, inv.Total()),
		PaidAmount:   minor(inv.Currency, inv.Paid),
		OpenAmount:   minor(inv.Currency, inv.Open()),
		IssueTime:    timestamppb.New(inv.IssuedAt),
		DueTime:      timestamppb.New(inv.DueAt),
		PaidTime:     optTime(inv.PaidAt),
		Partner:      inv.Partner,
		Version:      inv.Version,
	}
}

// InvoiceIssuedToProto is the event the ledger posts an invoice from.
func InvoiceIssuedToProto(eventID string, inv *orders.Invoice) *ordersv1.InvoiceIssued {
	name := resname.Format(InvoicePattern, inv.ID)
	return &ordersv1.InvoiceIssued{
		EventId:          eventID,
		OccurredAt:       timestamppb.New(inv.UpdatedAt),
		AggregateId:      name,
		AggregateVersion: inv.Version,
		Invoice:          name,
		Customer:         resname.Format(CustomerPattern, inv.Customer),
		SalesOrder:       resname.Format(SalesOrderPattern, inv.SalesOrder),
		CurrencyCode:     inv.Currency,
		Lines:            invoiceLines(inv),
		NetTotal:         minor(inv.Currency, inv.NetTotal()),
		TaxTotal:         minor(inv.Currency, inv.TaxTotal()),
		Total:            minor(inv.Currency, inv.Total()),
		EffectiveTime:    timestamppb.New(inv.IssuedAt),
		Shipment:         resname.Format(ShipmentPattern, inv.Shipment),
		DueTime:          timestamppb.New(inv.DueAt),
	}
}

var methodsToProto = map[string]ordersv1.PaymentMethod{
	orders.MethodBankTransfer: ordersv1.PaymentMethod_PAYMENT_METHOD_BANK_TRANSFER,
	orders.MethodCard:         ordersv1.PaymentMethod_PAYMENT_METHOD_CARD,
	orders.MethodCash:         ordersv1.PaymentMethod_PAYMENT_METHOD_CASH,
	orders.MethodCheck:        ordersv1.PaymentMethod_PAYMENT_METHOD_CHECK,
}

func applications(p *orders.Payment) []*ordersv1.PaymentApplication {
	var out []*ordersv1.PaymentApplication
	for _, a := range p.Applications {
		out = append(out, &ordersv1.PaymentApplication{Invoice: resname.Format(InvoicePattern, a.Invoice), Amount: minor(p.Currency, a.Amount)})
	}
	return out
}

// PaymentToProto maps a payment to the API resource.
func PaymentToProto(p *orders.Payment) *ordersv1.Payment {
	return &ordersv1.Payment{
		Name:            resname.Format(PaymentPattern, p.ID),
		Customer:        resname.Format(CustomerPattern, p.Customer),
		Amount:          minor(p.Currency, p.Amount),
		Method:          methodsToProto[p.Method],
		Reference:       p.Reference,
		Applications:    applications(p),
		UnappliedAmount: minor(p.Currency, p.Unapplied()),
		ReceiveTime:     timestamppb.New(p.ReceivedAt),
		CreateTime:      timestamppb.New(p.CreatedAt),
		Partner:         p.Partner,
	}
}

// PaymentReceivedToProto is the event the ledger posts a payment from.
func PaymentReceivedToProto(eventID string, p *orders.Payment) *ordersv1.PaymentReceived {
	name := resname.Format(PaymentPattern, p.ID)
	return &ordersv1.PaymentReceived{
		EventId:          eventID,
		OccurredAt:       timestamppb.New(p.CreatedAt),
		AggregateId:      name,
		AggregateVersion: 1,
		Payment:          name,
		Customer:         resname.Format(CustomerPattern, p.Customer),
		CurrencyCode:     p.Currency,
		Amount:           minor(p.Currency, p.Amount),
		Method:           methodsToProto[p.Method],
		Applications:     applications(p),
		EffectiveTime:    timestamppb.New(p.ReceivedAt),
	}
}

// PaymentInputFromProto maps the client-settable fields of a payment. With
// strict (a partner caller), output-only fields that are set are refused.
func PaymentInputFromProto(p *ordersv1.Payment, strict bool) (orders.PaymentInput, error) {
	var v apperr.Violations
	const f = "payment."
	if strict {
		refuseSet(&v, f, field{"name", p.GetName() != ""}, field{"unapplied_amount", p.GetUnappliedAmount() != nil},
			field{"create_time", p.GetCreateTime() != nil}, field{"partner", p.GetPartner() != ""})
	}
	in := orders.PaymentInput{Currency: p.GetAmount().GetCurrencyCode(), Amount: p.GetAmount().GetMinorUnits(),
		Reference: p.GetReference()}
	if p.GetAmount() == nil {
		v.Add(f+"amount", "is required: {\"currencyCode\": \"USD\", \"minorUnits\": \"1000\"}")
	}
	for m, pm := range methodsToProto {
		if pm == p.GetMethod() {
			in.Method = m
		}
	}
	if p.GetCustomer() != "" {
		ids, err := resname.Parse(f+"customer", p.GetCustomer(), CustomerPattern)
		if err != nil {
			v.Add(f+"customer", "must be a customer's name, \"customers/{code}\"")
		} else {
			in.Customer = ids[0]
		}
	} else {
		v.Add(f+"customer", "is required: \"customers/{code}\"")
	}
	if t := p.GetReceiveTime(); t != nil {
		in.ReceivedAt = t.AsTime()
	}
	for i, a := range p.GetApplications() {
		af := f + "applications[" + strconv.Itoa(i) + "]."
		ids, err := resname.Parse(af+"invoice", a.GetInvoice(), InvoicePattern)
		if err != nil {
			v.Add(af+"invoice", "is required: the invoice's name, \"invoices/{id}\"")
			continue
		}
		if c := a.GetAmount().GetCurrencyCode(); c != "" && orders.NormalizeCurrency(c) != orders.NormalizeCurrency(in.Currency) {
			v.Add(af+"amount.currency_code", "must be the payment's currency (or empty)")
		}
		in.Applications = append(in.Applications, orders.Application{Invoice: ids[0], Amount: a.GetAmount().GetMinorUnits()})
	}
	if err := v.Err(); err != nil {
		return orders.PaymentInput{}, err
	}
	return in, nil
}

// ReceivablesToProto maps one ageing row.
func ReceivablesToProto(r *orders.Receivables) *ordersv1.ReceivablesAgeing {
	out := &ordersv1.ReceivablesAgeing{
		Customer:         resname.Format(CustomerPattern, r.Customer),
		CurrencyCode:     r.Currency,
		OpenTotal:        minor(r.Currency, r.OpenTotal()),
		UnappliedCredit:  minor(r.Currency, r.Unapplied),
		OpenInvoiceCount: int32(r.OpenCount()),
		OldestDueTime:    optTime(r.OldestDue),
	}
	for _, b := range r.Buckets {
		out.Buckets = append(out.Buckets, &ordersv1.AgeingBucket{MinDaysPastDue: int32(b.MinDays), MaxDaysPastDue: int32(b.MaxDays),
			Amount: minor(r.Currency, b.Amount), InvoiceCount: int32(b.Count)})
	}
	return out
}

// TimingsToProto maps stage timings.
func TimingsToProto(from, to time.Time, documents int, steps []orders.StageTiming) *ordersv1.DocumentTimings {
	out := &ordersv1.DocumentTimings{StartTime: timestamppb.New(from), EndTime: timestamppb.New(to), DocumentCount: int32(documents)}
	for _, st := range steps {
		t := &ordersv1.StageTiming{FromStage: st.From, ToStage: st.To, Count: int32(st.Count)}
		if st.Count > 0 {
			t.P50, t.P90, t.P99, t.Max = durationpb.New(st.P50), durationpb.New(st.P90), durationpb.New(st.P99), durationpb.New(st.Max)
		}
		out.Stages = append(out.Stages, t)
	}
	return out
}

// RefuseOutputOnly is an InvalidArgument naming every output-only field set
// (set maps field name to whether it is set), in name order; nil when none is.
func RefuseOutputOnly(prefix string, set map[string]bool) error {
	var names []string
	for n, ok := range set {
		if ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var v apperr.Violations
	for _, n := range names {
		v.Add(prefix+n, "is output only and may not be set")
	}
	return v.Err()
}
