package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/inbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
)

// InInboxBatch applies a batch of events in one transaction (inbox.ProcessBatch):
// each delivery's effect runs once per event id, however often it is delivered.
func (s *Store) InInboxBatch(ctx context.Context, consumer string, batch []app.Delivery) ([]inbox.Outcome, error) {
	ds := make([]inbox.Delivery, len(batch))
	for i, d := range batch {
		ds[i] = inbox.Delivery{EventID: d.EventID, Apply: func(t *sqldb.Tx) error { return d.Apply(s.wrap(t)) }}
	}
	return inbox.ProcessBatch(ctx, s.db, consumer, ds)
}

func (t *tx) InsertPurchaseOrder(ctx context.Context, po *orders.PurchaseOrder) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO purchase_orders (id, supplier_code, currency_code, partner, state,
		tolerance_percent, total_minor, created_at, updated_at, released_at, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		po.ID, po.Supplier, po.Currency, po.Partner, po.State.String(), po.TolerancePercent, po.Total(),
		po.CreatedAt.UnixMicro(), po.UpdatedAt.UnixMicro(), micros(po.ReleasedAt), po.Version)
	if sqldb.IsUniqueViolation(err) {
		return apperr.AlreadyExists("purchase order", po.ID, "")
	}
	if err != nil {
		return fmt.Errorf("insert purchase order %s: %w", po.ID, err)
	}
	for _, l := range po.Lines {
		_, err := t.Tx.ExecContext(ctx, `INSERT INTO purchase_order_lines (purchase_order_id, line_number, sku, base_uom,
			quantity, uom, factor, base_qty, unit_price, amount_minor, warehouse, expected_date, tolerance_percent,
			received_qty, cancelled_qty, accepted_up_to, received_value_minor, billed_qty, billed_value_minor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
			po.ID, l.Number, l.SKU, l.BaseUoM, l.Quantity, l.UoM, l.Factor, int64(l.BaseQty), l.UnitPrice, l.Amount,
			l.Warehouse, l.ExpectedDate, l.TolerancePercent, int64(l.Received), int64(l.Cancelled), int64(l.AcceptedUpTo),
			l.ReceivedValue, int64(l.BilledQty), l.BilledValue)
		if err != nil {
			return fmt.Errorf("insert purchase order %s line %d: %w", po.ID, l.Number, err)
		}
	}
	return nil
}

// LockPurchaseOrder loads an order for a change. The no-op update takes the
// row's write lock first (PostgreSQL; SQLite write transactions are serial),
// so two changes of one order queue instead of one failing at save.
func (t *tx) LockPurchaseOrder(ctx context.Context, id string) (*orders.PurchaseOrder, error) {
	if _, err := t.Tx.ExecContext(ctx, `UPDATE purchase_orders SET version = version WHERE id = $1`, id); err != nil {
		return nil, fmt.Errorf("lock purchase order %s: %w", id, err)
	}
	return t.GetPurchaseOrder(ctx, id)
}

func (t *tx) SavePurchaseOrder(ctx context.Context, po *orders.PurchaseOrder, loadedVersion int64) error {
	res, err := t.Tx.ExecContext(ctx, `UPDATE purchase_orders SET state = $1, total_minor = $2, updated_at = $3,
		released_at = $4, version = $5, received_at = $6, billed_at = $7, paid_at = $8 WHERE id = $9 AND version = $10`,
		po.State.String(), po.Total(), po.UpdatedAt.UnixMicro(), micros(po.ReleasedAt), po.Version,
		micros(po.ReceivedAt), micros(po.BilledAt), micros(po.PaidAt), po.ID, loadedVersion)
	if err != nil {
		return fmt.Errorf("save purchase order %s: %w", po.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return apperr.Conflict(fmt.Sprintf("purchase order %s changed concurrently", po.ID), err)
	}
	for _, l := range po.Lines {
		var ret orders.PendingReturn
		if l.Return != nil {
			ret = *l.Return
		}
		_, err := t.Tx.ExecContext(ctx, `UPDATE purchase_order_lines SET quantity = $1, base_qty = $2, amount_minor = $3,
			received_qty = $4, cancelled_qty = $5, accepted_up_to = $6, received_value_minor = $7, billed_qty = $8,
			billed_value_minor = $9, receipt_location = $10, receipt_lot = $11, returned_qty = $12, return_discrepancy = $13,
			return_qty = $14, return_location = $15, return_lot = $16, return_started_at = $17
			WHERE purchase_order_id = $18 AND line_number = $19`,
			l.Quantity, int64(l.BaseQty), l.Amount, int64(l.Received), int64(l.Cancelled), int64(l.AcceptedUpTo),
			l.ReceivedValue, int64(l.BilledQty), l.BilledValue, l.ReceiptLocation, l.ReceiptLot, int64(l.Returned),
			ret.Discrepancy, int64(ret.Qty), ret.Location, ret.Lot, micros(ret.StartedAt), po.ID, l.Number)
		if err != nil {
			return fmt.Errorf("save purchase order %s line %d: %w", po.ID, l.Number, err)
		}
		// Resolutions are never changed, only added.
		for _, r := range l.Resolutions {
			_, err := t.Tx.ExecContext(ctx, `INSERT INTO purchase_order_resolutions (purchase_order_id, line_number, discrepancy,
				resolution, quantity, movement, resolved_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
				po.ID, l.Number, r.Number, r.How.String(), int64(r.Qty), r.Movement, r.At.UnixMicro())
			if err != nil {
				return fmt.Errorf("save purchase order %s line %d resolution %d: %w", po.ID, l.Number, r.Number, err)
			}
		}
	}
	return nil
}

