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

func (t *tx) InsertSupplier(ctx context.Context, s *orders.Supplier) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO suppliers (code, display_name, currency_code, created_at,
		partner, payment_terms_days, tax_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		s.Code, s.DisplayName, s.CurrencyCode, s.CreatedAt.UnixMicro(), s.Partner, s.PaymentTermsDays, s.TaxID)
	return partyInserted(err, "supplier", s.Code)
}

func (t *tx) InsertCustomer(ctx context.Context, c *orders.Customer) error {
	var limit int64
	if c.CreditLimit != nil {
		limit = *c.CreditLimit
	}
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO customers (code, display_name, currency_code, created_at,
		partner, payment_terms_days, has_credit_limit, credit_limit_minor, tax_exempt, default_tax_rate, tax_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.Code, c.DisplayName, c.CurrencyCode, c.CreatedAt.UnixMicro(), c.Partner, c.PaymentTermsDays,
		c.CreditLimit != nil, limit, c.TaxExempt, c.DefaultTaxRate, c.TaxID)
	return partyInserted(err, "customer", c.Code)
}

func partyInserted(err error, resource, code string) error {
	if sqldb.IsUniqueViolation(err) {
		return apperr.AlreadyExists(resource, code, "")
	}
	if err != nil {
		return fmt.Errorf("insert %s %s: %w", resource, code, err)
	}
	return nil
}

// LockCustomer takes the customer's row lock (PostgreSQL; SQLite write
// transactions are serial) so that credit checks of one customer queue.
func (t *tx) LockCustomer(ctx context.Context, code string) (*orders.Customer, error) {
	if _, err := t.Tx.ExecContext(ctx, `UPDATE customers SET code = code WHERE code = $1`, code); err != nil {
		return nil, fmt.Errorf("lock customer %s: %w", code, err)
	}
	return t.GetCustomer(ctx, code)
}

const (
	supplierColumns = `code, display_name, currency_code, created_at, partner, payment_terms_days, tax_id`
	customerColumns = `code, display_name, currency_code, created_at, partner, payment_terms_days,
		has_credit_limit, credit_limit_minor, tax_exempt, default_tax_rate, tax_id`
)

func (r reader) GetSupplier(ctx context.Context, code string) (*orders.Supplier, error) {
	ss, err := r.suppliers(ctx, `SELECT `+supplierColumns+` FROM suppliers WHERE code = $1`, code)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, apperr.NotFound("supplier", code)
	}
	return ss[0], nil
}

// ListSuppliers pages in code order, filtered (see app.PartyFilter).
func (r reader) ListSuppliers(ctx context.Context, f app.PartyFilter, page paging.Page) ([]*orders.Supplier, error) {
	q, args := partyQuery(`SELECT `+supplierColumns+` FROM suppliers`, f, page)
	return r.suppliers(ctx, q, args...)
}

// partyQuery is a parties list query keyed by code; every filter is a bound
// parameter.
func partyQuery(selectFrom string, f app.PartyFilter, page paging.Page) (string, []any) {
	w := newWhereKey("code", page.After)
	if f.VisibleTo != nil {
		w.add("partner IN ('', $%d)", *f.VisibleTo)
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
	return w.query(selectFrom, page.Limit)
}

func (r reader) suppliers(ctx context.Context, query string, args ...any) ([]*orders.Supplier, error) {
	var out []*orders.Supplier
	err := r.each(ctx, "suppliers", query, args, func(scan func(...any) error) error {
		var s orders.Supplier
		var created int64
		if err := scan(&s.Code, &s.DisplayName, &s.CurrencyCode, &created, &s.Partner, &s.PaymentTermsDays, &s.TaxID); err != nil {
			return err
		}
		s.CreatedAt = fromMicros(created)
		out = append(out, &s)
		return nil
	})
	return out, err
}

func (r reader) GetCustomer(ctx context.Context, code string) (*orders.Customer, error) {
	cs, err := r.customers(ctx, `SELECT `+customerColumns+` FROM customers WHERE code = $1`, code)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, apperr.NotFound("customer", code)
	}
	return cs[0], nil
}

// ListCustomers pages in code order, filtered (see app.PartyFilter).
func (r reader) ListCustomers(ctx context.Context, f app.PartyFilter, page paging.Page) ([]*orders.Customer, error) {
	q, args := partyQuery(`SELECT `+customerColumns+` FROM customers`, f, page)
	return r.customers(ctx, q, args...)
}

func (r reader) customers(ctx context.Context, query string, args ...any) ([]*orders.Customer, error) {
	var out []*orders.Customer
	err := r.each(ctx, "customers", query, args, func(scan func(...any) error) error {
		var c orders.Customer
		var created, limit int64
		var hasLimit bool
		if err := scan(&c.Code, &c.DisplayName, &c.CurrencyCode, &created, &c.Partner, &c.PaymentTermsDays,
			&hasLimit, &limit, &c.TaxExempt, &c.DefaultTaxRate, &c.TaxID); err != nil {
			return err
		}
		if hasLimit {
			c.CreditLimit = &limit
		}
		c.CreatedAt = fromMicros(created)
		out = append(out, &c)
		return nil
	})
	return out, err
}

// each runs a query and calls fn for every row with the row's Scan; what
// names the rows in errors.
func (r reader) each(ctx context.Context, what, query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("query %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return fmt.Errorf("scan %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}
