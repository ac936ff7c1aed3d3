package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
)

// TestRelayDeliversEveryEventOnce is the outbox's promise under stress: N
// events written by concurrent transactions, some of which commit late (on
// PostgreSQL: after rows with a higher seq were already relayed), with the
// relay stopped midway and replaced by two new relays on the same database.
// Every event reaches the stream, none is skipped, none is there twice.
func TestRelayDeliversEveryEventOnce(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		js, stream := startJetStream(t)
		ctx := t.Context()
		pub := jsPublisher{js}
		opts := outbox.Options{BatchSize: 16, PollInterval: 20 * time.Millisecond, Logger: quiet}

		const (
			n       = 300
			writers = 8
		)
		// Transactions of 1–3 events; every tenth one sleeps before commit.
		type txSpec struct {
			events []outbox.Message
			late   bool
		}
		var specs []txSpec
		for i := 0; i < n; {
			size := min(1+len(specs)%3, n-i)
			spec := txSpec{late: len(specs)%10 == 3}
			for range size {
				spec.events = append(spec.events, newEvent(t, i))
				i++
			}
			specs = append(specs, spec)
		}
		jobs := make(chan txSpec, len(specs))
		for _, s := range specs {
			jobs <- s
		}
		close(jobs)

		var current atomic.Pointer[outbox.Outbox]
		current.Store(outbox.New(db, pub, opts))
		stop1 := startRelay(t, current.Load())

		var (
			written       atomic.Int32
			overtaken     atomic.Int32 // late commits whose higher-seq successors were already sent
			wg            sync.WaitGroup
			restartedOnce sync.Once
			restarted     = make(chan struct{})
		)
		for range writers {
			wg.Go(func() {
				for spec := range jobs {
					err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
						if err := current.Load().Add(ctx, tx, spec.events...); err != nil {
							return err
						}
						if !spec.late {
							return nil
						}
						if db.Dialect == sqldb.SQLite {
							// SQLite writers are serialised: nobody commits
							// past us. And the query on db below would want a
							// second connection while the other writers hold
							// the rest of the pool waiting for our lock.
							time.Sleep(150 * time.Millisecond)
							return nil
						}
						var seq int64
						if err := tx.QueryRowContext(ctx, `SELECT seq FROM outbox WHERE id = $1`, spec.events[0].ID).Scan(&seq); err != nil {
							return err
						}
						time.Sleep(150 * time.Millisecond)
						// Outside tx: has the relay sent rows after ours already?
						var after int
						if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE seq > $1 AND sent_at IS NOT NULL`, seq).Scan(&after); err != nil {
							return err
						}
						if after > 0 {
							overtaken.Add(1)
						}
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
					if written.Add(int32(len(spec.events))) >= n/2 {
						restartedOnce.Do(func() {
							// Stop the relay midway and start two new ones.
							stop1()
							current.Store(outbox.New(db, pub, opts))
							startRelay(t, current.Load())
							startRelay(t, outbox.New(db, pub, opts))
							close(restarted)
						})
					}
				}
			})
		}
		wg.Wait()
		<-restarted
		waitFor(t, 60*time.Second, "an empty outbox", pendingIs(ctx, current.Load(), 0))

		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != n {
			t.Errorf("stream holds %d messages, want %d", info.State.Msgs, n)
		}
		seen := map[string]int{}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
			m, err := stream.GetMsg(ctx, seq)
			if err != nil {
				t.Fatal(err)
			}
			seen[m.Header.Get(jetstream.MsgIDHeader)]++
		}
		for _, s := range specs {
			for _, e := range s.events {
				if seen[e.ID] != 1 {
					t.Errorf("event %s is in the stream %d times", e.ID, seen[e.ID])
				}
			}
		}
		if len(seen) != n {
			t.Errorf("%d distinct Nats-Msg-Id in the stream, want %d", len(seen), n)
		}
		if db.Dialect == sqldb.Postgres && overtaken.Load() == 0 {
			t.Error("no late transaction committed after later rows were sent: the test did not exercise the case")
		}
		t.Logf("%d late transactions committed after later rows were relayed", overtaken.Load())
	})
}

func TestRelayRecoversFromPublisherFailure(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		ctx := t.Context()

		t.Run("broker down", func(t *testing.T) {
			var down atomic.Bool
			down.Store(true)
			rec := &outboxtest.Recorder{Down: func(int) error {
				if down.Load() {
					return errBrokerDown
				}
				return nil
			}}
			o := outbox.New(db, rec, outbox.Options{PollInterval: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Logger: quiet})
			var want []outbox.Message
			for i := range 10 {
				want = append(want, newEvent(t, i))
			}
			add(t, db, o, want...)
			startRelay(t, o)

			waitFor(t, 10*time.Second, "two failed attempts on every row", func() (bool, error) {
				var minAttempts int
				err := db.QueryRowContext(ctx, `SELECT MIN(attempts) FROM outbox WHERE sent_at IS NULL`).Scan(&minAttempts)
				return minAttempts >= 2, err
			})
			if n, _ := o.Pending(ctx); n != 10 {
				t.Fatalf("%d pending while the broker is down, want 10", n)
			}
			var lastError string
			if err := db.QueryRowContext(ctx, `SELECT last_error FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT 1`).Scan(&lastError); err != nil {
				t.Fatal(err)
			}
			if lastError != errBrokerDown.Error() {
				t.Errorf("last_error = %q", lastError)
			}

			down.Store(false)
			waitFor(t, 10*time.Second, "an empty outbox", pendingIs(ctx, o, 0))
			assertPublished(t, rec, want)
		})

		t.Run("some messages refused", func(t *testing.T) {
			// The broker refuses every other message of the first two calls.
			rec := &outboxtest.Recorder{Refuse: func(call, i int, _ outbox.Message) error {
				if call <= 2 && i%2 == 1 {
					return fmt.Errorf("message %d refused", i)
				}
				return nil
			}}
			o := outbox.New(db, rec, outbox.Options{PollInterval: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Logger: quiet})
			var want []outbox.Message
			for i := range 9 {
				want = append(want, newEvent(t, i))
			}
			add(t, db, o, want...)
			startRelay(t, o)
			waitFor(t, 10*time.Second, "an empty outbox", pendingIs(ctx, o, 0))
			assertPublished(t, rec, want)
			var retried int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE attempts > 1`).Scan(&retried); err != nil {
				t.Fatal(err)
			}
			if retried == 0 {
				t.Error("no row records its failed attempt")
			}
		})
	})
}

