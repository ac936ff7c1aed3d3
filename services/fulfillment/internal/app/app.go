// Package app holds the fulfillment use cases. It declares the storage port it
// needs (Store) and knows nothing of SQL, gRPC or NATS.
package app

import (
	"context"
	"log/slog"
	"time"

	"trueup.dev/platform/idempotency"
	"trueup.dev/platform/inbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// Store is the persistence port. Reads outside a transaction see committed state.
type Store interface {
	// InTx runs fn in one transaction: all its writes and events commit together or not at all.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// InInboxBatch applies many events in one transaction, each once per
	// event id (see inbox.ProcessBatch); an effect's failure is its own Outcome.
	InInboxBatch(ctx context.Context, consumer string, batch []Delivery) ([]inbox.Outcome, error)
	// Querier reads committed state, for storetx.Lookup.
	Querier() idempotency.Querier
	Reader
}

// Delivery is one event of a batch handed to Store.InInboxBatch.
type Delivery struct {
	EventID string
	Apply   func(tx Tx) error
}

// Reader answers queries. Get* return apperr NotFound for an unknown key; List*
// return up to page.Limit rows with a key after page.After, in key order.
type Reader interface {
	GetCarrier(ctx context.Context, code string) (*fulfillment.Carrier, error)
	ListCarriers(ctx context.Context, page paging.Page) ([]*fulfillment.Carrier, error)
	GetExpectedReceipt(ctx context.Context, id string) (*fulfillment.ExpectedReceipt, error)
	ListExpectedReceipts(ctx context.Context, f ReceiptFilter, page paging.Page) ([]*fulfillment.ExpectedReceipt, error)
	// ListReceiptDiscrepancies returns up to limit discrepancies after key
	// after, by receipt id and number.
	ListReceiptDiscrepancies(ctx context.Context, f DiscrepancyFilter, after DiscrepancyKey, limit int) ([]fulfillment.Discrepancy, error)
	GetTask(ctx context.Context, id string) (*fulfillment.Task, error)
	// ListTasks returns up to limit tasks with an id after after, in id order.
	ListTasks(ctx context.Context, f TaskFilter, after string, limit int) ([]*fulfillment.Task, error)
	GetOutboundOrder(ctx context.Context, id string) (*fulfillment.OutboundOrder, error)
	ListOutboundOrders(ctx context.Context, f OutboundFilter, after string, limit int) ([]*fulfillment.OutboundOrder, error)
	// OwedOutboundOrders lists up to limit orders with work owed to inventory.
	OwedOutboundOrders(ctx context.Context, limit int) ([]string, error)
	GetShipment(ctx context.Context, id string) (*fulfillment.Shipment, error)
	ListShipments(ctx context.Context, order string, partner *string, after string, limit int) ([]*fulfillment.Shipment, error)

	// Cycle counts (counts.go).
	CountReader
}

// Tx is the write side of one transaction.
type Tx interface {
	Reader
	// Claimer makes a command idempotent by its request id: use cases run
	// through storetx.RunCommand, which claims, replays and completes.
	storetx.Claimer
	// InsertCarrier returns AlreadyExists when the code is taken.
	InsertCarrier(ctx context.Context, c *fulfillment.Carrier) error
	// InsertExpectedReceipt writes a new expected receipt; false (and no
	// change) when one with its id exists.
	InsertExpectedReceipt(ctx context.Context, r *fulfillment.ExpectedReceipt) (bool, error)
	// LockExpectedReceipt reads a receipt for change: no other transaction
	// changes it until this one ends. NotFound when there is none.
	LockExpectedReceipt(ctx context.Context, id string) (*fulfillment.ExpectedReceipt, error)
	// SaveExpectedReceipt writes a changed receipt (its header, order lines,
	// received lines and discrepancies) read at version prev.
	SaveExpectedReceipt(ctx context.Context, r *fulfillment.ExpectedReceipt, prev int64) error
	// InsertTask adds a task unless one with its id exists.
	InsertTask(ctx context.Context, k *fulfillment.Task) error
	// LockTask reads a task for change; NotFound when there is none.
	LockTask(ctx context.Context, id string) (*fulfillment.Task, error)
	// LockNextTask reads for change the oldest task of the filter anyone may
	// claim at now, skipping those other transactions hold; nil when none.
	LockNextTask(ctx context.Context, f TaskFilter, now time.Time) (*fulfillment.Task, error)
	// SaveTask writes a task read at version prev.
	SaveTask(ctx context.Context, k *fulfillment.Task, prev int64) error
	// InsertOutboundOrder writes a new order; false (and no change) when
	// one with its id exists.
	InsertOutboundOrder(ctx context.Context, o *fulfillment.OutboundOrder) (bool, error)
	// LockOutboundOrder reads an order for change.
	LockOutboundOrder(ctx context.Context, id string) (*fulfillment.OutboundOrder, error)
	// SaveOutboundOrder writes an order read at version prev.
	SaveOutboundOrder(ctx context.Context, o *fulfillment.OutboundOrder, prev int64) error
	InsertShipment(ctx context.Context, s *fulfillment.Shipment) error
	LockShipment(ctx context.Context, id string) (*fulfillment.Shipment, error)
	SaveShipment(ctx context.Context, s *fulfillment.Shipment, prev int64) error
	// Emit records domain events in the transactional outbox.
	Emit(ctx context.Context, events ...any) error

	// Cycle counts (counts.go).
	CountTx
}

// Service is the fulfillment application.
type Service struct {
	store     Store
	now       func() time.Time
	inventory Inventory // nil: receiving answers Unavailable
	claimTTL  time.Duration
	cutoffs   []time.Duration // nil: fulfillment.DefaultCutoffs
	log       *slog.Logger

	// Cycle counts (counts.go).
	counting counting
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// New builds the service. now may be nil (wall clock).
func New(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// CreateCarrier adds a carrier. A retry with the same requestID returns the
// carrier the first call created.
func (s *Service) CreateCarrier(ctx context.Context, requestID string, in fulfillment.Carrier) (*fulfillment.Carrier, error) {
	c, err := fulfillment.NewCarrier(in, s.now())
	if err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "CreateCarrier", requestID, in,
		func(tx Tx, code string) (*fulfillment.Carrier, error) { return tx.GetCarrier(ctx, code) },
		func(tx Tx) (*fulfillment.Carrier, string, error) {
			if err := tx.InsertCarrier(ctx, c); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, fulfillment.CarrierCreated{Carrier: *c}); err != nil {
				return nil, "", err
			}
			return c, c.Code, nil
		})
}

// GetCarrier returns one carrier by code (normalised first).
func (s *Service) GetCarrier(ctx context.Context, code string) (*fulfillment.Carrier, error) {
	return s.store.GetCarrier(ctx, fulfillment.NormalizeCode(code))
}

// ListCarriers pages through carriers in code order.
func (s *Service) ListCarriers(ctx context.Context, page paging.Page) ([]*fulfillment.Carrier, error) {
	return s.store.ListCarriers(ctx, page)
}
