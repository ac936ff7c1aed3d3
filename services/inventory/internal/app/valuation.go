package app

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/services/inventory/internal/inventory"
)

// ListMovements pages through the journal (see FollowMovements).
func (s *Service) ListMovements(ctx context.Context, f MovementFilter, page paging.Page) ([]*inventory.Movement, error) {
	mp, err := s.FollowMovements(ctx, f, page)
	return mp.Movements, err
}

// FollowMovements pages through the journal, up to its watermark (see
// MovementPage): a follower continues from Next and never skips a movement
// that commits late.
func (s *Service) FollowMovements(ctx context.Context, f MovementFilter, page paging.Page) (MovementPage, error) {
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return MovementPage{}, apperr.Invalid(apperr.Field("end_time", "must be after start_time"))
	}
	return s.store.ListMovements(ctx, f, page)
}

// Valuation is the whole valuation, every page of it (see ValuationPage).
func (s *Service) Valuation(ctx context.Context, q ValuationQuery) ([]ValuationLine, error) {
	var out []ValuationLine
	page := paging.Page{Limit: paging.MaxSize}
	for {
		vp, err := s.ValuationPage(ctx, q, page)
		if err != nil {
			return nil, err
		}
		out = append(out, vp.Lines...)
		if vp.Next == "" {
			return out, nil
		}
		page.After = vp.Next
	}
}

// ValuationPage values stock, now or as of a past time, a page of items. By lot,
// the value of a moving-average item is pro-rated over its lots by quantity
// (inventory.ProrateByLot): its units all cost the pool's average, so a lot
// that is used up shows no value and the lots add up to the pool exactly. The
// journal's own split by lot would show each lot at the cost of its receipts
// less the average of its issues.
//
// Now (q.AsOf zero) the valuation comes from the cost layers, as of a past
// time from the journal; either way at the journal watermark the page
// reports (ValuationPage.Through), a page of items at a time.
func (s *Service) ValuationPage(ctx context.Context, q ValuationQuery, page paging.Page) (ValuationPage, error) {
	if !q.AsOf.IsZero() && !q.AsOf.Before(s.now()) {
		q.AsOf = time.Time{} // now, or a time still to come: what is there now
	}
	vp, err := s.store.Valuation(ctx, q, page)
	if err != nil {
		return ValuationPage{}, err
	}
	lines := vp.Lines
	if q.ByLot {
		if lines, err = s.prorateMovingAverage(ctx, lines); err != nil {
			return ValuationPage{}, err
		}
	}
	// A line is at most inventory.MaxBookValue; totals over many items are
	// checked rather than left to wrap in whoever adds them up.
	totals := map[string]*big.Int{}
	for _, l := range lines {
		if totals[l.Currency] == nil {
			totals[l.Currency] = new(big.Int)
		}
		t := totals[l.Currency].Add(totals[l.Currency], big.NewInt(l.Value))
		if !t.IsInt64() {
			return ValuationPage{}, inventory.Refuse(inventory.ErrValuationTooLarge,
				fmt.Sprintf("the total value in %s does not fit in 64-bit minor units: ask per item", l.Currency),
				apperr.Violation{Type: inventory.ReasonValuationTooLarge, Subject: "warehouse", Description: "narrow the valuation to an item"})
		}
	}
	vp.Lines = lines
	return vp, nil
}

// prorateMovingAverage replaces the journal's split by lot of each
// moving-average item × warehouse × currency with its value pro-rated by lot
// quantity, and drops the lines left at zero.
func (s *Service) prorateMovingAverage(ctx context.Context, lines []ValuationLine) ([]ValuationLine, error) {
	type key struct{ warehouse, sku, currency string }
	groups := map[key][]int{}
	var order []key
	methods := map[string]inventory.CostMethod{}
	for i, l := range lines {
		if l.Lot == "" {
			continue // not tracked by lot: nothing to split
		}
		if _, ok := methods[l.SKU]; !ok {
			it, err := s.store.GetItem(ctx, l.SKU)
			if err != nil {
				return nil, err
			}
			methods[l.SKU] = it.CostMethod
		}
		if methods[l.SKU] != inventory.CostMovingAverage {
			continue
		}
		k := key{l.Warehouse, l.SKU, l.Currency}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		sum := new(big.Int)
		qtys := make([]inventory.Qty, len(idx))
		for j, i := range idx {
			sum.Add(sum, big.NewInt(lines[i].Value))
			qtys[j] = lines[i].Qty
		}
		if !sum.IsInt64() {
			return nil, inventory.Refuse(inventory.ErrValuationTooLarge,
				fmt.Sprintf("the value of %s in %s does not fit in 64-bit minor units", k.sku, k.warehouse))
		}
		shares, ok := inventory.ProrateByLot(sum.Int64(), qtys)
		if !ok {
			continue // the lots' quantities cancel out: keep the journal's split
		}
		for j, i := range idx {
			lines[i].Value = shares[j]
		}
	}
	out := lines[:0]
	for _, l := range lines {
		if l.Qty != 0 || l.Value != 0 {
			out = append(out, l)
		}
	}
	return out, nil
}
