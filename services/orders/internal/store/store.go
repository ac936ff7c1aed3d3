// Package store is the SQL adapter of the orders service, for SQLite and
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
	"trueup.dev/platform/inbox"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
)

//go:embed migrations
var migrations embed.FS

// MigrationsTable records the version of the orders schema, apart from the
// platform's own migration sets in the same database.
const MigrationsTable = "orders_schema_migrations"

// schema is the orders database: the platform's outbox, idempotency and inbox
// tables, then the orders migrations.
var schema = storetx.Schema{Name: "orders", Files: migrations, Dir: "migrations", Table: MigrationsTable, Inbox: true}

// Migrate brings the orders schema, and the platform tables it uses (outbox,
// idempotency keys, inbox), up to date.
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

// InInbox runs fn in the inbox transaction of one event (see platform/inbox).
func (s *Store) InInbox(ctx context.Context, consumer, eventID string, fn func(tx app.Tx) error) (bool, error) {
	return inbox.Process(ctx, s.db, consumer, eventID, func(t *sqldb.Tx) error {
		return fn(s.wrap(t))
	})
}

func (s *Store) wrap(t *sqldb.Tx) *tx {
	st := s.tx.Wrap(t)
	return &tx{reader: reader{q: st}, Tx: st}
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

func (t *tx) PutCatalogItem(ctx context.Context, it *orders.CatalogItem) error {
	// The WHERE makes the version rule hold even against a concurrent writer
	// (another replica handling a newer event for the same item).
	res, err := t.Tx.ExecContext(ctx, `INSERT INTO catalog_items (sku, description, base_uom, source_version, updated_at, uom_factors, whole_units_only)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (sku) DO UPDATE SET
			description = excluded.description,
			base_uom = excluded.base_uom,
			uom_factors = excluded.uom_factors,
			whole_units_only = excluded.whole_units_only,
			source_version = excluded.source_version,
			updated_at = excluded.updated_at
		WHERE catalog_items.source_version < excluded.source_version`,
		it.SKU, it.Description, it.BaseUoM, it.SourceVersion, it.UpdatedAt.UnixMicro(), encodeUoMs(it.UoMs), it.WholeUnitsOnly)
	if err != nil {
		return fmt.Errorf("put catalog item %s: %w", it.SKU, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err // a newer copy is held: its codes stay
	}
	return t.replaceCodes(ctx, it)
}

// reader runs queries on the pool or inside a transaction.
type reader struct{ q querier }

const catalogColumns = `sku, description, base_uom, source_version, updated_at, uom_factors, whole_units_only`

func (r reader) GetCatalogItem(ctx context.Context, sku string) (*orders.CatalogItem, error) {
	items, err := r.catalogItems(ctx, `SELECT `+catalogColumns+` FROM catalog_items WHERE sku = $1`, sku)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, apperr.NotFound("catalog item", sku)
	}
	return items[0], nil
}

func (r reader) ListCatalogItems(ctx context.Context, page paging.Page) ([]*orders.CatalogItem, error) {
	return r.catalogItems(ctx, `SELECT `+catalogColumns+` FROM catalog_items WHERE sku > $1 ORDER BY sku LIMIT $2`,
		page.After, page.Limit)
}

func (r reader) catalogItems(ctx context.Context, query string, args ...any) ([]*orders.CatalogItem, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query catalog items: %w", err)
	}
	defer rows.Close()
	var out []*orders.CatalogItem
	for rows.Next() {
		var it orders.CatalogItem
		var updated int64
		var uoms string
		if err := rows.Scan(&it.SKU, &it.Description, &it.BaseUoM, &it.SourceVersion, &updated, &uoms, &it.WholeUnitsOnly); err != nil {
			return nil, fmt.Errorf("scan catalog item: %w", err)
		}
		it.UpdatedAt = time.UnixMicro(updated).UTC()
		it.UoMs = decodeUoMs(uoms)
		out = append(out, &it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read catalog items: %w", err)
	}
	return out, nil
}
