package store_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/events"
	"trueup.dev/services/fulfillment/internal/fulfillment"
	"trueup.dev/services/fulfillment/internal/store"
)

// countStock stands in for inventory's stock in the count tests (the
// dev-stack test in cmd/trueup counts against the real one). It keeps
// levels and a journal of when each change happened, and books a count as
// inventory does: counted less what the level held at the count time, once
// per request id, refused when the level was counted after that time.
type countStock struct {
	mu       sync.Mutex
	levels   map[stockKey]qty.Qty
	journal  []stockChange
	booked   map[string]fulfillment.CountOutcome
	bookings int
	down     bool             // inventory unavailable
	refuse   map[string]error // by SKU: how inventory refuses to count it
	seq      int
}

type stockKey struct{ loc, sku, lot string }

type stockChange struct {
	key   stockKey
	delta qty.Qty
	at    time.Time
	count bool
}

// unitCost is what one base unit is worth, in US cents.
var unitCost = map[string]int64{"W-1": 250, "LOT-1": 1000}

func newCountStock() *countStock {
	return &countStock{levels: map[stockKey]qty.Qty{}, booked: map[string]fulfillment.CountOutcome{}}
}

func (f *countStock) put(loc, sku, lot string, n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.levels[stockKey{loc, sku, lot}] += qty.Qty(n) * qty.One
}

// move moves n of sku between locations, as happened at at.
func (f *countStock) move(sku, from, to string, n int64, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := qty.Qty(n) * qty.One
	f.levels[stockKey{from, sku, ""}] -= q
	f.levels[stockKey{to, sku, ""}] += q
	f.journal = append(f.journal, stockChange{stockKey{from, sku, ""}, -q, at, false}, stockChange{stockKey{to, sku, ""}, q, at, false})
}

func (f *countStock) onHand(loc, sku string) qty.Qty {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.levels[stockKey{loc, sku, ""}]
}

func (f *countStock) countBookings() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bookings
}

func (f *countStock) ResolveItem(_ context.Context, code, _ string) (fulfillment.ItemFacts, error) {
	w := fulfillment.ItemFacts{SKU: "W-1", BaseUoM: "EA", Factors: map[string]*big.Rat{"EA": big.NewRat(1, 1), "CS": big.NewRat(12, 1)}}
	switch strings.ToUpper(code) {
	case "W-1":
		return w, nil
	case "0400000000001": // a case barcode of W-1
		w.ScanUoM = "CS"
		return w, nil
	case "LOT-1":
		return fulfillment.ItemFacts{SKU: "LOT-1", BaseUoM: "EA", Factors: map[string]*big.Rat{"EA": big.NewRat(1, 1)}, LotTracked: true}, nil
	}
	return fulfillment.ItemFacts{}, apperr.NotFound("item with code", code)
}

func (f *countStock) Location(_ context.Context, warehouse, code string) (app.Location, error) {
	if strings.HasPrefix(code, "A-") || strings.HasPrefix(code, "B-") {
		return app.Location{Warehouse: warehouse, Code: code}, nil
	}
	return app.Location{}, apperr.NotFound("location", code)
}

func (f *countStock) StockOf(_ context.Context, _, sku string) ([]fulfillment.Holding, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fulfillment.Holding
	for k, q := range f.levels {
		if k.sku == sku && q != 0 {
			out = append(out, fulfillment.Holding{Location: k.loc, OnHand: q})
		}
	}
	return out, nil
}

func (f *countStock) StockAt(_ context.Context, _, location, sku string) ([]app.CountLevel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []app.CountLevel
	for k, q := range f.levels {
		if k.loc == location && (sku == "" || k.sku == sku) && q != 0 {
			out = append(out, app.CountLevel{SKU: k.sku, Lot: k.lot, BaseUoM: "EA", OnHand: q})
		}
	}
	return out, nil
}

