package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"trueup.dev/platform/inbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
)

func deliveries(t *testing.T, counterName string, ids ...string) []inbox.Delivery {
	out := make([]inbox.Delivery, len(ids))
	for i, id := range ids {
		out[i] = inbox.Delivery{EventID: id, Apply: increment(t, counterName)}
	}
	return out
}

func TestProcessBatchAppliesEachEventOnce(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		setup(t, db)
		ctx := t.Context()
		if _, err := inbox.Process(ctx, db, "c", "old", increment(t, "batch")); err != nil {
			t.Fatal(err)
		}
		// "old" was processed before, "b" appears twice in the batch.
		out, err := inbox.ProcessBatch(ctx, db, "c", deliveries(t, "batch", "a", "b", "old", "b", "c"))
		if err != nil {
			t.Fatal(err)
		}
		want := []bool{true, true, false, false, true}
		for i, o := range out {
			if o.Err != nil || o.Applied != want[i] {
				t.Errorf("delivery %d: %+v, want applied=%v", i, o, want[i])
			}
		}
		if n := counter(t, db, "batch"); n != 4 { // old + a, b, c
			t.Errorf("state changed %d times, want 4", n)
		}
		// The same batch again changes nothing.
		out, err = inbox.ProcessBatch(ctx, db, "c", deliveries(t, "batch", "a", "b", "c"))
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range out {
			if o.Applied || o.Err != nil {
				t.Errorf("redelivered batch, delivery %d: %+v", i, o)
			}
		}
		if n := counter(t, db, "batch"); n != 4 {
			t.Errorf("redelivered batch changed state: %d", n)
		}
	})
}

func TestProcessBatchIsolatesAFailingEvent(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		setup(t, db)
		ctx := t.Context()
		boom := errors.New("boom")
		batch := deliveries(t, "iso", "e1", "poison", "e3")
		batch[1].Apply = func(tx *sqldb.Tx) error {
			if err := increment(t, "iso")(tx); err != nil {
				return err
			}
			return boom
		}
		out, err := inbox.ProcessBatch(ctx, db, "c", batch)
		if err != nil {
			t.Fatal(err)
		}
		if !out[0].Applied || !out[2].Applied || out[0].Err != nil || out[2].Err != nil {
			t.Errorf("healthy events: %+v, %+v; want applied", out[0], out[2])
		}
		if out[1].Applied || !errors.Is(out[1].Err, boom) {
			t.Errorf("poison event: %+v, want its error", out[1])
		}
		if n := counter(t, db, "iso"); n != 2 {
			t.Errorf("state changed %d times, want 2 (the poison's change rolled back)", n)
		}
		if n := inboxRows(t, db, "c", "poison"); n != 0 {
			t.Errorf("poison event recorded as processed")
		}
	})
}

func TestProcessBatchOfManyUsesOneStatement(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		setup(t, db)
		ids := make([]string, 1000)
		for i := range ids {
			ids[i] = fmt.Sprintf("e%04d", i)
		}
		out, err := inbox.ProcessBatch(t.Context(), db, "c", deliveries(t, "many", ids...))
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range out {
			if !o.Applied {
				t.Fatalf("delivery %d not applied: %+v", i, o)
			}
		}
		if n := counter(t, db, "many"); n != 1000 {
			t.Errorf("state changed %d times, want 1000", n)
		}
	})
}

func TestPurgeDeletesInChunksUntilDone(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		setup(t, db)
		ctx := t.Context()
		old := sqldb.Timestamp(time.Now().Add(-50 * 24 * time.Hour))
		// More than one purge chunk (5000) of old records, and some recent ones.
		const nOld, nNew = 12_000, 10
		if err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
			for start := 0; start < nOld+nNew; start += 500 {
				var b strings.Builder
				args := []any{}
				for i := start; i < min(start+500, nOld+nNew); i++ {
					if i > start {
						b.WriteString(", ")
					}
					at := old
					if i >= nOld {
						at = sqldb.Now()
					}
					args = append(args, fmt.Sprintf("e%d", i), at)
					fmt.Fprintf(&b, "('c', $%d, $%d)", len(args)-1, len(args))
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO inbox (consumer, event_id, processed_at) VALUES `+b.String(), args...); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		n, err := inbox.Purge(ctx, db, time.Now().Add(-inbox.Retention))
		if err != nil {
			t.Fatal(err)
		}
		if n != nOld {
			t.Errorf("purged %d, want %d", n, nOld)
		}
		var left int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbox`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != nNew {
			t.Errorf("%d records left, want the %d recent ones", left, nNew)
		}
	})
}

