package orders

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
)

// The ways a customer pays, as the API spells them.
const (
	MethodBankTransfer = "BANK_TRANSFER"
	MethodCard         = "CARD"
	MethodCash         = "CASH"
	MethodCheck        = "CHECK"
)

const maxPaymentReference = 64

// Payment is money received from a customer, applied to its invoices.
type Payment struct {
	ID           string
	Customer     string
	Currency     string
	Partner      string
	Amount       int64
	Method       string
	Reference    string
	Applications []Application
	ReceivedAt   time.Time
	CreatedAt    time.Time
}

// Application is the part of a payment applied to one invoice (or, for a
// supplier payment, one bill).
type Application struct {
	Invoice string // invoice (or bill) id
	Amount  int64
}

// PaymentInput is a payment as a client gives it. Amount is in minor units of
// Currency; a zero ReceivedAt is now.
type PaymentInput struct {
	Customer     string
	Currency     string
	Amount       int64
	Method       string
	Reference    string
	Applications []Application
	ReceivedAt   time.Time
}

// Name is the payment's resource name.
func (p *Payment) Name() string { return "payments/" + p.ID }

// VisibleTo reports whether a caller sees the payment.
func (p *Payment) VisibleTo(partner string) bool { return partner == "" || p.Partner == partner }

// Applied is what was applied to invoices.
func (p *Payment) Applied() int64 {
	var t int64
	for _, a := range p.Applications {
		t += a.Amount
	}
	return t
}

// Unapplied is what stays on the customer's account as a credit.
func (p *Payment) Unapplied() int64 { return p.Amount - p.Applied() }

// NewPayment validates a payment and applies it: to the invoices its
// applications name (invoices holds each of them), or, when it names none,
// to open, in the customer's open invoices in its currency, the earliest due
// first, until the amount is used up. It changes the invoices it settles.
// Every violation is reported at once, on its field
// ("payment.applications[0].amount").
func NewPayment(id string, in PaymentInput, cus *Customer, invoices map[string]*Invoice, open []*Invoice, partner string, now time.Time) (*Payment, []*Invoice, error) {
	p := &Payment{ID: id, Customer: cus.Code, Partner: partner, Amount: in.Amount, Method: in.Method,
		Reference: strings.TrimSpace(in.Reference), ReceivedAt: in.ReceivedAt.UTC(), CreatedAt: now.UTC()}
	p.Currency = NormalizeCurrency(in.Currency)
	if p.Currency == "" {
		p.Currency = cus.CurrencyCode
	}
	if err := checkPayment("payment.", "receive_time", p.Currency, p.Amount, p.Method, p.Reference, in.ReceivedAt, now); err != nil {
		return nil, nil, err
	}
	if in.ReceivedAt.IsZero() {
		p.ReceivedAt = now.UTC()
	}
	apps, settled, err := allocate(allocation[*Invoice]{field: "payment.applications", docField: "invoice", kind: "invoice",
		party: p.Customer, currency: p.Currency, amount: p.Amount, at: p.ReceivedAt, now: now}, in.Applications, invoices, open)
	if err != nil {
		return nil, nil, err
	}
	p.Applications = apps
	return p, settled, nil
}

// checkPayment checks what customer and supplier payments share.
func checkPayment(prefix, timeField, currency string, amount int64, method, reference string, at, now time.Time) error {
	var v apperr.Violations
	if !ValidCurrency(currency) || !money.Known(currency) {
		v.Add(prefix+"amount.currency_code", "must be an ISO 4217 currency code such as \"EUR\"")
	}
	if amount <= 0 || amount > maxAmount {
		v.Add(prefix+"amount.minor_units", "must be more than zero (and in range)")
	}
	switch method {
	case MethodBankTransfer, MethodCard, MethodCash, MethodCheck:
	default:
		v.Add(prefix+"method", "is required: BANK_TRANSFER, CARD, CASH or CHECK")
	}
	if utf8.RuneCountInString(reference) > maxPaymentReference {
		v.Add(prefix+"reference", fmt.Sprintf("must be at most %d characters", maxPaymentReference))
	}
	if at.After(now) {
		v.Add(prefix+timeField, "must not be in the future")
	}
	return v.Err()
}

// settleable is a document a payment settles: an invoice or a supplier bill.
type settleable interface {
	docID() string
	party() string
	currency() string
	openAmount() int64
	dueAt() time.Time
	// refusal is why the document cannot be paid now ("" when it can).
	refusal() string
	settle(amount int64, at, now time.Time)
}

// allocation is one payment being applied.
type allocation[D settleable] struct {
	field, docField, kind string // "payment.applications", "invoice", "invoice"
	party, currency       string
	amount                int64
	at, now               time.Time
}

