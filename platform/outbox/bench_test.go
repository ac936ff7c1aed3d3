package outbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
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
			ceiling := commitCeiling(b, db, time.Second)
			b.ReportMetric(relayRate, "events/s")
			b.ReportMetric(ceiling, "ceiling_commits/s")
			b.ReportMetric(relayRate/ceiling, "ratio_to_ceiling")
		})
	}
}

// commitCeiling commits one small row per transaction into a scratch table
// for about d and returns the commits per second.
func commitCeiling(b *testing.B, db *sqldb.DB, d time.Duration) float64 {
	b.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_ceiling (id BIGINT PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	n := 0
	for time.Since(start) < d {
		n++
		err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO bench_ceiling (id, v) VALUES ($1, $2)`, n, fmt.Sprint("row ", n))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}
