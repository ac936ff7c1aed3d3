package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests use, whatever the machine has

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/events"
	"trueup.dev/services/ledger/internal/ledger"
	"trueup.dev/services/ledger/internal/store"
)

// clock is a settable clock that moves one microsecond per reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Microsecond)
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err) // the zone database is embedded (time/tzdata)
	}
	return loc
}

// periodFixture is a seeded ledger in New York time whose clock the test sets.
type periodFixture struct {
	t     *testing.T
	db    *sqldb.DB
	svc   *app.Service
	clock *clock
	inv   *fakeInventory
	ctx   context.Context
}

func newPeriodFixture(t *testing.T, db *sqldb.DB) *periodFixture {
	t.Helper()
	ctx := caller.NewContext(context.Background(), caller.Internal("controller"))
	if err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)}
	svc := app.New(store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode), c.now)
	svc.SetTimeZone(mustZone(t, "America/New_York"))
	if err := svc.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.StartPeriods(ctx); err != nil {
		t.Fatal(err)
	}
	inv := &fakeInventory{valuation: map[ledger.StockKey]int64{}}
	svc.SetInventory(inv)
	return &periodFixture{t: t, db: db, svc: svc, clock: c, inv: inv, ctx: ctx}
}

var mainA = ledger.StockKey{Warehouse: "MAIN", Item: "A", Currency: "USD"}

