package ledger

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"trueup.dev/platform/money"
)

// Document postings.
//
// Receivables and payables come from orders' events, each a business
// document that posts one entry under a document rule. A document rule has
// no Account/Counter pair: it maps roles to accounts (Rule.Roles), so the
// accounts are data like a movement rule's:
//
//   - bill_approved: Dr GRNI (grni) by the receipt value each line matches,
//     Dr purchase price variance (ppv) when a line is billed above what it
//     was received at or Cr when below, Dr purchase tax recoverable (tax) by
//     the bill's tax, Cr accounts payable (ap) by the total payable;
//   - invoice_issued: Dr accounts receivable (ar) by the total, Cr revenue
//     (revenue) by each line's net amount, Cr sales tax payable (tax) by the
//     tax;
//   - payment_received: Dr cash (cash) by the amount, Cr accounts receivable
//     (ar) by the amount applied to each invoice, and the unapplied rest
//     under the payment's own id (a credit on the customer's account);
//   - supplier_payment_made (from rule version 3): Dr accounts payable (ap)
//     by the amount applied to each bill, and the unapplied rest under the
//     payment's own id (a prepayment to the supplier), Cr cash (cash) by the
//     amount.
//
// Every line carries the partner (supplier or customer) and a document: a
// bill's GRNI lines the purchase order's id, which is the document receipts
// credited GRNI under, so GRNI clears per order and item; an invoice's
// revenue lines the sales order's id, which its shipments' COGS lines carry
// too (shipped-not-invoiced, ageing.go); receivables the invoice's id, so a
// payment applied to an invoice clears it; everything else the document's
// own id. Per-line amounts also carry item and
// warehouse.
//
// A document whose amounts do not add up to the minor unit (lines against
// stated totals), are negative, or lack a currency is refused with
// ErrInvalidDocument and parked with the reason, never posted in part. A
// document that needs a role its rule lacks (a price variance under a rule
// without "ppv") is refused with ErrNoRule, and posts once a rule version
// adds the role.

// Document rule keys.
const (
	RuleBillApproved    = "bill_approved"
	RuleInvoiceIssued   = "invoice_issued"
	RulePaymentReceived = "payment_received"
	RuleSupplierPayment = "supplier_payment_made"
)

// Document rule roles.
const (
	RoleGRNI    = "grni"
	RolePPV     = "ppv"
	RoleAP      = "ap"
	RoleTax     = "tax"
	RoleAR      = "ar"
	RoleRevenue = "revenue"
	RoleCash    = "cash"
)

// DocumentRoles are the roles of each document rule: Required ones every
// rule of the key must map, Optional ones a document may need.
var DocumentRoles = map[string]struct{ Required, Optional []string }{
	RuleBillApproved:    {Required: []string{RoleGRNI, RoleAP}, Optional: []string{RolePPV, RoleTax}},
	RuleInvoiceIssued:   {Required: []string{RoleAR, RoleRevenue}, Optional: []string{RoleTax}},
	RulePaymentReceived: {Required: []string{RoleCash, RoleAR}},
	RuleSupplierPayment: {Required: []string{RoleAP, RoleCash}},
}

// IsDocumentKey reports whether key is a document rule's key.
func IsDocumentKey(key string) bool {
	_, ok := DocumentRoles[key]
	return ok
}

// DocumentRules are the default document rules, as of rule set version since.
func DocumentRules(since int) []Rule {
	return []Rule{
		{Key: RuleBillApproved, Since: since,
			Description: "Supplier bill approved: Dr GRNI at the matched receipts' value, Dr/Cr purchase price variance, Dr purchase tax recoverable, Cr accounts payable",
			Roles:       map[string]string{RoleGRNI: AcctGRNI, RolePPV: AcctPPV, RoleTax: AcctPurchaseTax, RoleAP: AcctPayable}},
		{Key: RuleInvoiceIssued, Since: since,
			Description: "Invoice issued: Dr accounts receivable, Cr revenue per line, Cr sales tax payable",
			Roles:       map[string]string{RoleAR: AcctReceivable, RoleRevenue: AcctRevenue, RoleTax: AcctSalesTax}},
		{Key: RulePaymentReceived, Since: since,
			Description: "Payment received: Dr cash, Cr accounts receivable per invoice applied",
			Roles:       map[string]string{RoleCash: AcctCash, RoleAR: AcctReceivable}},
	}
}

// SupplierPaymentRules are the document rules rule version 3 adds, as of
// version since.
func SupplierPaymentRules(since int) []Rule {
	return []Rule{{Key: RuleSupplierPayment, Since: since,
		Description: "Supplier paid: Dr accounts payable per bill settled, Cr cash",
		Roles:       map[string]string{RoleAP: AcctPayable, RoleCash: AcctCash}}}
}

