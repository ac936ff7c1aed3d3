package fulfillment

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
	"trueup.dev/platform/qty"
)

func units(n int64) qty.Qty { return qty.Qty(n) * qty.One }

func usd(minor int64) money.Money { return money.Money{Currency: "USD", Minor: minor} }

func TestADifferenceAboveAThresholdNeedsAnApproval(t *testing.T) {
	th := CountThresholds{MaxQty: units(5), MaxValue: &money.Money{Currency: "USD", Minor: 5000}}
	cases := []struct {
		name  string
		th    CountThresholds
		diff  qty.Qty
		value money.Money
		want  bool
	}{
		{"no difference", th, 0, money.Money{}, false},
		{"within both", th, units(-3), usd(-300), false},
		{"at the quantity threshold is within", th, units(5), usd(500), false},
		{"above the quantity threshold, either way", th, units(-6), usd(-600), true},
		{"above the value threshold", th, units(2), usd(5001), true},
		{"a shortage above the value threshold", th, units(-2), usd(-5001), true},
		{"a value in another currency cannot be judged", th, units(1), money.Money{Currency: "EUR", Minor: 1}, true},
		{"no value threshold judges quantity only", CountThresholds{MaxQty: units(5)}, units(5), usd(1_000_000), false},
		{"a zero threshold approves every difference", CountThresholds{}, qty.Qty(1), usd(0), true},
		{"the default books up to 10 units", DefaultCountThresholds(), units(10), usd(99999), false},
		{"the default holds 11", DefaultCountThresholds(), units(-11), usd(-1), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.th.NeedsApproval(c.diff, c.value); got != c.want {
				t.Fatalf("NeedsApproval(%s, %s) = %v, want %v", c.diff, c.value, got, c.want)
			}
		})
	}
}

func TestCountTargetsCountALocationOnceAndAnItemWhereverItIs(t *testing.T) {
	got := CountTargets([]string{"B-01"}, []string{"W", "X"}, map[string][]string{"W": {"A-02", "B-01", "A-01"}, "X": {"A-01"}})
	want := []CountTarget{{"A-01", "W"}, {"A-01", "X"}, {"A-02", "W"}, {"B-01", ""}}
	if len(got) != len(want) {
		t.Fatalf("targets = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("targets = %v, want %v", got, want)
		}
	}
}

func TestCountSpecNeedsAWarehouseAndSomethingToCount(t *testing.T) {
	s := CountSpec{Warehouse: " main ", Locations: []string{"a-01", "A-01"}, Thresholds: &CountThresholds{MaxQty: -1}}
	if err := s.Normalize(); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("negative threshold: %v", err)
	}
	s.Thresholds = nil
	if err := s.Normalize(); err != nil || s.Warehouse != "MAIN" || len(s.Locations) != 1 || s.Locations[0] != "A-01" {
		t.Fatalf("normalised = %+v, %v", s, err)
	}
	if err := (&CountSpec{Warehouse: "MAIN"}).Normalize(); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("nothing to count: %v", err)
	}
}

var now0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

func newTestCount(t *testing.T, th *CountThresholds, targets ...CountTarget) (*Count, []*Task) {
	t.Helper()
	c, tasks, err := NewCount("CNT-MAIN-1", CountSpec{Warehouse: "MAIN", Locations: []string{"A-01-01"}, Thresholds: th, By: "planner"}, targets, "", now0)
	if err != nil {
		t.Fatal(err)
	}
	return c, tasks
}

// A count task tells the counter where to count and what, never how much
// inventory expects there.
func TestCountTasksAreBlind(t *testing.T) {
	c, tasks := newTestCount(t, nil, CountTarget{Location: "A-01-01"}, CountTarget{Location: "B-02-01", SKU: "W"})
	if len(tasks) != 2 || c.State != CountOpen || c.Thresholds.MaxQty != DefaultCountMaxQty {
		t.Fatalf("count = %+v, tasks %v", c, tasks)
	}
	for i, k := range tasks {
		if k.Type != TaskCount || k.Qty != 0 || k.Reference != c.ID || k.State != TaskOpen || k.ID != c.Tasks[i].ID {
			t.Fatalf("task %d = %+v", i, k)
		}
	}
	if tasks[1].Zone != "B" || tasks[1].From != "B-02-01" || tasks[1].SKU != "W" || tasks[0].ID != "CNT-MAIN-1-1" {
		t.Fatalf("item task = %+v", tasks[1])
	}
	if _, _, err := NewCount("CNT-X", CountSpec{Warehouse: "MAIN", Items: []string{"W"}}, nil, "", now0); !errors.Is(err, apperr.ErrFailedPrecondition) {
		t.Fatalf("a count of nothing = %v", err)
	}
}

