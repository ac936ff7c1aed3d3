package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/services/orders/internal/orders"
)

// Inventory is what orders asks of the inventory service.
type Inventory interface {
	// IssueStock takes stock out of a location, once per request id: a
	// repeat with the same request answers the first movement. Its errors
	// are inventory's (as *apperr.Error values, see grpcserver.FromStatus),
	// or transport failures.
	IssueStock(ctx context.Context, is StockIssue) (IssuedStock, error)
}

// StockIssue is an issue of stock against a purchase order line: goods sent
// back to the supplier.
type StockIssue struct {
	RequestID string
	SKU       string
	Warehouse string
	Location  string // a location code of Warehouse
	Lot       string
	Qty       orders.Qty
	UoM       string // the item's base unit, Qty's unit
	// Order and Line are the source document: the purchase order line.
	Order string
	Line  int
}

// IssuedStock is the movement inventory recorded for a StockIssue.
type IssuedStock struct {
	Movement string     // "movements/{id}"
	Qty      orders.Qty // issued, positive
	// Value is the cost inventory consumed, positive, in minor units of
	// Currency.
	Value    int64
	Currency string
	// At is when the stock left (the movement's effective time).
	At time.Time
}

// returnCommand is RETURN's fingerprint for its request id.
type returnCommand struct {
	ID       string
	Line     int
	How      orders.Resolution
	Location string
	Lot      string
}

// returnJob is a RETURN in progress, as the inventory call needs it.
type returnJob struct {
	order   string
	line    int
	sku     string
	wh      string
	uom     string
	pending orders.PendingReturn
}

func (j returnJob) issue() StockIssue {
	return StockIssue{RequestID: orders.ReturnRequestID(j.order, j.line, j.pending.Discrepancy), SKU: j.sku, Warehouse: j.wh,
		Location: j.pending.Location, Lot: j.pending.Lot, Qty: j.pending.Qty, UoM: j.uom, Order: j.order, Line: j.line}
}

// returnResult is the result a RETURN stores against its request id: the
// order, line and discrepancy number, from which a retry finds out how far
// the first attempt got.
func returnResult(order string, line, n int) string { return fmt.Sprintf("%s/%d/%d", order, line, n) }

func parseReturnResult(s string) (n int, ok bool) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(s[i+1:])
	return n, err == nil
}

// returnExcess resolves a line's discrepancy by RETURN, in three steps that
// are each safe to repeat (see orders.StartReturn):
//
//  1. one transaction claims the request id, and starts the return on the
//     line (or finds the one in progress), storing the discrepancy number
//     against the request id;
//  2. inventory issues the excess with the request id derived from the
//     discrepancy (orders.ReturnRequestID), outside any transaction;
//  3. a second transaction records the resolution and the movement, and
//     takes the quantity and value out of the line unless the issue event
//     did so first.
//
// A crash or a lost answer between the steps leaves the return in progress
// on the line; a retry (with the same request id, another one, or none)
// resumes it and inventory answers the same movement. A refusal by
// inventory (not enough stock there, an unknown location or lot) abandons
// the attempt, so the discrepancy is open again, and comes back as this
// call's error. A retry with the same request id after success answers the
// order as it is, which is the first answer unless the order changed since.
func (s *Service) returnExcess(ctx context.Context, requestID, id string, line int, from orders.ReturnFrom) (*orders.PurchaseOrder, error) {
	if s.inventory == nil {
		return nil, apperr.New(apperr.KindUnavailable, "INVENTORY_UNAVAILABLE",
			"returning stock to the supplier needs the inventory service, and this orders service is not connected to one")
	}
	cmd := returnCommand{ID: id, Line: line, How: orders.ResolveReturn, Location: from.Location, Lot: from.Lot}
	partner := partnerOf(ctx)
	var (
		done *orders.PurchaseOrder
		job  returnJob
	)
	err := s.store.InTx(ctx, func(tx Tx) error {
		done, job = nil, returnJob{}
		prior, replay, err := tx.Claim(ctx, resolveScope, requestID, cmd)
		if err != nil {
			return err
		}
		po, err := tx.LockPurchaseOrder(ctx, id)
		if err != nil {
			return err
		}
		if !po.VisibleTo(partner) {
			return notVisible(id)
		}
		if replay {
			n, ok := parseReturnResult(prior)
			l, has := po.Line(line)
			if !ok || !has {
				return fmt.Errorf("replay RETURN %s: stored result %q", requestID, prior)
			}
			if _, resolved := l.Resolved(n); resolved {
				done = po
				return nil
			}
			// Still in progress: resume it below. Abandoned (inventory
			// refused it): the discrepancy is open again and the retry
			// runs as the command would.
		}
		whole := false
		if l, ok := po.Line(line); ok {
			it, err := tx.GetCatalogItem(ctx, l.SKU)
			if err != nil && !errors.Is(err, apperr.ErrNotFound) {
				return err
			}
			whole = it != nil && it.WholeUnitsOnly
		}
		loaded := po.Version
		p, err := po.StartReturn(line, from, whole, s.now())
		if err != nil {
			return err
		}
		if po.Version != loaded {
			if err := tx.SavePurchaseOrder(ctx, po, loaded); err != nil {
				return err
			}
		}
		if !replay {
			if err := tx.Complete(ctx, resolveScope, requestID, returnResult(po.ID, line, p.Discrepancy)); err != nil {
				return err
			}
		}
		l, _ := po.Line(line)
		job = returnJob{order: po.ID, line: line, sku: l.SKU, wh: l.Warehouse, uom: l.BaseUoM, pending: p}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if done != nil {
		return done, nil
	}
	issued, err := s.inventory.IssueStock(ctx, job.issue())
	if err != nil {
		refusal, final := returnRefusal(job, err)
		if !final {
			// Inventory may have issued the stock and the answer got lost:
			// the return stays in progress for a retry to complete.
			return nil, fmt.Errorf("return the excess of purchase order %s line %d: %w", job.order, job.line, err)
		}
		if err := s.abandonReturn(ctx, job); err != nil {
			return nil, err
		}
		return nil, refusal
	}
	return s.completeReturn(ctx, job, issued)
}

// completeReturn is step 3 of returnExcess.
func (s *Service) completeReturn(ctx context.Context, job returnJob, issued IssuedStock) (*orders.PurchaseOrder, error) {
	var out *orders.PurchaseOrder
	err := s.store.InTx(ctx, func(tx Tx) error {
		po, err := tx.LockPurchaseOrder(ctx, job.order)
		if err != nil {
			return err
		}
		loaded := po.Version
		now := s.now()
		at := issued.At
		if at.IsZero() || at.After(now) {
			at = now
		}
		fresh, err := tx.RecordReturnMovement(ctx, po.ID, job.line, issued.Movement, issued.Qty, issued.Value, now)
		if err != nil {
			return err
		}
		changed, err := po.CompleteReturn(job.line, job.pending.Discrepancy, issued.Movement, issued.Qty, issued.Value, issued.Currency, fresh, at, now)
		if err != nil {
			return err
		}
		if changed {
			if err := tx.SavePurchaseOrder(ctx, po, loaded); err != nil {
				return err
			}
		}
		out = po
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record the return of purchase order %s line %d (inventory %s): %w", job.order, job.line, issued.Movement, err)
	}
	return out, nil
}

// abandonReturn forgets a return inventory refused.
func (s *Service) abandonReturn(ctx context.Context, job returnJob) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		po, err := tx.LockPurchaseOrder(ctx, job.order)
		if err != nil {
			return err
		}
		loaded := po.Version
		if !po.AbandonReturn(job.line, job.pending.Discrepancy, s.now()) {
			return nil
		}
		return tx.SavePurchaseOrder(ctx, po, loaded)
	})
}

