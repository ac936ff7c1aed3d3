package app

import (
	"context"
	"errors"
	"math/big"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/orders/internal/orders"
)

// BillFilter narrows ListBills. Zero fields match everything; Partner nil
// matches every owner, "" only internal bills.
type BillFilter struct {
	State         orders.BillState
	Supplier      string
	PurchaseOrder string
	Partner       *string
	CreatedFrom   time.Time // inclusive
	CreatedBefore time.Time // exclusive
}

func billNotVisible(id string) error { return apperr.NotFound("supplier bill", id) }

// RecordBill records a supplier bill against a purchase order the caller may
// see, matches it, and approves it (emitting SupplierBillApproved) or holds
// it. A partner caller owns the bill. A retry with the same requestID
// returns the first call's bill and emits nothing more.
func (s *Service) RecordBill(ctx context.Context, requestID, orderID string, in orders.BillInput) (*orders.Bill, error) {
	partner := partnerOf(ctx)
	cmd := struct {
		Order string
		In    orders.BillInput
	}{orderID, in}
	return storetx.RunCommand(ctx, s.store.InTx, "RecordSupplierBill", requestID, cmd,
		func(tx Tx, id string) (*orders.Bill, error) { return tx.GetBill(ctx, id) },
		func(tx Tx) (*orders.Bill, string, error) {
			po, err := tx.LockPurchaseOrder(ctx, orderID)
			if err != nil {
				return nil, "", err
			}
			if !po.VisibleTo(partner) {
				return nil, "", notVisible(orderID)
			}
			factors := map[string]*orders.CatalogItem{}
			var lookupErr error
			factor := func(sku, uom string) (string, *big.Rat, bool) {
				it, ok := factors[sku]
				if !ok {
					got, gerr := tx.GetCatalogItem(ctx, sku)
					if gerr != nil && !errors.Is(gerr, apperr.ErrNotFound) {
						lookupErr = gerr
					}
					it = got
					factors[sku] = it
				}
				if it == nil {
					return "", nil, false
				}
				return it.Factor(uom)
			}
			loaded := po.Version
			now := s.now()
			b, err := orders.NewBill(protoevent.NewID(), in, po, factor, partner, now)
			if lookupErr != nil {
				return nil, "", lookupErr
			}
			if err != nil {
				return nil, "", err
			}
			sup, err := tx.GetSupplier(ctx, po.Supplier)
			if err != nil {
				return nil, "", err
			}
			b.SetDue(sup.PaymentTermsDays)
			if err := tx.InsertBill(ctx, b); err != nil {
				return nil, "", err
			}
			if b.State == orders.BillApproved {
				po.MarkBilled(b.ApprovedAt, now)
			}
			if err := tx.SavePurchaseOrder(ctx, po, loaded); err != nil {
				return nil, "", err
			}
			if b.State == orders.BillApproved {
				if err := tx.Emit(ctx, orders.SupplierBillApproved{Bill: *b}); err != nil {
					return nil, "", err
				}
			}
			return b, b.ID, nil
		})
}

// GetBill returns a bill the caller may see.
func (s *Service) GetBill(ctx context.Context, id string) (*orders.Bill, error) {
	b, err := s.store.GetBill(ctx, id)
	if err != nil {
		return nil, err
	}
	if !b.VisibleTo(partnerOf(ctx)) {
		return nil, billNotVisible(id)
	}
	return b, nil
}

// ListBills pages through the bills the caller may see: a partner only its own.
func (s *Service) ListBills(ctx context.Context, f BillFilter, page paging.Page) ([]*orders.Bill, error) {
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	return s.store.ListBills(ctx, f, page)
}

// AcceptBill approves a held bill, accepting its variance, and emits
// SupplierBillApproved.
func (s *Service) AcceptBill(ctx context.Context, requestID, id, reason string) (*orders.Bill, error) {
	return s.changeBill(ctx, "AcceptSupplierBill", requestID, id, reason,
		func(b *orders.Bill, po *orders.PurchaseOrder, now time.Time) ([]any, error) {
			if err := b.Accept(reason, now); err != nil {
				return nil, err
			}
			po.MarkBilled(b.ApprovedAt, now)
			return []any{orders.SupplierBillApproved{Bill: *b}}, nil
		})
}

// RejectBill rejects a held bill; its quantities are no longer billed.
func (s *Service) RejectBill(ctx context.Context, requestID, id, reason string) (*orders.Bill, error) {
	return s.changeBill(ctx, "RejectSupplierBill", requestID, id, reason,
		func(b *orders.Bill, po *orders.PurchaseOrder, now time.Time) ([]any, error) {
			return nil, b.Reject(reason, po, now)
		})
}

func (s *Service) changeBill(ctx context.Context, scope, requestID, id, reason string,
	change func(b *orders.Bill, po *orders.PurchaseOrder, now time.Time) ([]any, error)) (*orders.Bill, error) {
	partner := partnerOf(ctx)
	cmd := struct{ ID, Reason string }{id, reason}
	return storetx.RunCommand(ctx, s.store.InTx, scope, requestID, cmd,
		func(tx Tx, id string) (*orders.Bill, error) { return tx.GetBill(ctx, id) },
		func(tx Tx) (*orders.Bill, string, error) {
			b, err := tx.LockBill(ctx, id)
			if err != nil {
				return nil, "", err
			}
			if !b.VisibleTo(partner) {
				return nil, "", billNotVisible(id)
			}
			po, err := tx.LockPurchaseOrder(ctx, b.PurchaseOrder)
			if err != nil {
				return nil, "", err
			}
			loadedBill, loadedPO := b.Version, po.Version
			evs, err := change(b, po, s.now())
			if err != nil {
				return nil, "", err
			}
			if err := tx.SaveBill(ctx, b, loadedBill); err != nil {
				return nil, "", err
			}
			if po.Version != loadedPO {
				if err := tx.SavePurchaseOrder(ctx, po, loadedPO); err != nil {
					return nil, "", err
				}
			}
			if len(evs) > 0 {
				if err := tx.Emit(ctx, evs...); err != nil {
					return nil, "", err
				}
			}
			return b, b.ID, nil
		})
}
