package store

import (
	"context"
	"fmt"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

// saveStaged stores the staged stock of an allocation (picked, waiting to ship).
func (t *tx) saveStaged(ctx context.Context, a *inventory.Allocation) error {
	for _, s := range a.Staged {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO allocation_staged (allocation_id, location, lot, picked_from, qty, shipped, returned)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (allocation_id, location, lot, picked_from) DO UPDATE SET qty = excluded.qty, shipped = excluded.shipped, returned = excluded.returned`,
			a.ID, s.Location, s.Lot, s.PickedFrom, int64(s.Qty), int64(s.Shipped), int64(s.Returned)); err != nil {
			return fmt.Errorf("save staged stock of allocation %s: %w", a.ID, err)
		}
	}
	return nil
}

func (r reader) staged(ctx context.Context, id string) ([]inventory.Staged, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT location, lot, picked_from, qty, shipped, returned FROM allocation_staged
		WHERE allocation_id = $1 ORDER BY location, lot, picked_from`, id)
	if err != nil {
		return nil, fmt.Errorf("read staged stock of allocation %s: %w", id, err)
	}
	defer rows.Close()
	var out []inventory.Staged
	for rows.Next() {
		var s inventory.Staged
		var q, sh, ret int64
		if err := rows.Scan(&s.Location, &s.Lot, &s.PickedFrom, &q, &sh, &ret); err != nil {
			return nil, fmt.Errorf("scan staged stock: %w", err)
		}
		s.Qty, s.Shipped, s.Returned = inventory.Qty(q), inventory.Qty(sh), inventory.Qty(ret)
		out = append(out, s)
	}
	return out, rows.Err()
}

func (r reader) ListAllocations(ctx context.Context, f app.AllocationFilter, page paging.Page) ([]*inventory.Allocation, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id FROM allocations
		WHERE order_type = $1 AND order_id = $2 AND ($3 = '' OR order_line = $3) AND id > $4
		ORDER BY id LIMIT $5`, int(f.Order.Type), f.Order.ID, f.Order.Line, page.After, page.Limit)
	if err != nil {
		return nil, fmt.Errorf("list allocations: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan allocation id: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// A page is at most 1000 allocations of one order; each read is by key.
	out := make([]*inventory.Allocation, 0, len(ids))
	for _, id := range ids {
		a, err := r.allocation(ctx, id, "")
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (t *tx) InsertReasonCode(ctx context.Context, rc *inventory.ReasonCode) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO reason_codes (code, description, category, active, created_at) VALUES ($1, $2, $3, $4, $5)`,
		rc.Code, rc.Description, int(rc.Category), rc.Active, micros(rc.CreatedAt))
	if sqldb.IsUniqueViolation(err) {
		return apperr.AlreadyExists("reason code", rc.Code, "")
	}
	if err != nil {
		return fmt.Errorf("insert reason code %s: %w", rc.Code, err)
	}
	return nil
}

func (t *tx) LockReasonCode(ctx context.Context, code string) (*inventory.ReasonCode, error) {
	rcs, err := t.reasonCodes(ctx, `SELECT code, description, category, active, created_at FROM reason_codes WHERE code = $1`+t.forUpdate(""), code)
	if err != nil {
		return nil, err
	}
	if len(rcs) == 0 {
		return nil, apperr.NotFound("reason code", code)
	}
	return rcs[0], nil
}

func (t *tx) UpdateReasonCode(ctx context.Context, rc *inventory.ReasonCode) error {
	if _, err := t.Tx.ExecContext(ctx, `UPDATE reason_codes SET description = $1, active = $2 WHERE code = $3`,
		rc.Description, rc.Active, rc.Code); err != nil {
		return fmt.Errorf("update reason code %s: %w", rc.Code, err)
	}
	return nil
}

func (r reader) GetReasonCode(ctx context.Context, code string) (*inventory.ReasonCode, error) {
	rcs, err := r.reasonCodes(ctx, `SELECT code, description, category, active, created_at FROM reason_codes WHERE code = $1`, code)
	if err != nil {
		return nil, err
	}
	if len(rcs) == 0 {
		return nil, apperr.NotFound("reason code", code)
	}
	return rcs[0], nil
}

func (r reader) ListReasonCodes(ctx context.Context, page paging.Page) ([]*inventory.ReasonCode, error) {
	return r.reasonCodes(ctx, `SELECT code, description, category, active, created_at FROM reason_codes WHERE code > $1 ORDER BY code LIMIT $2`,
		page.After, page.Limit)
}

func (r reader) reasonCodes(ctx context.Context, query string, args ...any) ([]*inventory.ReasonCode, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query reason codes: %w", err)
	}
	defer rows.Close()
	var out []*inventory.ReasonCode
	for rows.Next() {
		var rc inventory.ReasonCode
		var category int
		var created int64
		if err := rows.Scan(&rc.Code, &rc.Description, &category, &rc.Active, &created); err != nil {
			return nil, fmt.Errorf("scan reason code: %w", err)
		}
		rc.Category, rc.CreatedAt = inventory.ReasonCategory(category), fromMicros(created)
		out = append(out, &rc)
	}
	return out, rows.Err()
}
