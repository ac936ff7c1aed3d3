package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

var _ app.Store = (*Store)(nil)

// forUpdate locks the rows a write transaction reads, on PostgreSQL. SQLite
// needs no row locks: its write transactions run one at a time (BEGIN IMMEDIATE).
func (t *tx) forUpdate(of string) string {
	if t.Tx.Dialect != sqldb.Postgres {
		return ""
	}
	if of != "" {
		return " FOR UPDATE OF " + of
	}
	return " FOR UPDATE"
}

func micros(ts time.Time) int64 { return ts.UTC().UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func (t *tx) LockItem(ctx context.Context, sku string) error {
	if t.Tx.Dialect != sqldb.Postgres {
		return nil
	}
	var got string
	err := t.Tx.QueryRowContext(ctx, `SELECT sku FROM items WHERE sku = $1 FOR UPDATE`, sku).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFound("item", sku)
	}
	if err != nil {
		return fmt.Errorf("lock item %s: %w", sku, err)
	}
	return nil
}

func (t *tx) GetLot(ctx context.Context, sku, lot string) (*inventory.Lot, error) {
	var l inventory.Lot
	var first int64
	err := t.Tx.QueryRowContext(ctx, `SELECT sku, lot, expiry_date, first_received_at FROM lots WHERE sku = $1 AND lot = $2`, sku, lot).
		Scan(&l.SKU, &l.Lot, &l.ExpiryDate, &first)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lot %s/%s: %w", sku, lot, err)
	}
	l.FirstReceivedAt = fromMicros(first)
	return &l, nil
}

func (t *tx) LotOnHand(ctx context.Context, sku, lot string) (inventory.Qty, error) {
	var q int64
	if err := t.Tx.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(on_hand), 0) AS BIGINT) FROM stock_levels WHERE sku = $1 AND lot = $2`, sku, lot).Scan(&q); err != nil {
		return 0, fmt.Errorf("stock of lot %s/%s: %w", sku, lot, err)
	}
	return inventory.Qty(q), nil
}

func (t *tx) EnsureLot(ctx context.Context, l *inventory.Lot) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO lots (sku, lot, expiry_date, first_received_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (sku, lot) DO NOTHING`, l.SKU, l.Lot, l.ExpiryDate, micros(l.FirstReceivedAt))
	if err != nil {
		return fmt.Errorf("store lot %s/%s: %w", l.SKU, l.Lot, err)
	}
	if l.ExpiryDate == "" {
		return nil
	}
	// A lot first seen without a date learns it from the first movement that has one.
	if _, err := t.Tx.ExecContext(ctx, `UPDATE lots SET expiry_date = $1 WHERE sku = $2 AND lot = $3 AND expiry_date = ''`,
		l.ExpiryDate, l.SKU, l.Lot); err != nil {
		return fmt.Errorf("date lot %s/%s: %w", l.SKU, l.Lot, err)
	}
	return nil
}

const levelColumns = `s.warehouse, s.location, s.sku, s.lot, l.expiry_date, s.on_hand, s.allocated, s.received_at`

func scanLevels(rows *sql.Rows) ([]*inventory.Level, error) {
	defer rows.Close()
	var out []*inventory.Level
	for rows.Next() {
		var lv inventory.Level
		var onHand, allocated, received int64
		if err := rows.Scan(&lv.Warehouse, &lv.Location, &lv.SKU, &lv.Lot, &lv.ExpiryDate, &onHand, &allocated, &received); err != nil {
			return nil, fmt.Errorf("scan stock level: %w", err)
		}
		lv.OnHand, lv.Allocated, lv.ReceivedAt = inventory.Qty(onHand), inventory.Qty(allocated), fromMicros(received)
		out = append(out, &lv)
	}
	return out, rows.Err()
}

func (t *tx) LockLevel(ctx context.Context, warehouse, location, sku, lot string) (*inventory.Level, error) {
	rows, err := t.Tx.QueryContext(ctx, `SELECT `+levelColumns+` FROM stock_levels s JOIN lots l ON l.sku = s.sku AND l.lot = s.lot
		WHERE s.warehouse = $1 AND s.location = $2 AND s.sku = $3 AND s.lot = $4`+t.forUpdate("s"),
		warehouse, location, sku, lot)
	if err != nil {
		return nil, fmt.Errorf("lock stock level: %w", err)
	}
	levels, err := scanLevels(rows)
	if err != nil {
		return nil, err
	}
	if len(levels) == 0 {
		return &inventory.Level{Warehouse: warehouse, Location: location, SKU: sku, Lot: lot}, nil
	}
	return levels[0], nil
}

