// Package store is the SQL adapter of the ledger service, for SQLite and
// PostgreSQL alike ($n placeholders work on both drivers). Timestamps are unix
// microseconds in BIGINT columns.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
)

//go:embed migrations
var migrations embed.FS

// MigrationsTable records the version of the ledger schema, apart from the
// platform's own migration sets in the same database.
const MigrationsTable = "ledger_schema_migrations"

// schema is the ledger database: the platform tables its transactions write
// (outbox, idempotency keys) and its own set.
var schema = storetx.Schema{Name: "ledger", Files: migrations, Dir: "migrations", Table: MigrationsTable, Inbox: true}

// Migrate brings the ledger schema, and the platform tables it uses
// (outbox, idempotency keys), up to date.
func Migrate(ctx context.Context, db *sqldb.DB) error { return schema.Migrate(ctx, db) }

// Store implements app.Store.
type Store struct {
	db *sqldb.DB
	tx *storetx.Runner
	reader
}

var _ app.Store = (*Store)(nil)

// New builds the store. Events emitted in a transaction are encoded and added to ob.
func New(db *sqldb.DB, ob *outbox.Outbox, encode storetx.Encoder) *Store {
	return &Store{db: db, tx: storetx.NewRunner(db, ob, encode), reader: reader{q: db}}
}

// InTx runs fn in one database transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx app.Tx) error) error {
	return s.tx.Run(ctx, func(t *storetx.Tx) error {
		return fn(&tx{reader: reader{q: t}, Tx: t})
	})
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type tx struct {
	reader
	*storetx.Tx
}

func (t *tx) InsertAccount(ctx context.Context, a *ledger.Account) error {
	_, err := t.Tx.ExecContext(ctx,
		`INSERT INTO accounts (code, display_name, type, currency_code, created_at) VALUES ($1, $2, $3, $4, $5)`,
		a.Code, a.DisplayName, int(a.Type), a.CurrencyCode, a.CreatedAt.UnixMicro())
	if sqldb.IsUniqueViolation(err) {
		return apperr.AlreadyExists("account", a.Code, "")
	}
	if err != nil {
		return fmt.Errorf("insert account %s: %w", a.Code, err)
	}
	return nil
}

// reader runs queries on the pool or inside a transaction.
type reader struct{ q querier }

const accountColumns = `code, display_name, type, currency_code, created_at`

func (r reader) GetAccount(ctx context.Context, code string) (*ledger.Account, error) {
	as, err := r.accounts(ctx, `SELECT `+accountColumns+` FROM accounts WHERE code = $1`, code)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, apperr.NotFound("account", code)
	}
	return as[0], nil
}

func (r reader) ListAccounts(ctx context.Context, page paging.Page) ([]*ledger.Account, error) {
	return r.accounts(ctx, `SELECT `+accountColumns+` FROM accounts WHERE code > $1 ORDER BY code LIMIT $2`,
		page.After, page.Limit)
}

func (r reader) accounts(ctx context.Context, query string, args ...any) ([]*ledger.Account, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query accounts: %w", err)
	}
	defer rows.Close()
	var out []*ledger.Account
	for rows.Next() {
		var a ledger.Account
		var typ int
		var created int64
		if err := rows.Scan(&a.Code, &a.DisplayName, &typ, &a.CurrencyCode, &created); err != nil {
			return nil, fmt.Errorf("scan account: %w", err)
		}
		a.Type = ledger.AccountType(typ)
		a.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	return out, nil
}
