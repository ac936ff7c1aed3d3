package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
)

func (t *tx) InsertSalesOrder(ctx context.Context, so *orders.SalesOrder) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO sales_orders (id, customer_code, currency_code, partner,
		customer_reference, state, total_minor, uninvoiced_minor, created_at, updated_at, confirmed_at, cancelled_at, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		so.ID, so.Customer, so.Currency, so.Partner, so.CustomerRef, so.State.String(), so.Total(), so.Uninvoiced(),
		so.CreatedAt.UnixMicro(), so.UpdatedAt.UnixMicro(), micros(so.ConfirmedAt), micros(so.CancelledAt), so.Version)
	if err != nil {
		return fmt.Errorf("insert sales order %s: %w", so.ID, err)
	}
	for _, l := range so.Lines {
		_, err := t.Tx.ExecContext(ctx, `INSERT INTO sales_order_lines (sales_order_id, line_number, sku, base_uom,
			quantity, uom, factor, base_qty, unit_price, tax_rate, net_minor, tax_minor, warehouse, shipped_qty,
			cancelled_qty, invoiced_qty) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			so.ID, l.Number, l.SKU, l.BaseUoM, l.Quantity, l.UoM, l.Factor, int64(l.BaseQty), l.UnitPrice, l.TaxRate,
			l.Net, l.Tax, l.Warehouse, int64(l.Shipped), int64(l.Cancelled), int64(l.Invoiced))
		if err != nil {
			return fmt.Errorf("insert sales order %s line %d: %w", so.ID, l.Number, err)
		}
	}
	return nil
}

// LockSalesOrder loads an order for a change, holding its row lock (see
// LockPurchaseOrder).
func (t *tx) LockSalesOrder(ctx context.Context, id string) (*orders.SalesOrder, error) {
	if _, err := t.Tx.ExecContext(ctx, `UPDATE sales_orders SET version = version WHERE id = $1`, id); err != nil {
		return nil, fmt.Errorf("lock sales order %s: %w", id, err)
	}
	return t.GetSalesOrder(ctx, id)
}

func (t *tx) SaveSalesOrder(ctx context.Context, so *orders.SalesOrder, loadedVersion int64) error {
	res, err := t.Tx.ExecContext(ctx, `UPDATE sales_orders SET state = $1, uninvoiced_minor = $2, updated_at = $3,
		confirmed_at = $4, cancelled_at = $5, version = $6, allocated_at = $7, picked_at = $8, shipped_at = $9,
		invoiced_at = $10, paid_at = $11 WHERE id = $12 AND version = $13`,
		so.State.String(), so.Uninvoiced(), so.UpdatedAt.UnixMicro(), micros(so.ConfirmedAt), micros(so.CancelledAt),
		so.Version, micros(so.AllocatedAt), micros(so.PickedAt), micros(so.ShippedAt), micros(so.InvoicedAt),
		micros(so.PaidAt), so.ID, loadedVersion)
	if err != nil {
		return fmt.Errorf("save sales order %s: %w", so.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return apperr.Conflict(fmt.Sprintf("sales order %s changed concurrently", so.ID), err)
	}
	for _, l := range so.Lines {
		_, err := t.Tx.ExecContext(ctx, `UPDATE sales_order_lines SET shipped_qty = $1, cancelled_qty = $2,
			invoiced_qty = $3 WHERE sales_order_id = $4 AND line_number = $5`,
			int64(l.Shipped), int64(l.Cancelled), int64(l.Invoiced), so.ID, l.Number)
		if err != nil {
			return fmt.Errorf("save sales order %s line %d: %w", so.ID, l.Number, err)
		}
	}
	return nil
}

// CreditExposure sums what the customer owes and has ordered in a currency:
// open invoices plus confirmed orders not yet invoiced, less unapplied
// payments. Each sum reads a partial or narrow index, so its cost follows
// the customer's open documents, not its history.
func (t *tx) CreditExposure(ctx context.Context, customer, currency string) (int64, error) {
	var open, ordered, credit sql.NullInt64
	err := t.Tx.QueryRowContext(ctx, `SELECT
		(SELECT CAST(SUM(open_minor) AS BIGINT) FROM invoices WHERE customer_code = $1 AND currency_code = $2 AND open_minor > 0),
		(SELECT CAST(SUM(uninvoiced_minor) AS BIGINT) FROM sales_orders WHERE customer_code = $1 AND currency_code = $2
			AND state IN ('CONFIRMED', 'PARTIALLY_SHIPPED')),
		(SELECT CAST(SUM(unapplied_minor) AS BIGINT) FROM payments WHERE customer_code = $1 AND currency_code = $2 AND unapplied_minor > 0)`,
		customer, currency).Scan(&open, &ordered, &credit)
	if err != nil {
		return 0, fmt.Errorf("credit exposure of customer %s: %w", customer, err)
	}
	return open.Int64 + ordered.Int64 - credit.Int64, nil
}

const soColumns = `id, customer_code, currency_code, partner, customer_reference, state, created_at, updated_at,
	confirmed_at, cancelled_at, version, allocated_at, picked_at, shipped_at, invoiced_at, paid_at`

func (r reader) GetSalesOrder(ctx context.Context, id string) (*orders.SalesOrder, error) {
	sos, err := r.salesOrders(ctx, `SELECT `+soColumns+` FROM sales_orders WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(sos) == 0 {
		return nil, apperr.NotFound("sales order", id)
	}
	return sos[0], nil
}

// ListSalesOrders pages in id order (UUIDv7: creation order), filtered.
func (r reader) ListSalesOrders(ctx context.Context, f app.SOFilter, page paging.Page) ([]*orders.SalesOrder, error) {
	w := newWhere(page.After)
	if f.State != 0 {
		w.add("state = $%d", f.State.String())
	}
	if f.Customer != "" {
		w.add("customer_code = $%d", f.Customer)
	}
	if f.Partner != nil {
		w.add("partner = $%d", *f.Partner)
	}
	if !f.CreatedFrom.IsZero() {
		w.add("created_at >= $%d", f.CreatedFrom.UnixMicro())
	}
	if !f.CreatedBefore.IsZero() {
		w.add("created_at < $%d", f.CreatedBefore.UnixMicro())
	}
	q, args := w.query(`SELECT `+soColumns+` FROM sales_orders`, page.Limit)
	return r.salesOrders(ctx, q, args...)
}

func (r reader) salesOrders(ctx context.Context, query string, args ...any) ([]*orders.SalesOrder, error) {
	var out []*orders.SalesOrder
	err := r.each(ctx, "sales orders", query, args, func(scan func(...any) error) error {
		var so orders.SalesOrder
		var state string
		var created, updated, confirmed, cancelled, allocated, picked, shipped, invoiced, paid int64
		if err := scan(&so.ID, &so.Customer, &so.Currency, &so.Partner, &so.CustomerRef, &state,
			&created, &updated, &confirmed, &cancelled, &so.Version, &allocated, &picked, &shipped, &invoiced, &paid); err != nil {
			return err
		}
		so.AllocatedAt, so.PickedAt, so.ShippedAt = fromMicros(allocated), fromMicros(picked), fromMicros(shipped)
		so.InvoicedAt, so.PaidAt = fromMicros(invoiced), fromMicros(paid)
		var ok bool
		if so.State, ok = orders.ParseSOState(state); !ok {
			return fmt.Errorf("sales order %s: unknown state %q", so.ID, state)
		}
		so.CreatedAt, so.UpdatedAt = fromMicros(created), fromMicros(updated)
		so.ConfirmedAt, so.CancelledAt = fromMicros(confirmed), fromMicros(cancelled)
		out = append(out, &so)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Lines are read once the orders' rows are closed (one connection in a
	// transaction runs one query at a time), in one query for the page.
	if len(out) == 0 {
		return out, nil
	}
	byID := make(map[string]*orders.SalesOrder, len(out))
	ids := make([]any, len(out))
	for i, so := range out {
		byID[so.ID], ids[i] = so, so.ID
	}
	err = r.each(ctx, "sales order lines", `SELECT sales_order_id, line_number, sku, base_uom, quantity, uom, factor,
		base_qty, unit_price, tax_rate, net_minor, tax_minor, warehouse, shipped_qty, cancelled_qty, invoiced_qty
		FROM sales_order_lines WHERE sales_order_id IN (`+placeholders(1, len(ids))+`) ORDER BY sales_order_id, line_number`,
		ids, func(scan func(...any) error) error {
			var id string
			var l orders.SOLine
			var base, shipped, cancelled, invoiced int64
			if err := scan(&id, &l.Number, &l.SKU, &l.BaseUoM, &l.Quantity, &l.UoM, &l.Factor, &base, &l.UnitPrice,
				&l.TaxRate, &l.Net, &l.Tax, &l.Warehouse, &shipped, &cancelled, &invoiced); err != nil {
				return err
			}
			l.BaseQty, l.Shipped, l.Cancelled, l.Invoiced = orders.Qty(base), orders.Qty(shipped), orders.Qty(cancelled), orders.Qty(invoiced)
			so := byID[id]
			so.Lines = append(so.Lines, l)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SalesOrderPayment counts the order's invoices, the open ones, and the
// latest time one was paid in full.
func (t *tx) SalesOrderPayment(ctx context.Context, salesOrder string) (app.OrderPayment, error) {
	var p app.OrderPayment
	var open sql.NullInt64
	var last sql.NullInt64
	err := t.Tx.QueryRowContext(ctx, `SELECT COUNT(*), SUM(CASE WHEN open_minor > 0 THEN 1 ELSE 0 END), MAX(paid_at)
		FROM invoices WHERE sales_order_id = $1`, salesOrder).Scan(&p.Invoices, &open, &last)
	if err != nil {
		return p, fmt.Errorf("payment of sales order %s: %w", salesOrder, err)
	}
	p.Open, p.LastPaid = int(open.Int64), fromMicros(last.Int64)
	return p, nil
}

// SalesOrderStages reads the stage times of the orders confirmed in [from, to).
func (r reader) SalesOrderStages(ctx context.Context, partner *string, from, to time.Time) ([][]time.Time, error) {
	q := `SELECT confirmed_at, allocated_at, picked_at, shipped_at, invoiced_at, paid_at FROM sales_orders
		WHERE confirmed_at >= $1 AND confirmed_at < $2 AND confirmed_at > 0`
	return r.stages(ctx, "sales order stages", q, 6, partner, from, to)
}

// PurchaseOrderStages reads the stage times of the orders released in [from, to).
func (r reader) PurchaseOrderStages(ctx context.Context, partner *string, from, to time.Time) ([][]time.Time, error) {
	q := `SELECT released_at, received_at, billed_at, paid_at FROM purchase_orders
		WHERE released_at >= $1 AND released_at < $2 AND released_at > 0`
	return r.stages(ctx, "purchase order stages", q, 4, partner, from, to)
}

func (r reader) stages(ctx context.Context, what, q string, n int, partner *string, from, to time.Time) ([][]time.Time, error) {
	args := []any{from.UnixMicro(), to.UnixMicro()}
	if partner != nil {
		q += ` AND partner = $3`
		args = append(args, *partner)
	}
	var out [][]time.Time
	err := r.each(ctx, what, q, args, func(scan func(...any) error) error {
		vs := make([]int64, n)
		dest := make([]any, n)
		for i := range vs {
			dest[i] = &vs[i]
		}
		if err := scan(dest...); err != nil {
			return err
		}
		row := make([]time.Time, n)
		for i, v := range vs {
			row[i] = fromMicros(v)
		}
		out = append(out, row)
		return nil
	})
	return out, err
}

// placeholders is "$first, ..., $(first+n-1)".
func placeholders(first, n int) string {
	s := ""
	for i := 0; i < n; i++ {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("$%d", first+i)
	}
	return s
}

// where builds a list query keyed by one column (id unless said otherwise):
// every filter is a bound parameter.
type where struct {
	key   string
	conds []string
	args  []any
}

func newWhere(after string) *where { return newWhereKey("id", after) }

func newWhereKey(key, after string) *where {
	return &where{key: key, conds: []string{key + " > $1"}, args: []any{after}}
}

func (w *where) add(cond string, v any) {
	w.args = append(w.args, v)
	w.conds = append(w.conds, fmt.Sprintf(cond, len(w.args)))
}

func (w *where) query(selectFrom string, limit int) (string, []any) {
	q := selectFrom + " WHERE "
	for i, c := range w.conds {
		if i > 0 {
			q += " AND "
		}
		q += c
	}
	args := append(w.args, limit)
	return q + fmt.Sprintf(" ORDER BY %s LIMIT $%d", w.key, len(args)), args
}