// allocate applies a payment to the documents its applications name (docs
// holds each), or, with none, to open, the earliest due first, until the
// amount is used up; it settles the documents and returns the applications
// made and the documents changed.
func allocate[D settleable](a allocation[D], apps []Application, docs map[string]D, open []D) ([]Application, []D, error) {
	var v apperr.Violations
	var out []Application
	var settled []D
	if len(apps) > 0 {
		var sum int64
		seen := map[string]bool{}
		for i, ap := range apps {
			f := fmt.Sprintf("%s[%d].", a.field, i)
			d, ok := docs[ap.Invoice]
			switch {
			case ap.Invoice == "":
				v.Add(f+a.docField, "is required")
				continue
			case !ok:
				v.Add(f+a.docField, fmt.Sprintf("%s %q does not exist", a.kind, ap.Invoice))
				continue
			case seen[ap.Invoice]:
				v.Add(f+a.docField, "names a "+a.kind+" another application already names")
				continue
			case d.party() != a.party:
				v.Add(f+a.docField, fmt.Sprintf("%s %s is %s's, not %s's", a.kind, d.docID(), d.party(), a.party))
				continue
			case d.currency() != a.currency:
				v.Add(f+a.docField, fmt.Sprintf("%s %s is in %s, the payment in %s", a.kind, d.docID(), d.currency(), a.currency))
				continue
			case d.refusal() != "":
				v.Add(f+a.docField, fmt.Sprintf("%s %s %s", a.kind, d.docID(), d.refusal()))
				continue
			}
			seen[ap.Invoice] = true
			if ap.Amount <= 0 || ap.Amount > d.openAmount() {
				v.Add(f+"amount", fmt.Sprintf("must be more than zero and at most the %s's open amount, %s",
					a.kind, money.Money{Currency: d.currency(), Minor: d.openAmount()}))
				continue
			}
			sum += ap.Amount
			out = append(out, ap)
		}
		if sum > a.amount {
			v.Add(a.field, fmt.Sprintf("apply %s in all, more than the payment's %s",
				money.Money{Currency: a.currency, Minor: sum}, money.Money{Currency: a.currency, Minor: a.amount}))
		}
		if err := v.Err(); err != nil {
			return nil, nil, err
		}
		for _, ap := range out {
			d := docs[ap.Invoice]
			d.settle(ap.Amount, a.at, a.now)
			settled = append(settled, d)
		}
		return out, settled, nil
	}
	byDue := append([]D(nil), open...)
	sort.SliceStable(byDue, func(i, j int) bool {
		if !byDue[i].dueAt().Equal(byDue[j].dueAt()) {
			return byDue[i].dueAt().Before(byDue[j].dueAt())
		}
		return byDue[i].docID() < byDue[j].docID()
	})
	rest := a.amount
	for _, d := range byDue {
		if rest == 0 {
			break
		}
		if d.party() != a.party || d.currency() != a.currency || d.openAmount() <= 0 || d.refusal() != "" {
			continue
		}
		amount := min(rest, d.openAmount())
		d.settle(amount, a.at, a.now)
		out = append(out, Application{Invoice: d.docID(), Amount: amount})
		settled = append(settled, d)
		rest -= amount
	}
	return out, settled, nil
}

// PaymentReceived is the fact that a payment was received: the ledger books
// the cash against the receivables it settles.
type PaymentReceived struct{ Payment Payment }

// AgeingBucket is one band of days past due; MaxDays 0 with MinDays > 0 has
// no upper bound.
type AgeingBucket struct {
	MinDays, MaxDays int
	Amount           int64
	Count            int
}

// AgeingBands are the bands receivables are aged in: not a whole day past
// due, 1-30, 31-60, 61-90 and more than 90 days.
var AgeingBands = [][2]int{{0, 0}, {1, 30}, {31, 60}, {61, 90}, {91, 0}}

// Receivables is what one customer owes in one currency, aged.
type Receivables struct {
	Customer  string
	Currency  string
	Buckets   []AgeingBucket // one per AgeingBands entry
	Unapplied int64
	OldestDue time.Time // zero when no invoice is open
}

// OpenTotal is the sum of the buckets.
func (r *Receivables) OpenTotal() int64 {
	var t int64
	for _, b := range r.Buckets {
		t += b.Amount
	}
	return t
}

// OpenCount is the number of open invoices.
func (r *Receivables) OpenCount() int {
	n := 0
	for _, b := range r.Buckets {
		n += b.Count
	}
	return n
}

// DaysPastDue is how many whole days after due an amount is at asOf; 0 when
// it is not yet due.
func DaysPastDue(due, asOf time.Time) int {
	if !asOf.After(due) {
		return 0
	}
	return int(asOf.Sub(due) / (24 * time.Hour))
}

// Band is the index in AgeingBands of a number of days past due.
func Band(days int) int {
	for i, b := range AgeingBands {
		if days >= b[0] && (b[1] == 0 && i > 0 || days <= b[1]) {
			return i
		}
	}
	return 0
}
