package app

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/inventory/internal/inventory"
)

// Receive records stock coming in.
type Receive struct {
	RequestID, SKU, Warehouse, Location string
	Quantity                            Quantity
	Lot, ExpiryDate                     string
	Cost                                UnitCost
	Source                              inventory.SourceDoc
	// EffectiveAt is when it happened; zero means now.
	EffectiveAt time.Time
}

// Move moves stock between two locations of a warehouse.
type Move struct {
	RequestID, SKU, Warehouse, From, To string
	Quantity                            Quantity
	Lot                                 string
	Source                              inventory.SourceDoc
	EffectiveAt                         time.Time
}

// Issue takes stock out of a location. A scrap is an issue with a Reason
// (required when the source is an adjustment).
type Issue struct {
	RequestID, SKU, Warehouse, Location string
	Quantity                            Quantity
	Lot, Reason                         string
	Source                              inventory.SourceDoc
	EffectiveAt                         time.Time
}

// Adjust corrects stock by a signed quantity.
type Adjust struct {
	RequestID, SKU, Warehouse, Location string
	Quantity                            Quantity
	Lot, ExpiryDate, Reason             string
	Source                              inventory.SourceDoc
	// Cost values found stock of an item with no cost in the warehouse yet,
	// or whose stock there is at zero (an opening balance, possibly in a new
	// currency); otherwise found stock is valued at the current cost, and a
	// Cost in another currency than the stock's is refused.
	Cost        UnitCost
	EffectiveAt time.Time
}

// Count sets stock to a counted quantity. Reason defaults to
// inventory.CountDifferenceCode.
type Count struct {
	RequestID, SKU, Warehouse, Location string
	Counted                             Quantity
	Lot, ExpiryDate, Reason             string
	Source                              inventory.SourceDoc
	// Cost values found stock of an item with no cost in the warehouse yet,
	// or whose stock there is at zero (an opening balance, possibly in a new
	// currency); otherwise found stock is valued at the current cost, and a
	// Cost in another currency than the stock's is refused.
	Cost        UnitCost
	EffectiveAt time.Time
}

// costUoM is the unit a cost is for: its own, else the quantity's.
func costUoM(c UnitCost, quantityUoM string) string {
	if strings.TrimSpace(c.UoM) != "" {
		return c.UoM
	}
	return quantityUoM
}

// ReceiveStock records a receipt at its unit cost and opens a cost layer.
func (s *Service) ReceiveStock(ctx context.Context, c Receive) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ReceiveStock", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			it, err := itemForStock(ctx, tx, c.SKU)
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
			lot, expiry, err := lotFor(ctx, tx, it, c.Lot, c.ExpiryDate, true, &v)
			if err != nil {
				return nil, "", err
			}
			requireSource(c.Source, &v, inventory.SourcePurchaseOrder, inventory.SourceReceipt, inventory.SourceReturn, inventory.SourceTransfer)
			if err := checkSerialIn(ctx, tx, it, lot, q, &v); err != nil {
				return nil, "", err
			}
			perBase, currency := parseCost(it, c.Cost, c.Quantity.UoM, &v)
			now := s.stockTime()
			at := inventory.EffectiveTime(c.EffectiveAt, now, &v)
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			book, err := lockBook(ctx, tx, it, loc.Warehouse)
			if err != nil {
				return nil, "", err
			}
			if err := book.CheckCurrency(currency); err != nil {
				return nil, "", err
			}
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveReceipt, SKU: it.SKU, Warehouse: loc.Warehouse, ToLocation: loc.Code,
				Lot: lot, ExpiryDate: expiry, EnteredQty: strings.TrimSpace(c.Quantity.Value), EnteredUoM: enteredUoM(it, c.Quantity.UoM),
				BaseQty: q, Currency: currency, Source: c.Source, CreatedAt: now, EffectiveAt: at,
				CostAmount: strings.TrimSpace(c.Cost.Amount), CostUoM: enteredUoM(it, costUoM(c.Cost, c.Quantity.UoM)),
			}
			if m.Value, err = inventory.Value(q, perBase, "quantity.value"); err != nil {
				return nil, "", err
			}
			fix, err := stockIn(ctx, tx, it, m, book, nil)
			if err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockReceived{Movement: *m}); err != nil {
				return nil, "", err
			}
			if err := emitCorrection(ctx, tx, fix); err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}

