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

// InvoiceFilter narrows ListInvoices; zero fields match everything.
type InvoiceFilter struct {
	State        orders.InvoiceState
	Customer     string
	SalesOrder   string
	Partner      *string
	IssuedFrom   time.Time // inclusive
	IssuedBefore time.Time // exclusive
}

// PaymentFilter narrows ListPayments; zero fields match everything.
type PaymentFilter struct {
	Customer       string
	Partner        *string
	ReceivedFrom   time.Time // inclusive
	ReceivedBefore time.Time // exclusive
}

// AgeingFilter narrows ReceivablesAgeing and sets the time it ages at.
type AgeingFilter struct {
	Customer string
	Partner  *string
	AsOf     time.Time
}

// maxAutoApplied bounds how many open invoices one payment without
// applications settles (earliest due first); a payment larger than those
// leaves the rest as credit.
const maxAutoApplied = 1000

// GetInvoice returns an invoice the caller may see.
func (s *Service) GetInvoice(ctx context.Context, id string) (*orders.Invoice, error) {
	inv, err := s.store.GetInvoice(ctx, id)
	if err != nil {
		return nil, err
	}
	if !inv.VisibleTo(partnerOf(ctx)) {
		return nil, apperr.NotFound("invoice", id)
	}
	return inv, nil
}

// ListInvoices pages through the invoices the caller may see.
func (s *Service) ListInvoices(ctx context.Context, f InvoiceFilter, page paging.Page) ([]*orders.Invoice, error) {
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	return s.store.ListInvoices(ctx, f, page)
}

// RecordPayment records a customer's payment and applies it to invoices
// (see orders.NewPayment), emitting PaymentReceived. A partner records
// payments only of customers it may see and against its own invoices. A
// retry with the same requestID returns the first call's payment.
func (s *Service) RecordPayment(ctx context.Context, requestID string, in orders.PaymentInput) (*orders.Payment, error) {
	partner := partnerOf(ctx)
	return storetx.RunCommand(ctx, s.store.InTx, "RecordPayment", requestID, in,
		func(tx Tx, id string) (*orders.Payment, error) { return tx.GetPayment(ctx, id) },
		func(tx Tx) (*orders.Payment, string, error) {
			code := orders.NormalizeCode(in.Customer)
			cus, err := tx.LockCustomer(ctx, code)
			if err == nil && !cus.VisibleTo(partner) {
				err = apperr.NotFound("customer", code)
			}
			if errors.Is(err, apperr.ErrNotFound) {
				return nil, "", apperr.Invalid(apperr.Field("payment.customer", fmt.Sprintf("customer %q does not exist", code)))
			}
			if err != nil {
				return nil, "", err
			}
			invoices := map[string]*orders.Invoice{}
			var open []*orders.Invoice
			for _, a := range in.Applications {
				if a.Invoice == "" || invoices[a.Invoice] != nil {
					continue
				}
				inv, err := tx.LockInvoice(ctx, a.Invoice)
				if errors.Is(err, apperr.ErrNotFound) {
					continue // NewPayment names it as not existing
				}
				if err != nil {
					return nil, "", err
				}
				if !inv.VisibleTo(partner) {
					return nil, "", apperr.NotFound("invoice", a.Invoice)
				}
				invoices[a.Invoice] = inv
			}
			if len(in.Applications) == 0 {
				currency := orders.NormalizeCurrency(in.Currency)
				if currency == "" {
					currency = cus.CurrencyCode
				}
				if open, err = tx.LockOpenInvoices(ctx, cus.Code, currency, maxAutoApplied); err != nil {
					return nil, "", err
				}
				if partner != "" {
					var own []*orders.Invoice
					for _, inv := range open {
						if inv.VisibleTo(partner) {
							own = append(own, inv)
						}
					}
					open = own
				}
			}
			loaded := map[string]int64{}
			for _, inv := range invoices {
				loaded[inv.ID] = inv.Version
			}
			for _, inv := range open {
				loaded[inv.ID] = inv.Version
			}
			p, settled, err := orders.NewPayment(protoevent.NewID(), in, cus, invoices, open, partner, s.now())
			if err != nil {
				return nil, "", err
			}
			paidOrders := map[string]bool{}
			for _, inv := range settled {
				if err := tx.SaveInvoice(ctx, inv, loaded[inv.ID]); err != nil {
					return nil, "", err
				}
				if inv.State == orders.InvoicePaid {
					paidOrders[inv.SalesOrder] = true
				}
			}
			for id := range paidOrders {
				so, err := tx.LockSalesOrder(ctx, id)
				if err != nil {
					return nil, "", err
				}
				loadedSO := so.Version
				if err := settlePaid(ctx, tx, so, s.now()); err != nil {
					return nil, "", err
				}
				if so.Version != loadedSO {
					if err := tx.SaveSalesOrder(ctx, so, loadedSO); err != nil {
						return nil, "", err
					}
				}
			}
			if err := tx.InsertPayment(ctx, p); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, orders.PaymentReceived{Payment: *p}); err != nil {
				return nil, "", err
			}
			return p, p.ID, nil
		})
}

// GetPayment returns a payment the caller may see.
func (s *Service) GetPayment(ctx context.Context, id string) (*orders.Payment, error) {
	p, err := s.store.GetPayment(ctx, id)
	if err != nil {
		return nil, err
	}
	if !p.VisibleTo(partnerOf(ctx)) {
		return nil, apperr.NotFound("payment", id)
	}
	return p, nil
}

// ListPayments pages through the payments the caller may see.
func (s *Service) ListPayments(ctx context.Context, f PaymentFilter, page paging.Page) ([]*orders.Payment, error) {
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	return s.store.ListPayments(ctx, f, page)
}

// ReceivablesAgeing ages the open receivables the caller may see; a zero
// AsOf is now.
func (s *Service) ReceivablesAgeing(ctx context.Context, f AgeingFilter, page paging.Page) ([]*orders.Receivables, error) {
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	if f.AsOf.IsZero() {
		f.AsOf = s.now()
	}
	return s.store.ReceivablesAgeing(ctx, f, page)
}
