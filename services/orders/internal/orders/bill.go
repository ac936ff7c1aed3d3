package orders

import (
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
)

// BillState is where a supplier bill is in its lifecycle.
type BillState int

// The states: RECORDED -> APPROVED, or RECORDED -> ON_HOLD -> APPROVED |
// REJECTED. RECORDED is transient: NewBill matches the bill at once, so a
// stored bill is APPROVED, ON_HOLD or REJECTED.
const (
	BillRecorded BillState = iota + 1
	BillApproved
	BillOnHold
	BillRejected
)

var billStateNames = map[BillState]string{
	BillRecorded: "RECORDED", BillApproved: "APPROVED", BillOnHold: "ON_HOLD", BillRejected: "REJECTED",
}

// String is the state's name as the API spells it.
func (s BillState) String() string {
	if n, ok := billStateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("BillState(%d)", int(s))
}

// ParseBillState reads a state stored by String.
func ParseBillState(s string) (BillState, bool) {
	for st, n := range billStateNames {
		if n == s {
			return st, true
		}
	}
	return 0, false
}

// Match is a 3-way match outcome, ordered by severity: a bill's outcome is
// its worst line's.
type Match int

// The outcomes.
const (
	// MatchMatched: the billed quantity is what was received and not yet
	// billed (within the quantity tolerance), at the order's price (within
	// the price tolerance).
	MatchMatched Match = iota + 1
	// MatchPartial: less than received and not yet billed, price within
	// tolerance. Approved like a match.
	MatchPartial
	// MatchPriceVariance: the billed unit price is beyond the tolerance.
	MatchPriceVariance
	// MatchQuantityVariance: billed more than received and not yet billed,
	// beyond the tolerance.
	MatchQuantityVariance
)

var matchNames = map[Match]string{
	MatchMatched: "MATCHED", MatchPartial: "PARTIAL", MatchPriceVariance: "PRICE_VARIANCE", MatchQuantityVariance: "QUANTITY_VARIANCE",
}

// String is the outcome's name as the API spells it.
func (m Match) String() string {
	if n, ok := matchNames[m]; ok {
		return n
	}
	return fmt.Sprintf("Match(%d)", int(m))
}

// ParseMatch reads an outcome stored by String.
func ParseMatch(s string) (Match, bool) {
	for m, n := range matchNames {
		if n == s {
			return m, true
		}
	}
	return 0, false
}

// Variance reports whether the outcome holds a bill.
func (m Match) Variance() bool { return m >= MatchPriceVariance }

// Refusal reasons of the bill rules.
const (
	// ReasonBillState: the bill's state does not allow the command.
	ReasonBillState = "SUPPLIER_BILL_STATE"
)

// ErrBillState is the sentinel of a refused bill transition.
var ErrBillState = &apperr.Error{Kind: apperr.KindFailedPrecondition, Reason: ReasonBillState}

const (
	maxBillNumber = 64
	maxReason     = 500
	billDateForm  = "2006-01-02"
)

// Bill is a supplier's bill (accounts payable) against one purchase order.
// Its supplier and currency are the order's.
type Bill struct {
	ID            string
	Number        string // the supplier's bill number, unique per supplier
	Supplier      string
	PurchaseOrder string // the order's id
	Currency      string
	Partner       string // "" for an internal caller's bill
	BillDate      string // "YYYY-MM-DD"
	State         BillState
	Match         Match
	// PriceTolerancePercent and QuantityTolerancePercent are canonical
	// percentages ("0", "2.5"); see MatchLine.
	PriceTolerancePercent    string
	QuantityTolerancePercent string
	Lines                    []BillLine
	Tax                      int64 // minor units, never negative
	Reason                   string
	CreatedAt, UpdatedAt     time.Time
	ApprovedAt               time.Time // zero until approved
	// DueDate is BillDate plus the supplier's payment terms ("YYYY-MM-DD").
	DueDate string
	// Paid is what supplier payments applied, minor units; PaidAt when they
	// settled the bill in full (zero until then).
	Paid    int64
	PaidAt  time.Time
	Version int64
}