func finding(sku string, counted, diff int64, value int64) CountFinding {
	return CountFinding{Counted: Counted{SKU: sku, BaseUoM: "EA", Qty: units(counted)},
		Outcome: CountOutcome{Counted: units(counted), Difference: units(diff), Value: usd(value)}}
}

func TestRecordingACountDecidesEachLineByTheThresholds(t *testing.T) {
	c, tasks := newTestCount(t, &CountThresholds{MaxQty: units(5), MaxValue: &money.Money{Currency: "USD", Minor: 10000}},
		CountTarget{Location: "A-01-01"}, CountTarget{Location: "A-01-02"})
	refused := finding("Z", 3, 3, 0)
	refused.Note = "inventory: NO_COST"
	gone := finding("Y", 1, 0, 0)
	gone.Superseded = true
	at := now0.Add(time.Minute)
	lines, err := c.Record(tasks[0].ID, []CountFinding{finding("W", 118, -2, -250), finding("X", 100, -20, -2500), refused, gone}, "counter", at, at)
	if err != nil {
		t.Fatal(err)
	}
	want := []CountLineState{CountLineApproved, CountLinePending, CountLinePending, CountLineSuperseded}
	for i, l := range lines {
		if l.State != want[i] || l.Number != i+1 || l.Location != "A-01-01" || l.CountedBy != "counter" || !l.CountedAt.Equal(at) {
			t.Fatalf("line %d = %+v, want %s", i+1, l, want[i])
		}
	}
	if lines[1].Expected != units(120) || lines[0].Expected != units(120) {
		t.Fatalf("expected = %s, %s; want 120 (counted - difference)", lines[0].Expected, lines[1].Expected)
	}
	if c.State != CountOpen {
		t.Fatalf("state with a task to count = %s", c.State)
	}
	if _, err := c.Record(tasks[0].ID, nil, "counter", at, at); !errors.Is(err, apperr.ErrFailedPrecondition) {
		t.Fatalf("a task recorded twice = %v", err)
	}
	if _, err := c.Record(tasks[1].ID, nil, "counter", at, at); err != nil || c.State != CountInReview {
		t.Fatalf("every task counted: %s, %v", c.State, err)
	}
	if got := len(c.ToBook()); got != 1 {
		t.Fatalf("lines to book = %d", got)
	}
	if !c.Booked(1, CountOutcome{Counted: units(118), Difference: units(-2), Value: usd(-250), Movement: "M-1"}, at) || c.Lines[0].State != CountLineBooked {
		t.Fatalf("booked line = %+v", c.Lines[0])
	}
	if c.Booked(1, CountOutcome{}, at) {
		t.Fatal("a line is booked once")
	}
}