// assertPublished checks that rec acknowledged exactly want, each once.
func assertPublished(t *testing.T, rec *outboxtest.Recorder, want []outbox.Message) {
	t.Helper()
	got := map[string]int{}
	for _, m := range rec.Published() {
		got[m.ID]++
	}
	for _, m := range want {
		if got[m.ID] != 1 {
			t.Errorf("event %s acknowledged %d times", m.ID, got[m.ID])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d events acknowledged, want %d", len(got), len(want))
	}
}

func TestAdd(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		ctx := t.Context()
		rec := &outboxtest.Recorder{}
		o := outbox.New(db, rec, outbox.Options{PollInterval: time.Hour, Logger: quiet})
		startRelay(t, o)

		t.Run("carries trace context and fields through the relay", func(t *testing.T) {
			traceID := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
			sc := trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: traceID, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled,
			})
			spanCtx := trace.ContextWithSpanContext(ctx, sc)
			occurred := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
			callerHeaders := map[string]string{"Trueup-Tenant": "acme"}
			msg := outbox.Message{ID: "evt-1", Subject: "test.v1.A", Type: "trueup.test.v1.A",
				Payload: []byte{0, 1, 2, 255}, Headers: callerHeaders, OccurredAt: occurred}
			noPayload := outbox.Message{ID: "evt-2", Subject: "test.v1.B", Type: "trueup.test.v1.B"}
			before := time.Now().Add(-time.Second)
			err := db.WithTx(ctx, func(tx *sqldb.Tx) error { return o.Add(spanCtx, tx, msg, noPayload) })
			if err != nil {
				t.Fatal(err)
			}
			if len(callerHeaders) != 1 {
				t.Errorf("Add changed the caller's headers: %v", callerHeaders)
			}
			// The commit woke the relay: it publishes at once, long before
			// its hour-long poll.
			waitFor(t, 10*time.Second, "an empty outbox", pendingIs(ctx, o, 0))

			got := rec.Published()
			if len(got) != 2 || got[0].ID != "evt-1" || got[1].ID != "evt-2" {
				t.Fatalf("published %+v", got)
			}
			a, b := got[0], got[1]
			if a.Subject != msg.Subject || a.Type != msg.Type || string(a.Payload) != string(msg.Payload) {
				t.Errorf("published %+v, want %+v", a, msg)
			}
			if !a.OccurredAt.Equal(occurred) {
				t.Errorf("OccurredAt %v, want %v", a.OccurredAt, occurred)
			}
			if tp := a.Headers["traceparent"]; !strings.Contains(tp, traceID.String()) {
				t.Errorf("traceparent %q does not carry trace %s", tp, traceID)
			}
			if a.Headers["Trueup-Tenant"] != "acme" {
				t.Errorf("caller header lost: %v", a.Headers)
			}
			if len(b.Payload) != 0 || b.OccurredAt.Before(before) {
				t.Errorf("second message %+v: want empty payload and OccurredAt set to now", b)
			}
		})

		t.Run("rolled back with its transaction", func(t *testing.T) {
			boom := errors.New("boom")
			err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
				if err := o.Add(ctx, tx, newEvent(t, 1)); err != nil {
					return err
				}
				return boom
			})
			if err != boom {
				t.Fatal(err)
			}
			if n, _ := o.Pending(ctx); n != 0 {
				t.Errorf("%d rows of a rolled-back transaction", n)
			}
		})

		t.Run("many messages in one call", func(t *testing.T) {
			var msgs []outbox.Message
			for i := range 1200 { // more than one INSERT statement's worth
				msgs = append(msgs, newEvent(t, i))
			}
			err := db.WithTx(ctx, func(tx *sqldb.Tx) error { return o.Add(ctx, tx, msgs...) })
			if err != nil {
				t.Fatal(err)
			}
			o.Wake()
			waitFor(t, 30*time.Second, "an empty outbox", pendingIs(ctx, o, 0))
		})

		t.Run("invalid messages", func(t *testing.T) {
			valid := outbox.Message{ID: "x", Subject: "test.v1.X", Type: "T"}
			tests := []struct {
				name string
				edit func(m *outbox.Message)
				want string
			}{
				{"no id", func(m *outbox.Message) { m.ID = "" }, "ID"},
				{"no subject", func(m *outbox.Message) { m.Subject = "" }, "Subject"},
				{"no type", func(m *outbox.Message) { m.Type = "" }, "Type"},
			}
			for _, tt := range tests {
				m := valid
				tt.edit(&m)
				err := db.WithTx(ctx, func(tx *sqldb.Tx) error { return o.Add(ctx, tx, valid, m) })
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: err = %v, want it to name %s", tt.name, err, tt.want)
				}
			}
			if err := o.Add(ctx, nil, valid); err == nil {
				t.Error("Add without a transaction succeeded")
			}
		})
	})
}