// BillLine is one line of a bill, against one purchase order line.
type BillLine struct {
	POLine    int
	SKU       string
	Warehouse string
	BaseUoM   string
	// Quantity and UoM are as entered, Factor the unit's base units.
	Quantity, UoM, Factor string
	BaseQty               Qty
	UnitPrice             string // per UoM, major units, as entered
	// Amount is Quantity x UnitPrice in minor units, rounded once half to even.
	Amount int64
	// OrderedAmount is the order's price for BaseQty, rounded once.
	OrderedAmount int64
	// GRNI is the received value the line clears (see PurchaseOrder.clear).
	GRNI  int64
	Match Match
}

// PPV is the line's purchase price variance: billed minus the GRNI cleared.
func (l *BillLine) PPV() int64 { return l.Amount - l.GRNI }

// BillLineInput is a bill line as a client gives it.
type BillLineInput struct {
	POLine               int
	Quantity, UoM, Price string
}

// BillInput is a bill as a client gives it. TaxCurrency "" is the order's.
type BillInput struct {
	Number, BillDate                                string
	PriceTolerancePercent, QuantityTolerancePercent string
	TaxMinor                                        int64
	TaxCurrency                                     string
	Lines                                           []BillLineInput
}

// Name is the bill's resource name.
func (b *Bill) Name() string { return "supplierBills/" + b.ID }

// VisibleTo reports whether a caller sees the bill (internal callers see all).
func (b *Bill) VisibleTo(partner string) bool { return partner == "" || b.Partner == partner }

// NetTotal is the sum of the lines' billed amounts.
func (b *Bill) NetTotal() int64 {
	var t int64
	for _, l := range b.Lines {
		t += l.Amount
	}
	return t
}

// Total is the amount payable: NetTotal + Tax.
func (b *Bill) Total() int64 { return b.NetTotal() + b.Tax }

// GRNICleared is the sum of the GRNI the lines clear.
func (b *Bill) GRNICleared() int64 {
	var t int64
	for _, l := range b.Lines {
		t += l.GRNI
	}
	return t
}

// PPV is NetTotal - GRNICleared.
func (b *Bill) PPV() int64 { return b.NetTotal() - b.GRNICleared() }

// Cumulative is the value of the first n units of q units worth v:
// round(v*n/q), half to even, with Cumulative(v, q, q) = v exactly (the rule
// of inventory's cost layers). What units k..m clear is Cumulative(v, m, q) -
// Cumulative(v, k, q), so clearing a line in any number of bills clears its
// received value exactly once it is billed in full.
func Cumulative(v int64, n, q Qty) int64 {
	if n == q {
		return v
	}
	if q <= 0 || n <= 0 {
		return 0
	}
	return money.Share(v, int64(n), int64(q))
}