// receive posts a receipt of value into MAIN/A effective at, as inventory's
// event seq, and tells the fake inventory about it (so reconciliation ties).
func (f *periodFixture) receive(id string, value, seq int64, at time.Time) *ledger.Entry {
	f.t.Helper()
	ev := stockEvent(f.t, id, movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: po, srcID: "PO-" + id,
		value: value, currency: "USD", wh: "MAIN", sku: "A", seq: seq, at: at})
	res, err := f.svc.PostEvents(f.ctx, []app.Inbound{ev})
	if err != nil || res.Posted != 1 {
		f.t.Fatalf("PostEvents(%s) = %+v, %v", id, res, err)
	}
	f.inv.through = seq
	f.inv.valuation[mainA] += value
	f.inv.movements = append(f.inv.movements, ledger.PendingMovement{MovementID: "m-" + id, Seq: seq, Key: mainA, Value: value})
	e, err := f.svc.EntryForEvent(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

func (f *periodFixture) reconciliations() int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM reconciliations`).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func wantReason(t *testing.T, err error, kind apperr.Kind, reason string) *apperr.Error {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != kind || (reason != "" && e.Reason != reason) {
		t.Fatalf("err = %v, want %v %s", err, kind, reason)
	}
	return e
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Periods are months in the company's time zone, recorded as postings need
// them, without an administrative step.
func TestPeriodsAreMonthsInTheCompanyTimeZone(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newPeriodFixture(t, db)
		// 03:00 UTC on 1 December is still 30 November in New York.
		nov := f.receive("e1", 1000, 1, utc("2026-12-01T03:00:00Z"))
		dec := f.receive("e2", 500, 2, utc("2026-12-01T06:00:00Z"))
		if nov.PostingPeriod != "2026-11" || dec.PostingPeriod != "2026-12" {
			t.Fatalf("posting periods %s and %s, want 2026-11 and 2026-12", nov.PostingPeriod, dec.PostingPeriod)
		}
		ps, err := f.svc.ListPeriods(f.ctx, paging.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 2 || ps[0].ID != "2026-11" || ps[1].ID != "2026-12" {
			t.Fatalf("ListPeriods = %v", ps)
		}
		p := ps[0]
		if !p.Start.Equal(utc("2026-11-01T04:00:00Z")) || !p.End.Equal(utc("2026-12-01T05:00:00Z")) || p.State != ledger.PeriodOpen ||
			p.Start.Location().String() != "America/New_York" {
			t.Errorf("2026-11 = [%s, %s) %v", p.Start, p.End, p.State)
		}
		// A month nobody posted into yet is an open period all the same, and
		// the list runs through the current month.
		f.clock.set(utc("2027-02-10T12:00:00Z"))
		ps, err = f.svc.ListPeriods(f.ctx, paging.Page{Limit: 10, After: "2026-11"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		if strings.Join(ids, " ") != "2026-12 2027-01 2027-02" {
			t.Errorf("periods after 2026-11: %v", ids)
		}
		jan, err := f.svc.GetPeriod(f.ctx, "2027-01")
		if err != nil || jan.State != ledger.PeriodOpen || !jan.Start.Equal(utc("2027-01-01T05:00:00Z")) {
			t.Errorf("GetPeriod(2027-01) = %+v, %v", jan, err)
		}
		_, err = f.svc.GetPeriod(f.ctx, "2027-1")
		wantReason(t, err, apperr.KindInvalidArgument, "")

		// The entries show their period through the journal's reads.
		es, err := f.svc.ListEntries(f.ctx, app.EntryFilter{}, paging.Page{Limit: 10})
		if err != nil || len(es) != 2 || es[0].PostingPeriod != "2026-11" || es[1].PostingPeriod != "2026-12" {
			t.Errorf("ListEntries = %v, %v", es, err)
		}
	})
}

// Closing runs the reconciliation and is refused while it shows an
// unexplained difference, unless forced with a reason, which is recorded.
func TestClosingAPeriodNeedsACleanReconciliationOrAReason(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newPeriodFixture(t, db)
		f.receive("e1", 1000, 1, utc("2026-11-20T15:00:00Z"))
		f.inv.valuation[mainA] = 990 // inventory says 990, the GL 1000

		// Not ended yet.
		f.clock.set(utc("2026-11-30T23:00:00Z"))
		_, err := f.svc.ClosePeriod(f.ctx, "c-0", "2026-11", false, "", events.Decode)
		wantReason(t, err, apperr.KindFailedPrecondition, "PERIOD_NOT_ENDED")
		if f.reconciliations() != 0 {
			t.Errorf("a close refused on its dates ran a reconciliation")
		}

		f.clock.set(utc("2026-12-02T15:00:00Z"))
		_, err = f.svc.ClosePeriod(f.ctx, "c-1", "2026-11", false, "", events.Decode)
		e := wantReason(t, err, apperr.KindFailedPrecondition, "RECONCILIATION_DIFFERENCES")
		if len(e.Violations) != 1 || e.Violations[0].Subject != "warehouses/MAIN/items/A" || !strings.Contains(e.Message, "difference of 10") {
			t.Errorf("refusal %q, violations %+v: want the MAIN/A difference of 10 named", e.Message, e.Violations)
		}
		if n := f.reconciliations(); n != 1 {
			t.Errorf("%d reconciliation runs recorded, want 1", n)
		}
		// Forcing needs a reason.
		_, err = f.svc.ClosePeriod(f.ctx, "c-2", "2026-11", true, " ", events.Decode)
		e = wantReason(t, err, apperr.KindInvalidArgument, "")
		if e.Violations[0].Field != "reason" {
			t.Errorf("violations %+v, want reason", e.Violations)
		}
		p, err := f.svc.ClosePeriod(f.ctx, "c-3", "2026-11", true, "count of MAIN/A pending, accepted by the CFO", events.Decode)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != ledger.PeriodClosed || !p.Forced || p.CloseReason != "count of MAIN/A pending, accepted by the CFO" ||
			p.ClosedBy != "internal:controller" || p.ReconciliationClean ||
			p.ReconciliationDifferences != 1 || p.ReconciliationID == "" || p.ClosedAt.IsZero() {
			t.Fatalf("closed period: %+v", p)
		}
		var clean bool
		if err := db.QueryRowContext(f.ctx, `SELECT clean FROM reconciliations WHERE id = $1`, p.ReconciliationID).Scan(&clean); err != nil || clean {
			t.Errorf("reconciliation run %s: clean %v, %v; want the recorded, unclean run", p.ReconciliationID, clean, err)
		}
		// A retry returns the closed period without reconciling again; the
		// same request id for another request is refused.
		runs := f.reconciliations()
		again, err := f.svc.ClosePeriod(f.ctx, "c-3", "2026-11", true, "count of MAIN/A pending, accepted by the CFO", events.Decode)
		if err != nil || again.ReconciliationID != p.ReconciliationID || !again.ClosedAt.Equal(p.ClosedAt) {
			t.Errorf("retry = %+v, %v; want %+v", again, err, p)
		}
		if f.reconciliations() != runs {
			t.Errorf("the retry ran a reconciliation")
		}
		_, err = f.svc.ClosePeriod(f.ctx, "c-3", "2026-11", true, "another reason", events.Decode)
		wantReason(t, err, apperr.KindInvalidArgument, "")
		got, err := f.svc.GetPeriod(f.ctx, "2026-11")
		if err != nil || got.State != ledger.PeriodClosed || got.ReconciliationID != p.ReconciliationID || got.CloseReason != p.CloseReason {
			t.Errorf("GetPeriod = %+v, %v", got, err)
		}
		_, err = f.svc.ClosePeriod(f.ctx, "c-4", "2026-11", false, "", events.Decode)
		wantReason(t, err, apperr.KindFailedPrecondition, "PERIOD_NOT_OPEN")

		// December ties: it closes without force, recording a clean run.
		f.inv.valuation[mainA] = 1000
		f.clock.set(utc("2027-01-03T15:00:00Z"))
		dec, err := f.svc.ClosePeriod(f.ctx, "c-5", "2026-12", false, "", events.Decode)
		if err != nil || dec.State != ledger.PeriodClosed || dec.Forced || !dec.ReconciliationClean || dec.ReconciliationDifferences != 0 {
			t.Fatalf("clean close = %+v, %v", dec, err)
		}
	})
}

// Without a connection to inventory the reconciliation cannot run: a close
// is refused with that error unless forced, and the forced close records why.
func TestClosingWithoutReconciliationMustBeForced(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newPeriodFixture(t, db)
		f.svc.SetInventory(nil)
		f.receive("e1", 1000, 1, utc("2026-11-20T15:00:00Z"))
		_, err := f.svc.ClosePeriod(f.ctx, "c-1", "2026-11", false, "", events.Decode)
		wantReason(t, err, apperr.KindUnavailable, "NO_INVENTORY")
		p, err := f.svc.ClosePeriod(f.ctx, "c-2", "2026-11", true, "inventory is down for the upgrade", events.Decode)
		if err != nil || p.State != ledger.PeriodClosed || !p.Forced || p.ReconciliationID != "" || !strings.Contains(p.ReconciliationError, "inventory") {
			t.Fatalf("forced close = %+v, %v", p, err)
		}
	})
}

// An event effective in a closed period posts into the first open period,
// keeping its effective date; after a reopen it goes into its own period.
func TestALateEventPostsIntoTheFirstOpenPeriod(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newPeriodFixture(t, db)
		f.receive("e1", 1000, 1, utc("2026-11-20T15:00:00Z"))
		if _, err := f.svc.ClosePeriod(f.ctx, "c-1", "2026-11", false, "", events.Decode); err != nil {
			t.Fatal(err)
		}
		lateAt := utc("2026-11-25T15:00:00Z")
		late := f.receive("e2", 300, 2, lateAt)
		if late.PostingPeriod != "2026-12" || !late.EffectiveAt.Equal(lateAt) {
			t.Fatalf("late entry: period %s effective %s; want 2026-12, effective %s", late.PostingPeriod, late.EffectiveAt, lateAt)
		}
		// The balance as of the effective date still counts it there.
		asOf := balance(t, f.svc, app.BalanceQuery{Before: utc("2026-11-30T00:00:00Z"), Account: ledger.AcctInventory})
		if asOf["1400 USD  "] != 1300 {
			t.Errorf("inventory as of 30 November: %v", asOf)
		}
		// A redelivery changes nothing.
		res, err := f.svc.PostEvents(f.ctx, []app.Inbound{stockEvent(t, "e2", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT,
			src: po, srcID: "PO-e2", value: 300, currency: "USD", wh: "MAIN", sku: "A", seq: 2, at: lateAt})})
		if err != nil || res.Duplicates != 1 || res.Posted != 0 {
			t.Errorf("redelivery: %+v, %v", res, err)
		}

		// Reopened (with a reason), November takes its events again.
		_, err = f.svc.ReopenPeriod(f.ctx, "o-1", "2026-11", "")
		wantReason(t, err, apperr.KindInvalidArgument, "")
		p, err := f.svc.ReopenPeriod(f.ctx, "o-1", "2026-11", "supplier bill dated November arrived late")
		if err != nil || p.State != ledger.PeriodOpen || p.ReopenReason != "supplier bill dated November arrived late" || p.ReopenedAt.IsZero() ||
			p.CloseReason != "" || p.ClosedAt.IsZero() {
			t.Fatalf("reopened: %+v, %v", p, err)
		}
		again, err := f.svc.ReopenPeriod(f.ctx, "o-1", "2026-11", "supplier bill dated November arrived late")
		if err != nil || !again.ReopenedAt.Equal(p.ReopenedAt) {
			t.Errorf("retried reopen = %+v, %v", again, err)
		}
		if e := f.receive("e3", 20, 3, lateAt); e.PostingPeriod != "2026-11" {
			t.Errorf("event into the reopened period posted into %s", e.PostingPeriod)
		}

		// Periods close in order and reopen in reverse order.
		f.clock.set(utc("2027-01-03T15:00:00Z"))
		_, err = f.svc.ClosePeriod(f.ctx, "c-2", "2026-12", false, "", events.Decode)
		wantReason(t, err, apperr.KindFailedPrecondition, "EARLIER_PERIOD_OPEN")
		for i, id := range []string{"2026-11", "2026-12"} {
			if _, err := f.svc.ClosePeriod(f.ctx, "c-3"+id, id, false, "", events.Decode); err != nil {
				t.Fatalf("close %s (%d): %v", id, i, err)
			}
		}
		_, err = f.svc.ReopenPeriod(f.ctx, "o-2", "2026-11", "why not")
		wantReason(t, err, apperr.KindFailedPrecondition, "LATER_PERIOD_CLOSED")
		// Every recorded period closed: a late event opens the next month.
		if e := f.receive("e4", 5, 4, lateAt); e.PostingPeriod != "2027-01" {
			t.Errorf("late event with every period closed posted into %s, want 2027-01", e.PostingPeriod)
		}
	})
}

// A manual entry goes into a closed period only as an adjusting entry with a
// reason, and into a locked period never; a reversal posts where it is now.
func TestManualEntriesIntoClosedAndLockedPeriods(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newPeriodFixture(t, db)
		f.receive("e1", 1000, 1, utc("2026-11-20T15:00:00Z"))
		if _, err := f.svc.ClosePeriod(f.ctx, "c-1", "2026-11", false, "", events.Decode); err != nil {
			t.Fatal(err)
		}
		accrual := app.ManualEntry{EffectiveAt: utc("2026-11-28T12:00:00Z"), Reason: "freight accrual for November", Lines: []ledger.Line{
			{Account: ledger.AcctWriteDowns, Side: ledger.Debit, Amount: 70, Currency: "USD"},
			{Account: ledger.AcctGRNI, Side: ledger.Credit, Amount: 70, Currency: "USD"},
		}}
		_, err := f.svc.CreateEntry(f.ctx, "m-1", accrual)
		e := wantReason(t, err, apperr.KindFailedPrecondition, "PERIOD_CLOSED")
		if !strings.Contains(e.Message, "period 2026-11 is closed") || !strings.Contains(e.Message, "2026-12") {
			t.Errorf("refusal %q should name the closed period and the first open one", e.Message)
		}
		accrual.Adjusting = true
		adj, err := f.svc.CreateEntry(f.ctx, "m-2", accrual)
		if err != nil || adj.PostingPeriod != "2026-11" || !adj.Adjusting {
			t.Fatalf("adjusting entry = %+v, %v", adj, err)
		}
		got, err := f.svc.GetEntry(f.ctx, adj.ID)
		if err != nil || got.PostingPeriod != "2026-11" || !got.Adjusting {
			t.Errorf("GetEntry = %+v, %v", got, err)
		}
		again, err := f.svc.CreateEntry(f.ctx, "m-2", accrual)
		if err != nil || again.ID != adj.ID {
			t.Errorf("retry = %v, %v; want %s", again, err, adj.ID)
		}

		// Locked: nothing goes in, not even adjusting entries; it never reopens.
		_, err = f.svc.LockPeriod(f.ctx, "l-0", "2026-12", "")
		wantReason(t, err, apperr.KindFailedPrecondition, "PERIOD_NOT_CLOSED")
		p, err := f.svc.LockPeriod(f.ctx, "l-1", "2026-11", "audited")
		if err != nil || p.State != ledger.PeriodLocked || p.LockReason != "audited" || p.LockedAt.IsZero() {
			t.Fatalf("LockPeriod = %+v, %v", p, err)
		}
		if again, err := f.svc.LockPeriod(f.ctx, "l-1", "2026-11", "audited"); err != nil || !again.LockedAt.Equal(p.LockedAt) {
			t.Errorf("retried lock = %+v, %v", again, err)
		}
		_, err = f.svc.CreateEntry(f.ctx, "m-3", accrual)
		e = wantReason(t, err, apperr.KindFailedPrecondition, "PERIOD_LOCKED")
		if !strings.Contains(e.Message, "period 2026-11 is locked") {
			t.Errorf("refusal %q", e.Message)
		}
		_, err = f.svc.ReopenPeriod(f.ctx, "o-1", "2026-11", "please")
		wantReason(t, err, apperr.KindFailedPrecondition, "PERIOD_LOCKED")
		// Before the books' first period, which is locked: refused as well.
		accrual.EffectiveAt = utc("2026-10-15T12:00:00Z")
		_, err = f.svc.CreateEntry(f.ctx, "m-4", accrual)
		wantReason(t, err, apperr.KindFailedPrecondition, "PERIOD_LOCKED")

		// A reversal of the adjusting entry happens now, in December.
		rev, err := f.svc.ReverseEntry(f.ctx, "r-1", adj.ID, "accrued twice")
		if err != nil || rev.PostingPeriod != "2026-12" {
			t.Fatalf("reversal = %+v, %v", rev, err)
		}
		// A late event for the locked period posts into December.
		if e := f.receive("e2", 10, 2, utc("2026-11-29T12:00:00Z")); e.PostingPeriod != "2026-12" {
			t.Errorf("late event into a locked period posted into %s", e.PostingPeriod)
		}
	})
}

// Entries posted before periods existed get theirs at start, and a ledger
// refuses to start in another time zone than its periods were made in.
func TestStartAssignsPeriodsAndKeepsTheTimeZone(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newPeriodFixture(t, db)
		e := f.receive("e1", 1000, 1, utc("2026-12-01T03:00:00Z"))
		if _, err := db.ExecContext(f.ctx, `UPDATE journal_entries SET posting_period = ''`); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.StartPeriods(f.ctx); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.GetEntry(f.ctx, e.ID)
		if err != nil || got.PostingPeriod != "2026-11" {
			t.Fatalf("entry after start: %+v, %v", got, err)
		}
		utcLedger := app.New(store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode), f.clock.now)
		if err := utcLedger.StartPeriods(f.ctx); err == nil || !strings.Contains(err.Error(), "time zone") {
			t.Errorf("StartPeriods in UTC over New York periods: %v", err)
		}
	})
}

// A close and postings racing: every entry routed into the period commits
// before the close does (postings share the periods' lock, a close takes it
// alone), so none lands in the period after it closed.
func TestNoEntryLandsInAPeriodAfterItCloses(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newPeriodFixture(t, db)
		f.svc.SetInventory(nil) // forced closes: the race is what is tested
		novAt := utc("2026-11-20T15:00:00Z")
		count := func() int {
			var n int
			if err := db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM journal_entries WHERE posting_period = '2026-11'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		f.receive("e0", 1, 1, novAt) // records the period
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := "w" + string(rune('a'+w)) + "-" + time.Now().Format("150405.000000000")
					ev := stockEvent(t, id, movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: po, srcID: "PO-1",
						value: 1, currency: "USD", wh: "MAIN", sku: "A", seq: int64(10 + i), at: novAt})
					if _, err := f.svc.PostEvents(f.ctx, []app.Inbound{ev}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		time.Sleep(50 * time.Millisecond)
		if _, err := f.svc.ClosePeriod(f.ctx, "c-1", "2026-11", true, "race", events.Decode); err != nil {
			t.Fatal(err)
		}
		atClose := count()
		time.Sleep(50 * time.Millisecond)
		close(stop)
		wg.Wait()
		if n := count(); n != atClose {
			t.Errorf("%d entries in 2026-11 when its close returned, %d after: postings landed in the closed period", atClose, n)
		}
		var later int
		if err := db.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM journal_entries WHERE posting_period = '2026-12'`).Scan(&later); err != nil {
			t.Fatal(err)
		}
		if later == 0 {
			t.Errorf("no posting after the close: the race was not run")
		}
	})
}

