package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/inventory/internal/inventory"
)

// Transfer sends stock from a location of one warehouse to another warehouse.
type Transfer struct {
	RequestID, SKU, Warehouse, FromLocation, ToWarehouse string
	Quantity                                             Quantity
	Lot                                                  string
	Source                                               inventory.SourceDoc
	EffectiveAt                                          time.Time
}

// ReceiveTransfer books a transfer in transit into a location of its
// destination warehouse.
type ReceiveTransfer struct {
	RequestID, TransferID, Warehouse, Location string
	EffectiveAt                                time.Time
}

// Reverse reverses a wrong receipt.
type Reverse struct {
	RequestID, MovementID string
	// Source is the document behind the reversal; zero means the original's.
	Source      inventory.SourceDoc
	EffectiveAt time.Time
}

func replayTransfer(ctx context.Context) func(Tx, string) (*inventory.Transfer, error) {
	return func(tx Tx, id string) (*inventory.Transfer, error) { return tx.GetTransfer(ctx, id) }
}

// GetTransfer returns a transfer: while in transit, its value is stock in
// transit (in neither warehouse's valuation).
func (s *Service) GetTransfer(ctx context.Context, id string) (*inventory.Transfer, error) {
	return s.store.GetTransfer(ctx, strings.TrimSpace(id))
}

// TransferStock issues available stock from a location into transit towards
// another warehouse (see inventory/transfer.go): a TRANSFER_OUT movement that
// consumes the source's cost layers, and a transfer carrying each consumed
// part of a layer with its exact value and receipt time.
func (s *Service) TransferStock(ctx context.Context, c Transfer) (*inventory.Transfer, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "TransferStock", c.RequestID, c, replayTransfer(ctx),
		func(tx Tx) (*inventory.Transfer, string, error) {
			it, err := itemForStock(ctx, tx, c.SKU)
			if err != nil {
				return nil, "", err
			}
			from, err := locationFor(ctx, tx, c.Warehouse, c.FromLocation, false)
			if err != nil {
				return nil, "", err
			}
			to, err := tx.GetWarehouse(ctx, inventory.NormalizeCode(c.ToWarehouse))
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			if to.Code == from.Warehouse {
				v.Add("to_warehouse", "must differ from the source warehouse: move stock within a warehouse with MoveStock")
			}
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q <= 0 && len(v) == 0 {
				v.Add("quantity.value", "must be greater than zero")
			}
			lot, expiry, err := lotFor(ctx, tx, it, c.Lot, "", false, &v)
			if err != nil {
				return nil, "", err
			}
			requireSource(c.Source, &v, inventory.SourceTransfer)
			now := s.stockTime()
			at := inventory.EffectiveTime(c.EffectiveAt, now, &v)
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			level, err := tx.LockLevel(ctx, from.Warehouse, from.Code, it.SKU, lot)
			if err != nil {
				return nil, "", err
			}
			if level.Available() < q { // stock in transit is real stock: never negative
				return nil, "", insufficient(level, q)
			}
			book, err := lockBook(ctx, tx, it, from.Warehouse)
			if err != nil {
				return nil, "", err
			}
			tr := &inventory.Transfer{
				ID: newID(), SKU: it.SKU, FromWarehouse: from.Warehouse, FromLocation: from.Code, ToWarehouse: to.Code,
				Lot: lot, ExpiryDate: expiry, Qty: q, Currency: book.DefaultCurrency(), State: inventory.TransferInTransit,
				Source: c.Source, CreatedAt: now,
			}
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveTransferOut, SKU: it.SKU, Warehouse: from.Warehouse, FromLocation: from.Code,
				Lot: lot, ExpiryDate: expiry, EnteredQty: strings.TrimSpace(c.Quantity.Value), EnteredUoM: enteredUoM(it, c.Quantity.UoM),
				BaseQty: -q, Currency: tr.Currency, Source: c.Source, CreatedAt: now, EffectiveAt: at, TransferID: tr.ID,
			}
			out, err := book.Issue(lot, q, false, inventory.Layer{ID: m.ID + "-negative", SKU: it.SKU, Warehouse: m.Warehouse, ReceivedAt: now, MovementID: m.ID})
			if errors.Is(err, inventory.ErrLayersDisagreeWithStock) && it.AllowNegative {
				// The bin holds it, but the warehouse's stock is below zero
				// elsewhere: negative stock carries no cost to send.
				return nil, "", inventory.Refuse(inventory.ErrInsufficientStock,
					fmt.Sprintf("the stock of %s in %s is below zero overall: only costed stock is transferred", it.SKU, from.Warehouse),
					apperr.Violation{Type: inventory.ReasonInsufficientStock, Subject: "items/" + it.SKU, Description: "receive or count the missing stock first"})
			}
			if err != nil {
				return nil, "", err
			}
			if tr.Layers, err = inventory.Carry(book, out); err != nil {
				return nil, "", err
			}
			tr.Value, m.Value, m.Layers, tr.OutMovementID = out.Value, -out.Value, out.Takes, m.ID
			// The destination's currency rule is checked again on arrival;
			// refusing here spares a transfer that could never be received.
			dest, err := lockBook(ctx, tx, it, to.Code)
			if err != nil {
				return nil, "", err
			}
			if err := dest.CheckCurrency(tr.Currency); err != nil {
				return nil, "", err
			}
			if err := addToLocked(ctx, tx, level, -q, 0, now); err != nil {
				return nil, "", err
			}
			if err := tx.InsertMovement(ctx, m); err != nil {
				return nil, "", err
			}
			if err := saveLayers(ctx, tx, out.Changed); err != nil {
				return nil, "", err
			}
			if err := tx.InsertTransfer(ctx, tr); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockTransferredOut{Movement: *m, Transfer: *tr}); err != nil {
				return nil, "", err
			}
			return tr, tr.ID, nil
		})
}

