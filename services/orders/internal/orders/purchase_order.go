package orders

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
)

// POState is where a purchase order is in its lifecycle.
type POState int

// The states. DRAFT -> RELEASED -> PARTIALLY_RECEIVED -> RECEIVED -> CLOSED, or
// CANCELLED while nothing is received.
const (
	StateDraft POState = iota + 1
	StateReleased
	StatePartiallyReceived
	StateReceived
	StateClosed
	StateCancelled
)

var stateNames = map[POState]string{
	StateDraft: "DRAFT", StateReleased: "RELEASED", StatePartiallyReceived: "PARTIALLY_RECEIVED",
	StateReceived: "RECEIVED", StateClosed: "CLOSED", StateCancelled: "CANCELLED",
}

// String is the state's name as the API spells it ("PARTIALLY_RECEIVED").
func (s POState) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("POState(%d)", int(s))
}

// ParsePOState reads a state stored by String.
func ParsePOState(s string) (POState, bool) {
	for st, n := range stateNames {
		if n == s {
			return st, true
		}
	}
	return 0, false
}

// Refusal reasons of the purchase order rules, for clients to switch on.
const (
	// ReasonPOState: the order's state does not allow the command.
	ReasonPOState = "PURCHASE_ORDER_STATE"
	// ReasonOpenDiscrepancy: a line has an unresolved over-receipt.
	ReasonOpenDiscrepancy = "OPEN_RECEIPT_DISCREPANCY"
	// ReasonNoDiscrepancy: the line has no open discrepancy to resolve.
	ReasonNoDiscrepancy = "NO_RECEIPT_DISCREPANCY"
	// ReasonReturnInProgress: a RETURN of the line's excess was started and
	// is not recorded yet; only RETURN (which completes it) may follow.
	ReasonReturnInProgress = "RETURN_IN_PROGRESS"
	// ReasonReturnRefused: inventory refused to issue the excess for a
	// reason the caller cannot fix through the request's fields.
	ReasonReturnRefused = "RETURN_REFUSED"
	// ReasonAmendNotExact: the received quantity is not an exact quantity of
	// the line's unit, so the order cannot be amended to it.
	ReasonAmendNotExact = "AMEND_NOT_EXACT"
)

// Sentinels for errors.Is on the refusals above.
var (
	ErrPOState          = &apperr.Error{Kind: apperr.KindFailedPrecondition, Reason: ReasonPOState}
	ErrOpenDiscrepancy  = &apperr.Error{Kind: apperr.KindFailedPrecondition, Reason: ReasonOpenDiscrepancy}
	ErrNoDiscrepancy    = &apperr.Error{Kind: apperr.KindFailedPrecondition, Reason: ReasonNoDiscrepancy}
	ErrReturnInProgress = &apperr.Error{Kind: apperr.KindFailedPrecondition, Reason: ReasonReturnInProgress}
	ErrAmendNotExact    = &apperr.Error{Kind: apperr.KindFailedPrecondition, Reason: ReasonAmendNotExact}
	// ErrUnknownLine is returned (wrapped) by ApplyReceipt for a line number
	// the order does not have.
	ErrUnknownLine = errors.New("no such purchase order line")
)

