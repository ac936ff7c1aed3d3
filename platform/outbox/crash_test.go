package outbox_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"trueup.dev/platform/inbox"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
)

// diesAfterPublish publishes through the real natsx.Publisher and then
// reports nothing acknowledged, exactly like a relay process that dies after
// JetStream stored the batch and before the rows were marked sent: the rows
// stay unsent and the next relay publishes them again.
type diesAfterPublish struct {
	real *natsx.Publisher
	once sync.Once
	died chan struct{}
}

func (p *diesAfterPublish) Publish(ctx context.Context, msgs []outbox.Message) ([]error, error) {
	results, err := p.real.Publish(ctx, msgs)
	if err != nil {
		return nil, err
	}
	for i, r := range results {
		if r != nil {
			return nil, errors.New("test publisher: a real publish failed")
		}
		results[i] = errors.New("relay process died before marking")
	}
	p.once.Do(func() { close(p.died) })
	return results, nil
}

// TestCrashBetweenPublishAndMarkIsDeliveredOnceInEffect: a relay publishes a
// batch for real and dies before marking it; a new relay publishes the same
// rows again. Inside JetStream's duplicate window the stream keeps one copy of
// each event; past it (a relay down for longer than the window) the stream
// holds two, and the consumer's inbox applies each event once. Both dialects.
func TestCrashBetweenPublishAndMarkIsDeliveredOnceInEffect(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window time.Duration // the stream's duplicate window
		wait   time.Duration // how long the relay stays dead
		copies int           // copies of each event the stream then holds
	}{
		{"restarted inside the duplicate window", 2 * time.Minute, 0, 1},
		{"restarted after the duplicate window", 100 * time.Millisecond, 300 * time.Millisecond, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
				ctx := t.Context()
				db = migrated(t, db)
				if err := inbox.Migrate(ctx, db); err != nil {
					t.Fatal(err)
				}
				if _, err := db.ExecContext(ctx, `CREATE TABLE effects (event_id TEXT NOT NULL)`); err != nil {
					t.Fatal(err)
				}
				js, _ := startJetStream(t)
				stream, err := js.CreateStream(ctx, jetstream.StreamConfig{
					Name: "CRASH", Subjects: []string{"crash.>"}, Duplicates: tc.window,
				})
				if err != nil {
					t.Fatal(err)
				}

				const n = 25
				msgs := make([]outbox.Message, n)
				for i := range msgs {
					msgs[i] = newEvent(t, i)
					msgs[i].Subject = "crash.v1.Event"
				}

				dying := &diesAfterPublish{real: natsx.NewPublisher(js), died: make(chan struct{})}
				first := outbox.New(db, dying, outbox.Options{Logger: quiet, PollInterval: time.Hour, DrainTimeout: -1})
				add(t, db, first, msgs...)
				stopFirst := startRelay(t, first)
				select {
				case <-dying.died:
				case <-time.After(10 * time.Second):
					t.Fatal("the first relay never published")
				}
				stopFirst()
				if p, err := first.Pending(ctx); err != nil || p != n {
					t.Fatalf("after the crash %d rows pending (%v), want all %d", p, err, n)
				}
				time.Sleep(tc.wait)

				second := outbox.New(db, natsx.NewPublisher(js), outbox.Options{Logger: quiet, PollInterval: 20 * time.Millisecond})
				startRelay(t, second)
				waitFor(t, 15*time.Second, "every row sent by the restarted relay", pendingIs(ctx, second, 0))

				info, err := stream.Info(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := info.State.Msgs; got != uint64(tc.copies*n) {
					t.Errorf("stream holds %d messages, want %d", got, tc.copies*n)
				}

				// Consume everything the stream holds, twice over (a redelivery of
				// each), through the inbox.
				cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
				if err != nil {
					t.Fatal(err)
				}
				batch, err := cons.Fetch(int(info.State.Msgs), jetstream.FetchMaxWait(5*time.Second))
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for m := range batch.Messages() {
					ids = append(ids, m.Headers().Get(natsx.HeaderEventID))
				}
				if len(ids) != tc.copies*n {
					t.Fatalf("read %d messages, want %d", len(ids), tc.copies*n)
				}
				for range 2 {
					for _, id := range ids {
						if _, err := inbox.Process(ctx, db, "crash-test", id, func(tx *sqldb.Tx) error {
							_, err := tx.ExecContext(ctx, `INSERT INTO effects (event_id) VALUES ($1)`, id)
							return err
						}); err != nil {
							t.Fatal(err)
						}
					}
				}
				var effects, distinct int
				if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT event_id) FROM effects`).Scan(&effects, &distinct); err != nil {
					t.Fatal(err)
				}
				if effects != n || distinct != n {
					t.Errorf("%d effects for %d distinct events, want each of the %d events applied once", effects, distinct, n)
				}
			})
		})
	}
}