// outcome is what counting b would book: counted less the level at b.At.
func (f *countStock) outcome(b app.CountBooking) (fulfillment.CountOutcome, stockKey, error) {
	if f.down {
		return fulfillment.CountOutcome{}, stockKey{}, apperr.New(apperr.KindUnavailable, "UNAVAILABLE", "inventory is down")
	}
	if err := f.refuse[b.SKU]; err != nil {
		return fulfillment.CountOutcome{}, stockKey{}, err
	}
	k := stockKey{b.Location, b.SKU, b.Lot}
	held := f.levels[k]
	for _, c := range f.journal {
		if c.key == k && c.at.After(b.At) {
			if c.count {
				return fulfillment.CountOutcome{}, k, apperr.Precondition("COUNT_SUPERSEDED", "counted again since")
			}
			held -= c.delta
		}
	}
	diff := b.Counted - held
	return fulfillment.CountOutcome{Counted: b.Counted, Difference: diff,
		Value: money.Money{Currency: "USD", Minor: int64(diff) * unitCost[b.SKU] / int64(qty.One)}}, k, nil
}

func (f *countStock) PreviewCount(_ context.Context, _ string, b app.CountBooking) (fulfillment.CountOutcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, _, err := f.outcome(b)
	return o, err
}

func (f *countStock) BookCount(_ context.Context, requestID, _ string, b app.CountBooking) (fulfillment.CountOutcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o, ok := f.booked[requestID]; ok {
		return o, nil
	}
	o, k, err := f.outcome(b)
	if err != nil {
		return o, err
	}
	f.seq++
	f.bookings++
	o.Movement = "MV-" + strings.Repeat("I", f.seq)
	f.levels[k] += o.Difference
	f.journal = append(f.journal, stockChange{k, o.Difference, b.At, true})
	f.booked[requestID] = o
	return o, nil
}

// newCountService is newService with the count events encoded and inv wired.
func newCountService(t *testing.T, db *sqldb.DB, inv *countStock) (*app.Service, *outbox.Outbox) {
	t.Helper()
	ctx := context.Background()
	if err := store.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	var tick atomic.Int64
	now := func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Second) }
	ob := outbox.New(db, outboxtest.Discard{}, outbox.Options{})
	svc := app.New(store.New(db, ob, events.WithCounts(events.Encode)), now)
	svc.SetCountInventory(inv)
	return svc, ob
}

