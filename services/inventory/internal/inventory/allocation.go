package inventory

import (
	"sort"
	"time"
)

// AllocationState is where an allocation is in its life.
type AllocationState int

// Allocation states.
const (
	AllocActive AllocationState = iota + 1
	AllocPicked
	AllocReleased
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
	State        AllocationState
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

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
