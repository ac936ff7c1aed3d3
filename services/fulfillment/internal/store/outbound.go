package store

import (
	"context"
	"fmt"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

const outboundColumns = `id, customer, partner, state, shipments, created_at, updated_at, version`

// InsertOutboundOrder writes a new order with its lines unless one with its
// id exists (the confirmation delivered again), and reports whether it did.
func (t *tx) InsertOutboundOrder(ctx context.Context, o *fulfillment.OutboundOrder) (bool, error) {
	res, err := t.Tx.ExecContext(ctx, `INSERT INTO outbound_orders (`+outboundColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT DO NOTHING`, o.ID, o.Customer, o.Partner, o.State.String(), o.Shipments, o.CreatedAt.UnixMicro(), o.UpdatedAt.UnixMicro(), o.Version)
	if err != nil {
		return false, fmt.Errorf("insert outbound order %s: %w", o.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	return true, t.saveOutboundParts(ctx, o)
}

// LockOutboundOrder reads an order and, on PostgreSQL, locks its row.
func (t *tx) LockOutboundOrder(ctx context.Context, id string) (*fulfillment.OutboundOrder, error) {
	q := `SELECT ` + outboundColumns + ` FROM outbound_orders WHERE id = $1`
	if t.Tx.Dialect == sqldb.Postgres {
		q += ` FOR UPDATE`
	}
	os, err := t.outboundOrders(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, apperr.NotFound("outbound order", id)
	}
	return os[0], nil
}

// SaveOutboundOrder writes an order read (and locked) at version prev.
func (t *tx) SaveOutboundOrder(ctx context.Context, o *fulfillment.OutboundOrder, prev int64) error {
	res, err := t.Tx.ExecContext(ctx, `UPDATE outbound_orders SET state = $1, shipments = $2, updated_at = $3, version = $4
		WHERE id = $5 AND version = $6`, o.State.String(), o.Shipments, o.UpdatedAt.UnixMicro(), o.Version, o.ID, prev)
	if err != nil {
		return fmt.Errorf("update outbound order %s: %w", o.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return apperr.Conflict(fmt.Sprintf("outbound order %s changed concurrently; retry", o.ID), nil)
	}
	return t.saveOutboundParts(ctx, o)
}

func (t *tx) saveOutboundParts(ctx context.Context, o *fulfillment.OutboundOrder) error {
	for _, l := range o.Lines {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO outbound_lines (order_id, line, sku, warehouse, base_uom, ordered,
			allocated, picked, packed, shipped, short, cancelled, allocation, need_allocate, need_release, gen)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
			ON CONFLICT (order_id, line) DO UPDATE SET allocated = excluded.allocated, picked = excluded.picked,
			packed = excluded.packed, shipped = excluded.shipped, short = excluded.short, cancelled = excluded.cancelled,
			allocation = excluded.allocation, need_allocate = excluded.need_allocate, need_release = excluded.need_release,
			gen = excluded.gen`,
			o.ID, l.Line, l.SKU, l.Warehouse, l.BaseUoM, int64(l.Ordered), int64(l.Allocated), int64(l.Picked), int64(l.Packed),
			int64(l.Shipped), int64(l.Short), int64(l.Cancelled), l.Allocation, l.NeedAllocate, l.NeedRelease, l.Gen); err != nil {
			return fmt.Errorf("save outbound order %s line %d: %w", o.ID, l.Line, err)
		}
	}
	if _, err := t.Tx.ExecContext(ctx, `DELETE FROM staged_parts WHERE order_id = $1`, o.ID); err != nil {
		return fmt.Errorf("save outbound order %s staging: %w", o.ID, err)
	}
	for _, s := range o.Staged {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO staged_parts (order_id, line, lot, location, qty, packed)
			VALUES ($1, $2, $3, $4, $5, $6)`, o.ID, s.Line, s.Lot, s.Location, int64(s.Qty), int64(s.Packed)); err != nil {
			return fmt.Errorf("save outbound order %s staging: %w", o.ID, err)
		}
	}
	return nil
}

func (r reader) GetOutboundOrder(ctx context.Context, id string) (*fulfillment.OutboundOrder, error) {
	os, err := r.outboundOrders(ctx, `SELECT `+outboundColumns+` FROM outbound_orders WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, apperr.NotFound("outbound order", id)
	}
	return os[0], nil
}

// ListOutboundOrders pages in id order.
func (r reader) ListOutboundOrders(ctx context.Context, f app.OutboundFilter, after string, limit int) ([]*fulfillment.OutboundOrder, error) {
	q := `SELECT ` + outboundColumns + ` FROM outbound_orders WHERE id > $1`
	args := []any{after}
	if f.State != 0 {
		args = append(args, f.State.String())
		q += fmt.Sprintf(" AND state = $%d", len(args))
	}
	if f.Partner != nil {
		args = append(args, *f.Partner)
		q += fmt.Sprintf(" AND partner = $%d", len(args))
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args))
	return r.outboundOrders(ctx, q, args...)
}

