package events

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/protoevent"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
)

// OrdersContext is the bounded context whose documents (bills, invoices,
// payments) the ledger posts receivables and payables from.
const OrdersContext = "orders"

// ordersEvents are orders' events that post, each with its decoder.
var ordersEvents = map[string]func([]byte) (ledger.Document, error){
	typeName(&ordersv1.SupplierBillApproved{}): decodeBill,
	typeName(&ordersv1.InvoiceIssued{}):        decodeInvoice,
	typeName(&ordersv1.PaymentReceived{}):      decodePayment,
	typeName(&ordersv1.SupplierPaymentMade{}):  decodeSupplierPayment,
}

// OrdersSubjects are the subjects of the events in ordersEvents: the orders
// posting consumer's filter.
var OrdersSubjects = []string{
	protoevent.Subject(&ordersv1.SupplierBillApproved{}),
	protoevent.Subject(&ordersv1.InvoiceIssued{}),
	protoevent.Subject(&ordersv1.PaymentReceived{}),
	protoevent.Subject(&ordersv1.SupplierPaymentMade{}),
}

// DecodeOrders reads one of orders' events (eventType is its protobuf name)
// into the document the ledger posts. Another orders event (a supplier or a
// customer created) carries nothing to post: an empty Decoded, no error. An
// event that cannot be read, or whose amounts are not in its currency, is an
// error, and the app parks it.
func DecodeOrders(eventType string, payload []byte) (app.Decoded, error) {
	dec, ok := ordersEvents[eventType]
	if !ok {
		return app.Decoded{}, nil
	}
	d, err := dec(payload)
	if err != nil {
		return app.Decoded{}, fmt.Errorf("%s: %w", eventType, err)
	}
	return app.Decoded{Document: d}, nil
}

// amounts reads a document's Money fields, each of which must be in the
// document's currency (or unset, for zero).
type amounts struct {
	currency string
	err      error
}

func (a *amounts) of(field string, m *typev1.Money) int64 {
	if m == nil || a.err != nil {
		return 0
	}
	if m.GetCurrencyCode() != a.currency && !(m.GetMinorUnits() == 0 && m.GetCurrencyCode() == "") {
		a.err = fmt.Errorf("%s is in %q, not the document's currency %q", field, m.GetCurrencyCode(), a.currency)
	}
	return m.GetMinorUnits()
}

func header(name, partner, order, currency string, effective, occurred *timestamppb.Timestamp) ledger.DocumentHeader {
	h := ledger.DocumentHeader{ID: last(name), Partner: last(partner), Order: last(order), Currency: currency}
	switch {
	case effective != nil:
		h.EffectiveAt = effective.AsTime()
	case occurred != nil:
		h.EffectiveAt = occurred.AsTime()
	}
	return h
}

func decodeBill(payload []byte) (ledger.Document, error) {
	var ev ordersv1.SupplierBillApproved
	if err := proto.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	a := amounts{currency: ev.GetCurrencyCode()}
	b := ledger.BillApproved{
		DocumentHeader: header(ev.GetSupplierBill(), ev.GetSupplier(), ev.GetPurchaseOrder(), ev.GetCurrencyCode(), ev.GetEffectiveTime(), ev.GetOccurredAt()),
		Tax:            a.of("tax", ev.GetTax()),
		Total:          a.of("total", ev.GetTotal()),
	}
	if b.ID == "" {
		b.ID = last(ev.GetAggregateId())
	}
	for i, l := range ev.GetLines() {
		b.Lines = append(b.Lines, ledger.BillLine{
			Item: last(l.GetItem()), Warehouse: last(l.GetWarehouse()),
			Received: a.of(fmt.Sprintf("lines[%d].received_value", i), l.GetReceivedValue()),
			Billed:   a.of(fmt.Sprintf("lines[%d].billed_amount", i), l.GetBilledAmount()),
		})
	}
	return b, a.err
}

func decodeInvoice(payload []byte) (ledger.Document, error) {
	var ev ordersv1.InvoiceIssued
	if err := proto.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	a := amounts{currency: ev.GetCurrencyCode()}
	v := ledger.InvoiceIssued{
		DocumentHeader: header(ev.GetInvoice(), ev.GetCustomer(), ev.GetSalesOrder(), ev.GetCurrencyCode(), ev.GetEffectiveTime(), ev.GetOccurredAt()),
		Net:            a.of("net_total", ev.GetNetTotal()),
		Tax:            a.of("tax_total", ev.GetTaxTotal()),
		Total:          a.of("total", ev.GetTotal()),
	}
	if v.ID == "" {
		v.ID = last(ev.GetAggregateId())
	}
	for i, l := range ev.GetLines() {
		v.Lines = append(v.Lines, ledger.InvoiceLine{
			Item: last(l.GetItem()), Warehouse: last(l.GetWarehouse()),
			Net: a.of(fmt.Sprintf("lines[%d].net_amount", i), l.GetNetAmount()),
			Tax: a.of(fmt.Sprintf("lines[%d].tax_amount", i), l.GetTaxAmount()),
		})
	}
	return v, a.err
}

func decodePayment(payload []byte) (ledger.Document, error) {
	var ev ordersv1.PaymentReceived
	if err := proto.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	a := amounts{currency: ev.GetCurrencyCode()}
	p := ledger.PaymentReceived{
		DocumentHeader: header(ev.GetPayment(), ev.GetCustomer(), "", ev.GetCurrencyCode(), ev.GetEffectiveTime(), ev.GetOccurredAt()),
		Amount:         a.of("amount", ev.GetAmount()),
	}
	if p.ID == "" {
		p.ID = last(ev.GetAggregateId())
	}
	if m := ev.GetMethod(); m != ordersv1.PaymentMethod_PAYMENT_METHOD_UNSPECIFIED {
		p.Method = strings.TrimPrefix(m.String(), "PAYMENT_METHOD_")
	}
	for i, ap := range ev.GetApplications() {
		p.Applied = append(p.Applied, ledger.PaymentApplication{
			Invoice: last(ap.GetInvoice()),
			Amount:  a.of(fmt.Sprintf("applications[%d].amount", i), ap.GetAmount()),
		})
	}
	return p, a.err
}

func decodeSupplierPayment(payload []byte) (ledger.Document, error) {
	var ev ordersv1.SupplierPaymentMade
	if err := proto.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	a := amounts{currency: ev.GetCurrencyCode()}
	p := ledger.SupplierPaymentMade{
		DocumentHeader: header(ev.GetSupplierPayment(), ev.GetSupplier(), "", ev.GetCurrencyCode(), ev.GetEffectiveTime(), ev.GetOccurredAt()),
		Amount:         a.of("amount", ev.GetAmount()),
	}
	if p.ID == "" {
		p.ID = last(ev.GetAggregateId())
	}
	if m := ev.GetMethod(); m != ordersv1.PaymentMethod_PAYMENT_METHOD_UNSPECIFIED {
		p.Method = strings.TrimPrefix(m.String(), "PAYMENT_METHOD_")
	}
	for i, ap := range ev.GetApplications() {
		p.Applied = append(p.Applied, ledger.PaymentApplication{
			Invoice: last(ap.GetSupplierBill()),
			Amount:  a.of(fmt.Sprintf("applications[%d].amount", i), ap.GetAmount()),
		})
	}
	return p, a.err
}
