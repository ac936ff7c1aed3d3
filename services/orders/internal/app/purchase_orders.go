package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/orders/internal/orders"
)

// ReceiptsConsumer names the consumer of inventory's receipts and reversals
// that updates purchase orders' received quantities: its inbox scope and its
// durable name on the bus.
const ReceiptsConsumer = "orders-receipts"

// POFilter narrows ListPurchaseOrders. Zero fields match everything; Partner
// nil matches every owner, "" only internal orders.
type POFilter struct {
	State         orders.POState
	Supplier      string
	Partner       *string
	CreatedFrom   time.Time // inclusive
	CreatedBefore time.Time // exclusive
}

// Delivery is one event of a batch handed to Store.InInboxBatch.
type Delivery struct {
	EventID string
	Apply   func(tx Tx) error
}

// Receipt is what a stock movement naming a purchase order line tells orders:
// Qty base units arrived (negative: a receipt was reversed, or, with Return,
// goods went back to the supplier).
type Receipt struct {
	EventID string
	Order   string // purchase order id
	Line    int
	Qty     orders.Qty
	// Value is the movement's value in minor units of Currency (negative for
	// a reversal or a return). A value in another currency than the order's
	// is not counted (GRNI in the order's currency would not tie).
	Value    int64
	Currency string
	// At is when the stock arrived (the movement's effective time); zero is
	// when it is applied.
	At time.Time
	// Warehouse, Location (a code) and Lot are where a receipt put the
	// stock, remembered as a RETURN's default.
	Warehouse, Location, Lot string
	// Return marks an inventory issue against the line: goods sent back to
	// the supplier. Movement names it ("movements/{id}"); each movement is
	// applied once, whether the event or the RETURN resolution that made it
	// records it first.
	Return   bool
	Movement string
}

// partnerOf is the partner the caller in ctx is, "" for an internal caller.
func partnerOf(ctx context.Context) string {
	if c := caller.From(ctx); c.IsPartner() {
		return c.ID
	}
	return ""
}

// notVisible is what a caller is told about an order it may not see: the same
// NotFound as for an order that does not exist.
func notVisible(id string) error { return apperr.NotFound("purchase order", id) }

// CreatePurchaseOrder creates a draft. A partner caller owns it. A retry with
// the same requestID returns the order the first call created.
func (s *Service) CreatePurchaseOrder(ctx context.Context, requestID string, in orders.POInput) (*orders.PurchaseOrder, error) {
	partner := partnerOf(ctx)
	return storetx.RunCommand(ctx, s.store.InTx, "CreatePurchaseOrder", requestID, in,
		func(tx Tx, id string) (*orders.PurchaseOrder, error) { return tx.GetPurchaseOrder(ctx, id) },
		func(tx Tx) (*orders.PurchaseOrder, string, error) {
			sup, err := tx.GetSupplier(ctx, orders.NormalizeCode(in.Supplier))
			if err == nil && !sup.VisibleTo(partner) {
				err = apperr.NotFound("supplier", sup.Code)
			}
			if errors.Is(err, apperr.ErrNotFound) {
				return nil, "", apperr.Invalid(apperr.Field("purchase_order.supplier", fmt.Sprintf("supplier %q does not exist", orders.NormalizeCode(in.Supplier))))
			}
			if err != nil {
				return nil, "", err
			}
			items := map[string]*orders.CatalogItem{}
			for _, l := range in.Lines {
				given := orders.NormalizeSKU(l.Item)
				if _, seen := items[given]; seen || given == "" {
					continue
				}
				it, err := resolveItem(ctx, tx, orders.CodeSupplier, sup.Code, given)
				if err != nil {
					return nil, "", err
				}
				items[given] = it
			}
			po, err := orders.NewPurchaseOrder(protoevent.NewID(), in, sup, items, partner, s.now())
			if err != nil {
				return nil, "", err
			}
			if err := tx.InsertPurchaseOrder(ctx, po); err != nil {
				return nil, "", err
			}
			return po, po.ID, nil
		})
}

// GetPurchaseOrder returns an order the caller may see.
func (s *Service) GetPurchaseOrder(ctx context.Context, id string) (*orders.PurchaseOrder, error) {
	po, err := s.store.GetPurchaseOrder(ctx, id)
	if err != nil {
		return nil, err
	}
	if !po.VisibleTo(partnerOf(ctx)) {
		return nil, notVisible(id)
	}
	return po, nil
}

// ListPurchaseOrders pages through the orders the caller may see: a partner
// only its own, whatever partner it filters on.
func (s *Service) ListPurchaseOrders(ctx context.Context, f POFilter, page paging.Page) ([]*orders.PurchaseOrder, error) {
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	return s.store.ListPurchaseOrders(ctx, f, page)
}

// ReleasePurchaseOrder releases a draft and emits PurchaseOrderReleased.
func (s *Service) ReleasePurchaseOrder(ctx context.Context, requestID, id string) (*orders.PurchaseOrder, error) {
	return s.changePurchaseOrder(ctx, "ReleasePurchaseOrder", requestID, id, id,
		func(po *orders.PurchaseOrder, now time.Time) ([]any, error) {
			if err := po.Release(now); err != nil {
				return nil, err
			}
			return []any{orders.PurchaseOrderReleased{Order: *po}}, nil
		})
}

// CancelPurchaseOrder cancels what is not yet received (see PurchaseOrder.Cancel).
func (s *Service) CancelPurchaseOrder(ctx context.Context, requestID, id string) (*orders.PurchaseOrder, error) {
	return s.changePurchaseOrder(ctx, "CancelPurchaseOrder", requestID, id, id,
		func(po *orders.PurchaseOrder, now time.Time) ([]any, error) { return nil, po.Cancel(now) })
}