// ReceiveTransfer books a transfer into a location of its destination: one
// TRANSFER_IN movement per carried layer, at exactly the value it left with,
// keeping its receipt time. The destination must value the item in the
// transfer's currency or hold none of it.
func (s *Service) ReceiveTransfer(ctx context.Context, c ReceiveTransfer) (*inventory.Transfer, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ReceiveTransfer", c.RequestID, c, replayTransfer(ctx),
		func(tx Tx) (*inventory.Transfer, string, error) {
			peek, err := tx.GetTransfer(ctx, strings.TrimSpace(c.TransferID))
			if err != nil {
				return nil, "", err
			}
			it, err := itemForStock(ctx, tx, peek.SKU) // the item lock first, as every stock command
			if err != nil {
				return nil, "", err
			}
			tr, err := tx.LockTransfer(ctx, peek.ID)
			if err != nil {
				return nil, "", err
			}
			if err := tr.CheckReceivable(); err != nil {
				return nil, "", err
			}
			loc, err := locationFor(ctx, tx, c.Warehouse, c.Location, true)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			if loc.Warehouse != tr.ToWarehouse {
				v.Add("location", "must be a location of the transfer's destination, warehouses/"+tr.ToWarehouse)
			}
			now := s.stockTime()
			at := inventory.EffectiveTime(c.EffectiveAt, now, &v)
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			book, err := lockBook(ctx, tx, it, tr.ToWarehouse)
			if err != nil {
				return nil, "", err
			}
			if err := book.CheckCurrency(tr.Currency); err != nil {
				return nil, "", err
			}
			// Every layer arrives in the one level: it is locked once.
			level, err := tx.LockLevel(ctx, tr.ToWarehouse, loc.Code, it.SKU, tr.Lot)
			if err != nil {
				return nil, "", err
			}
			var ins []inventory.Movement
			var fixes []*inventory.Movement
			for i := range tr.Layers {
				l := &tr.Layers[i]
				m := &inventory.Movement{
					ID: newID(), Type: inventory.MoveTransferIn, SKU: it.SKU, Warehouse: tr.ToWarehouse, ToLocation: loc.Code,
					Lot: tr.Lot, ExpiryDate: tr.ExpiryDate, EnteredQty: l.Qty.String(), EnteredUoM: it.BaseUoM,
					BaseQty: l.Qty, Value: l.Value, Currency: tr.Currency, Source: tr.Source, CreatedAt: now, EffectiveAt: at, TransferID: tr.ID,
				}
				fix, err := stockInAt(ctx, tx, it, m, book, level, l.ReceivedAt)
				if err != nil {
					return nil, "", err
				}
				l.InMovementID = m.ID
				ins = append(ins, *m)
				if fix != nil {
					fixes = append(fixes, fix)
				}
			}
			tr.State, tr.ToLocation, tr.ReceivedAt = inventory.TransferReceived, loc.Code, now
			if err := tx.UpdateTransfer(ctx, tr); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockTransferReceived{Movements: ins, Transfer: *tr}); err != nil {
				return nil, "", err
			}
			for _, fix := range fixes {
				if err := emitCorrection(ctx, tx, fix); err != nil {
					return nil, "", err
				}
			}
			return tr, tr.ID, nil
		})
}

