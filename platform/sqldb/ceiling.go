package sqldb

import (
	"context"
	"fmt"
	"time"
)

// CommitCeiling returns the database's single-row durable commit rate, per
// second: BEGIN (IMMEDIATE on SQLite, as every write transaction of ours);
// INSERT one small row; COMMIT, in a loop for about d on one connection,
// with nothing of Trueup's in the way. It is the rate one event per
// transaction could at best reach, the ceiling benchmarks report their
// figures against. The probe table is created and dropped here.
func CommitCeiling(ctx context.Context, db *DB, d time.Duration) (float64, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	exec := func(q string, args ...any) error {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("commit ceiling: %s: %w", q, err)
		}
		return nil
	}
	if err := exec(`DROP TABLE IF EXISTS ceiling_probe`); err != nil {
		return 0, err
	}
	if err := exec(`CREATE TABLE ceiling_probe (id BIGINT PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		return 0, err
	}
	defer func() { _ = exec(`DROP TABLE ceiling_probe`) }() // best effort: scratch
	begin := `BEGIN`
	if db.Dialect == SQLite {
		begin = `BEGIN IMMEDIATE`
	}
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		n++
		for _, step := range []func() error{
			func() error { return exec(begin) },
			func() error { return exec(`INSERT INTO ceiling_probe (id, v) VALUES ($1, 'x')`, n) },
			func() error { return exec(`COMMIT`) },
		} {
			if err := step(); err != nil {
				return 0, err
			}
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