// TestExportOfAPeriodIsWhatWasBookedIntoIt: a late event effective in a
// closed November is booked into December, so it is exported with
// December's entries and not with November's.
func TestExportOfAPeriodIsWhatWasBookedIntoIt(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newPeriodFixture(t, db)
		onTime := f.receive("e1", 1000, 1, utc("2026-11-20T15:00:00Z"))
		if _, err := f.svc.ClosePeriod(f.ctx, "c-1", "2026-11", false, "", events.Decode); err != nil {
			t.Fatal(err)
		}
		late := f.receive("e2", 300, 2, utc("2026-11-25T15:00:00Z"))
		dec := f.receive("e3", 50, 3, utc("2026-12-01T16:00:00Z"))
		for _, tt := range []struct {
			period string
			want   []string
		}{
			{"2026-11", []string{onTime.ID}},
			{"2026-12", []string{late.ID, dec.ID}},
		} {
			b, err := f.svc.CreateExport(f.ctx, "x-"+tt.period, app.ExportRequest{Period: tt.period})
			if err != nil {
				t.Fatal(err)
			}
			if got := exportedEntries(t, download(t, f.svc, b.ID)); !slices.Equal(got, tt.want) {
				t.Errorf("export of %s holds %v, want %v", tt.period, got, tt.want)
			}
		}
	})
}