// outboxOf decodes the outbox rows of type msg's.
func outboxOf[M proto.Message](t *testing.T, db *sqldb.DB, newMsg func() M) []M {
	t.Helper()
	typ := string(newMsg().ProtoReflect().Descriptor().FullName())
	rows, err := db.QueryContext(context.Background(), `SELECT payload FROM outbox WHERE type = $1 ORDER BY seq`, typ)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []M
	for rows.Next() {
		var payload []byte
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		m := newMsg()
		if err := proto.Unmarshal(payload, m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func scan(code, q, uom string) fulfillment.CountScan {
	return fulfillment.CountScan{Code: code, Quantity: q, UoM: uom}
}

// Counts with approval: a difference within the thresholds is booked at
// once; one above them waits for someone other than the counter, and is
// then booked against the count time, so stock moved after the count is
// not counted twice. Counting is blind, and a scanner's retry records and
// books once.
func TestCountsWithApproval(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		inv := newCountStock()
		inv.put("A-01-01", "W-1", "", 120)
		inv.put("A-01-01", "LOT-1", "L1", 5)
		svc, _ := newCountService(t, db, inv)
		counter, lead := workerCtx("counter-1"), workerCtx("lead-1")

		c, err := svc.CreateCount(lead, "cnt-1", fulfillment.CountSpec{Warehouse: "main", Locations: []string{"a-01-01"}})
		if err != nil {
			t.Fatal(err)
		}
		if again, err := svc.CreateCount(lead, "cnt-1", fulfillment.CountSpec{Warehouse: "main", Locations: []string{"a-01-01"}}); err != nil || again.ID != c.ID {
			t.Fatalf("retried create = %v, %v", again, err)
		}
		if !strings.HasPrefix(c.ID, "CNT-MAIN-") || len(c.Tasks) != 1 || c.State != fulfillment.CountOpen || c.Thresholds.MaxQty != fulfillment.DefaultCountMaxQty {
			t.Fatalf("count = %+v", c)
		}
		// The task on the queue says where, never how much.
		tasks, err := svc.ListTasks(counter, app.TaskFilter{Warehouse: "MAIN", Type: fulfillment.TaskCount}, "", 10)
		if err != nil || len(tasks) != 1 || tasks[0].Qty != 0 || tasks[0].From != "A-01-01" || tasks[0].Reference != c.ID || tasks[0].Zone != "A" {
			t.Fatalf("count tasks = %+v, %v", tasks, err)
		}
		if _, err := svc.ClaimTask(counter, tasks[0].ID); err != nil {
			t.Fatal(err)
		}
		// Someone else may not record a task the counter holds.
		if _, err := svc.RecordCount(lead, "rec-x", tasks[0].ID, []fulfillment.CountScan{scan("W-1", "118", "")}, time.Time{}); !errors.Is(err, apperr.ErrFailedPrecondition) {
			t.Fatalf("record of a task claimed by another = %v", err)
		}
		// 9 cases and 10 eaches of W-1 (118; inventory has 120); LOT-1 not
		// counted (inventory has 5): both within the default 10.
		scans := []fulfillment.CountScan{scan("0400000000001", "9", ""), scan("w-1", "10", "EA")}
		res, err := svc.RecordCount(counter, "rec-1", tasks[0].ID, scans, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Lines) != 2 || res.Task.State != fulfillment.TaskDone || res.Task.DoneBy != "counter-1" {
			t.Fatalf("recorded = %+v, task %+v", res.Lines, res.Task)
		}
		w, lot := res.Lines[0], res.Lines[1]
		if w.SKU != "W-1" || w.Counted != 118*qty.One || w.State != fulfillment.CountLineBooked || w.Movement == "" ||
			w.Expected != 120*qty.One || w.Difference != -2*qty.One || w.Value.Minor != -500 {
			t.Fatalf("W-1 line = %+v", w)
		}
		if lot.SKU != "LOT-1" || lot.Lot != "L1" || !lot.Uncounted || lot.Counted != 0 || lot.Difference != -5*qty.One || lot.State != fulfillment.CountLineBooked {
			t.Fatalf("uncounted LOT-1 line = %+v", lot)
		}
		if res.Count.State != fulfillment.CountCompleted || inv.onHand("A-01-01", "W-1") != 118*qty.One {
			t.Fatalf("count %s, W-1 on hand %s", res.Count.State, inv.onHand("A-01-01", "W-1"))
		}
		again, err := svc.RecordCount(counter, "rec-1", tasks[0].ID, scans, time.Time{})
		if err != nil || len(again.Lines) != 2 || again.Lines[0].Movement != w.Movement || inv.countBookings() != 2 {
			t.Fatalf("retried record = %+v, %v; %d bookings", again, err, inv.countBookings())
		}
		if got := outboxOf(t, db, func() *fulfillmentv1.CountDifferenceBooked { return &fulfillmentv1.CountDifferenceBooked{} }); len(got) != 2 ||
			got[0].GetLine().GetDifferenceBaseQuantity() != "-2" || got[0].GetLine().GetMovement() != "movements/"+w.Movement {
			t.Fatalf("CountDifferenceBooked events = %v", got)
		}

		// A second count with a low threshold: 100 found where 118 are.
		c2, err := svc.CreateCount(lead, "cnt-2", fulfillment.CountSpec{Warehouse: "MAIN", Locations: []string{"A-01-01"},
			Thresholds: &fulfillment.CountThresholds{MaxQty: 5 * qty.One}})
		if err != nil {
			t.Fatal(err)
		}
		k2 := c2.Tasks[0].ID
		res, err = svc.RecordCount(counter, "rec-2", k2, []fulfillment.CountScan{scan("W-1", "100", ""), {Code: "LOT-1", Lot: "l1", Quantity: "0"}}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		p := res.Lines[0]
		if p.State != fulfillment.CountLinePending || p.Difference != -18*qty.One || p.Movement != "" || res.Count.State != fulfillment.CountInReview ||
			res.Count.PendingLines() != 1 || res.Lines[1].State != fulfillment.CountLineBooked {
			t.Fatalf("above the threshold = %+v, count %s", res.Lines, res.Count.State)
		}
		if got := outboxOf(t, db, func() *fulfillmentv1.CountApprovalRequired { return &fulfillmentv1.CountApprovalRequired{} }); len(got) != 1 ||
			got[0].GetLine().GetExpectedBaseQuantity() != "118" || got[0].GetLine().GetCountedBy() != "counter-1" {
			t.Fatalf("CountApprovalRequired events = %v", got)
		}
		// Stock moves after the count and before its approval.
		inv.move("W-1", "A-01-01", "A-01-02", 10, p.CountedAt.Add(time.Millisecond))

		approve := []fulfillment.CountDecision{{Line: p.Number, Approve: true, Reason: "recounted by the lead: 18 short"}}
		if _, err := svc.ReviewCount(counter, "rev-self", c2.ID, approve); !errors.Is(err, &apperr.Error{Kind: apperr.KindFailedPrecondition, Reason: fulfillment.ReasonCountSelfReview}) {
			t.Fatalf("the counter approving their own count = %v", err)
		}
		if _, err := svc.ReviewCount(lead, "rev-1", c2.ID, []fulfillment.CountDecision{{Line: p.Number, Approve: true}}); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Fatalf("an approval without a reason = %v", err)
		}
		done, err := svc.ReviewCount(lead, "rev-1", c2.ID, approve)
		if err != nil {
			t.Fatal(err)
		}
		l := done.Lines[p.Number-1]
		if l.State != fulfillment.CountLineBooked || l.ReviewedBy != "lead-1" || l.Difference != -18*qty.One || done.State != fulfillment.CountCompleted {
			t.Fatalf("approved = %+v, count %s", l, done.State)
		}
		// 118 at the count, 18 short, 10 moved since: 90, not 100.
		if got := inv.onHand("A-01-01", "W-1"); got != 90*qty.One {
			t.Fatalf("A-01-01 on hand = %s, want 90 (the move is not counted twice)", got)
		}
		if again, err := svc.ReviewCount(lead, "rev-1", c2.ID, approve); err != nil || again.Version != done.Version || inv.countBookings() != 4 {
			t.Fatalf("retried review = %v, %v; %d bookings", again, err, inv.countBookings())
		}
		if _, err := svc.ReviewCount(lead, "rev-2", c2.ID, approve); !errors.Is(err, apperr.ErrFailedPrecondition) {
			t.Fatalf("approving a booked line again = %v", err)
		}
	})
}

// A value threshold holds a difference worth more, and a rejected line is
// counted again by a new task that stays blind.
func TestARejectedCountLineIsCountedAgain(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		inv := newCountStock()
		inv.put("A-01-01", "W-1", "", 20)
		inv.put("B-01-01", "W-1", "", 4)
		svc, _ := newCountService(t, db, inv)
		counter, lead := workerCtx("counter-1"), workerCtx("lead-1")
		c, err := svc.CreateCount(lead, "cnt-v", fulfillment.CountSpec{Warehouse: "MAIN", Items: []string{"0400000000001"},
			Thresholds: &fulfillment.CountThresholds{MaxQty: 100 * qty.One, MaxValue: &money.Money{Currency: "USD", Minor: 1000}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Tasks) != 2 || c.Items[0] != "W-1" || c.Tasks[0].Location != "A-01-01" || c.Tasks[0].SKU != "W-1" || c.Tasks[1].Location != "B-01-01" {
			t.Fatalf("a count by item = %+v", c.Tasks)
		}
		// An item task counts its item only.
		if _, err := svc.RecordCount(counter, "rec-x", c.Tasks[0].ID, []fulfillment.CountScan{scan("LOT-1", "1", "")}, time.Time{}); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Fatalf("another item on an item task = %v", err)
		}
		// 2 short is worth 5.00: booked. 5 short is worth 12.50: held.
		if res, err := svc.RecordCount(counter, "rec-b", c.Tasks[1].ID, []fulfillment.CountScan{scan("W-1", "2", "")}, time.Time{}); err != nil || res.Lines[0].State != fulfillment.CountLineBooked {
			t.Fatalf("within the value threshold = %+v, %v", res, err)
		}
		res, err := svc.RecordCount(counter, "rec-a", c.Tasks[0].ID, []fulfillment.CountScan{scan("W-1", "15", "")}, time.Time{})
		if err != nil || res.Lines[0].State != fulfillment.CountLinePending || res.Lines[0].Value.Minor != -1250 {
			t.Fatalf("above the value threshold = %+v, %v", res, err)
		}
		n := res.Lines[0].Number
		rev, err := svc.ReviewCount(lead, "rev-a", c.ID, []fulfillment.CountDecision{{Line: n, Reason: "a pallet was behind the rack", Recount: true}})
		if err != nil {
			t.Fatal(err)
		}
		rejected := rev.Lines[n-1]
		if rejected.State != fulfillment.CountLineRejected || rejected.Recount == "" || rev.State != fulfillment.CountOpen || rev.Reveals(rejected) {
			t.Fatalf("rejected = %+v, count %s, reveals %v", rejected, rev.State, rev.Reveals(rejected))
		}
		recount, err := svc.GetTask(counter, rejected.Recount)
		if err != nil || recount.Type != fulfillment.TaskCount || recount.SKU != "W-1" || recount.From != "A-01-01" || recount.Qty != 0 || recount.State != fulfillment.TaskOpen {
			t.Fatalf("recount task = %+v, %v", recount, err)
		}
		res, err = svc.RecordCount(workerCtx("counter-2"), "rec-a2", recount.ID, []fulfillment.CountScan{scan("W-1", "20", "")}, time.Time{})
		if err != nil || res.Lines[0].State != fulfillment.CountLineBooked || res.Lines[0].Difference != 0 || res.Count.State != fulfillment.CountCompleted {
			t.Fatalf("recounted = %+v, %v", res, err)
		}
		if inv.onHand("A-01-01", "W-1") != 20*qty.One || inv.onHand("B-01-01", "W-1") != 2*qty.One {
			t.Fatalf("on hand A %s, B %s", inv.onHand("A-01-01", "W-1"), inv.onHand("B-01-01", "W-1"))
		}
	})
}

