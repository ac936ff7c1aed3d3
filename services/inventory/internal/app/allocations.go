package app

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/inventory/internal/inventory"
)

// Allocate reserves stock for an outbound order line.
type Allocate struct {
	RequestID, SKU, Warehouse string
	Quantity                  Quantity
	Order                     inventory.SourceDoc
	AllowPartial              bool
}

// ConfirmPick moves stock an allocation reserved to staging.
type ConfirmPick struct {
	RequestID, AllocationID, Warehouse, Location, Lot string
	Quantity                                          Quantity
	Source                                            inventory.SourceDoc
	// ToLocation is the staging or shipping-dock location the stock goes to.
	ToLocation string
	// ReleaseRemaining releases what the allocation still reserves after
	// this pick: a short pick.
	ReleaseRemaining bool
	EffectiveAt      time.Time
}

// Release gives back an allocation; picked stock goes back to
// ReturnLocation, or to where it was picked from.
type Release struct {
	RequestID, AllocationID, ReturnLocation string
	EffectiveAt                             time.Time
}

// ShipLine is staged stock to ship; a zero Quantity means all of it.
type ShipLine struct {
	Location, Lot string
	Quantity      Quantity
}

// Ship confirms the shipment of an allocation's (or an order's) staged stock.
type Ship struct {
	RequestID, AllocationID string
	Order                   inventory.SourceDoc
	Lines                   []ShipLine
	Source                  inventory.SourceDoc
	EffectiveAt             time.Time
}

// AllocateStock reserves stock for an outbound order line (FEFO, then FIFO).
func (s *Service) AllocateStock(ctx context.Context, c Allocate) (*inventory.Allocation, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "AllocateStock", c.RequestID, c, replayAllocation(ctx),
		func(tx Tx) (*inventory.Allocation, string, error) {
			it, err := itemForStock(ctx, tx, c.SKU)
			if err != nil {
				return nil, "", err
			}
			w, err := tx.GetWarehouse(ctx, inventory.NormalizeCode(c.Warehouse))
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q <= 0 && len(v) == 0 {
				v.Add("quantity.value", "must be greater than zero")
			}
			requireDoc(c.Order, "order", &v, inventory.SourceOutboundOrder)
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			// Expired lots are never allocated; "today" is the warehouse's local date.
			today := s.now().In(w.Location()).Format(time.DateOnly)
			levels, err := tx.LockCandidates(ctx, w.Code, it.SKU, today)
			if err != nil {
				return nil, "", err
			}
			inventory.SortForAllocation(levels)
			lines, short := inventory.PlanAllocation(levels, q)
			if short > 0 && (!c.AllowPartial || short == q) {
				e := inventory.Refuse(inventory.ErrInsufficientStock,
					fmt.Sprintf("not enough available stock of %s in %s: need %s, short %s", it.SKU, w.Code, q, short),
					apperr.Violation{Type: inventory.ReasonInsufficientStock, Subject: "warehouses/" + w.Code + "/items/" + it.SKU, Description: "short " + short.String()})
				e.Metadata = map[string]string{"shortfall": short.String(), "requested": q.String(), "available": (q - short).String()}
				return nil, "", e
			}
			now := s.stockTime()
			a := &inventory.Allocation{
				ID: newID(), SKU: it.SKU, Warehouse: w.Code, Order: c.Order,
				RequestedQty: strings.TrimSpace(c.Quantity.Value), RequestedUoM: enteredUoM(it, c.Quantity.UoM), Requested: q,
				Lines: lines, State: inventory.AllocActive, CreatedAt: now, UpdatedAt: now,
			}
			for _, l := range lines {
				if err := tx.AddToLevel(ctx, w.Code, l.Location, it.SKU, l.Lot, 0, l.Qty, now); err != nil {
					return nil, "", err
				}
			}
			if err := tx.InsertAllocation(ctx, a); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.AllocationCreated{Allocation: *a}); err != nil {
				return nil, "", err
			}
			return a, a.ID, nil
		})
}

