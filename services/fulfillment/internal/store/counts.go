package store

import (
	"context"
	"fmt"
	"strings"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

const countColumns = `id, warehouse, partner, state, locations, items, reason_code, max_qty, max_value_minor,
	max_value_currency, created_by, created_at, updated_at, completed_at, version`

// InsertCount writes a count with its tasks and lines unless one with its
// id exists, and reports whether it did.
func (t *tx) InsertCount(ctx context.Context, c *fulfillment.Count) (bool, error) {
	var maxMinor int64
	maxCurrency := ""
	if v := c.Thresholds.MaxValue; v != nil {
		maxMinor, maxCurrency = v.Minor, v.Currency
	}
	res, err := t.Tx.ExecContext(ctx, `INSERT INTO counts (`+countColumns+`, to_book)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING`,
		c.ID, c.Warehouse, c.Partner, c.State.String(), strings.Join(c.Locations, " "), strings.Join(c.Items, " "), c.ReasonCode,
		int64(c.Thresholds.MaxQty), maxMinor, maxCurrency, c.CreatedBy, c.CreatedAt.UnixMicro(), c.UpdatedAt.UnixMicro(),
		micros(c.CompletedAt), c.Version, len(c.ToBook()) > 0)
	if err != nil {
		return false, fmt.Errorf("insert count %s: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	return true, t.saveCountParts(ctx, c)
}

// LockCount reads a count and, on PostgreSQL, locks its row until the
// transaction ends (SQLite's write transactions are serial already).
func (t *tx) LockCount(ctx context.Context, id string) (*fulfillment.Count, error) {
	q := `SELECT ` + countColumns + ` FROM counts WHERE id = $1`
	if t.Tx.Dialect == sqldb.Postgres {
		q += ` FOR UPDATE`
	}
	cs, err := t.counts(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, apperr.NotFound("count", id)
	}
	return cs[0], nil
}

// SaveCount writes a count read (and locked) at version prev: its header,
// and its tasks and lines upserted (neither is ever removed).
func (t *tx) SaveCount(ctx context.Context, c *fulfillment.Count, prev int64) error {
	res, err := t.Tx.ExecContext(ctx, `UPDATE counts SET state = $1, updated_at = $2, completed_at = $3, version = $4, to_book = $5
		WHERE id = $6 AND version = $7`, c.State.String(), c.UpdatedAt.UnixMicro(), micros(c.CompletedAt), c.Version,
		len(c.ToBook()) > 0, c.ID, prev)
	if err != nil {
		return fmt.Errorf("update count %s: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update count %s: %w", c.ID, err)
	} else if n == 0 {
		return apperr.Conflict(fmt.Sprintf("count %s changed concurrently; retry", c.ID), nil)
	}
	return t.saveCountParts(ctx, c)
}

func (t *tx) saveCountParts(ctx context.Context, c *fulfillment.Count) error {
	for i, k := range c.Tasks {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO count_tasks (count_id, n, task_id, location, sku, recounts, done)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (count_id, n) DO UPDATE SET done = excluded.done`,
			c.ID, i+1, k.ID, k.Location, k.SKU, k.Recounts, k.Done); err != nil {
			return fmt.Errorf("save count %s task %s: %w", c.ID, k.ID, err)
		}
	}
	for _, l := range c.Lines {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO count_lines (count_id, line_no, task_id, location, sku, lot, expiry,
			base_uom, counted, uncounted, expected, difference, value_minor, currency, state, reason_code, counted_by, counted_at,
			recorded_at, reviewed_by, review_note, reviewed_at, movement, booked_at, note, recount_task)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)
			ON CONFLICT (count_id, line_no) DO UPDATE SET expected = excluded.expected, difference = excluded.difference,
			value_minor = excluded.value_minor, currency = excluded.currency, state = excluded.state,
			reason_code = excluded.reason_code, reviewed_by = excluded.reviewed_by, review_note = excluded.review_note,
			reviewed_at = excluded.reviewed_at, movement = excluded.movement, booked_at = excluded.booked_at,
			note = excluded.note, recount_task = excluded.recount_task`,
			c.ID, l.Number, l.Task, l.Location, l.SKU, l.Lot, l.Expiry, l.BaseUoM, int64(l.Counted), l.Uncounted,
			int64(l.Expected), int64(l.Difference), l.Value.Minor, l.Value.Currency, l.State.String(), l.ReasonCode,
			l.CountedBy, l.CountedAt.UnixMicro(), l.RecordedAt.UnixMicro(), l.ReviewedBy, l.ReviewNote, micros(l.ReviewedAt),
			l.Movement, micros(l.BookedAt), l.Note, l.Recount); err != nil {
			return fmt.Errorf("save count %s line %d: %w", c.ID, l.Number, err)
		}
	}
	return nil
}

func (r reader) GetCount(ctx context.Context, id string) (*fulfillment.Count, error) {
	cs, err := r.counts(ctx, `SELECT `+countColumns+` FROM counts WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, apperr.NotFound("count", id)
	}
	return cs[0], nil
}

// ListCounts pages in id order; every filter is a bound parameter.
func (r reader) ListCounts(ctx context.Context, f app.CountFilter, after string, limit int) ([]*fulfillment.Count, error) {
	q := `SELECT ` + countColumns + ` FROM counts WHERE id > $1`
	args := []any{after}
	add := func(cond string, v any) {
		args = append(args, v)
		q += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.Warehouse != "" {
		add("warehouse = $%d", f.Warehouse)
	}
	if f.State != 0 {
		add("state = $%d", f.State.String())
	}
	if f.Partner != nil {
		add("partner = $%d", *f.Partner)
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args))
	return r.counts(ctx, q, args...)
}

// CountsToBook lists counts with an approved line not booked yet.
func (r reader) CountsToBook(ctx context.Context, limit int) ([]string, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id FROM counts WHERE to_book = $1 ORDER BY id LIMIT $2`, true, limit)
	if err != nil {
		return nil, fmt.Errorf("query counts to book: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan count to book: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (r reader) counts(ctx context.Context, query string, args ...any) ([]*fulfillment.Count, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query counts: %w", err)
	}
	var out []*fulfillment.Count
	for rows.Next() {
		var c fulfillment.Count
		var state, locations, items, currency string
		var maxQty, maxMinor, created, updated, completed int64
		if err := rows.Scan(&c.ID, &c.Warehouse, &c.Partner, &state, &locations, &items, &c.ReasonCode, &maxQty, &maxMinor,
			&currency, &c.CreatedBy, &created, &updated, &completed, &c.Version); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan count: %w", err)
		}
		var ok bool
		if c.State, ok = fulfillment.ParseCountState(state); !ok {
			rows.Close()
			return nil, fmt.Errorf("count %s: unknown state %q", c.ID, state)
		}
		c.Locations, c.Items = strings.Fields(locations), strings.Fields(items)
		c.Thresholds.MaxQty = qty.Qty(maxQty)
		if currency != "" {
			c.Thresholds.MaxValue = &money.Money{Currency: currency, Minor: maxMinor}
		}
		c.CreatedAt, c.UpdatedAt, c.CompletedAt = fromMicros(created), fromMicros(updated), fromMicros(completed)
		out = append(out, &c)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, fmt.Errorf("read counts: %w", err)
	}
	rows.Close()
	// Tasks and lines after the counts' rows are closed: one connection in
	// a transaction runs one query at a time.
	for _, c := range out {
		if err := r.countTasks(ctx, c); err != nil {
			return nil, err
		}
		if err := r.countLines(ctx, c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r reader) countTasks(ctx context.Context, c *fulfillment.Count) error {
	rows, err := r.q.QueryContext(ctx, `SELECT task_id, location, sku, recounts, done FROM count_tasks WHERE count_id = $1 ORDER BY n`, c.ID)
	if err != nil {
		return fmt.Errorf("query count %s tasks: %w", c.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k fulfillment.CountTask
		if err := rows.Scan(&k.ID, &k.Location, &k.SKU, &k.Recounts, &k.Done); err != nil {
			return fmt.Errorf("scan count %s task: %w", c.ID, err)
		}
		c.Tasks = append(c.Tasks, k)
	}
	return rows.Err()
}

func (r reader) countLines(ctx context.Context, c *fulfillment.Count) error {
	rows, err := r.q.QueryContext(ctx, `SELECT line_no, task_id, location, sku, lot, expiry, base_uom, counted, uncounted,
		expected, difference, value_minor, currency, state, reason_code, counted_by, counted_at, recorded_at, reviewed_by,
		review_note, reviewed_at, movement, booked_at, note, recount_task
		FROM count_lines WHERE count_id = $1 ORDER BY line_no`, c.ID)
	if err != nil {
		return fmt.Errorf("query count %s lines: %w", c.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var l fulfillment.CountLine
		var state string
		var counted, expected, diff, countedAt, recorded, reviewed, booked int64
		if err := rows.Scan(&l.Number, &l.Task, &l.Location, &l.SKU, &l.Lot, &l.Expiry, &l.BaseUoM, &counted, &l.Uncounted,
			&expected, &diff, &l.Value.Minor, &l.Value.Currency, &state, &l.ReasonCode, &l.CountedBy, &countedAt, &recorded,
			&l.ReviewedBy, &l.ReviewNote, &reviewed, &l.Movement, &booked, &l.Note, &l.Recount); err != nil {
			return fmt.Errorf("scan count %s line: %w", c.ID, err)
		}
		var ok bool
		if l.State, ok = fulfillment.ParseCountLineState(state); !ok {
			return fmt.Errorf("count %s line %d: unknown state %q", c.ID, l.Number, state)
		}
		l.Counted, l.Expected, l.Difference = qty.Qty(counted), qty.Qty(expected), qty.Qty(diff)
		l.CountedAt, l.RecordedAt, l.ReviewedAt, l.BookedAt = fromMicros(countedAt), fromMicros(recorded), fromMicros(reviewed), fromMicros(booked)
		c.Lines = append(c.Lines, l)
	}
	return rows.Err()
}
