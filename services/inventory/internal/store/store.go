// Package store is the SQL adapter of the inventory service, for SQLite and
// PostgreSQL alike ($n placeholders work on both drivers). Timestamps are unix
// microseconds in BIGINT columns.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

//go:embed migrations
var migrations embed.FS

// schema is the inventory database: the platform's outbox and idempotency
// tables, then the inventory migrations.
var schema = storetx.Schema{Name: "inventory", Files: migrations, Dir: "migrations", Table: "inventory_schema_migrations"}

// Migrate brings the inventory schema, and the platform tables it uses, up to date.
func Migrate(ctx context.Context, db *sqldb.DB) error { return schema.Migrate(ctx, db) }

// Store implements app.Store.
type Store struct {
	db *sqldb.DB
	tx *storetx.Runner
	reader
}

// New builds the store. Events emitted in a transaction are encoded and added to ob.
func New(db *sqldb.DB, ob *outbox.Outbox, encode storetx.Encoder) *Store {
	return &Store{db: db, tx: storetx.NewRunner(db, ob, encode), reader: reader{q: db, dialect: db.Dialect}}
}

// InTx runs fn in one database transaction.
func (s *Store) InTx(ctx context.Context, fn func(tx app.Tx) error) error {
	return s.tx.Run(ctx, func(t *storetx.Tx) error {
		return fn(&tx{reader: reader{q: t, dialect: t.Dialect}, Tx: t})
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

func (t *tx) InsertItem(ctx context.Context, it *inventory.Item) error {
	if _, err := t.GetItem(ctx, it.SKU); err == nil {
		return apperr.AlreadyExists("item", it.SKU, "")
	} else if !errors.Is(err, apperr.ErrNotFound) {
		return err
	}
	for i, c := range it.Codes {
		var holder string
		err := t.Tx.QueryRowContext(ctx,
			`SELECT sku FROM item_codes WHERE namespace = $1 AND partner = $2 AND code = $3`,
			int(c.Namespace), c.Partner, c.Code).Scan(&holder)
		if err == nil {
			e := apperr.AlreadyExists("item code", codeLabel(c), "items/"+holder)
			e.Violations = []apperr.Violation{apperr.Field(fmt.Sprintf("item.codes[%d].code", i), "already mapped to items/"+holder)}
			return e
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check item code: %w", err)
		}
	}
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO items
		(sku, description, base_uom, whole_units_only, tracking, expiry_required, cost_method, status, version, created_at, updated_at, allow_negative)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		it.SKU, it.Description, it.BaseUoM, it.WholeUnitsOnly, int(it.Tracking), it.ExpiryRequired,
		int(it.CostMethod), int(it.Status), it.Version, it.CreatedAt.UnixMicro(), it.UpdatedAt.UnixMicro(), it.AllowNegative)
	if err != nil {
		if sqldb.IsUniqueViolation(err) {
			return apperr.AlreadyExists("item", it.SKU, "")
		}
		return fmt.Errorf("insert item %s: %w", it.SKU, err)
	}
	for _, c := range it.Conversions {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO item_uoms (sku, uom, factor) VALUES ($1, $2, $3)`,
			it.SKU, c.UoM, c.Factor); err != nil {
			return fmt.Errorf("insert uom %s of item %s: %w", c.UoM, it.SKU, err)
		}
	}
	for _, c := range it.Codes {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO item_codes (namespace, partner, code, sku, uom) VALUES ($1, $2, $3, $4, $5)`,
			int(c.Namespace), c.Partner, c.Code, it.SKU, c.UoM); err != nil {
			if sqldb.IsUniqueViolation(err) {
				// Lost a race with a concurrent create that took the code: safe to retry,
				// and the retry will name the holder.
				return apperr.Conflict("item code was mapped concurrently", err)
			}
			return fmt.Errorf("insert code %s of item %s: %w", c.Code, it.SKU, err)
		}
	}
	return nil
}

func codeLabel(c inventory.ItemCode) string {
	if c.Partner != "" {
		return c.Namespace.String() + ":" + c.Partner + ":" + c.Code
	}
	return c.Namespace.String() + ":" + c.Code
}

func (t *tx) InsertWarehouse(ctx context.Context, w *inventory.Warehouse) error {
	_, err := t.Tx.ExecContext(ctx,
		`INSERT INTO warehouses (code, display_name, time_zone, created_at) VALUES ($1, $2, $3, $4)`,
		w.Code, w.DisplayName, w.TimeZone, w.CreatedAt.UnixMicro())
	if sqldb.IsUniqueViolation(err) {
		return apperr.AlreadyExists("warehouse", w.Code, "")
	}
	if err != nil {
		return fmt.Errorf("insert warehouse %s: %w", w.Code, err)
	}
	return nil
}

func (t *tx) InsertLocation(ctx context.Context, l *inventory.Location) error {
	_, err := t.Tx.ExecContext(ctx,
		`INSERT INTO locations (warehouse, code, type, blocked, created_at) VALUES ($1, $2, $3, $4, $5)`,
		l.Warehouse, l.Code, int(l.Type), l.Blocked, l.CreatedAt.UnixMicro())
	if sqldb.IsUniqueViolation(err) {
		return apperr.AlreadyExists("location", l.Warehouse+"/"+l.Code, "")
	}
	if err != nil {
		return fmt.Errorf("insert location %s/%s: %w", l.Warehouse, l.Code, err)
	}
	return nil
}

func (t *tx) UpdateLocation(ctx context.Context, l *inventory.Location) error {
	if _, err := t.Tx.ExecContext(ctx, `UPDATE locations SET blocked = $1, type = $2 WHERE warehouse = $3 AND code = $4`,
		l.Blocked, int(l.Type), l.Warehouse, l.Code); err != nil {
		return fmt.Errorf("update location %s/%s: %w", l.Warehouse, l.Code, err)
	}
	return nil
}

// reader runs queries on the pool or inside a transaction.
type reader struct {
	q       querier
	dialect sqldb.Dialect
}

const itemColumns = `sku, description, base_uom, whole_units_only, tracking, expiry_required, cost_method, status, version, created_at, updated_at, allow_negative`

func (r reader) GetItem(ctx context.Context, sku string) (*inventory.Item, error) {
	items, err := r.items(ctx, `SELECT `+itemColumns+` FROM items WHERE sku = $1`, sku)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, apperr.NotFound("item", sku)
	}
	return items[0], nil
}

