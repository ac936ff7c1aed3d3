package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
)

func (t *tx) InsertInvoice(ctx context.Context, inv *orders.Invoice) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO invoices (id, sales_order_id, customer_code, shipment_id, currency_code,
		partner, state, total_minor, paid_minor, open_minor, issued_at, due_at, paid_at, updated_at, version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		inv.ID, inv.SalesOrder, inv.Customer, inv.Shipment, inv.Currency, inv.Partner, inv.State.String(),
		inv.Total(), inv.Paid, inv.Open(), inv.IssuedAt.UnixMicro(), inv.DueAt.UnixMicro(), micros(inv.PaidAt),
		inv.UpdatedAt.UnixMicro(), inv.Version)
	if sqldb.IsUniqueViolation(err) {
		return apperr.AlreadyExists("invoice", inv.Shipment, "")
	}
	if err != nil {
		return fmt.Errorf("insert invoice %s: %w", inv.ID, err)
	}
	for i, l := range inv.Lines {
		_, err := t.Tx.ExecContext(ctx, `INSERT INTO invoice_lines (invoice_id, line_number, sales_order_line, sku,
			warehouse, quantity, uom, base_qty, unit_price, tax_rate, net_minor, tax_minor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			inv.ID, i+1, l.SOLine, l.SKU, l.Warehouse, l.Quantity, l.UoM, int64(l.BaseQty), l.UnitPrice, l.TaxRate, l.Net, l.Tax)
		if err != nil {
			return fmt.Errorf("insert invoice %s line %d: %w", inv.ID, i+1, err)
		}
	}
	return nil
}

// LockInvoice loads an invoice for a change, holding its row lock.
func (t *tx) LockInvoice(ctx context.Context, id string) (*orders.Invoice, error) {
	if _, err := t.Tx.ExecContext(ctx, `UPDATE invoices SET version = version WHERE id = $1`, id); err != nil {
		return nil, fmt.Errorf("lock invoice %s: %w", id, err)
	}
	return t.GetInvoice(ctx, id)
}

// LockOpenInvoices loads, and locks, a customer's open invoices in a
// currency, earliest due first, at most limit of them.
func (t *tx) LockOpenInvoices(ctx context.Context, customer, currency string, limit int) ([]*orders.Invoice, error) {
	if _, err := t.Tx.ExecContext(ctx, `UPDATE invoices SET version = version
		WHERE customer_code = $1 AND currency_code = $2 AND open_minor > 0`, customer, currency); err != nil {
		return nil, fmt.Errorf("lock open invoices of customer %s: %w", customer, err)
	}
	return t.invoices(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE customer_code = $1 AND currency_code = $2
		AND open_minor > 0 ORDER BY due_at, id LIMIT $3`, customer, currency, limit)
}

