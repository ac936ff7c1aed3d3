package outbox_test

import (
	"context"
	"testing"
	"time"

	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/ceiling"
	"trueup.dev/platform/testkit/pgtest"
)

// BenchmarkRelay measures the relay's throughput against the database's own
// ceiling, on each dialect: b.N rows are committed first (500 per
// transaction, untimed), then the timer runs from starting the relay until
// every row is acknowledged by the embedded JetStream (through the real
// natsx.Publisher) and marked sent. Reported beside it, from the same
// database in the same run: a loop of single-row commits (BEGIN; INSERT;
// COMMIT) into a scratch table, the write rate one event per transaction
// could reach, and the ratio of the two. Use a fixed count for comparable
// runs, e.g. -bench Relay -benchtime 20000x.
func BenchmarkRelay(b *testing.B) {
	for _, d := range []struct {
		name string
		open func(testing.TB) *sqldb.DB
	}{
		{"sqlite", pgtest.OpenSQLite},
		{"postgres", pgtest.OpenPostgres},
	} {
		b.Run(d.name, func(b *testing.B) {
			db := migrated(b, d.open(b))
			js, _ := startJetStream(b)
			o := outbox.New(db, natsx.NewPublisher(js), outbox.Options{Logger: quiet, PollInterval: time.Hour})
			ctx := context.Background()
			const perTx = 500
			msgs := make([]outbox.Message, 0, perTx)
			for i := 0; i < b.N; i += perTx {
				msgs = msgs[:0]
				for j := i; j < min(i+perTx, b.N); j++ {
					msgs = append(msgs, newEvent(b, j))
				}
				add(b, db, o, msgs...) // wakes the relay once it runs
			}
			b.ResetTimer()
			stop := startRelay(b, o)
			waitFor(b, 10*time.Minute, "every row sent", pendingIs(ctx, o, 0))
			b.StopTimer()
			relayRate := float64(b.N) / b.Elapsed().Seconds()
			stop()
			top := ceiling.Commits(b, db, time.Second)
			b.ReportMetric(relayRate, "events/s")
			b.ReportMetric(top, "ceiling_commits/s")
			b.ReportMetric(relayRate/top, "ratio_to_ceiling")
		})
	}
}
