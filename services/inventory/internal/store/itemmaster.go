package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/inventory/internal/inventory"
)

func (r reader) LookupItemCode(ctx context.Context, c inventory.ItemCode) (string, error) {
	var sku string
	err := r.q.QueryRowContext(ctx,
		`SELECT sku FROM item_codes WHERE namespace = $1 AND partner = $2 AND code = $3`,
		int(c.Namespace), c.Partner, c.Code).Scan(&sku)
	if errors.Is(err, sql.ErrNoRows) {
		return "", apperr.NotFound("item code", codeLabel(c))
	}
	if err != nil {
		return "", fmt.Errorf("look up item code %s: %w", codeLabel(c), err)
	}
	return sku, nil
}

// AllItems reads the item master in three queries (items, conversions, codes)
// rather than two per item: an audit of tens of thousands of items must not
// make a hundred thousand round trips.
func (r reader) AllItems(ctx context.Context) ([]*inventory.Item, error) {
	items, err := r.itemHeads(ctx, `SELECT `+itemColumns+` FROM items ORDER BY sku`)
	if err != nil {
		return nil, err
	}
	bySKU := make(map[string]*inventory.Item, len(items))
	for _, it := range items {
		bySKU[it.SKU] = it
	}
	err = r.each(ctx, func(rows *sql.Rows) error {
		var sku string
		var c inventory.UoMConversion
		if err := rows.Scan(&sku, &c.UoM, &c.Factor); err != nil {
			return fmt.Errorf("scan uom: %w", err)
		}
		if it := bySKU[sku]; it != nil {
			it.Conversions = append(it.Conversions, c)
		}
		return nil
	}, `SELECT sku, uom, factor FROM item_uoms ORDER BY sku, uom`)
	if err != nil {
		return nil, err
	}
	err = r.each(ctx, func(rows *sql.Rows) error {
		var sku string
		var ns int
		var c inventory.ItemCode
		if err := rows.Scan(&sku, &ns, &c.Partner, &c.Code, &c.UoM); err != nil {
			return fmt.Errorf("scan code: %w", err)
		}
		c.Namespace = inventory.CodeNamespace(ns)
		if it := bySKU[sku]; it != nil {
			it.Codes = append(it.Codes, c)
		}
		return nil
	}, `SELECT sku, namespace, partner, code, uom FROM item_codes ORDER BY sku, namespace, partner, code`)
	if err != nil {
		return nil, err
	}
	return items, nil
}

// each runs a query and calls fn for every row.
func (r reader) each(ctx context.Context, fn func(*sql.Rows) error, query string, args ...any) error {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read rows: %w", err)
	}
	return nil
}

// allocationActive is inventory.AllocActive as stored in allocations.state.
var allocationActive = int(inventory.AllocActive)

