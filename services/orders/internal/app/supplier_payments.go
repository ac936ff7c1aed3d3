package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/orders/internal/orders"
)

// SupplierPaymentFilter narrows ListSupplierPayments; zero fields match all.
type SupplierPaymentFilter struct {
	Supplier   string
	Partner    *string
	PaidFrom   time.Time // inclusive
	PaidBefore time.Time // exclusive
}

// RecordSupplierPayment records a payment to a supplier and applies it to
// approved bills (see orders.NewSupplierPayment), emitting
// SupplierPaymentMade; a purchase order whose bills are then all paid is
// marked paid. A partner pays only its own bills, of suppliers it may see.
// A retry with the same requestID returns the first call's payment.
func (s *Service) RecordSupplierPayment(ctx context.Context, requestID string, in orders.SupplierPaymentInput) (*orders.SupplierPayment, error) {
	partner := partnerOf(ctx)
	return storetx.RunCommand(ctx, s.store.InTx, "RecordSupplierPayment", requestID, in,
		func(tx Tx, id string) (*orders.SupplierPayment, error) { return tx.GetSupplierPayment(ctx, id) },
		func(tx Tx) (*orders.SupplierPayment, string, error) {
			code := orders.NormalizeCode(in.Supplier)
			sup, err := tx.GetSupplier(ctx, code)
			if err == nil && !sup.VisibleTo(partner) {
				err = apperr.NotFound("supplier", code)
			}
			if errors.Is(err, apperr.ErrNotFound) {
				return nil, "", apperr.Invalid(apperr.Field("supplier_payment.supplier", fmt.Sprintf("supplier %q does not exist", code)))
			}
			if err != nil {
				return nil, "", err
			}
			bills := map[string]*orders.Bill{}
			var open []*orders.Bill
			for _, a := range in.Applications {
				if a.Invoice == "" || bills[a.Invoice] != nil {
					continue
				}
				b, err := tx.LockBill(ctx, a.Invoice)
				if errors.Is(err, apperr.ErrNotFound) {
					continue // NewSupplierPayment names it as not existing
				}
				if err != nil {
					return nil, "", err
				}
				if !b.VisibleTo(partner) {
					return nil, "", billNotVisible(a.Invoice)
				}
				bills[a.Invoice] = b
			}
			if len(in.Applications) == 0 {
				currency := orders.NormalizeCurrency(in.Currency)
				if currency == "" {
					currency = sup.CurrencyCode
				}
				all, err := tx.LockPayableBills(ctx, sup.Code, currency, maxAutoApplied)
				if err != nil {
					return nil, "", err
				}
				for _, b := range all {
					if b.VisibleTo(partner) {
						open = append(open, b)
					}
				}
			}
			loaded := map[string]int64{}
			for _, b := range bills {
				loaded[b.ID] = b.Version
			}
			for _, b := range open {
				loaded[b.ID] = b.Version
			}
			now := s.now()
			p, settled, err := orders.NewSupplierPayment(protoevent.NewID(), in, sup, bills, open, partner, now)
			if err != nil {
				return nil, "", err
			}
			paidOrders := map[string]bool{}
			for _, b := range settled {
				if err := tx.SaveBill(ctx, b, loaded[b.ID]); err != nil {
					return nil, "", err
				}
				if b.Open() == 0 {
					paidOrders[b.PurchaseOrder] = true
				}
			}
			for id := range paidOrders {
				if err := settlePurchaseOrderPaid(ctx, tx, id, now); err != nil {
					return nil, "", err
				}
			}
			if err := tx.InsertSupplierPayment(ctx, p); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, orders.SupplierPaymentMade{Payment: *p}); err != nil {
				return nil, "", err
			}
			return p, p.ID, nil
		})
}

// settlePurchaseOrderPaid marks the order paid once it is received or closed
// and every approved bill of it is paid (see PurchaseOrder.SettlePaid).
func settlePurchaseOrderPaid(ctx context.Context, tx Tx, id string, now time.Time) error {
	po, err := tx.LockPurchaseOrder(ctx, id)
	if err != nil {
		return err
	}
	p, err := tx.PurchaseOrderPayment(ctx, id)
	if err != nil {
		return err
	}
	loaded := po.Version
	if !po.SettlePaid(p.Approved, p.Open, p.Held, p.LastPaid, now) {
		return nil
	}
	return tx.SavePurchaseOrder(ctx, po, loaded)
}

// GetSupplierPayment returns a supplier payment the caller may see.
func (s *Service) GetSupplierPayment(ctx context.Context, id string) (*orders.SupplierPayment, error) {
	p, err := s.store.GetSupplierPayment(ctx, id)
	if err != nil {
		return nil, err
	}
	if !p.VisibleTo(partnerOf(ctx)) {
		return nil, apperr.NotFound("supplier payment", id)
	}
	return p, nil
}

// ListSupplierPayments pages through the supplier payments the caller may see.
func (s *Service) ListSupplierPayments(ctx context.Context, f SupplierPaymentFilter, page paging.Page) ([]*orders.SupplierPayment, error) {
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	return s.store.ListSupplierPayments(ctx, f, page)
}
