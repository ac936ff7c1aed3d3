package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/orders/internal/orders"
)

// ShipmentsConsumer names the consumer of fulfillment's shipments that
// moves sales order lines to shipped and invoices each shipment: its inbox
// scope and its durable name on the bus.
const ShipmentsConsumer = "orders-shipments"

// SOFilter narrows ListSalesOrders. Zero fields match everything; Partner
// nil matches every owner, "" only internal orders.
type SOFilter struct {
	State         orders.SOState
	Customer      string
	Partner       *string
	CreatedFrom   time.Time // inclusive
	CreatedBefore time.Time // exclusive
}

// Shipment is what fulfillment's ShipmentConfirmed tells orders: the goods
// of some sales order lines left at ShippedAt.
type Shipment struct {
	EventID    string
	ID         string // shipment id
	SalesOrder string // sales order id
	Lines      []orders.ShippedQty
	ShippedAt  time.Time
	// Trace is the event's delivery span (natsx.Message.SpanContext): the
	// invoice it issues continues that trace.
	Trace trace.SpanContext
}

// CreateSalesOrder creates a draft. A partner caller owns it and may order
// only for its own or the company's customers. A retry with the same
// requestID returns the order the first call created.
func (s *Service) CreateSalesOrder(ctx context.Context, requestID string, in orders.SOInput) (*orders.SalesOrder, error) {
	partner := partnerOf(ctx)
	return storetx.RunCommand(ctx, s.store.InTx, "CreateSalesOrder", requestID, in,
		func(tx Tx, id string) (*orders.SalesOrder, error) { return tx.GetSalesOrder(ctx, id) },
		func(tx Tx) (*orders.SalesOrder, string, error) {
			code := orders.NormalizeCode(in.Customer)
			cus, err := tx.GetCustomer(ctx, code)
			if err == nil && !cus.VisibleTo(partner) {
				err = apperr.NotFound("customer", code)
			}
			if errors.Is(err, apperr.ErrNotFound) {
				return nil, "", apperr.Invalid(apperr.Field("sales_order.customer", fmt.Sprintf("customer %q does not exist", code)))
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
				it, err := resolveItem(ctx, tx, orders.CodeCustomer, cus.Code, given)
				if err != nil {
					return nil, "", err
				}
				items[given] = it
			}
			so, err := orders.NewSalesOrder(protoevent.NewID(), in, cus, items, partner, s.now())
			if err != nil {
				return nil, "", err
			}
			if err := tx.InsertSalesOrder(ctx, so); err != nil {
				return nil, "", err
			}
			return so, so.ID, nil
		})
}

// soNotVisible is what a caller is told about an order it may not see.
func soNotVisible(id string) error { return apperr.NotFound("sales order", id) }

// GetSalesOrder returns an order the caller may see.
func (s *Service) GetSalesOrder(ctx context.Context, id string) (*orders.SalesOrder, error) {
	so, err := s.store.GetSalesOrder(ctx, id)
	if err != nil {
		return nil, err
	}
	if !so.VisibleTo(partnerOf(ctx)) {
		return nil, soNotVisible(id)
	}
	return so, nil
}

// ListSalesOrders pages through the orders the caller may see: a partner
// only its own, whatever partner it filters on.
func (s *Service) ListSalesOrders(ctx context.Context, f SOFilter, page paging.Page) ([]*orders.SalesOrder, error) {
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	return s.store.ListSalesOrders(ctx, f, page)
}

// ConfirmSalesOrder checks the customer's credit and confirms a draft
// (SalesOrderConfirmed). The customer's row is held for the check, so two
// confirmations for one customer cannot both pass on the same headroom.
func (s *Service) ConfirmSalesOrder(ctx context.Context, requestID, id string) (*orders.SalesOrder, error) {
	return s.changeSalesOrder(ctx, "ConfirmSalesOrder", requestID, id, id,
		func(tx Tx, so *orders.SalesOrder, now time.Time) ([]any, error) {
			cus, err := tx.LockCustomer(ctx, so.Customer)
			if err != nil {
				return nil, err
			}
			var credit orders.Credit
			if cus.CreditLimit != nil && so.State == orders.SODraft {
				if credit.Exposure, err = tx.CreditExposure(ctx, cus.Code, cus.CurrencyCode); err != nil {
					return nil, err
				}
			}
			if err := so.Confirm(cus, credit, now); err != nil {
				return nil, err
			}
			return []any{orders.SalesOrderConfirmed{Order: *so}}, nil
		})
}

// CancelSalesOrder cancels what is not yet shipped of some lines, or of all
// (SalesOrderCancelled).
func (s *Service) CancelSalesOrder(ctx context.Context, requestID, id string, lines []int, reason string) (*orders.SalesOrder, error) {
	if err := orders.ValidReason(reason); err != nil {
		return nil, err
	}
	cmd := struct {
		ID     string
		Lines  []int
		Reason string
	}{id, lines, reason}
	return s.changeSalesOrder(ctx, "CancelSalesOrder", requestID, id, cmd,
		func(tx Tx, so *orders.SalesOrder, now time.Time) ([]any, error) {
			cancelled, err := so.Cancel(lines, now)
			if err != nil {
				return nil, err
			}
			// closing the backorder of an order whose invoices are paid pays it
			if err := settlePaid(ctx, tx, so, now); err != nil {
				return nil, err
			}
			return []any{orders.SalesOrderCancelled{Order: *so, Lines: cancelled, Reason: reason}}, nil
		})
}

