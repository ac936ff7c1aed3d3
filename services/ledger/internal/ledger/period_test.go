package ledger

import (
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests use, whatever the machine has

	"trueup.dev/platform/apperr"
)

func newYork(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err) // the zone database is embedded (time/tzdata)
	}
	return loc
}

func TestPeriodsAreMonthsInTheCompanyTimeZone(t *testing.T) {
	ny := Calendar{Location: newYork(t)}
	for _, c := range []struct {
		cal   Calendar
		at    string
		id    string
		start string
		end   string
	}{
		{Calendar{}, "2026-12-01T03:00:00Z", "2026-12", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		// 03:00 UTC on 1 December is 22:00 on 30 November in New York.
		{ny, "2026-12-01T03:00:00Z", "2026-11", "2026-11-01T04:00:00Z", "2026-12-01T05:00:00Z"},
		{ny, "2026-12-01T05:00:00Z", "2026-12", "2026-12-01T05:00:00Z", "2027-01-01T05:00:00Z"},
		{ny, "2027-01-01T04:59:59Z", "2026-12", "2026-12-01T05:00:00Z", "2027-01-01T05:00:00Z"},
		// The DST change in March: the period starts at EST, ends at EDT.
		{ny, "2027-03-15T12:00:00Z", "2027-03", "2027-03-01T05:00:00Z", "2027-04-01T04:00:00Z"},
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		p := c.cal.PeriodOf(at)
		if p.ID != c.id || p.Start.UTC().Format(time.RFC3339) != c.start || p.End.UTC().Format(time.RFC3339) != c.end || p.State != PeriodOpen {
			t.Errorf("%s in %s: %s [%s, %s) %v; want %s [%s, %s)", c.at, c.cal.Loc(), p.ID, p.Start.UTC().Format(time.RFC3339),
				p.End.UTC().Format(time.RFC3339), p.State, c.id, c.start, c.end)
		}
		if !p.Contains(at) {
			t.Errorf("%s does not contain %s", p.ID, c.at)
		}
		parsed, err := c.cal.Parse("name", c.id)
		if err != nil || parsed.ID != p.ID || !parsed.Start.Equal(p.Start) || !parsed.End.Equal(p.End) {
			t.Errorf("Parse(%s) = %+v, %v", c.id, parsed, err)
		}
	}
}

func TestPeriodIDsAreYearDashMonth(t *testing.T) {
	for _, bad := range []string{"", "2026-13", "2026-00", "2026-1", "26-11", "2026/11", "2026-1a", "0999-01", "+026-11", "2026-11-01"} {
		if _, err := (Calendar{}).Parse("name", bad); apperr.KindOf(err) != apperr.KindInvalidArgument {
			t.Errorf("Parse(%q) = %v, want InvalidArgument", bad, err)
		}
	}
}

// periods builds recorded periods from 2026-08 on, one per state given.
func periods(cal Calendar, states ...PeriodState) *Periods {
	ps := &Periods{Calendar: cal}
	p, _ := cal.Parse("", "2026-08")
	for _, s := range states {
		p.State = s
		ps.List = append(ps.List, p)
		p = cal.Next(p)
	}
	return ps
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

func TestAnAutomaticPostingIntoAClosedPeriodGoesToTheFirstOpenOne(t *testing.T) {
	const o, c, l = PeriodOpen, PeriodClosed, PeriodLocked
	for _, tc := range []struct {
		name   string
		states []PeriodState // from 2026-08
		at     time.Time
		want   string
	}{
		{"open period", []PeriodState{c, o, o}, date(2026, 10, 5), "2026-10"},
		{"closed period", []PeriodState{c, c, o}, date(2026, 9, 5), "2026-10"},
		{"locked period", []PeriodState{l, c, o}, date(2026, 8, 5), "2026-10"},
		{"every period closed: the next one", []PeriodState{l, c, c}, date(2026, 9, 5), "2026-11"},
		{"after the recorded periods", []PeriodState{c, o}, date(2027, 2, 5), "2027-02"},
		{"before the first, closed, period", []PeriodState{c, o}, date(2026, 3, 5), "2026-09"},
		{"before the first, open, period", []PeriodState{o, o}, date(2026, 3, 5), "2026-03"},
		{"nothing recorded", nil, date(2026, 3, 5), "2026-03"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := periods(Calendar{}, tc.states...)
			if got := ps.RouteAutomatic(tc.at); got.ID != tc.want {
				t.Errorf("RouteAutomatic(%s) = %s, want %s", tc.at.Format(time.DateOnly), got.ID, tc.want)
			}
		})
	}
}

func TestMissingPeriodsKeepTheRecordContiguous(t *testing.T) {
	cal := Calendar{}
	ids := func(ps []*Period) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return strings.Join(out, " ")
	}
	target := func(id string) *Period { p, _ := cal.Parse("", id); return p }
	for _, tc := range []struct {
		name   string
		states []PeriodState
		target string
		want   string
	}{
		{"first period", nil, "2026-11", "2026-11"},
		{"recorded", []PeriodState{PeriodOpen}, "2026-08", ""},
		{"a gap after", []PeriodState{PeriodOpen}, "2026-11", "2026-09 2026-10 2026-11"},
		{"a gap before, nothing closed", []PeriodState{PeriodOpen}, "2026-05", "2026-05 2026-06 2026-07"},
		{"before a closed first period", []PeriodState{PeriodClosed}, "2026-05", ""},
		{"across a year", []PeriodState{PeriodClosed, PeriodClosed, PeriodClosed, PeriodClosed}, "2027-01", "2026-12 2027-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := periods(cal, tc.states...)
			got := ps.Missing(target(tc.target))
			if ids(got) != tc.want {
				t.Fatalf("Missing(%s) = %q, want %q", tc.target, ids(got), tc.want)
			}
			ps.Record(got)
			for i := 1; i < len(ps.List); i++ {
				if !ps.List[i].Start.Equal(ps.List[i-1].End) {
					t.Errorf("not contiguous: %s then %s", ps.List[i-1].ID, ps.List[i].ID)
				}
			}
		})
	}
}

