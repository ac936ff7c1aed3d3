package sqldb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// migrated returns db with the "good" test schema.
func migrated(t *testing.T, db *sqldb.DB) *sqldb.DB {
	t.Helper()
	if err := sqldb.Migrate(t.Context(), db, os.DirFS("testdata/good"), "good_migrations"); err != nil {
		t.Fatal(err)
	}
	return db
}

func count(t *testing.T, db *sqldb.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		name string
		dsn  string
	}{
		{"absolute path", "sqlite://" + filepath.Join(dir, "abs.db")},
		{"relative path", "sqlite://rel.db"},
		{"memory", "sqlite://:memory:"},
		{"caller parameters win", "sqlite://" + filepath.Join(dir, "params.db") + "?_busy_timeout=1234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqldb.Open(t.Context(), tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if db.Dialect != sqldb.SQLite {
				t.Fatalf("dialect %q", db.Dialect)
			}
			// synchronous: FULL (2) for a database that outlives the process,
			// since a relay publishes what it commits; NORMAL (1) for :memory:.
			pragmas := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2", "busy_timeout": "10000"}
			if strings.Contains(tt.dsn, ":memory:") {
				pragmas["synchronous"] = "1"
			}
			if strings.Contains(tt.dsn, "_busy_timeout=1234") {
				pragmas["busy_timeout"] = "1234"
			}
			// Ask several connections at once: every one must be configured.
			conns := make([]interface{ Close() error }, 0, 3)
			for range 3 {
				c, err := db.Conn(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				conns = append(conns, c)
				for p, want := range pragmas {
					var got string
					if err := c.QueryRowContext(t.Context(), "PRAGMA "+p).Scan(&got); err != nil {
						t.Fatal(err)
					}
					if got != want {
						t.Errorf("PRAGMA %s = %s, want %s", p, got, want)
					}
				}
			}
			for _, c := range conns {
				_ = c.Close()
			}
		})
	}
}

func TestOpenSQLiteMemorySharedAndRemoved(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	db, err := sqldb.Open(t.Context(), "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	migrated(t, db)
	// Two connections held at once must see one database.
	c1, _ := db.Conn(t.Context())
	c2, _ := db.Conn(t.Context())
	if _, err := c1.ExecContext(t.Context(), `INSERT INTO widgets (id, name) VALUES ('w1', 'one')`); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := c2.QueryRowContext(t.Context(), `SELECT name FROM widgets WHERE id = 'w1'`).Scan(&name); err != nil {
		t.Fatalf("second connection does not see the first one's row: %v", err)
	}
	_, _ = c1.Close(), c2.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "*"))
	if len(left) != 0 {
		t.Errorf("Close left %v behind", left)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, dsn, want string
	}{
		{"unknown scheme", "mysql://u:pw@host/db", `"mysql"`},
		{"no scheme", "user=u password=s3cr3t host=x", "unsupported"},
		{"sqlite without path", "sqlite://", "no path"},
		{"sqlite missing directory", "sqlite:///nonexistent/dir/x.db", "sqlite"},
		{"postgres unreachable", "postgres://u:s3cr3t@127.0.0.1:1/db?connect_timeout=2", "postgres"},
		{"postgres bad URL", "postgres://u:s3cr3t@[::1/db", "postgres"},
		{"postgres password parameters", "postgres://u@127.0.0.1:1/db?connect_timeout=2&password=s3cr3t&sslpassword=s3cr3t", "password=xxxxx"},
		{"postgres bad parameter beside a password", "postgres://u:s3cr3t@127.0.0.1:1/db?password=s3cr3t&connect_timeout=bad", "postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqldb.Open(t.Context(), tt.dsn)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error %q prints the password", err)
			}
		})
	}
}

