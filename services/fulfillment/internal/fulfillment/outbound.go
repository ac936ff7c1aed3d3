package fulfillment

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/qty"
)

// Refusal reasons of outbound work.
const (
	ReasonOutboundState = "OUTBOUND_ORDER_STATE"
	ReasonNothingToPack = "NOTHING_TO_PACK"
	ReasonShipmentState = "SHIPMENT_STATE"
	ReasonNoStaging     = "NO_STAGING_LOCATION"
)

// OutboundState is where an outbound order is, derived from its lines.
type OutboundState int

// The states.
const (
	OutboundAllocating OutboundState = iota + 1 // lines wait for inventory to reserve stock
	OutboundReleased                            // pick tasks are out
	OutboundPicked                              // everything reserved is picked
	OutboundPartiallyShipped
	OutboundShipped
	OutboundCancelled
)

var outboundStates = map[OutboundState]string{OutboundAllocating: "ALLOCATING", OutboundReleased: "RELEASED",
	OutboundPicked: "PICKED", OutboundPartiallyShipped: "PARTIALLY_SHIPPED", OutboundShipped: "SHIPPED", OutboundCancelled: "CANCELLED"}

func (s OutboundState) String() string {
	if n, ok := outboundStates[s]; ok {
		return n
	}
	return fmt.Sprintf("OutboundState(%d)", int(s))
}

// ParseOutboundState reads a state stored by String.
func ParseOutboundState(s string) (OutboundState, bool) {
	for st, n := range outboundStates {
		if n == s {
			return st, true
		}
	}
	return 0, false
}