// An approved line inventory cannot book now (it is down) stays approved
// and is booked by the next BookCounts; one whose location was counted
// again after its count time is superseded, not booked.
func TestCountBookingsOwedAndSuperseded(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		inv := newCountStock()
		inv.put("A-01-01", "W-1", "", 50)
		inv.put("A-01-02", "W-1", "", 50)
		svc, _ := newCountService(t, db, inv)
		counter, lead := workerCtx("counter-1"), workerCtx("lead-1")
		c, err := svc.CreateCount(lead, "cnt-o", fulfillment.CountSpec{Warehouse: "MAIN", Locations: []string{"A-01-01", "A-01-02"},
			Thresholds: &fulfillment.CountThresholds{MaxQty: qty.One}})
		if err != nil {
			t.Fatal(err)
		}
		var held []fulfillment.CountLine
		for i, found := range []string{"40", "45"} {
			res, err := svc.RecordCount(counter, "rec-"+found, c.Tasks[i].ID, []fulfillment.CountScan{scan("W-1", found, "")}, time.Time{})
			if err != nil || res.Lines[0].State != fulfillment.CountLinePending {
				t.Fatalf("held = %+v, %v", res, err)
			}
			held = append(held, res.Lines[0])
		}
		inv.down = true
		got, err := svc.ReviewCount(lead, "rev-1", c.ID, []fulfillment.CountDecision{
			{Line: held[0].Number, Approve: true, Reason: "damaged, thrown away"}, {Line: held[1].Number, Approve: true, Reason: "short"}})
		if err != nil || got.Lines[0].State != fulfillment.CountLineApproved || got.State != fulfillment.CountInReview {
			t.Fatalf("approved while inventory is down = %+v, %v", got, err)
		}
		if n, err := svc.BookCounts(context.Background()); err != nil || n != 1 || inv.countBookings() != 0 {
			t.Fatalf("BookCounts while inventory is down = %d, %v", n, err)
		}
		// Inventory is back, and A-01-02 was counted again after this count.
		inv.down = false
		if _, err := inv.BookCount(context.Background(), "other-count", "MAIN", app.CountBooking{SKU: "W-1", Location: "A-01-02",
			Counted: 41 * qty.One, At: held[1].CountedAt.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		if n, err := svc.BookCounts(context.Background()); err != nil || n != 1 {
			t.Fatalf("BookCounts = %d, %v", n, err)
		}
		c, err = svc.GetCount(lead, c.ID)
		if err != nil || c.Lines[0].State != fulfillment.CountLineBooked || c.Lines[1].State != fulfillment.CountLineSuperseded ||
			c.Lines[1].Note == "" || c.State != fulfillment.CountCompleted {
			t.Fatalf("after booking = %+v, %v", c, err)
		}
		if inv.onHand("A-01-01", "W-1") != 40*qty.One || inv.onHand("A-01-02", "W-1") != 41*qty.One {
			t.Fatalf("on hand A-01-01 %s (want 40), A-01-02 %s (want the later count's 41)", inv.onHand("A-01-01", "W-1"), inv.onHand("A-01-02", "W-1"))
		}
		if n, err := svc.BookCounts(context.Background()); err != nil || n != 0 {
			t.Fatalf("nothing owed = %d, %v", n, err)
		}
	})
}

