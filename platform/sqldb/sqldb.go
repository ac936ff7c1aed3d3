// Package sqldb opens a database/sql pool on SQLite (modernc.org/sqlite, the
// embedded default) or PostgreSQL (pgx, production) and gives both the same
// transaction, migration and error helpers, so a store is written once.
//
// # One query text for both dialects
//
// Both drivers bind "$1", "$2"… positionally, and both understand
// ON CONFLICT DO NOTHING and RETURNING, so stores need no rebinding.
//
// # Timestamps
//
// The one portable convention: bind and scan time.Time, produced in Go by
// Now or Timestamp (UTC, microsecond precision). Never let SQL make the time
// (now(), CURRENT_TIMESTAMP): both dialects then see the one clock and the
// same precision.
//   - PostgreSQL columns are TIMESTAMPTZ. Scanned values may come back in the
//     local zone; compare with time.Time.Equal.
//   - SQLite columns are declared TIMESTAMP (the driver only turns text back
//     into time.Time for columns declared DATE, DATETIME or TIMESTAMP). The
//     connection writes times as "2006-01-02 15:04:05.999999-07:00" in UTC, a
//     form whose text order is time order, so "<", ">" and ORDER BY on such
//     columns are correct. An expression over such a column (MIN, MAX,
//     COALESCE) has no declared type and scans as a string on SQLite: select
//     the column itself where you need a time.Time.
//
// # Transactions
//
// WithTx retries on serialisation failures and lock timeouts, so fn must be
// safe to run more than once: no side effects outside the transaction except
// through Tx.OnCommit. On SQLite every transaction begins IMMEDIATE (it takes
// the write lock at BEGIN, so two writers never deadlock upgrading a read lock),
// and the transactions of one process queue for the write lock in Go, first
// come first served, instead of polling in SQLite's busy handler; reads outside
// a transaction run beside the writer (WAL). Keep transactions short, as they
// serialise all writers.
//
// On SQLite, Tx.ExecContext, QueryContext and QueryRowContext run through a
// per-DB cache of prepared statements, keyed by the query text (see
// stmtcache.go): a store needs nothing special, but should keep its query
// texts constant (arguments as $n, not spliced in) to benefit.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver

	"trueup.dev/platform/config"
)

// Dialect names the SQL database behind a DB.
type Dialect string

// The supported dialects. The value is also the name of the dialect's
// migrations directory (see Migrate).
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is a connection pool together with its dialect. Use it as a *sql.DB for
// plain queries, and WithTx for transactions.
type DB struct {
	*sql.DB
	Dialect Dialect

	// dsn is the driver DSN of a PostgreSQL pool, kept so Migrate can use a
	// connection of its own (golang-migrate's pgx driver pins one connection
	// and can only give it back by closing the whole pool).
	dsn string
	// removeTemp deletes the throwaway file behind "sqlite://:memory:".
	removeTemp func() error
	// migrateMu serialises Migrate calls in this process: golang-migrate's
	// SQLite driver has no database-level lock.
	migrateMu sync.Mutex
	// writer is SQLite's one write slot (nil on PostgreSQL); see WithTx.
	writer writeGate
	// waiting counts writers queued for the slot, and group is the SQLite
	// transaction left open for them (guarded by the slot); see group.go.
	waiting atomic.Int64
	group   *group
	// groups and groupMembers count ended groups and their members
	// (WriteGroups).
	groups, groupMembers atomic.Int64
	// stmts caches prepared statements for transactions (SQLite only, see
	// stmtcache.go); nil means none.
	stmts *stmtCache
}

// Pool sizes. SQLite allows one writer at a time, but WAL lets readers run
// beside it, and a transaction's fn may still need a second connection for a
// plain query, so the pool must not be tiny. PostgreSQL serves many clients;
// 25 per process leaves room for several services and replicas under a
// default max_connections of 100.
const (
	sqliteMaxConns   = 8
	postgresMaxConns = 25
	// sqliteBusyTimeout is how long a connection waits for the write lock
	// before SQLite reports BUSY (which WithTx then retries).
	sqliteBusyTimeout = 10 * time.Second
)

// Open opens and pings a database. The DSN selects the dialect:
//
//	sqlite:///abs/path.db     an absolute path
//	sqlite://relative/path.db a path relative to the working directory
//	sqlite://:memory:         a throwaway database, removed by Close
//	postgres://… or postgresql://…  a PostgreSQL URL as pgx understands it
//
// SQLite query parameters the caller gives (e.g. "?_busy_timeout=1000") win
// over the defaults: WAL, busy timeout 10s, foreign keys on,
// synchronous=FULL, IMMEDIATE transactions, UTC times. ":memory:" is a file
// in a temporary directory rather than SQLite's private memory database, so
// that every connection of the pool sees the same data with WAL semantics.
//
// synchronous=FULL because an outbox relay publishes what a commit wrote: with
// NORMAL, a power loss can undo a WAL commit that the relay already published,
// so consumers would apply an event that no longer exists and a retried command
// would run again under a new event id. FULL makes every commit durable before
// it returns (about a quarter of NORMAL's single-row commit rate here, and
// still far above what a command costs). Only ":memory:", a throwaway database
// removed on Close, defaults to NORMAL: it has nothing to keep after a crash.
func Open(ctx context.Context, dsn string) (*DB, error) {
	scheme, _, _ := strings.Cut(dsn, "://")
	switch scheme {
	case "sqlite":
		return openSQLite(ctx, dsn)
	case "postgres", "postgresql":
		if _, err := url.Parse(dsn); err != nil {
			// url.Parse's error quotes the input, which may hold a password.
			return nil, errors.New("sqldb: the postgres DSN is not a valid URL")
		}
		return openPostgres(ctx, dsn)
	default:
		if len(scheme) > 20 || scheme == dsn {
			scheme = "?" // not a scheme: perhaps a bare connection string with a password in it
		}
		return nil, fmt.Errorf("sqldb: unsupported database DSN scheme %q (want sqlite:// or postgres://)", scheme)
	}
}