// fakeRemote stands in for another Trueup service: a command idempotent by
// request id, applied once however often it is sent.
type fakeRemote struct {
	mu      sync.Mutex
	answers map[string]string
	calls   int
	applied int
}

func (r *fakeRemote) allocate(_ context.Context, requestID string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if a, ok := r.answers[requestID]; ok {
		return a, nil
	}
	r.applied++
	a := fmt.Sprintf("allocation-%d", r.applied)
	r.answers[requestID] = a
	return a, nil
}

// TestProcessWithCallAppliesTheRemoteCommandOnce redelivers one event three
// times to a handler that calls another service: the first delivery crashes
// after the call (its local transaction fails), the second completes, the
// third is a duplicate. The remote command is applied once, every call carries
// the same request id, the local effect happens once — and the call is made
// while no local write transaction is held.
func TestProcessWithCallAppliesTheRemoteCommandOnce(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		setup(t, db)
		ctx := t.Context()
		remote := &fakeRemote{answers: map[string]string{}}
		var requestIDs []string
		call := func(ctx context.Context, requestID string) (string, error) {
			requestIDs = append(requestIDs, requestID)
			// Outside the local transaction: the write slot is free now.
			wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if err := db.WithTx(wctx, func(tx *sqldb.Tx) error { return nil }); err != nil {
				t.Errorf("the call runs while a local transaction holds the database: %v", err)
			}
			return remote.allocate(ctx, requestID)
		}
		crash := errors.New("process died before the local commit")
		var stored []string
		for delivery := 1; delivery <= 3; delivery++ {
			applied, err := inbox.ProcessWithCall(ctx, db, "fulfillment.allocate", "evt-1", call,
				func(tx *sqldb.Tx, answer string) error {
					if delivery == 1 {
						return crash
					}
					stored = append(stored, answer)
					return increment(t, "allocations")(tx)
				})
			switch delivery {
			case 1:
				if !errors.Is(err, crash) || applied {
					t.Fatalf("delivery 1: %v, %v; want the crash", applied, err)
				}
			case 2:
				if err != nil || !applied {
					t.Fatalf("delivery 2: %v, %v; want applied", applied, err)
				}
			case 3:
				if err != nil || applied {
					t.Fatalf("delivery 3: %v, %v; want a no-op", applied, err)
				}
			}
		}
		if remote.applied != 1 {
			t.Errorf("remote applied the command %d times, want once", remote.applied)
		}
		if remote.calls != 2 {
			t.Errorf("remote called %d times, want 2 (the duplicate delivery makes no call)", remote.calls)
		}
		want := inbox.RequestID("fulfillment.allocate", "evt-1")
		for i, id := range requestIDs {
			if id != want {
				t.Errorf("call %d request id %q, want %q", i+1, id, want)
			}
		}
		if len(stored) != 1 || stored[0] != "allocation-1" {
			t.Errorf("local effect stored %v, want the remote's first answer once", stored)
		}
		if n := counter(t, db, "allocations"); n != 1 {
			t.Errorf("local state changed %d times", n)
		}
	})
}

func TestRequestIDIsStableAndDistinct(t *testing.T) {
	a := inbox.RequestID("ledger.post", "e1")
	if a != inbox.RequestID("ledger.post", "e1") {
		t.Error("same pair, different ids")
	}
	for _, other := range []string{
		inbox.RequestID("ledger.post", "e2"),
		inbox.RequestID("ledger.postx", "e1"),
		inbox.RequestID("ledger.pos", "te1"), // no ambiguity from concatenation
	} {
		if other == a {
			t.Errorf("distinct pairs share id %s", a)
		}
	}
	if len(a) > 200 {
		t.Errorf("request id %d characters long", len(a))
	}
}