// Stock found that inventory will not book (it has no cost for it) waits
// for a reviewer with inventory's reason; an approval inventory still
// refuses puts it back, and a rejection settles it.
func TestACountInventoryRefusesWaitsForAReviewer(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		inv := newCountStock()
		inv.refuse = map[string]error{"LOT-1": apperr.Precondition("NO_COST", "item LOT-1 has no cost in warehouse MAIN yet")}
		svc, _ := newCountService(t, db, inv)
		counter, lead := workerCtx("counter-1"), workerCtx("lead-1")
		c, err := svc.CreateCount(lead, "cnt-r", fulfillment.CountSpec{Warehouse: "MAIN", Locations: []string{"A-01-01"}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := svc.RecordCount(counter, "rec-r", c.Tasks[0].ID, []fulfillment.CountScan{{Code: "LOT-1", Lot: "L9", Quantity: "3"}}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		l := res.Lines[0]
		if l.State != fulfillment.CountLinePending || !strings.Contains(l.Note, "no cost") || l.Expected != 0 || l.Difference != 3*qty.One {
			t.Fatalf("refused line = %+v", l)
		}
		got, err := svc.ReviewCount(lead, "rev-r1", c.ID, []fulfillment.CountDecision{{Line: l.Number, Approve: true, Reason: "found"}})
		if err != nil || got.Lines[0].State != fulfillment.CountLinePending || got.Lines[0].ReviewedBy != "lead-1" || inv.countBookings() != 0 {
			t.Fatalf("approved, refused again = %+v, %v", got, err)
		}
		if n := len(outboxOf(t, db, func() *fulfillmentv1.CountApprovalRequired { return &fulfillmentv1.CountApprovalRequired{} })); n != 2 {
			t.Fatalf("CountApprovalRequired events = %d, want 2 (recorded, refused)", n)
		}
		got, err = svc.ReviewCount(lead, "rev-r2", c.ID, []fulfillment.CountDecision{{Line: l.Number, Reason: "not ours: sent back"}})
		if err != nil || got.Lines[0].State != fulfillment.CountLineRejected || got.State != fulfillment.CountCompleted {
			t.Fatalf("rejected = %+v, %v", got, err)
		}
	})
}
