package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"trueup.dev/platform/apperr"
)

// Tx is a transaction in progress, handed to the fn of WithTx.
type Tx struct {
	*sql.Tx
	Dialect Dialect

	mu    sync.Mutex
	hooks []func()

	// cache is the DB's prepared-statement cache (nil: none, see stmtcache.go);
	// misses are the texts this transaction found uncached, prepared after it
	// ends; open holds the latest rows of each cached text, until closed.
	cache  *stmtCache
	misses []string
	open   map[string]*sql.Rows
}

// OnCommit registers fn to run after the transaction commits (in registration
// order, on the goroutine that called WithTx). It is how work that must not
// happen for a rolled-back attempt — waking the outbox relay, filling a cache —
// is attached to a transaction: hooks of attempts that roll back or are
// retried are dropped.
func (tx *Tx) OnCommit(fn func()) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.hooks = append(tx.hooks, fn)
}

// Retry policy of WithTx: a conflict usually clears within milliseconds, so
// a few quick jittered attempts; after that the caller (or its client) is
// better placed to decide.
const (
	txAttempts    = 4
	txBackoffBase = 5 * time.Millisecond
)

// WithTx runs fn in a transaction and commits it. If fn returns an error the
// transaction is rolled back and the error returned unchanged. If the
// database reports a serialisation failure or deadlock (PostgreSQL 40001,
// 40P01) or a lock timeout (SQLite BUSY/LOCKED) — from fn's statements, the
// BEGIN or the COMMIT — fn is run again in a new transaction after a short
// jittered pause; when attempts run out the result is an apperr.Conflict
// wrapping the last cause. After a successful commit the hooks registered
// with Tx.OnCommit run.
//
// fn must do its work through tx, not db: a query on db from inside fn needs
// a second connection from the pool, and when every connection is held by a
// transaction waiting for the same lock, it waits forever (until the lock
// timeout). A panic in fn rolls the transaction back and is re-raised.
func (db *DB) WithTx(ctx context.Context, fn func(tx *Tx) error) error {
	var lastErr error
	for attempt := range txAttempts {
		if attempt > 0 {
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return fmt.Errorf("sqldb: retry transaction after %w: %w", lastErr, err)
			}
		}
		hooks, err := db.runTx(ctx, fn)
		if err == nil {
			for _, h := range hooks {
				h()
			}
			return nil
		}
		if !isRetryable(err) {
			return err
		}
		lastErr = err
	}
	return apperr.Conflict("the transaction kept conflicting with concurrent ones", lastErr)
}

// writeGate is SQLite's single write slot, a channel of capacity one. SQLite
// lets one transaction write at a time; left to itself, a writer that finds the
// lock taken sleeps in SQLite's busy handler (1, 2, 5 … 100 ms) and polls, so
// hand-off is neither prompt nor fair and more clients mean less throughput.
// Queuing writers in Go instead hands the lock over the moment it is free, in
// arrival order: goroutines blocked sending on a channel are woken first in,
// first out.
type writeGate chan struct{}

// writeSlotTimeout bounds the wait for the write slot. Queued writers wait
// their turn however long the queue is; only a stuck transaction, or a WithTx
// nested inside another on the same database (which would wait for its own
// caller), waits this long.
const writeSlotTimeout = 30 * time.Second

// errWriteSlotBusy is what a writer gets after waiting writeSlotTimeout for
// the slot, like SQLite's own SQLITE_BUSY: WithTx retries it and then reports a
// conflict. It also turns a WithTx nested inside another on the same database
// (which would wait for its own caller) into an error instead of a hang.
var errWriteSlotBusy = errors.New("sqldb: sqlite write slot still taken after the busy timeout")

func (g writeGate) acquire(ctx context.Context) error {
	if g == nil {
		return nil
	}
	t := time.NewTimer(writeSlotTimeout)
	defer t.Stop()
	select {
	case g <- struct{}{}:
		return nil
	case <-t.C:
		return errWriteSlotBusy
	case <-ctx.Done():
		return fmt.Errorf("sqldb: wait for the sqlite write slot: %w", ctx.Err())
	}
}

func (g writeGate) release() {
	if g != nil {
		<-g
	}
}

// runTx is one attempt: begin, fn, commit. It returns the hooks to run.
// On SQLite it holds the process's write slot while fn runs (see writeGate)
// and commits in groups (see runInGroup), so transactions of this process
// never meet SQLite's busy handler; only another process or a write outside
// WithTx can.
func (db *DB) runTx(ctx context.Context, fn func(tx *Tx) error) (hooks []func(), err error) {
	if db.writer != nil {
		return db.runInGroup(ctx, fn)
	}
	sqlTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqldb: begin %s transaction: %w", db.Dialect, err)
	}
	tx := &Tx{Tx: sqlTx, Dialect: db.Dialect, cache: db.stmts}
	committed := false
	defer func() {
		if !committed {
			// The error of a rollback after a failure says nothing new.
			_ = sqlTx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return nil, err
	}
	if err := sqlTx.Commit(); err != nil {
		return nil, fmt.Errorf("sqldb: commit %s transaction: %w", db.Dialect, err)
	}
	committed = true
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.hooks, nil
}

// backoff is the pause before attempt n (n ≥ 1): exponential with ±50% jitter
// so that the transactions that collided do not collide again.
func backoff(n int) time.Duration {
	d := txBackoffBase << (n - 1)
	return d/2 + rand.N(d)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// IsConflict reports whether err is a transient conflict that WithTx retries:
// a PostgreSQL serialisation failure or deadlock, or a SQLite lock timeout.
func IsConflict(err error) bool { return isRetryable(err) }

func isRetryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errWriteSlotBusy) || errors.Is(err, errGroupAborted) {
		return true
	}
	if code, ok := pgCode(err); ok {
		return code == "40001" || code == "40P01"
	}
	if code, ok := sqliteCode(err); ok {
		primary := code & 0xff
		return primary == sqliteBusy || primary == sqliteLocked
	}
	return false
}
