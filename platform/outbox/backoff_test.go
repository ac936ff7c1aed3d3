package outbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
)

// refusing refuses the messages whose ids it holds and passes the rest to
// rec; ids can be added and removed while the relay runs.
type refusing struct {
	rec *outboxtest.Recorder
	mu  sync.Mutex
	ids map[string]int // id → refusals so far
}

func newRefusing(rec *outboxtest.Recorder, ids ...string) *refusing {
	r := &refusing{rec: rec, ids: map[string]int{}}
	for _, id := range ids {
		r.ids[id] = 0
	}
	return r
}

var errTooLarge = errors.New("message too large")

func (r *refusing) Publish(ctx context.Context, msgs []outbox.Message) ([]error, error) {
	r.mu.Lock()
	var pass []outbox.Message
	idx := make([]int, len(msgs))
	for i, m := range msgs {
		if _, ok := r.ids[m.ID]; ok {
			r.ids[m.ID]++
			idx[i] = -1
			continue
		}
		idx[i] = len(pass)
		pass = append(pass, m)
	}
	r.mu.Unlock()
	res, err := r.rec.Publish(ctx, pass)
	if err != nil {
		return nil, err
	}
	out := make([]error, len(msgs))
	for i, j := range idx {
		if j < 0 {
			out[i] = errTooLarge
			continue
		}
		out[i] = res[j]
	}
	return out, nil
}

// refusals says how often id was refused.
func (r *refusing) refusals(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[id]
}

// accept stops refusing id.
func (r *refusing) accept(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.ids, id)
}

