package orders

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
)

// SOState is where a sales order is in its lifecycle.
type SOState int

// The states. DRAFT -> CONFIRMED -> PARTIALLY_SHIPPED -> SHIPPED; CLOSED when
// part shipped and the rest was cancelled; CANCELLED while nothing shipped.
const (
	SODraft SOState = iota + 1
	SOConfirmed
	SOPartiallyShipped
	SOShipped
	SOClosed
	SOCancelled
)

var soStateNames = map[SOState]string{
	SODraft: "DRAFT", SOConfirmed: "CONFIRMED", SOPartiallyShipped: "PARTIALLY_SHIPPED",
	SOShipped: "SHIPPED", SOClosed: "CLOSED", SOCancelled: "CANCELLED",
}

// String is the state's name as the API spells it ("PARTIALLY_SHIPPED").
func (s SOState) String() string {
	if n, ok := soStateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("SOState(%d)", int(s))
}

// ParseSOState reads a state stored by String.
func ParseSOState(s string) (SOState, bool) {
	for st, n := range soStateNames {
		if n == s {
			return st, true
		}
	}
	return 0, false
}

// Refusal reasons of the sales order rules, for clients to switch on.
const (
	// ReasonSOState: the order's state does not allow the command.
	ReasonSOState = "SALES_ORDER_STATE"
	// ReasonCreditLimit: confirming would take the customer past its credit limit.
	ReasonCreditLimit = "CREDIT_LIMIT_EXCEEDED"
	// ReasonCreditCurrency: the customer has a credit limit in another
	// currency than the order's, so the order's exposure cannot be weighed.
	ReasonCreditCurrency = "CREDIT_LIMIT_CURRENCY"
	// ReasonNothingToCancel: a line named for cancellation has nothing left to ship.
	ReasonNothingToCancel = "NOTHING_TO_CANCEL"
)

// Sentinels for errors.Is on the refusals above.
var (
	ErrSOState         = &apperr.Error{Kind: apperr.KindFailedPrecondition, Reason: ReasonSOState}
	ErrCreditLimit     = &apperr.Error{Kind: apperr.KindFailedPrecondition, Reason: ReasonCreditLimit}
	ErrNothingToCancel = &apperr.Error{Kind: apperr.KindFailedPrecondition, Reason: ReasonNothingToCancel}
	// ErrUnknownSOLine is returned (wrapped) by ApplyShipment for a line
	// number the order does not have.
	ErrUnknownSOLine = errors.New("no such sales order line")
)

const (
	taxRateMaxPlaces     = 4
	maxCustomerReference = 64
	maxReasonLength      = 200
)

// SalesOrder is an order taken from a customer. Its lines are numbered from 1
// in the order they were given.
type SalesOrder struct {
	ID       string
	Customer string // customer code
	Currency string // ISO 4217
	// Partner is the partner that created the order; "" for an internal caller.
	Partner     string
	CustomerRef string
	State       SOState
	Lines       []SOLine
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ConfirmedAt time.Time // zero while a draft
	CancelledAt time.Time // zero unless something was cancelled
	// The order-to-cash stage times, each the first time it happened (zero
	// until it did); PaidAt is when every invoice of the order, shipped in
	// full or closed, was paid.
	AllocatedAt time.Time
	PickedAt    time.Time
	ShippedAt   time.Time
	InvoicedAt  time.Time
	PaidAt      time.Time
	Version     int64
}

// SOLine is one line of a sales order.
type SOLine struct {
	Number  int
	SKU     string
	BaseUoM string
	// Quantity and UoM are the quantity as entered (canonical decimal) and
	// its unit; Factor is that unit's base units, resolved once.
	Quantity string
	UoM      string
	Factor   string
	BaseQty  Qty
	// UnitPrice is the price of one UoM in major units, canonical decimal;
	// TaxRate the rate in percent, canonical.
	UnitPrice string
	TaxRate   string
	// Net and Tax are the ordered quantity's amounts (see Price), minor units.
	Net       int64
	Tax       int64
	Warehouse string
	Shipped   Qty
	Cancelled Qty
	Invoiced  Qty
}

// SOLineInput is a line as a client gives it.
type SOLineInput struct {
	Item, Quantity, UoM, UnitPrice, TaxRate, Warehouse string
}

// SOInput is a sales order as a client gives it.
type SOInput struct {
	Customer, Currency, CustomerRef string
	Lines                           []SOLineInput
}