// ReverseMovement takes a wrong receipt back out at exactly its cost layer
// (see inventory.ReverseReceipt): a REVERSAL movement naming the receipt,
// which stays as it was. The reversed stock must still be available where
// the receipt put it.
func (s *Service) ReverseMovement(ctx context.Context, c Reverse) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ReverseMovement", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			orig, err := tx.GetMovement(ctx, strings.TrimSpace(c.MovementID))
			if err != nil {
				return nil, "", err
			}
			it, err := itemForStock(ctx, tx, orig.SKU)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			now := s.stockTime()
			at := inventory.EffectiveTime(c.EffectiveAt, now, &v)
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			by, err := tx.ReversalOf(ctx, orig.ID)
			if err != nil {
				return nil, "", err
			}
			var layer *inventory.Layer
			changed := false
			switch {
			case orig.Type != inventory.MoveReceipt:
			case it.CostMethod == inventory.CostMovingAverage:
				// The receipt's share of the pool: the pool as it stands, and
				// whether anything moved the book since the receipt.
				book, err := lockBook(ctx, tx, it, orig.Warehouse)
				if err != nil {
					return nil, "", err
				}
				layer = book.Last
				if changed, err = tx.BookChangedSince(ctx, orig.Warehouse, it.SKU, orig.Seq); err != nil {
					return nil, "", err
				}
			default:
				if layer, err = tx.LockLayer(ctx, orig.ID); err != nil {
					return nil, "", err
				}
			}
			tk, err := inventory.ReverseReceipt(orig, it.CostMethod, layer, by, changed)
			if err != nil {
				return nil, "", err
			}
			level, err := tx.LockLevel(ctx, orig.Warehouse, orig.ToLocation, it.SKU, orig.Lot)
			if err != nil {
				return nil, "", err
			}
			if level.Available() < tk.Qty {
				return nil, "", insufficient(level, tk.Qty)
			}
			src := c.Source
			if src == (inventory.SourceDoc{}) {
				src = orig.Source
			}
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveReversal, SKU: it.SKU, Warehouse: orig.Warehouse, FromLocation: orig.ToLocation,
				Lot: orig.Lot, ExpiryDate: orig.ExpiryDate, EnteredQty: (-tk.Qty).String(), EnteredUoM: it.BaseUoM,
				BaseQty: -tk.Qty, Value: -tk.Value, Currency: layer.Currency, Layers: []inventory.Take{tk},
				Source: src, CreatedAt: now, EffectiveAt: at, Reverses: orig.ID,
			}
			if err := addToLocked(ctx, tx, level, m.BaseQty, 0, now); err != nil {
				return nil, "", err
			}
			if err := tx.InsertMovement(ctx, m); err != nil {
				return nil, "", err
			}
			if err := tx.SaveLayer(ctx, layer); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockReversed{Movement: *m}); err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}

// GetMovement returns one movement of the journal.
func (s *Service) GetMovement(ctx context.Context, id string) (*inventory.Movement, error) {
	return s.store.GetMovement(ctx, strings.TrimSpace(id))
}
