package sqldb

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
)

// Prepared-statement cache.
//
// modernc's driver parses and plans a statement from scratch on every
// ExecContext/QueryContext that is not run through a *sql.Stmt, and a stock
// command runs some twenty statements: preparing and binding was ~40% of its
// CPU. So the Tx methods below look the query text up in a per-DB cache of
// *sql.Stmt and run it through Tx.StmtContext; database/sql then prepares it
// once per connection and reuses the driver statement after that.
//
// Only on SQLite: pgx's stdlib driver already caches prepared statements per
// connection (QueryExecModeCacheStatement), and measured here a database/sql
// statement on top of it did not help (see BenchmarkStockCommands).
//
// A text is cached the second time it is seen: its first run is the plain
// ExecContext, and after the transaction ends (its connection is back in the
// pool, so preparing never needs a second connection while the transaction
// holds one) it is prepared on the DB. Texts longer than stmtCacheMaxText
// are never cached (multi-row VALUES lists built per call, like outbox.Add's
// or a bulk import's, and migration scripts), and the cache holds at most
// stmtCacheMaxEntries texts: once full it logs once and new texts simply run
// unprepared, as before. Cached statements are closed by DB.Close.
const (
	stmtCacheMaxText    = 2048
	stmtCacheMaxEntries = 512
	// txMaxMisses bounds what one transaction queues for preparing.
	txMaxMisses = 64
)

type stmtCache struct {
	mu     sync.RWMutex
	stmts  map[string]*sql.Stmt
	max    int  // entries at most
	full   bool // logged that the cache is full
	closed bool
}

func newStmtCache(max int) *stmtCache { return &stmtCache{stmts: map[string]*sql.Stmt{}, max: max} }

func (c *stmtCache) get(query string) *sql.Stmt {
	if c == nil || len(query) > stmtCacheMaxText {
		return nil
	}
	c.mu.RLock()
	s := c.stmts[query]
	c.mu.RUnlock()
	return s
}

// prepare prepares the texts a transaction missed, on db, outside any
// transaction. Errors are dropped: the text keeps running unprepared (it may
// name a table a rolled-back migration created).
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, queries []string) {
	for _, q := range queries {
		c.mu.RLock()
		_, have := c.stmts[q]
		n, closed := len(c.stmts), c.closed
		c.mu.RUnlock()
		if have || closed {
			continue
		}
		if n >= c.max {
			c.mu.Lock()
			logIt := !c.full
			c.full = true
			c.mu.Unlock()
			if logIt {
				slog.Warn("sqldb: prepared-statement cache full; further query texts run unprepared", "entries", n)
			}
			return
		}
		s, err := db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, have := c.stmts[q]; have || c.closed || len(c.stmts) >= c.max {
			c.mu.Unlock()
			_ = s.Close()
			continue
		}
		c.stmts[q] = s
		c.mu.Unlock()
	}
}

// close closes every cached statement; later lookups find nothing.
func (c *stmtCache) close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	stmts := c.stmts
	c.stmts, c.closed = map[string]*sql.Stmt{}, true
	c.mu.Unlock()
	var first error
	for _, s := range stmts {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// stmt returns the transaction's statement for query, or nil to run it
// unprepared: no cache, not cached yet (then it is queued for preparing), or
// the cached driver statement may still be busy in this transaction (rows of
// the same text not yet closed: a driver statement steps one result at a
// time, so a second run would reset the first).
func (tx *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if tx.cache == nil || len(query) > stmtCacheMaxText {
		return nil
	}
	s := tx.cache.get(query)
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if s == nil {
		if len(tx.misses) < txMaxMisses {
			tx.misses = append(tx.misses, query)
		}
		return nil
	}
	if r := tx.open[query]; r != nil {
		if _, err := r.Columns(); err == nil { // still open
			return nil
		}
		delete(tx.open, query)
	}
	return tx.Tx.StmtContext(ctx, s)
}

// ExecContext is sql.Tx.ExecContext through the DB's statement cache (with
// positional placeholders on SQLite, see placeholders.go).
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query, args = positional(tx.Dialect, query, args)
	if s := tx.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}

// QueryContext is sql.Tx.QueryContext through the DB's statement cache.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, args = positional(tx.Dialect, query, args)
	s := tx.stmt(ctx, query)
	if s == nil {
		return tx.Tx.QueryContext(ctx, query, args...)
	}
	rows, err := s.QueryContext(ctx, args...)
	if err == nil {
		tx.mu.Lock()
		if tx.open == nil {
			tx.open = map[string]*sql.Rows{}
		}
		tx.open[query] = rows
		tx.mu.Unlock()
	}
	return rows, err
}

// QueryRowContext is sql.Tx.QueryRowContext through the DB's statement
// cache. As always, Scan the row before running the same text again in the
// transaction.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	query, args = positional(tx.Dialect, query, args)
	if s := tx.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, query, args...)
}
