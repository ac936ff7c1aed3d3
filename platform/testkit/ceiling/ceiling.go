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

// Commits is sqldb.CommitCeiling for a benchmark: the database's
// single-row durable commit rate per second, measured for about d; a
// failure fails tb.
func Commits(tb testing.TB, db *sqldb.DB, d time.Duration) float64 {
	tb.Helper()
	rate, err := sqldb.CommitCeiling(context.Background(), db, d)
	if err != nil {
		tb.Fatal(err)
	}
	return rate
}