// ErrInvalidDocument is returned (wrapped, saying what is wrong) for a
// document whose amounts do not add up or are malformed: the ledger parks it.
var ErrInvalidDocument = errors.New("invalid document")

// DocumentHeader is what every document has.
type DocumentHeader struct {
	ID       string // the bill, invoice or payment id: the entry's document
	Partner  string // the supplier or customer code
	Order    string // the purchase or sales order id, if any
	Currency string // every amount of the document is in it
	// EffectiveAt is when the document took effect (approved, issued,
	// received).
	EffectiveAt time.Time
}

// Document is an orders document the ledger posts: BillApproved,
// InvoiceIssued or PaymentReceived.
type Document interface {
	// RuleKey is the key of the rule that posts the document.
	RuleKey() string
	// Header is the document's header.
	Header() DocumentHeader
	// lines are the entry's lines, accounts from roles.
	lines(roles roleAccounts) ([]Line, error)
	// summary names the document in the entry's description.
	summary() string
}

// BillApproved is an approved supplier bill, matched to receipts.
type BillApproved struct {
	DocumentHeader
	Lines []BillLine
	Tax   int64 // the bill's recoverable purchase tax
	Total int64 // the total payable: the lines' billed amounts plus Tax
}

// BillLine is one bill line, matched to received stock of an item in a
// warehouse.
type BillLine struct {
	Item, Warehouse string
	Received        int64 // the value inventory received the matched stock at (GRNI)
	Billed          int64 // what the supplier bills for it, before tax
}

// InvoiceIssued is an invoice issued to a customer.
type InvoiceIssued struct {
	DocumentHeader
	Lines []InvoiceLine
	Net   int64 // the lines' net amounts, as stated
	Tax   int64 // the lines' tax, as stated
	Total int64 // Net plus Tax, as stated
}

// InvoiceLine is one invoice line.
type InvoiceLine struct {
	Item, Warehouse string
	Net, Tax        int64
}

// PaymentReceived is a customer's payment.
type PaymentReceived struct {
	DocumentHeader
	Method  string
	Amount  int64
	Applied []PaymentApplication
}

// PaymentApplication is the part of a payment applied to one invoice (or,
// for a supplier payment, one bill).
type PaymentApplication struct {
	Invoice string
	Amount  int64
}

// SupplierPaymentMade is a payment to a supplier; Applied name bills.
type SupplierPaymentMade struct {
	DocumentHeader
	Method  string
	Amount  int64
	Applied []PaymentApplication
}

// RuleKey implements Document.
func (SupplierPaymentMade) RuleKey() string { return RuleSupplierPayment }

// RuleKey implements Document.
func (BillApproved) RuleKey() string { return RuleBillApproved }

// RuleKey implements Document.
func (InvoiceIssued) RuleKey() string { return RuleInvoiceIssued }

// RuleKey implements Document.
func (PaymentReceived) RuleKey() string { return RulePaymentReceived }

// Header implements Document.
func (h DocumentHeader) Header() DocumentHeader { return h }

// PostDocument is the entry the rules make of d, with id, posted at now,
// from the event src names (its Service, DocumentID are set here); nil for a
// document of no value (nothing to post). ErrNoRule when no rule, or no
// account for a role the document needs; ErrInvalidDocument when its
// amounts do not add up.
func PostDocument(rules *RuleSet, d Document, src Source, id string, now time.Time) (*Entry, error) {
	key := d.RuleKey()
	rule := rules.Lookup(key)
	if rule == nil {
		return nil, fmt.Errorf("%w for %q (rules version %d)", ErrNoRule, key, rules.Version)
	}
	h := d.Header()
	if h.ID == "" {
		return nil, fmt.Errorf("%w: %s has no document id", ErrInvalidDocument, key)
	}
	if cur, err := money.NormalizeCurrency(h.Currency); err != nil || !money.Known(cur) || cur != h.Currency {
		return nil, fmt.Errorf("%w: %s has currency %q, not an ISO 4217 code", ErrInvalidDocument, d.summary(), h.Currency)
	}
	lines, err := d.lines(roleAccounts{rule: rule, version: rules.Version})
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, nil
	}
	desc := rule.Description + ": " + d.summary()
	if r := []rune(desc); len(r) > MaxDescriptionLength {
		desc = string(r[:MaxDescriptionLength])
	}
	src.Service, src.DocumentID = "orders", h.ID
	return &Entry{
		ID:          id,
		EffectiveAt: h.EffectiveAt.UTC(),
		PostedAt:    now.UTC(),
		Description: desc,
		Source:      src,
		Lines:       lines,
		Rule:        rule.Key,
		RuleVersion: rules.Version,
	}, nil
}

