package sqldb_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/ceiling"
	"trueup.dev/platform/testkit/pgtest"
)

// TestSQLiteWritersOfOneProcessQueueInsteadOfTimingOut runs many concurrent
// writers against a database whose busy timeout is 1 ms. Left to SQLite's busy
// handler, a writer that finds the lock taken gives up after 1 ms and WithTx
// ends in a Conflict; queued in Go, every writer waits its turn and commits.
func TestSQLiteWritersOfOneProcessQueueInsteadOfTimingOut(t *testing.T) {
	db, err := sqldb.Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "queue.db")+"?_busy_timeout=1&_synchronous=NORMAL")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	migrated(t, db)

	const writers, each = 16, 20
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				err := db.WithTx(t.Context(), func(tx *sqldb.Tx) error {
					if _, err := tx.ExecContext(t.Context(), `INSERT INTO widgets (id, name) VALUES ($1, $1)`, fmt.Sprintf("w%d-%d", w, i)); err != nil {
						return err
					}
					// Hold the lock a little, as a real command does.
					time.Sleep(200 * time.Microsecond)
					return nil
				})
				if err != nil {
					failed.Add(1)
					t.Errorf("writer %d, commit %d: %v", w, i, err)
				}
			}
		})
	}
	wg.Wait()
	if got := count(t, db, `SELECT COUNT(*) FROM widgets`); got != writers*each {
		t.Errorf("%d rows committed, want %d (%d writers failed)", got, writers*each, failed.Load())
	}
}

// TestSQLiteReadsRunBesideAWriter shows the write slot does not block plain
// reads: WAL lets them run while a transaction holds the lock.
func TestSQLiteReadsRunBesideAWriter(t *testing.T) {
	db := migrated(t, pgtest.OpenSQLite(t))
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.WithTx(context.Background(), func(tx *sqldb.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM widgets`).Scan(&n); err != nil {
		t.Errorf("read while a writer holds the slot: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteWriterWaitHonoursContext: a writer queued behind a long
// transaction gives up when its context ends, and the queue goes on.
func TestSQLiteWriterWaitHonoursContext(t *testing.T) {
	db := migrated(t, pgtest.OpenSQLite(t))
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.WithTx(context.Background(), func(tx *sqldb.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	ran := false
	err := db.WithTx(ctx, func(tx *sqldb.Tx) error { ran = true; return nil })
	if err == nil || ran {
		t.Fatalf("queued writer: err = %v, ran = %v; want the context's error before running", err, ran)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := db.WithTx(t.Context(), func(tx *sqldb.Tx) error { return nil }); err != nil {
		t.Errorf("writer after the queue cleared: %v", err)
	}
}

// BenchmarkCommit measures single-row durable commits on SQLite: the raw
// ceiling (BEGIN IMMEDIATE; INSERT; COMMIT on one connection, no Go queue)
// beside WithTx at concurrency 1 and 16, each reported as commits/s and as a
// ratio to the ceiling of the same run. More writers must not mean fewer
// commits.
func BenchmarkCommit(b *testing.B) {
	for _, mode := range []string{"FULL", "NORMAL"} {
		b.Run("sqlite-"+mode, func(b *testing.B) {
			open := func(b *testing.B) *sqldb.DB {
				db, err := sqldb.Open(b.Context(), "sqlite://"+filepath.Join(b.TempDir(), "bench.db")+"?_synchronous="+mode)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = db.Close() })
				if _, err := db.ExecContext(b.Context(), `CREATE TABLE rows (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
					b.Fatal(err)
				}
				return db
			}
			top := ceiling.Commits(b, open(b), 500*time.Millisecond)
			b.Run("ceiling", func(b *testing.B) {
				b.ReportMetric(top, "commits/s")
			})
			for _, conc := range []int{1, 16} {
				b.Run(fmt.Sprintf("withtx-c%d", conc), func(b *testing.B) {
					db := open(b)
					var next atomic.Int64
					start := time.Now()
					var wg sync.WaitGroup
					per := max(b.N/conc, 1)
					for range conc {
						wg.Go(func() {
							for range per {
								id := next.Add(1)
								if err := db.WithTx(b.Context(), func(tx *sqldb.Tx) error {
									_, err := tx.ExecContext(b.Context(), `INSERT INTO rows (id, v) VALUES ($1, 'x')`, id)
									return err
								}); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
					rate := float64(per*conc) / time.Since(start).Seconds()
					b.ReportMetric(rate, "commits/s")
					b.ReportMetric(rate/top, "ratio_to_ceiling")
				})
			}
		})
	}
}
