package ledger

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"trueup.dev/platform/apperr"
)

// Fiscal periods.
//
// A period is one calendar month in the company's time zone, named
// "yyyy-mm". Every month is a period without an administrative step: the
// ledger records a period (a row) when it first posts into it or changes its
// state, and a month it has not recorded is open. The recorded periods are
// contiguous, from the first one the ledger used to the latest, and their
// states keep an order: locked periods, then closed ones, then open ones
// (periods close and lock oldest first and reopen newest first), so "every
// earlier period is closed" and "the first open period" are simple to see.
//
// An automatic posting (an event, a reversal) effective in a closed or locked
// period goes into the first open period after it, keeping its effective
// time; a manual entry goes into a closed period only as an adjusting entry
// with a reason, and into a locked period never.

// PeriodState is the state of a fiscal period.
type PeriodState int

// The states, in the order a period goes through them.
const (
	PeriodOpen   PeriodState = 1
	PeriodClosed PeriodState = 2
	PeriodLocked PeriodState = 3
)

func (s PeriodState) String() string {
	switch s {
	case PeriodOpen:
		return "open"
	case PeriodClosed:
		return "closed"
	case PeriodLocked:
		return "locked"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Period is one fiscal period and the record of its closing.
type Period struct {
	ID string // "2026-11"
	// Start and End bound the period: [Start, End), midnight of the first
	// day of the month and of the next month, in the company's time zone.
	Start, End time.Time
	State      PeriodState

	// The last close: when, by whom, why, whether it overrode the
	// reconciliation (Forced), and the reconciliation run it was taken with.
	ClosedAt                  time.Time
	ClosedBy, CloseReason     string
	Forced                    bool
	ReconciliationID          string
	ReconciliationClean       bool
	ReconciliationDifferences int
	// ReconciliationError is why the reconciliation could not run (a forced
	// close without one).
	ReconciliationError string

	LockedAt             time.Time
	LockedBy, LockReason string

	// The last reopening.
	ReopenedAt               time.Time
	ReopenedBy, ReopenReason string
}

// Contains reports whether t falls in the period.
func (p *Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// Calendar maps instants to monthly periods in the company's time zone.
type Calendar struct {
	// Location is the company's time zone; nil means UTC.
	Location *time.Location
}

// Loc is the calendar's location (UTC when none is set).
func (c Calendar) Loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// PeriodOf is the (open, unrecorded) period t falls in.
func (c Calendar) PeriodOf(t time.Time) *Period {
	lt := t.In(c.Loc())
	return c.month(lt.Year(), lt.Month())
}

func (c Calendar) month(y int, m time.Month) *Period {
	start := time.Date(y, m, 1, 0, 0, 0, 0, c.Loc())
	end := time.Date(y, m+1, 1, 0, 0, 0, 0, c.Loc())
	return &Period{ID: fmt.Sprintf("%04d-%02d", start.Year(), int(start.Month())), Start: start, End: end, State: PeriodOpen}
}

// Next is the period after p.
func (c Calendar) Next(p *Period) *Period { return c.PeriodOf(p.End) }

// Parse reads a period id, "yyyy-mm" (years 1000 to 9999), into its period.
func (c Calendar) Parse(field, id string) (*Period, error) {
	bad := apperr.Invalid(apperr.Field(field, fmt.Sprintf("%q is not a period: a month written yyyy-mm, e.g. 2026-11", id)))
	if len(id) != 7 || id[4] != '-' {
		return nil, bad
	}
	var y, m int
	for i, r := range id {
		switch {
		case i == 4:
		case r < '0' || r > '9':
			return nil, bad
		case i < 4:
			y = y*10 + int(r-'0')
		default:
			m = m*10 + int(r-'0')
		}
	}
	if y < 1000 || m < 1 || m > 12 {
		return nil, bad
	}
	return c.month(y, time.Month(m)), nil
}

// Periods is the fiscal calendar as the ledger recorded it: the recorded
// periods, contiguous and oldest first, over the calendar that makes new
// ones. A month after the last recorded one is open; a month before the
// first is open while the first is (nothing has been closed yet), and
// otherwise belongs to the books' closed past, where nothing is posted.
type Periods struct {
	Calendar Calendar
	List     []*Period
}

// Find returns the recorded period with id, or nil.
func (ps *Periods) Find(id string) *Period {
	for _, p := range ps.List {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// At is the period t falls in: the recorded one, or a new open one (not yet
// recorded) when the month is after the recorded periods or before them
// while nothing is closed. ok is false for a month before the first
// recorded period when that one is not open: the closed past, which takes
// nothing.
func (ps *Periods) At(t time.Time) (p *Period, recorded, ok bool) {
	id := ps.Calendar.PeriodOf(t).ID
	if p := ps.Find(id); p != nil {
		return p, true, true
	}
	if len(ps.List) > 0 && t.Before(ps.List[0].Start) && ps.List[0].State != PeriodOpen {
		return nil, false, false
	}
	return ps.Calendar.PeriodOf(t), false, true
}

// FirstOpen is the first open period: the first recorded open one, or the
// one after the last recorded (nil, with next set) when every recorded
// period is closed or locked.
func (ps *Periods) FirstOpen() *Period {
	for _, p := range ps.List {
		if p.State == PeriodOpen {
			return p
		}
	}
	if len(ps.List) == 0 {
		return nil
	}
	return ps.Calendar.Next(ps.List[len(ps.List)-1])
}

// Missing are the open periods to record so that the recorded ones are
// contiguous and include the period with id (which must be a month the
// calendar can name): those between the last recorded and it, or between
// it and the first recorded (only while the first is open). None when it is
// recorded already or lies in the closed past.
func (ps *Periods) Missing(target *Period) []*Period {
	if ps.Find(target.ID) != nil {
		return nil
	}
	if len(ps.List) == 0 {
		return []*Period{target}
	}
	first, last := ps.List[0], ps.List[len(ps.List)-1]
	var out []*Period
	switch {
	case !target.Start.Before(last.End):
		for p := ps.Calendar.Next(last); ; p = ps.Calendar.Next(p) {
			out = append(out, p)
			if p.ID == target.ID || !p.Start.Before(target.Start) {
				return out
			}
		}
	case target.Start.Before(first.Start) && first.State == PeriodOpen:
		for p := target; p.Start.Before(first.Start); p = ps.Calendar.Next(p) {
			out = append(out, p)
		}
		return out
	}
	return nil
}

// Record adds recorded periods (as Missing returned them) in order.
func (ps *Periods) Record(add []*Period) {
	for _, p := range add {
		switch {
		case ps.Find(p.ID) != nil:
		case len(ps.List) == 0 || p.Start.After(ps.List[len(ps.List)-1].Start):
			ps.List = append(ps.List, p)
		default:
			i := 0
			for i < len(ps.List) && ps.List[i].Start.Before(p.Start) {
				i++
			}
			ps.List = append(ps.List[:i], append([]*Period{p}, ps.List[i:]...)...)
		}
	}
}

// RouteAutomatic is the period an automatic posting (an event, a reversal)
// effective at t goes into: t's period when it is open, else the first open
// period after it (which may be a new one). The entry keeps t as its
// effective time.
func (ps *Periods) RouteAutomatic(t time.Time) *Period {
	p, _, ok := ps.At(t)
	if ok && p.State == PeriodOpen {
		return p
	}
	return ps.FirstOpen()
}

// RouteManual is the period a manual entry effective at t goes into: t's
// period when it is open; when it is closed, that period only for an
// adjusting entry with a reason; when it is locked (or in the closed past
// before the first period), none.
func (ps *Periods) RouteManual(t time.Time, adjusting bool, reason string) (*Period, error) {
	p, _, ok := ps.At(t)
	if !ok {
		first := ps.List[0]
		return nil, apperr.Precondition("PERIOD_LOCKED", fmt.Sprintf(
			"%s is before the ledger's first period %s, which is %s: nothing can be posted there; date the entry in an open period (the first is %s)",
			t.In(ps.Calendar.Loc()).Format(time.RFC3339), first.ID, first.State, ps.FirstOpen().ID),
			apperr.Violation{Type: "PERIOD_LOCKED", Subject: "periods/" + ps.Calendar.PeriodOf(t).ID, Description: "before the first period"})
	}
	switch p.State {
	case PeriodOpen:
		return p, nil
	case PeriodClosed:
		if !adjusting || strings.TrimSpace(reason) == "" {
			return nil, apperr.Precondition("PERIOD_CLOSED", fmt.Sprintf(
				"period %s is closed: it takes only adjusting entries with a reason; mark the entry adjusting, or date it in an open period (the first is %s)",
				p.ID, ps.FirstOpen().ID),
				apperr.Violation{Type: "PERIOD_CLOSED", Subject: "periods/" + p.ID, Description: "closed: adjusting entries with a reason only"})
		}
		return p, nil
	default:
		return nil, apperr.Precondition("PERIOD_LOCKED", fmt.Sprintf(
			"period %s is locked: nothing can be posted into it; date the entry in an open period (the first is %s)", p.ID, ps.FirstOpen().ID),
			apperr.Violation{Type: "PERIOD_LOCKED", Subject: "periods/" + p.ID, Description: "locked: takes no entries"})
	}
}

// CheckReason validates a reason's length (and presence when required) on field.
func CheckReason(field, reason string, required bool, why string) error {
	switch {
	case required && strings.TrimSpace(reason) == "":
		return apperr.Invalid(apperr.Field(field, "is required: "+why))
	case utf8.RuneCountInString(reason) > MaxDescriptionLength:
		return apperr.Invalid(apperr.Field(field, fmt.Sprintf("is at most %d characters", MaxDescriptionLength)))
	}
	return nil
}

func periodRefused(reason string, p *Period, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return apperr.Precondition(reason, "period "+p.ID+" "+msg,
		apperr.Violation{Type: reason, Subject: "periods/" + p.ID, Description: msg})
}

// CanClose checks that p may be closed at now: it is open, it has ended,
// and every earlier period is closed or locked.
func (ps *Periods) CanClose(p *Period, now time.Time) error {
	switch {
	case p.State != PeriodOpen:
		return periodRefused("PERIOD_NOT_OPEN", p, "is %s already", p.State)
	case now.Before(p.End):
		return periodRefused("PERIOD_NOT_ENDED", p, "has not ended: it ends at %s", p.End.Format(time.RFC3339))
	}
	for _, q := range ps.List {
		if q.Start.Before(p.Start) && q.State == PeriodOpen {
			return periodRefused("EARLIER_PERIOD_OPEN", p, "cannot close before period %s, which is still open: close it first", q.ID)
		}
	}
	// A month between the last recorded period and p is open too.
	if n := len(ps.List); n > 0 && p.Start.After(ps.List[n-1].End) {
		q := ps.Calendar.Next(ps.List[n-1])
		return periodRefused("EARLIER_PERIOD_OPEN", p, "cannot close before period %s, which is still open: close it first", q.ID)
	}
	return nil
}

// CanLock checks that p may be locked: it is closed, and every earlier
// period is locked.
func (ps *Periods) CanLock(p *Period) error {
	switch p.State {
	case PeriodLocked:
		return periodRefused("PERIOD_LOCKED", p, "is locked already")
	case PeriodOpen:
		return periodRefused("PERIOD_NOT_CLOSED", p, "is open: close it before locking it")
	}
	for _, q := range ps.List {
		if q.Start.Before(p.Start) && q.State != PeriodLocked {
			return periodRefused("EARLIER_PERIOD_NOT_LOCKED", p, "cannot be locked before period %s, which is %s: lock it first", q.ID, q.State)
		}
	}
	return nil
}

// CanReopen checks that p may be reopened: it is closed (a locked period is
// final), and every later period is open.
func (ps *Periods) CanReopen(p *Period) error {
	switch p.State {
	case PeriodLocked:
		return periodRefused("PERIOD_LOCKED", p, "is locked: a locked period is never reopened")
	case PeriodOpen:
		return periodRefused("PERIOD_NOT_CLOSED", p, "is open already")
	}
	for _, q := range ps.List {
		if q.Start.After(p.Start) && q.State != PeriodOpen {
			return periodRefused("LATER_PERIOD_CLOSED", p, "cannot be reopened while period %s is %s: reopen it first", q.ID, q.State)
		}
	}
	return nil
}

// Close records p's closing.
func (p *Period) Close(now time.Time, by, reason string, forced bool, runID string, clean bool, differences int, reconErr string) {
	p.State = PeriodClosed
	p.ClosedAt, p.ClosedBy, p.CloseReason, p.Forced = now, by, reason, forced
	p.ReconciliationID, p.ReconciliationClean, p.ReconciliationDifferences = runID, clean, differences
	p.ReconciliationError = reconErr
}

// Lock records p's locking.
func (p *Period) Lock(now time.Time, by, reason string) {
	p.State = PeriodLocked
	p.LockedAt, p.LockedBy, p.LockReason = now, by, reason
}

// Reopen records p's reopening; the record of its last close stays.
func (p *Period) Reopen(now time.Time, by, reason string) {
	p.State = PeriodOpen
	p.ReopenedAt, p.ReopenedBy, p.ReopenReason = now, by, reason
}