// applyReturnEvent takes an inventory issue against a purchase order line
// out of it, unless the movement was applied before (by the RETURN that
// made it, or an earlier event).
func (s *Service) applyReturnEvent(ctx context.Context, tx Tx, po *orders.PurchaseOrder, r Receipt, now time.Time) error {
	if _, ok := po.Line(r.Line); !ok {
		return nil
	}
	qty, value := r.Qty, r.Value
	if qty < 0 {
		qty = -qty
	}
	if value < 0 {
		value = -value
	}
	fresh, err := tx.RecordReturnMovement(ctx, po.ID, r.Line, r.Movement, qty, value, now)
	if err != nil || !fresh {
		return err
	}
	loaded := po.Version
	if err := po.ApplyReturn(r.Line, qty, value, r.Currency, now); err != nil {
		return err
	}
	return tx.SavePurchaseOrder(ctx, po, loaded)
}

// returnRefusal is how orders answers inventory's refusal of a RETURN's
// issue, and whether the refusal is final (nothing was issued, so the
// attempt can be abandoned). Inventory's answers are re-raised as orders'
// own errors, with orders' field names: an unknown location or lot, or a
// location or lot inventory rejects, is InvalidArgument on location or lot;
// a state inventory refuses (not enough stock at the location, a blocked
// location) is FailedPrecondition with inventory's reason, message and
// violations. Anything else (unavailable, a deadline, an internal fault) is
// not final: the issue may have happened.
func returnRefusal(job returnJob, err error) (error, bool) {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		return err, false
	}
	what := fmt.Sprintf("the excess %s %s of line %d cannot be returned from %s", job.pending.Qty, job.uom, job.line, job.pending.Location)
	switch ae.Kind {
	case apperr.KindNotFound:
		switch ae.Metadata["resource"] {
		case "location":
			return apperr.Invalid(apperr.Field("location", fmt.Sprintf("warehouse %s has no location %s", job.wh, job.pending.Location))), true
		case "lot":
			return apperr.Invalid(apperr.Field("lot", fmt.Sprintf("item %s has no lot %q", job.sku, job.pending.Lot))), true
		}
		return apperr.Precondition(orders.ReasonReturnRefused, what+": inventory: "+ae.Message), true
	case apperr.KindInvalidArgument:
		var ours apperr.Violations
		var other []string
		for _, v := range ae.Violations {
			switch {
			case v.Field == "location" || strings.HasPrefix(v.Field, "location."):
				ours.Add("location", v.Description)
			case v.Field == "lot" || strings.HasPrefix(v.Field, "lot."):
				ours.Add("lot", v.Description)
			default:
				other = append(other, v.Field+" "+v.Description)
			}
		}
		if len(other) == 0 && len(ours) > 0 {
			return ours.Err(), true
		}
		msg := ae.Message
		if len(other) > 0 {
			msg = strings.Join(other, "; ")
		}
		return apperr.Precondition(orders.ReasonReturnRefused, what+": inventory: "+msg), true
	case apperr.KindFailedPrecondition:
		out := &apperr.Error{Kind: apperr.KindFailedPrecondition, Reason: ae.Reason, Message: what + ": " + ae.Message,
			Violations: ae.Violations, Metadata: ae.Metadata}
		return out.Wrap(err), true
	}
	return err, false
}