// RecordReturnMovement inserts the movement's row unless it is there.
func (t *tx) RecordReturnMovement(ctx context.Context, order string, line int, movement string, qty orders.Qty, value int64, at time.Time) (bool, error) {
	res, err := t.Tx.ExecContext(ctx, `INSERT INTO purchase_order_returns (purchase_order_id, movement, line_number, quantity,
		value_minor, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		order, movement, line, int64(qty), value, at.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("record return %s of purchase order %s: %w", movement, order, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record return %s of purchase order %s: %w", movement, order, err)
	}
	return n == 1, nil
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

const poColumns = `id, supplier_code, currency_code, partner, state, tolerance_percent, created_at, updated_at, released_at, version,
	received_at, billed_at, paid_at`

func (r reader) GetPurchaseOrder(ctx context.Context, id string) (*orders.PurchaseOrder, error) {
	pos, err := r.purchaseOrders(ctx, `SELECT `+poColumns+` FROM purchase_orders WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(pos) == 0 {
		return nil, apperr.NotFound("purchase order", id)
	}
	return pos[0], nil
}

// ListPurchaseOrders pages in id order (ids are UUIDv7, so roughly creation
// order). Every filter is a bound parameter; an unset one matches all.
func (r reader) ListPurchaseOrders(ctx context.Context, f app.POFilter, page paging.Page) ([]*orders.PurchaseOrder, error) {
	var where []string
	args := []any{page.After}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.State != 0 {
		add("state = $%d", f.State.String())
	}
	if f.Supplier != "" {
		add("supplier_code = $%d", f.Supplier)
	}
	if f.Partner != nil {
		add("partner = $%d", *f.Partner)
	}
	if !f.CreatedFrom.IsZero() {
		add("created_at >= $%d", f.CreatedFrom.UnixMicro())
	}
	if !f.CreatedBefore.IsZero() {
		add("created_at < $%d", f.CreatedBefore.UnixMicro())
	}
	q := `SELECT ` + poColumns + ` FROM purchase_orders WHERE id > $1`
	for _, w := range where {
		q += " AND " + w
	}
	args = append(args, page.Limit)
	q += fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args))
	return r.purchaseOrders(ctx, q, args...)
}