// changeSalesOrder is one idempotent command on one order the caller may
// see: lock, change, save, emit what change returns.
func (s *Service) changeSalesOrder(ctx context.Context, scope, requestID, id string, cmd any,
	change func(tx Tx, so *orders.SalesOrder, now time.Time) ([]any, error)) (*orders.SalesOrder, error) {
	partner := partnerOf(ctx)
	return storetx.RunCommand(ctx, s.store.InTx, scope, requestID, cmd,
		func(tx Tx, id string) (*orders.SalesOrder, error) { return tx.GetSalesOrder(ctx, id) },
		func(tx Tx) (*orders.SalesOrder, string, error) {
			so, err := tx.LockSalesOrder(ctx, id)
			if err != nil {
				return nil, "", err
			}
			if !so.VisibleTo(partner) {
				return nil, "", soNotVisible(id)
			}
			loaded := so.Version
			evs, err := change(tx, so, s.now())
			if err != nil {
				return nil, "", err
			}
			if err := tx.SaveSalesOrder(ctx, so, loaded); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, evs...); err != nil {
				return nil, "", err
			}
			return so, so.ID, nil
		})
}

// ErrUnknownSalesOrder is returned (wrapped) by ApplyShipments for a
// shipment naming a sales order, or a line of one, that this service does not
// have: no redelivery will make it appear, so the event needs a person.
var ErrUnknownSalesOrder = errors.New("unknown sales order")

// ApplyShipments records shipments on their sales orders and invoices each
// shipment once, all in one inbox transaction, each event once per event
// id; it returns one error per shipment. A shipment whose invoice exists
// already (the same shipment in another event) changes nothing: the invoice
// is unique by shipment in the database too.
func (s *Service) ApplyShipments(ctx context.Context, shipments []Shipment) []error {
	errs := make([]error, len(shipments))
	batch := make([]Delivery, len(shipments))
	for i, sh := range shipments {
		batch[i] = Delivery{EventID: sh.EventID, Apply: func(tx Tx) error { return s.applyShipment(withTrace(ctx, sh.Trace), tx, sh) }}
	}
	out, err := s.store.InInboxBatch(ctx, ShipmentsConsumer, batch)
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

func (s *Service) applyShipment(ctx context.Context, tx Tx, sh Shipment) error {
	if _, err := tx.InvoiceForShipment(ctx, sh.ID); err == nil {
		return nil
	} else if !errors.Is(err, apperr.ErrNotFound) {
		return err
	}
	so, err := tx.LockSalesOrder(ctx, sh.SalesOrder)
	if errors.Is(err, apperr.ErrNotFound) {
		return fmt.Errorf("shipment %s names sales order %s: %w", sh.ID, sh.SalesOrder, ErrUnknownSalesOrder)
	}
	if err != nil {
		return err
	}
	cus, err := tx.GetCustomer(ctx, so.Customer)
	if err != nil {
		return err
	}
	loaded := so.Version
	now := s.now()
	shippedAt := sh.ShippedAt
	if shippedAt.IsZero() || shippedAt.After(now) {
		shippedAt = now
	}
	if err := so.ApplyShipment(sh.Lines, shippedAt, now); errors.Is(err, orders.ErrUnknownSOLine) {
		return fmt.Errorf("shipment %s: %w: %w", sh.ID, ErrUnknownSalesOrder, err)
	} else if err != nil {
		return err
	}
	inv, err := orders.NewInvoice(protoevent.NewID(), sh.ID, so, sh.Lines, cus.PaymentTermsDays, shippedAt, now)
	if err != nil {
		return err
	}
	if err := tx.SaveSalesOrder(ctx, so, loaded); err != nil {
		return err
	}
	if err := tx.InsertInvoice(ctx, inv); err != nil {
		return err
	}
	return tx.Emit(ctx, orders.InvoiceIssued{Invoice: *inv})
}

// settlePaid records the order as paid once it is shipped in full or
// closed and every invoice of it is paid (see SalesOrder.SettlePaid).
func settlePaid(ctx context.Context, tx Tx, so *orders.SalesOrder, now time.Time) error {
	if so.State != orders.SOShipped && so.State != orders.SOClosed {
		return nil
	}
	p, err := tx.SalesOrderPayment(ctx, so.ID)
	if err != nil {
		return err
	}
	so.SettlePaid(p.Invoices, p.Open, p.LastPaid, now)
	return nil
}

// StagesConsumer names the consumer of inventory's allocations and picks that
// records when sales orders reached those stages.
const StagesConsumer = "orders-stages"

// StageEvent is an allocation or pick for an outbound order, which is named
// after its sales order.
type StageEvent struct {
	EventID string
	Order   string // outbound order id = sales order id
	Stage   orders.Stage
	At      time.Time
}

// ApplyStages records allocation and pick times on sales orders, one inbox
// transaction per batch, each event once. An outbound order that is no
// sales order of this service (a transfer's, another system's) is ignored.
func (s *Service) ApplyStages(ctx context.Context, evs []StageEvent) []error {
	errs := make([]error, len(evs))
	batch := make([]Delivery, len(evs))
	for i, ev := range evs {
		batch[i] = Delivery{EventID: ev.EventID, Apply: func(tx Tx) error {
			so, err := tx.LockSalesOrder(ctx, ev.Order)
			if errors.Is(err, apperr.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			loaded := so.Version
			now := s.now()
			at := ev.At
			if at.IsZero() || at.After(now) {
				at = now
			}
			if !so.MarkStage(ev.Stage, at, now) {
				return nil
			}
			return tx.SaveSalesOrder(ctx, so, loaded)
		}}
	}
	out, err := s.store.InInboxBatch(ctx, StagesConsumer, batch)
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
