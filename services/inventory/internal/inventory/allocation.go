package inventory

import (
	"fmt"
	"sort"
	"time"

	"trueup.dev/platform/apperr"
)

// AllocationState is where an allocation is in its life.
type AllocationState int

// Allocation states.
const (
	AllocActive AllocationState = iota + 1
	AllocPicked
	AllocReleased
	AllocShipped
)

// AllocLine is stock reserved in one location and lot.
type AllocLine struct {
	Location, Lot, ExpiryDate string
	Qty, Picked, Released     Qty
}

// Open is what the line still holds reserved.
func (l AllocLine) Open() Qty { return l.Qty - l.Picked - l.Released }

// Allocation reserves stock of an item in a warehouse for an outbound order line.
type Allocation struct {
	ID           string
	SKU          string
	Warehouse    string
	Order        SourceDoc
	RequestedQty string
	RequestedUoM string
	Requested    Qty
	Lines        []AllocLine
	// Staged is picked stock waiting in staging, still reserved.
	Staged    []Staged
	State     AllocationState
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Staged is stock an allocation picked into a staging or shipping location,
// from PickedFrom; it stays reserved there until it ships or is put back.
type Staged struct {
	Location, Lot, PickedFrom string
	Qty, Shipped, Returned    Qty
}

// Waiting is what still waits to ship.
func (s Staged) Waiting() Qty { return s.Qty - s.Shipped - s.Returned }

// Reserved is everything the allocation reserved, picked or not.
func (a *Allocation) Reserved() Qty {
	var q Qty
	for _, l := range a.Lines {
		q += l.Qty
	}
	return q
}

// Held is what the allocation holds or held for its order: reserved minus what
// was released (picked units count; they went to the order).
func (a *Allocation) Held() Qty {
	var q Qty
	for _, l := range a.Lines {
		q += l.Qty - l.Released
	}
	return q
}

// Shortfall is what could not be reserved.
func (a *Allocation) Shortfall() Qty { return a.Requested - a.Reserved() }

// Open is what is still reserved and unpicked.
func (a *Allocation) Open() Qty {
	var q Qty
	for _, l := range a.Lines {
		q += l.Open()
	}
	return q
}

// SortForAllocation orders levels the way stock is taken: lots that expire
// first go first (FEFO), stock without an expiry date after every dated lot;
// then first in, first out by receipt time; then by location for a stable order.
func SortForAllocation(levels []*Level) {
	sort.SliceStable(levels, func(i, j int) bool {
		a, b := levels[i], levels[j]
		if a.ExpiryDate != b.ExpiryDate {
			switch {
			case a.ExpiryDate == "":
				return false
			case b.ExpiryDate == "":
				return true
			}
			return a.ExpiryDate < b.ExpiryDate
		}
		if !a.ReceivedAt.Equal(b.ReceivedAt) {
			return a.ReceivedAt.Before(b.ReceivedAt)
		}
		if a.Location != b.Location {
			return a.Location < b.Location
		}
		return a.Lot < b.Lot
	})
}

// PlanAllocation reserves up to q from levels in allocation order and returns
// the lines and what remains unreserved. Levels must be sorted already.
func PlanAllocation(levels []*Level, q Qty) (lines []AllocLine, short Qty) {
	short = q
	for _, l := range levels {
		if short == 0 {
			break
		}
		n := min(short, l.Available())
		if n <= 0 {
			continue
		}
		lines = append(lines, AllocLine{Location: l.Location, Lot: l.Lot, ExpiryDate: l.ExpiryDate, Qty: n})
		short -= n
	}
	return lines, short
}

// Waiting is the picked stock still waiting in staging.
func (a *Allocation) Waiting() Qty {
	var q Qty
	for _, s := range a.Staged {
		q += s.Waiting()
	}
	return q
}

// Repoint is reservation a pick moved away from a line to the level it
// picked from instead: the app lowers the allocated quantity of that line's
// level by Qty (and raises the picked level's).
type Repoint struct {
	Location, Lot string
	Qty           Qty
}

func (a *Allocation) subject() string { return "allocations/" + a.ID }

// Pick records a pick of q from loc and lot (expiring expiry) into staging.
// The pick draws on what the allocation reserved there first; any more is
// re-pointed from its other open lines (the same lot first, then in line
// order), which needs avail, the stock available (unreserved) at the picked
// level, to cover it. It returns the reservations moved. Refusals:
// ErrAllocationNotActive, ErrPickExceedsAllocation (more than is still
// reserved), ErrInsufficientStock (too little available to re-point to).
func (a *Allocation) Pick(loc, lot, expiry, staging string, q, avail Qty) ([]Repoint, error) {
	if a.State != AllocActive {
		return nil, Refuse(ErrAllocationNotActive, "allocation "+a.ID+" is not active",
			apperr.Violation{Type: ReasonAllocationNotActive, Subject: a.subject(), Description: "only an active allocation can be picked"})
	}
	if q > a.Open() {
		return nil, Refuse(ErrPickExceedsAllocation, fmt.Sprintf("pick of %s exceeds the %s allocation %s still reserves", q, a.Open(), a.ID),
			apperr.Violation{Type: ReasonPickExceedsAllocation, Subject: a.subject(), Description: "reserved " + a.Open().String()})
	}
	at := -1
	for i, l := range a.Lines {
		if l.Location == loc && l.Lot == lot {
			at = i
		}
	}
	extra := q
	if at >= 0 {
		extra = max(0, q-a.Lines[at].Open())
	}
	if extra > avail {
		short := extra - avail
		e := Refuse(ErrInsufficientStock, fmt.Sprintf("picking %s from %s lot %q needs %s more than allocation %s reserved there; available %s", q, loc, lot, extra, a.ID, avail),
			apperr.Violation{Type: ReasonInsufficientStock, Subject: a.subject(), Description: "short " + short.String()})
		e.Metadata = map[string]string{"shortfall": short.String(), "available": avail.String(), "requested": extra.String()}
		return nil, e
	}
	var moved []Repoint
	take := func(i int) {
		if n := min(extra, a.Lines[i].Open()); n > 0 && i != at {
			a.Lines[i].Qty -= n
			extra -= n
			moved = append(moved, Repoint{Location: a.Lines[i].Location, Lot: a.Lines[i].Lot, Qty: n})
		}
	}
	for i := range a.Lines {
		if a.Lines[i].Lot == lot {
			take(i)
		}
	}
	for i := range a.Lines {
		if a.Lines[i].Lot != lot {
			take(i)
		}
	}
	var gained Qty
	for _, m := range moved {
		gained += m.Qty
	}
	if at < 0 {
		a.Lines = append(a.Lines, AllocLine{Location: loc, Lot: lot, ExpiryDate: expiry})
		at = len(a.Lines) - 1
	}
	a.Lines[at].Qty += gained
	a.Lines[at].Picked += q
	found := false
	for i, s := range a.Staged {
		if s.Location == staging && s.Lot == lot && s.PickedFrom == loc {
			a.Staged[i].Qty += q
			found = true
		}
	}
	if !found {
		a.Staged = append(a.Staged, Staged{Location: staging, Lot: lot, PickedFrom: loc, Qty: q})
	}
	if a.Open() == 0 {
		a.State = AllocPicked
	}
	return moved, nil
}

// ReleaseOpen gives back what the lines still reserve unpicked and returns
// it per line (Qty is what was released). A short pick's "release the rest".
func (a *Allocation) ReleaseOpen() []AllocLine {
	var out []AllocLine
	for i := range a.Lines {
		if open := a.Lines[i].Open(); open > 0 {
			a.Lines[i].Released += open
			out = append(out, AllocLine{Location: a.Lines[i].Location, Lot: a.Lines[i].Lot, Qty: open})
		}
	}
	if a.State == AllocActive && a.Waiting() > 0 {
		a.State = AllocPicked
	} else if a.State == AllocActive {
		a.State = AllocReleased
	}
	return out
}

// PutBack is staged stock a release moves back into storage.
type PutBack struct {
	From, To, Lot string
	Qty           Qty
}

// Release gives back everything the allocation holds: what is reserved
// unpicked (returned per line) and what waits in staging, which goes back to
// returnTo, or to the bin it was picked from when returnTo is "". Releasing a
// released allocation changes nothing; a shipped one is refused
// (ErrAllocationShipped).
func (a *Allocation) Release(returnTo string) ([]AllocLine, []PutBack, error) {
	switch a.State {
	case AllocReleased:
		return nil, nil, nil
	case AllocShipped:
		return nil, nil, Refuse(ErrAllocationShipped, "allocation "+a.ID+" has shipped; nothing to release",
			apperr.Violation{Type: ReasonAllocationShipped, Subject: a.subject(), Description: "already shipped"})
	}
	open := a.ReleaseOpen()
	var back []PutBack
	for i := range a.Staged {
		s := &a.Staged[i]
		if w := s.Waiting(); w > 0 {
			to := returnTo
			if to == "" {
				to = s.PickedFrom
			}
			back = append(back, PutBack{From: s.Location, To: to, Lot: s.Lot, Qty: w})
			s.Returned += w
		}
	}
	a.State = AllocReleased
	return open, back, nil
}

// Ship takes q (0: everything) of the stock waiting in staging location loc
// and lot, and returns how much that is. Refusals: ErrAllocationNotActive
// (released or shipped), ErrShipExceedsPicked (more than waits there).
func (a *Allocation) Ship(loc, lot string, q Qty) (Qty, error) {
	if a.State != AllocActive && a.State != AllocPicked {
		return 0, Refuse(ErrAllocationNotActive, "allocation "+a.ID+" has nothing to ship",
			apperr.Violation{Type: ReasonAllocationNotActive, Subject: a.subject(), Description: "released or shipped"})
	}
	var waiting Qty
	for _, s := range a.Staged {
		if s.Location == loc && s.Lot == lot {
			waiting += s.Waiting()
		}
	}
	if q == 0 {
		q = waiting
	}
	if q > waiting || q <= 0 {
		return 0, Refuse(ErrShipExceedsPicked, fmt.Sprintf("shipping %s from %s lot %q but allocation %s has %s waiting there", q, loc, lot, a.ID, waiting),
			apperr.Violation{Type: ReasonShipExceedsPicked, Subject: a.subject(), Description: "waiting " + waiting.String()})
	}
	left := q
	for i := range a.Staged {
		s := &a.Staged[i]
		if s.Location == loc && s.Lot == lot {
			n := min(left, s.Waiting())
			s.Shipped += n
			left -= n
		}
	}
	if a.Open() == 0 && a.Waiting() == 0 {
		a.State = AllocShipped
	}
	return q, nil
}