// ClosePurchaseOrder closes a received or partially received order.
func (s *Service) ClosePurchaseOrder(ctx context.Context, requestID, id string) (*orders.PurchaseOrder, error) {
	return s.changePurchaseOrder(ctx, "ClosePurchaseOrder", requestID, id, id,
		func(po *orders.PurchaseOrder, now time.Time) ([]any, error) { return nil, po.Close(now) })
}

// resolveScope is the request-id scope of ResolveReceiptDiscrepancy.
const resolveScope = "ResolveReceiptDiscrepancy"

// ResolveReceiptDiscrepancy resolves a line's open over-receipt: ACCEPT or
// AMEND on the order alone, RETURN by issuing the excess out of inventory
// (see returnExcess). from is for RETURN only.
func (s *Service) ResolveReceiptDiscrepancy(ctx context.Context, requestID, id string, line int, how orders.Resolution, from orders.ReturnFrom) (*orders.PurchaseOrder, error) {
	if how == orders.ResolveReturn {
		return s.returnExcess(ctx, requestID, id, line, from)
	}
	var v apperr.Violations
	if strings.TrimSpace(from.Location) != "" {
		v.Add("location", "is for RETURN only")
	}
	if strings.TrimSpace(from.Lot) != "" {
		v.Add("lot", "is for RETURN only")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	cmd := struct {
		ID   string
		Line int
		How  orders.Resolution
	}{id, line, how}
	return s.changePurchaseOrder(ctx, resolveScope, requestID, id, cmd,
		func(po *orders.PurchaseOrder, now time.Time) ([]any, error) {
			return nil, po.ResolveDiscrepancy(line, how, now)
		})
}

// changePurchaseOrder is one idempotent command on one order the caller may
// see: lock, change, save, emit what change returns.
func (s *Service) changePurchaseOrder(ctx context.Context, scope, requestID, id string, cmd any,
	change func(po *orders.PurchaseOrder, now time.Time) ([]any, error)) (*orders.PurchaseOrder, error) {
	partner := partnerOf(ctx)
	return storetx.RunCommand(ctx, s.store.InTx, scope, requestID, cmd,
		func(tx Tx, id string) (*orders.PurchaseOrder, error) { return tx.GetPurchaseOrder(ctx, id) },
		func(tx Tx) (*orders.PurchaseOrder, string, error) {
			po, err := tx.LockPurchaseOrder(ctx, id)
			if err != nil {
				return nil, "", err
			}
			if !po.VisibleTo(partner) {
				return nil, "", notVisible(id)
			}
			loaded := po.Version
			evs, err := change(po, s.now())
			if err != nil {
				return nil, "", err
			}
			if err := tx.SavePurchaseOrder(ctx, po, loaded); err != nil {
				return nil, "", err
			}
			if len(evs) > 0 {
				if err := tx.Emit(ctx, evs...); err != nil {
					return nil, "", err
				}
			}
			return po, po.ID, nil
		})
}

// ApplyReceipts adds receipts (and their reversals) to purchase order lines
// and takes returns to the supplier out of them, all in one inbox
// transaction, each exactly once per event id (and a return once per
// movement, see orders.ApplyReturn); it returns one error per receipt.
// Received quantities are sums, so any order of delivery gives the same
// result. A receipt naming an order or line this service does not have is
// recorded and otherwise ignored: the stock is booked in inventory either
// way, and no redelivery would make the order appear.
func (s *Service) ApplyReceipts(ctx context.Context, receipts []Receipt) []error {
	errs := make([]error, len(receipts))
	batch := make([]Delivery, len(receipts))
	for i, r := range receipts {
		batch[i] = Delivery{EventID: r.EventID, Apply: func(tx Tx) error {
			po, err := tx.LockPurchaseOrder(ctx, r.Order)
			if errors.Is(err, apperr.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			loaded := po.Version
			now := s.now()
			at := r.At
			if at.IsZero() || at.After(now) {
				at = now
			}
			if r.Return {
				return s.applyReturnEvent(ctx, tx, po, r, now)
			}
			if err := po.ApplyReceipt(r.Line, r.Qty, at, now); errors.Is(err, orders.ErrUnknownLine) {
				return nil
			} else if err != nil {
				return err
			}
			if r.Value != 0 && r.Currency == po.Currency {
				if err := po.AddReceivedValue(r.Line, r.Value); err != nil {
					return err
				}
			}
			if r.Qty > 0 {
				po.NoteReceiptPlace(r.Line, r.Warehouse, r.Location, r.Lot)
			}
			return tx.SavePurchaseOrder(ctx, po, loaded)
		}}
	}
	out, err := s.store.InInboxBatch(ctx, ReceiptsConsumer, batch)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	for i, o := range out {
		errs[i] = o.Err
	}
	return errs
}

// resolveItem finds the catalog item an order line names: by SKU, else by the
// party's own code (namespace CodeSupplier or CodeCustomer), else by ERP item
// number, else by WMS code. nil when nothing matches.
func resolveItem(ctx context.Context, tx Tx, namespace, party, given string) (*orders.CatalogItem, error) {
	it, err := tx.GetCatalogItem(ctx, given)
	if err == nil || !errors.Is(err, apperr.ErrNotFound) {
		return it, err
	}
	code := orders.NormalizeItemCode(given)
	for _, ns := range []struct{ namespace, partner string }{{namespace, party}, {orders.CodeERP, ""}, {orders.CodeWMS, ""}} {
		sku, err := tx.ResolveItemCode(ctx, ns.namespace, ns.partner, code)
		if errors.Is(err, apperr.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		it, err := tx.GetCatalogItem(ctx, sku)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, nil
		}
		return it, err
	}
	return nil, nil
}
