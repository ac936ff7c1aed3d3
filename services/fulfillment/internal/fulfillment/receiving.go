package fulfillment

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/qty"
)

// Refusal reasons of receiving.
const (
	ReasonReceiptClosed       = "RECEIPT_CLOSED"
	ReasonNoQuarantine        = "NO_QUARANTINE_LOCATION"
	ReasonLocationBlocked     = "LOCATION_BLOCKED"
	ReasonWrongWarehouse      = "WRONG_WAREHOUSE"
	ReasonDiscrepancyResolved = "DISCREPANCY_RESOLVED"
)

// Condition is the state goods arrive in.
type Condition int

// The conditions.
const (
	ConditionGood Condition = iota + 1
	ConditionDamaged
)

func (c Condition) String() string {
	switch c {
	case ConditionGood:
		return "GOOD"
	case ConditionDamaged:
		return "DAMAGED"
	}
	return fmt.Sprintf("Condition(%d)", int(c))
}

// ParseCondition reads a condition stored by String.
func ParseCondition(s string) (Condition, bool) {
	switch s {
	case "GOOD":
		return ConditionGood, true
	case "DAMAGED":
		return ConditionDamaged, true
	}
	return 0, false
}

// LineState is where a received line is.
type LineState int

// The states. A BOOKED line is stock in inventory. A HELD line was scanned
// but could not be booked (no lot for a lot-tracked item, a unit the item does
// not know, no cost for goods not on the order): it waits on its
// discrepancy, whose acceptance books it and whose rejection REJECTS it
// (the goods go back, nothing is booked).
const (
	LineBooked LineState = iota + 1
	LineHeld
	LineRejected
)

var lineStates = map[LineState]string{LineBooked: "BOOKED", LineHeld: "HELD", LineRejected: "REJECTED"}

func (s LineState) String() string {
	if n, ok := lineStates[s]; ok {
		return n
	}
	return fmt.Sprintf("LineState(%d)", int(s))
}

// ParseLineState reads a state stored by String.
func ParseLineState(s string) (LineState, bool) {
	for st, n := range lineStates {
		if n == s {
			return st, true
		}
	}
	return 0, false
}

// DiscrepancyKind is what differs from what was expected.
type DiscrepancyKind int

// The kinds. SHORT is flagged per line when the receipt closes; the others
// the moment the line is scanned (BLIND when a blind receipt is opened).
const (
	DiscrepancyShort DiscrepancyKind = iota + 1
	DiscrepancyOver
	DiscrepancyUnexpectedItem
	DiscrepancyDamaged
	DiscrepancyLotMissing
	DiscrepancyLotExpired
	DiscrepancyUoMNotConvertible
	DiscrepancyNoCost
	DiscrepancyBlind
)

var discrepancyKinds = map[DiscrepancyKind]string{
	DiscrepancyShort: "SHORT", DiscrepancyOver: "OVER", DiscrepancyUnexpectedItem: "UNEXPECTED_ITEM",
	DiscrepancyDamaged: "DAMAGED", DiscrepancyLotMissing: "LOT_MISSING", DiscrepancyLotExpired: "LOT_EXPIRED",
	DiscrepancyUoMNotConvertible: "UOM_NOT_CONVERTIBLE", DiscrepancyNoCost: "NO_COST", DiscrepancyBlind: "BLIND_RECEIPT",
}

func (k DiscrepancyKind) String() string {
	if n, ok := discrepancyKinds[k]; ok {
		return n
	}
	return fmt.Sprintf("DiscrepancyKind(%d)", int(k))
}

// ParseDiscrepancyKind reads a kind stored by String.
func ParseDiscrepancyKind(s string) (DiscrepancyKind, bool) {
	for k, n := range discrepancyKinds {
		if n == s {
			return k, true
		}
	}
	return 0, false
}

// Resolution is how a discrepancy was settled.
type Resolution int

// The resolutions: ACCEPT takes the goods as they came (and books a held
// line, with the corrections it lacked); REJECT refuses them (a held line
// is not booked; booked goods are for the buyer to return or write off).
const (
	ResolutionAccept Resolution = iota + 1
	ResolutionReject
)

