// Package store is the SQL adapter of the fulfillment service, for SQLite and
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
	"trueup.dev/platform/idempotency"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

//go:embed migrations
var migrations embed.FS

// MigrationsTable records the version of the fulfillment schema, apart from the
// platform's own migration sets in the same database.
const MigrationsTable = "fulfillment_schema_migrations"

// schema is the fulfillment database: the platform tables its transactions write
// (outbox, idempotency keys, inbox) and its own set.
var schema = storetx.Schema{Name: "fulfillment", Files: migrations, Dir: "migrations", Table: MigrationsTable, Inbox: true}

// Migrate brings the fulfillment schema, and the platform tables it uses
// (outbox, idempotency keys, inbox), up to date.
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

// Querier reads committed state outside any transaction.
func (s *Store) Querier() idempotency.Querier { return s.db }

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

func (t *tx) InsertCarrier(ctx context.Context, c *fulfillment.Carrier) error {
	_, err := t.Tx.ExecContext(ctx,
		`INSERT INTO carriers (code, display_name, tracking_url_template, created_at) VALUES ($1, $2, $3, $4)`,
		c.Code, c.DisplayName, c.TrackingURLTemplate, c.CreatedAt.UnixMicro())
	if sqldb.IsUniqueViolation(err) {
		return apperr.AlreadyExists("carrier", c.Code, "")
	}
	if err != nil {
		return fmt.Errorf("insert carrier %s: %w", c.Code, err)
	}
	return nil
}

// reader runs queries on the pool or inside a transaction.
type reader struct{ q querier }

const carrierColumns = `code, display_name, tracking_url_template, created_at`

func (r reader) GetCarrier(ctx context.Context, code string) (*fulfillment.Carrier, error) {
	cs, err := r.carriers(ctx, `SELECT `+carrierColumns+` FROM carriers WHERE code = $1`, code)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, apperr.NotFound("carrier", code)
	}
	return cs[0], nil
}

func (r reader) ListCarriers(ctx context.Context, page paging.Page) ([]*fulfillment.Carrier, error) {
	return r.carriers(ctx, `SELECT `+carrierColumns+` FROM carriers WHERE code > $1 ORDER BY code LIMIT $2`,
		page.After, page.Limit)
}

func (r reader) carriers(ctx context.Context, query string, args ...any) ([]*fulfillment.Carrier, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query carriers: %w", err)
	}
	defer rows.Close()
	var out []*fulfillment.Carrier
	for rows.Next() {
		var c fulfillment.Carrier
		var created int64
		if err := rows.Scan(&c.Code, &c.DisplayName, &c.TrackingURLTemplate, &created); err != nil {
			return nil, fmt.Errorf("scan carrier: %w", err)
		}
		c.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, &c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read carriers: %w", err)
	}
	return out, nil
}