// MoveStock moves available stock between two locations of one warehouse.
func (s *Service) MoveStock(ctx context.Context, c Move) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "MoveStock", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			it, err := itemForStock(ctx, tx, c.SKU)
			if err != nil {
				return nil, "", err
			}
			from, err := locationFor(ctx, tx, c.Warehouse, c.From, false)
			if err != nil {
				return nil, "", err
			}
			to, err := locationFor(ctx, tx, c.Warehouse, c.To, true)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			if from.Code == to.Code {
				v.Add("to_location", "must differ from from_location")
			}
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q <= 0 && len(v) == 0 {
				v.Add("quantity.value", "must be greater than zero")
			}
			lot, expiry, err := lotFor(ctx, tx, it, c.Lot, "", false, &v)
			if err != nil {
				return nil, "", err
			}
			now := s.stockTime()
			at := inventory.EffectiveTime(c.EffectiveAt, now, &v)
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			level, err := tx.LockLevel(ctx, from.Warehouse, from.Code, it.SKU, lot)
			if err != nil {
				return nil, "", err
			}
			if level.Available() < q {
				return nil, "", insufficient(level, q)
			}
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveTransfer, SKU: it.SKU, Warehouse: from.Warehouse, FromLocation: from.Code, ToLocation: to.Code,
				Lot: lot, ExpiryDate: expiry, EnteredQty: strings.TrimSpace(c.Quantity.Value), EnteredUoM: enteredUoM(it, c.Quantity.UoM),
				BaseQty: q, Source: c.Source, CreatedAt: now, EffectiveAt: at,
			}
			if err := addToLocked(ctx, tx, level, -q, 0, now); err != nil {
				return nil, "", err
			}
			// The moved stock keeps its age, so FIFO still sees it as old stock.
			if err := addToLevel(ctx, tx, to.Warehouse, to.Code, it.SKU, lot, q, 0, level.ReceivedAt); err != nil {
				return nil, "", err
			}
			if err := tx.InsertMovement(ctx, m); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockMoved{Movement: *m}); err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}

// IssueStock takes available stock out of a location and reports its cost.
func (s *Service) IssueStock(ctx context.Context, c Issue) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "IssueStock", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			it, err := itemForStock(ctx, tx, c.SKU)
			if err != nil {
				return nil, "", err
			}
			from, err := locationFor(ctx, tx, c.Warehouse, c.Location, false)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q <= 0 && len(v) == 0 {
				v.Add("quantity.value", "must be greater than zero")
			}
			requireSource(c.Source, &v, issueSources...)
			checkReturnToSupplier(c, &v)
			var reason *inventory.ReasonCode
			switch {
			case strings.TrimSpace(c.Reason) != "":
				if reason, err = reasonFor(ctx, tx, c.Reason, "reason_code", &v); err != nil {
					return nil, "", err
				}
			case c.Source.Type == inventory.SourceAdjustment:
				v.Add("reason_code", "is required for a scrap or write-off (an issue against an adjustment): e.g. SCRAP, DAMAGED, SAMPLE")
			}
			lot, expiry, err := lotFor(ctx, tx, it, c.Lot, "", false, &v)
			if err != nil {
				return nil, "", err
			}
			now := s.stockTime()
			at := inventory.EffectiveTime(c.EffectiveAt, now, &v)
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			level, err := tx.LockLevel(ctx, from.Warehouse, from.Code, it.SKU, lot)
			if err != nil {
				return nil, "", err
			}
			if err := checkAvailable(it, level, q); err != nil {
				return nil, "", err
			}
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveIssue, SKU: it.SKU, Warehouse: from.Warehouse, FromLocation: from.Code,
				Lot: lot, ExpiryDate: expiry, EnteredQty: strings.TrimSpace(c.Quantity.Value), EnteredUoM: enteredUoM(it, c.Quantity.UoM),
				BaseQty: -q, Source: c.Source, CreatedAt: now, EffectiveAt: at,
			}
			setReason(m, reason)
			book, err := lockBook(ctx, tx, it, m.Warehouse)
			if err != nil {
				return nil, "", err
			}
			if err := stockOut(ctx, tx, it, m, book, level, 0); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockIssued{Movement: *m}); err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}

// AdjustStock corrects stock by a signed quantity for a reason, at current cost.
func (s *Service) AdjustStock(ctx context.Context, c Adjust) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "AdjustStock", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			it, err := itemForStock(ctx, tx, c.SKU)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q == 0 && len(v) == 0 {
				v.Add("quantity.value", "must not be zero: a signed change such as \"-2\" or \"5\"")
			}
			reason, err := reasonFor(ctx, tx, c.Reason, "reason_code", &v)
			if err != nil {
				return nil, "", err
			}
			now := s.stockTime()
			at := inventory.EffectiveTime(c.EffectiveAt, now, &v)
			loc, err := locationFor(ctx, tx, c.Warehouse, c.Location, q > 0)
			if err != nil {
				return nil, "", err
			}
			lot, expiry, err := lotFor(ctx, tx, it, c.Lot, c.ExpiryDate, q > 0, &v)
			if err != nil {
				return nil, "", err
			}
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			if err := checkSerialIn(ctx, tx, it, lot, q, &v); err != nil {
				return nil, "", err
			}
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveAdjustment, SKU: it.SKU, Warehouse: loc.Warehouse,
				Lot: lot, ExpiryDate: expiry, EnteredQty: strings.TrimSpace(c.Quantity.Value), EnteredUoM: enteredUoM(it, c.Quantity.UoM),
				BaseQty: q, Source: defaultSource(c.Source, inventory.SourceAdjustment, c.RequestID), CreatedAt: now, EffectiveAt: at,
			}
			setReason(m, reason)
			if err := s.applyDelta(ctx, tx, it, loc, m, c.Cost, nil); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockAdjusted{Movement: *m}); err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}