// AuditStockFacts aggregates in SQL: the audit needs per item × unit and per
// item × warehouse (× location) totals, not the rows. SUMs are cast to BIGINT
// because PostgreSQL sums a BIGINT column as NUMERIC.
func (r reader) AuditStockFacts(ctx context.Context) (inventory.StockFacts, error) {
	var f inventory.StockFacts
	err := r.each(ctx, func(rows *sql.Rows) error {
		var u inventory.UoMUse
		if err := rows.Scan(&u.SKU, &u.UoM, &u.OpenAllocations); err != nil {
			return fmt.Errorf("scan allocation units: %w", err)
		}
		f.UoMUses = append(f.UoMUses, u)
		return nil
	}, `SELECT sku, requested_uom, COUNT(*) FROM allocations WHERE state = $1 GROUP BY sku, requested_uom ORDER BY sku, requested_uom`,
		allocationActive)
	if err != nil {
		return f, err
	}
	err = r.each(ctx, func(rows *sql.Rows) error {
		var u inventory.UoMUse
		if err := rows.Scan(&u.SKU, &u.UoM, &u.Movements); err != nil {
			return fmt.Errorf("scan movement units: %w", err)
		}
		f.UoMUses = append(f.UoMUses, u)
		return nil
	}, `SELECT sku, entered_uom, COUNT(*) FROM movements GROUP BY sku, entered_uom ORDER BY sku, entered_uom`)
	if err != nil {
		return f, err
	}

	type key struct{ sku, warehouse string }
	value := map[key]int64{}
	err = r.each(ctx, func(rows *sql.Rows) error {
		var k key
		var v int64
		if err := rows.Scan(&k.warehouse, &k.sku, &v); err != nil {
			return fmt.Errorf("scan layer value: %w", err)
		}
		value[k] = v
		return nil
	}, `SELECT warehouse, sku, CAST(SUM(value_remaining) AS BIGINT) FROM cost_layers GROUP BY warehouse, sku`)
	if err != nil {
		return f, err
	}
	err = r.each(ctx, func(rows *sql.Rows) error {
		var v inventory.StockValue
		var onHand int64
		if err := rows.Scan(&v.Warehouse, &v.SKU, &onHand); err != nil {
			return fmt.Errorf("scan stock: %w", err)
		}
		v.OnHand, v.Value = inventory.Qty(onHand), value[key{v.SKU, v.Warehouse}]
		f.Values = append(f.Values, v)
		return nil
	}, `SELECT warehouse, sku, CAST(SUM(on_hand) AS BIGINT) FROM stock_levels
		GROUP BY warehouse, sku HAVING SUM(on_hand) > 0 ORDER BY warehouse, sku`)
	if err != nil {
		return f, err
	}
	// Per level, not per sum: a lot at +5 and another at -5 are both stale.
	err = r.each(ctx, func(rows *sql.Rows) error {
		var b inventory.BlockedStock
		var onHand int64
		if err := rows.Scan(&b.SKU, &b.Warehouse, &b.Location, &onHand); err != nil {
			return fmt.Errorf("scan blocked stock: %w", err)
		}
		b.OnHand = inventory.Qty(onHand)
		f.Blocked = append(f.Blocked, b)
		return nil
	}, `SELECT s.sku, s.warehouse, s.location, CAST(SUM(s.on_hand) AS BIGINT)
		FROM stock_levels s JOIN locations l ON l.warehouse = s.warehouse AND l.code = s.location
		WHERE l.blocked AND s.on_hand <> 0
		GROUP BY s.sku, s.warehouse, s.location ORDER BY s.sku, s.warehouse, s.location`)
	if err != nil {
		return f, err
	}
	return f, nil
}

// ItemUsage reads the item's stock levels and the units of its active
// allocations. Stock levels carry no unit (they are in base units), so units
// in use are known from open allocations only.
func (r reader) ItemUsage(ctx context.Context, sku string) (inventory.ItemUsage, error) {
	var u inventory.ItemUsage
	err := r.each(ctx, func(rows *sql.Rows) error {
		var uom string
		if err := rows.Scan(&uom); err != nil {
			return fmt.Errorf("scan allocation unit: %w", err)
		}
		u.OpenAllocationUoMs = append(u.OpenAllocationUoMs, uom)
		return nil
	}, `SELECT DISTINCT requested_uom FROM allocations WHERE sku = $1 AND state = $2 ORDER BY requested_uom`, sku, allocationActive)
	if err != nil {
		return u, err
	}
	err = r.each(ctx, func(rows *sql.Rows) error {
		var q int64
		if err := rows.Scan(&q); err != nil {
			return fmt.Errorf("scan stock level: %w", err)
		}
		qty := inventory.Qty(q)
		u.HasStock = true
		u.HasNegativeStock = u.HasNegativeStock || qty < 0
		u.HasFractionalStock = u.HasFractionalStock || !qty.IsWhole()
		return nil
	}, `SELECT on_hand FROM stock_levels WHERE sku = $1 AND on_hand <> 0`, sku)
	return u, err
}

