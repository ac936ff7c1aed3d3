package fulfillment

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
	"trueup.dev/platform/qty"
)

// Refusal reasons of cycle counts.
const (
	// ReasonCountEmpty: a count that finds nothing to count (no location
	// asked for, and no stock of the items asked for anywhere).
	ReasonCountEmpty = "COUNT_EMPTY"
	// ReasonCountLineState: a decision on a line that waits for none.
	ReasonCountLineState = "COUNT_LINE_STATE"
	// ReasonCountSelfReview: the counter deciding on their own count.
	ReasonCountSelfReview = "COUNT_SELF_REVIEW"
)

// DefaultCountMaxQty is the largest difference, in base units either way,
// a count books without an approval when the count sets no threshold.
const DefaultCountMaxQty = 10 * qty.One

// maxCountTargets bounds the tasks one count opens.
const maxCountTargets = 1000

// countSkew is how far into the future a count time may lie (the scanner's
// clock may run ahead); inventory allows as much.
const countSkew = 5 * time.Minute

// CountThresholds say which differences need an approval before they are
// booked: one whose quantity is above MaxQty, or whose value is above
// MaxValue. A difference valued in another currency than MaxValue's cannot
// be compared, and needs an approval too.
type CountThresholds struct {
	MaxQty   qty.Qty      // base units, either way
	MaxValue *money.Money // nil: value is not judged
}

// DefaultCountThresholds are a count's thresholds when it sets none.
func DefaultCountThresholds() CountThresholds { return CountThresholds{MaxQty: DefaultCountMaxQty} }

// NeedsApproval reports whether a difference of diff base units worth
// value is above a threshold.
func (t CountThresholds) NeedsApproval(diff qty.Qty, value money.Money) bool {
	if absQty(diff) > t.MaxQty {
		return true
	}
	if t.MaxValue == nil || value.Minor == 0 {
		return false
	}
	return value.Currency != t.MaxValue.Currency || absMinor(value.Minor) > t.MaxValue.Minor
}

func (t CountThresholds) check(v *apperr.Violations) {
	if t.MaxQty < 0 {
		v.Add("thresholds.max_base_quantity", "must not be negative")
	}
	if t.MaxValue != nil {
		if _, err := money.NormalizeCurrency(t.MaxValue.Currency); err != nil {
			v.Add("thresholds.max_value.currency_code", err.Error())
		}
		if t.MaxValue.Minor < 0 {
			v.Add("thresholds.max_value.minor_units", "must not be negative")
		}
	}
}

func absQty(q qty.Qty) qty.Qty {
	if q < 0 {
		return -q
	}
	return q
}

func absMinor(m int64) int64 {
	if m < 0 {
		return -m
	}
	return m
}

// CountState is where a count is.
type CountState int

// The states: OPEN while a task is to count; IN_REVIEW once every task is
// counted and a line still waits for an approval or its booking; COMPLETED
// when every line is booked, rejected or superseded.
const (
	CountOpen CountState = iota + 1
	CountInReview
	CountCompleted
)

var countStates = map[CountState]string{CountOpen: "OPEN", CountInReview: "IN_REVIEW", CountCompleted: "COMPLETED"}

func (s CountState) String() string {
	if n, ok := countStates[s]; ok {
		return n
	}
	return fmt.Sprintf("CountState(%d)", int(s))
}

// ParseCountState reads a state stored by String.
func ParseCountState(s string) (CountState, bool) {
	for st, n := range countStates {
		if n == s {
			return st, true
		}
	}
	return 0, false
}

// CountLineState is where one counted item and lot is.
type CountLineState int

// The states. A line within the thresholds is APPROVED when recorded; one
// above them waits PENDING_APPROVAL for a reviewer, who APPROVES or REJECTS
// it. An APPROVED line is booked in inventory (BOOKED), unless inventory
// finds the location was counted again after this count was taken
// (SUPERSEDED: that later count settled it), or refuses it (back to
// PENDING_APPROVAL, with inventory's reason as the note).
const (
	CountLinePending CountLineState = iota + 1
	CountLineApproved
	CountLineBooked
	CountLineRejected
	CountLineSuperseded
)

var countLineStates = map[CountLineState]string{CountLinePending: "PENDING_APPROVAL", CountLineApproved: "APPROVED",
	CountLineBooked: "BOOKED", CountLineRejected: "REJECTED", CountLineSuperseded: "SUPERSEDED"}