func (r Resolution) String() string {
	switch r {
	case ResolutionAccept:
		return "ACCEPT"
	case ResolutionReject:
		return "REJECT"
	case 0:
		return ""
	}
	return fmt.Sprintf("Resolution(%d)", int(r))
}

// ParseResolution reads a resolution stored by String ("" is none).
func ParseResolution(s string) (Resolution, bool) {
	switch s {
	case "ACCEPT":
		return ResolutionAccept, true
	case "REJECT":
		return ResolutionReject, true
	case "":
		return 0, true
	}
	return 0, false
}

// UnitCost is what one unit of uom costs, in a currency.
type UnitCost struct {
	Amount   string // a plain decimal in major units, e.g. "2.50"
	Currency string
	UoM      string
}

// IsZero reports whether no cost is given.
func (c UnitCost) IsZero() bool { return c.Amount == "" }

// ItemFacts is what receiving needs to know of an item, as inventory has it.
type ItemFacts struct {
	SKU            string
	BaseUoM        string
	Factors        map[string]*big.Rat // base units per unit, base included
	LotTracked     bool
	ExpiryRequired bool
	// ScanUoM is the unit the scanned code implies (a case barcode: "CS");
	// "" for the base unit.
	ScanUoM string
}

// Scan is one line as a receiver scans it.
type Scan struct {
	Code      string // any code the item is known by
	Quantity  string
	UoM       string // "" takes the code's unit (ScanUoM), else the base unit
	Lot       string
	Expiry    string // "YYYY-MM-DD"
	Condition Condition
	Location  string // the dock location the goods are received at
	UnitCost  UnitCost
	By        string // who scanned
}

// Check validates what needs no look-up.
func (s Scan) Check() error {
	var v apperr.Violations
	if strings.TrimSpace(s.Code) == "" {
		v.Add("item", "is required: any code the item is known by (SKU, barcode, supplier or ERP code)")
	}
	if r, err := qty.ParseDecimal(strings.TrimSpace(s.Quantity), qty.Scale); err != nil {
		v.Add("quantity.value", err.Error())
	} else if r.Sign() <= 0 {
		v.Add("quantity.value", "must be greater than zero")
	}
	if strings.TrimSpace(s.Location) == "" {
		v.Add("location", "is required: the location the goods are received at")
	}
	if s.Condition != ConditionGood && s.Condition != ConditionDamaged {
		v.Add("condition", "must be GOOD or DAMAGED")
	}
	if s.Expiry != "" {
		if _, err := time.Parse(time.DateOnly, s.Expiry); err != nil {
			v.Add("expiry_date", "must be a date, \"YYYY-MM-DD\"")
		}
	}
	if !s.UnitCost.IsZero() {
		if _, err := qty.ParseDecimal(s.UnitCost.Amount, 6); err != nil {
			v.Add("unit_cost.amount", err.Error())
		}
		if strings.TrimSpace(s.UnitCost.Currency) == "" {
			v.Add("unit_cost.currency_code", "is required with an amount")
		}
	}
	return v.Err()
}

// ReceivedLine is one scanned line of a receipt.
type ReceivedLine struct {
	Number    int
	POLine    int // 0: on no line of the order (unexpected item, blind receipt)
	SKU       string
	Code      string // as scanned
	Quantity  string // as scanned
	UoM       string
	BaseQty   qty.Qty // 0 while the unit is not convertible
	Lot       string
	Expiry    string
	Condition Condition
	// Location is where the stock was booked (the dock, or quarantine for
	// damaged, expired or unexpected goods); for a held line where it
	// waits.
	Location   string
	State      LineState
	Movement   string // inventory's movement id, once booked
	UnitCost   UnitCost
	RecordedAt time.Time
	RecordedBy string
}