// TestRunFinishesBatchOnShutdown ends Run's context while the publisher is
// acknowledging a batch: the rows must still be marked sent.
func TestRunFinishesBatchOnShutdown(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		ctx, cancel := context.WithCancel(t.Context())
		rec := &outboxtest.Recorder{Down: func(int) error {
			cancel() // shutdown arrives while the broker is acknowledging
			return nil
		}}
		o := outbox.New(db, rec, outbox.Options{Logger: quiet})
		for i := range 5 {
			add(t, db, o, newEvent(t, i))
		}
		done := make(chan error, 1)
		go func() { done <- o.Run(ctx) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return")
		}
		if n, err := o.Pending(t.Context()); err != nil || n != 0 {
			t.Fatalf("%d rows pending (%v) after a batch was acknowledged", n, err)
		}
	})
}

func TestRelayPurgesSentRows(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		ctx := t.Context()
		rec := &outboxtest.Recorder{}
		o := outbox.New(db, rec, outbox.Options{PollInterval: 10 * time.Millisecond, Retention: 50 * time.Millisecond, Logger: quiet})
		for i := range 3 {
			add(t, db, o, newEvent(t, i))
		}
		startRelay(t, o)
		waitFor(t, 10*time.Second, "sent rows to be deleted", func() (bool, error) {
			var n int
			err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n)
			return n == 0, err
		})
		if len(rec.Published()) != 3 {
			t.Errorf("%d published, want 3", len(rec.Published()))
		}
	})
}
