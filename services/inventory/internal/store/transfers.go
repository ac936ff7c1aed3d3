package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"trueup.dev/platform/apperr"
	"trueup.dev/services/inventory/internal/inventory"
)

const transferColumns = `id, sku, from_warehouse, from_location, to_warehouse, to_location, lot, expiry_date, qty, value_minor, currency,
	state, out_movement_id, source_type, source_id, source_line, created_at, received_at`

func (t *tx) InsertTransfer(ctx context.Context, tr *inventory.Transfer) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO transfers (`+transferColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		tr.ID, tr.SKU, tr.FromWarehouse, tr.FromLocation, tr.ToWarehouse, tr.ToLocation, tr.Lot, tr.ExpiryDate,
		int64(tr.Qty), tr.Value, tr.Currency, int(tr.State), tr.OutMovementID, int(tr.Source.Type), tr.Source.ID, tr.Source.Line,
		micros(tr.CreatedAt), receivedMicros(tr))
	if err != nil {
		return fmt.Errorf("insert transfer: %w", err)
	}
	for i, l := range tr.Layers {
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO transfer_layers (transfer_id, pos, source_layer_id, qty, value_minor, received_at, in_movement_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, tr.ID, i, l.SourceLayerID, int64(l.Qty), l.Value, micros(l.ReceivedAt), l.InMovementID); err != nil {
			return fmt.Errorf("insert transfer layer: %w", err)
		}
	}
	return nil
}

func receivedMicros(tr *inventory.Transfer) int64 {
	if tr.ReceivedAt.IsZero() {
		return 0
	}
	return micros(tr.ReceivedAt)
}

func (t *tx) UpdateTransfer(ctx context.Context, tr *inventory.Transfer) error {
	_, err := t.Tx.ExecContext(ctx, `UPDATE transfers SET state = $2, to_location = $3, received_at = $4 WHERE id = $1`,
		tr.ID, int(tr.State), tr.ToLocation, receivedMicros(tr))
	if err != nil {
		return fmt.Errorf("update transfer: %w", err)
	}
	for i, l := range tr.Layers {
		if _, err := t.Tx.ExecContext(ctx, `UPDATE transfer_layers SET in_movement_id = $3 WHERE transfer_id = $1 AND pos = $2`,
			tr.ID, i, l.InMovementID); err != nil {
			return fmt.Errorf("update transfer layer: %w", err)
		}
	}
	return nil
}

func (t *tx) LockTransfer(ctx context.Context, id string) (*inventory.Transfer, error) {
	return t.transfer(ctx, id, t.forUpdate(""))
}

func (r reader) GetTransfer(ctx context.Context, id string) (*inventory.Transfer, error) {
	return r.transfer(ctx, id, "")
}

func (r reader) transfer(ctx context.Context, id, lock string) (*inventory.Transfer, error) {
	var tr inventory.Transfer
	var qty, created, received int64
	var state, sourceType int
	err := r.q.QueryRowContext(ctx, `SELECT `+transferColumns+` FROM transfers WHERE id = $1`+lock, id).Scan(
		&tr.ID, &tr.SKU, &tr.FromWarehouse, &tr.FromLocation, &tr.ToWarehouse, &tr.ToLocation, &tr.Lot, &tr.ExpiryDate,
		&qty, &tr.Value, &tr.Currency, &state, &tr.OutMovementID, &sourceType, &tr.Source.ID, &tr.Source.Line, &created, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.NotFound("transfer", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read transfer: %w", err)
	}
	tr.Qty, tr.State, tr.Source.Type, tr.CreatedAt = inventory.Qty(qty), inventory.TransferState(state), inventory.SourceType(sourceType), fromMicros(created)
	if received != 0 {
		tr.ReceivedAt = fromMicros(received)
	}
	rows, err := r.q.QueryContext(ctx, `SELECT source_layer_id, qty, value_minor, received_at, in_movement_id FROM transfer_layers
		WHERE transfer_id = $1 ORDER BY pos`, id)
	if err != nil {
		return nil, fmt.Errorf("read transfer layers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l inventory.CarriedLayer
		var q, at int64
		if err := rows.Scan(&l.SourceLayerID, &q, &l.Value, &at, &l.InMovementID); err != nil {
			return nil, fmt.Errorf("scan transfer layer: %w", err)
		}
		l.Qty, l.ReceivedAt = inventory.Qty(q), fromMicros(at)
		tr.Layers = append(tr.Layers, l)
	}
	return &tr, rows.Err()
}

func (t *tx) LockLayer(ctx context.Context, id string) (*inventory.Layer, error) {
	ls, err := t.layers(ctx, `WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("lock cost layer: %w", err)
	}
	if len(ls) == 0 {
		return nil, nil
	}
	return ls[0], nil
}

func (t *tx) BookChangedSince(ctx context.Context, warehouse, sku string, seq int64) (bool, error) {
	// Through movements_by_item (sku, seq): only the movements after seq.
	var n int
	err := t.Tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM movements
		WHERE sku = $1 AND seq > $2 AND warehouse = $3 AND type <> $4 LIMIT 1) later`,
		sku, seq, warehouse, int(inventory.MoveTransfer)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("movements since %d: %w", seq, err)
	}
	return n > 0, nil
}

func (r reader) ReversalOf(ctx context.Context, id string) (string, error) {
	var by string
	err := r.q.QueryRowContext(ctx, `SELECT id FROM movements WHERE reverses = $1 AND reverses <> '' ORDER BY seq LIMIT 1`, id).Scan(&by)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find reversal: %w", err)
	}
	return by, nil
}

func (r reader) CorrectionOf(ctx context.Context, issueID string) (int64, error) {
	var v int64
	err := r.q.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(value_minor), 0) AS BIGINT) FROM issue_corrections WHERE issue_id = $1`, issueID).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("sum issue corrections: %w", err)
	}
	return v, nil
}

func (t *tx) InsertIssueCorrections(ctx context.Context, correctionID string, byIssue map[string]int64) error {
	ids := slices.Sorted(maps.Keys(byIssue))
	for _, id := range ids {
		if byIssue[id] == 0 {
			continue
		}
		if _, err := t.Tx.ExecContext(ctx, `INSERT INTO issue_corrections (issue_id, correction_id, value_minor) VALUES ($1, $2, $3)`,
			id, correctionID, byIssue[id]); err != nil {
			return fmt.Errorf("record correction of issue %s: %w", id, err)
		}
	}
	return nil
}

func (r reader) ReturnedOf(ctx context.Context, issueID string) (inventory.Qty, error) {
	var q int64
	err := r.q.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(base_qty), 0) AS BIGINT) FROM movements WHERE returns = $1 AND returns <> ''`, issueID).Scan(&q)
	if err != nil {
		return 0, fmt.Errorf("sum returns: %w", err)
	}
	return inventory.Qty(q), nil
}