// lockAllocation locks an allocation's item, then the allocation: the same
// order as every other stock command.
func lockAllocation(ctx context.Context, tx Tx, id string) (*inventory.Allocation, error) {
	a, err := tx.GetAllocation(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := tx.LockItem(ctx, a.SKU); err != nil {
		return nil, err
	}
	return tx.LockAllocation(ctx, id)
}

// GetAllocation returns an allocation.
func (s *Service) GetAllocation(ctx context.Context, id string) (*inventory.Allocation, error) {
	return s.store.GetAllocation(ctx, id)
}

// ListAllocations pages through the allocations of an outbound order.
func (s *Service) ListAllocations(ctx context.Context, f AllocationFilter, page paging.Page) ([]*inventory.Allocation, error) {
	var v apperr.Violations
	requireDoc(f.Order, "order", &v, inventory.SourceOutboundOrder)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.store.ListAllocations(ctx, f, page)
}

// ReleaseAllocation gives back what an allocation still reserves, and puts
// picked stock that has not shipped back into storage: c.ReturnLocation, or
// the bin it was picked from. The put-back is a move (StockMoved), at no
// value. Releasing a released allocation returns it unchanged; a shipped one
// is refused.
func (s *Service) ReleaseAllocation(ctx context.Context, c Release) (*inventory.Allocation, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ReleaseAllocation", c.RequestID, c, replayAllocation(ctx),
		func(tx Tx) (*inventory.Allocation, string, error) {
			a, err := lockAllocation(ctx, tx, c.AllocationID)
			if err != nil {
				return nil, "", err
			}
			now := s.stockTime()
			var v apperr.Violations
			at := inventory.EffectiveTime(c.EffectiveAt, now, &v)
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			if a.State == inventory.AllocReleased {
				return a, a.ID, nil
			}
			returnTo := inventory.NormalizeCode(c.ReturnLocation)
			open, back, err := a.Release(returnTo)
			if err != nil {
				return nil, "", err
			}
			for _, l := range open {
				if err := tx.AddToLevel(ctx, a.Warehouse, l.Location, a.SKU, l.Lot, 0, -l.Qty, now); err != nil {
					return nil, "", err
				}
			}
			var moves []*inventory.Movement
			if len(back) > 0 {
				it, err := tx.GetItem(ctx, a.SKU)
				if err != nil {
					return nil, "", err
				}
				for _, b := range back {
					m, err := putBack(ctx, tx, it, a, b, now, at)
					if err != nil {
						return nil, "", err
					}
					moves = append(moves, m)
				}
			}
			a.UpdatedAt = now
			if err := tx.UpdateAllocation(ctx, a); err != nil {
				return nil, "", err
			}
			for _, m := range moves {
				if err := tx.Emit(ctx, inventory.StockMoved{Movement: *m}); err != nil {
					return nil, "", err
				}
			}
			if err := tx.Emit(ctx, inventory.AllocationReleased{Allocation: *a}); err != nil {
				return nil, "", err
			}
			return a, a.ID, nil
		})
}

