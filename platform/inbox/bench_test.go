package inbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"trueup.dev/platform/inbox"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/ceiling"
	"trueup.dev/platform/testkit/pgtest"
)

// BenchmarkConsumeThroughInbox measures a consumer applying events through
// the inbox — one transaction per event (natsx.Consume + inbox.Process) and
// up to 100 per transaction (natsx.ConsumeBatch + inbox.ProcessBatch) — from
// an embedded JetStream backlog of b.N events, on each dialect. Each effect is
// a one-row upsert. Reported beside it, from the same database in the same
// run: the single-row commit ceiling, and the ratio of the two.
func BenchmarkConsumeThroughInbox(b *testing.B) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *sqldb.DB
	}{
		{"sqlite", pgtest.OpenSQLite},
		{"postgres", pgtest.OpenPostgres},
	} {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/batch%d", d.name, batch), func(b *testing.B) {
				db := d.open(b)
				ctx := context.Background()
				if err := inbox.Migrate(ctx, db); err != nil {
					b.Fatal(err)
				}
				if _, err := db.ExecContext(ctx, `CREATE TABLE counters (name TEXT PRIMARY KEY, n BIGINT NOT NULL)`); err != nil {
					b.Fatal(err)
				}
				top := ceiling.Commits(b, db, 500*time.Millisecond)
				js := benchJetStream(b)
				pub := natsx.NewPublisher(js)
				for start := 0; start < b.N; start += 500 {
					msgs := make([]outbox.Message, 0, 500)
					for i := start; i < min(start+500, b.N); i++ {
						msgs = append(msgs, outbox.Message{ID: fmt.Sprintf("evt-%09d", i), Subject: "bench.v1.Event", Type: "trueup.bench.v1.Event", Payload: []byte("x")})
					}
					errs, err := pub.Publish(ctx, msgs)
					if err != nil {
						b.Fatal(err)
					}
					for _, e := range errs {
						if e != nil {
							b.Fatal(e)
						}
					}
				}
				var applied atomic.Int64
				done := make(chan struct{})
				effect := func(tx *sqldb.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO counters (name, n) VALUES ('bench', 1) ON CONFLICT (name) DO UPDATE SET n = counters.n + 1`)
					return err
				}
				count := func(n int64) {
					if applied.Add(n) == int64(b.N) {
						close(done)
					}
				}
				cfg := natsx.ConsumerConfig{Stream: "BENCH", Durable: "bench", BatchSize: batch, Logger: slog.New(slog.DiscardHandler)}
				b.ResetTimer()
				var cons *natsx.Consumer
				var err error
				if batch == 1 {
					cons, err = natsx.Consume(ctx, js, cfg, func(ctx context.Context, m *natsx.Message) error {
						ok, err := inbox.Process(ctx, db, "bench", m.EventID, effect)
						if ok {
							count(1)
						}
						return err
					})
				} else {
					cons, err = natsx.ConsumeBatch(ctx, js, cfg, func(ctx context.Context, msgs []*natsx.Message) []error {
						ds := make([]inbox.Delivery, len(msgs))
						for i, m := range msgs {
							ds[i] = inbox.Delivery{EventID: m.EventID, Apply: effect}
						}
						results := make([]error, len(msgs))
						out, err := inbox.ProcessBatch(ctx, db, "bench", ds)
						var n int64
						for i := range results {
							switch {
							case err != nil:
								results[i] = err
							case out[i].Err != nil:
								results[i] = out[i].Err
							case out[i].Applied:
								n++
							}
						}
						count(n)
						return results
					})
				}
				if err != nil {
					b.Fatal(err)
				}
				select {
				case <-done:
				case <-time.After(10 * time.Minute):
					b.Fatalf("%d of %d applied", applied.Load(), b.N)
				}
				b.StopTimer()
				rate := float64(b.N) / b.Elapsed().Seconds()
				stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				if err := cons.Stop(stopCtx); err != nil {
					b.Error(err)
				}
				b.ReportMetric(rate, "events/s")
				b.ReportMetric(top, "ceiling_commits/s")
				b.ReportMetric(rate/top, "ratio_to_ceiling")
			})
		}
	}
}

func benchJetStream(b *testing.B) jetstream.JetStream {
	b.Helper()
	s, err := natsx.StartEmbedded(natsx.EmbeddedOptions{StoreDir: b.TempDir(), Port: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { natsx.Shutdown(s) })
	nc, err := natsx.ConnectEmbedded(s, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := natsx.EnsureStream(context.Background(), js, natsx.StreamConfig("BENCH", []string{"bench.>"})); err != nil {
		b.Fatal(err)
	}
	return js
}
