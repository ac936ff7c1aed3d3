package inbox_test

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"trueup.dev/platform/inbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// setup migrates the inbox (twice: the second run is a no-op) and a
// counters table standing in for a service's state.
func setup(t *testing.T, db *sqldb.DB) {
	t.Helper()
	for range 2 {
		if err := inbox.Migrate(t.Context(), db); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE counters (name TEXT PRIMARY KEY, n BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
}

// increment is the handler under test: a state change that must happen once
// per event.
func increment(t *testing.T, name string) func(tx *sqldb.Tx) error {
	return func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(t.Context(),
			`INSERT INTO counters (name, n) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET n = counters.n + 1`, name)
		return err
	}
}

func counter(t *testing.T, db *sqldb.DB, name string) int {
	t.Helper()
	var n int
	err := db.QueryRowContext(t.Context(), `SELECT COALESCE(SUM(n), 0) FROM counters WHERE name = $1`, name).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func inboxRows(t *testing.T, db *sqldb.DB, consumer, eventID string) int {
	t.Helper()
	var n int
	err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM inbox WHERE consumer = $1 AND event_id = $2`, consumer, eventID).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestProcess(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		setup(t, db)
		ctx := t.Context()

		t.Run("redelivered three times applies once", func(t *testing.T) {
			for i, want := range []bool{true, false, false} {
				applied, err := inbox.Process(ctx, db, "c", "e1", increment(t, "seq"))
				if err != nil {
					t.Fatal(err)
				}
				if applied != want {
					t.Errorf("delivery %d: applied = %v, want %v", i+1, applied, want)
				}
			}
			if n := counter(t, db, "seq"); n != 1 {
				t.Errorf("state changed %d times", n)
			}
		})

		t.Run("concurrent deliveries apply once", func(t *testing.T) {
			var applied atomic.Int32
			var wg sync.WaitGroup
			for range 3 * 4 { // three deliveries from each of four "replicas"
				wg.Go(func() {
					ok, err := inbox.Process(ctx, db, "c", "e2", increment(t, "concurrent"))
					if err != nil {
						t.Error(err)
					}
					if ok {
						applied.Add(1)
					}
				})
			}
			wg.Wait()
			if applied.Load() != 1 {
				t.Errorf("%d deliveries applied", applied.Load())
			}
			if n := counter(t, db, "concurrent"); n != 1 {
				t.Errorf("state changed %d times", n)
			}
		})

		t.Run("each consumer applies once", func(t *testing.T) {
			for _, consumer := range []string{"a", "b", "a", "b"} {
				if _, err := inbox.Process(ctx, db, consumer, "e3", increment(t, "per-consumer")); err != nil {
					t.Fatal(err)
				}
			}
			if n := counter(t, db, "per-consumer"); n != 2 {
				t.Errorf("state changed %d times, want once per consumer", n)
			}
		})

		t.Run("failing handler leaves no record", func(t *testing.T) {
			boom := errors.New("boom")
			applied, err := inbox.Process(ctx, db, "c", "e4", func(tx *sqldb.Tx) error {
				if err := increment(t, "failing")(tx); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) || applied {
				t.Fatalf("Process = %v, %v; want false, boom", applied, err)
			}
			if n := inboxRows(t, db, "c", "e4"); n != 0 {
				t.Errorf("%d inbox rows for a failed event", n)
			}
			if n := counter(t, db, "failing"); n != 0 {
				t.Errorf("the failed handler's change was kept")
			}
			// The redelivery processes it.
			applied, err = inbox.Process(ctx, db, "c", "e4", increment(t, "failing"))
			if err != nil || !applied {
				t.Fatalf("redelivery: %v, %v", applied, err)
			}
			if n := counter(t, db, "failing"); n != 1 {
				t.Errorf("state changed %d times", n)
			}
		})

		t.Run("arguments are required", func(t *testing.T) {
			for _, args := range [][2]string{{"", "e"}, {"c", ""}} {
				if _, err := inbox.Process(ctx, db, args[0], args[1], increment(t, "x")); err == nil {
					t.Errorf("Process(%q, %q) succeeded", args[0], args[1])
				}
			}
		})
	})
}