func (t *tx) UpdateItem(ctx context.Context, it *inventory.Item, prevVersion int64) error {
	for i, c := range it.Codes {
		holder, err := t.LookupItemCode(ctx, c)
		if errors.Is(err, apperr.ErrNotFound) || holder == it.SKU {
			continue
		}
		if err != nil {
			return err
		}
		e := apperr.AlreadyExists("item code", codeLabel(c), "items/"+holder)
		e.Violations = []apperr.Violation{apperr.Field(fmt.Sprintf("item.codes[%d].code", i), "already mapped to items/"+holder)}
		return e
	}
	// The version in the WHERE clause is the optimistic lock: on PostgreSQL a
	// concurrent update of the row waits here, then matches nothing.
	res, err := t.Tx.ExecContext(ctx, `UPDATE items SET description = $1, whole_units_only = $2, tracking = $3,
		expiry_required = $4, cost_method = $5, status = $6, version = $7, updated_at = $8, allow_negative = $9
		WHERE sku = $10 AND version = $11`,
		it.Description, it.WholeUnitsOnly, int(it.Tracking), it.ExpiryRequired, int(it.CostMethod), int(it.Status),
		it.Version, it.UpdatedAt.UnixMicro(), it.AllowNegative, it.SKU, prevVersion)
	if err != nil {
		return fmt.Errorf("update item %s: %w", it.SKU, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update item %s: %w", it.SKU, err)
	} else if n == 0 {
		if _, err := t.GetItem(ctx, it.SKU); err != nil {
			return err
		}
		return apperr.Conflict(fmt.Sprintf("item %s was changed concurrently: read it again", it.SKU), nil)
	}
	if _, err := t.Tx.ExecContext(ctx, `DELETE FROM item_uoms WHERE sku = $1`, it.SKU); err != nil {
		return fmt.Errorf("replace uoms of item %s: %w", it.SKU, err)
	}
	for _, c := range it.Conversions {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO item_uoms (sku, uom, factor) VALUES ($1, $2, $3)`,
			it.SKU, c.UoM, c.Factor); err != nil {
			return fmt.Errorf("insert uom %s of item %s: %w", c.UoM, it.SKU, err)
		}
	}
	if _, err := t.Tx.ExecContext(ctx, `DELETE FROM item_codes WHERE sku = $1`, it.SKU); err != nil {
		return fmt.Errorf("replace codes of item %s: %w", it.SKU, err)
	}
	for _, c := range it.Codes {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO item_codes (namespace, partner, code, sku, uom) VALUES ($1, $2, $3, $4, $5)`,
			int(c.Namespace), c.Partner, c.Code, it.SKU, c.UoM); err != nil {
			if sqldb.IsUniqueViolation(err) {
				// A concurrent create or update took the code after the check:
				// safe to retry, and the retry names the holder.
				return apperr.Conflict("item code was mapped concurrently", err)
			}
			return fmt.Errorf("insert code %s of item %s: %w", c.Code, it.SKU, err)
		}
	}
	return nil
}

// insertParams bounds the bind parameters of one multi-row INSERT. Both
// dialects allow far more, but SQLite (modernc) binds in time that grows
// faster than the parameter count: a few hundred per statement measured
// fastest on both.
const insertParams = 400

func (t *tx) InsertItems(ctx context.Context, items []*inventory.Item) error {
	var heads, uoms, codes [][]any
	for _, it := range items {
		heads = append(heads, []any{it.SKU, it.Description, it.BaseUoM, it.WholeUnitsOnly, int(it.Tracking), it.ExpiryRequired,
			int(it.CostMethod), int(it.Status), it.Version, it.CreatedAt.UnixMicro(), it.UpdatedAt.UnixMicro(), it.AllowNegative})
		for _, c := range it.Conversions {
			uoms = append(uoms, []any{it.SKU, c.UoM, c.Factor})
		}
		for _, c := range it.Codes {
			codes = append(codes, []any{int(c.Namespace), c.Partner, c.Code, it.SKU, c.UoM})
		}
	}
	for _, batch := range []struct {
		table, columns string
		rows           [][]any
	}{
		{"items", `sku, description, base_uom, whole_units_only, tracking, expiry_required, cost_method, status, version, created_at, updated_at, allow_negative`, heads},
		{"item_uoms", `sku, uom, factor`, uoms},
		{"item_codes", `namespace, partner, code, sku, uom`, codes},
	} {
		if err := t.insertRows(ctx, batch.table, batch.columns, batch.rows); err != nil {
			if sqldb.IsUniqueViolation(err) {
				// Validation saw the item master of this transaction; only a
				// concurrent create gets here, and a retry reports it as a clash.
				return apperr.Conflict("an item or code of the import was created concurrently", err)
			}
			return err
		}
	}
	return nil
}

// insertRows inserts rows in chunks of multi-row INSERTs.
func (t *tx) insertRows(ctx context.Context, table, columns string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	per := max(1, insertParams/len(rows[0]))
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		var sb strings.Builder
		args := make([]any, 0, len(chunk)*len(chunk[0]))
		sb.WriteString("INSERT INTO " + table + " (" + columns + ") VALUES ")
		for i, r := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for j, v := range r {
				if j > 0 {
					sb.WriteString(", ")
				}
				args = append(args, v)
				sb.WriteString("$" + strconv.Itoa(len(args)))
			}
			sb.WriteByte(')')
		}
		if _, err := t.Tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("insert %d rows into %s: %w", len(chunk), table, err)
		}
	}
	return nil
}