// LevelMovementsAfter reads the movements of a level effective after at.
// No movement is effective more than inventory.MaxClockSkew after it was
// recorded, so the record-time bound lets movements_by_time (warehouse,
// sku, created_at) find them without reading the item's whole history.
func (t *tx) LevelMovementsAfter(ctx context.Context, warehouse, location, sku, lot string, at time.Time) ([]*inventory.Movement, error) {
	return t.movements(ctx, `SELECT `+movementColumns+` FROM movements
		WHERE warehouse = $1 AND sku = $2 AND created_at > $3 AND effective_at > $4 AND lot = $5
		AND (from_location = $6 OR to_location = $6) ORDER BY seq`,
		warehouse, sku, micros(at.Add(-inventory.MaxClockSkew)), micros(at), lot, location)
}

func (t *tx) AddToLevel(ctx context.Context, warehouse, location, sku, lot string, onHand, allocated inventory.Qty, receivedAt time.Time) error {
	// Update first: the CHECK constraints see the row as it ends up. An upsert
	// would check the row it proposes to insert (allocated without on hand) and fail.
	for attempt := 0; ; attempt++ {
		// The casts keep PostgreSQL from typing $1 after the literal 0 as a
		// 32-bit integer, which would refuse quantities over 2147 base units.
		res, err := t.Tx.ExecContext(ctx, `UPDATE stock_levels SET
				received_at = CASE
					WHEN on_hand <= 0 AND CAST($1 AS BIGINT) > 0 THEN CAST($3 AS BIGINT)
					WHEN CAST($3 AS BIGINT) < received_at THEN CAST($3 AS BIGINT)
					ELSE received_at END,
				on_hand = on_hand + CAST($1 AS BIGINT),
				allocated = allocated + CAST($2 AS BIGINT)
			WHERE warehouse = $4 AND location = $5 AND sku = $6 AND lot = $7`,
			int64(onHand), int64(allocated), micros(receivedAt), warehouse, location, sku, lot)
		if err != nil {
			// A CHECK violation (allocated above on hand) here is a bug, not a race:
			// the level was locked before it was changed. It surfaces as Internal.
			return fmt.Errorf("update stock level %s/%s %s/%s: %w", warehouse, location, sku, lot, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			return nil
		}
		res, err = t.Tx.ExecContext(ctx, `INSERT INTO stock_levels (warehouse, location, sku, lot, on_hand, allocated, received_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			warehouse, location, sku, lot, int64(onHand), int64(allocated), micros(receivedAt))
		if err != nil {
			return fmt.Errorf("insert stock level %s/%s %s/%s: %w", warehouse, location, sku, lot, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			return nil
		}
		// A concurrent writer inserted the row first: update it on the next round.
		if attempt > 0 {
			return apperr.Conflict("stock level changed concurrently", nil)
		}
	}
}

func (t *tx) LockCandidates(ctx context.Context, warehouse, sku, today string) ([]*inventory.Level, error) {
	rows, err := t.Tx.QueryContext(ctx, `SELECT `+levelColumns+` FROM stock_levels s
		JOIN lots l ON l.sku = s.sku AND l.lot = s.lot
		JOIN locations loc ON loc.warehouse = s.warehouse AND loc.code = s.location
		WHERE s.warehouse = $1 AND s.sku = $2 AND s.on_hand > s.allocated
		  AND loc.blocked = FALSE AND loc.type IN ($3, $4, $5)
		  AND (l.expiry_date = '' OR l.expiry_date >= $6)
		ORDER BY s.location, s.lot`+t.forUpdate("s"),
		warehouse, sku, int(inventory.LocationStorage), int(inventory.LocationPickFace), int(inventory.LocationStaging), today)
	if err != nil {
		return nil, fmt.Errorf("lock allocation candidates: %w", err)
	}
	return scanLevels(rows)
}

const layerColumns = `id, seq, sku, warehouse, lot, currency, qty_in, value_in, qty_remaining, value_remaining, received_at, movement_id`

func scanLayers(rows *sql.Rows) ([]*inventory.Layer, error) {
	defer rows.Close()
	var out []*inventory.Layer
	for rows.Next() {
		var l inventory.Layer
		var qin, qrem, received int64
		if err := rows.Scan(&l.ID, &l.Seq, &l.SKU, &l.Warehouse, &l.Lot, &l.Currency, &qin, &l.ValueIn, &qrem, &l.ValueRemaining, &received, &l.MovementID); err != nil {
			return nil, fmt.Errorf("scan cost layer: %w", err)
		}
		l.QtyIn, l.QtyRemaining, l.ReceivedAt = inventory.Qty(qin), inventory.Qty(qrem), fromMicros(received)
		out = append(out, &l)
	}
	return out, rows.Err()
}

func (t *tx) SaveLayer(ctx context.Context, l *inventory.Layer) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO cost_layers (`+layerColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (id) DO UPDATE SET qty_in = excluded.qty_in, value_in = excluded.value_in,
			qty_remaining = excluded.qty_remaining, value_remaining = excluded.value_remaining`,
		l.ID, l.Seq, l.SKU, l.Warehouse, l.Lot, l.Currency, int64(l.QtyIn), l.ValueIn, int64(l.QtyRemaining), l.ValueRemaining, micros(l.ReceivedAt), l.MovementID)
	if err != nil {
		return fmt.Errorf("save cost layer %s: %w", l.ID, err)
	}
	return nil
}

func (t *tx) InsertMovement(ctx context.Context, m *inventory.Movement) error {
	var counted sql.NullInt64
	if m.Counted != nil {
		counted = sql.NullInt64{Int64: int64(*m.Counted), Valid: true}
	}
	err := t.Tx.QueryRowContext(ctx, `INSERT INTO movements (id, type, sku, warehouse, from_location, to_location, lot, expiry_date,
			entered_qty, entered_uom, base_qty, value_minor, currency, counted_qty, source_type, source_id, source_line,
			reason_code, allocation_id, created_at, effective_at, cost_amount, cost_uom, reason_category, corrects, transfer_id, reverses, returns, order_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29) RETURNING seq`,
		m.ID, int(m.Type), m.SKU, m.Warehouse, m.FromLocation, m.ToLocation, m.Lot, m.ExpiryDate,
		m.EnteredQty, m.EnteredUoM, int64(m.BaseQty), m.Value, m.Currency, counted, int(m.Source.Type), m.Source.ID, m.Source.Line,
		m.ReasonCode, m.AllocationID, micros(m.CreatedAt), micros(effectiveAt(m)), m.CostAmount, m.CostUoM, int(m.ReasonCategory),
		strings.Join(m.Corrects, " "), m.TransferID, m.Reverses, m.Returns, m.Order).Scan(&m.Seq)
	if err != nil {
		return fmt.Errorf("journal movement: %w", err)
	}
	for _, tk := range m.Layers {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO movement_layers (movement_id, layer_id, qty, value_minor) VALUES ($1, $2, $3, $4)`,
			m.ID, tk.LayerID, int64(tk.Qty), tk.Value); err != nil {
			return fmt.Errorf("journal layer consumption: %w", err)
		}
	}
	return nil
}

// effectiveAt is when m happened: its record time unless the command said.
func effectiveAt(m *inventory.Movement) time.Time {
	if m.EffectiveAt.IsZero() {
		return m.CreatedAt
	}
	return m.EffectiveAt
}

func (t *tx) InsertAllocation(ctx context.Context, a *inventory.Allocation) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO allocations (id, sku, warehouse, order_type, order_id, order_line,
			requested_qty, requested_uom, requested, state, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		a.ID, a.SKU, a.Warehouse, int(a.Order.Type), a.Order.ID, a.Order.Line, a.RequestedQty, a.RequestedUoM,
		int64(a.Requested), int(a.State), micros(a.CreatedAt), micros(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert allocation: %w", err)
	}
	for i, l := range a.Lines {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO allocation_lines (allocation_id, location, lot, qty, picked, released, line_no)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, a.ID, l.Location, l.Lot, int64(l.Qty), int64(l.Picked), int64(l.Released), i); err != nil {
			return fmt.Errorf("insert allocation line: %w", err)
		}
	}
	return t.saveStaged(ctx, a)
}