// Discrepancy is a difference between what was expected and what arrived.
type Discrepancy struct {
	Receipt    string
	Number     int
	Kind       DiscrepancyKind
	Line       int // the received line; 0 for a receipt-level one (SHORT, BLIND)
	POLine     int
	SKU        string
	Expected   qty.Qty // base units: what was expected (the tolerance's limit for OVER)
	Actual     qty.Qty // base units: what arrived
	Detail     string
	Resolution Resolution // 0 while open
	Note       string
	ResolvedBy string
	CreatedAt  time.Time
	ResolvedAt time.Time
	Warehouse  string
	Partner    string
	// PurchaseOrder is the receipt's order ("" for a blind receipt), as
	// stored; the receipt has it for a discrepancy just made.
	PurchaseOrder string
}

// Open reports whether the discrepancy waits for a resolution.
func (d *Discrepancy) Open() bool { return d.Resolution == 0 }

// Holds reports whether the discrepancy keeps its line from being booked:
// it is open, of a kind that keeps goods out of stock, and its line is HELD.
func (d *Discrepancy) Holds(r *ExpectedReceipt) bool {
	if d.Line == 0 || !d.Open() || !holdingKind(d.Kind) {
		return false
	}
	l := r.line(d.Line)
	return l != nil && l.State == LineHeld
}

// DiscrepancyID names a discrepancy within its receipt.
func DiscrepancyID(receipt string, number int) string { return fmt.Sprintf("%s/%d", receipt, number) }

// Booking is what inventory must book for a line: the plan's side effect,
// done before the line is recorded (by a request id derived from the scan or
// the line, so a retry books once).
type Booking struct {
	SKU, Location string
	Quantity, UoM string
	Lot, Expiry   string
	Cost          UnitCost
	PurchaseOrder string // the source: the order and its line, or
	POLine        int
	Receipt       string // the receipt and its line when on no order line
	ReceiptLine   int
}

// Places is where a warehouse puts goods that need a look before they are
// stock: its quarantine location ("" when it has none).
type Places struct {
	Quarantine string
}

// LinePlan is what recording a scan does: the line, the discrepancies it
// flags at once, and the booking it needs (nil for a held line).
type LinePlan struct {
	Line          ReceivedLine
	Discrepancies []Discrepancy
	Booking       *Booking
}

