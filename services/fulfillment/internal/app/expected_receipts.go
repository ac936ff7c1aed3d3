package app

import (
	"context"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/paging"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// PurchaseOrdersConsumer names the consumer of orders' PurchaseOrderReleased
// that opens expected receipts: its inbox scope and durable name on the bus.
const PurchaseOrdersConsumer = "fulfillment-purchase-orders"

// ReceiptFilter narrows ListExpectedReceipts; zero fields match everything.
type ReceiptFilter struct {
	Warehouse     string
	PurchaseOrder string
	State         fulfillment.ReceiptState
	Partner       *string
}

// Release is a released purchase order as its event tells it.
type Release struct {
	EventID string
	Order   fulfillment.ReleasedOrder
}

// ApplyReleases opens the expected receipts of released purchase orders, one
// inbox transaction per batch, each event once; a receipt that exists (the
// same order released in another event) is left as it is. It returns one
// error per release.
func (s *Service) ApplyReleases(ctx context.Context, releases []Release) []error {
	errs := make([]error, len(releases))
	batch := make([]Delivery, len(releases))
	for i, r := range releases {
		batch[i] = Delivery{EventID: r.EventID, Apply: func(tx Tx) error {
			rs, err := fulfillment.ExpectedReceipts(r.Order, s.now())
			if err != nil {
				return err
			}
			for _, er := range rs {
				if _, err := tx.InsertExpectedReceipt(ctx, er); err != nil {
					return err
				}
			}
			return nil
		}}
	}
	out, err := s.store.InInboxBatch(ctx, PurchaseOrdersConsumer, batch)
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

func partnerOf(ctx context.Context) string {
	if c := caller.From(ctx); c.IsPartner() {
		return c.ID
	}
	return ""
}

// GetExpectedReceipt returns a receipt the caller may see; another partner's
// answers NotFound like a missing one.
func (s *Service) GetExpectedReceipt(ctx context.Context, id string) (*fulfillment.ExpectedReceipt, error) {
	r, err := s.store.GetExpectedReceipt(ctx, id)
	if err != nil {
		return nil, err
	}
	if !r.VisibleTo(partnerOf(ctx)) {
		return nil, apperr.NotFound("expected receipt", id)
	}
	return r, nil
}

// ListExpectedReceipts pages through the receipts the caller may see.
func (s *Service) ListExpectedReceipts(ctx context.Context, f ReceiptFilter, page paging.Page) ([]*fulfillment.ExpectedReceipt, error) {
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	return s.store.ListExpectedReceipts(ctx, f, page)
}
