package store

import (
	"context"
	"fmt"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/inbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// InInboxBatch applies a batch of events in one transaction (inbox.ProcessBatch):
// each delivery's effect runs once per event id, however often it is delivered.
func (s *Store) InInboxBatch(ctx context.Context, consumer string, batch []app.Delivery) ([]inbox.Outcome, error) {
	ds := make([]inbox.Delivery, len(batch))
	for i, d := range batch {
		ds[i] = inbox.Delivery{EventID: d.EventID, Apply: func(t *sqldb.Tx) error {
			st := s.tx.Wrap(t)
			return d.Apply(&tx{reader: reader{q: st}, Tx: st})
		}}
	}
	return inbox.ProcessBatch(ctx, s.db, consumer, ds)
}

// InsertExpectedReceipt writes a receipt with its lines unless one with its
// id exists (the same release delivered again), and reports whether it did.
func (t *tx) InsertExpectedReceipt(ctx context.Context, r *fulfillment.ExpectedReceipt) (bool, error) {
	res, err := t.Tx.ExecContext(ctx, `INSERT INTO expected_receipts (id, purchase_order_id, supplier_code, warehouse,
		partner, state, expected_date, created_at, version, blind, reference, currency, tolerance_pct, updated_at, closed_at, cartons)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT DO NOTHING`,
		r.ID, r.PurchaseOrder, r.Supplier, r.Warehouse, r.Partner, r.State.String(), r.ExpectedDate(), r.CreatedAt.UnixMicro(), r.Version,
		r.Blind, r.Reference, r.Currency, r.TolerancePct, r.UpdatedAt.UnixMicro(), micros(r.ClosedAt), r.Cartons)
	if err != nil {
		return false, fmt.Errorf("insert expected receipt %s: %w", r.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	for _, l := range r.Lines {
		_, err := t.Tx.ExecContext(ctx, `INSERT INTO expected_receipt_lines (receipt_id, po_line, sku, quantity, uom,
			base_qty, base_uom, expected_date, unit_price, tolerance_pct, received_qty, damaged_qty, price_uom, lot, expiry)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			r.ID, l.POLine, l.SKU, l.Quantity, l.UoM, l.BaseQty, l.BaseUoM, l.ExpectedDate, l.UnitPrice, l.TolerancePct,
			int64(l.ReceivedQty), int64(l.DamagedQty), l.PriceUoM, l.Lot, l.Expiry)
		if err != nil {
			return false, fmt.Errorf("insert expected receipt %s line %d: %w", r.ID, l.POLine, err)
		}
	}
	if err := t.saveReceiving(ctx, r); err != nil {
		return false, err
	}
	return true, nil
}

// LockExpectedReceipt reads a receipt and, on PostgreSQL, locks its row until
// the transaction ends (SQLite's write transactions are serial already).
func (t *tx) LockExpectedReceipt(ctx context.Context, id string) (*fulfillment.ExpectedReceipt, error) {
	q := `SELECT ` + receiptColumns + ` FROM expected_receipts WHERE id = $1`
	if t.Tx.Dialect == sqldb.Postgres {
		q += ` FOR UPDATE`
	}
	rs, err := t.expectedReceipts(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, apperr.NotFound("expected receipt", id)
	}
	return rs[0], nil
}

// SaveExpectedReceipt writes a receipt read (and locked) at version prev: its
// header, its order lines' received quantities, and its received lines and
// discrepancies (upserted: lines and discrepancies are never removed).
func (t *tx) SaveExpectedReceipt(ctx context.Context, r *fulfillment.ExpectedReceipt, prev int64) error {
	res, err := t.Tx.ExecContext(ctx, `UPDATE expected_receipts SET state = $1, updated_at = $2, closed_at = $3, version = $4
		WHERE id = $5 AND version = $6`, r.State.String(), r.UpdatedAt.UnixMicro(), micros(r.ClosedAt), r.Version, r.ID, prev)
	if err != nil {
		return fmt.Errorf("update expected receipt %s: %w", r.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update expected receipt %s: %w", r.ID, err)
	} else if n == 0 {
		return apperr.Conflict(fmt.Sprintf("expected receipt %s changed concurrently; retry", r.ID), nil)
	}
	for _, l := range r.Lines {
		if _, err := t.Tx.ExecContext(ctx, `UPDATE expected_receipt_lines SET received_qty = $1, damaged_qty = $2
			WHERE receipt_id = $3 AND po_line = $4`, int64(l.ReceivedQty), int64(l.DamagedQty), r.ID, l.POLine); err != nil {
			return fmt.Errorf("update expected receipt %s line %d: %w", r.ID, l.POLine, err)
		}
	}
	return t.saveReceiving(ctx, r)
}

// saveReceiving upserts a receipt's received lines and discrepancies.
func (t *tx) saveReceiving(ctx context.Context, r *fulfillment.ExpectedReceipt) error {
	for _, l := range r.Received {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO received_lines (receipt_id, line_no, po_line, sku, code, quantity, uom,
			base_qty, lot, expiry, condition, location, state, movement, cost_amount, cost_currency, cost_uom, recorded_at, recorded_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
			ON CONFLICT (receipt_id, line_no) DO UPDATE SET quantity = excluded.quantity, uom = excluded.uom,
			base_qty = excluded.base_qty, lot = excluded.lot, expiry = excluded.expiry, location = excluded.location,
			state = excluded.state, movement = excluded.movement, cost_amount = excluded.cost_amount,
			cost_currency = excluded.cost_currency, cost_uom = excluded.cost_uom`,
			r.ID, l.Number, l.POLine, l.SKU, l.Code, l.Quantity, l.UoM, int64(l.BaseQty), l.Lot, l.Expiry, l.Condition.String(),
			l.Location, l.State.String(), l.Movement, l.UnitCost.Amount, l.UnitCost.Currency, l.UnitCost.UoM,
			l.RecordedAt.UnixMicro(), l.RecordedBy); err != nil {
			return fmt.Errorf("save receipt %s line %d: %w", r.ID, l.Number, err)
		}
	}
	for _, d := range r.Discrepancies {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO receipt_discrepancies (receipt_id, number, kind, line_no, po_line, sku,
			expected_qty, actual_qty, detail, resolution, note, resolved_by, created_at, resolved_at, warehouse, partner, purchase_order_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
			ON CONFLICT (receipt_id, number) DO UPDATE SET resolution = excluded.resolution, note = excluded.note,
			resolved_by = excluded.resolved_by, resolved_at = excluded.resolved_at`,
			r.ID, d.Number, d.Kind.String(), d.Line, d.POLine, d.SKU, int64(d.Expected), int64(d.Actual), d.Detail,
			d.Resolution.String(), d.Note, d.ResolvedBy, d.CreatedAt.UnixMicro(), micros(d.ResolvedAt), r.Warehouse, r.Partner, r.PurchaseOrder); err != nil {
			return fmt.Errorf("save receipt %s discrepancy %d: %w", r.ID, d.Number, err)
		}
	}
	return nil
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

const receiptColumns = `id, purchase_order_id, supplier_code, warehouse, partner, state, created_at, version,
	blind, reference, currency, tolerance_pct, updated_at, closed_at, cartons`

func (r reader) GetExpectedReceipt(ctx context.Context, id string) (*fulfillment.ExpectedReceipt, error) {
	rs, err := r.expectedReceipts(ctx, `SELECT `+receiptColumns+` FROM expected_receipts WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, apperr.NotFound("expected receipt", id)
	}
	return rs[0], nil
}

// ListExpectedReceipts pages in id order; every filter is a bound parameter.
func (r reader) ListExpectedReceipts(ctx context.Context, f app.ReceiptFilter, page paging.Page) ([]*fulfillment.ExpectedReceipt, error) {
	q := `SELECT ` + receiptColumns + ` FROM expected_receipts WHERE id > $1`
	args := []any{page.After}
	add := func(cond string, v any) {
		args = append(args, v)
		q += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.Warehouse != "" {
		add("warehouse = $%d", f.Warehouse)
	}
	if f.PurchaseOrder != "" {
		add("purchase_order_id = $%d", f.PurchaseOrder)
	}
	if f.State != 0 {
		add("state = $%d", f.State.String())
	}
	if f.Partner != nil {
		add("partner = $%d", *f.Partner)
	}
	args = append(args, page.Limit)
	q += fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args))
	return r.expectedReceipts(ctx, q, args...)
}

func (r reader) expectedReceipts(ctx context.Context, query string, args ...any) ([]*fulfillment.ExpectedReceipt, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query expected receipts: %w", err)
	}
	var out []*fulfillment.ExpectedReceipt
	for rows.Next() {
		var er fulfillment.ExpectedReceipt
		var state string
		var created, updated, closed int64
		if err := rows.Scan(&er.ID, &er.PurchaseOrder, &er.Supplier, &er.Warehouse, &er.Partner, &state, &created, &er.Version,
			&er.Blind, &er.Reference, &er.Currency, &er.TolerancePct, &updated, &closed, &er.Cartons); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan expected receipt: %w", err)
		}
		var ok bool
		if er.State, ok = fulfillment.ParseReceiptState(state); !ok {
			rows.Close()
			return nil, fmt.Errorf("expected receipt %s: unknown state %q", er.ID, state)
		}
		er.CreatedAt, er.UpdatedAt, er.ClosedAt = fromMicros(created), fromMicros(updated), fromMicros(closed)
		out = append(out, &er)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, fmt.Errorf("read expected receipts: %w", err)
	}
	rows.Close()
	// Lines after the receipts' rows are closed: one connection in a
	// transaction runs one query at a time.
	for _, er := range out {
		if err := r.receiptLines(ctx, er); err != nil {
			return nil, err
		}
		if err := r.receivedLines(ctx, er); err != nil {
			return nil, err
		}
		ds, err := r.discrepancies(ctx, `SELECT `+discrepancyColumns+` FROM receipt_discrepancies WHERE receipt_id = $1 ORDER BY number`, er.ID)
		if err != nil {
			return nil, err
		}
		er.Discrepancies = ds
	}
	return out, nil
}

func (r reader) receiptLines(ctx context.Context, er *fulfillment.ExpectedReceipt) error {
	rows, err := r.q.QueryContext(ctx, `SELECT po_line, sku, quantity, uom, base_qty, base_uom, expected_date,
		unit_price, tolerance_pct, received_qty, damaged_qty, price_uom, lot, expiry
		FROM expected_receipt_lines WHERE receipt_id = $1 ORDER BY po_line`, er.ID)
	if err != nil {
		return fmt.Errorf("query expected receipt %s lines: %w", er.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var l fulfillment.ExpectedLine
		var received, damaged int64
		if err := rows.Scan(&l.POLine, &l.SKU, &l.Quantity, &l.UoM, &l.BaseQty, &l.BaseUoM, &l.ExpectedDate,
			&l.UnitPrice, &l.TolerancePct, &received, &damaged, &l.PriceUoM, &l.Lot, &l.Expiry); err != nil {
			return fmt.Errorf("scan expected receipt %s line: %w", er.ID, err)
		}
		l.ReceivedQty, l.DamagedQty = qty.Qty(received), qty.Qty(damaged)
		er.Lines = append(er.Lines, l)
	}
	return rows.Err()
}

func (r reader) receivedLines(ctx context.Context, er *fulfillment.ExpectedReceipt) error {
	rows, err := r.q.QueryContext(ctx, `SELECT line_no, po_line, sku, code, quantity, uom, base_qty, lot, expiry, condition,
		location, state, movement, cost_amount, cost_currency, cost_uom, recorded_at, recorded_by
		FROM received_lines WHERE receipt_id = $1 ORDER BY line_no`, er.ID)
	if err != nil {
		return fmt.Errorf("query receipt %s received lines: %w", er.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var l fulfillment.ReceivedLine
		var base, at int64
		var cond, state string
		if err := rows.Scan(&l.Number, &l.POLine, &l.SKU, &l.Code, &l.Quantity, &l.UoM, &base, &l.Lot, &l.Expiry, &cond,
			&l.Location, &state, &l.Movement, &l.UnitCost.Amount, &l.UnitCost.Currency, &l.UnitCost.UoM, &at, &l.RecordedBy); err != nil {
			return fmt.Errorf("scan receipt %s received line: %w", er.ID, err)
		}
		var ok1, ok2 bool
		l.Condition, ok1 = fulfillment.ParseCondition(cond)
		l.State, ok2 = fulfillment.ParseLineState(state)
		if !ok1 || !ok2 {
			return fmt.Errorf("receipt %s line %d: unknown condition %q or state %q", er.ID, l.Number, cond, state)
		}
		l.BaseQty, l.RecordedAt = qty.Qty(base), fromMicros(at)
		er.Received = append(er.Received, l)
	}
	return rows.Err()
}

const discrepancyColumns = `receipt_id, number, kind, line_no, po_line, sku, expected_qty, actual_qty, detail,
	resolution, note, resolved_by, created_at, resolved_at, warehouse, partner, purchase_order_id`

// ListReceiptDiscrepancies pages by receipt id and number; every filter is a
// bound parameter.
func (r reader) ListReceiptDiscrepancies(ctx context.Context, f app.DiscrepancyFilter, after app.DiscrepancyKey, limit int) ([]fulfillment.Discrepancy, error) {
	q := `SELECT ` + discrepancyColumns + ` FROM receipt_discrepancies WHERE (receipt_id > $1 OR (receipt_id = $1 AND number > $2))`
	args := []any{after.Receipt, after.Number}
	add := func(cond string, v any) {
		args = append(args, v)
		q += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.Receipt != "" {
		add("receipt_id = $%d", f.Receipt)
	}
	if f.Warehouse != "" {
		add("warehouse = $%d", f.Warehouse)
	}
	if f.Open != nil {
		if *f.Open {
			q += " AND resolution = ''"
		} else {
			q += " AND resolution <> ''"
		}
	}
	if f.Partner != nil {
		add("partner = $%d", *f.Partner)
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY receipt_id, number LIMIT $%d", len(args))
	return r.discrepancies(ctx, q, args...)
}

func (r reader) discrepancies(ctx context.Context, query string, args ...any) ([]fulfillment.Discrepancy, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query receipt discrepancies: %w", err)
	}
	defer rows.Close()
	var out []fulfillment.Discrepancy
	for rows.Next() {
		var d fulfillment.Discrepancy
		var kind, res string
		var expected, actual, created, resolved int64
		if err := rows.Scan(&d.Receipt, &d.Number, &kind, &d.Line, &d.POLine, &d.SKU, &expected, &actual, &d.Detail,
			&res, &d.Note, &d.ResolvedBy, &created, &resolved, &d.Warehouse, &d.Partner, &d.PurchaseOrder); err != nil {
			return nil, fmt.Errorf("scan receipt discrepancy: %w", err)
		}
		var ok1, ok2 bool
		d.Kind, ok1 = fulfillment.ParseDiscrepancyKind(kind)
		d.Resolution, ok2 = fulfillment.ParseResolution(res)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("receipt %s discrepancy %d: unknown kind %q or resolution %q", d.Receipt, d.Number, kind, res)
		}
		d.Expected, d.Actual, d.CreatedAt, d.ResolvedAt = qty.Qty(expected), qty.Qty(actual), fromMicros(created), fromMicros(resolved)
		out = append(out, d)
	}
	return out, rows.Err()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}