// PlanLine decides what a scan of item it records: which order line it
// counts against, where it goes, what it flags. today is the warehouse's
// date ("YYYY-MM-DD"), against which an expiry is judged.
func (r *ExpectedReceipt) PlanLine(s Scan, it ItemFacts, places Places, today string, now time.Time) (*LinePlan, error) {
	if r.State == ReceiptClosed {
		return nil, apperr.Precondition(ReasonReceiptClosed, fmt.Sprintf("receipt %s is CLOSED: open a blind receipt for goods that came after it closed", r.ID))
	}
	var v apperr.Violations
	lot := strings.ToUpper(strings.TrimSpace(s.Lot))
	if lot != "" && !it.LotTracked {
		v.Add("lot", fmt.Sprintf("item %s is not lot-tracked: send no lot", it.SKU))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	l := ReceivedLine{Number: len(r.Received) + 1, SKU: it.SKU, Code: strings.TrimSpace(s.Code),
		Quantity: strings.TrimSpace(s.Quantity), Lot: lot, Expiry: s.Expiry, Condition: s.Condition,
		Location: strings.ToUpper(strings.TrimSpace(s.Location)), State: LineBooked,
		RecordedAt: now.UTC(), RecordedBy: s.By}
	l.UoM = strings.ToUpper(strings.TrimSpace(s.UoM))
	if l.UoM == "" {
		l.UoM = it.ScanUoM
	}
	if l.UoM == "" {
		l.UoM = it.BaseUoM
	}
	plan := &LinePlan{}
	flag := func(k DiscrepancyKind, expected, actual qty.Qty, detail string) {
		plan.Discrepancies = append(plan.Discrepancies, Discrepancy{Receipt: r.ID,
			Number: len(r.Discrepancies) + len(plan.Discrepancies) + 1, Kind: k, Line: l.Number,
			SKU: it.SKU, Expected: expected, Actual: actual, Detail: detail, CreatedAt: now.UTC(),
			Warehouse: r.Warehouse, Partner: r.Partner})
	}
	// The unit: one the item knows, converting exactly.
	entered, _ := qty.ParseDecimal(l.Quantity, qty.Scale)
	convertible := false
	if f, ok := it.Factors[l.UoM]; ok {
		if b, err := qty.FromRat(new(big.Rat).Mul(entered, f)); err == nil {
			l.BaseQty, convertible = b, true
		}
	}
	// The order line: the item's first line on the receipt. It depends on
	// nothing received so far, so a retried scan plans the same booking.
	var el *ExpectedLine
	for i := range r.Lines {
		if r.Lines[i].SKU == it.SKU {
			el = &r.Lines[i]
			break
		}
	}
	held := false
	quarantine := false
	switch {
	case !convertible:
		held = true
		flag(DiscrepancyUoMNotConvertible, 0, 0, fmt.Sprintf("%s %s of item %s does not convert exactly to %s (known units: %s)",
			l.Quantity, l.UoM, it.SKU, it.BaseUoM, knownUnits(it)))
	}
	// A notice that names the line's lot fills in a scan without one.
	if el != nil && lot == "" && el.Lot != "" && it.LotTracked {
		lot, l.Lot = el.Lot, el.Lot
		if s.Expiry == "" {
			s.Expiry, l.Expiry = el.Expiry, el.Expiry
		}
	}
	if el != nil {
		l.POLine = el.POLine
	} else if !r.Blind {
		quarantine = true
		flag(DiscrepancyUnexpectedItem, 0, l.BaseQty, fmt.Sprintf("item %s is not on %s", it.SKU, r.document()))
	}
	if it.LotTracked && lot == "" {
		held = true
		flag(DiscrepancyLotMissing, 0, l.BaseQty, fmt.Sprintf("item %s is lot-tracked and the scan has no lot", it.SKU))
	} else if it.ExpiryRequired && s.Expiry == "" {
		held = true
		flag(DiscrepancyLotMissing, 0, l.BaseQty, fmt.Sprintf("item %s needs an expiry date and the scan has none", it.SKU))
	}
	if s.Expiry != "" && s.Expiry < today {
		quarantine = true
		flag(DiscrepancyLotExpired, 0, l.BaseQty, fmt.Sprintf("lot %s expired on %s", lot, s.Expiry))
	}
	if s.Condition == ConditionDamaged {
		quarantine = true
		flag(DiscrepancyDamaged, 0, l.BaseQty, fmt.Sprintf("%s %s of item %s arrived damaged", l.Quantity, l.UoM, it.SKU))
	}
	// The cost: the order's price, else what the scan gives.
	switch {
	case el != nil && el.UnitPrice != "":
		l.UnitCost = UnitCost{Amount: el.UnitPrice, Currency: r.Currency, UoM: or(el.PriceUoM, el.UoM)}
	case !s.UnitCost.IsZero():
		l.UnitCost = s.UnitCost
		l.UnitCost.Currency = strings.ToUpper(strings.TrimSpace(l.UnitCost.Currency))
		l.UnitCost.UoM = strings.ToUpper(strings.TrimSpace(l.UnitCost.UoM))
	default:
		held = true
		if r.Blind {
			flag(DiscrepancyNoCost, 0, l.BaseQty, fmt.Sprintf("a blind receipt has no order price for item %s and the scan gave no unit cost", it.SKU))
		}
		// An unexpected item waits on its UNEXPECTED_ITEM discrepancy.
	}
	// Over the tolerance: on the crossing scan and every one after (a held
	// line, when it is accepted).
	if el != nil && !held {
		d, err := r.over(el, l.BaseQty, l.Number, now)
		if err != nil {
			return nil, err
		}
		if d != nil {
			d.Number = len(r.Discrepancies) + len(plan.Discrepancies) + 1
			plan.Discrepancies = append(plan.Discrepancies, *d)
		}
	}
	for i := range plan.Discrepancies {
		plan.Discrepancies[i].POLine = l.POLine
	}
	if quarantine && !held {
		if places.Quarantine == "" {
			return nil, apperr.Precondition(ReasonNoQuarantine, fmt.Sprintf("warehouse %s has no QUARANTINE location for damaged, expired or unexpected goods: create one in inventory", r.Warehouse))
		}
		l.Location = places.Quarantine
	}
	if held {
		l.State = LineHeld
	} else {
		plan.Booking = l.booking(r)
	}
	plan.Line = l
	return plan, nil
}

// over is the OVER discrepancy of adding base to order line el, nil when it
// stays within the tolerance. Its Number is for the caller to set.
func (r *ExpectedReceipt) over(el *ExpectedLine, base qty.Qty, line int, now time.Time) (*Discrepancy, error) {
	limit, ok := el.limit(r.TolerancePct)
	if !ok {
		return nil, nil
	}
	after, err := qty.Add(el.ReceivedQty, base)
	if err != nil {
		return nil, apperr.Invalid(apperr.Field("quantity.value", err.Error()))
	}
	if after <= limit {
		return nil, nil
	}
	return &Discrepancy{Receipt: r.ID, Kind: DiscrepancyOver, Line: line, POLine: el.POLine, SKU: el.SKU,
		Expected: limit, Actual: after, CreatedAt: now.UTC(), Warehouse: r.Warehouse, Partner: r.Partner,
		Detail: fmt.Sprintf("line %d: %s %s received against %s %s ordered (tolerance %s%%)",
			el.POLine, after, el.BaseUoM, el.BaseQty, el.BaseUoM, el.tolerance(r.TolerancePct))}, nil
}

func knownUnits(it ItemFacts) string {
	var us []string
	for u := range it.Factors {
		us = append(us, u)
	}
	sort.Strings(us)
	return strings.Join(us, ", ")
}

// booking is what inventory books for a line.
func (l *ReceivedLine) booking(r *ExpectedReceipt) *Booking {
	b := &Booking{SKU: l.SKU, Location: l.Location, Quantity: l.Quantity, UoM: l.UoM, Lot: l.Lot,
		Expiry: l.Expiry, Cost: l.UnitCost}
	if l.POLine != 0 && r.PurchaseOrder != "" {
		b.PurchaseOrder, b.POLine = r.PurchaseOrder, l.POLine
	} else {
		b.Receipt, b.ReceiptLine = r.ID, l.Number
	}
	return b
}

// quarantined reports whether line n's goods belong in quarantine: flagged
// damaged, expired, or not on the order.
func (r *ExpectedReceipt) quarantined(n int) bool {
	for _, d := range r.Discrepancies {
		if d.Line == n && (d.Kind == DiscrepancyDamaged || d.Kind == DiscrepancyLotExpired || d.Kind == DiscrepancyUnexpectedItem) {
			return true
		}
	}
	return false
}

func (r *ExpectedReceipt) line(n int) *ReceivedLine {
	if n < 1 || n > len(r.Received) {
		return nil
	}
	return &r.Received[n-1]
}

// tolerance is the line's over-receipt tolerance, percent.
func (l *ExpectedLine) tolerance(orderPct string) string {
	if l.TolerancePct != "" {
		return l.TolerancePct
	}
	if orderPct != "" {
		return orderPct
	}
	return "0"
}

// limit is the most that may be received against the line without a
// discrepancy: ordered × (1 + tolerance/100), exact (a fraction of a
// millionth is dropped: the limit never rounds up).
func (l *ExpectedLine) limit(orderPct string) (qty.Qty, bool) {
	base, err := qty.Parse(l.BaseQty)
	if err != nil {
		return 0, false
	}
	pct, err := qty.ParseDecimal(l.tolerance(orderPct), 6)
	if err != nil {
		return 0, false
	}
	f := new(big.Rat).Add(big.NewRat(1, 1), new(big.Rat).Quo(pct, big.NewRat(100, 1)))
	lim := new(big.Rat).Mul(base.Rat(), f)
	micro := new(big.Rat).Mul(lim, new(big.Rat).SetInt64(int64(qty.One)))
	n := new(big.Int).Quo(micro.Num(), micro.Denom())
	if !n.IsInt64() {
		return 0, false
	}
	return qty.Qty(n.Int64()), true
}

// Record applies a plan made on this receipt (after its booking, if any, is
// done: movement names it). It returns the discrepancies flagged.
func (r *ExpectedReceipt) Record(p *LinePlan, movement string, now time.Time) []Discrepancy {
	l := p.Line
	l.Movement = movement
	r.Received = append(r.Received, l)
	if l.State == LineBooked {
		r.count(&l)
	}
	r.Discrepancies = append(r.Discrepancies, p.Discrepancies...)
	if r.State == ReceiptOpen {
		r.State = ReceiptReceiving
	}
	r.touch(now)
	return p.Discrepancies
}

// count adds a booked line to its order line's received quantities.
func (r *ExpectedReceipt) count(l *ReceivedLine) {
	for i := range r.Lines {
		if r.Lines[i].POLine == l.POLine && l.POLine != 0 {
			r.Lines[i].ReceivedQty += l.BaseQty
			if l.Condition == ConditionDamaged {
				r.Lines[i].DamagedQty += l.BaseQty
			}
			return
		}
	}
}

func (r *ExpectedReceipt) touch(now time.Time) {
	r.UpdatedAt = now.UTC()
	r.Version++
}

// Close ends receiving: every order line received short of what was ordered
// flags a SHORT discrepancy. Closing a closed receipt is refused.
func (r *ExpectedReceipt) Close(by string, now time.Time) ([]Discrepancy, error) {
	if r.State == ReceiptClosed {
		return nil, apperr.Precondition(ReasonReceiptClosed, fmt.Sprintf("receipt %s is CLOSED already", r.ID))
	}
	var flagged []Discrepancy
	for _, el := range r.Lines {
		base, err := qty.Parse(el.BaseQty)
		if err != nil || el.ReceivedQty >= base {
			continue
		}
		d := Discrepancy{Receipt: r.ID, Number: len(r.Discrepancies) + 1, Kind: DiscrepancyShort, POLine: el.POLine,
			SKU: el.SKU, Expected: base, Actual: el.ReceivedQty, CreatedAt: now.UTC(), Warehouse: r.Warehouse, Partner: r.Partner,
			Detail: fmt.Sprintf("line %d: %s %s received of %s %s ordered", el.POLine, el.ReceivedQty, el.BaseUoM, el.BaseQty, el.BaseUoM)}
		r.Discrepancies = append(r.Discrepancies, d)
		flagged = append(flagged, d)
	}
	r.State = ReceiptClosed
	r.ClosedAt = now.UTC()
	r.touch(now)
	return flagged, nil
}

// Resolve is a resolution as the caller gives it, with the corrections a
// held line lacked (all optional otherwise).
type Resolve struct {
	Resolution Resolution
	Note       string
	By         string
	Quantity   string // a corrected quantity, with UoM, for UOM_NOT_CONVERTIBLE
	UoM        string
	Lot        string
	Expiry     string
	UnitCost   UnitCost
}

// ResolvePlan is what resolving does: the booking a held line needs on
// acceptance (nil otherwise), to be done before Apply.
type ResolvePlan struct {
	Number  int
	Line    *ReceivedLine // the held line as it will be booked
	Booking *Booking
}

// PlanResolve checks a resolution of discrepancy n.
func (r *ExpectedReceipt) PlanResolve(n int, in Resolve, it *ItemFacts, places Places) (*ResolvePlan, error) {
	if n < 1 || n > len(r.Discrepancies) {
		return nil, apperr.NotFound("receipt discrepancy", DiscrepancyID(r.ID, n))
	}
	d := &r.Discrepancies[n-1]
	if !d.Open() {
		return nil, apperr.Precondition(ReasonDiscrepancyResolved, fmt.Sprintf("discrepancy %s was resolved already (%s)", DiscrepancyID(r.ID, n), d.Resolution))
	}
	var v apperr.Violations
	if in.Resolution != ResolutionAccept && in.Resolution != ResolutionReject {
		v.Add("resolution", "must be ACCEPT or REJECT")
	}
	if strings.TrimSpace(in.Note) == "" {
		v.Add("note", "is required: why it is resolved this way")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	p := &ResolvePlan{Number: n}
	if !d.Holds(r) || in.Resolution == ResolutionReject {
		return p, nil
	}
	// Accepting a held line books it: with what it lacked.
	l := *r.line(d.Line)
	if in.Quantity != "" || in.UoM != "" {
		l.Quantity, l.UoM = strings.TrimSpace(in.Quantity), strings.ToUpper(strings.TrimSpace(in.UoM))
	}
	if in.Lot != "" {
		l.Lot = strings.ToUpper(strings.TrimSpace(in.Lot))
	}
	if in.Expiry != "" {
		l.Expiry = in.Expiry
	}
	if !in.UnitCost.IsZero() {
		l.UnitCost = UnitCost{Amount: in.UnitCost.Amount, Currency: strings.ToUpper(strings.TrimSpace(in.UnitCost.Currency)),
			UoM: strings.ToUpper(strings.TrimSpace(in.UnitCost.UoM))}
	}
	if it == nil {
		return nil, fmt.Errorf("resolving a held line needs its item")
	}
	entered, err := qty.ParseDecimal(l.Quantity, qty.Scale)
	if err != nil {
		v.Add("quantity.value", err.Error())
	} else if f, ok := it.Factors[l.UoM]; !ok {
		v.Add("quantity.uom", fmt.Sprintf("unit %q is not known for item %s (known units: %s)", l.UoM, it.SKU, knownUnits(*it)))
	} else if b, err := qty.FromRat(new(big.Rat).Mul(entered, f)); err != nil {
		v.Add("quantity.value", err.Error())
	} else {
		l.BaseQty = b
	}
	if it.LotTracked && l.Lot == "" {
		v.Add("lot", fmt.Sprintf("is required: item %s is lot-tracked", it.SKU))
	}
	if it.ExpiryRequired && l.Expiry == "" {
		v.Add("expiry_date", fmt.Sprintf("is required: item %s needs an expiry date", it.SKU))
	}
	if l.UnitCost.IsZero() {
		v.Add("unit_cost", "is required: the goods are on no order line, so their cost must be given")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if r.quarantined(l.Number) {
		if places.Quarantine == "" {
			return nil, apperr.Precondition(ReasonNoQuarantine, fmt.Sprintf("warehouse %s has no QUARANTINE location for damaged, expired or unexpected goods: create one in inventory", r.Warehouse))
		}
		l.Location = places.Quarantine
	}
	l.State = LineBooked
	p.Line, p.Booking = &l, l.booking(r)
	return p, nil
}

// Resolve applies a checked resolution (after its booking, if any: movement
// names it) and returns the discrepancies it settled, the one asked first.
// Accepting a held line books it and settles its other holding
// discrepancies with it (an OVER it now causes is flagged and returned
// second); rejecting it rejects the line and settles them too.
func (r *ExpectedReceipt) Resolve(p *ResolvePlan, in Resolve, movement string, now time.Time) (settled, flagged []Discrepancy) {
	d := &r.Discrepancies[p.Number-1]
	held := d.Holds(r)
	settle := func(x *Discrepancy) {
		x.Resolution, x.Note, x.ResolvedBy, x.ResolvedAt = in.Resolution, strings.TrimSpace(in.Note), in.By, now.UTC()
		settled = append(settled, *x)
	}
	settle(d)
	if held {
		l := r.line(d.Line)
		for i := range r.Discrepancies {
			x := &r.Discrepancies[i]
			if x.Line == d.Line && x.Open() && holdingKind(x.Kind) {
				settle(x)
			}
		}
		if p.Line != nil {
			for i := range r.Lines {
				if el := &r.Lines[i]; el.POLine == p.Line.POLine && p.Line.POLine != 0 {
					if o, _ := r.over(el, p.Line.BaseQty, l.Number, now); o != nil {
						o.Number = len(r.Discrepancies) + 1
						r.Discrepancies = append(r.Discrepancies, *o)
						flagged = append(flagged, *o)
					}
				}
			}
			*l = *p.Line
			l.Movement = movement
			r.count(l)
		} else {
			l.State = LineRejected
		}
	}
	r.touch(now)
	return settled, flagged
}

func holdingKind(k DiscrepancyKind) bool {
	switch k {
	case DiscrepancyUoMNotConvertible, DiscrepancyUnexpectedItem, DiscrepancyLotMissing, DiscrepancyNoCost:
		return true
	}
	return false
}

// Blind is what a receiver knows of goods that came with no notice.
type Blind struct {
	Warehouse string
	Supplier  string
	Reference string
	By        string
}

// NewBlindReceipt opens a receipt for goods with no order or notice, with id
// (derived from the request) and its BLIND_RECEIPT discrepancy flagged.
func NewBlindReceipt(id string, b Blind, partner string, now time.Time) (*ExpectedReceipt, error) {
	var v apperr.Violations
	wh := strings.ToUpper(strings.TrimSpace(b.Warehouse))
	if wh == "" {
		v.Add("warehouse", "is required: the warehouse code the goods arrived at")
	}
	if len(b.Reference) > 200 {
		v.Add("reference", "must be at most 200 characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	r := &ExpectedReceipt{ID: id, Supplier: strings.ToUpper(strings.TrimSpace(b.Supplier)), Warehouse: wh, Partner: partner,
		Blind: true, Reference: strings.TrimSpace(b.Reference), State: ReceiptOpen, CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Version: 1}
	r.Discrepancies = []Discrepancy{{Receipt: id, Number: 1, Kind: DiscrepancyBlind, CreatedAt: now.UTC(), Warehouse: wh, Partner: partner,
		Detail: "goods arrived with no purchase order or shipping notice"}}
	return r, nil
}

// Totals sums a receipt per item: what was expected, received (booked) and
// received damaged, in base units, and the discrepancies still open.
type Totals struct {
	Items             []ItemTotal
	Lines             int
	OpenDiscrepancies int
}

// ItemTotal is one item's totals.
type ItemTotal struct {
	SKU                         string
	Expected, Received, Damaged qty.Qty
}

// Totals of the receipt, by item in SKU order.
func (r *ExpectedReceipt) Totals() Totals {
	by := map[string]*ItemTotal{}
	get := func(sku string) *ItemTotal {
		if by[sku] == nil {
			by[sku] = &ItemTotal{SKU: sku}
		}
		return by[sku]
	}
	for _, el := range r.Lines {
		if b, err := qty.Parse(el.BaseQty); err == nil {
			get(el.SKU).Expected += b
		}
	}
	for _, l := range r.Received {
		if l.State != LineBooked {
			continue
		}
		t := get(l.SKU)
		t.Received += l.BaseQty
		if l.Condition == ConditionDamaged {
			t.Damaged += l.BaseQty
		}
	}
	out := Totals{Lines: len(r.Received)}
	var skus []string
	for s := range by {
		skus = append(skus, s)
	}
	sort.Strings(skus)
	for _, s := range skus {
		out.Items = append(out.Items, *by[s])
	}
	for _, d := range r.Discrepancies {
		if d.Open() {
			out.OpenDiscrepancies++
		}
	}
	return out
}

// Receiving events.

// ReceiptLineRecorded: a line was scanned (booked or held).
type ReceiptLineRecorded struct {
	Receipt ExpectedReceipt
	Line    ReceivedLine
}

// ReceiptDiscrepancyFlagged: a discrepancy was found, the moment it was.
type ReceiptDiscrepancyFlagged struct {
	Receipt     ExpectedReceipt
	Discrepancy Discrepancy
}

// ReceiptDiscrepancyResolved: a discrepancy was settled.
type ReceiptDiscrepancyResolved struct {
	Receipt     ExpectedReceipt
	Discrepancy Discrepancy
}

// ReceiptClosedEvent: receiving ended, with its totals (the state
// ReceiptClosed has the plain name).
type ReceiptClosedEvent struct {
	Receipt ExpectedReceipt
	Totals  Totals
}