// TestExportDatesAreTheCompanysDays: in New York, an event at 03:00 UTC on
// 1 December happened on 30 November: the export's dates, its summary day
// and its date range say so, as November's period does.
func TestExportDatesAreTheCompanysDays(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newPeriodFixture(t, db)
		e := f.receive("ny1", 700, 1, utc("2026-12-01T03:00:00Z"))
		if e.PostingPeriod != "2026-11" {
			t.Fatalf("posting period %s, want 2026-11", e.PostingPeriod)
		}
		b, err := f.svc.CreateExport(f.ctx, "x-ny-detail", app.ExportRequest{FromDate: "2026-11-30", ToDate: "2026-11-30"})
		if err != nil {
			t.Fatal(err)
		}
		content := download(t, f.svc, b.ID)
		if got := exportedEntries(t, content); !slices.Equal(got, []string{e.ID}) || !strings.Contains(string(content), ","+"2026-11-30"+",") {
			t.Fatalf("30 November's export holds %v:\n%s", got, content)
		}
		if b.Range.FromDate() != "2026-11-30" || b.Range.ToDate() != "2026-11-30" {
			t.Errorf("range %s..%s", b.Range.FromDate(), b.Range.ToDate())
		}
		if _, err := f.svc.VoidExport(f.ctx, "v-ny", b.ID, "summary wanted"); err != nil {
			t.Fatal(err)
		}
		s, err := f.svc.CreateExport(f.ctx, "x-ny-summary", app.ExportRequest{Period: "2026-11", Mode: ledger.ExportSummary})
		if err != nil {
			t.Fatal(err)
		}
		if sum := string(download(t, f.svc, s.ID)); !strings.Contains(sum, s.ID+",2026-11-30,") || strings.Contains(sum, "2026-12-01") {
			t.Fatalf("November's summary:\n%s", sum)
		}
	})
}