func TestWithTx(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		ctx := t.Context()

		t.Run("commit runs hooks in order", func(t *testing.T) {
			var calls []string
			err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
				if tx.Dialect != db.Dialect {
					t.Errorf("tx dialect %q", tx.Dialect)
				}
				tx.OnCommit(func() { calls = append(calls, "first") })
				_, err := tx.ExecContext(ctx, `INSERT INTO widgets (id, name) VALUES ($1, $2)`, "c1", "committed")
				tx.OnCommit(func() { calls = append(calls, "second") })
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(calls, ",") != "first,second" {
				t.Errorf("hooks ran %v", calls)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM widgets WHERE id = $1`, "c1"); n != 1 {
				t.Errorf("committed row count %d", n)
			}
		})

		t.Run("fn error rolls back and is returned unchanged", func(t *testing.T) {
			boom := errors.New("boom")
			hooked := false
			err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
				tx.OnCommit(func() { hooked = true })
				if _, err := tx.ExecContext(ctx, `INSERT INTO widgets (id, name) VALUES ($1, $2)`, "r1", "rolled back"); err != nil {
					return err
				}
				return boom
			})
			if err != boom {
				t.Fatalf("err = %v, want boom itself", err)
			}
			if hooked {
				t.Error("hook ran for a rolled-back transaction")
			}
			if n := count(t, db, `SELECT COUNT(*) FROM widgets WHERE id = $1`, "r1"); n != 0 {
				t.Errorf("rolled-back row is there")
			}
		})

		t.Run("panic rolls back", func(t *testing.T) {
			func() {
				defer func() {
					if recover() == nil {
						t.Error("panic swallowed")
					}
				}()
				_ = db.WithTx(ctx, func(tx *sqldb.Tx) error {
					if _, err := tx.ExecContext(ctx, `INSERT INTO widgets (id, name) VALUES ($1, $2)`, "p1", "panicked"); err != nil {
						return err
					}
					panic("oops")
				})
			}()
			if n := count(t, db, `SELECT COUNT(*) FROM widgets WHERE id = $1`, "p1"); n != 0 {
				t.Errorf("row of a panicked transaction is there")
			}
			// The connection went back to the pool in a usable state.
			if err := db.WithTx(ctx, func(tx *sqldb.Tx) error { return nil }); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("concurrent writers all commit", func(t *testing.T) {
			var wg sync.WaitGroup
			var hooks atomic.Int32
			errs := make(chan error, 20)
			for i := range 20 {
				wg.Go(func() {
					errs <- db.WithTx(ctx, func(tx *sqldb.Tx) error {
						tx.OnCommit(func() { hooks.Add(1) })
						_, err := tx.ExecContext(ctx, `INSERT INTO stamps (n, at) VALUES ($1, $2)`, 1000+i, sqldb.Now())
						return err
					})
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if hooks.Load() != 20 {
				t.Errorf("%d hooks ran, want 20", hooks.Load())
			}
		})
	})
}

// TestWithTxRetriesDeadlock makes two transactions deadlock on PostgreSQL;
// the one the server aborts (40P01) must be retried and then succeed.
func TestWithTxRetriesDeadlock(t *testing.T) {
	db := migrated(t, pgtest.OpenPostgres(t))
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, `INSERT INTO widgets (id, name) VALUES ('a', 'a'), ('b', 'b')`); err != nil {
		t.Fatal(err)
	}
	var (
		attempts atomic.Int32
		hooks    atomic.Int32
		locked   sync.WaitGroup
	)
	locked.Add(2)
	swap := func(first, second string) error {
		firstAttempt := true
		return db.WithTx(ctx, func(tx *sqldb.Tx) error {
			attempts.Add(1)
			tx.OnCommit(func() { hooks.Add(1) })
			if _, err := tx.ExecContext(ctx, `UPDATE widgets SET name = name || '+' WHERE id = $1`, first); err != nil {
				return err
			}
			if firstAttempt {
				firstAttempt = false
				locked.Done()
				locked.Wait() // both hold their first row: now cross over
			}
			_, err := tx.ExecContext(ctx, `UPDATE widgets SET name = name || '+' WHERE id = $1`, second)
			return err
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = swap("a", "b") })
	wg.Go(func() { errs[1] = swap("b", "a") })
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if attempts.Load() < 3 {
		t.Errorf("%d attempts: the deadlock was not retried", attempts.Load())
	}
	if hooks.Load() != 2 {
		t.Errorf("%d hooks ran, want one per committed transaction", hooks.Load())
	}
	if n := count(t, db, `SELECT COUNT(*) FROM widgets WHERE name LIKE '%++'`); n != 2 {
		t.Errorf("%d widgets updated twice, want 2", n)
	}
}

// TestWithTxConflict holds SQLite's write lock so that every attempt of
// another writer times out: the result is a Conflict wrapping BUSY.
func TestWithTxConflict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	holder, err := sqldb.Open(t.Context(), "sqlite://"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	migrated(t, holder)
	impatient, err := sqldb.Open(t.Context(), "sqlite://"+path+"?_busy_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()

	release := make(chan struct{})
	held := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- holder.WithTx(context.Background(), func(tx *sqldb.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	calls := 0
	err = impatient.WithTx(t.Context(), func(tx *sqldb.Tx) error {
		calls++
		return nil
	})
	close(release)
	if herr := <-done; herr != nil {
		t.Fatal(herr)
	}
	if !errors.Is(err, apperr.ErrConflict) || apperr.KindOf(err) != apperr.KindConflict {
		t.Fatalf("err = %v, want a Conflict", err)
	}
	if !sqldb.IsConflict(errors.Unwrap(err)) {
		t.Errorf("cause %v is not a lock timeout", errors.Unwrap(err))
	}
	if calls != 0 {
		t.Errorf("fn ran %d times without a transaction", calls)
	}
}

func TestWithTxDoesNotRetryOtherErrors(t *testing.T) {
	db := migrated(t, pgtest.OpenSQLite(t))
	other := errors.New("not a conflict")
	calls := 0
	err := db.WithTx(t.Context(), func(tx *sqldb.Tx) error {
		calls++
		return fmt.Errorf("wrapped: %w", other)
	})
	if !errors.Is(err, other) || apperr.KindOf(err) == apperr.KindConflict {
		t.Fatalf("err = %v: a non-conflict error must come back as it is", err)
	}
	if calls != 1 {
		t.Errorf("fn ran %d times", calls)
	}
}

func TestIsUniqueViolation(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		ctx := t.Context()
		if _, err := db.ExecContext(ctx, `INSERT INTO widgets (id, name) VALUES ('w1', 'one')`); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name  string
			query string
			want  bool
		}{
			{"duplicate primary key", `INSERT INTO widgets (id, name) VALUES ('w1', 'other')`, true},
			{"duplicate unique column", `INSERT INTO widgets (id, name) VALUES ('w2', 'one')`, true},
			{"foreign key", `INSERT INTO parts (id, widget_id) VALUES (1, 'missing')`, false},
			{"not null", `INSERT INTO widgets (id, name) VALUES ('w3', NULL)`, false},
			{"syntax", `INSERT INTO`, false},
		}
		for _, tt := range tests {
			_, err := db.ExecContext(ctx, tt.query)
			if err == nil {
				t.Fatalf("%s: no error", tt.name)
			}
			if got := sqldb.IsUniqueViolation(err); got != tt.want {
				t.Errorf("%s: IsUniqueViolation(%v) = %v", tt.name, err, got)
			}
			if sqldb.IsConflict(err) {
				t.Errorf("%s: IsConflict(%v)", tt.name, err)
			}
		}
		if sqldb.IsUniqueViolation(nil) {
			t.Error("IsUniqueViolation(nil)")
		}
	})
}

func TestMigrate(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		for range 2 { // the second run finds nothing to do
			if err := sqldb.Migrate(ctx, db, os.DirFS("testdata/good"), "good_migrations"); err != nil {
				t.Fatal(err)
			}
			if err := sqldb.Migrate(ctx, db, os.DirFS("testdata/other"), "other_migrations"); err != nil {
				t.Fatal(err)
			}
		}
		// Both sets applied, each recorded in its own table, and our pool
		// is still open with nothing pinned.
		for table, version := range map[string]int{"good_migrations": 2, "other_migrations": 1} {
			if n := count(t, db, `SELECT version FROM `+table+` WHERE NOT dirty`); n != version {
				t.Errorf("%s at version %d, want %d", table, n, version)
			}
		}
		for _, table := range []string{"widgets", "parts", "stamps", "others"} {
			count(t, db, `SELECT COUNT(*) FROM `+table)
		}
		if inUse := db.Stats().InUse; inUse != 0 {
			t.Errorf("%d connections still in use after Migrate", inUse)
		}
	})
}

func TestMigrateDirty(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		err := sqldb.Migrate(ctx, db, os.DirFS("testdata/broken"), "broken_migrations")
		if err == nil {
			t.Fatal("a broken migration succeeded")
		}
		// The failed file is undone as a whole…
		if n := count(t, db, `SELECT COUNT(*) FROM first`); n != 0 {
			t.Fatal(n)
		}
		var probe int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM second`).Scan(&probe); err == nil {
			t.Error("half of the failed migration was kept")
		}
		// …and the version stays dirty: every later run says so.
		err = sqldb.Migrate(ctx, db, os.DirFS("testdata/broken"), "broken_migrations")
		if err == nil || !strings.Contains(err.Error(), "dirty at version 2") {
			t.Fatalf("second run: %v, want a dirty-database error", err)
		}
	})
}