func wantPrecondition(t *testing.T, err error, reason string) {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.KindFailedPrecondition || e.Reason != reason {
		t.Fatalf("err = %v, want FailedPrecondition %s", err, reason)
	}
	if len(e.Violations) == 0 || e.Violations[0].Subject == "" {
		t.Errorf("%v names no period", err)
	}
}

func TestAManualEntryIntoAClosedPeriodMustBeAdjustingWithAReason(t *testing.T) {
	ps := periods(Calendar{}, PeriodLocked, PeriodClosed, PeriodOpen)
	if p, err := ps.RouteManual(date(2026, 10, 3), false, ""); err != nil || p.ID != "2026-10" {
		t.Errorf("into the open period: %v, %v", p, err)
	}
	_, err := ps.RouteManual(date(2026, 9, 3), false, "fix")
	wantPrecondition(t, err, "PERIOD_CLOSED")
	if !strings.Contains(err.Error(), "period 2026-09 is closed") || !strings.Contains(err.Error(), "2026-10") {
		t.Errorf("message %q should name the closed period and the first open one", err)
	}
	_, err = ps.RouteManual(date(2026, 9, 3), true, "  ")
	wantPrecondition(t, err, "PERIOD_CLOSED")
	if p, err := ps.RouteManual(date(2026, 9, 3), true, "accrual"); err != nil || p.ID != "2026-09" {
		t.Errorf("adjusting entry into the closed period: %v, %v", p, err)
	}
}

func TestNothingIsPostedByHandIntoALockedPeriod(t *testing.T) {
	ps := periods(Calendar{}, PeriodLocked, PeriodClosed, PeriodOpen)
	_, err := ps.RouteManual(date(2026, 8, 3), true, "accrual")
	wantPrecondition(t, err, "PERIOD_LOCKED")
	if !strings.Contains(err.Error(), "period 2026-08 is locked") {
		t.Errorf("message %q", err)
	}
	// Before the books' first period, which is locked: the same.
	_, err = ps.RouteManual(date(2026, 1, 3), true, "accrual")
	wantPrecondition(t, err, "PERIOD_LOCKED")
}