// applyDelta books a signed change m.BaseQty at loc: down like an issue (only
// available stock), up at the current cost (inventory.Book.CurrentCost). cost
// values the stock found when the item has no cost in the warehouse yet, or
// its stock there is at zero (an opening balance, which may start a new
// currency); otherwise the current cost applies, and a cost in another
// currency than the stock's is refused. A zero change is journalled at loc.
// level is the level at loc of m.Lot as the command already locked it, or nil
// for applyDelta to lock it.
func (s *Service) applyDelta(ctx context.Context, tx Tx, it *inventory.Item, loc *inventory.Location, m *inventory.Movement, cost UnitCost, level *inventory.Level) error {
	book, err := lockBook(ctx, tx, it, loc.Warehouse)
	if err != nil {
		return err
	}
	given := strings.TrimSpace(cost.Amount) != "" || strings.TrimSpace(cost.Currency) != ""
	var perGiven *big.Rat
	var givenCurrency string
	if given {
		var v apperr.Violations
		perGiven, givenCurrency = parseCost(it, cost, m.EnteredUoM, &v)
		if err := v.Err(); err != nil {
			return err
		}
	}
	switch {
	case m.BaseQty < 0:
		if level == nil {
			if level, err = tx.LockLevel(ctx, loc.Warehouse, loc.Code, it.SKU, m.Lot); err != nil {
				return err
			}
		}
		if err := checkAvailable(it, level, -m.BaseQty); err != nil {
			return err
		}
		m.FromLocation = loc.Code
		return stockOut(ctx, tx, it, m, book, level, 0)
	case m.BaseQty == 0:
		// Nothing moves; the journal records where the count was taken.
		m.FromLocation, m.ToLocation, m.Currency = loc.Code, loc.Code, book.DefaultCurrency()
		return tx.InsertMovement(ctx, m)
	}
	m.ToLocation = loc.Code
	if given {
		if err := book.CheckCurrency(givenCurrency); err != nil {
			return err
		}
	}
	perUnit, ok := book.CurrentCost(m.Lot)
	m.Currency = book.DefaultCurrency()
	if given && (!ok || book.Currency() == "") {
		perUnit, m.Currency, ok = perGiven, givenCurrency, true
		m.CostAmount, m.CostUoM = strings.TrimSpace(cost.Amount), enteredUoM(it, costUoM(cost, m.EnteredUoM))
	}
	if !ok {
		return inventory.Refuse(inventory.ErrNoCost,
			fmt.Sprintf("item %s has no cost in warehouse %s yet: give unit_cost for the stock found (an opening balance)", it.SKU, m.Warehouse),
			apperr.Violation{Type: inventory.ReasonNoCost, Subject: "items/" + it.SKU, Description: "send unit_cost, or receive the item first"})
	}
	if m.Value, err = inventory.Value(m.BaseQty, perUnit, "quantity.value"); err != nil {
		return err
	}
	fix, err := stockIn(ctx, tx, it, m, book, level)
	if err != nil {
		return err
	}
	return emitCorrection(ctx, tx, fix)
}

// CountStock records a count: the level becomes the counted quantity and the
// difference is booked like an adjustment. A count taken at a past time
// (EffectiveAt) books the difference against what the level held then:
// stock that moved after the count was taken stays booked on top of it and
// is not counted twice; a count of a level counted again since is refused
// (ErrCountSuperseded). A count that would leave less on hand than is
// allocated in the location is refused: release or re-allocate first.
func (s *Service) CountStock(ctx context.Context, c Count) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "CountStock", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			m, err := s.count(ctx, tx, c)
			if err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}

// errPreview rolls a preview's transaction back.
var errPreview = errors.New("preview: roll back")

// PreviewCount answers what CountStock would book for c (the difference,
// its value, the counted quantity), or how it would refuse, and books
// nothing: the count runs in a transaction that is rolled back, and claims
// no request id.
func (s *Service) PreviewCount(ctx context.Context, c Count) (*inventory.Movement, error) {
	var out *inventory.Movement
	err := s.store.InTx(ctx, func(tx Tx) error {
		m, err := s.count(ctx, tx, c)
		if err != nil {
			return err
		}
		out = m
		return errPreview
	})
	if errors.Is(err, errPreview) {
		return out, nil
	}
	return nil, err
}