func TestMigrateRejectsBadTable(t *testing.T) {
	db := pgtest.OpenSQLite(t)
	if err := sqldb.Migrate(t.Context(), db, os.DirFS("testdata/good"), "x; DROP TABLE y"); err == nil {
		t.Fatal("accepted an SQL fragment as table name")
	}
}

// TestTimestamps checks the portable convention: what goes in comes back
// equal, and comparisons in SQL follow time order even where the text forms
// differ in length (SQLite stores text).
func TestTimestamps(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		migrated(t, db)
		ctx := t.Context()
		base := time.Date(2026, 11, 27, 9, 0, 0, 0, time.FixedZone("CET", 3600))
		times := []time.Time{
			base,                                 // no fraction
			base.Add(100 * time.Millisecond),     // .1
			base.Add(120 * time.Millisecond),     // .12
			base.Add(120*time.Millisecond + 7e3), // .120007
			base.Add(time.Second),
			sqldb.Now(),
		}
		for i := len(times) - 1; i >= 0; i-- { // insert out of order
			if _, err := db.ExecContext(ctx, `INSERT INTO stamps (n, at) VALUES ($1, $2)`, i, sqldb.Timestamp(times[i])); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := db.QueryContext(ctx, `SELECT n, at FROM stamps WHERE at > $1 ORDER BY at`, sqldb.Timestamp(times[1]))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		want := 2
		for rows.Next() {
			var n int
			var at time.Time
			if err := rows.Scan(&n, &at); err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("row %d came where %d belongs", n, want)
			}
			if !at.Equal(times[n]) {
				t.Errorf("row %d: read %v, wrote %v", n, at, times[n])
			}
			want++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if want != len(times) {
			t.Errorf("got rows up to %d, want %d", want, len(times))
		}
	})
}

func TestTimestamp(t *testing.T) {
	if !sqldb.Timestamp(time.Time{}).IsZero() {
		t.Error("zero time changed")
	}
	now := sqldb.Now()
	if now.Location() != time.UTC || now.Nanosecond()%1000 != 0 {
		t.Errorf("Now() = %v, want UTC microseconds", now)
	}
}