func (r reader) purchaseOrders(ctx context.Context, query string, args ...any) ([]*orders.PurchaseOrder, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query purchase orders: %w", err)
	}
	var out []*orders.PurchaseOrder
	for rows.Next() {
		var po orders.PurchaseOrder
		var state string
		var created, updated, released, received, billed, paid int64
		if err := rows.Scan(&po.ID, &po.Supplier, &po.Currency, &po.Partner, &state, &po.TolerancePercent,
			&created, &updated, &released, &po.Version, &received, &billed, &paid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan purchase order: %w", err)
		}
		var ok bool
		if po.State, ok = orders.ParsePOState(state); !ok {
			rows.Close()
			return nil, fmt.Errorf("purchase order %s: unknown state %q", po.ID, state)
		}
		po.CreatedAt, po.UpdatedAt, po.ReleasedAt = fromMicros(created), fromMicros(updated), fromMicros(released)
		po.ReceivedAt, po.BilledAt, po.PaidAt = fromMicros(received), fromMicros(billed), fromMicros(paid)
		out = append(out, &po)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, fmt.Errorf("read purchase orders: %w", err)
	}
	rows.Close()
	// Lines are read after the orders' rows are closed: a transaction (one
	// connection) cannot run a second query while the first is open.
	for _, po := range out {
		if po.Lines, err = r.lines(ctx, po.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r reader) lines(ctx context.Context, id string) ([]orders.POLine, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT line_number, sku, base_uom, quantity, uom, factor, base_qty, unit_price,
		amount_minor, warehouse, expected_date, tolerance_percent, received_qty, cancelled_qty, accepted_up_to,
		received_value_minor, billed_qty, billed_value_minor, receipt_location, receipt_lot, returned_qty,
		return_discrepancy, return_qty, return_location, return_lot, return_started_at
		FROM purchase_order_lines WHERE purchase_order_id = $1 ORDER BY line_number`, id)
	if err != nil {
		return nil, fmt.Errorf("query purchase order %s lines: %w", id, err)
	}
	var out []orders.POLine
	for rows.Next() {
		var l orders.POLine
		var base, received, cancelled, accepted, billed, returned, returning, started int64
		var ret orders.PendingReturn
		if err := rows.Scan(&l.Number, &l.SKU, &l.BaseUoM, &l.Quantity, &l.UoM, &l.Factor, &base, &l.UnitPrice,
			&l.Amount, &l.Warehouse, &l.ExpectedDate, &l.TolerancePercent, &received, &cancelled, &accepted,
			&l.ReceivedValue, &billed, &l.BilledValue, &l.ReceiptLocation, &l.ReceiptLot, &returned,
			&ret.Discrepancy, &returning, &ret.Location, &ret.Lot, &started); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan purchase order %s line: %w", id, err)
		}
		l.BaseQty, l.Received, l.Cancelled, l.AcceptedUpTo = orders.Qty(base), orders.Qty(received), orders.Qty(cancelled), orders.Qty(accepted)
		l.BilledQty, l.Returned = orders.Qty(billed), orders.Qty(returned)
		if ret.Discrepancy != 0 {
			ret.Qty, ret.StartedAt = orders.Qty(returning), fromMicros(started)
			l.Return = &ret
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, fmt.Errorf("read purchase order %s lines: %w", id, err)
	}
	rows.Close()
	if err := r.resolutions(ctx, id, out); err != nil {
		return nil, err
	}
	return out, nil
}

// resolutions reads the order's resolved discrepancies into its lines, in
// number order.
func (r reader) resolutions(ctx context.Context, id string, lines []orders.POLine) error {
	rows, err := r.q.QueryContext(ctx, `SELECT line_number, discrepancy, resolution, quantity, movement, resolved_at
		FROM purchase_order_resolutions WHERE purchase_order_id = $1 ORDER BY line_number, discrepancy`, id)
	if err != nil {
		return fmt.Errorf("query purchase order %s resolutions: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var line int
		var how string
		var qty, at int64
		var res orders.ResolvedDiscrepancy
		if err := rows.Scan(&line, &res.Number, &how, &qty, &res.Movement, &at); err != nil {
			return fmt.Errorf("scan purchase order %s resolution: %w", id, err)
		}
		var ok bool
		if res.How, ok = orders.ParseResolution(how); !ok {
			return fmt.Errorf("purchase order %s line %d: unknown resolution %q", id, line, how)
		}
		res.Qty, res.At = orders.Qty(qty), time.UnixMicro(at).UTC()
		if line < 1 || line > len(lines) {
			return fmt.Errorf("purchase order %s: resolution of unknown line %d", id, line)
		}
		lines[line-1].Resolutions = append(lines[line-1].Resolutions, res)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read purchase order %s resolutions: %w", id, err)
	}
	return nil
}

// encodeUoMs and decodeUoMs keep a catalog item's units in one column.
func encodeUoMs(us []orders.UoMFactor) string {
	parts := make([]string, len(us))
	for i, u := range us {
		parts[i] = u.UoM + "=" + u.Factor
	}
	return strings.Join(parts, ";")
}

func decodeUoMs(s string) []orders.UoMFactor {
	if s == "" {
		return nil
	}
	var out []orders.UoMFactor
	for _, p := range strings.Split(s, ";") {
		if u, f, ok := strings.Cut(p, "="); ok {
			out = append(out, orders.UoMFactor{UoM: u, Factor: f})
		}
	}
	return out
}

// replaceCodes makes the item's cross-references those of the copy just
// stored. A code another item held moves to this one: the copy stored is the
// newer fact.
func (t *tx) replaceCodes(ctx context.Context, it *orders.CatalogItem) error {
	if _, err := t.Tx.ExecContext(ctx, `DELETE FROM catalog_item_codes WHERE sku = $1`, it.SKU); err != nil {
		return fmt.Errorf("replace codes of catalog item %s: %w", it.SKU, err)
	}
	for _, c := range it.Codes {
		_, err := t.Tx.ExecContext(ctx, `INSERT INTO catalog_item_codes (namespace, partner, code, sku) VALUES ($1, $2, $3, $4)
			ON CONFLICT (namespace, partner, code) DO UPDATE SET sku = excluded.sku`, c.Namespace, c.Partner, c.Code, it.SKU)
		if err != nil {
			return fmt.Errorf("put code %s/%s/%s of catalog item %s: %w", c.Namespace, c.Partner, c.Code, it.SKU, err)
		}
	}
	return nil
}

func (r reader) ResolveItemCode(ctx context.Context, namespace, partner, code string) (string, error) {
	var sku string
	err := r.q.QueryRowContext(ctx, `SELECT sku FROM catalog_item_codes WHERE namespace = $1 AND partner = $2 AND code = $3`,
		namespace, partner, code).Scan(&sku)
	if errors.Is(err, sql.ErrNoRows) {
		return "", apperr.NotFound("item code", namespace+"/"+partner+"/"+code)
	}
	if err != nil {
		return "", fmt.Errorf("resolve item code %s/%s/%s: %w", namespace, partner, code, err)
	}
	return sku, nil
}