var (
	warehousePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,31}$`)
	hundred          = big.NewRat(100, 1)
)

const (
	// MaxLines is the most lines a purchase order may have.
	MaxLines                  = 500
	expectedDateLayout        = "2006-01-02"
	tolerancePercentMaxPlaces = 2
)

// PurchaseOrder is an order placed with a supplier. Its lines are numbered
// from 1 in the order they were given.
type PurchaseOrder struct {
	ID       string
	Supplier string // supplier code
	Currency string // ISO 4217
	// Partner is the partner that created the order; "" for an internal caller.
	Partner string
	State   POState
	// TolerancePercent is the over-receipt tolerance of lines that set none,
	// canonical ("0", "2.5").
	TolerancePercent string
	Lines            []POLine
	CreatedAt        time.Time
	UpdatedAt        time.Time
	ReleasedAt       time.Time // zero while a draft
	// ReceivedAt and BilledAt are when the first receipt arrived and the
	// first bill was approved; zero until then.
	ReceivedAt time.Time
	BilledAt   time.Time
	// PaidAt is when the order, received in full or closed, had every
	// approved bill paid; zero until then.
	PaidAt  time.Time
	Version int64
}

// POLine is one line of a purchase order.
type POLine struct {
	Number  int
	SKU     string
	BaseUoM string
	// Quantity and UoM are the quantity as entered (canonical decimal) and its
	// unit; Factor is that unit's base units, resolved once from the catalog.
	Quantity string
	UoM      string
	Factor   string
	BaseQty  Qty
	// UnitPrice is the price of one UoM in major units, canonical decimal.
	UnitPrice string
	// Amount is Quantity x UnitPrice in minor units, rounded once half to even.
	Amount           int64
	Warehouse        string
	ExpectedDate     string // "YYYY-MM-DD" or ""
	TolerancePercent string // "" takes the order's
	Received         Qty
	Cancelled        Qty
	// AcceptedUpTo is the received quantity a resolution ACCEPT kept; over-
	// receipt up to it is no discrepancy. Zero when none was accepted.
	AcceptedUpTo Qty
	// ReceivedValue is the value the receipts were booked at (inventory's
	// movement values, reversals subtracted), minor units of the currency.
	ReceivedValue int64
	// BilledQty and BilledValue are what approved and held bills billed of
	// the line and the GRNI they clear.
	BilledQty   Qty
	BilledValue int64
	// ReceiptLocation and ReceiptLot are where the line's last receipt put
	// the stock (a location code of the line's warehouse) and its lot: where
	// a RETURN takes the excess from unless told otherwise. "" when unknown.
	ReceiptLocation string
	ReceiptLot      string
	// Returned is what went back to the supplier (inventory's issues against
	// the line); Received and ReceivedValue are net of it.
	Returned Qty
	// Return is the RETURN in progress; nil when none.
	Return *PendingReturn
	// Resolutions are the line's resolved discrepancies, oldest first.
	Resolutions []ResolvedDiscrepancy
}

// POLineInput is a line as a client gives it.
type POLineInput struct {
	Item, Quantity, UoM, UnitPrice, Warehouse, ExpectedDate, TolerancePercent string
}

// POInput is a purchase order as a client gives it.
type POInput struct {
	Supplier, Currency, TolerancePercent string
	Lines                                []POLineInput
}

// NewPurchaseOrder validates a draft and resolves its lines against the
// catalog: items maps each line's item as given, normalised (NormalizeSKU),
// to the catalog item it names, by SKU or a mapped code (missing ones are
// unknown); the line then stores the SKU. The currency defaults to the supplier's. Every violation is
// reported at once, on its field ("purchase_order.lines[1].quantity.value").
func NewPurchaseOrder(id string, in POInput, sup *Supplier, items map[string]*CatalogItem, partner string, now time.Time) (*PurchaseOrder, error) {
	var v apperr.Violations
	po := &PurchaseOrder{ID: id, Supplier: sup.Code, Partner: partner, State: StateDraft,
		CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Version: 1}
	po.Currency = NormalizeCurrency(in.Currency)
	if po.Currency == "" {
		po.Currency = sup.CurrencyCode
	}
	if !ValidCurrency(po.Currency) || !money.Known(po.Currency) {
		v.Add("purchase_order.currency_code", "must be an ISO 4217 currency code such as \"EUR\"")
	}
	tol, err := parseTolerance(in.TolerancePercent)
	if err != nil {
		v.Add("purchase_order.over_receipt_tolerance_percent", err.Error())
	}
	po.TolerancePercent = tol
	switch {
	case len(in.Lines) == 0:
		v.Add("purchase_order.lines", "at least one line is required")
	case len(in.Lines) > MaxLines:
		v.Add("purchase_order.lines", fmt.Sprintf("at most %d lines", MaxLines))
	}
	var total int64
	for i, li := range in.Lines {
		f := fmt.Sprintf("purchase_order.lines[%d].", i)
		l := POLine{Number: i + 1}
		given := NormalizeSKU(li.Item)
		it := items[given]
		switch {
		case given == "":
			v.Add(f+"item", "is required: the item's SKU or a code mapped to it")
		case it == nil:
			v.Add(f+"item", fmt.Sprintf("no item in the catalog has the SKU, the supplier's part number, ERP or WMS code %q", given))
		default:
			l.SKU = it.SKU
		}
		l.Warehouse = strings.ToUpper(strings.TrimSpace(li.Warehouse))
		if !warehousePattern.MatchString(l.Warehouse) {
			v.Add(f+"warehouse", "is required: a warehouse code of 1-32 characters of A-Z, 0-9, '_' or '-'")
		}
		if d := strings.TrimSpace(li.ExpectedDate); d != "" {
			if _, err := time.Parse(expectedDateLayout, d); err != nil {
				v.Add(f+"expected_date", "must be a date \"YYYY-MM-DD\"")
			}
			l.ExpectedDate = d
		}
		if strings.TrimSpace(li.TolerancePercent) != "" {
			t, err := parseTolerance(li.TolerancePercent)
			if err != nil {
				v.Add(f+"over_receipt_tolerance_percent", err.Error())
			}
			l.TolerancePercent = t
		}
		entered, qerr := parseDecimal(li.Quantity, QtyScale)
		if qerr == nil && entered.Sign() <= 0 {
			qerr = fmt.Errorf("must be greater than zero")
		}
		if qerr != nil {
			v.Add(f+"quantity.value", qerr.Error())
		}
		price, perr := money.ParseAmount(li.UnitPrice, po.Currency)
		if perr != nil {
			v.Add(f+"unit_price", perr.Error())
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
		if qerr != nil || perr != nil {
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
		amount, ok := money.RoundHalfEven(new(big.Rat).Mul(entered, price))
		if !ok || amount > maxAmount {
			v.Add(f+"unit_price", "the line amount is out of range")
			continue
		}
		l.Amount = amount
		if total += amount; total > maxAmount {
			v.Add(f+"unit_price", "the order total is out of range")
		}
		po.Lines = append(po.Lines, l)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return po, nil
}

// maxAmount bounds a line amount and the order total (in minor units), so that
// totals over many orders stay inside int64.
const maxAmount = int64(1) << 53

// parseTolerance reads a tolerance percentage: "" is 0; else a plain decimal
// with at most 2 places, 0 to 100. It returns the canonical form.
func parseTolerance(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "0", nil
	}
	r, err := parseDecimal(s, tolerancePercentMaxPlaces)
	if err != nil {
		return "", err
	}
	if r.Sign() < 0 || r.Cmp(hundred) > 0 {
		return "", fmt.Errorf("must be between 0 and 100")
	}
	return CanonicalDecimal(r), nil
}

// Total is the sum of the lines' amounts.
func (po *PurchaseOrder) Total() int64 {
	var t int64
	for _, l := range po.Lines {
		t += l.Amount
	}
	return t
}

// Name is the order's resource name.
func (po *PurchaseOrder) Name() string { return "purchaseOrders/" + po.ID }

// VisibleTo reports whether a caller sees the order: internal callers
// (partner "") see every order, a partner only its own.
func (po *PurchaseOrder) VisibleTo(partner string) bool {
	return partner == "" || po.Partner == partner
}

// Line returns the line with the given number.
func (po *PurchaseOrder) Line(number int) (*POLine, bool) {
	if number < 1 || number > len(po.Lines) {
		return nil, false
	}
	return &po.Lines[number-1], true
}

// Tolerance is the line's over-receipt tolerance percentage: its own, else the order's.
func (po *PurchaseOrder) Tolerance(l *POLine) string {
	if l.TolerancePercent != "" {
		return l.TolerancePercent
	}
	return po.TolerancePercent
}

// Allowed is the most of a line that may be received without a discrepancy:
// the ordered quantity plus its tolerance, rounded down to the base scale (so
// the allowance never exceeds the tolerance), or what was accepted, if more.
func (po *PurchaseOrder) Allowed(l *POLine) Qty {
	return max(po.withinTolerance(l), l.AcceptedUpTo)
}

// withinTolerance is the ordered quantity plus the tolerance, rounded down.
func (po *PurchaseOrder) withinTolerance(l *POLine) Qty {
	tol, ok := new(big.Rat).SetString(po.Tolerance(l))
	if !ok {
		tol = new(big.Rat) // stored tolerances are canonical decimals; never reached
	}
	micro := new(big.Rat).Mul(big.NewRat(int64(l.BaseQty), 1), new(big.Rat).Add(hundred, tol))
	micro.Quo(micro, hundred)
	return Qty(new(big.Int).Quo(micro.Num(), micro.Denom()).Int64())
}

// OpenDiscrepancy is the line's over-receipt beyond what is allowed: zero when
// there is no open discrepancy.
func (po *PurchaseOrder) OpenDiscrepancy(l *POLine) Qty {
	return max(0, l.Received-po.Allowed(l))
}

// AcceptedOverReceipt is the received quantity kept beyond the tolerance by
// an ACCEPT resolution.
func (po *PurchaseOrder) AcceptedOverReceipt(l *POLine) Qty {
	return max(0, l.AcceptedUpTo-po.withinTolerance(l))
}

// HasOpenDiscrepancy reports whether any line has an open discrepancy, or a
// RETURN in progress (its discrepancy is open until the return is recorded).
func (po *PurchaseOrder) HasOpenDiscrepancy() bool {
	for i := range po.Lines {
		if po.OpenDiscrepancy(&po.Lines[i]) > 0 || po.Lines[i].Return != nil {
			return true
		}
	}
	return false
}

func (po *PurchaseOrder) stateRefused(action, allowed string) error {
	e := apperr.Precondition(ReasonPOState,
		fmt.Sprintf("purchase order %s is %s; only %s can be %s", po.ID, po.State, allowed, action),
		apperr.Violation{Type: "STATE", Subject: po.Name(), Description: "the order is " + po.State.String()})
	e.Metadata = map[string]string{"state": po.State.String()}
	return e
}

func (po *PurchaseOrder) discrepancyRefused(action string) error {
	var vs []apperr.Violation
	for i := range po.Lines {
		l := &po.Lines[i]
		subject := fmt.Sprintf("%s/lines/%d", po.Name(), l.Number)
		if r := l.Return; r != nil {
			vs = append(vs, apperr.Violation{Type: "RETURN_IN_PROGRESS", Subject: subject,
				Description: fmt.Sprintf("a return of %s %s to the supplier is not recorded yet; retry RETURN to complete it", r.Qty, l.BaseUoM)})
		} else if d := po.OpenDiscrepancy(l); d > 0 {
			vs = append(vs, apperr.Violation{Type: "RECEIPT_DISCREPANCY", Subject: subject,
				Description: fmt.Sprintf("%s %s received beyond the tolerance", d, l.BaseUoM)})
		}
	}
	return apperr.Precondition(ReasonOpenDiscrepancy,
		fmt.Sprintf("purchase order %s has an open receipt discrepancy; resolve it before it can be %s", po.ID, action), vs...)
}

func (po *PurchaseOrder) touch(now time.Time) {
	po.UpdatedAt = now.UTC()
	po.Version++
}

// Release sends a draft to the supplier and the warehouse.
func (po *PurchaseOrder) Release(now time.Time) error {
	if po.State != StateDraft {
		return po.stateRefused("released", "a DRAFT")
	}
	po.State = StateReleased
	po.ReleasedAt = now.UTC()
	po.touch(now)
	return nil
}

// Cancel cancels what is not yet received. With nothing received the order
// becomes CANCELLED; with part received, the open remainder of each line is
// cancelled and the order is CLOSED. A fully received, closed or cancelled
// order has nothing open to cancel.
func (po *PurchaseOrder) Cancel(now time.Time) error {
	switch po.State {
	case StateDraft, StateReleased:
		po.cancelRemainder()
		po.State = StateCancelled
	case StatePartiallyReceived:
		if po.HasOpenDiscrepancy() {
			return po.discrepancyRefused("cancelled")
		}
		po.cancelRemainder()
		po.State = StateClosed
	default:
		return po.stateRefused("cancelled", "a DRAFT, RELEASED or PARTIALLY_RECEIVED order")
	}
	po.touch(now)
	return nil
}

// Close ends a received order, or closes a partially received one short
// (cancelling the open remainder). An open discrepancy must be resolved first.
func (po *PurchaseOrder) Close(now time.Time) error {
	if po.State != StateReceived && po.State != StatePartiallyReceived {
		return po.stateRefused("closed", "a RECEIVED or PARTIALLY_RECEIVED order")
	}
	if po.HasOpenDiscrepancy() {
		return po.discrepancyRefused("closed")
	}
	po.cancelRemainder()
	po.State = StateClosed
	po.touch(now)
	return nil
}

func (po *PurchaseOrder) cancelRemainder() {
	for i := range po.Lines {
		l := &po.Lines[i]
		l.Cancelled = max(0, l.BaseQty-l.Received)
	}
}

// ApplyReceipt adds a received quantity to a line (negative for a reversal)
// that arrived at at. Receipts are facts: they are recorded in every state, so
// the sum is right whatever the order of delivery; an open order's state
// follows from the received quantities (RELEASED, PARTIALLY_RECEIVED,
// RECEIVED).
func (po *PurchaseOrder) ApplyReceipt(line int, qty Qty, at, now time.Time) error {
	l, ok := po.Line(line)
	if !ok {
		return fmt.Errorf("purchase order %s line %d: %w", po.ID, line, ErrUnknownLine)
	}
	l.Received += qty
	if qty > 0 {
		firstTime(&po.ReceivedAt, at)
	}
	po.settleReceivedState()
	po.touch(now)
	return nil
}

// settleReceivedState derives an open order's state from its lines.
func (po *PurchaseOrder) settleReceivedState() {
	switch po.State {
	case StateReleased, StatePartiallyReceived, StateReceived:
	default:
		return
	}
	all, some := true, false
	for _, l := range po.Lines {
		if l.Received > 0 {
			some = true
		}
		if l.Received < l.BaseQty {
			all = false
		}
	}
	switch {
	case all:
		po.State = StateReceived
	case some:
		po.State = StatePartiallyReceived
	default:
		po.State = StateReleased
	}
}

// Resolution is how an open over-receipt discrepancy is resolved.
type Resolution int

// The resolutions.
const (
	// ResolveAccept keeps the goods as they are.
	ResolveAccept Resolution = iota + 1
	// ResolveAmend raises the ordered quantity to what was received.
	ResolveAmend
	// ResolveReturn sends the excess back to the supplier (StartReturn,
	// then CompleteReturn once inventory issued it).
	ResolveReturn
)

var resolutionNames = map[Resolution]string{ResolveAccept: "ACCEPT", ResolveAmend: "AMEND", ResolveReturn: "RETURN"}

// String is the resolution's name as the API spells it ("RETURN").
func (r Resolution) String() string {
	if n, ok := resolutionNames[r]; ok {
		return n
	}
	return fmt.Sprintf("Resolution(%d)", int(r))
}

// ParseResolution reads a resolution stored by String.
func ParseResolution(s string) (Resolution, bool) {
	for r, n := range resolutionNames {
		if n == s {
			return r, true
		}
	}
	return 0, false
}

// ResolveDiscrepancy resolves the open discrepancy of a line by ACCEPT or
// AMEND and records the resolution. RETURN goes through StartReturn and
// CompleteReturn, since it needs inventory in between.
func (po *PurchaseOrder) ResolveDiscrepancy(line int, how Resolution, now time.Time) error {
	l, ok := po.Line(line)
	if !ok {
		return apperr.Invalid(apperr.Field("line_number", fmt.Sprintf("purchase order %s has no line %d", po.ID, line)))
	}
	if l.Return != nil {
		return po.returnInProgress(l)
	}
	open := po.OpenDiscrepancy(l)
	if open == 0 {
		return apperr.Precondition(ReasonNoDiscrepancy, fmt.Sprintf("line %d of purchase order %s has no open receipt discrepancy", line, po.ID))
	}
	switch how {
	case ResolveAccept:
		l.AcceptedUpTo = l.Received
	case ResolveAmend:
		factor, _ := new(big.Rat).SetString(l.Factor)
		entered := new(big.Rat).Quo(l.Received.Rat(), factor)
		if _, err := ratToQty(entered); err != nil {
			return apperr.Precondition(ReasonAmendNotExact, fmt.Sprintf(
				"line %d received %s %s, which is not an exact quantity of %s; accept the over-receipt instead", line, l.Received, l.BaseUoM, l.UoM))
		}
		price, err := money.ParseAmount(l.UnitPrice, po.Currency)
		if err != nil {
			return fmt.Errorf("amend line %d: stored unit price: %w", line, err)
		}
		amount, ok := money.RoundHalfEven(new(big.Rat).Mul(entered, price))
		if !ok || amount > maxAmount || po.Total()-l.Amount+amount > maxAmount {
			return apperr.Precondition(ReasonAmendNotExact, fmt.Sprintf("line %d: the amended amount is out of range", line))
		}
		l.Quantity, l.BaseQty, l.Amount = CanonicalDecimal(entered), l.Received, amount
		po.settleReceivedState()
	case ResolveReturn:
		return fmt.Errorf("resolve line %d: RETURN goes through StartReturn and CompleteReturn", line)
	default:
		return apperr.Invalid(apperr.Field("resolution", "is required: ACCEPT, AMEND or RETURN"))
	}
	l.Resolutions = append(l.Resolutions, ResolvedDiscrepancy{Number: len(l.Resolutions) + 1, How: how, Qty: open, At: now.UTC()})
	po.touch(now)
	return nil
}

// MarkBilled records that a bill against the order was approved at at (the
// first approval counts).
func (po *PurchaseOrder) MarkBilled(at, now time.Time) {
	if firstTime(&po.BilledAt, at) {
		po.touch(now)
	}
}

// PurchaseOrderReleased is the fact that a purchase order was released:
// fulfillment opens an expected receipt from it.
type PurchaseOrderReleased struct{ Order PurchaseOrder }