// NewSalesOrder validates a draft and resolves its lines against the catalog,
// as NewPurchaseOrder does (items maps each line's item as given, normalised,
// to the catalog item it names). The currency defaults to the customer's, a
// line's tax rate to the customer's default. Every violation is reported at
// once, on its field ("sales_order.lines[1].quantity.value").
func NewSalesOrder(id string, in SOInput, cus *Customer, items map[string]*CatalogItem, partner string, now time.Time) (*SalesOrder, error) {
	var v apperr.Violations
	so := &SalesOrder{ID: id, Customer: cus.Code, Partner: partner, State: SODraft,
		CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Version: 1}
	so.Currency = NormalizeCurrency(in.Currency)
	if so.Currency == "" {
		so.Currency = cus.CurrencyCode
	}
	if !ValidCurrency(so.Currency) || !money.Known(so.Currency) {
		v.Add("sales_order.currency_code", "must be an ISO 4217 currency code such as \"EUR\"")
	}
	so.CustomerRef = strings.TrimSpace(in.CustomerRef)
	if utf8.RuneCountInString(so.CustomerRef) > maxCustomerReference {
		v.Add("sales_order.customer_reference", fmt.Sprintf("must be at most %d characters", maxCustomerReference))
	}
	switch {
	case len(in.Lines) == 0:
		v.Add("sales_order.lines", "at least one line is required")
	case len(in.Lines) > MaxLines:
		v.Add("sales_order.lines", fmt.Sprintf("at most %d lines", MaxLines))
	}
	var total int64
	for i, li := range in.Lines {
		f := fmt.Sprintf("sales_order.lines[%d].", i)
		l := SOLine{Number: i + 1}
		given := NormalizeSKU(li.Item)
		it := items[given]
		switch {
		case given == "":
			v.Add(f+"item", "is required: the item's SKU or a code mapped to it")
		case it == nil:
			v.Add(f+"item", fmt.Sprintf("no item in the catalog has the SKU, the customer's item code, ERP or WMS code %q", given))
		default:
			l.SKU = it.SKU
		}
		l.Warehouse = strings.ToUpper(strings.TrimSpace(li.Warehouse))
		if !warehousePattern.MatchString(l.Warehouse) {
			v.Add(f+"warehouse", "is required: a warehouse code of 1-32 characters of A-Z, 0-9, '_' or '-'")
		}
		rate := cus.TaxRateFor()
		if strings.TrimSpace(li.TaxRate) != "" {
			r, err := parseTaxRate(li.TaxRate)
			if err != nil {
				v.Add(f+"tax_rate_percent", err.Error())
			}
			rate = r
		}
		l.TaxRate = rate
		entered, qerr := parseDecimal(li.Quantity, QtyScale)
		if qerr == nil && entered.Sign() <= 0 {
			qerr = fmt.Errorf("must be greater than zero")
		}
		if qerr != nil {
			v.Add(f+"quantity.value", qerr.Error())
		}
		if _, err := money.ParseAmount(li.UnitPrice, so.Currency); err != nil {
			v.Add(f+"unit_price", err.Error())
			qerr = err
		}
		if it == nil {
			continue
		}
		l.BaseUoM = it.BaseUoM
		uom, factor, ok := it.Factor(li.UoM)
		if !ok {
			v.Add(f+"quantity.uom", fmt.Sprintf("unit %q is not known for item %s (known: %s)", NormalizeUoM(li.UoM), it.SKU, strings.Join(it.Units(), ", ")))
			continue
		}
		l.UoM, l.Factor = uom, CanonicalDecimal(factor)
		if qerr != nil || l.TaxRate == "" {
			continue
		}
		base, err := ratToQty(new(big.Rat).Mul(entered, factor))
		if err != nil {
			v.Add(f+"quantity.value", err.Error())
			continue
		}
		if it.WholeUnitsOnly && base%qtyOne != 0 {
			v.Add(f+"quantity.value", fmt.Sprintf("is %s %s: item %s is handled in whole %s only", base, it.BaseUoM, it.SKU, it.BaseUoM))
			continue
		}
		l.Quantity, l.BaseQty = CanonicalDecimal(entered), base
		l.UnitPrice = strings.TrimSpace(li.UnitPrice)
		net, tax, err := l.Price(base, so.Currency)
		if err != nil {
			v.Add(f+"unit_price", err.Error())
			continue
		}
		l.Net, l.Tax = net, tax
		if total += net + tax; total > maxAmount {
			v.Add(f+"unit_price", "the order total is out of range")
		}
		so.Lines = append(so.Lines, l)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return so, nil
}

// parseTaxRate reads a tax rate in percent: "" is 0; else a plain decimal
// with at most 4 places, 0 to 100. It returns the canonical form.
func parseTaxRate(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "0", nil
	}
	r, err := parseDecimal(s, taxRateMaxPlaces)
	if err != nil {
		return "", err
	}
	if r.Sign() < 0 || r.Cmp(hundred) > 0 {
		return "", fmt.Errorf("must be between 0 and 100")
	}
	return CanonicalDecimal(r), nil
}