func attemptsOf(t *testing.T, db *sqldb.DB, id string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT attempts FROM outbox WHERE id = $1`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A row the broker refuses for ever, at the head of the table, does not delay
// the events written one at a time after it: each is published at once,
// while the refused row is retried on its own schedule. (A relay that pauses
// as a whole after every failure made the n-th such event wait 0.1·2ⁿ s.)
func TestRefusedRowDoesNotDelayEventsWrittenAfterIt(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		poison := newEvent(t, 0)
		rec := &outboxtest.Recorder{}
		pub := newRefusing(rec, poison.ID)
		// No polling: only commits and the refused row's own due time wake
		// the relay. A whole-relay backoff would reach 6.4s by the 7th
		// event and MaxBackoff (10s) by the 8th.
		o := outbox.New(db, pub, outbox.Options{Logger: quiet, BatchSize: 16, PollInterval: time.Hour,
			MaxBackoff: 10 * time.Second, MaxAttempts: 1000})
		startRelay(t, o)
		add(t, db, o, poison)
		waitFor(t, 5*time.Second, "the first refusal", func() (bool, error) { return pub.refusals(poison.ID) >= 1, nil })

		const events = 12
		const bound = 2 * time.Second
		var slowest time.Duration
		for i := 1; i <= events; i++ {
			e := newEvent(t, i)
			start := time.Now()
			add(t, db, o, e)
			for !rec.Has(e.ID) {
				if time.Since(start) > bound {
					t.Fatalf("event %d of %d written after the refused row took over %v to publish", i, events, bound)
				}
				time.Sleep(5 * time.Millisecond)
			}
			slowest = max(slowest, time.Since(start))
			time.Sleep(20 * time.Millisecond) // let the refused row's retries interleave
		}
		t.Logf("slowest of %d events behind the refused row: %v", events, slowest)
		// The refused row was retried when due, not only when something else
		// woke the relay: 100ms, then 200ms, 400ms after its first attempt.
		waitFor(t, 5*time.Second, "the refused row retried on its own", func() (bool, error) {
			return attemptsOf(t, db, poison.ID) >= 4, nil
		})
		if n, err := o.Pending(t.Context()); err != nil || n != 1 {
			t.Fatalf("pending = %d (%v), want only the refused row", n, err)
		}
	})
}

// A row refused MaxAttempts times while the broker takes everything else is
// parked: the relay stops trying it, says so in a metric and ListParked, and
// Unpark puts it back in line.
func TestRefusedRowIsParkedAndCanBeRetried(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		ctx := t.Context()
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		poison := newEvent(t, 0)
		rec := &outboxtest.Recorder{}
		pub := newRefusing(rec, poison.ID)
		o := outbox.New(db, pub, outbox.Options{Logger: quiet, PollInterval: 10 * time.Millisecond,
			MaxBackoff: 100 * time.Millisecond, MaxAttempts: 3, MeterProvider: mp})
		startRelay(t, o)
		add(t, db, o, poison)
		i := 0
		waitFor(t, 10*time.Second, "the refused row parked", func() (bool, error) {
			i++
			add(t, db, o, newEvent(t, i)) // the broker keeps taking other events
			n, err := o.Parked(ctx)
			return n == 1, err
		})
		parked, err := o.ListParked(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(parked) != 1 {
			t.Fatalf("ListParked = %+v, want the refused row", parked)
		}
		p := parked[0]
		if p.ID != poison.ID || p.Subject != poison.Subject || p.Attempts != 3 || p.LastError != errTooLarge.Error() ||
			p.ParkedAt.IsZero() || p.CreatedAt.IsZero() {
			t.Errorf("parked row = %+v, want %s with 3 attempts and the broker's error", p, poison.ID)
		}
		if got := collect(t, reader); got["trueup.outbox.parked"] != 1 || got["trueup.outbox.parked_total"] != 1 {
			t.Errorf("metrics = %v, want parked 1 and parked_total 1", got)
		}

		// Parked means left alone.
		refused := pub.refusals(poison.ID)
		for range 20 {
			add(t, db, o, newEvent(t, 1000))
			time.Sleep(15 * time.Millisecond)
		}
		if got := pub.refusals(poison.ID); got != refused {
			t.Errorf("the relay tried the parked row %d more times", got-refused)
		}
		waitFor(t, 10*time.Second, "only the parked row left", pendingIs(ctx, o, 1))

		// The operator fixes the cause and retries it.
		pub.accept(poison.ID)
		if n, err := o.Unpark(ctx, []string{"no-such-id"}); err != nil || n != 0 {
			t.Fatalf("Unpark of an unknown id = %d, %v", n, err)
		}
		if n, err := o.Unpark(ctx, []string{poison.ID}); err != nil || n != 1 {
			t.Fatalf("Unpark = %d, %v; want 1", n, err)
		}
		waitFor(t, 10*time.Second, "an empty outbox", pendingIs(ctx, o, 0))
		if !rec.Has(poison.ID) {
			t.Error("the unparked row was not published")
		}
		if got := collect(t, reader); got["trueup.outbox.parked"] != 0 {
			t.Errorf("parked gauge = %d after the retry, want 0", got["trueup.outbox.parked"])
		}
	})
}

// UnparkAll retries every parked row, with a fresh attempt budget.
func TestUnparkAll(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		ctx := t.Context()
		a, b := newEvent(t, 1), newEvent(t, 2)
		rec := &outboxtest.Recorder{}
		pub := newRefusing(rec, a.ID, b.ID)
		o := outbox.New(db, pub, outbox.Options{Logger: quiet, PollInterval: 10 * time.Millisecond,
			MaxBackoff: 50 * time.Millisecond, MaxAttempts: 2})
		startRelay(t, o)
		add(t, db, o, a, b)
		i := 0
		waitFor(t, 10*time.Second, "both rows parked", func() (bool, error) {
			i++
			add(t, db, o, newEvent(t, 10+i))
			n, err := o.Parked(ctx)
			return n == 2, err
		})
		pub.accept(a.ID)
		if n, err := o.UnparkAll(ctx); err != nil || n != 2 {
			t.Fatalf("UnparkAll = %d, %v; want 2", n, err)
		}
		// a goes out; b, still refused, spends its fresh budget and parks again.
		waitFor(t, 10*time.Second, "a published and b parked again", func() (bool, error) {
			i++
			add(t, db, o, newEvent(t, 10+i))
			n, err := o.Parked(ctx)
			return rec.Has(a.ID) && n == 1, err
		})
		if got := attemptsOf(t, db, b.ID); got != 2 {
			t.Errorf("b parked again after %d attempts, want a fresh budget of 2", got)
		}
	})
}

// An outage of the broker parks nothing, however long it lasts: a refusal
// counts towards parking only while the broker acknowledges other rows.
func TestBrokerOutageParksNothing(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		ctx := t.Context()
		var (
			mu   sync.Mutex
			down bool
		)
		rec := &outboxtest.Recorder{Down: func(int) error {
			mu.Lock()
			defer mu.Unlock()
			if down {
				return errBrokerDown
			}
			return nil
		}}
		o := outbox.New(db, rec, outbox.Options{Logger: quiet, PollInterval: 10 * time.Millisecond,
			MaxBackoff: 20 * time.Millisecond, MaxAttempts: 2})
		startRelay(t, o)
		add(t, db, o, newEvent(t, 0))
		waitFor(t, 10*time.Second, "the first event published", pendingIs(ctx, o, 0))
		mu.Lock()
		down = true
		mu.Unlock()
		var want []outbox.Message
		for i := range 5 {
			want = append(want, newEvent(t, i+1))
		}
		add(t, db, o, want...)
		waitFor(t, 10*time.Second, "5 failed attempts on every row", func() (bool, error) {
			var n int
			err := db.QueryRowContext(ctx, `SELECT MIN(attempts) FROM outbox WHERE sent_at IS NULL`).Scan(&n)
			return n >= 5, err
		})
		if n, err := o.Parked(ctx); err != nil || n != 0 {
			t.Fatalf("%d rows parked (%v) by a broker outage, want none", n, err)
		}
		mu.Lock()
		down = false
		mu.Unlock()
		waitFor(t, 10*time.Second, "an empty outbox", pendingIs(ctx, o, 0))
	})
}

// Events committed just before shutdown, which the relay has not been woken
// for, are published before Run returns.
func TestRunDrainsOnShutdown(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		rec := &outboxtest.Recorder{}
		o := outbox.New(db, rec, outbox.Options{Logger: quiet, PollInterval: time.Hour})
		// Another writer (another process, or another Outbox value): its
		// commits do not wake o's relay.
		writer := outbox.New(db, nil, outbox.Options{Logger: quiet})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- o.Run(ctx) }()
		first := newEvent(t, 0)
		add(t, db, o, first) // o's relay is up and idle once this is out
		waitFor(t, 10*time.Second, "the first event published", pendingIs(t.Context(), o, 0))
		for i := range 5 {
			add(t, db, writer, newEvent(t, i+1))
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return")
		}
		if n, err := o.Pending(t.Context()); err != nil || n != 0 {
			t.Fatalf("%d rows committed before shutdown left unpublished (%v)", n, err)
		}
		if got := len(rec.Published()); got != 6 {
			t.Errorf("published %d, want 6", got)
		}
	})
}

// Republish sends again the events sent since a time, and only those.
func TestRepublishSince(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		ctx := t.Context()
		rec := &outboxtest.Recorder{}
		o := outbox.New(db, rec, outbox.Options{Logger: quiet, PollInterval: 10 * time.Millisecond})
		startRelay(t, o)
		var before, after []outbox.Message
		for i := range 3 {
			before = append(before, newEvent(t, i))
		}
		add(t, db, o, before...)
		waitFor(t, 10*time.Second, "the first events sent", pendingIs(ctx, o, 0))
		time.Sleep(5 * time.Millisecond)
		since := time.Now()
		for i := range 4 {
			after = append(after, newEvent(t, 10+i))
		}
		add(t, db, o, after...)
		waitFor(t, 10*time.Second, "the later events sent", pendingIs(ctx, o, 0))

		if n, err := o.Republish(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
			t.Fatalf("Republish from the future = %d, %v; want 0", n, err)
		}
		n, err := o.Republish(ctx, since)
		if err != nil || n != len(after) {
			t.Fatalf("Republish = %d, %v; want %d", n, err, len(after))
		}
		waitFor(t, 10*time.Second, "the republished events sent", func() (bool, error) {
			return len(rec.Published()) == len(before)+2*len(after), nil
		})
		waitFor(t, 10*time.Second, "an empty outbox", pendingIs(ctx, o, 0))
		got := map[string]int{}
		for _, m := range rec.Published() {
			got[m.ID]++
		}
		for _, m := range before {
			if got[m.ID] != 1 {
				t.Errorf("event sent before since published %d times, want 1", got[m.ID])
			}
		}
		for _, m := range after {
			if got[m.ID] != 2 {
				t.Errorf("event sent after since published %d times, want 2", got[m.ID])
			}
		}
	})
}

// The sent mark has one statement text whatever the batch size: pgx
// prepares and caches each distinct text on each connection, so a text per
// batch size would fill every connection's statement cache.
func TestMarkHasOneStatementText(t *testing.T) {
	db := migrated(t, pgtest.OpenPostgres(t))
	db.SetMaxOpenConns(1) // one session, whose prepared statements we can see
	ctx := t.Context()
	rec := &outboxtest.Recorder{}
	o := outbox.New(db, rec, outbox.Options{Logger: quiet, PollInterval: time.Hour})
	startRelay(t, o)
	for size := 1; size <= 6; size++ {
		msgs := make([]outbox.Message, size)
		for i := range msgs {
			msgs[i] = newEvent(t, i)
		}
		add(t, db, o, msgs...)
		waitFor(t, 10*time.Second, "an empty outbox", pendingIs(ctx, o, 0))
	}
	var n int
	if err := db.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE 'UPDATE outbox SET sent_at%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d prepared statements mark rows sent after batches of 1…6 rows, want 1", n)
	}
}
