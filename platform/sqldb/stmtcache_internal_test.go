package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"modernc.org/sqlite"
)

// countingDriver wraps modernc's driver and counts, per query text, the
// statements prepared on a connection.
type countingDriver struct {
	mu       sync.Mutex
	opens    int
	prepares map[string]int
}

func (d *countingDriver) Open(name string) (driver.Conn, error) {
	c, err := (&sqlite.Driver{}).Open(name)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.opens++
	d.mu.Unlock()
	return &countingConn{Conn: c, d: d}, nil
}

func (d *countingDriver) count(query string) (prepares, opens int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.prepares[query], d.opens
}

// countingConn passes everything through to modernc's connection, so that
// only real prepares are counted (without ExecerContext and QueryerContext,
// database/sql would prepare for every plain Exec and Query).
type countingConn struct {
	driver.Conn
	d *countingDriver
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.d.mu.Lock()
	c.d.prepares[query]++
	c.d.mu.Unlock()
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

var (
	registerCounting sync.Once
	counting         = &countingDriver{prepares: map[string]int{}}
)

// openCounting opens a SQLite DB whose connections count prepares.
func openCounting(t *testing.T) *DB {
	t.Helper()
	registerCounting.Do(func() { sql.Register("sqlite-counting", counting) })
	old := sqliteDriver
	sqliteDriver = "sqlite-counting"
	db, err := Open(t.Context(), "sqlite://"+filepath.Join(t.TempDir(), "c.db"))
	sqliteDriver = old
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestStmtCachePreparesOncePerConnection(t *testing.T) {
	db := openCounting(t)
	ctx := t.Context()
	// Unique texts: the counting driver is shared by every test of the binary.
	insert := fmt.Sprintf(`INSERT INTO kv (k, v) VALUES ($1, $2) /* %s */`, t.Name())
	sel := fmt.Sprintf(`SELECT v FROM kv WHERE k = $1 /* %s */`, t.Name())
	list := fmt.Sprintf(`SELECT k, v FROM kv ORDER BY k /* %s */`, t.Name())
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { // concurrently, so that the pool opens several connections
			errs <- db.WithTx(ctx, func(tx *Tx) error {
				if _, err := tx.ExecContext(ctx, insert, i, fmt.Sprint("v", i)); err != nil {
					return err
				}
				var v string
				if err := tx.QueryRowContext(ctx, sel, i).Scan(&v); err != nil {
					return err
				}
				if v != fmt.Sprint("v", i) {
					return fmt.Errorf("k %d: read %q", i, v)
				}
				rows, err := tx.QueryContext(ctx, list)
				if err != nil {
					return err
				}
				defer rows.Close()
				seen := 0
				for rows.Next() {
					seen++
				}
				if seen == 0 {
					return errors.New("list: no rows")
				}
				return rows.Err()
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := count(t, db, `SELECT COUNT(*) FROM kv`); got != n {
		t.Fatalf("%d rows, want %d", got, n)
	}
	for _, q := range []string{insert, sel, list} {
		q := rewrite(q).query // the text SQLite prepares and the cache keeps
		prepares, opens := counting.count(q)
		// Each connection prepares a text at most once, plus the DB-level
		// prepare that made the cached *sql.Stmt (on a connection that then
		// reuses it).
		if prepares == 0 || prepares > opens+1 {
			t.Errorf("%.30s…: prepared %d times over %d connections and %d transactions; want at most once per connection", q, prepares, opens, n)
		}
		if db.stmts.get(q) == nil {
			t.Errorf("%.30s…: not cached", q)
		}
	}
}

func TestStmtCacheSameTextWhileRowsOpen(t *testing.T) {
	db := openCounting(t)
	ctx := t.Context()
	list := `SELECT k, v FROM kv WHERE k >= $1 ORDER BY k`
	for range 2 { // the second transaction runs list from the cache
		err := db.WithTx(ctx, func(tx *Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM kv`); err != nil {
				return err
			}
			for i := range 3 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES ($1, $2)`, i, fmt.Sprint("v", i)); err != nil {
					return err
				}
			}
			outer, err := tx.QueryContext(ctx, list, 0)
			if err != nil {
				return err
			}
			defer outer.Close()
			var got []string
			for outer.Next() {
				var k int
				var v string
				if err := outer.Scan(&k, &v); err != nil {
					return err
				}
				// The same text again while outer is open must not disturb it.
				inner, err := tx.QueryContext(ctx, list, k)
				if err != nil {
					return err
				}
				m := 0
				for inner.Next() {
					m++
				}
				if err := inner.Close(); err != nil {
					return err
				}
				got = append(got, fmt.Sprintf("%s:%d", v, m))
			}
			if err := outer.Err(); err != nil {
				return err
			}
			if s := strings.Join(got, " "); s != "v0:3 v1:2 v2:1" {
				return fmt.Errorf("nested reads: %s", s)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if db.stmts.get(rewrite(list).query) == nil {
		t.Fatal("list not cached")
	}
}

func TestStmtCacheBounds(t *testing.T) {
	db := openCounting(t)
	ctx := t.Context()
	db.stmts = newStmtCache(3)
	long := `SELECT COUNT(*) FROM kv WHERE v <> '` + strings.Repeat("x", stmtCacheMaxText) + `'`
	for range 2 {
		err := db.WithTx(ctx, func(tx *Tx) error {
			for i := range 5 {
				var n int
				if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d + COUNT(*) FROM kv`, i)).Scan(&n); err != nil {
					return err
				}
				if n != i {
					return fmt.Errorf("got %d, want %d", n, i)
				}
			}
			var n int
			return tx.QueryRowContext(ctx, long).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(db.stmts.stmts); n != 3 {
		t.Errorf("cache holds %d texts, want its cap of 3", n)
	}
	if db.stmts.get(long) != nil {
		t.Error("a text beyond stmtCacheMaxText was cached")
	}
}

func TestStmtCacheClosedByClose(t *testing.T) {
	db := openCounting(t)
	ctx := t.Context()
	q := `UPDATE kv SET v = $1 WHERE k = $2`
	for range 2 {
		if err := db.WithTx(ctx, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, q, "x", 1)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	s := db.stmts.get(rewrite(q).query)
	if s == nil {
		t.Fatal("not cached")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExecContext(ctx, "y", 1); err == nil || !strings.Contains(err.Error(), "statement is closed") {
		t.Fatalf("cached statement after Close: err = %v, want it closed", err)
	}
	if db.stmts.get(rewrite(q).query) != nil {
		t.Fatal("cache still answers after Close")
	}
}

func count(t *testing.T, db *DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
