package app

import (
	"context"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/inventory/internal/inventory"
)

// Return takes back stock a customer returned from a shipped issue.
type Return struct {
	RequestID, IssueID, Warehouse, Location string
	Quantity                                Quantity
	Source                                  inventory.SourceDoc
	EffectiveAt                             time.Time
}

// ReturnStock books returned stock into a location at the cost of the issue
// it was shipped by (inventory.ReturnValue), as corrected since by the cost
// corrections naming it (an issue of negative FIFO stock), not at current
// cost: a RETURN
// movement naming the issue, in the issue's lot. At most what the issue took
// comes back, across its returns. The warehouse's currency rule applies as
// for a receipt.
func (s *Service) ReturnStock(ctx context.Context, c Return) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ReturnStock", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			iss, err := tx.GetMovement(ctx, strings.TrimSpace(c.IssueID))
			if err != nil {
				return nil, "", err
			}
			it, err := itemForStock(ctx, tx, iss.SKU)
			if err != nil {
				return nil, "", err
			}
			loc, err := locationFor(ctx, tx, c.Warehouse, c.Location, true)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q <= 0 && len(v) == 0 {
				v.Add("quantity.value", "must be greater than zero")
			}
			requireSource(c.Source, &v, inventory.SourceReturn)
			if err := checkSerialIn(ctx, tx, it, iss.Lot, q, &v); err != nil {
				return nil, "", err
			}
			now := s.stockTime()
			at := inventory.EffectiveTime(c.EffectiveAt, now, &v)
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			before, err := tx.ReturnedOf(ctx, iss.ID)
			if err != nil {
				return nil, "", err
			}
			// At the issue's cost as corrected since (negative stock
			// filled later at another cost), so a return of the whole issue
			// takes back exactly what it finally cost.
			corr, err := tx.CorrectionOf(ctx, iss.ID)
			if err != nil {
				return nil, "", err
			}
			costed := *iss
			costed.Value += corr
			value, err := inventory.ReturnValue(&costed, before, q)
			if err != nil {
				return nil, "", err
			}
			book, err := lockBook(ctx, tx, it, loc.Warehouse)
			if err != nil {
				return nil, "", err
			}
			if err := book.CheckCurrency(iss.Currency); err != nil {
				return nil, "", err
			}
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveReturn, SKU: it.SKU, Warehouse: loc.Warehouse, ToLocation: loc.Code,
				Lot: iss.Lot, ExpiryDate: iss.ExpiryDate, EnteredQty: strings.TrimSpace(c.Quantity.Value), EnteredUoM: enteredUoM(it, c.Quantity.UoM),
				BaseQty: q, Value: value, Currency: iss.Currency, Source: c.Source, CreatedAt: now, EffectiveAt: at, Returns: iss.ID, Order: iss.Order,
			}
			fix, err := stockIn(ctx, tx, it, m, book, nil)
			if err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockReturned{Movement: *m}); err != nil {
				return nil, "", err
			}
			if err := emitCorrection(ctx, tx, fix); err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}