// OutboundOrder is a sales order as the warehouse fulfils it. Its id is the
// sales order's, so inventory's allocations, issues and the ledger's COGS
// meet the invoice's revenue on one document id.
type OutboundOrder struct {
	ID        string
	Customer  string
	Partner   string
	State     OutboundState
	Lines     []OutboundLine
	Staged    []StagedPart
	Shipments int // how many shipments were packed, for the next one's number
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// OutboundLine is one sales order line to ship from a warehouse; all
// quantities in base units.
type OutboundLine struct {
	Line       int
	SKU        string
	Warehouse  string
	BaseUoM    string
	Ordered    qty.Qty
	Allocated  qty.Qty // reserved by inventory (what was picked included)
	Picked     qty.Qty
	Packed     qty.Qty
	Shipped    qty.Qty
	Short      qty.Qty // could not be reserved or picked: the backorder
	Cancelled  qty.Qty
	Allocation string // inventory's allocation id
	// NeedAllocate and NeedRelease are work owed to inventory: reserving
	// the line, releasing what a cancellation no longer wants. A worker
	// does it by request ids derived from the line, so it is done once.
	NeedAllocate bool
	NeedRelease  bool
	// Gen counts the line's reservations after its first (the rest of a
	// partly cancelled line, a backorder tried again): it names the next
	// reservation's request id and tasks, so each is a new one.
	Gen int
}

// Open is what the line still has to ship: ordered, less shipped,
// cancelled and short.
func (l *OutboundLine) Open() qty.Qty { return l.Ordered - l.Shipped - l.Cancelled - l.Short }

// StagedPart is picked stock of a line waiting in staging, by lot.
type StagedPart struct {
	Line     int
	Lot      string
	Location string
	Qty      qty.Qty
	Packed   qty.Qty
}

// ConfirmedLine is a confirmed sales order line as orders' event tells it.
type ConfirmedLine struct {
	Line      int
	SKU       string
	Warehouse string
	BaseQty   string
	BaseUoM   string
}

// NewOutboundOrder is the outbound order of a confirmed sales order: every
// line waits for allocation.
func NewOutboundOrder(id, customer, partner string, lines []ConfirmedLine, now time.Time) (*OutboundOrder, error) {
	if id == "" {
		return nil, fmt.Errorf("the confirmed sales order has no id")
	}
	o := &OutboundOrder{ID: id, Customer: customer, Partner: partner, State: OutboundAllocating,
		CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Version: 1}
	for _, l := range lines {
		q, err := qty.Parse(l.BaseQty)
		if err != nil || q <= 0 {
			return nil, fmt.Errorf("sales order %s line %d: base quantity %q is not a positive quantity", id, l.Line, l.BaseQty)
		}
		wh := strings.ToUpper(strings.TrimSpace(l.Warehouse))
		if wh == "" || l.SKU == "" || l.Line < 1 {
			return nil, fmt.Errorf("sales order %s line %d names no warehouse, item or number", id, l.Line)
		}
		o.Lines = append(o.Lines, OutboundLine{Line: l.Line, SKU: l.SKU, Warehouse: wh, BaseUoM: l.BaseUoM, Ordered: q, NeedAllocate: true})
	}
	if len(o.Lines) == 0 {
		return nil, fmt.Errorf("sales order %s has no lines", id)
	}
	return o, nil
}

// VisibleTo reports whether a caller sees the order.
func (o *OutboundOrder) VisibleTo(partner string) bool { return partner == "" || o.Partner == partner }

// Line returns line n, or nil.
func (o *OutboundOrder) Line(n int) *OutboundLine {
	for i := range o.Lines {
		if o.Lines[i].Line == n {
			return &o.Lines[i]
		}
	}
	return nil
}

func (o *OutboundOrder) touch(now time.Time) {
	o.refresh()
	o.UpdatedAt = now.UTC()
	o.Version++
}

// refresh derives the order's state from its lines.
func (o *OutboundOrder) refresh() {
	var ordered, shipped, cancelled, open, picked, alloc qty.Qty
	allocating := false
	for _, l := range o.Lines {
		ordered += l.Ordered
		shipped += l.Shipped
		cancelled += l.Cancelled
		open += l.Open()
		picked += l.Picked - l.Shipped
		alloc += l.Allocated - l.Shipped
		allocating = allocating || l.NeedAllocate
	}
	switch {
	case cancelled == ordered:
		o.State = OutboundCancelled
	case open <= 0 && shipped > 0:
		o.State = OutboundShipped
	case allocating:
		o.State = OutboundAllocating
	case shipped > 0:
		o.State = OutboundPartiallyShipped
	case alloc > 0 && picked >= alloc:
		o.State = OutboundPicked
	default:
		o.State = OutboundReleased
	}
}

// Reserved is what inventory answered for a line's allocation.
type Reserved struct {
	Allocation string
	Allocated  qty.Qty
	Shortfall  qty.Qty
	Lines      []ReservedLine
}

// ReservedLine is one bin and lot of an allocation.
type ReservedLine struct {
	Location string
	Lot      string
	Qty      qty.Qty
}

// Allocated records inventory's reservation of line n and returns the pick
// tasks (one per bin and lot, in wave, to staging) and the shortfall, which
// is the line's backorder.
func (o *OutboundOrder) Allocated(n int, r Reserved, staging, wave string, now time.Time) ([]*Task, qty.Qty, error) {
	l := o.Line(n)
	if l == nil {
		return nil, 0, fmt.Errorf("outbound order %s has no line %d", o.ID, n)
	}
	if !l.NeedAllocate {
		return nil, 0, nil // recorded already
	}
	l.NeedAllocate, l.Allocation, l.Allocated = false, r.Allocation, r.Allocated
	l.Short += r.Shortfall
	var tasks []*Task
	for i, rl := range r.Lines {
		if rl.Qty <= 0 {
			continue
		}
		id := fmt.Sprintf("PICK-%s-%d-%d", o.ID, l.Line, i+1)
		if l.Gen > 0 { // a later reservation of the line
			id = fmt.Sprintf("PICK-%s-%d-g%d-%d", o.ID, l.Line, l.Gen, i+1)
		}
		tasks = append(tasks, o.pickTask(l, id, rl, staging, wave, now))
	}
	o.touch(now)
	return tasks, r.Shortfall, nil
}

func (o *OutboundOrder) pickTask(l *OutboundLine, id string, rl ReservedLine, staging, wave string, now time.Time) *Task {
	return &Task{ID: id, Type: TaskPick, Warehouse: l.Warehouse, Zone: ZoneOf(rl.Location), State: TaskOpen,
		SKU: l.SKU, Lot: rl.Lot, Qty: rl.Qty, BaseUoM: l.BaseUoM, From: rl.Location, To: staging, Reference: o.ID,
		OrderLine: l.Line, Allocation: l.Allocation, Wave: wave, Partner: o.Partner,
		CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Version: 1}
}

// Pick is what a picker confirms of a pick task.
type Pick struct {
	Quantity string  // as scanned, in UoM
	UoM      string  // "" is the base unit
	Base     qty.Qty // the same in base units (the app converts)
	From     string  // the bin picked from; "" is the task's
	Lot      string  // "" is the task's
	To       string  // the staging location; "" is the task's
}

// PickOutcome is what a confirmed pick did: the shortfall, the new task
// for it from another bin (nil when none has stock), and whether the rest
// is short for good (the backorder).
type PickOutcome struct {
	Shortfall qty.Qty
	Retry     *Task
	Short     qty.Qty
}

// Picked records a confirmed pick of task k: what was picked is staged;
// a shortfall goes to another bin (retryFrom, with that much available) as
// a new task, or else is short. Cancelled lines' picks still stage (the
// release returns them).
func (o *OutboundOrder) Picked(k *Task, p Pick, retryFrom string, now time.Time) (*PickOutcome, error) {
	l := o.Line(k.OrderLine)
	if l == nil {
		return nil, fmt.Errorf("outbound order %s has no line %d", o.ID, k.OrderLine)
	}
	if p.Base > k.Qty {
		return nil, apperr.Invalid(apperr.Field("quantity", fmt.Sprintf("is more than the task's %s %s", k.Qty, k.BaseUoM)))
	}
	to, lot, from := k.To, k.Lot, k.From
	if p.To != "" {
		to = p.To
	}
	if p.Lot != "" {
		lot = p.Lot
	}
	if p.From != "" {
		from = p.From
	}
	out := &PickOutcome{Shortfall: k.Qty - p.Base}
	if p.Base > 0 {
		l.Picked += p.Base
		o.stage(l.Line, lot, to, p.Base)
	}
	if out.Shortfall > 0 {
		if retryFrom != "" && retryFrom != from {
			out.Retry = o.pickTask(l, fmt.Sprintf("%s-R", k.ID), ReservedLine{Location: retryFrom, Lot: "", Qty: out.Shortfall}, k.To, k.Wave, now)
			if k.Lot != "" && lot == k.Lot {
				out.Retry.Lot = ""
			}
		} else {
			out.Short = out.Shortfall
			l.Short += out.Shortfall
			l.Allocated -= out.Shortfall
		}
	}
	o.touch(now)
	return out, nil
}

func (o *OutboundOrder) stage(line int, lot, loc string, q qty.Qty) {
	for i := range o.Staged {
		s := &o.Staged[i]
		if s.Line == line && s.Lot == lot && s.Location == loc {
			s.Qty += q
			return
		}
	}
	o.Staged = append(o.Staged, StagedPart{Line: line, Lot: lot, Location: loc, Qty: q})
}

// Cancel takes what is not shipped of lines (all lines when none are
// named) off the order: their open pick tasks are for the caller to cancel,
// and inventory owes a release of the allocation (picked stock goes back to
// a bin). It returns the lines it changed.
func (o *OutboundOrder) Cancel(lines []int, cancelled map[int]qty.Qty, now time.Time) []int {
	var changed []int
	for i := range o.Lines {
		l := &o.Lines[i]
		if len(lines) > 0 && !containsInt(lines, l.Line) {
			continue
		}
		want := l.Ordered - l.Shipped
		if c, ok := cancelled[l.Line]; ok && c < want {
			want = c
		}
		if want <= l.Cancelled {
			continue
		}
		l.Cancelled = want
		if l.Short > l.Ordered-l.Shipped-l.Cancelled {
			l.Short = max(0, l.Ordered-l.Shipped-l.Cancelled)
		}
		l.NeedAllocate = false
		if l.Allocation != "" {
			l.NeedRelease = true
		}
		changed = append(changed, l.Line)
	}
	if len(changed) > 0 {
		o.touch(now)
	}
	return changed
}

// RetryBackorder puts the short part of the order's lines back up for
// reservation (stock may have come in since): each line that is short and
// has nothing picked waiting is reserved again. It returns the lines it
// changed; busy names lines with picks still out, which are left alone.
func (o *OutboundOrder) RetryBackorder(busy map[int]bool, now time.Time) []int {
	var changed []int
	for i := range o.Lines {
		l := &o.Lines[i]
		if l.Short <= 0 || l.NeedAllocate || l.NeedRelease || busy[l.Line] || l.Picked != l.Shipped {
			continue
		}
		l.Short, l.NeedAllocate = 0, true
		l.Allocated = l.Shipped
		l.Gen++
		changed = append(changed, l.Line)
	}
	if len(changed) > 0 {
		o.touch(now)
	}
	return changed
}

// Released records that inventory released line n's allocation: what was
// picked and not shipped went back to a bin, and what the line still wants
// is reserved again.
func (o *OutboundOrder) Released(n int, now time.Time) {
	l := o.Line(n)
	if l == nil || !l.NeedRelease {
		return
	}
	l.NeedRelease = false
	l.Allocated, l.Picked, l.Packed = l.Shipped, l.Shipped, l.Shipped
	// A line cancelled in part still wants the rest: reserve it afresh (the
	// request id names the cancelled quantity, so it is a new reservation).
	if l.NeedAllocate = l.Open() > 0; l.NeedAllocate {
		l.Gen++
	}
	var kept []StagedPart
	for _, s := range o.Staged {
		if s.Line != n {
			kept = append(kept, s)
		}
	}
	o.Staged = kept
	o.touch(now)
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Carton is one box of a shipment; weight and dimensions are optional
// exact decimals (kilograms, centimetres).
type Carton struct {
	Number                int
	Weight                string
	Length, Width, Height string
}

// ShipmentState is where a shipment is.
type ShipmentState int

// The states.
const (
	ShipmentPacked ShipmentState = iota + 1
	ShipmentShipped
)

func (s ShipmentState) String() string {
	switch s {
	case ShipmentPacked:
		return "PACKED"
	case ShipmentShipped:
		return "SHIPPED"
	}
	return fmt.Sprintf("ShipmentState(%d)", int(s))
}

// ParseShipmentState reads a state stored by String.
func ParseShipmentState(s string) (ShipmentState, bool) {
	switch s {
	case "PACKED":
		return ShipmentPacked, true
	case "SHIPPED":
		return ShipmentShipped, true
	}
	return 0, false
}

// Shipment is packed stock of one outbound order leaving one warehouse.
type Shipment struct {
	ID            string
	OutboundOrder string
	Warehouse     string
	Partner       string
	State         ShipmentState
	Lines         []ShipmentLine
	Cartons       []Carton
	Carrier       string
	ServiceLevel  string
	Tracking      string
	CreatedAt     time.Time
	ShippedAt     time.Time
	Version       int64
}

// ShipmentLine is one line and lot packed, from one staging location;
// Cost is what inventory reported when it issued it (minor units).
type ShipmentLine struct {
	Line         int
	SKU          string
	Lot          string
	Location     string
	Qty          qty.Qty
	BaseUoM      string
	Allocation   string
	CostMinor    int64
	CostCurrency string
	Movement     string
}

// PackLine asks for qty of a line to be packed; 0 packs all it has staged.
type PackLine struct {
	Line int
	Qty  qty.Qty
}

// Pack packs staged stock of the order's lines at warehouse into a new
// shipment: the lines asked (all staged and unpacked when none), in the
// cartons given.
func (o *OutboundOrder) Pack(warehouse string, want []PackLine, cartons []Carton, now time.Time) (*Shipment, error) {
	warehouse = strings.ToUpper(strings.TrimSpace(warehouse))
	if o.State == OutboundCancelled {
		return nil, apperr.Precondition(ReasonOutboundState, fmt.Sprintf("outbound order %s is CANCELLED", o.ID))
	}
	var v apperr.Violations
	for i, c := range cartons {
		for f, val := range map[string]string{"weight_kg": c.Weight, "length_cm": c.Length, "width_cm": c.Width, "height_cm": c.Height} {
			if val == "" {
				continue
			}
			if r, err := qty.ParseDecimal(val, 3); err != nil || r.Sign() <= 0 {
				v.Add(fmt.Sprintf("cartons[%d].%s", i, f), "must be a positive decimal with at most 3 places")
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sh := &Shipment{ID: fmt.Sprintf("SH-%s-%d", o.ID, o.Shipments+1), OutboundOrder: o.ID, Warehouse: warehouse,
		Partner: o.Partner, State: ShipmentPacked, CreatedAt: now.UTC(), Version: 1}
	asked := map[int]qty.Qty{}
	for i, p := range want {
		l := o.Line(p.Line)
		if l == nil || l.Warehouse != warehouse {
			v.Add(fmt.Sprintf("lines[%d].line_number", i), fmt.Sprintf("is not a line of outbound order %s at %s", o.ID, warehouse))
			continue
		}
		asked[p.Line] += p.Qty
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	for i := range o.Staged {
		s := &o.Staged[i]
		l := o.Line(s.Line)
		if l.Warehouse != warehouse || s.Qty-s.Packed <= 0 {
			continue
		}
		take := s.Qty - s.Packed
		if len(want) > 0 {
			a, ok := asked[s.Line]
			if !ok {
				continue
			}
			if a > 0 {
				take = min(take, a)
				asked[s.Line] = a - take
				if take == 0 {
					continue
				}
			}
		}
		s.Packed += take
		l.Packed += take
		sh.Lines = append(sh.Lines, ShipmentLine{Line: s.Line, SKU: l.SKU, Lot: s.Lot, Location: s.Location, Qty: take,
			BaseUoM: l.BaseUoM, Allocation: l.Allocation})
	}
	for n, left := range asked {
		if left > 0 {
			return nil, apperr.Invalid(apperr.Field("lines", fmt.Sprintf("line %d has %s less staged than asked", n, left)))
		}
	}
	if len(sh.Lines) == 0 {
		return nil, apperr.Precondition(ReasonNothingToPack, fmt.Sprintf("outbound order %s has nothing picked and unpacked at %s", o.ID, warehouse))
	}
	sort.Slice(sh.Lines, func(i, j int) bool { return sh.Lines[i].Line < sh.Lines[j].Line })
	if len(cartons) == 0 {
		cartons = []Carton{{}}
	}
	for i := range cartons {
		cartons[i].Number = i + 1
	}
	sh.Cartons = cartons
	o.Shipments++
	o.touch(now)
	return sh, nil
}

// CanShip refuses shipping sh: shipped already, or a line of it cancelled
// after it was packed (its stock went back to a bin).
func (o *OutboundOrder) CanShip(sh *Shipment) error {
	if sh.State != ShipmentPacked {
		return apperr.Precondition(ReasonShipmentState, fmt.Sprintf("shipment %s is %s", sh.ID, sh.State))
	}
	for _, sl := range sh.Lines {
		found := false
		for _, s := range o.Staged {
			if s.Line == sl.Line && s.Lot == sl.Lot && s.Location == sl.Location && s.Packed >= sl.Qty {
				found = true
			}
		}
		if !found {
			return apperr.Precondition(ReasonShipmentState, fmt.Sprintf("line %d of shipment %s was cancelled after it was packed: its stock went back to its bin; unpack the cartons", sl.Line, sh.ID))
		}
	}
	return nil
}

// Ship records a packed shipment's departure: costs are per shipment line,
// as inventory reported them; the order's lines count it shipped.
func (o *OutboundOrder) Ship(sh *Shipment, carrier, service, tracking string, costs []ShipmentLine, now time.Time) error {
	if err := o.CanShip(sh); err != nil {
		return err
	}
	for i := range sh.Lines {
		sl := &sh.Lines[i]
		if i < len(costs) {
			sl.CostMinor, sl.CostCurrency, sl.Movement = costs[i].CostMinor, costs[i].CostCurrency, costs[i].Movement
		}
		l := o.Line(sl.Line)
		l.Shipped += sl.Qty
		for j := range o.Staged {
			s := &o.Staged[j]
			if s.Line == sl.Line && s.Lot == sl.Lot && s.Location == sl.Location {
				s.Qty -= sl.Qty
				s.Packed -= sl.Qty
			}
		}
	}
	var kept []StagedPart
	for _, s := range o.Staged {
		if s.Qty > 0 {
			kept = append(kept, s)
		}
	}
	o.Staged = kept
	sh.State, sh.Carrier, sh.ServiceLevel, sh.Tracking, sh.ShippedAt = ShipmentShipped, carrier, service, tracking, now.UTC()
	sh.Version++
	o.touch(now)
	return nil
}

// WaveOf is the wave a pick released at at joins: the warehouse and the
// first cut-off (a time of day, UTC) after at, e.g. "MAIN-20261203-1200";
// after the day's last cut-off, the next day's first.
func WaveOf(warehouse string, at time.Time, cutoffs []time.Duration) string {
	if len(cutoffs) == 0 {
		cutoffs = DefaultCutoffs
	}
	at = at.UTC()
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	cs := append([]time.Duration(nil), cutoffs...)
	sort.Slice(cs, func(i, j int) bool { return cs[i] < cs[j] })
	for _, c := range cs {
		if t := day.Add(c); at.Before(t) {
			return warehouse + "-" + t.Format("20060102-1504")
		}
	}
	return warehouse + "-" + day.AddDate(0, 0, 1).Add(cs[0]).Format("20060102-1504")
}

// DefaultCutoffs are the carriers' collection times picks are waved by:
// noon and five in the afternoon, UTC.
var DefaultCutoffs = []time.Duration{12 * time.Hour, 17 * time.Hour}

// Outbound events.

// OutboundOrderCreated: a confirmed sales order reached the warehouse.
type OutboundOrderCreated struct{ Order OutboundOrder }

// ShortPickRecorded: part of a line will not ship now (no stock to
// reserve, or missing in its bins and nowhere else): the sales order's
// backorder.
type ShortPickRecorded struct {
	Order  OutboundOrder
	Line   int
	Short  qty.Qty
	Reason string // "NOT_AVAILABLE" at allocation, "NOT_FOUND_IN_BIN" at pick
}

// ShipmentConfirmedEvent: a shipment left with the carrier.
type ShipmentConfirmedEvent struct {
	Order    OutboundOrder
	Shipment Shipment
}