func (t *tx) UpdateAllocation(ctx context.Context, a *inventory.Allocation) error {
	if _, err := t.Tx.ExecContext(ctx, `UPDATE allocations SET state = $1, updated_at = $2 WHERE id = $3`,
		int(a.State), micros(a.UpdatedAt), a.ID); err != nil {
		return fmt.Errorf("update allocation: %w", err)
	}
	// A pick from another bin than planned re-points the reservation: lines
	// change quantity, and new ones appear (after the others: line_no keeps
	// the order of a.Lines, which only grows at its end).
	for i, l := range a.Lines {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO allocation_lines (allocation_id, location, lot, qty, picked, released, line_no)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (allocation_id, location, lot) DO UPDATE SET qty = excluded.qty, picked = excluded.picked, released = excluded.released,
				line_no = excluded.line_no`,
			a.ID, l.Location, l.Lot, int64(l.Qty), int64(l.Picked), int64(l.Released), i); err != nil {
			return fmt.Errorf("update allocation line: %w", err)
		}
	}
	return t.saveStaged(ctx, a)
}

func (t *tx) LockAllocation(ctx context.Context, id string) (*inventory.Allocation, error) {
	return t.allocation(ctx, id, t.forUpdate(""))
}

func (r reader) GetAllocation(ctx context.Context, id string) (*inventory.Allocation, error) {
	return r.allocation(ctx, id, "")
}

func (r reader) allocation(ctx context.Context, id, lock string) (*inventory.Allocation, error) {
	var a inventory.Allocation
	var orderType, state int
	var requested, created, updated int64
	err := r.q.QueryRowContext(ctx, `SELECT id, sku, warehouse, order_type, order_id, order_line, requested_qty, requested_uom,
			requested, state, created_at, updated_at FROM allocations WHERE id = $1`+lock, id).
		Scan(&a.ID, &a.SKU, &a.Warehouse, &orderType, &a.Order.ID, &a.Order.Line, &a.RequestedQty, &a.RequestedUoM,
			&requested, &state, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound("allocation", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read allocation %s: %w", id, err)
	}
	a.Order.Type, a.State = inventory.SourceType(orderType), inventory.AllocationState(state)
	a.Requested, a.CreatedAt, a.UpdatedAt = inventory.Qty(requested), fromMicros(created), fromMicros(updated)
	rows, err := r.q.QueryContext(ctx, `SELECT al.location, al.lot, l.expiry_date, al.qty, al.picked, al.released
		FROM allocation_lines al JOIN lots l ON l.sku = $2 AND l.lot = al.lot
		WHERE al.allocation_id = $1 ORDER BY al.line_no, al.location, al.lot`, id, a.SKU)
	if err != nil {
		return nil, fmt.Errorf("read allocation lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l inventory.AllocLine
		var q, p, rel int64
		if err := rows.Scan(&l.Location, &l.Lot, &l.ExpiryDate, &q, &p, &rel); err != nil {
			return nil, fmt.Errorf("scan allocation line: %w", err)
		}
		l.Qty, l.Picked, l.Released = inventory.Qty(q), inventory.Qty(p), inventory.Qty(rel)
		a.Lines = append(a.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if a.Staged, err = r.staged(ctx, id); err != nil {
		return nil, err
	}
	return &a, nil
}

const movementColumns = `seq, id, type, sku, warehouse, from_location, to_location, lot, expiry_date, entered_qty, entered_uom,
	base_qty, value_minor, currency, counted_qty, source_type, source_id, source_line, reason_code, allocation_id, created_at,
	effective_at, cost_amount, cost_uom, reason_category, corrects, transfer_id, reverses, returns, order_id`

func (r reader) GetMovement(ctx context.Context, id string) (*inventory.Movement, error) {
	ms, err := r.movements(ctx, `SELECT `+movementColumns+` FROM movements WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, apperr.NotFound("movement", id)
	}
	return ms[0], nil
}

