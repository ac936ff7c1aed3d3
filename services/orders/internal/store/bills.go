package store

import (
	"context"
	"fmt"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
)

func (t *tx) InsertBill(ctx context.Context, b *orders.Bill) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO supplier_bills (id, bill_number, supplier_code, purchase_order_id,
		currency_code, partner, bill_date, state, match_outcome, price_tolerance_percent, quantity_tolerance_percent, tax_minor,
		total_minor, reason, created_at, updated_at, approved_at, version, due_date, paid_minor, paid_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		b.ID, b.Number, b.Supplier, b.PurchaseOrder, b.Currency, b.Partner, b.BillDate, b.State.String(), b.Match.String(),
		b.PriceTolerancePercent, b.QuantityTolerancePercent, b.Tax, b.Total(), b.Reason,
		b.CreatedAt.UnixMicro(), b.UpdatedAt.UnixMicro(), micros(b.ApprovedAt), b.Version, b.DueDate, b.Paid, micros(b.PaidAt))
	if sqldb.IsUniqueViolation(err) {
		e := apperr.AlreadyExists("supplier bill", b.Number, "")
		e.Message = fmt.Sprintf("supplier %s already has a bill numbered %q", b.Supplier, b.Number)
		return e
	}
	if err != nil {
		return fmt.Errorf("insert supplier bill %s: %w", b.ID, err)
	}
	for i, l := range b.Lines {
		_, err := t.Tx.ExecContext(ctx, `INSERT INTO supplier_bill_lines (bill_id, line_number, po_line_number, sku,
			warehouse, base_uom, quantity, uom, factor, base_qty, unit_price, amount_minor, ordered_amount_minor,
			grni_minor, match_outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			b.ID, i+1, l.POLine, l.SKU, l.Warehouse, l.BaseUoM, l.Quantity, l.UoM, l.Factor, int64(l.BaseQty),
			l.UnitPrice, l.Amount, l.OrderedAmount, l.GRNI, l.Match.String())
		if err != nil {
			return fmt.Errorf("insert supplier bill %s line %d: %w", b.ID, i+1, err)
		}
	}
	return nil
}

// LockBill loads a bill for a change, taking its row lock first (see
// LockPurchaseOrder).
func (t *tx) LockBill(ctx context.Context, id string) (*orders.Bill, error) {
	if _, err := t.Tx.ExecContext(ctx, `UPDATE supplier_bills SET version = version WHERE id = $1`, id); err != nil {
		return nil, fmt.Errorf("lock supplier bill %s: %w", id, err)
	}
	return t.GetBill(ctx, id)
}

func (t *tx) SaveBill(ctx context.Context, b *orders.Bill, loadedVersion int64) error {
	res, err := t.Tx.ExecContext(ctx, `UPDATE supplier_bills SET state = $1, reason = $2, updated_at = $3,
		approved_at = $4, version = $5, paid_minor = $6, paid_at = $7 WHERE id = $8 AND version = $9`,
		b.State.String(), b.Reason, b.UpdatedAt.UnixMicro(), micros(b.ApprovedAt), b.Version, b.Paid, micros(b.PaidAt),
		b.ID, loadedVersion)
	if err != nil {
		return fmt.Errorf("save supplier bill %s: %w", b.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return apperr.Conflict(fmt.Sprintf("supplier bill %s changed concurrently", b.ID), err)
	}
	return nil
}

const billColumns = `id, bill_number, supplier_code, purchase_order_id, currency_code, partner, bill_date, state, match_outcome,
	price_tolerance_percent, quantity_tolerance_percent, tax_minor, reason, created_at, updated_at, approved_at, version,
	due_date, paid_minor, paid_at`

func (r reader) GetBill(ctx context.Context, id string) (*orders.Bill, error) {
	bs, err := r.bills(ctx, `SELECT `+billColumns+` FROM supplier_bills WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, apperr.NotFound("supplier bill", id)
	}
	return bs[0], nil
}

// ListBills pages in id order; every filter is a bound parameter.
func (r reader) ListBills(ctx context.Context, f app.BillFilter, page paging.Page) ([]*orders.Bill, error) {
	args := []any{page.After}
	q := `SELECT ` + billColumns + ` FROM supplier_bills WHERE id > $1`
	add := func(cond string, v any) {
		args = append(args, v)
		q += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.State != 0 {
		add("state = $%d", f.State.String())
	}
	if f.Supplier != "" {
		add("supplier_code = $%d", f.Supplier)
	}
	if f.PurchaseOrder != "" {
		add("purchase_order_id = $%d", f.PurchaseOrder)
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
	args = append(args, page.Limit)
	q += fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args))
	return r.bills(ctx, q, args...)
}

func (r reader) bills(ctx context.Context, query string, args ...any) ([]*orders.Bill, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query supplier bills: %w", err)
	}
	var out []*orders.Bill
	for rows.Next() {
		var b orders.Bill
		var state, match string
		var created, updated, approved, paid int64
		if err := rows.Scan(&b.ID, &b.Number, &b.Supplier, &b.PurchaseOrder, &b.Currency, &b.Partner, &b.BillDate,
			&state, &match, &b.PriceTolerancePercent, &b.QuantityTolerancePercent, &b.Tax, &b.Reason,
			&created, &updated, &approved, &b.Version, &b.DueDate, &b.Paid, &paid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan supplier bill: %w", err)
		}
		var ok1, ok2 bool
		b.State, ok1 = orders.ParseBillState(state)
		b.Match, ok2 = orders.ParseMatch(match)
		if !ok1 || !ok2 {
			rows.Close()
			return nil, fmt.Errorf("supplier bill %s: unknown state %q or match %q", b.ID, state, match)
		}
		b.CreatedAt, b.UpdatedAt, b.ApprovedAt = fromMicros(created), fromMicros(updated), fromMicros(approved)
		b.PaidAt = fromMicros(paid)
		out = append(out, &b)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, fmt.Errorf("read supplier bills: %w", err)
	}
	rows.Close()
	for _, b := range out {
		if b.Lines, err = r.billLines(ctx, b.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r reader) billLines(ctx context.Context, id string) ([]orders.BillLine, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT po_line_number, sku, warehouse, base_uom, quantity, uom, factor, base_qty,
		unit_price, amount_minor, ordered_amount_minor, grni_minor, match_outcome
		FROM supplier_bill_lines WHERE bill_id = $1 ORDER BY line_number`, id)
	if err != nil {
		return nil, fmt.Errorf("query supplier bill %s lines: %w", id, err)
	}
	defer rows.Close()
	var out []orders.BillLine
	for rows.Next() {
		var l orders.BillLine
		var base int64
		var match string
		if err := rows.Scan(&l.POLine, &l.SKU, &l.Warehouse, &l.BaseUoM, &l.Quantity, &l.UoM, &l.Factor, &base,
			&l.UnitPrice, &l.Amount, &l.OrderedAmount, &l.GRNI, &match); err != nil {
			return nil, fmt.Errorf("scan supplier bill %s line: %w", id, err)
		}
		l.BaseQty = orders.Qty(base)
		var ok bool
		if l.Match, ok = orders.ParseMatch(match); !ok {
			return nil, fmt.Errorf("supplier bill %s: unknown match %q", id, match)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read supplier bill %s lines: %w", id, err)
	}
	return out, nil
}
