package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"trueup.dev/services/inventory/internal/inventory"
)

// LockBook loads the cost book of sku in warehouse for a stock command. A
// FIFO book is loaded in part, whatever its history: its oldest open layer
// (the book's currency) and its newest costed layer (Last), the sums of the
// rest from cost_books, and a Rest that loads the layers a command reaches,
// oldest first, through the partial indexes of migration 0003, in batches.
// A moving-average book is one pool per currency (plus, rarely, a negative
// layer), so it is loaded whole. Every layer handed out is locked (PostgreSQL;
// the item lock, taken first, already serialises the commands of the item).
func (t *tx) LockBook(ctx context.Context, warehouse, sku string, method inventory.CostMethod) (*inventory.Book, error) {
	if method == inventory.CostMovingAverage {
		open, err := t.layers(ctx, `WHERE sku = $1 AND warehouse = $2 AND qty_remaining <> 0 ORDER BY seq`, sku, warehouse)
		if err != nil {
			return nil, fmt.Errorf("lock cost layers: %w", err)
		}
		last, err := t.lastCost(ctx, warehouse, sku)
		if err != nil || last == nil {
			return &inventory.Book{Method: method, Open: open}, err
		}
		// One value per layer, so a change to Last is seen in Open.
		for _, l := range open {
			if l.ID == last.ID {
				return &inventory.Book{Method: method, Open: open, Last: l}, nil
			}
		}
		return &inventory.Book{Method: method, Open: open, Last: last}, nil
	}

	b := &inventory.Book{Method: method}
	oldest, err := t.layers(ctx, `WHERE sku = $1 AND warehouse = $2 AND qty_remaining <> 0 ORDER BY seq LIMIT 1`, sku, warehouse)
	if err != nil {
		return nil, fmt.Errorf("lock oldest cost layer: %w", err)
	}
	b.Open = oldest
	if b.Last, err = t.lastCost(ctx, warehouse, sku); err != nil {
		return nil, err
	}
	if b.Last != nil && b.Last.QtyRemaining != 0 {
		if len(oldest) == 1 && oldest[0].ID == b.Last.ID {
			b.Last = oldest[0]
		} else {
			b.Open = append(b.Open, b.Last) // newer than the oldest
		}
	}
	// What was handed out, as it was: the rest is the sums less these.
	handed := map[string]inventory.Layer{}
	for _, l := range b.Open {
		handed[l.ID] = *l
	}
	rest := &inventory.Rest{}
	err = t.Tx.QueryRowContext(ctx, `SELECT layers, qty_open, value_open FROM cost_books WHERE warehouse = $1 AND sku = $2`, warehouse, sku).
		Scan(&rest.Layers, (*int64)(&rest.Qty), &rest.Value)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read cost book: %w", err)
	}
	for _, l := range handed {
		rest.Layers--
		rest.Qty -= l.QtyRemaining
		rest.Value -= l.ValueRemaining
	}
	if len(oldest) == 1 {
		rest.Currency = oldest[0].Currency
	}
	rest.Lot = func(lot string) (inventory.LotRest, error) {
		var lr inventory.LotRest
		err := t.Tx.QueryRowContext(ctx, `SELECT stock_qty, stock_value, negatives FROM cost_lots WHERE warehouse = $1 AND sku = $2 AND lot = $3`,
			warehouse, sku, lot).Scan((*int64)(&lr.StockQty), &lr.StockValue, &lr.Negatives)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return lr, err
		}
		for _, l := range handed {
			switch {
			case l.Lot != lot:
			case l.QtyRemaining > 0:
				lr.StockQty -= l.QtyRemaining
				lr.StockValue -= l.ValueRemaining
			case l.QtyRemaining < 0:
				lr.Negatives--
			}
		}
		return lr, nil
	}
	// Each kind of load pages by seq from where it stopped.
	cursors := map[inventory.LoadQuery]int64{}
	rest.Load = func(q inventory.LoadQuery) ([]*inventory.Layer, error) {
		limit := q.Limit
		q.Limit = 0
		cond := `lot = $3 AND qty_remaining > 0`
		switch {
		case q.Negative:
			cond = `lot = $3 AND qty_remaining < 0`
		case q.OtherLots:
			cond = `lot <> $3 AND qty_remaining > 0`
		}
		var out []*inventory.Layer
		for len(out) < limit {
			got, err := t.layers(ctx, `WHERE sku = $1 AND warehouse = $2 AND `+cond+` AND seq > $4 ORDER BY seq LIMIT $5`,
				sku, warehouse, q.Lot, cursors[q], limit)
			if err != nil {
				return nil, err
			}
			for _, l := range got {
				cursors[q] = l.Seq
				if _, ok := handed[l.ID]; !ok {
					handed[l.ID] = *l
					out = append(out, l)
				}
			}
			if len(got) < limit {
				break
			}
		}
		return out, nil
	}
	b.Rest = rest
	return b, nil
}

// layers reads (and locks) the cost layers a WHERE ... clause selects.
func (t *tx) layers(ctx context.Context, where string, args ...any) ([]*inventory.Layer, error) {
	rows, err := t.Tx.QueryContext(ctx, `SELECT `+layerColumns+` FROM cost_layers `+where+t.forUpdate(""), args...)
	if err != nil {
		return nil, err
	}
	return scanLayers(rows)
}

// lastCost is the newest layer that received stock at a cost: a negative
// layer (qty_in = 0) is stock issued ahead of a receipt, no cost.
func (t *tx) lastCost(ctx context.Context, warehouse, sku string) (*inventory.Layer, error) {
	last, err := t.layers(ctx, `WHERE sku = $1 AND warehouse = $2 AND qty_in > 0 ORDER BY seq DESC LIMIT 1`, sku, warehouse)
	if err != nil {
		return nil, fmt.Errorf("read last cost layer: %w", err)
	}
	if len(last) == 0 {
		return nil, nil
	}
	return last[0], nil
}