func (r reader) movements(ctx context.Context, query string, args ...any) ([]*inventory.Movement, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query movements: %w", err)
	}
	var out []*inventory.Movement
	for rows.Next() {
		var m inventory.Movement
		var typ, sourceType, category int
		var base, created, effective int64
		var counted sql.NullInt64
		var corrects string
		if err := rows.Scan(&m.Seq, &m.ID, &typ, &m.SKU, &m.Warehouse, &m.FromLocation, &m.ToLocation, &m.Lot, &m.ExpiryDate,
			&m.EnteredQty, &m.EnteredUoM, &base, &m.Value, &m.Currency, &counted, &sourceType, &m.Source.ID, &m.Source.Line,
			&m.ReasonCode, &m.AllocationID, &created, &effective, &m.CostAmount, &m.CostUoM, &category, &corrects, &m.TransferID, &m.Reverses, &m.Returns, &m.Order); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan movement: %w", err)
		}
		m.Type, m.Source.Type, m.BaseQty, m.CreatedAt = inventory.MovementType(typ), inventory.SourceType(sourceType), inventory.Qty(base), fromMicros(created)
		m.EffectiveAt, m.ReasonCategory = fromMicros(effective), inventory.ReasonCategory(category)
		if corrects != "" {
			m.Corrects = strings.Fields(corrects)
		}
		if counted.Valid {
			c := inventory.Qty(counted.Int64)
			m.Counted = &c
		}
		out = append(out, &m)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	// One query for the layers of the whole page.
	byID := make(map[string]*inventory.Movement, len(out))
	ids := make([]any, 0, len(out))
	marks := make([]string, 0, len(out))
	for i, m := range out {
		byID[m.ID] = m
		ids = append(ids, m.ID)
		marks = append(marks, fmt.Sprintf("$%d", i+1))
	}
	lrows, err := r.q.QueryContext(ctx, `SELECT ml.movement_id, ml.layer_id, ml.qty, ml.value_minor FROM movement_layers ml
		JOIN cost_layers c ON c.id = ml.layer_id WHERE ml.movement_id IN (`+strings.Join(marks, ", ")+`) ORDER BY ml.movement_id, c.seq`, ids...)
	if err != nil {
		return nil, fmt.Errorf("query movement layers: %w", err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var id string
		var tk inventory.Take
		var q int64
		if err := lrows.Scan(&id, &tk.LayerID, &q, &tk.Value); err != nil {
			return nil, fmt.Errorf("scan movement layer: %w", err)
		}
		tk.Qty = inventory.Qty(q)
		byID[id].Layers = append(byID[id].Layers, tk)
	}
	return out, lrows.Err()
}

