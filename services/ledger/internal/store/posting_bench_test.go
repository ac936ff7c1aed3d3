package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/ceiling"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/ledger/internal/app"
)

// BenchmarkPostings measures journal postings per second through the app
// (PostEvents: inbox record, rule, entry, lines, aggregated balance write),
// at batches of 1, 10, 100 and 1,000 events per transaction, on both
// dialects, beside the single-row commit ceiling of the same database in the
// same run. Every posting touches Inventory and COGS or GRNI (receipts and
// issues of 50 items in two warehouses), the hot rows a naive ledger locks
// per entry. SQLite runs with the production settings (synchronous=FULL).
func BenchmarkPostings(b *testing.B) {
	for _, dialect := range []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres} {
		b.Run(string(dialect), func(b *testing.B) {
			var db *sqldb.DB
			if dialect == sqldb.Postgres {
				db = pgtest.OpenPostgres(b)
			} else {
				var err error
				db, err = sqldb.Open(context.Background(), "sqlite://"+filepath.Join(b.TempDir(), "bench.db"))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = db.Close() })
			}
			svc, _ := newService(b, db)
			ctx := context.Background()
			if err := svc.Seed(ctx); err != nil {
				b.Fatal(err)
			}
			ceil := ceiling.Commits(b, db, time.Second)
			next := 0
			for _, size := range []int{1, 10, 100, 1000} {
				b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
					events := make([]app.Inbound, b.N)
					for i := range events {
						next++
						m := movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: po, srcID: "PO-1", value: 1234,
							currency: "USD", wh: []string{"MAIN", "EAST"}[next%2], sku: fmt.Sprintf("SKU-%02d", next%50),
							seq: int64(next), at: day1.Add(time.Duration(next) * time.Second)}
						if next%2 == 0 {
							m.typ, m.src, m.srcID, m.value = inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE, ship, "SH-1", -617
						}
						events[i] = stockEvent(b, fmt.Sprintf("bench-%d", next), m)
					}
					b.ResetTimer()
					start := time.Now()
					for len(events) > 0 {
						n := min(size, len(events))
						res, err := svc.PostEvents(ctx, events[:n])
						if err != nil {
							b.Fatal(err)
						}
						if res.Posted != n {
							b.Fatalf("posted %d of %d", res.Posted, n)
						}
						events = events[n:]
					}
					rate := float64(b.N) / time.Since(start).Seconds()
					b.StopTimer()
					b.ReportMetric(rate, "postings/s")
					b.ReportMetric(ceil, "ceiling_commits/s")
					b.ReportMetric(rate/ceil, "ratio_to_ceiling")
				})
			}
		})
	}
}