// putBack moves staged stock of a released allocation back into a storage
// or pick-face bin and journals the move. The stock keeps its age and value.
func putBack(ctx context.Context, tx Tx, it *inventory.Item, a *inventory.Allocation, b inventory.PutBack, now, at time.Time) (*inventory.Movement, error) {
	to, err := locationFor(ctx, tx, a.Warehouse, b.To, true)
	if err != nil {
		return nil, err
	}
	if to.Type != inventory.LocationStorage && to.Type != inventory.LocationPickFace {
		return nil, apperr.Invalid(apperr.Field("return_location", fmt.Sprintf("location %s is not a storage or pick-face bin", to.Code)))
	}
	level, err := tx.LockLevel(ctx, a.Warehouse, b.From, a.SKU, b.Lot)
	if err != nil {
		return nil, err
	}
	if err := tx.AddToLevel(ctx, a.Warehouse, b.From, a.SKU, b.Lot, -b.Qty, -b.Qty, now); err != nil {
		return nil, err
	}
	if err := addToLevel(ctx, tx, a.Warehouse, to.Code, a.SKU, b.Lot, b.Qty, 0, level.ReceivedAt); err != nil {
		return nil, err
	}
	m := &inventory.Movement{
		ID: newID(), Type: inventory.MoveTransfer, SKU: a.SKU, Warehouse: a.Warehouse, FromLocation: b.From, ToLocation: to.Code,
		Lot: b.Lot, ExpiryDate: level.ExpiryDate, EnteredQty: b.Qty.String(), EnteredUoM: it.BaseUoM, BaseQty: b.Qty,
		Source: a.Order, AllocationID: a.ID, CreatedAt: now, EffectiveAt: at,
	}
	if err := tx.InsertMovement(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// ConfirmPick moves reserved stock from its bin to a staging or shipping-dock
// location, where it stays reserved for the order (StockPicked; no value
// changes). The stock leaves the books when the shipment is confirmed
// (ConfirmShipment). A pick from another bin or lot than planned re-points
// the reservation when that stock is available; with ReleaseRemaining the
// rest of the allocation is released in the same transaction (a short pick).
func (s *Service) ConfirmPick(ctx context.Context, c ConfirmPick) (*inventory.Movement, error) {
	// The request first, the allocation's state after: a bad request is
	// InvalidArgument with every bad field, whatever the allocation's state.
	v := c.Check()
	inventory.EffectiveTime(c.EffectiveAt, s.stockTime(), &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ConfirmPick", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			a, err := lockAllocation(ctx, tx, c.AllocationID)
			if err != nil {
				return nil, "", err
			}
			if a.State != inventory.AllocActive {
				return nil, "", inventory.Refuse(inventory.ErrAllocationNotActive, "allocation "+a.ID+" is not active",
					apperr.Violation{Type: inventory.ReasonAllocationNotActive, Subject: "allocations/" + a.ID, Description: "only an active allocation can be picked"})
			}
			it, err := itemForStock(ctx, tx, a.SKU)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q <= 0 && len(v) == 0 {
				v.Add("quantity.value", "must be greater than zero")
			}
			requireSource(c.Source, &v, inventory.SourceOutboundOrder, inventory.SourceShipment)
			if c.Warehouse != "" && inventory.NormalizeCode(c.Warehouse) != a.Warehouse {
				v.Add("location", fmt.Sprintf("allocation %s is in warehouse %s", a.ID, a.Warehouse))
			}
			if strings.TrimSpace(c.ToLocation) == "" {
				v.Add("to_location", "is required: the staging or shipping-dock location the picked stock goes to")
			}
			now := s.stockTime()
			at := inventory.EffectiveTime(c.EffectiveAt, now, &v)
			loc := inventory.NormalizeCode(c.Location)
			lot, _, err := lotFor(ctx, tx, it, c.Lot, "", false, &v)
			if err != nil {
				return nil, "", err
			}
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			from, err := locationFor(ctx, tx, a.Warehouse, loc, false)
			if err != nil {
				return nil, "", err
			}
			to, err := locationFor(ctx, tx, a.Warehouse, c.ToLocation, true)
			if err != nil {
				return nil, "", err
			}
			if to.Type != inventory.LocationStaging && to.Type != inventory.LocationShippingDock {
				return nil, "", apperr.Invalid(apperr.Field("to_location", fmt.Sprintf("location %s is not a staging or shipping-dock location", to.Code)))
			}
			if to.Code == from.Code {
				return nil, "", apperr.Invalid(apperr.Field("to_location", "must differ from location"))
			}
			level, err := tx.LockLevel(ctx, a.Warehouse, from.Code, a.SKU, lot)
			if err != nil {
				return nil, "", err
			}
			moved, err := a.Pick(from.Code, lot, level.ExpiryDate, to.Code, q, level.Available())
			if err != nil {
				return nil, "", err
			}
			// The reservation follows the stock actually picked.
			for _, r := range moved {
				if err := tx.AddToLevel(ctx, a.Warehouse, r.Location, a.SKU, r.Lot, 0, -r.Qty, now); err != nil {
					return nil, "", err
				}
				if err := tx.AddToLevel(ctx, a.Warehouse, from.Code, a.SKU, lot, 0, r.Qty, now); err != nil {
					return nil, "", err
				}
			}
			if err := tx.AddToLevel(ctx, a.Warehouse, from.Code, a.SKU, lot, -q, -q, now); err != nil {
				return nil, "", err
			}
			// The picked stock keeps its age and stays reserved in staging.
			if err := addToLevel(ctx, tx, a.Warehouse, to.Code, a.SKU, lot, q, q, level.ReceivedAt); err != nil {
				return nil, "", err
			}
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveTransfer, SKU: a.SKU, Warehouse: a.Warehouse, FromLocation: from.Code, ToLocation: to.Code,
				Lot: lot, ExpiryDate: level.ExpiryDate, EnteredQty: strings.TrimSpace(c.Quantity.Value), EnteredUoM: enteredUoM(it, c.Quantity.UoM),
				BaseQty: q, Source: c.Source, AllocationID: a.ID, CreatedAt: now, EffectiveAt: at,
			}
			if err := tx.InsertMovement(ctx, m); err != nil {
				return nil, "", err
			}
			released := false
			if c.ReleaseRemaining {
				for _, l := range a.ReleaseOpen() {
					if err := tx.AddToLevel(ctx, a.Warehouse, l.Location, a.SKU, l.Lot, 0, -l.Qty, now); err != nil {
						return nil, "", err
					}
					released = true
				}
			}
			a.UpdatedAt = now
			if err := tx.UpdateAllocation(ctx, a); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockPicked{Movement: *m}); err != nil {
				return nil, "", err
			}
			if released {
				if err := tx.Emit(ctx, inventory.AllocationReleased{Allocation: *a}); err != nil {
					return nil, "", err
				}
			}
			return m, m.ID, nil
		})
}