// Price is the amount of base units of the line, by the rounding rule of
// sales orders and invoices: net = base / factor x unit price (the quantity
// in the line's unit times its price), rounded once, half to even, to the
// currency's minor unit; tax = net x rate / 100, rounded the same way. A
// document's totals are sums of its lines' rounded amounts.
func (l *SOLine) Price(base Qty, currency string) (net, tax int64, err error) {
	price, err := money.ParseAmount(l.UnitPrice, currency)
	if err != nil {
		return 0, 0, fmt.Errorf("stored unit price %q: %w", l.UnitPrice, err)
	}
	factor, ok := new(big.Rat).SetString(l.Factor)
	if !ok || factor.Sign() <= 0 {
		return 0, 0, fmt.Errorf("stored factor %q is not a positive decimal", l.Factor)
	}
	rate, ok := new(big.Rat).SetString(l.TaxRate)
	if !ok {
		return 0, 0, fmt.Errorf("stored tax rate %q is not a decimal", l.TaxRate)
	}
	exact := new(big.Rat).Mul(new(big.Rat).Quo(base.Rat(), factor), price)
	net, ok = money.RoundHalfEven(exact)
	if !ok || net > maxAmount || net < -maxAmount {
		return 0, 0, fmt.Errorf("the line amount is out of range")
	}
	tax, ok = money.RoundHalfEven(new(big.Rat).Quo(new(big.Rat).Mul(big.NewRat(net, 1), rate), hundred))
	if !ok {
		return 0, 0, fmt.Errorf("the line tax is out of range")
	}
	return net, tax, nil
}

// Name is the order's resource name.
func (so *SalesOrder) Name() string { return "salesOrders/" + so.ID }

// VisibleTo reports whether a caller sees the order: internal callers
// (partner "") see every order, a partner only its own.
func (so *SalesOrder) VisibleTo(partner string) bool {
	return partner == "" || so.Partner == partner
}

// Line returns the line with the given number.
func (so *SalesOrder) Line(number int) (*SOLine, bool) {
	if number < 1 || number > len(so.Lines) {
		return nil, false
	}
	return &so.Lines[number-1], true
}

// NetTotal, TaxTotal and Total are the sums of the lines' ordered amounts.
func (so *SalesOrder) NetTotal() int64 {
	var t int64
	for _, l := range so.Lines {
		t += l.Net
	}
	return t
}

// TaxTotal is the sum of the lines' tax amounts.
func (so *SalesOrder) TaxTotal() int64 {
	var t int64
	for _, l := range so.Lines {
		t += l.Tax
	}
	return t
}

// Total is NetTotal + TaxTotal.
func (so *SalesOrder) Total() int64 { return so.NetTotal() + so.TaxTotal() }

// Open is what of a line is still to ship: ordered - shipped - cancelled.
func (l *SOLine) Open() Qty { return max(0, l.BaseQty-l.Shipped-l.Cancelled) }

// Backorder is what of a line is still to ship after part of it shipped;
// zero while nothing shipped.
func (l *SOLine) Backorder() Qty {
	if l.Shipped == 0 {
		return 0
	}
	return l.Open()
}

// Uninvoiced is the value, tax included, of what the order may still
// invoice: the open quantities at the lines' prices. It is the order's part
// of its customer's credit exposure while confirmed; zero otherwise.
func (so *SalesOrder) Uninvoiced() int64 {
	if so.State != SOConfirmed && so.State != SOPartiallyShipped {
		return 0
	}
	var t int64
	for i := range so.Lines {
		l := &so.Lines[i]
		if open := l.Open(); open > 0 {
			net, tax, err := l.Price(open, so.Currency)
			if err == nil {
				t += net + tax
			}
		}
	}
	return t
}

