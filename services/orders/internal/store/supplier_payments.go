package store

import (
	"context"
	"database/sql"
	"fmt"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
)

// LockPayableBills loads, and locks, a supplier's approved bills in a
// currency that are not paid in full, earliest due first, at most limit.
func (t *tx) LockPayableBills(ctx context.Context, supplier, currency string, limit int) ([]*orders.Bill, error) {
	const where = `supplier_code = $1 AND currency_code = $2 AND state = 'APPROVED' AND paid_minor < total_minor`
	if _, err := t.Tx.ExecContext(ctx, `UPDATE supplier_bills SET version = version WHERE `+where, supplier, currency); err != nil {
		return nil, fmt.Errorf("lock payable bills of supplier %s: %w", supplier, err)
	}
	return t.bills(ctx, `SELECT `+billColumns+` FROM supplier_bills WHERE `+where+` ORDER BY due_date, id LIMIT $3`,
		supplier, currency, limit)
}

// PurchaseOrderPayment counts the order's approved bills, the open and the
// held ones, with the last time one was paid in full.
func (t *tx) PurchaseOrderPayment(ctx context.Context, order string) (app.BillsPayment, error) {
	var p app.BillsPayment
	var approved, open, held, last sql.NullInt64
	err := t.Tx.QueryRowContext(ctx, `SELECT
		SUM(CASE WHEN state = 'APPROVED' THEN 1 ELSE 0 END),
		SUM(CASE WHEN state = 'APPROVED' AND paid_minor < total_minor THEN 1 ELSE 0 END),
		SUM(CASE WHEN state = 'ON_HOLD' THEN 1 ELSE 0 END),
		MAX(paid_at)
		FROM supplier_bills WHERE purchase_order_id = $1`, order).Scan(&approved, &open, &held, &last)
	if err != nil {
		return p, fmt.Errorf("payment of purchase order %s: %w", order, err)
	}
	p.Approved, p.Open, p.Held, p.LastPaid = int(approved.Int64), int(open.Int64), int(held.Int64), fromMicros(last.Int64)
	return p, nil
}

func (t *tx) InsertSupplierPayment(ctx context.Context, p *orders.SupplierPayment) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO supplier_payments (id, supplier_code, currency_code, partner, amount_minor,
		unapplied_minor, method, reference, paid_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		p.ID, p.Supplier, p.Currency, p.Partner, p.Amount, p.Unapplied(), p.Method, p.Reference,
		p.PaidAt.UnixMicro(), p.CreatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("insert supplier payment %s: %w", p.ID, err)
	}
	for _, a := range p.Applications {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO supplier_payment_applications (payment_id, bill_id, amount_minor)
			VALUES ($1, $2, $3)`, p.ID, a.Invoice, a.Amount); err != nil {
			return fmt.Errorf("insert supplier payment %s application to %s: %w", p.ID, a.Invoice, err)
		}
	}
	return nil
}

const supplierPaymentColumns = `id, supplier_code, currency_code, partner, amount_minor, method, reference, paid_at, created_at`

func (r reader) GetSupplierPayment(ctx context.Context, id string) (*orders.SupplierPayment, error) {
	ps, err := r.supplierPayments(ctx, `SELECT `+supplierPaymentColumns+` FROM supplier_payments WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, apperr.NotFound("supplier payment", id)
	}
	return ps[0], nil
}

func (r reader) ListSupplierPayments(ctx context.Context, f app.SupplierPaymentFilter, page paging.Page) ([]*orders.SupplierPayment, error) {
	w := newWhere(page.After)
	if f.Supplier != "" {
		w.add("supplier_code = $%d", f.Supplier)
	}
	if f.Partner != nil {
		w.add("partner = $%d", *f.Partner)
	}
	if !f.PaidFrom.IsZero() {
		w.add("paid_at >= $%d", f.PaidFrom.UnixMicro())
	}
	if !f.PaidBefore.IsZero() {
		w.add("paid_at < $%d", f.PaidBefore.UnixMicro())
	}
	q, args := w.query(`SELECT `+supplierPaymentColumns+` FROM supplier_payments`, page.Limit)
	return r.supplierPayments(ctx, q, args...)
}

func (r reader) supplierPayments(ctx context.Context, query string, args ...any) ([]*orders.SupplierPayment, error) {
	var out []*orders.SupplierPayment
	err := r.each(ctx, "supplier payments", query, args, func(scan func(...any) error) error {
		var p orders.SupplierPayment
		var paid, created int64
		if err := scan(&p.ID, &p.Supplier, &p.Currency, &p.Partner, &p.Amount, &p.Method, &p.Reference, &paid, &created); err != nil {
			return err
		}
		p.PaidAt, p.CreatedAt = fromMicros(paid), fromMicros(created)
		out = append(out, &p)
		return nil
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	byID := make(map[string]*orders.SupplierPayment, len(out))
	ids := make([]any, len(out))
	for i, p := range out {
		byID[p.ID], ids[i] = p, p.ID
	}
	err = r.each(ctx, "supplier payment applications", `SELECT payment_id, bill_id, amount_minor FROM supplier_payment_applications
		WHERE payment_id IN (`+placeholders(1, len(ids))+`) ORDER BY payment_id, bill_id`, ids,
		func(scan func(...any) error) error {
			var id string
			var a orders.Application
			if err := scan(&id, &a.Invoice, &a.Amount); err != nil {
				return err
			}
			byID[id].Applications = append(byID[id].Applications, a)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}