// ConfirmShipment issues picked stock waiting in staging: one StockIssued per
// staged location and lot, at its cost (the layers it consumed), which ends
// its reservation. It ships one allocation (all its staged stock, or Lines),
// or everything staged for an order's allocations. The result key is the
// issue movements' ids, so a retry returns the same movements.
func (s *Service) ConfirmShipment(ctx context.Context, c Ship) ([]*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	replay := func(tx Tx, key string) ([]*inventory.Movement, error) {
		var out []*inventory.Movement
		for _, id := range strings.Fields(key) {
			m, err := tx.GetMovement(ctx, id)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		return out, nil
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ConfirmShipment", c.RequestID, c, replay,
		func(tx Tx) ([]*inventory.Movement, string, error) {
			var v apperr.Violations
			requireSource(c.Source, &v, inventory.SourceShipment)
			byOrder := c.Order != (inventory.SourceDoc{})
			switch {
			case c.AllocationID == "" && !byOrder:
				v.Add("allocation", "is required, or order: what ships")
			case c.AllocationID != "" && byOrder:
				v.Add("order", "give allocation or order, not both")
			case byOrder:
				requireDoc(c.Order, "order", &v, inventory.SourceOutboundOrder)
				if len(c.Lines) > 0 {
					v.Add("lines", "ship an order as a whole, or name the allocation to ship by line")
				}
			}
			now := s.stockTime()
			at := inventory.EffectiveTime(c.EffectiveAt, now, &v)
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			var allocs []*inventory.Allocation
			if byOrder {
				page := paging.Page{Limit: paging.MaxSize}
				for {
					got, err := tx.ListAllocations(ctx, AllocationFilter{Order: c.Order}, page)
					if err != nil {
						return nil, "", err
					}
					allocs = append(allocs, got...)
					if len(got) < page.Limit {
						break
					}
					page.After = got[len(got)-1].ID
				}
			} else {
				a, err := tx.GetAllocation(ctx, c.AllocationID)
				if err != nil {
					return nil, "", err
				}
				allocs = append(allocs, a)
			}
			// Lock items in sku order, as every multi-item command must.
			slices.SortFunc(allocs, func(x, y *inventory.Allocation) int {
				return cmp.Or(cmp.Compare(x.SKU, y.SKU), cmp.Compare(x.ID, y.ID))
			})
			var out []*inventory.Movement
			var ids []string
			for _, stale := range allocs {
				a, err := lockAllocation(ctx, tx, stale.ID)
				if err != nil {
					return nil, "", err
				}
				if byOrder && a.Waiting() == 0 {
					continue
				}
				ms, err := s.ship(ctx, tx, a, c, now, at)
				if err != nil {
					return nil, "", err
				}
				for _, m := range ms {
					out = append(out, m)
					ids = append(ids, m.ID)
				}
			}
			if len(out) == 0 {
				return nil, "", inventory.Refuse(inventory.ErrShipExceedsPicked, "nothing picked is waiting to ship for order "+c.Order.ID,
					apperr.Violation{Type: inventory.ReasonShipExceedsPicked, Subject: "orders/" + c.Order.ID, Description: "pick first"})
			}
			return out, strings.Join(ids, " "), nil
		})
}

// ship issues the staged stock of one locked allocation that c ships.
func (s *Service) ship(ctx context.Context, tx Tx, a *inventory.Allocation, c Ship, now, at time.Time) ([]*inventory.Movement, error) {
	it, err := itemForStock(ctx, tx, a.SKU)
	if err != nil {
		return nil, err
	}
	type line struct {
		loc, lot, qty, uom string
		q                  inventory.Qty
	}
	var lines []line
	if len(c.Lines) == 0 {
		seen := map[[2]string]bool{}
		for _, st := range a.Staged {
			k := [2]string{st.Location, st.Lot}
			if st.Waiting() > 0 && !seen[k] {
				seen[k] = true
				lines = append(lines, line{loc: st.Location, lot: st.Lot})
			}
		}
	}
	var v apperr.Violations
	for i, l := range c.Lines {
		ln := line{loc: inventory.NormalizeCode(l.Location), lot: strings.ToUpper(strings.TrimSpace(l.Lot))}
		if strings.TrimSpace(l.Quantity.Value) != "" {
			ln.q = baseQty(it, l.Quantity, fmt.Sprintf("lines[%d].quantity", i), &v)
			ln.qty, ln.uom = strings.TrimSpace(l.Quantity.Value), enteredUoM(it, l.Quantity.UoM)
			if ln.q <= 0 {
				v.Add(fmt.Sprintf("lines[%d].quantity.value", i), "must be greater than zero")
			}
		}
		lines = append(lines, ln)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, inventory.Refuse(inventory.ErrShipExceedsPicked, "allocation "+a.ID+" has nothing picked waiting to ship",
			apperr.Violation{Type: inventory.ReasonShipExceedsPicked, Subject: "allocations/" + a.ID, Description: "pick first"})
	}
	book, err := lockBook(ctx, tx, it, a.Warehouse)
	if err != nil {
		return nil, err
	}
	var out []*inventory.Movement
	for _, l := range lines {
		q, err := a.Ship(l.loc, l.lot, l.q)
		if err != nil {
			return nil, err
		}
		level, err := tx.LockLevel(ctx, a.Warehouse, l.loc, a.SKU, l.lot)
		if err != nil {
			return nil, err
		}
		if l.qty == "" {
			l.qty, l.uom = q.String(), it.BaseUoM
		}
		m := &inventory.Movement{
			ID: newID(), Type: inventory.MoveIssue, SKU: a.SKU, Warehouse: a.Warehouse, FromLocation: l.loc,
			Lot: l.lot, ExpiryDate: level.ExpiryDate, EnteredQty: l.qty, EnteredUoM: l.uom,
			BaseQty: -q, Source: c.Source, AllocationID: a.ID, Order: a.Order.ID, CreatedAt: now, EffectiveAt: at,
		}
		if err := stockOut(ctx, tx, it, m, book, level, q); err != nil {
			return nil, err
		}
		if err := tx.Emit(ctx, inventory.StockIssued{Movement: *m}); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	a.UpdatedAt = now
	if err := tx.UpdateAllocation(ctx, a); err != nil {
		return nil, err
	}
	return out, nil
}