func (so *SalesOrder) stateRefused(action, allowed string) error {
	e := apperr.Precondition(ReasonSOState,
		fmt.Sprintf("sales order %s is %s; only %s can be %s", so.ID, so.State, allowed, action),
		apperr.Violation{Type: "STATE", Subject: so.Name(), Description: "the order is " + so.State.String()})
	e.Metadata = map[string]string{"state": so.State.String()}
	return e
}

func (so *SalesOrder) touch(now time.Time) {
	so.UpdatedAt = now.UTC()
	so.Version++
}

// Credit is what a confirmation weighs against the customer's credit limit:
// the customer's open invoices and confirmed orders not yet invoiced, less
// its unapplied payments, in the limit's currency.
type Credit struct {
	Exposure int64
}

// Confirm sends a draft to the warehouse after checking the customer's
// credit: exposure + the order's total may not exceed the customer's limit.
func (so *SalesOrder) Confirm(cus *Customer, credit Credit, now time.Time) error {
	if so.State != SODraft {
		return so.stateRefused("confirmed", "a DRAFT")
	}
	if cus.CreditLimit != nil {
		limit := *cus.CreditLimit
		if so.Currency != cus.CurrencyCode {
			return apperr.Precondition(ReasonCreditCurrency, fmt.Sprintf(
				"customer %s has a credit limit in %s; an order in %s cannot be weighed against it", cus.Code, cus.CurrencyCode, so.Currency))
		}
		if credit.Exposure+so.Total() > limit {
			e := apperr.Precondition(ReasonCreditLimit, fmt.Sprintf(
				"confirming sales order %s (total %s) would take customer %s to %s against a credit limit of %s",
				so.ID, money.Money{Currency: so.Currency, Minor: so.Total()}, cus.Code,
				money.Money{Currency: so.Currency, Minor: credit.Exposure + so.Total()}, money.Money{Currency: so.Currency, Minor: limit}),
				apperr.Violation{Type: "CREDIT_LIMIT", Subject: "customers/" + cus.Code,
					Description: "open invoices and confirmed orders would exceed the credit limit"})
			e.Metadata = map[string]string{
				"credit_limit_minor_units": strconv.FormatInt(limit, 10),
				"exposure_minor_units":     strconv.FormatInt(credit.Exposure, 10),
				"order_total_minor_units":  strconv.FormatInt(so.Total(), 10),
				"currency_code":            so.Currency,
			}
			return e
		}
	}
	so.State = SOConfirmed
	so.ConfirmedAt = now.UTC()
	so.touch(now)
	return nil
}

// Cancel cancels what is not yet shipped of the given lines (all when none
// are given) and returns the lines it cancelled. A named line with nothing
// left to ship is refused, as is an order with nothing open. The order then
// is CANCELLED when nothing of it shipped and nothing is open, CLOSED when
// part shipped and nothing is open, else it keeps its state.
func (so *SalesOrder) Cancel(lines []int, now time.Time) ([]int, error) {
	switch so.State {
	case SODraft, SOConfirmed, SOPartiallyShipped:
	default:
		return nil, so.stateRefused("cancelled", "a DRAFT, CONFIRMED or PARTIALLY_SHIPPED order")
	}
	var cancelled []int
	if len(lines) == 0 {
		for i := range so.Lines {
			if so.Lines[i].Open() > 0 {
				cancelled = append(cancelled, so.Lines[i].Number)
			}
		}
	} else {
		seen := map[int]bool{}
		for _, n := range lines {
			l, ok := so.Line(n)
			if !ok {
				return nil, apperr.Invalid(apperr.Field("line_numbers", fmt.Sprintf("sales order %s has no line %d", so.ID, n)))
			}
			if seen[n] {
				continue
			}
			seen[n] = true
			if l.Open() == 0 {
				return nil, apperr.Precondition(ReasonNothingToCancel, fmt.Sprintf(
					"line %d of sales order %s has nothing left to ship (ordered %s, shipped %s, cancelled %s %s)",
					n, so.ID, l.BaseQty, l.Shipped, l.Cancelled, l.BaseUoM))
			}
			cancelled = append(cancelled, n)
		}
	}
	if len(cancelled) == 0 {
		return nil, so.stateRefused("cancelled", "an order with something left to ship")
	}
	for _, n := range cancelled {
		l, _ := so.Line(n)
		l.Cancelled += l.Open()
	}
	so.settleShippedState()
	so.CancelledAt = now.UTC()
	so.touch(now)
	return cancelled, nil
}

