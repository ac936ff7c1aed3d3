// Package ceiling measures the storage ceiling that benchmarks report their
// figures against: on these shared machines absolute numbers move from run to
// run, so every benchmark also reports its ratio to a ceiling measured in the
// same run, on the same database.
package ceiling

import (
	"context"
	"testing"
	"time"

	"trueup.dev/platform/sqldb"
)

// Commits returns the database's single-row durable commit rate, per second:
// BEGIN; INSERT one small row; COMMIT, in a loop for about d on one
// connection, with nothing of Trueup's in the way (no WithTx, no write queue).
// It is the rate one event per transaction could at best reach. The probe
// table is created and dropped here.
func Commits(tb testing.TB, db *sqldb.DB, d time.Duration) float64 {
	tb.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		tb.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			tb.Fatalf("ceiling: %s: %v", q, err)
		}
	}
	exec(`DROP TABLE IF EXISTS ceiling_probe`)
	exec(`CREATE TABLE ceiling_probe (id BIGINT PRIMARY KEY, v TEXT NOT NULL)`)
	defer exec(`DROP TABLE ceiling_probe`)
	begin := `BEGIN`
	if db.Dialect == sqldb.SQLite {
		begin = `BEGIN IMMEDIATE` // what every write transaction of ours does
	}
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		n++
		exec(begin)
		exec(`INSERT INTO ceiling_probe (id, v) VALUES ($1, 'x')`, n)
		exec(`COMMIT`)
	}
	return float64(n) / time.Since(start).Seconds()
}