func (r reader) BaseUoMs(ctx context.Context, skus []string) (map[string]string, error) {
	out := make(map[string]string, len(skus))
	if len(skus) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(skus))
	marks := make([]string, 0, len(skus))
	for i, sku := range skus {
		args = append(args, sku)
		marks = append(marks, fmt.Sprintf("$%d", i+1))
	}
	rows, err := r.q.QueryContext(ctx, `SELECT sku, base_uom FROM items WHERE sku IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("base units: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sku, uom string
		if err := rows.Scan(&sku, &uom); err != nil {
			return nil, fmt.Errorf("scan base unit: %w", err)
		}
		out[sku] = uom
	}
	return out, rows.Err()
}

func (r reader) ListLevels(ctx context.Context, f app.LevelFilter, page paging.Page) ([]*inventory.Level, error) {
	var loc, sku, lot string
	if page.After != "" {
		parts := strings.Split(page.After, "\x00")
		if len(parts) != 3 {
			return nil, apperr.Invalid(apperr.Field("page_token", "is not a token returned by this list call"))
		}
		loc, sku, lot = parts[0], parts[1], parts[2]
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+levelColumns+` FROM stock_levels s JOIN lots l ON l.sku = s.sku AND l.lot = s.lot
		WHERE s.warehouse = $1 AND ($2 = '' OR s.sku = $2) AND ($3 = '' OR s.location = $3)
		  AND ($4 OR s.on_hand <> 0 OR s.allocated <> 0)
		  AND (s.location > $5 OR (s.location = $5 AND (s.sku > $6 OR (s.sku = $6 AND s.lot > $7))))
		ORDER BY s.location, s.sku, s.lot LIMIT $8`,
		f.Warehouse, f.SKU, f.Location, f.IncludeZero, loc, sku, lot, page.Limit)
	if err != nil {
		return nil, fmt.Errorf("list stock levels: %w", err)
	}
	return scanLevels(rows)
}
