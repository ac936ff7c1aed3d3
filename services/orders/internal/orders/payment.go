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

// Application is the part of a payment applied to one invoice.
type Application struct {
	Invoice string // invoice id
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
	var v apperr.Violations
	p := &Payment{ID: id, Customer: cus.Code, Partner: partner, Amount: in.Amount, Method: in.Method,
		Reference: strings.TrimSpace(in.Reference), ReceivedAt: in.ReceivedAt.UTC(), CreatedAt: now.UTC()}
	p.Currency = NormalizeCurrency(in.Currency)
	if p.Currency == "" {
		p.Currency = cus.CurrencyCode
	}
	if !ValidCurrency(p.Currency) || !money.Known(p.Currency) {
		v.Add("payment.amount.currency_code", "must be an ISO 4217 currency code such as \"EUR\"")
	}
	if p.Amount <= 0 || p.Amount > maxAmount {
		v.Add("payment.amount.minor_units", "must be more than zero (and in range)")
	}
	switch p.Method {
	case MethodBankTransfer, MethodCard, MethodCash, MethodCheck:
	default:
		v.Add("payment.method", "is required: BANK_TRANSFER, CARD, CASH or CHECK")
	}
	if utf8.RuneCountInString(p.Reference) > maxPaymentReference {
		v.Add("payment.reference", fmt.Sprintf("must be at most %d characters", maxPaymentReference))
	}
	if in.ReceivedAt.IsZero() {
		p.ReceivedAt = now.UTC()
	} else if in.ReceivedAt.After(now) {
		v.Add("payment.receive_time", "must not be in the future")
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	var settled []*Invoice
	if len(in.Applications) > 0 {
		var sum int64
		seen := map[string]bool{}
		for i, a := range in.Applications {
			f := fmt.Sprintf("payment.applications[%d].", i)
			inv := invoices[a.Invoice]
			switch {
			case a.Invoice == "":
				v.Add(f+"invoice", "is required: \"invoices/{id}\"")
				continue
			case inv == nil:
				v.Add(f+"invoice", fmt.Sprintf("invoice %q does not exist", a.Invoice))
				continue
			case seen[a.Invoice]:
				v.Add(f+"invoice", "names an invoice another application already names")
				continue
			case inv.Customer != p.Customer:
				v.Add(f+"invoice", fmt.Sprintf("invoice %s is customer %s's, not %s's", inv.ID, inv.Customer, p.Customer))
				continue
			case inv.Currency != p.Currency:
				v.Add(f+"invoice", fmt.Sprintf("invoice %s is in %s, the payment in %s", inv.ID, inv.Currency, p.Currency))
				continue
			}
			seen[a.Invoice] = true
			if a.Amount <= 0 || a.Amount > inv.Open() {
				v.Add(f+"amount", fmt.Sprintf("must be more than zero and at most the invoice's open amount, %s",
					money.Money{Currency: inv.Currency, Minor: inv.Open()}))
				continue
			}
			sum += a.Amount
			p.Applications = append(p.Applications, a)
		}
		if sum > p.Amount {
			v.Add("payment.applications", fmt.Sprintf("apply %s in all, more than the payment's %s",
				money.Money{Currency: p.Currency, Minor: sum}, money.Money{Currency: p.Currency, Minor: p.Amount}))
		}
		if err := v.Err(); err != nil {
			return nil, nil, err
		}
		for _, a := range p.Applications {
			inv := invoices[a.Invoice]
			inv.applyPayment(a.Amount, p.ReceivedAt, now)
			settled = append(settled, inv)
		}
		return p, settled, nil
	}
	byDue := append([]*Invoice(nil), open...)
	sort.SliceStable(byDue, func(i, j int) bool {
		if !byDue[i].DueAt.Equal(byDue[j].DueAt) {
			return byDue[i].DueAt.Before(byDue[j].DueAt)
		}
		return byDue[i].ID < byDue[j].ID
	})
	rest := p.Amount
	for _, inv := range byDue {
		if rest == 0 {
			break
		}
		if inv.Customer != p.Customer || inv.Currency != p.Currency || inv.Open() <= 0 {
			continue
		}
		amount := min(rest, inv.Open())
		inv.applyPayment(amount, p.ReceivedAt, now)
		p.Applications = append(p.Applications, Application{Invoice: inv.ID, Amount: amount})
		settled = append(settled, inv)
		rest -= amount
	}
	return p, settled, nil
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