// The counter who counted a line may not approve or reject it; whoever else
// reviews it gives a reason, and a rejected line may be counted again.
func TestReviewingACount(t *testing.T) {
	c, tasks := newTestCount(t, &CountThresholds{MaxQty: units(1)}, CountTarget{Location: "A-01-01"})
	if _, err := c.Record(tasks[0].ID, []CountFinding{finding("W", 100, -20, -2000), finding("X", 7, 3, 300), finding("V", 5, 0, 0)}, "counter", now0, now0); err != nil {
		t.Fatal(err)
	}
	if c.State != CountInReview || c.PendingLines() != 2 {
		t.Fatalf("after the count: %s, %d pending", c.State, c.PendingLines())
	}
	cases := []struct {
		name   string
		ds     []CountDecision
		by     string
		reason string
	}{
		{"the counter approves their own count", []CountDecision{{Line: 1, Approve: true, Reason: "ok"}}, "counter", ReasonCountSelfReview},
		{"a line within the thresholds waits for no approval", []CountDecision{{Line: 3, Approve: true, Reason: "ok"}}, "lead", ReasonCountLineState},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Review(tc.ds, tc.by, now0)
			var e *apperr.Error
			if !errors.As(err, &e) || e.Reason != tc.reason {
				t.Fatalf("Review = %v, want %s", err, tc.reason)
			}
		})
	}
	if err := CheckDecisions([]CountDecision{{Line: 1, Approve: true}}); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("a decision without a reason = %v", err)
	}
	if err := CheckDecisions([]CountDecision{{Line: 1, Approve: true, Recount: true, Reason: "x"}}); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("an approval with a recount = %v", err)
	}
	recounts, err := c.Review([]CountDecision{{Line: 1, Approve: true, Reason: "shrinkage confirmed", ReasonCode: "shrinkage"},
		{Line: 2, Reason: "looks like a miscount", Recount: true}}, "lead", now0)
	if err != nil {
		t.Fatal(err)
	}
	l1, l2 := c.Lines[0], c.Lines[1]
	if l1.State != CountLineApproved || l1.ReviewedBy != "lead" || l1.ReasonCode != "SHRINKAGE" || l1.ReviewNote != "shrinkage confirmed" {
		t.Fatalf("approved line = %+v", l1)
	}
	if l2.State != CountLineRejected || len(recounts) != 1 || l2.Recount != recounts[0].ID || recounts[0].SKU != "X" || recounts[0].From != "A-01-01" || recounts[0].Qty != 0 {
		t.Fatalf("rejected line = %+v, recounts %+v", l2, recounts)
	}
	// The recount is blind: while it is open, the location's lines show no
	// expectation.
	if c.State != CountOpen || c.Reveals(l2) {
		t.Fatalf("with a recount open: %s, reveals %v", c.State, c.Reveals(l2))
	}
	if !c.NotBooked(1, true, "counted again since", now0) || c.Lines[0].State != CountLineSuperseded {
		t.Fatalf("superseded = %+v", c.Lines[0])
	}
	if _, err := c.Record(recounts[0].ID, []CountFinding{finding("X", 4, 0, 0)}, "counter2", now0, now0); err != nil {
		t.Fatal(err)
	}
	if c.Lines[3].State != CountLineApproved || !c.Reveals(l2) || c.State != CountInReview {
		t.Fatalf("recounted: %+v, %s", c.Lines[3], c.State)
	}
	c.Booked(4, CountOutcome{Counted: units(4), Movement: "M-4"}, now0)
	c.Booked(3, CountOutcome{Counted: units(5), Movement: "M-3"}, now0)
	if c.State != CountCompleted || c.CompletedAt.IsZero() {
		t.Fatalf("every line settled: %s", c.State)
	}
}

func TestCountedQuantitiesConvertToBaseUnitsAndAddUp(t *testing.T) {
	it := ItemFacts{SKU: "W", BaseUoM: "EA", Factors: map[string]*big.Rat{"EA": big.NewRat(1, 1), "CS": big.NewRat(12, 1)}, ScanUoM: "CS"}
	a, err := CountedOf(0, CountScan{Code: "case-code", Quantity: "2"}, it)
	if err != nil || a.Qty != units(24) {
		t.Fatalf("2 cases = %+v, %v", a, err)
	}
	b, err := CountedOf(1, CountScan{Code: "W", Quantity: "3", UoM: "ea"}, it)
	if err != nil || b.Qty != units(3) {
		t.Fatalf("3 eaches = %+v, %v", b, err)
	}
	sum, err := AddUp([]Counted{a, b})
	if err != nil || len(sum) != 1 || sum[0].Qty != units(27) {
		t.Fatalf("added up = %+v, %v", sum, err)
	}
	if _, err := CountedOf(2, CountScan{Code: "W", Quantity: "1", UoM: "PAL"}, it); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("an unknown unit = %v", err)
	}
	if _, err := CountedOf(3, CountScan{Code: "W", Quantity: "1", Lot: "L1"}, it); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("a lot of an item without lots = %v", err)
	}
	if err := CheckCountScans([]CountScan{{Code: "W", Quantity: "-1"}}); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("a negative count = %v", err)
	}
	if err := CheckCountScans([]CountScan{{Code: "W", Quantity: "0"}}); err != nil {
		t.Fatalf("counting none is a count: %v", err)
	}
}

func TestACountTimeIsNotInTheFutureNorBeforeTheTask(t *testing.T) {
	k := &Task{ID: "CNT-1-1", CreatedAt: now0}
	if at, err := CheckCountTime(k, time.Time{}, now0.Add(time.Hour)); err != nil || !at.Equal(now0.Add(time.Hour)) {
		t.Fatalf("no time given = %s, %v; want now", at, err)
	}
	if _, err := CheckCountTime(k, now0.Add(-time.Second), now0.Add(time.Hour)); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("before the task = %v", err)
	}
	if _, err := CheckCountTime(k, now0.Add(2*time.Hour), now0.Add(time.Hour)); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("in the future = %v", err)
	}
}