// count books c in tx (see CountStock).
func (s *Service) count(ctx context.Context, tx Tx, c Count) (*inventory.Movement, error) {
	it, err := itemForStock(ctx, tx, c.SKU)
	if err != nil {
		return nil, err
	}
	loc, err := locationFor(ctx, tx, c.Warehouse, c.Location, false)
	if err != nil {
		return nil, err
	}
	var v apperr.Violations
	counted := baseQty(it, c.Counted, "counted_quantity", &v)
	if counted < 0 {
		v.Add("counted_quantity.value", "must not be negative")
	}
	lot, expiry, err := lotFor(ctx, tx, it, c.Lot, c.ExpiryDate, true, &v)
	if err != nil {
		return nil, err
	}
	code := c.Reason
	if strings.TrimSpace(code) == "" {
		code = inventory.CountDifferenceCode
	}
	reason, err := reasonFor(ctx, tx, code, "reason_code", &v)
	if err != nil {
		return nil, err
	}
	now := s.stockTime()
	at := inventory.EffectiveTime(c.EffectiveAt, now, &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	level, err := tx.LockLevel(ctx, loc.Warehouse, loc.Code, it.SKU, lot)
	if err != nil {
		return nil, err
	}
	// What the level held when the count was taken; a count of now has
	// nothing after it.
	held := level.OnHand
	if !c.EffectiveAt.IsZero() {
		since, err := tx.LevelMovementsAfter(ctx, loc.Warehouse, loc.Code, it.SKU, lot, at)
		if err != nil {
			return nil, err
		}
		var superseded bool
		if held, superseded = inventory.OnHandAsOf(level.OnHand, loc.Code, since); superseded {
			return nil, inventory.Refuse(inventory.ErrCountSuperseded,
				fmt.Sprintf("%s in %s was counted again after %s: that later count settled it", it.SKU, loc.Code, at.Format(time.RFC3339Nano)),
				apperr.Violation{Type: inventory.ReasonCountSuperseded, Subject: "warehouses/" + loc.Warehouse + "/locations/" + loc.Code, Description: "count it again, or drop this count"})
		}
	}
	diff := counted - held
	after := level.OnHand + diff
	if after < level.Allocated {
		return nil, inventory.Refuse(inventory.ErrCountBelowAllocated,
			fmt.Sprintf("counted %s leaves %s on hand but %s is allocated in %s: release or re-allocate first", counted, after, level.Allocated, loc.Code),
			apperr.Violation{Type: inventory.ReasonCountBelowAllocated, Subject: "warehouses/" + loc.Warehouse + "/locations/" + loc.Code, Description: "allocated " + level.Allocated.String()})
	}
	if diff > 0 && loc.Blocked {
		return nil, inventory.Refuse(inventory.ErrLocationBlocked, "location "+loc.Code+" is blocked and takes no stock",
			apperr.Violation{Type: inventory.ReasonLocationBlocked, Subject: "warehouses/" + loc.Warehouse + "/locations/" + loc.Code, Description: "count it after unblocking, or move the stock out"})
	}
	if it.Tracking == inventory.TrackingSerial && diff > 0 {
		var sv apperr.Violations
		if err := checkSerialIn(ctx, tx, it, lot, diff, &sv); err != nil {
			return nil, err
		}
		if err := sv.Err(); err != nil {
			return nil, apperr.Invalid(apperr.Field("counted_quantity.value", "a serial number is counted as 0 or 1"))
		}
	}
	m := &inventory.Movement{
		ID: newID(), Type: inventory.MoveCount, SKU: it.SKU, Warehouse: loc.Warehouse,
		Lot: lot, ExpiryDate: expiry, EnteredQty: strings.TrimSpace(c.Counted.Value), EnteredUoM: enteredUoM(it, c.Counted.UoM),
		BaseQty: diff, Counted: &counted, Source: defaultSource(c.Source, inventory.SourceCount, c.RequestID), CreatedAt: now, EffectiveAt: at,
	}
	setReason(m, reason)
	if m.BaseQty > 0 {
		if err := tx.EnsureLot(ctx, &inventory.Lot{SKU: it.SKU, Lot: lot, ExpiryDate: expiry, FirstReceivedAt: m.CreatedAt}); err != nil {
			return nil, err
		}
	}
	if err := s.applyDelta(ctx, tx, it, loc, m, c.Cost, level); err != nil {
		return nil, err
	}
	if err := tx.Emit(ctx, inventory.StockCounted{Movement: *m}); err != nil {
		return nil, err
	}
	return m, nil
}