func (s CountLineState) String() string {
	if n, ok := countLineStates[s]; ok {
		return n
	}
	return fmt.Sprintf("CountLineState(%d)", int(s))
}

// ParseCountLineState reads a state stored by String.
func ParseCountLineState(s string) (CountLineState, bool) {
	for st, n := range countLineStates {
		if n == s {
			return st, true
		}
	}
	return 0, false
}

// CountTask is one task of a count, as the count keeps it: where it counts
// and whether it was counted. The queue's own record is the Task of the
// same id.
type CountTask struct {
	ID       string
	Location string
	SKU      string // "": every item at the location
	Recounts int    // the line a recount counts again; 0 for a first count
	Done     bool
}

// CountLine is one item and lot counted at a location, and what became of
// its difference. Expected, Difference and Value are the reviewer's, never
// the counter's: a count is blind.
type CountLine struct {
	Number   int
	Task     string
	Location string
	SKU      string
	Lot      string
	Expiry   string // for a lot found that inventory does not know
	BaseUoM  string
	Counted  qty.Qty // base units
	// Uncounted: inventory had the item and lot at the location and the
	// counter did not count it, so it was counted as none.
	Uncounted bool
	// Expected is what inventory held at the location at CountedAt;
	// Difference = Counted - Expected, worth Value. As judged when the line
	// was recorded, then as booked.
	Expected   qty.Qty
	Difference qty.Qty
	Value      money.Money
	State      CountLineState
	ReasonCode string // the inventory reason code the difference is booked with
	CountedBy  string
	// CountedAt is when the stock was counted: the difference is against the
	// location as it was then, so stock moved after it is not counted twice.
	CountedAt  time.Time
	RecordedAt time.Time
	ReviewedBy string
	ReviewNote string
	ReviewedAt time.Time
	Movement   string // inventory's count movement, once booked
	BookedAt   time.Time
	Note       string // why it waits or was not booked: inventory's refusal
	Recount    string // the task counting it again, after a rejection
}

// Count is a cycle count document: locations (every item in them) and items
// (every location holding them) of a warehouse, one COUNT task per
// location, the lines counted, and the thresholds above which a difference
// waits for an approval.
type Count struct {
	ID         string
	Warehouse  string
	Partner    string
	Locations  []string // as asked
	Items      []string // as asked, by SKU
	ReasonCode string   // "": inventory's COUNT_DIFFERENCE
	Thresholds CountThresholds
	State      CountState
	Tasks      []CountTask
	Lines      []CountLine
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// CompletedAt is when the last line was settled; zero until then.
	CompletedAt time.Time
	Version     int64
}

// CountSpec is what a count is asked for.
type CountSpec struct {
	Warehouse  string
	Locations  []string
	Items      []string // any code the items are known by; the app resolves them to SKUs
	ReasonCode string
	// Thresholds nil: DefaultCountThresholds.
	Thresholds *CountThresholds
	By         string
}

// Normalize trims and upper-cases codes, drops duplicates and checks what
// needs no look-up.
func (s *CountSpec) Normalize() error {
	var v apperr.Violations
	s.Warehouse = strings.ToUpper(strings.TrimSpace(s.Warehouse))
	if s.Warehouse == "" {
		v.Add("warehouse", "is required")
	}
	s.ReasonCode = strings.ToUpper(strings.TrimSpace(s.ReasonCode))
	s.Locations = codes(s.Locations, "locations", &v)
	s.Items = codes(s.Items, "items", &v)
	if len(s.Locations) == 0 && len(s.Items) == 0 {
		v.Add("locations", "name a location or an item to count")
	}
	if len(s.Locations)+len(s.Items) > maxCountTargets {
		v.Add("locations", fmt.Sprintf("at most %d locations and items in one count", maxCountTargets))
	}
	if s.Thresholds != nil {
		s.Thresholds.check(&v)
	}
	return v.Err()
}