// roleAccounts resolves a document rule's roles.
type roleAccounts struct {
	rule    *Rule
	version int
}

func (r roleAccounts) account(role string) (string, error) {
	if a := r.rule.Roles[role]; a != "" {
		return a, nil
	}
	return "", fmt.Errorf("%w: rule %q (rules version %d) has no account for role %q", ErrNoRule, r.rule.Key, r.version, role)
}

// lineBuilder appends lines, resolving roles, stopping at the first error.
type lineBuilder struct {
	roles roleAccounts
	cur   string
	lines []Line
	err   error
}

func (b *lineBuilder) add(role string, side Side, amount int64, dims Dimensions) {
	if b.err != nil || amount == 0 {
		return
	}
	if amount < 0 {
		amount, side = -amount, Debit+Credit-side
	}
	acct, err := b.roles.account(role)
	if err != nil {
		b.err = err
		return
	}
	b.lines = append(b.lines, Line{Account: acct, Side: side, Amount: amount, Currency: b.cur, Dims: dims})
}

// sum adds amounts, refusing negative ones and int64 overflow.
type sum struct {
	total int64
	err   error
}

func (s *sum) add(what string, v int64) {
	switch {
	case s.err != nil:
	case v < 0:
		s.err = fmt.Errorf("%s is negative (%d)", what, v)
	case s.total > math.MaxInt64-v:
		s.err = fmt.Errorf("the amounts add up to more than the ledger can hold")
	default:
		s.total += v
	}
}

func invalid(summary string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrInvalidDocument, summary, err)
}

func (b BillApproved) summary() string {
	s := "supplier bill " + b.ID
	if b.Partner != "" {
		s += " of " + b.Partner
	}
	if b.Order != "" {
		s += ", purchase order " + b.Order
	}
	return s
}

func (b BillApproved) lines(roles roleAccounts) ([]Line, error) {
	var billed, received sum
	for i, l := range b.Lines {
		billed.add(fmt.Sprintf("line %d's billed amount", i+1), l.Billed)
		received.add(fmt.Sprintf("line %d's received value", i+1), l.Received)
	}
	billed.add("the tax", b.Tax)
	for _, err := range []error{billed.err, received.err} {
		if err != nil {
			return nil, invalid(b.summary(), err)
		}
	}
	if billed.total != b.Total {
		return nil, invalid(b.summary(), fmt.Errorf("the lines billed plus tax are %s, the total payable is %s",
			money.Money{Minor: billed.total, Currency: b.Currency}, money.Money{Minor: b.Total, Currency: b.Currency}))
	}
	grniDoc := b.Order
	if grniDoc == "" {
		grniDoc = b.ID
	}
	lb := &lineBuilder{roles: roles, cur: b.Currency}
	for _, l := range b.Lines {
		lb.add(RoleGRNI, Debit, l.Received, Dimensions{Warehouse: l.Warehouse, Item: l.Item, Document: grniDoc, Partner: b.Partner})
		lb.add(RolePPV, Debit, l.Billed-l.Received, Dimensions{Warehouse: l.Warehouse, Item: l.Item, Document: b.ID, Partner: b.Partner})
	}
	head := Dimensions{Document: b.ID, Partner: b.Partner}
	lb.add(RoleTax, Debit, b.Tax, head)
	lb.add(RoleAP, Credit, b.Total, head)
	return lb.lines, lb.err
}

func (v InvoiceIssued) summary() string {
	s := "invoice " + v.ID
	if v.Partner != "" {
		s += " to " + v.Partner
	}
	if v.Order != "" {
		s += ", sales order " + v.Order
	}
	return s
}

