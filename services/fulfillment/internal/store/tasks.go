package store

import (
	"context"
	"fmt"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

const taskColumns = `id, type, warehouse, zone, state, sku, lot, qty, base_uom, from_location, to_location,
	receipt_id, receipt_line, reference, partner, claimed_by, claim_expires_at, done_by, done_to, movement,
	created_at, updated_at, done_at, version, order_line, allocation, wave`

// InsertTask writes a new task; one with its id already there (the same
// line's putaway, retried) is left as it is.
func (t *tx) InsertTask(ctx context.Context, k *fulfillment.Task) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO tasks (`+taskColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)
		ON CONFLICT DO NOTHING`, taskArgs(k)...)
	if err != nil {
		return fmt.Errorf("insert task %s: %w", k.ID, err)
	}
	return nil
}

func taskArgs(k *fulfillment.Task) []any {
	return []any{k.ID, k.Type.String(), k.Warehouse, k.Zone, k.State.String(), k.SKU, k.Lot, int64(k.Qty), k.BaseUoM,
		k.From, k.To, k.Receipt, k.ReceiptLine, k.Reference, k.Partner, k.ClaimedBy, micros(k.ClaimExpires), k.DoneBy,
		k.DoneTo, k.Movement, k.CreatedAt.UnixMicro(), k.UpdatedAt.UnixMicro(), micros(k.DoneAt), k.Version,
		k.OrderLine, k.Allocation, k.Wave}
}

// SaveTask writes a task read (and locked) at version prev.
func (t *tx) SaveTask(ctx context.Context, k *fulfillment.Task, prev int64) error {
	res, err := t.Tx.ExecContext(ctx, `UPDATE tasks SET state = $1, zone = $2, to_location = $3, claimed_by = $4,
		claim_expires_at = $5, done_by = $6, done_to = $7, movement = $8, updated_at = $9, done_at = $10, version = $11
		WHERE id = $12 AND version = $13`, k.State.String(), k.Zone, k.To, k.ClaimedBy, micros(k.ClaimExpires), k.DoneBy,
		k.DoneTo, k.Movement, k.UpdatedAt.UnixMicro(), micros(k.DoneAt), k.Version, k.ID, prev)
	if err != nil {
		return fmt.Errorf("update task %s: %w", k.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update task %s: %w", k.ID, err)
	} else if n == 0 {
		return apperr.Conflict(fmt.Sprintf("task %s changed concurrently; retry", k.ID), nil)
	}
	return nil
}

// LockTask reads a task and, on PostgreSQL, locks its row.
func (t *tx) LockTask(ctx context.Context, id string) (*fulfillment.Task, error) {
	q := `SELECT ` + taskColumns + ` FROM tasks WHERE id = $1`
	if t.Tx.Dialect == sqldb.Postgres {
		q += ` FOR UPDATE`
	}
	ks, err := t.tasks(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if len(ks) == 0 {
		return nil, apperr.NotFound("task", id)
	}
	return ks[0], nil
}

// LockNextTask reads and locks the oldest task of the filter that anyone may
// claim at now (open, or claimed with the claim expired); nil when none. On
// PostgreSQL, rows other workers hold are skipped, so concurrent claimers
// get different tasks without waiting for each other; SQLite's write
// transactions are serial.
func (t *tx) LockNextTask(ctx context.Context, f app.TaskFilter, now time.Time) (*fulfillment.Task, error) {
	q := `SELECT ` + taskColumns + ` FROM tasks WHERE warehouse = $1
		AND (state = 'OPEN' OR (state = 'CLAIMED' AND claim_expires_at <= $2))`
	args := []any{f.Warehouse, now.UnixMicro()}
	q, args = taskFilter(q, args, app.TaskFilter{Zone: f.Zone, Type: f.Type, Wave: f.Wave, Partner: f.Partner})
	q += ` ORDER BY created_at, id LIMIT 1`
	if t.Tx.Dialect == sqldb.Postgres {
		q += ` FOR UPDATE SKIP LOCKED`
	}
	ks, err := t.tasks(ctx, q, args...)
	if err != nil || len(ks) == 0 {
		return nil, err
	}
	return ks[0], nil
}

func taskFilter(q string, args []any, f app.TaskFilter) (string, []any) {
	add := func(cond string, v any) {
		args = append(args, v)
		q += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.Zone != "" {
		add("zone = $%d", f.Zone)
	}
	if f.Type != 0 {
		add("type = $%d", f.Type.String())
	}
	if f.Reference != "" {
		add("reference = $%d", f.Reference)
	}
	if f.Wave != "" {
		add("wave = $%d", f.Wave)
	}
	if f.Partner != nil {
		add("partner = $%d", *f.Partner)
	}
	return q, args
}

func (r reader) GetTask(ctx context.Context, id string) (*fulfillment.Task, error) {
	ks, err := r.tasks(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(ks) == 0 {
		return nil, apperr.NotFound("task", id)
	}
	return ks[0], nil
}

// ListTasks pages in id order; every filter is a bound parameter. A state
// filter of OPEN also matches claims expired at f.Now, CLAIMED only those
// that hold.
func (r reader) ListTasks(ctx context.Context, f app.TaskFilter, after string, limit int) ([]*fulfillment.Task, error) {
	q := `SELECT ` + taskColumns + ` FROM tasks WHERE id > $1`
	args := []any{after}
	if f.Warehouse != "" {
		args = append(args, f.Warehouse)
		q += fmt.Sprintf(" AND warehouse = $%d", len(args))
	}
	switch f.State {
	case fulfillment.TaskOpen:
		args = append(args, f.Now.UnixMicro())
		q += fmt.Sprintf(" AND (state = 'OPEN' OR (state = 'CLAIMED' AND claim_expires_at <= $%d))", len(args))
	case fulfillment.TaskClaimed:
		args = append(args, f.Now.UnixMicro())
		q += fmt.Sprintf(" AND state = 'CLAIMED' AND claim_expires_at > $%d", len(args))
	case 0:
	default:
		args = append(args, f.State.String())
		q += fmt.Sprintf(" AND state = $%d", len(args))
	}
	q, args = taskFilter(q, args, f)
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args))
	return r.tasks(ctx, q, args...)
}

func (r reader) tasks(ctx context.Context, query string, args ...any) ([]*fulfillment.Task, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query tasks: %w", err)
	}
	defer rows.Close()
	var out []*fulfillment.Task
	for rows.Next() {
		var k fulfillment.Task
		var typ, state string
		var n, expires, created, updated, done int64
		if err := rows.Scan(&k.ID, &typ, &k.Warehouse, &k.Zone, &state, &k.SKU, &k.Lot, &n, &k.BaseUoM, &k.From, &k.To,
			&k.Receipt, &k.ReceiptLine, &k.Reference, &k.Partner, &k.ClaimedBy, &expires, &k.DoneBy, &k.DoneTo, &k.Movement,
			&created, &updated, &done, &k.Version, &k.OrderLine, &k.Allocation, &k.Wave); err != nil {
			return nil, fmt.Errorf("scan task: %w", err)
		}
		var ok1, ok2 bool
		k.Type, ok1 = fulfillment.ParseTaskType(typ)
		k.State, ok2 = fulfillment.ParseTaskState(state)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("task %s: unknown type %q or state %q", k.ID, typ, state)
		}
		k.Qty, k.ClaimExpires = qty.Qty(n), fromMicros(expires)
		k.CreatedAt, k.UpdatedAt, k.DoneAt = fromMicros(created), fromMicros(updated), fromMicros(done)
		out = append(out, &k)
	}
	return out, rows.Err()
}