func (t *tx) SaveInvoice(ctx context.Context, inv *orders.Invoice, loadedVersion int64) error {
	res, err := t.Tx.ExecContext(ctx, `UPDATE invoices SET state = $1, paid_minor = $2, open_minor = $3, paid_at = $4,
		updated_at = $5, version = $6 WHERE id = $7 AND version = $8`,
		inv.State.String(), inv.Paid, inv.Open(), micros(inv.PaidAt), inv.UpdatedAt.UnixMicro(), inv.Version, inv.ID, loadedVersion)
	if err != nil {
		return fmt.Errorf("save invoice %s: %w", inv.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return apperr.Conflict(fmt.Sprintf("invoice %s changed concurrently", inv.ID), err)
	}
	return nil
}

const invoiceColumns = `id, sales_order_id, customer_code, shipment_id, currency_code, partner, state, paid_minor,
	issued_at, due_at, paid_at, updated_at, version`

func (r reader) GetInvoice(ctx context.Context, id string) (*orders.Invoice, error) {
	invs, err := r.invoices(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(invs) == 0 {
		return nil, apperr.NotFound("invoice", id)
	}
	return invs[0], nil
}

func (r reader) InvoiceForShipment(ctx context.Context, shipment string) (*orders.Invoice, error) {
	invs, err := r.invoices(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE shipment_id = $1`, shipment)
	if err != nil {
		return nil, err
	}
	if len(invs) == 0 {
		return nil, apperr.NotFound("invoice of shipment", shipment)
	}
	return invs[0], nil
}

func (r reader) ListInvoices(ctx context.Context, f app.InvoiceFilter, page paging.Page) ([]*orders.Invoice, error) {
	w := newWhere(page.After)
	if f.State != 0 {
		w.add("state = $%d", f.State.String())
	}
	if f.Customer != "" {
		w.add("customer_code = $%d", f.Customer)
	}
	if f.SalesOrder != "" {
		w.add("sales_order_id = $%d", f.SalesOrder)
	}
	if f.Partner != nil {
		w.add("partner = $%d", *f.Partner)
	}
	if !f.IssuedFrom.IsZero() {
		w.add("issued_at >= $%d", f.IssuedFrom.UnixMicro())
	}
	if !f.IssuedBefore.IsZero() {
		w.add("issued_at < $%d", f.IssuedBefore.UnixMicro())
	}
	q, args := w.query(`SELECT `+invoiceColumns+` FROM invoices`, page.Limit)
	return r.invoices(ctx, q, args...)
}

func (r reader) invoices(ctx context.Context, query string, args ...any) ([]*orders.Invoice, error) {
	var out []*orders.Invoice
	err := r.each(ctx, "invoices", query, args, func(scan func(...any) error) error {
		var inv orders.Invoice
		var state string
		var issued, due, paid, updated int64
		if err := scan(&inv.ID, &inv.SalesOrder, &inv.Customer, &inv.Shipment, &inv.Currency, &inv.Partner, &state,
			&inv.Paid, &issued, &due, &paid, &updated, &inv.Version); err != nil {
			return err
		}
		var ok bool
		if inv.State, ok = orders.ParseInvoiceState(state); !ok {
			return fmt.Errorf("invoice %s: unknown state %q", inv.ID, state)
		}
		inv.IssuedAt, inv.DueAt, inv.PaidAt, inv.UpdatedAt = fromMicros(issued), fromMicros(due), fromMicros(paid), fromMicros(updated)
		out = append(out, &inv)
		return nil
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	byID := make(map[string]*orders.Invoice, len(out))
	ids := make([]any, len(out))
	for i, inv := range out {
		byID[inv.ID], ids[i] = inv, inv.ID
	}
	err = r.each(ctx, "invoice lines", `SELECT invoice_id, sales_order_line, sku, warehouse, quantity, uom, base_qty,
		unit_price, tax_rate, net_minor, tax_minor FROM invoice_lines WHERE invoice_id IN (`+placeholders(1, len(ids))+`)
		ORDER BY invoice_id, line_number`, ids, func(scan func(...any) error) error {
		var id string
		var l orders.InvoiceLine
		var base int64
		if err := scan(&id, &l.SOLine, &l.SKU, &l.Warehouse, &l.Quantity, &l.UoM, &base, &l.UnitPrice, &l.TaxRate,
			&l.Net, &l.Tax); err != nil {
			return err
		}
		l.BaseQty = orders.Qty(base)
		byID[id].Lines = append(byID[id].Lines, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *tx) InsertPayment(ctx context.Context, p *orders.Payment) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO payments (id, customer_code, currency_code, partner, amount_minor,
		unapplied_minor, method, reference, received_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		p.ID, p.Customer, p.Currency, p.Partner, p.Amount, p.Unapplied(), p.Method, p.Reference,
		p.ReceivedAt.UnixMicro(), p.CreatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("insert payment %s: %w", p.ID, err)
	}
	for _, a := range p.Applications {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO payment_applications (payment_id, invoice_id, amount_minor)
			VALUES ($1, $2, $3)`, p.ID, a.Invoice, a.Amount); err != nil {
			return fmt.Errorf("insert payment %s application to %s: %w", p.ID, a.Invoice, err)
		}
	}
	return nil
}

const paymentColumns = `id, customer_code, currency_code, partner, amount_minor, method, reference, received_at, created_at`

func (r reader) GetPayment(ctx context.Context, id string) (*orders.Payment, error) {
	ps, err := r.payments(ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, apperr.NotFound("payment", id)
	}
	return ps[0], nil
}

func (r reader) ListPayments(ctx context.Context, f app.PaymentFilter, page paging.Page) ([]*orders.Payment, error) {
	w := newWhere(page.After)
	if f.Customer != "" {
		w.add("customer_code = $%d", f.Customer)
	}
	if f.Partner != nil {
		w.add("partner = $%d", *f.Partner)
	}
	if !f.ReceivedFrom.IsZero() {
		w.add("received_at >= $%d", f.ReceivedFrom.UnixMicro())
	}
	if !f.ReceivedBefore.IsZero() {
		w.add("received_at < $%d", f.ReceivedBefore.UnixMicro())
	}
	q, args := w.query(`SELECT `+paymentColumns+` FROM payments`, page.Limit)
	return r.payments(ctx, q, args...)
}

func (r reader) payments(ctx context.Context, query string, args ...any) ([]*orders.Payment, error) {
	var out []*orders.Payment
	err := r.each(ctx, "payments", query, args, func(scan func(...any) error) error {
		var p orders.Payment
		var received, created int64
		if err := scan(&p.ID, &p.Customer, &p.Currency, &p.Partner, &p.Amount, &p.Method, &p.Reference,
			&received, &created); err != nil {
			return err
		}
		p.ReceivedAt, p.CreatedAt = fromMicros(received), fromMicros(created)
		out = append(out, &p)
		return nil
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	byID := make(map[string]*orders.Payment, len(out))
	ids := make([]any, len(out))
	for i, p := range out {
		byID[p.ID], ids[i] = p, p.ID
	}
	err = r.each(ctx, "payment applications", `SELECT payment_id, invoice_id, amount_minor FROM payment_applications
		WHERE payment_id IN (`+placeholders(1, len(ids))+`) ORDER BY payment_id, invoice_id`, ids,
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

// ReceivablesAgeing ages open invoices per customer and currency at asOf, a
// page of customer|currency keys after page.After. Bands follow
// orders.AgeingBands: whole days past due are (asOf - due) / 1 day.
func (r reader) ReceivablesAgeing(ctx context.Context, f app.AgeingFilter, page paging.Page) ([]*orders.Receivables, error) {
	const day = int64(24 * time.Hour / time.Microsecond)
	args := []any{f.AsOf.UnixMicro()}
	var sums []string
	for _, b := range orders.AgeingBands {
		lo := fmt.Sprintf("CAST($1 AS BIGINT) - due_at >= %d", int64(b[0])*day)
		if b[0] == 0 {
			lo = "1 = 1"
		}
		cond := lo
		if b[1] != 0 || b[0] == 0 {
			cond += fmt.Sprintf(" AND CAST($1 AS BIGINT) - due_at < %d", int64(b[1]+1)*day)
		}
		sums = append(sums, fmt.Sprintf("CAST(SUM(CASE WHEN %s THEN open_minor ELSE 0 END) AS BIGINT), CAST(SUM(CASE WHEN %s THEN n ELSE 0 END) AS BIGINT)", cond, cond))
	}
	var filters []string
	add := func(cond string, v any) {
		args = append(args, v)
		filters = append(filters, fmt.Sprintf(cond, len(args)))
	}
	if f.Customer != "" {
		add("customer_code = $%d", f.Customer)
	}
	if f.Partner != nil {
		add("partner = $%d", *f.Partner)
	}
	extra := ""
	for _, c := range filters {
		extra += " AND " + c
	}
	afterCustomer, afterCurrency, _ := strings.Cut(page.After, "|")
	args = append(args, afterCustomer, afterCurrency)
	nc, ncur := len(args)-1, len(args)
	args = append(args, page.Limit)
	q := `SELECT customer_code, currency_code, ` + strings.Join(sums, ", ") + `,
			CAST(SUM(unapplied_minor) AS BIGINT), MIN(CASE WHEN n = 1 THEN due_at END)
		FROM (
			SELECT customer_code, currency_code, open_minor, due_at, 1 AS n, 0 AS unapplied_minor
				FROM invoices WHERE open_minor > 0` + extra + `
			UNION ALL
			SELECT customer_code, currency_code, 0, CAST($1 AS BIGINT), 0, unapplied_minor
				FROM payments WHERE unapplied_minor > 0` + extra + `
		) open_items
		WHERE customer_code > $` + fmt.Sprint(nc) + ` OR (customer_code = $` + fmt.Sprint(nc) + ` AND currency_code > $` + fmt.Sprint(ncur) + `)
		GROUP BY customer_code, currency_code
		ORDER BY customer_code, currency_code
		LIMIT $` + fmt.Sprint(len(args))
	var out []*orders.Receivables
	err := r.each(ctx, "receivables", q, args, func(scan func(...any) error) error {
		rc := &orders.Receivables{Buckets: make([]orders.AgeingBucket, len(orders.AgeingBands))}
		dest := []any{&rc.Customer, &rc.Currency}
		for i := range rc.Buckets {
			dest = append(dest, &rc.Buckets[i].Amount, &rc.Buckets[i].Count)
		}
		var oldest *int64
		dest = append(dest, &rc.Unapplied, &oldest)
		if err := scan(dest...); err != nil {
			return err
		}
		for i, b := range orders.AgeingBands {
			rc.Buckets[i].MinDays, rc.Buckets[i].MaxDays = b[0], b[1]
		}
		if oldest != nil {
			rc.OldestDue = fromMicros(*oldest)
		}
		out = append(out, rc)
		return nil
	})
	return out, err
}