// sqliteDriver is the database/sql driver name of SQLite (a test swaps in a
// wrapper that counts prepares).
var sqliteDriver = "sqlite"

func openSQLite(ctx context.Context, dsn string) (*DB, error) {
	// Parse by hand: "sqlite://relative/path.db" would make "relative" a host.
	rest := strings.TrimPrefix(dsn, "sqlite://")
	path, rawQuery, _ := strings.Cut(rest, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fmt.Errorf("sqldb: sqlite DSN parameters: %w", err)
	}
	if path == "" {
		return nil, errors.New("sqldb: sqlite DSN has no path (want sqlite:///abs/path.db or sqlite://:memory:)")
	}

	var removeTemp func() error
	synchronous := "FULL"
	if path == ":memory:" {
		synchronous = "NORMAL"
		dir, err := os.MkdirTemp("", "sqldb-memory-")
		if err != nil {
			return nil, fmt.Errorf("sqldb: sqlite :memory: temp dir: %w", err)
		}
		path = filepath.Join(dir, "memory.db")
		removeTemp = func() error { return os.RemoveAll(dir) }
	}

	defaults := map[string]string{
		"_journal_mode": "WAL",
		"_busy_timeout": fmt.Sprint(sqliteBusyTimeout.Milliseconds()),
		"_foreign_keys": "on",
		"_synchronous":  synchronous,
		"_txlock":       "immediate",
		"_time_format":  "sqlite",
		"_timezone":     "UTC",
	}
	for k, v := range defaults {
		if !query.Has(k) {
			query.Set(k, v)
		}
	}
	// Temporary tables, indexes and savepoint journals in memory: every
	// grouped command runs in a savepoint (group.go), whose journal would
	// otherwise spill to a temporary file in pwrite calls.
	if !pragmaSet(query, "temp_store") {
		query.Add("_pragma", "temp_store(MEMORY)")
	}

	sqlDB, err := sql.Open(sqliteDriver, path+"?"+query.Encode())
	if err != nil {
		if removeTemp != nil {
			_ = removeTemp()
		}
		return nil, fmt.Errorf("sqldb: open sqlite database %s: %w", path, err)
	}
	sqlDB.SetMaxOpenConns(sqliteMaxConns)
	sqlDB.SetMaxIdleConns(sqliteMaxConns)
	db := &DB{DB: sqlDB, Dialect: SQLite, removeTemp: removeTemp, writer: make(writeGate, 1), stmts: newStmtCache(stmtCacheMaxEntries)}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqldb: open sqlite database %s: %w", path, err)
	}
	return db, nil
}

// pragmaSet reports whether the DSN's _pragma parameters set name.
func pragmaSet(query url.Values, name string) bool {
	for _, p := range query["_pragma"] {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(p)), name) {
			return true
		}
	}
	return false
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	sqlDB, err := sql.Open("pgx", dsn)
	if err != nil {
		// pgx redacts passwords in its own errors; RedactURL does in ours, the
		// ?password= and ?sslpassword= parameters included.
		return nil, fmt.Errorf("sqldb: open postgres database %s: %w", config.RedactURL(dsn), err)
	}
	sqlDB.SetMaxOpenConns(postgresMaxConns)
	sqlDB.SetMaxIdleConns(postgresMaxConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	// Recycling connections lets a pool follow a failover or a pgbouncer change.
	sqlDB.SetConnMaxLifetime(time.Hour)
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("sqldb: open postgres database %s: %w", config.RedactURL(dsn), err)
	}
	return &DB{DB: sqlDB, Dialect: Postgres, dsn: dsn}, nil
}

// Close closes the cached prepared statements and the pool and, for
// "sqlite://:memory:", removes its file.
func (db *DB) Close() error {
	err := errors.Join(db.stmts.close(), db.DB.Close())
	if db.removeTemp != nil {
		err = errors.Join(err, db.removeTemp())
	}
	return err
}

// ExecContext is sql.DB.ExecContext, with positional placeholders on SQLite
// (see placeholders.go).
func (db *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query, args = positional(db.Dialect, query, args)
	return db.DB.ExecContext(ctx, query, args...)
}

// QueryContext is sql.DB.QueryContext, with positional placeholders on SQLite.
func (db *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, args = positional(db.Dialect, query, args)
	return db.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext is sql.DB.QueryRowContext, with positional placeholders on SQLite.
func (db *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	query, args = positional(db.Dialect, query, args)
	return db.DB.QueryRowContext(ctx, query, args...)
}