func TestPeriodTransitions(t *testing.T) {
	const o, c, l = PeriodOpen, PeriodClosed, PeriodLocked
	now := date(2027, 1, 15)
	for _, tc := range []struct {
		name   string
		states []PeriodState // 2026-08, -09, -10, -11, -12
		op     string
		id     string
		reason string // "" when allowed
	}{
		{"close the oldest open period", []PeriodState{c, o, o}, "close", "2026-09", ""},
		{"close with an earlier period open", []PeriodState{c, o, o}, "close", "2026-10", "EARLIER_PERIOD_OPEN"},
		{"close with an unrecorded earlier period", []PeriodState{c, c}, "close", "2026-11", "EARLIER_PERIOD_OPEN"},
		{"close the month after the recorded ones", []PeriodState{c, c}, "close", "2026-10", ""},
		{"close a closed period", []PeriodState{c, o}, "close", "2026-08", "PERIOD_NOT_OPEN"},
		{"close a locked period", []PeriodState{l, o}, "close", "2026-08", "PERIOD_NOT_OPEN"},
		{"close the last ended period", []PeriodState{c, c, c, c, o}, "close", "2026-12", ""},
		{"close the current period", []PeriodState{c, c, c, c, c, o}, "close", "2027-01", "PERIOD_NOT_ENDED"},
		{"lock a closed period", []PeriodState{l, c, o}, "lock", "2026-09", ""},
		{"lock an open period", []PeriodState{l, o}, "lock", "2026-09", "PERIOD_NOT_CLOSED"},
		{"lock with an earlier period not locked", []PeriodState{c, c}, "lock", "2026-09", "EARLIER_PERIOD_NOT_LOCKED"},
		{"lock a locked period", []PeriodState{l}, "lock", "2026-08", "PERIOD_LOCKED"},
		{"reopen the last closed period", []PeriodState{c, c, o}, "reopen", "2026-09", ""},
		{"reopen with a later period closed", []PeriodState{c, c, o}, "reopen", "2026-08", "LATER_PERIOD_CLOSED"},
		{"reopen a locked period", []PeriodState{l, o}, "reopen", "2026-08", "PERIOD_LOCKED"},
		{"reopen an open period", []PeriodState{c, o}, "reopen", "2026-09", "PERIOD_NOT_CLOSED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := periods(Calendar{}, tc.states...)
			p := ps.Find(tc.id)
			if p == nil { // not recorded: an open month
				p, _ = ps.Calendar.Parse("", tc.id)
			}
			var err error
			switch tc.op {
			case "close":
				err = ps.CanClose(p, now)
			case "lock":
				err = ps.CanLock(p)
			case "reopen":
				err = ps.CanReopen(p)
			}
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("%s %s: %v", tc.op, tc.id, err)
				}
				return
			}
			wantPrecondition(t, err, tc.reason)
			if !strings.Contains(err.Error(), "period "+tc.id) {
				t.Errorf("message %q does not name %s", err, tc.id)
			}
		})
	}
}

func TestCloseLockReopenRecordWhoAndWhy(t *testing.T) {
	p, _ := (Calendar{}).Parse("", "2026-11")
	at := date(2026, 12, 2)
	p.Close(at, "internal/controller", "month end", true, "run-1", false, 2, "")
	if p.State != PeriodClosed || p.ClosedBy != "internal/controller" || p.CloseReason != "month end" || !p.Forced ||
		p.ReconciliationID != "run-1" || p.ReconciliationClean || p.ReconciliationDifferences != 2 || !p.ClosedAt.Equal(at) {
		t.Errorf("closed: %+v", p)
	}
	p.Reopen(at.Add(time.Hour), "internal/cfo", "late invoice")
	if p.State != PeriodOpen || p.ReopenReason != "late invoice" || p.ClosedBy != "internal/controller" {
		t.Errorf("reopened: %+v", p)
	}
	p.Close(at.Add(2*time.Hour), "internal/controller", "", false, "run-2", true, 0, "")
	p.Lock(at.Add(3*time.Hour), "internal/cfo", "audited")
	if p.State != PeriodLocked || p.LockReason != "audited" || p.Forced || p.ReconciliationID != "run-2" {
		t.Errorf("locked: %+v", p)
	}
}