func codes(in []string, field string, v *apperr.Violations) []string {
	seen := map[string]bool{}
	var out []string
	for i, c := range in {
		c = strings.ToUpper(strings.TrimSpace(c))
		switch {
		case c == "" || strings.ContainsAny(c, " \t"):
			v.Add(fmt.Sprintf("%s[%d]", field, i), "must be a code, without spaces")
		case !seen[c]:
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// CountTarget is one task's worth of counting: a location, and the item
// counted there ("" for every item).
type CountTarget struct {
	Location string
	SKU      string
}

// CountTargets expands a count into its tasks: one per location asked for
// (every item there), then one per location holding an item asked for,
// unless that location is counted whole already. holding maps each item's
// SKU to the locations that hold it. Targets are in location order, an
// item's after its location's whole count, so the tasks' order is stable.
func CountTargets(locations []string, items []string, holding map[string][]string) []CountTarget {
	whole := map[string]bool{}
	var out []CountTarget
	for _, l := range locations {
		whole[l] = true
		out = append(out, CountTarget{Location: l})
	}
	seen := map[CountTarget]bool{}
	for _, sku := range items {
		for _, l := range holding[sku] {
			t := CountTarget{Location: l, SKU: sku}
			if !whole[l] && !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Location != out[j].Location {
			return out[i].Location < out[j].Location
		}
		return out[i].SKU < out[j].SKU
	})
	return out
}

// NewCount opens a count with id of spec (normalised) over targets, with a
// COUNT task for each.
func NewCount(id string, spec CountSpec, targets []CountTarget, partner string, now time.Time) (*Count, []*Task, error) {
	if len(targets) == 0 {
		return nil, nil, apperr.Precondition(ReasonCountEmpty, fmt.Sprintf("nothing to count: no stock of %s in warehouse %s",
			strings.Join(spec.Items, ", "), spec.Warehouse))
	}
	if len(targets) > maxCountTargets {
		return nil, nil, apperr.Invalid(apperr.Field("items", fmt.Sprintf("the items are in %d locations; one count opens at most %d tasks", len(targets), maxCountTargets)))
	}
	th := DefaultCountThresholds()
	if spec.Thresholds != nil {
		th = *spec.Thresholds
	}
	c := &Count{ID: id, Warehouse: spec.Warehouse, Partner: partner, Locations: spec.Locations, Items: spec.Items,
		ReasonCode: spec.ReasonCode, Thresholds: th, State: CountOpen, CreatedBy: spec.By,
		CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Version: 1}
	var tasks []*Task
	for _, t := range targets {
		tasks = append(tasks, c.addTask(t, 0, now))
	}
	return c, tasks, nil
}

// addTask adds a task counting t (again, for line recounts) and returns it
// for the queue. It carries no quantity: the counter does not see what
// inventory expects.
func (c *Count) addTask(t CountTarget, recounts int, now time.Time) *Task {
	id := fmt.Sprintf("%s-%d", c.ID, len(c.Tasks)+1)
	c.Tasks = append(c.Tasks, CountTask{ID: id, Location: t.Location, SKU: t.SKU, Recounts: recounts})
	return &Task{ID: id, Type: TaskCount, Warehouse: c.Warehouse, Zone: ZoneOf(t.Location), State: TaskOpen,
		SKU: t.SKU, From: t.Location, Reference: c.ID, Partner: c.Partner,
		CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Version: 1}
}

// VisibleTo reports whether a caller sees the count: internal callers all,
// a partner its own.
func (c *Count) VisibleTo(partner string) bool { return partner == "" || c.Partner == partner }

// Task is the count's record of task id; nil when it has none.
func (c *Count) Task(id string) *CountTask {
	for i := range c.Tasks {
		if c.Tasks[i].ID == id {
			return &c.Tasks[i]
		}
	}
	return nil
}

// Reveals reports whether a line's expected quantity, difference and value
// may be shown: once no task of the count still counts its location (and
// item), so a recount stays blind.
func (c *Count) Reveals(l CountLine) bool {
	for _, t := range c.Tasks {
		if !t.Done && t.Location == l.Location && (t.SKU == "" || t.SKU == l.SKU) {
			return false
		}
	}
	return true
}

// CountScan is one line as the counter records it.
type CountScan struct {
	Code     string // any code the item is known by
	Lot      string
	Expiry   string // "YYYY-MM-DD", for a lot inventory does not know yet
	Quantity string // 0 or more, in UoM
	UoM      string // "": the code's unit, else the base unit
}

// CheckCountScans validates what needs no look-up.
func CheckCountScans(scans []CountScan) error {
	var v apperr.Violations
	if len(scans) > maxCountTargets {
		v.Add("lines", fmt.Sprintf("at most %d lines", maxCountTargets))
	}
	for i, s := range scans {
		f := fmt.Sprintf("lines[%d].", i)
		if strings.TrimSpace(s.Code) == "" {
			v.Add(f+"item", "is required: any code the item is known by")
		}
		if r, err := qty.ParseDecimal(strings.TrimSpace(s.Quantity), qty.Scale); err != nil {
			v.Add(f+"quantity.value", err.Error())
		} else if r.Sign() < 0 {
			v.Add(f+"quantity.value", "must not be negative (count what is there; 0 for none)")
		}
		if s.Expiry != "" {
			if _, err := time.Parse(time.DateOnly, s.Expiry); err != nil {
				v.Add(f+"expiry_date", "must be a date, \"YYYY-MM-DD\"")
			}
		}
	}
	return v.Err()
}

// Counted is what the counter found of one item and lot, in base units:
// the scans of it added up.
type Counted struct {
	SKU, Lot, Expiry, BaseUoM string
	Qty                       qty.Qty
	Uncounted                 bool
}

// CountedOf converts scan number i of item it to base units, checking its
// unit and lot.
func CountedOf(i int, s CountScan, it ItemFacts) (Counted, error) {
	f := fmt.Sprintf("lines[%d].", i)
	uom := strings.ToUpper(strings.TrimSpace(s.UoM))
	if uom == "" {
		uom = it.ScanUoM
	}
	if uom == "" {
		uom = it.BaseUoM
	}
	var v apperr.Violations
	lot := strings.ToUpper(strings.TrimSpace(s.Lot))
	switch {
	case it.LotTracked && lot == "":
		v.Add(f+"lot", fmt.Sprintf("item %s is lot-tracked: count each lot on its own line", it.SKU))
	case !it.LotTracked && lot != "":
		v.Add(f+"lot", fmt.Sprintf("item %s is not lot-tracked: send no lot", it.SKU))
	}
	entered, _ := qty.ParseDecimal(strings.TrimSpace(s.Quantity), qty.Scale)
	var base qty.Qty
	if factor, ok := it.Factors[uom]; !ok {
		v.Add(f+"quantity.uom", fmt.Sprintf("item %s has no unit %s (known: %s)", it.SKU, uom, knownUnits(it)))
	} else if b, err := qty.FromRat(new(big.Rat).Mul(entered, factor)); err != nil {
		v.Add(f+"quantity.value", fmt.Sprintf("%s %s does not convert exactly to %s: %v", s.Quantity, uom, it.BaseUoM, err))
	} else {
		base = b
	}
	if err := v.Err(); err != nil {
		return Counted{}, err
	}
	return Counted{SKU: it.SKU, Lot: lot, Expiry: strings.TrimSpace(s.Expiry), BaseUoM: it.BaseUoM, Qty: base}, nil
}

// AddUp sums what was counted of each item and lot (an item scanned twice,
// or in cases and eaches, is one line), keeping the first-scanned order.
func AddUp(cs []Counted) ([]Counted, error) {
	var out []Counted
	at := map[[2]string]int{}
	for _, c := range cs {
		k := [2]string{c.SKU, c.Lot}
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, c)
			continue
		}
		sum, err := qty.Add(out[i].Qty, c.Qty)
		if err != nil {
			return nil, apperr.Invalid(apperr.Field("lines", fmt.Sprintf("item %s lot %q: %v", c.SKU, c.Lot, err)))
		}
		out[i].Qty = sum
		if out[i].Expiry == "" {
			out[i].Expiry = c.Expiry
		}
	}
	return out, nil
}

// CheckCountTime refuses a count time before the task existed or in the
// future; zero means now.
func CheckCountTime(k *Task, at, now time.Time) (time.Time, error) {
	if at.IsZero() {
		return now.UTC().Truncate(time.Microsecond), nil
	}
	at = at.UTC().Truncate(time.Microsecond)
	switch {
	case at.After(now.Add(countSkew)):
		return time.Time{}, apperr.Invalid(apperr.Field("count_time", "is in the future: record when the stock was counted"))
	case at.Before(k.CreatedAt):
		return time.Time{}, apperr.Invalid(apperr.Field("count_time", fmt.Sprintf("is before task %s was created (%s)", k.ID, k.CreatedAt.Format(time.RFC3339))))
	}
	return at, nil
}

// CountOutcome is what inventory would book, or booked, for a line: the
// difference as of the count time, and its value.
type CountOutcome struct {
	Counted    qty.Qty
	Difference qty.Qty
	Value      money.Money
	Movement   string // "" for a preview
}

// CountFinding is one line to record: what was counted and what inventory
// would book for it; Note is set (and the line waits for a reviewer) when
// inventory would refuse it, Superseded when a later count settled it.
type CountFinding struct {
	Counted    Counted
	Outcome    CountOutcome
	Note       string
	Superseded bool
}

// Record records task's findings as the count's next lines, counted by by
// at at, and marks the task counted. A line within the thresholds is
// APPROVED (to be booked); one above them, or one inventory would refuse,
// waits PENDING_APPROVAL. It returns the lines recorded.
func (c *Count) Record(task string, fs []CountFinding, by string, at, now time.Time) ([]CountLine, error) {
	k := c.Task(task)
	if k == nil {
		return nil, apperr.NotFound("task of count "+c.ID, task)
	}
	if k.Done {
		return nil, apperr.Precondition(ReasonTaskState, fmt.Sprintf("task %s of count %s is counted already", task, c.ID))
	}
	first := len(c.Lines)
	for _, f := range fs {
		l := CountLine{Number: len(c.Lines) + 1, Task: task, Location: k.Location, SKU: f.Counted.SKU, Lot: f.Counted.Lot,
			Expiry: f.Counted.Expiry, BaseUoM: f.Counted.BaseUoM, Counted: f.Counted.Qty, Uncounted: f.Counted.Uncounted,
			Expected: f.Counted.Qty - f.Outcome.Difference, Difference: f.Outcome.Difference, Value: f.Outcome.Value,
			ReasonCode: c.ReasonCode, CountedBy: by, CountedAt: at.UTC(), RecordedAt: now.UTC(), Note: f.Note}
		switch {
		case f.Superseded:
			l.State = CountLineSuperseded
		case f.Note != "" || c.Thresholds.NeedsApproval(l.Difference, l.Value):
			l.State = CountLinePending
		default:
			l.State = CountLineApproved
		}
		c.Lines = append(c.Lines, l)
	}
	k.Done = true
	c.touch(now)
	return c.Lines[first:], nil
}

// ToBook lists the lines approved and not booked yet.
func (c *Count) ToBook() []CountLine {
	var out []CountLine
	for _, l := range c.Lines {
		if l.State == CountLineApproved {
			out = append(out, l)
		}
	}
	return out
}

// Line is line number n; nil when there is none.
func (c *Count) Line(n int) *CountLine {
	if n < 1 || n > len(c.Lines) {
		return nil
	}
	return &c.Lines[n-1]
}

// Booked records that inventory booked approved line n as o. It reports
// false (and changes nothing) when the line is not waiting to be booked.
func (c *Count) Booked(n int, o CountOutcome, now time.Time) bool {
	l := c.Line(n)
	if l == nil || l.State != CountLineApproved {
		return false
	}
	l.State, l.Movement, l.BookedAt, l.Note = CountLineBooked, o.Movement, now.UTC(), ""
	l.Difference, l.Value, l.Expected = o.Difference, o.Value, l.Counted-o.Difference
	c.touch(now)
	return true
}

// NotBooked records that inventory did not book approved line n: it was
// superseded by a later count, or refused (the line goes back to a reviewer
// with note). It reports false when the line is not waiting to be booked.
func (c *Count) NotBooked(n int, superseded bool, note string, now time.Time) bool {
	l := c.Line(n)
	if l == nil || l.State != CountLineApproved {
		return false
	}
	l.State, l.Note = CountLinePending, note
	if superseded {
		l.State = CountLineSuperseded
	}
	c.touch(now)
	return true
}

// CountDecision is a reviewer's decision on one line waiting for approval.
type CountDecision struct {
	Line    int
	Approve bool
	// Recount opens a task counting the rejected line's item at its
	// location again.
	Recount bool
	Reason  string // why: required
	// ReasonCode, when set, is the inventory reason code the approved
	// difference is booked with instead of the count's.
	ReasonCode string
}

// CheckDecisions validates what needs no look-up.
func CheckDecisions(ds []CountDecision) error {
	var v apperr.Violations
	if len(ds) == 0 {
		v.Add("decisions", "is required: a decision per line reviewed")
	}
	seen := map[int]bool{}
	for i, d := range ds {
		f := fmt.Sprintf("decisions[%d].", i)
		if d.Line < 1 {
			v.Add(f+"line", "is required: the line's number")
		} else if seen[d.Line] {
			v.Add(f+"line", fmt.Sprintf("line %d has a decision already", d.Line))
		}
		seen[d.Line] = true
		if strings.TrimSpace(d.Reason) == "" {
			v.Add(f+"reason", "is required: why the difference is approved or rejected")
		}
		if d.Approve && d.Recount {
			v.Add(f+"recount", "only a rejected line is counted again")
		}
	}
	return v.Err()
}

// Review applies a reviewer's decisions: approved lines are booked next,
// rejected ones are not, and a rejection with Recount opens a new task for
// the line's item at its location (returned for the queue). The reviewer
// must not be who counted the line, and every line decided must wait for
// an approval; one refusal refuses all.
func (c *Count) Review(ds []CountDecision, by string, now time.Time) ([]*Task, error) {
	for _, d := range ds {
		l := c.Line(d.Line)
		switch {
		case l == nil:
			return nil, apperr.NotFound("line of count "+c.ID, fmt.Sprint(d.Line))
		case l.State != CountLinePending:
			return nil, apperr.Precondition(ReasonCountLineState, fmt.Sprintf("line %d of count %s is %s: only a line PENDING_APPROVAL is reviewed", l.Number, c.ID, l.State))
		case l.CountedBy == by:
			return nil, apperr.Precondition(ReasonCountSelfReview, fmt.Sprintf("line %d of count %s was counted by %s, who may not review it: another person approves or rejects it", l.Number, c.ID, by))
		}
	}
	var recounts []*Task
	for _, d := range ds {
		l := c.Line(d.Line)
		l.ReviewedBy, l.ReviewNote, l.ReviewedAt = by, strings.TrimSpace(d.Reason), now.UTC()
		if d.Approve {
			l.State = CountLineApproved
			if rc := strings.ToUpper(strings.TrimSpace(d.ReasonCode)); rc != "" {
				l.ReasonCode = rc
			}
			continue
		}
		l.State = CountLineRejected
		if d.Recount {
			k := c.addTask(CountTarget{Location: l.Location, SKU: l.SKU}, l.Number, now)
			l.Recount = k.ID
			recounts = append(recounts, k)
		}
	}
	c.touch(now)
	return recounts, nil
}

// touch moves the count's state on: OPEN while a task is to count, then
// IN_REVIEW while a line waits, COMPLETED when none does.
func (c *Count) touch(now time.Time) {
	c.UpdatedAt = now.UTC()
	c.Version++
	open, waiting := false, false
	for _, t := range c.Tasks {
		open = open || !t.Done
	}
	for _, l := range c.Lines {
		waiting = waiting || l.State == CountLinePending || l.State == CountLineApproved
	}
	switch {
	case open:
		c.State, c.CompletedAt = CountOpen, time.Time{}
	case waiting:
		c.State, c.CompletedAt = CountInReview, time.Time{}
	default:
		if c.State != CountCompleted {
			c.CompletedAt = now.UTC()
		}
		c.State = CountCompleted
	}
}

// PendingLines is how many lines wait for a reviewer.
func (c *Count) PendingLines() int {
	n := 0
	for _, l := range c.Lines {
		if l.State == CountLinePending {
			n++
		}
	}
	return n
}

// CountRecorded is the fact that a count's task was counted: its lines, as
// recorded (with what inventory expected, for reviewers and systems).
type CountRecorded struct {
	Count Count
	Task  string
	Lines []CountLine
}

// CountApprovalRequired is the fact that a line's difference waits for a
// reviewer: above a threshold, or refused by inventory.
type CountApprovalRequired struct {
	Count Count
	Line  CountLine
}

// CountDifferenceBooked is the fact that inventory booked a line's
// difference (0 included: the count is on inventory's journal).
type CountDifferenceBooked struct {
	Count Count
	Line  CountLine
}
