package orders

import (
	"strings"
	"time"
)

// SupplierPayment is money paid to a supplier, applied to its approved bills.
type SupplierPayment struct {
	ID           string
	Supplier     string
	Currency     string
	Partner      string
	Amount       int64
	Method       string
	Reference    string
	Applications []Application // Invoice holds the bill id
	PaidAt       time.Time
	CreatedAt    time.Time
}

// SupplierPaymentInput is a supplier payment as a client gives it; a zero
// PaidAt is now.
type SupplierPaymentInput struct {
	Supplier     string
	Currency     string
	Amount       int64
	Method       string
	Reference    string
	Applications []Application
	PaidAt       time.Time
}

// Name is the payment's resource name.
func (p *SupplierPayment) Name() string { return "supplierPayments/" + p.ID }

// VisibleTo reports whether a caller sees the payment.
func (p *SupplierPayment) VisibleTo(partner string) bool {
	return partner == "" || p.Partner == partner
}

// Unapplied is what was paid beyond the bills it settled: a prepayment.
func (p *SupplierPayment) Unapplied() int64 {
	t := p.Amount
	for _, a := range p.Applications {
		t -= a.Amount
	}
	return t
}

// NewSupplierPayment validates a payment to a supplier and applies it, as
// NewPayment does for customers: to the named approved bills, or to open,
// the supplier's approved open bills, the earliest due first.
func NewSupplierPayment(id string, in SupplierPaymentInput, sup *Supplier, bills map[string]*Bill, open []*Bill, partner string, now time.Time) (*SupplierPayment, []*Bill, error) {
	p := &SupplierPayment{ID: id, Supplier: sup.Code, Partner: partner, Amount: in.Amount, Method: in.Method,
		Reference: strings.TrimSpace(in.Reference), PaidAt: in.PaidAt.UTC(), CreatedAt: now.UTC()}
	p.Currency = NormalizeCurrency(in.Currency)
	if p.Currency == "" {
		p.Currency = sup.CurrencyCode
	}
	if err := checkPayment("supplier_payment.", "pay_time", p.Currency, p.Amount, p.Method, p.Reference, in.PaidAt, now); err != nil {
		return nil, nil, err
	}
	if in.PaidAt.IsZero() {
		p.PaidAt = now.UTC()
	}
	apps, settled, err := allocate(allocation[*Bill]{field: "supplier_payment.applications", docField: "supplier_bill", kind: "bill",
		party: p.Supplier, currency: p.Currency, amount: p.Amount, at: p.PaidAt, now: now}, in.Applications, bills, open)
	if err != nil {
		return nil, nil, err
	}
	p.Applications = apps
	return p, settled, nil
}

// SettlePaid records when the purchase order was paid: once it is received
// in full or closed, has approved bills, none of them open and none on hold,
// at the last bill's payment (lastPaid). It reports whether that changed
// the order.
func (po *PurchaseOrder) SettlePaid(approved, open, held int, lastPaid, now time.Time) bool {
	if (po.State != StateReceived && po.State != StateClosed) || approved == 0 || open > 0 || held > 0 ||
		!po.PaidAt.IsZero() || lastPaid.IsZero() {
		return false
	}
	po.PaidAt = lastPaid.UTC()
	po.touch(now)
	return true
}

// SupplierPaymentMade is the fact that a supplier was paid: the ledger
// clears the payables it settles against cash.
type SupplierPaymentMade struct{ Payment SupplierPayment }
