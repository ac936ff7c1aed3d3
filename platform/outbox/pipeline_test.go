package outbox_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
)

// overlapProbe is a Publisher that, at the start of its second call, looks
// in the table: if no row is marked sent yet, the relay is publishing the
// second batch while the first is still unmarked.
type overlapProbe struct {
	db          *sqldb.DB
	rec         outboxtest.Recorder
	calls       atomic.Int32
	secondCall  chan struct{} // closed when the second call starts
	overlapped  atomic.Bool
	checkFailed atomic.Value // error
}

func (p *overlapProbe) Publish(ctx context.Context, msgs []outbox.Message) ([]error, error) {
	if p.calls.Add(1) == 2 {
		var sent int
		if err := p.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL`).Scan(&sent); err != nil {
			p.checkFailed.Store(err)
		}
		p.overlapped.Store(sent == 0)
		close(p.secondCall)
	}
	return p.rec.Publish(ctx, msgs)
}

// The relay publishes the next batch while the previous one is being marked
// sent: the first mark is held back until the second publish starts, and
// the second publish sees the first batch's rows still unsent. With
// PipelineDepth 1 the relay is sequential again: the second publish waits
// for the first mark.
func TestRelayPublishesWhileMarking(t *testing.T) {
	for _, tc := range []struct {
		name    string
		depth   int
		overlap bool
		hold    time.Duration // how long the first mark waits for the second publish
	}{
		{"default depth", 0, true, 10 * time.Second},
		{"depth 1", 1, false, 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
				migrated(t, db)
				ctx := t.Context()
				pub := &overlapProbe{db: db, secondCall: make(chan struct{})}
				o := outbox.New(db, pub, outbox.Options{Logger: quiet, BatchSize: 10, PollInterval: time.Hour,
					PipelineDepth: tc.depth})
				var once sync.Once
				outbox.SetMarkHook(o, func() {
					once.Do(func() {
						select {
						case <-pub.secondCall:
						case <-time.After(tc.hold):
						}
					})
				})
				var want []outbox.Message
				for i := range 25 {
					want = append(want, newEvent(t, i))
				}
				add(t, db, o, want...)
				startRelay(t, o)
				waitFor(t, 20*time.Second, "an empty outbox", pendingIs(ctx, o, 0))
				if err := pub.checkFailed.Load(); err != nil {
					t.Fatal(err)
				}
				if got := pub.overlapped.Load(); got != tc.overlap {
					t.Errorf("second publish started before the first batch was marked: %v, want %v", got, tc.overlap)
				}
				assertPublished(t, &pub.rec, want)
			})
		})
	}
}

// Many small batches, written by concurrent transactions while the relay
// runs, some of them committing late: every row is published once (no
// batch's rows are read again while that batch is being marked), marked
// sent once, and counted once. On PostgreSQL one transaction holds a lower
// seq open while hundreds of rows after it are relayed, and its row is
// still published once it commits.
func TestPipelinedRelayPublishesEachRowOnce(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		ctx := t.Context()
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		rec := &outboxtest.Recorder{}
		o := outbox.New(db, rec, outbox.Options{Logger: quiet, BatchSize: 10, PollInterval: 20 * time.Millisecond,
			MeterProvider: mp})
		startRelay(t, o)

		const (
			n       = 1000
			writers = 8
		)
		var (
			want      []outbox.Message
			held      outbox.Message
			heldDone  = make(chan error, 1)
			commitNow = make(chan struct{})
			heldSeq   = make(chan int64, 1)
			seqOfHeld int64
		)
		if db.Dialect == sqldb.Postgres {
			// SQLite serialises writers: a transaction held open would hold
			// back every other writer, and seq order is commit order there.
			held = newEvent(t, -1)
			want = append(want, held)
			go func() {
				heldDone <- db.WithTx(ctx, func(tx *sqldb.Tx) error {
					if err := o.Add(ctx, tx, held); err != nil {
						return err
					}
					var seq int64
					if err := tx.QueryRowContext(ctx, `SELECT seq FROM outbox WHERE id = $1`, held.ID).Scan(&seq); err != nil {
						return err
					}
					heldSeq <- seq
					<-commitNow
					return nil
				})
			}()
			select {
			case seqOfHeld = <-heldSeq:
			case err := <-heldDone:
				t.Fatalf("held transaction: %v", err)
			}
		}

		// Transactions of 1–3 events; every tenth one sleeps before commit.
		type txSpec struct {
			events []outbox.Message
			late   bool
		}
		jobs := make(chan txSpec, n)
		for i, k := 0, 0; i < n; k++ {
			spec := txSpec{late: k%10 == 3}
			for range min(1+k%3, n-i) {
				e := newEvent(t, i)
				spec.events = append(spec.events, e)
				want = append(want, e)
				i++
			}
			jobs <- spec
		}
		close(jobs)
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				for spec := range jobs {
					if err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
						if err := o.Add(ctx, tx, spec.events...); err != nil {
							return err
						}
						if spec.late {
							time.Sleep(20 * time.Millisecond)
						}
						return nil
					}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()

		if db.Dialect == sqldb.Postgres {
			// The held row is not visible yet: Pending counts the others.
			waitFor(t, 30*time.Second, "every committed row sent", pendingIs(ctx, o, 0))
			if rec.Has(held.ID) {
				t.Fatal("the row of an uncommitted transaction was published")
			}
			var after int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE seq > $1 AND sent_at IS NOT NULL`, seqOfHeld).Scan(&after); err != nil {
				t.Fatal(err)
			}
			if after < n {
				t.Fatalf("%d rows after the held one sent before it commits, want all %d", after, n)
			}
			close(commitNow)
			if err := <-heldDone; err != nil {
				t.Fatal(err)
			}
			waitFor(t, 30*time.Second, "the late row published", func() (bool, error) { return rec.Has(held.ID), nil })
		}
		waitFor(t, 30*time.Second, "an empty outbox", pendingIs(ctx, o, 0))

		assertPublished(t, rec, want)
		var total, once int
		if err := db.QueryRowContext(ctx,
			`SELECT COUNT(*), COUNT(CASE WHEN attempts = 1 AND sent_at IS NOT NULL THEN 1 END) FROM outbox`).Scan(&total, &once); err != nil {
			t.Fatal(err)
		}
		if total != len(want) || once != total {
			t.Errorf("%d of %d rows sent after exactly one attempt, want all %d", once, total, len(want))
		}
		if got := collect(t, reader)["trueup.outbox.published"]; got != int64(len(want)) {
			t.Errorf("published counter = %d, want %d", got, len(want))
		}
	})
}