// ValidReason checks a cancellation reason.
func ValidReason(reason string) error {
	if utf8.RuneCountInString(strings.TrimSpace(reason)) > maxReasonLength {
		return apperr.Invalid(apperr.Field("reason", fmt.Sprintf("must be at most %d characters", maxReasonLength)))
	}
	return nil
}

// ShippedQty is what a shipment carries of one order line, in base units.
type ShippedQty struct {
	Line int
	Qty  Qty
}

// ApplyShipment adds what a shipment that left at at carried to the order's
// lines. A shipment is a fact (the goods left), so it is recorded in every
// state; goods shipped of a line after its rest was cancelled take back as
// much of the cancellation. The state then follows from the quantities.
func (so *SalesOrder) ApplyShipment(shipped []ShippedQty, at, now time.Time) error {
	for _, s := range shipped {
		if _, ok := so.Line(s.Line); !ok {
			return fmt.Errorf("sales order %s line %d: %w", so.ID, s.Line, ErrUnknownSOLine)
		}
		if s.Qty <= 0 || s.Qty > MaxQty {
			return fmt.Errorf("sales order %s line %d: shipped quantity %s is not positive and in range", so.ID, s.Line, s.Qty)
		}
	}
	for _, s := range shipped {
		l, _ := so.Line(s.Line)
		l.Shipped += s.Qty
		l.Cancelled = max(0, min(l.Cancelled, l.BaseQty-l.Shipped))
	}
	firstTime(&so.ShippedAt, at)
	so.settleShippedState()
	so.touch(now)
	return nil
}

// firstTime keeps the earliest of *t and at (a zero *t is "not yet"); it
// reports whether *t changed. Stage events may arrive in any order.
func firstTime(t *time.Time, at time.Time) bool {
	if at.IsZero() || (!t.IsZero() && !at.Before(*t)) {
		return false
	}
	*t = at.UTC()
	return true
}

// Stage is a step of an order's fulfillment that orders learns from
// inventory's events.
type Stage int

// The stages.
const (
	StageAllocated Stage = iota + 1
	StagePicked
)

// MarkStage records that the order reached a stage at at (the first time
// counts) and reports whether that changed the order.
func (so *SalesOrder) MarkStage(stage Stage, at, now time.Time) bool {
	var changed bool
	switch stage {
	case StageAllocated:
		changed = firstTime(&so.AllocatedAt, at)
	case StagePicked:
		changed = firstTime(&so.PickedAt, at)
	}
	if changed {
		so.touch(now)
	}
	return changed
}

// SettlePaid records when the order was paid: once it is shipped in full or
// closed, has invoices, and none of them is open, at the last invoice's
// payment (lastPaid). It reports whether that changed the order.
func (so *SalesOrder) SettlePaid(invoices, open int, lastPaid, now time.Time) bool {
	if (so.State != SOShipped && so.State != SOClosed) || invoices == 0 || open > 0 || !so.PaidAt.IsZero() || lastPaid.IsZero() {
		return false
	}
	so.PaidAt = lastPaid.UTC()
	so.touch(now)
	return true
}

// settleShippedState derives the state of an order past DRAFT from its lines.
func (so *SalesOrder) settleShippedState() {
	open, shipped, cancelled := false, false, false
	for i := range so.Lines {
		l := &so.Lines[i]
		open = open || l.Open() > 0
		shipped = shipped || l.Shipped > 0
		cancelled = cancelled || l.Cancelled > 0
	}
	switch {
	case open && shipped:
		so.State = SOPartiallyShipped
	case open:
		// a draft or confirmed order with lines still to ship keeps its state
		if so.State != SODraft {
			so.State = SOConfirmed
		}
	case shipped && cancelled:
		so.State = SOClosed
	case shipped:
		so.State = SOShipped
	default:
		so.State = SOCancelled
	}
}

// SalesOrderConfirmed is the fact that a sales order was confirmed:
// fulfillment opens an outbound order from it.
type SalesOrderConfirmed struct{ Order SalesOrder }

// SalesOrderCancelled is the fact that what a sales order had not shipped
// of some lines was cancelled.
type SalesOrderCancelled struct {
	Order  SalesOrder
	Lines  []int
	Reason string
}