func (r reader) ListItems(ctx context.Context, page paging.Page) ([]*inventory.Item, error) {
	return r.items(ctx, `SELECT `+itemColumns+` FROM items WHERE sku > $1 ORDER BY sku LIMIT $2`, page.After, page.Limit)
}

func (r reader) items(ctx context.Context, query string, args ...any) ([]*inventory.Item, error) {
	out, err := r.itemHeads(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	for _, it := range out {
		if err := r.loadDetails(ctx, it); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// itemHeads reads items (selected as itemColumns) without their conversions
// and codes.
func (r reader) itemHeads(ctx context.Context, query string, args ...any) ([]*inventory.Item, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query items: %w", err)
	}
	var out []*inventory.Item
	for rows.Next() {
		var (
			it                           inventory.Item
			tracking, costMethod, status int
			created, updated             int64
		)
		if err := rows.Scan(&it.SKU, &it.Description, &it.BaseUoM, &it.WholeUnitsOnly, &tracking, &it.ExpiryRequired,
			&costMethod, &status, &it.Version, &created, &updated, &it.AllowNegative); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan item: %w", err)
		}
		it.Tracking, it.CostMethod, it.Status = inventory.Tracking(tracking), inventory.CostMethod(costMethod), inventory.ItemStatus(status)
		it.CreatedAt, it.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
		out = append(out, &it)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	return out, nil
}

// loadDetails reads an item's conversions and codes. One query each per item is
// fine for pages of master data; a hot path would batch them.
func (r reader) loadDetails(ctx context.Context, it *inventory.Item) error {
	rows, err := r.q.QueryContext(ctx, `SELECT uom, factor FROM item_uoms WHERE sku = $1 ORDER BY uom`, it.SKU)
	if err != nil {
		return fmt.Errorf("query uoms of %s: %w", it.SKU, err)
	}
	for rows.Next() {
		var c inventory.UoMConversion
		if err := rows.Scan(&c.UoM, &c.Factor); err != nil {
			rows.Close()
			return fmt.Errorf("scan uom: %w", err)
		}
		it.Conversions = append(it.Conversions, c)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	rows, err = r.q.QueryContext(ctx, `SELECT namespace, partner, code, uom FROM item_codes WHERE sku = $1 ORDER BY namespace, partner, code`, it.SKU)
	if err != nil {
		return fmt.Errorf("query codes of %s: %w", it.SKU, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c inventory.ItemCode
		var ns int
		if err := rows.Scan(&ns, &c.Partner, &c.Code, &c.UoM); err != nil {
			return fmt.Errorf("scan code: %w", err)
		}
		c.Namespace = inventory.CodeNamespace(ns)
		it.Codes = append(it.Codes, c)
	}
	return rows.Err()
}

func (r reader) GetWarehouse(ctx context.Context, code string) (*inventory.Warehouse, error) {
	ws, err := r.warehouses(ctx, `SELECT code, display_name, time_zone, created_at FROM warehouses WHERE code = $1`, code)
	if err != nil {
		return nil, err
	}
	if len(ws) == 0 {
		return nil, apperr.NotFound("warehouse", code)
	}
	return ws[0], nil
}

func (r reader) ListWarehouses(ctx context.Context, page paging.Page) ([]*inventory.Warehouse, error) {
	return r.warehouses(ctx, `SELECT code, display_name, time_zone, created_at FROM warehouses WHERE code > $1 ORDER BY code LIMIT $2`, page.After, page.Limit)
}

func (r reader) warehouses(ctx context.Context, query string, args ...any) ([]*inventory.Warehouse, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query warehouses: %w", err)
	}
	defer rows.Close()
	var out []*inventory.Warehouse
	for rows.Next() {
		var w inventory.Warehouse
		var created int64
		if err := rows.Scan(&w.Code, &w.DisplayName, &w.TimeZone, &created); err != nil {
			return nil, fmt.Errorf("scan warehouse: %w", err)
		}
		w.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, &w)
	}
	return out, rows.Err()
}

func (r reader) GetLocation(ctx context.Context, warehouse, code string) (*inventory.Location, error) {
	ls, err := r.locations(ctx, `SELECT warehouse, code, type, blocked, created_at FROM locations WHERE warehouse = $1 AND code = $2`, warehouse, code)
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, apperr.NotFound("location", warehouse+"/"+code)
	}
	return ls[0], nil
}

func (r reader) ListLocations(ctx context.Context, warehouse string, page paging.Page) ([]*inventory.Location, error) {
	return r.locations(ctx, `SELECT warehouse, code, type, blocked, created_at FROM locations
		WHERE warehouse = $1 AND code > $2 ORDER BY code LIMIT $3`, warehouse, page.After, page.Limit)
}

func (r reader) locations(ctx context.Context, query string, args ...any) ([]*inventory.Location, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query locations: %w", err)
	}
	defer rows.Close()
	var out []*inventory.Location
	for rows.Next() {
		var l inventory.Location
		var typ int
		var created int64
		if err := rows.Scan(&l.Warehouse, &l.Code, &typ, &l.Blocked, &created); err != nil {
			return nil, fmt.Errorf("scan location: %w", err)
		}
		l.Type = inventory.LocationType(typ)
		l.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, &l)
	}
	return out, rows.Err()
}