func (v InvoiceIssued) lines(roles roleAccounts) ([]Line, error) {
	var net, tax, total sum
	for i, l := range v.Lines {
		net.add(fmt.Sprintf("line %d's net amount", i+1), l.Net)
		tax.add(fmt.Sprintf("line %d's tax", i+1), l.Tax)
	}
	total.add("the net total", v.Net)
	total.add("the tax total", v.Tax)
	for _, err := range []error{net.err, tax.err, total.err} {
		if err != nil {
			return nil, invalid(v.summary(), err)
		}
	}
	m := func(x int64) money.Money { return money.Money{Minor: x, Currency: v.Currency} }
	switch {
	case net.total != v.Net:
		return nil, invalid(v.summary(), fmt.Errorf("the lines' net amounts add up to %s, the net total is %s", m(net.total), m(v.Net)))
	case tax.total != v.Tax:
		return nil, invalid(v.summary(), fmt.Errorf("the lines' tax adds up to %s, the tax total is %s", m(tax.total), m(v.Tax)))
	case total.total != v.Total:
		return nil, invalid(v.summary(), fmt.Errorf("net %s plus tax %s is %s, the total is %s", m(v.Net), m(v.Tax), m(total.total), m(v.Total)))
	}
	head := Dimensions{Document: v.ID, Partner: v.Partner}
	lb := &lineBuilder{roles: roles, cur: v.Currency}
	lb.add(RoleAR, Debit, v.Total, head)
	// Revenue lines are under the sales order (like a bill's GRNI lines
	// under the purchase order), where the order's shipments put their
	// COGS: shipped-not-invoiced matches them by order and item.
	revDoc := v.Order
	if revDoc == "" {
		revDoc = v.ID
	}
	for _, l := range v.Lines {
		lb.add(RoleRevenue, Credit, l.Net, Dimensions{Warehouse: l.Warehouse, Item: l.Item, Document: revDoc, Partner: v.Partner})
	}
	lb.add(RoleTax, Credit, v.Tax, head)
	return lb.lines, lb.err
}

func (p PaymentReceived) summary() string {
	s := "payment " + p.ID
	if p.Partner != "" {
		s += " from " + p.Partner
	}
	if p.Method != "" {
		s += " by " + strings.ToLower(strings.ReplaceAll(p.Method, "_", " "))
	}
	return s
}

func (p PaymentReceived) lines(roles roleAccounts) ([]Line, error) {
	applied, err := checkApplied(p.summary(), "invoice", p.Amount, p.Currency, p.Applied)
	if err != nil {
		return nil, err
	}
	lb := &lineBuilder{roles: roles, cur: p.Currency}
	lb.add(RoleCash, Debit, p.Amount, Dimensions{Document: p.ID, Partner: p.Partner})
	for _, a := range p.Applied {
		lb.add(RoleAR, Credit, a.Amount, Dimensions{Document: a.Invoice, Partner: p.Partner})
	}
	lb.add(RoleAR, Credit, p.Amount-applied, Dimensions{Document: p.ID, Partner: p.Partner})
	return lb.lines, lb.err
}

func (p SupplierPaymentMade) summary() string {
	s := "supplier payment " + p.ID
	if p.Partner != "" {
		s += " to " + p.Partner
	}
	if p.Method != "" {
		s += " by " + strings.ToLower(strings.ReplaceAll(p.Method, "_", " "))
	}
	return s
}

func (p SupplierPaymentMade) lines(roles roleAccounts) ([]Line, error) {
	applied, err := checkApplied(p.summary(), "bill", p.Amount, p.Currency, p.Applied)
	if err != nil {
		return nil, err
	}
	lb := &lineBuilder{roles: roles, cur: p.Currency}
	for _, a := range p.Applied {
		lb.add(RoleAP, Debit, a.Amount, Dimensions{Document: a.Invoice, Partner: p.Partner})
	}
	lb.add(RoleAP, Debit, p.Amount-applied, Dimensions{Document: p.ID, Partner: p.Partner})
	lb.add(RoleCash, Credit, p.Amount, Dimensions{Document: p.ID, Partner: p.Partner})
	return lb.lines, lb.err
}

// checkApplied checks a payment's applications (each to a named document of
// kind, none zero, together at most amount) and returns what they apply.
func checkApplied(summary, kind string, amount int64, currency string, applied []PaymentApplication) (int64, error) {
	if amount <= 0 {
		return 0, invalid(summary, fmt.Errorf("the amount must be more than zero, not %d", amount))
	}
	var total sum
	for i, a := range applied {
		if a.Invoice == "" {
			return 0, invalid(summary, fmt.Errorf("application %d names no %s", i+1, kind))
		}
		if a.Amount == 0 {
			return 0, invalid(summary, fmt.Errorf("application %d applies nothing", i+1))
		}
		total.add(fmt.Sprintf("application %d's amount", i+1), a.Amount)
	}
	if total.err != nil {
		return 0, invalid(summary, total.err)
	}
	if total.total > amount {
		return 0, invalid(summary, fmt.Errorf("it applies %s to %ss, more than the %s paid",
			money.Money{Minor: total.total, Currency: currency}, kind, money.Money{Minor: amount, Currency: currency}))
	}
	return total.total, nil
}