// OwedOutboundOrders lists up to limit orders with work owed to inventory.
func (r reader) OwedOutboundOrders(ctx context.Context, limit int) ([]string, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT DISTINCT order_id FROM outbound_lines
		WHERE need_allocate = TRUE OR need_release = TRUE ORDER BY order_id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("query owed outbound orders: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (r reader) outboundOrders(ctx context.Context, query string, args ...any) ([]*fulfillment.OutboundOrder, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query outbound orders: %w", err)
	}
	var out []*fulfillment.OutboundOrder
	for rows.Next() {
		var o fulfillment.OutboundOrder
		var state string
		var created, updated int64
		if err := rows.Scan(&o.ID, &o.Customer, &o.Partner, &state, &o.Shipments, &created, &updated, &o.Version); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan outbound order: %w", err)
		}
		var ok bool
		if o.State, ok = fulfillment.ParseOutboundState(state); !ok {
			rows.Close()
			return nil, fmt.Errorf("outbound order %s: unknown state %q", o.ID, state)
		}
		o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, &o)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	rows.Close()
	for _, o := range out {
		if err := r.outboundParts(ctx, o); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r reader) outboundParts(ctx context.Context, o *fulfillment.OutboundOrder) error {
	rows, err := r.q.QueryContext(ctx, `SELECT line, sku, warehouse, base_uom, ordered, allocated, picked, packed, shipped,
		short, cancelled, allocation, need_allocate, need_release, gen FROM outbound_lines WHERE order_id = $1 ORDER BY line`, o.ID)
	if err != nil {
		return fmt.Errorf("query outbound order %s lines: %w", o.ID, err)
	}
	for rows.Next() {
		var l fulfillment.OutboundLine
		var n [7]int64
		if err := rows.Scan(&l.Line, &l.SKU, &l.Warehouse, &l.BaseUoM, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6],
			&l.Allocation, &l.NeedAllocate, &l.NeedRelease, &l.Gen); err != nil {
			rows.Close()
			return fmt.Errorf("scan outbound order %s line: %w", o.ID, err)
		}
		l.Ordered, l.Allocated, l.Picked, l.Packed = qty.Qty(n[0]), qty.Qty(n[1]), qty.Qty(n[2]), qty.Qty(n[3])
		l.Shipped, l.Short, l.Cancelled = qty.Qty(n[4]), qty.Qty(n[5]), qty.Qty(n[6])
		o.Lines = append(o.Lines, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = r.q.QueryContext(ctx, `SELECT line, lot, location, qty, packed FROM staged_parts WHERE order_id = $1
		ORDER BY line, lot, location`, o.ID)
	if err != nil {
		return fmt.Errorf("query outbound order %s staging: %w", o.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s fulfillment.StagedPart
		var q, p int64
		if err := rows.Scan(&s.Line, &s.Lot, &s.Location, &q, &p); err != nil {
			return err
		}
		s.Qty, s.Packed = qty.Qty(q), qty.Qty(p)
		o.Staged = append(o.Staged, s)
	}
	return rows.Err()
}

const shipmentColumns = `id, order_id, warehouse, partner, state, carrier, service_level, tracking, created_at, shipped_at, version`

// InsertShipment writes a new shipment with its lines and cartons.
func (t *tx) InsertShipment(ctx context.Context, s *fulfillment.Shipment) error {
	if _, err := t.Tx.ExecContext(ctx, `INSERT INTO shipments (`+shipmentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		s.ID, s.OutboundOrder, s.Warehouse, s.Partner, s.State.String(), s.Carrier, s.ServiceLevel, s.Tracking,
		s.CreatedAt.UnixMicro(), micros(s.ShippedAt), s.Version); err != nil {
		return fmt.Errorf("insert shipment %s: %w", s.ID, err)
	}
	for _, c := range s.Cartons {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO shipment_cartons (shipment_id, number, weight_kg, length_cm, width_cm, height_cm)
			VALUES ($1, $2, $3, $4, $5, $6)`, s.ID, c.Number, c.Weight, c.Length, c.Width, c.Height); err != nil {
			return fmt.Errorf("insert shipment %s carton: %w", s.ID, err)
		}
	}
	return t.saveShipmentLines(ctx, s)
}

// SaveShipment writes a shipment read (and locked) at version prev.
func (t *tx) SaveShipment(ctx context.Context, s *fulfillment.Shipment, prev int64) error {
	res, err := t.Tx.ExecContext(ctx, `UPDATE shipments SET state = $1, carrier = $2, service_level = $3, tracking = $4,
		shipped_at = $5, version = $6 WHERE id = $7 AND version = $8`, s.State.String(), s.Carrier, s.ServiceLevel, s.Tracking,
		micros(s.ShippedAt), s.Version, s.ID, prev)
	if err != nil {
		return fmt.Errorf("update shipment %s: %w", s.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return apperr.Conflict(fmt.Sprintf("shipment %s changed concurrently; retry", s.ID), nil)
	}
	return t.saveShipmentLines(ctx, s)
}

func (t *tx) saveShipmentLines(ctx context.Context, s *fulfillment.Shipment) error {
	for i, l := range s.Lines {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO shipment_lines (shipment_id, n, line, sku, lot, location, qty, base_uom,
			allocation, cost_minor, cost_currency, movement) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (shipment_id, n) DO UPDATE SET cost_minor = excluded.cost_minor, cost_currency = excluded.cost_currency,
			movement = excluded.movement`, s.ID, i+1, l.Line, l.SKU, l.Lot, l.Location, int64(l.Qty), l.BaseUoM, l.Allocation,
			l.CostMinor, l.CostCurrency, l.Movement); err != nil {
			return fmt.Errorf("save shipment %s line: %w", s.ID, err)
		}
	}
	return nil
}

// LockShipment reads a shipment and, on PostgreSQL, locks its row.
func (t *tx) LockShipment(ctx context.Context, id string) (*fulfillment.Shipment, error) {
	q := `SELECT ` + shipmentColumns + ` FROM shipments WHERE id = $1`
	if t.Tx.Dialect == sqldb.Postgres {
		q += ` FOR UPDATE`
	}
	ss, err := t.shipments(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, apperr.NotFound("shipment", id)
	}
	return ss[0], nil
}

func (r reader) GetShipment(ctx context.Context, id string) (*fulfillment.Shipment, error) {
	ss, err := r.shipments(ctx, `SELECT `+shipmentColumns+` FROM shipments WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, apperr.NotFound("shipment", id)
	}
	return ss[0], nil
}

// ListShipments pages in id order, optionally of one order.
func (r reader) ListShipments(ctx context.Context, order string, partner *string, after string, limit int) ([]*fulfillment.Shipment, error) {
	q := `SELECT ` + shipmentColumns + ` FROM shipments WHERE id > $1`
	args := []any{after}
	if order != "" {
		args = append(args, order)
		q += fmt.Sprintf(" AND order_id = $%d", len(args))
	}
	if partner != nil {
		args = append(args, *partner)
		q += fmt.Sprintf(" AND partner = $%d", len(args))
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args))
	return r.shipments(ctx, q, args...)
}

func (r reader) shipments(ctx context.Context, query string, args ...any) ([]*fulfillment.Shipment, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query shipments: %w", err)
	}
	var out []*fulfillment.Shipment
	for rows.Next() {
		var s fulfillment.Shipment
		var state string
		var created, shipped int64
		if err := rows.Scan(&s.ID, &s.OutboundOrder, &s.Warehouse, &s.Partner, &state, &s.Carrier, &s.ServiceLevel, &s.Tracking,
			&created, &shipped, &s.Version); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan shipment: %w", err)
		}
		var ok bool
		if s.State, ok = fulfillment.ParseShipmentState(state); !ok {
			rows.Close()
			return nil, fmt.Errorf("shipment %s: unknown state %q", s.ID, state)
		}
		s.CreatedAt, s.ShippedAt = fromMicros(created), fromMicros(shipped)
		out = append(out, &s)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	rows.Close()
	for _, s := range out {
		if err := r.shipmentParts(ctx, s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r reader) shipmentParts(ctx context.Context, s *fulfillment.Shipment) error {
	rows, err := r.q.QueryContext(ctx, `SELECT line, sku, lot, location, qty, base_uom, allocation, cost_minor, cost_currency, movement
		FROM shipment_lines WHERE shipment_id = $1 ORDER BY n`, s.ID)
	if err != nil {
		return fmt.Errorf("query shipment %s lines: %w", s.ID, err)
	}
	for rows.Next() {
		var l fulfillment.ShipmentLine
		var q int64
		if err := rows.Scan(&l.Line, &l.SKU, &l.Lot, &l.Location, &q, &l.BaseUoM, &l.Allocation, &l.CostMinor, &l.CostCurrency, &l.Movement); err != nil {
			rows.Close()
			return err
		}
		l.Qty = qty.Qty(q)
		s.Lines = append(s.Lines, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = r.q.QueryContext(ctx, `SELECT number, weight_kg, length_cm, width_cm, height_cm FROM shipment_cartons
		WHERE shipment_id = $1 ORDER BY number`, s.ID)
	if err != nil {
		return fmt.Errorf("query shipment %s cartons: %w", s.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c fulfillment.Carton
		if err := rows.Scan(&c.Number, &c.Weight, &c.Length, &c.Width, &c.Height); err != nil {
			return err
		}
		s.Cartons = append(s.Cartons, c)
	}
	return rows.Err()
}