// NewBill validates a bill against its purchase order, matches each line
// (MatchLine), computes the GRNI each clears, and approves the bill (MATCHED
// or PARTIAL) or holds it (a variance). On success it records the billed
// quantities and values on the order's lines (po changes; the caller saves
// it). A DRAFT or CANCELLED order cannot be billed (FailedPrecondition with
// its state). factor gives the base units of a unit of an item ("" and false
// for an unknown unit). Every invalid field is reported at once.
func NewBill(id string, in BillInput, po *PurchaseOrder, factor func(sku, uom string) (string, *big.Rat, bool), partner string, now time.Time) (*Bill, error) {
	if po.State == StateDraft || po.State == StateCancelled {
		return nil, po.stateRefused("billed", "a RELEASED, PARTIALLY_RECEIVED, RECEIVED or CLOSED order")
	}
	var v apperr.Violations
	const f = "supplier_bill."
	b := &Bill{ID: id, Supplier: po.Supplier, PurchaseOrder: po.ID, Currency: po.Currency, Partner: partner,
		State: BillRecorded, CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Version: 1}
	b.Number = strings.TrimSpace(in.Number)
	switch {
	case b.Number == "":
		v.Add(f+"bill_number", "is required: the supplier's number of the bill")
	case len(b.Number) > maxBillNumber || strings.IndexFunc(b.Number, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		v.Add(f+"bill_number", fmt.Sprintf("must be 1-%d printable characters", maxBillNumber))
	}
	b.BillDate = strings.TrimSpace(in.BillDate)
	if _, err := time.Parse(billDateForm, b.BillDate); err != nil {
		v.Add(f+"bill_date", "is required: a date \"YYYY-MM-DD\"")
	}
	var err error
	if b.PriceTolerancePercent, err = parseTolerance(in.PriceTolerancePercent); err != nil {
		v.Add(f+"price_tolerance_percent", err.Error())
	}
	if b.QuantityTolerancePercent, err = parseTolerance(in.QuantityTolerancePercent); err != nil {
		v.Add(f+"quantity_tolerance_percent", err.Error())
	}
	switch {
	case in.TaxCurrency != "" && in.TaxCurrency != po.Currency && in.TaxMinor != 0:
		v.Add(f+"tax.currency_code", fmt.Sprintf("must be the order's currency %s", po.Currency))
	case in.TaxMinor < 0 || in.TaxMinor > maxAmount:
		v.Add(f+"tax.minor_units", "must be zero or more")
	}
	b.Tax = in.TaxMinor
	switch {
	case len(in.Lines) == 0:
		v.Add(f+"lines", "at least one line is required")
	case len(in.Lines) > MaxLines:
		v.Add(f+"lines", fmt.Sprintf("at most %d lines", MaxLines))
	}
	seen := map[int]bool{}
	for i, li := range in.Lines {
		lf := fmt.Sprintf("%slines[%d].", f, i)
		pl, ok := po.Line(li.POLine)
		if !ok {
			v.Add(lf+"purchase_order_line", fmt.Sprintf("purchase order %s has no line %d", po.ID, li.POLine))
			continue
		}
		if seen[li.POLine] {
			v.Add(lf+"purchase_order_line", fmt.Sprintf("line %d is billed twice in one bill", li.POLine))
			continue
		}
		seen[li.POLine] = true
		l := BillLine{POLine: pl.Number, SKU: pl.SKU, Warehouse: pl.Warehouse, BaseUoM: pl.BaseUoM}
		entered, qerr := parseDecimal(strings.TrimSpace(li.Quantity), QtyScale)
		if qerr == nil && entered.Sign() <= 0 {
			qerr = fmt.Errorf("must be greater than zero")
		}
		if qerr != nil {
			v.Add(lf+"quantity.value", qerr.Error())
		}
		price, perr := money.ParseAmount(li.Price, po.Currency)
		if perr != nil {
			v.Add(lf+"unit_price", perr.Error())
		}
		uom, fac, ok := factor(pl.SKU, li.UoM)
		if !ok {
			v.Add(lf+"quantity.uom", fmt.Sprintf("unit %q is not known for item %s", NormalizeUoM(li.UoM), pl.SKU))
			continue
		}
		if qerr != nil || perr != nil {
			continue
		}
		base, err := ratToQty(new(big.Rat).Mul(entered, fac))
		if err != nil {
			v.Add(lf+"quantity.value", err.Error())
			continue
		}
		amount, ok := money.RoundHalfEven(new(big.Rat).Mul(entered, price))
		if !ok || amount > maxAmount {
			v.Add(lf+"unit_price", "the line amount is out of range")
			continue
		}
		l.Quantity, l.UoM, l.Factor, l.BaseQty = CanonicalDecimal(entered), uom, CanonicalDecimal(fac), base
		l.UnitPrice, l.Amount = strings.TrimSpace(li.Price), amount
		// the billed price per base unit, in minor units
		perBase := new(big.Rat).Quo(price, fac)
		l.Match, l.OrderedAmount, err = po.MatchLine(pl, base, perBase, b.PriceTolerancePercent, b.QuantityTolerancePercent)
		if err != nil {
			return nil, err
		}
		b.Lines = append(b.Lines, l)
	}
	if b.NetTotal()+b.Tax > maxAmount {
		v.Add(f+"lines", "the bill total is out of range")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	b.Match = MatchMatched
	for i := range b.Lines {
		l := &b.Lines[i]
		b.Match = max(b.Match, l.Match)
		l.GRNI = po.bill(l.POLine, l.BaseQty)
	}
	po.touch(now)
	if b.Match.Variance() {
		b.State = BillOnHold
	} else {
		b.State = BillApproved
		b.ApprovedAt = b.CreatedAt
	}
	return b, nil
}

// MatchLine is the 3-way match of billing qty base units of line l at
// perBase minor units per base unit, against what the line received and
// earlier bills (approved or held) have not yet billed:
//   - QUANTITY_VARIANCE when qty exceeds that open quantity by more than
//     quantityTol percent of the received quantity (rounded down);
//   - else PRICE_VARIANCE when perBase differs from the order's price per
//     base unit by more than priceTol percent of it;
//   - else PARTIAL when qty is less than the open quantity;
//   - else MATCHED.
//
// ordered is the order's price of qty base units, rounded half to even once.
func (po *PurchaseOrder) MatchLine(l *POLine, qty Qty, perBase *big.Rat, priceTol, quantityTol string) (m Match, ordered int64, err error) {
	poPrice, err := money.ParseAmount(l.UnitPrice, po.Currency)
	if err != nil {
		return 0, 0, fmt.Errorf("purchase order %s line %d: stored unit price: %w", po.ID, l.Number, err)
	}
	fac, ok := new(big.Rat).SetString(l.Factor)
	if !ok || fac.Sign() <= 0 {
		return 0, 0, fmt.Errorf("purchase order %s line %d: stored factor %q", po.ID, l.Number, l.Factor)
	}
	poPerBase := new(big.Rat).Quo(poPrice, fac)
	ordered, _ = money.RoundHalfEven(new(big.Rat).Mul(poPerBase, qty.Rat()))
	open := l.Received - l.BilledQty
	qtyAllow := percentOf(max(l.Received, 0), quantityTol)
	diff := new(big.Rat).Sub(perBase, poPerBase)
	diff.Abs(diff)
	tol, _ := new(big.Rat).SetString(priceTol)
	if tol == nil {
		tol = new(big.Rat)
	}
	priceAllow := new(big.Rat).Quo(new(big.Rat).Mul(poPerBase, tol), hundred)
	switch {
	case qty > open+qtyAllow:
		return MatchQuantityVariance, ordered, nil
	case diff.Cmp(priceAllow) > 0:
		return MatchPriceVariance, ordered, nil
	case qty < open:
		return MatchPartial, ordered, nil
	}
	return MatchMatched, ordered, nil
}

// percentOf is q x pct / 100, rounded down to the base scale.
func percentOf(q Qty, pct string) Qty {
	p, ok := new(big.Rat).SetString(pct)
	if !ok {
		return 0
	}
	r := new(big.Rat).Quo(new(big.Rat).Mul(big.NewRat(int64(q), 1), p), hundred)
	return Qty(new(big.Int).Quo(r.Num(), r.Denom()).Int64())
}

// bill counts qty more base units of a line as billed and returns the GRNI
// they clear: by the cumulative rule on the line's received value and
// quantity, what the billed quantity (capped at the received quantity) is
// worth minus what earlier bills cleared, never below zero. Billing a line in
// full therefore clears exactly its received value; a quantity billed beyond
// what was received clears nothing (its whole amount is price variance).
func (po *PurchaseOrder) bill(line int, qty Qty) int64 {
	l, _ := po.Line(line)
	l.BilledQty += qty
	upTo := Cumulative(l.ReceivedValue, min(max(l.BilledQty, 0), max(l.Received, 0)), l.Received)
	cleared := max(0, upTo-l.BilledValue)
	l.BilledValue += cleared
	return cleared
}

// unbill takes a rejected bill's quantities and values back off the order.
func (po *PurchaseOrder) unbill(b *Bill) {
	for _, bl := range b.Lines {
		if l, ok := po.Line(bl.POLine); ok {
			l.BilledQty -= bl.BaseQty
			l.BilledValue -= bl.GRNI
		}
	}
}

// OpenGRNI is what the line's receipts put into GRNI and no bill cleared.
func (l *POLine) OpenGRNI() int64 { return l.ReceivedValue - l.BilledValue }

// AddReceivedValue adds a receipt's value (negative for a reversal) to a line.
func (po *PurchaseOrder) AddReceivedValue(line int, value int64) error {
	l, ok := po.Line(line)
	if !ok {
		return fmt.Errorf("purchase order %s line %d: %w", po.ID, line, ErrUnknownLine)
	}
	l.ReceivedValue += value
	return nil
}

func (b *Bill) stateRefused(action string) error {
	e := apperr.Precondition(ReasonBillState,
		fmt.Sprintf("supplier bill %s is %s; only an ON_HOLD bill can be %s", b.ID, b.State, action),
		apperr.Violation{Type: "STATE", Subject: b.Name(), Description: "the bill is " + b.State.String()})
	e.Metadata = map[string]string{"state": b.State.String()}
	return e
}

func checkReason(reason string) (string, error) {
	r := strings.TrimSpace(reason)
	if r == "" || len(r) > maxReason {
		return "", apperr.Invalid(apperr.Field("reason", fmt.Sprintf("is required: 1-%d characters", maxReason)))
	}
	return r, nil
}

// Accept approves a held bill, accepting its variance for reason.
func (b *Bill) Accept(reason string, now time.Time) error {
	r, err := checkReason(reason)
	if err != nil {
		return err
	}
	if b.State != BillOnHold {
		return b.stateRefused("accepted")
	}
	b.State, b.Reason, b.ApprovedAt = BillApproved, r, now.UTC()
	b.touch(now)
	return nil
}

// Reject refuses a held bill; its quantities and values are taken back off
// the order (po changes; the caller saves it).
func (b *Bill) Reject(reason string, po *PurchaseOrder, now time.Time) error {
	r, err := checkReason(reason)
	if err != nil {
		return err
	}
	if b.State != BillOnHold {
		return b.stateRefused("rejected")
	}
	b.State, b.Reason = BillRejected, r
	po.unbill(b)
	po.touch(now)
	b.touch(now)
	return nil
}

// Open is what is still payable on an approved bill; zero on any other.
func (b *Bill) Open() int64 {
	if b.State != BillApproved {
		return 0
	}
	return b.Total() - b.Paid
}

// SetDue sets the due date from the bill date and the supplier's terms.
func (b *Bill) SetDue(termsDays int) {
	if d, err := time.Parse(billDateForm, b.BillDate); err == nil {
		b.DueDate = d.AddDate(0, 0, termsDays).Format(billDateForm)
	}
}

func (b *Bill) docID() string     { return b.ID }
func (b *Bill) party() string     { return b.Supplier }
func (b *Bill) currency() string  { return b.Currency }
func (b *Bill) openAmount() int64 { return b.Open() }
func (b *Bill) dueAt() time.Time {
	d, _ := time.Parse(billDateForm, b.DueDate)
	return d
}

func (b *Bill) refusal() string {
	if b.State != BillApproved {
		return "is " + b.State.String() + "; only an APPROVED bill can be paid"
	}
	return ""
}

// settle applies amount (0 < amount <= Open) of a payment to the bill.
func (b *Bill) settle(amount int64, at, now time.Time) {
	b.Paid += amount
	if b.Open() == 0 {
		b.PaidAt = at.UTC()
	}
	b.touch(now)
}

func (b *Bill) touch(now time.Time) {
	b.UpdatedAt = now.UTC()
	b.Version++
}

// SupplierBillApproved is the fact that a bill became a payable: the ledger
// clears GRNI, posts the price variance, the tax and the payable.
type SupplierBillApproved struct{ Bill Bill }
