package store

import (
	"context"
	"fmt"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/inbox"
	"trueup.dev/platform/paging"
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
		partner, state, expected_date, created_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT DO NOTHING`,
		r.ID, r.PurchaseOrder, r.Supplier, r.Warehouse, r.Partner, r.State.String(), r.ExpectedDate(), r.CreatedAt.UnixMicro(), r.Version)
	if err != nil {
		return false, fmt.Errorf("insert expected receipt %s: %w", r.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	for _, l := range r.Lines {
		_, err := t.Tx.ExecContext(ctx, `INSERT INTO expected_receipt_lines (receipt_id, po_line, sku, quantity, uom,
			base_qty, base_uom, expected_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			r.ID, l.POLine, l.SKU, l.Quantity, l.UoM, l.BaseQty, l.BaseUoM, l.ExpectedDate)
		if err != nil {
			return false, fmt.Errorf("insert expected receipt %s line %d: %w", r.ID, l.POLine, err)
		}
	}
	return true, nil
}

const receiptColumns = `id, purchase_order_id, supplier_code, warehouse, partner, state, created_at, version`

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
		var created int64
		if err := rows.Scan(&er.ID, &er.PurchaseOrder, &er.Supplier, &er.Warehouse, &er.Partner, &state, &created, &er.Version); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan expected receipt: %w", err)
		}
		var ok bool
		if er.State, ok = fulfillment.ParseReceiptState(state); !ok {
			rows.Close()
			return nil, fmt.Errorf("expected receipt %s: unknown state %q", er.ID, state)
		}
		er.CreatedAt = fromMicros(created)
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
	}
	return out, nil
}

func (r reader) receiptLines(ctx context.Context, er *fulfillment.ExpectedReceipt) error {
	rows, err := r.q.QueryContext(ctx, `SELECT po_line, sku, quantity, uom, base_qty, base_uom, expected_date
		FROM expected_receipt_lines WHERE receipt_id = $1 ORDER BY po_line`, er.ID)
	if err != nil {
		return fmt.Errorf("query expected receipt %s lines: %w", er.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var l fulfillment.ExpectedLine
		if err := rows.Scan(&l.POLine, &l.SKU, &l.Quantity, &l.UoM, &l.BaseQty, &l.BaseUoM, &l.ExpectedDate); err != nil {
			return fmt.Errorf("scan expected receipt %s line: %w", er.ID, err)
		}
		er.Lines = append(er.Lines, l)
	}
	return rows.Err()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}
