// Package server is the fulfillment service's composition root: it wires the
// store, the use cases, the gRPC API, the outbox relay and the consumer of
// orders' purchase order releases from the handles the binary gives it. cmd/trueup runs it alone (`trueup serve fulfillment`) or
// beside the other services (`trueup dev`).
package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/lifecycle"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/retention"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/events"
	"trueup.dev/services/fulfillment/internal/grpcapi"
	"trueup.dev/services/fulfillment/internal/inventoryclient"
	"trueup.dev/services/fulfillment/internal/store"
)

// Name is the service's name on the command line and in logs.
const Name = "fulfillment"

// Deps are the handles the binary opens for the service.
type Deps struct {
	DB *sqldb.DB
	JS jetstream.JetStream
	// Logger may be nil (slog.Default()).
	Logger *slog.Logger
	// InventoryAddr is the inventory service's gRPC target, where receiving
	// books stock; empty: receiving answers Unavailable.
	InventoryAddr string
	// ClaimTTL is how long a worker's claim on a task holds; 0 is
	// fulfillment.DefaultClaimTTL.
	ClaimTTL time.Duration
	// ServiceToken is the shared internal credential sent on calls to
	// InventoryAddr (grpcserver.WithServiceToken); empty sends none.
	ServiceToken string
}

// Service is a wired fulfillment service.
type Service struct {
	// conns are the client connections to other services, closed by Run.
	conns  []*grpc.ClientConn
	wake   chan struct{}
	db     *sqldb.DB
	js     jetstream.JetStream
	log    *slog.Logger
	outbox *outbox.Outbox
	app    *app.Service
	api    *grpcapi.Server
	counts *grpcapi.CountServer
}

// drainTimeout bounds how long Run, once told to stop, waits for the handlers
// in flight to commit; past it they roll back and their events are
// redelivered later, which the inbox makes harmless.
const drainTimeout = 10 * time.Second

// Migrate brings the service's database schema up to date, including the
// platform's outbox and idempotency tables.
func Migrate(ctx context.Context, db *sqldb.DB) error { return store.Migrate(ctx, db) }

// New wires the service and makes sure its event stream exists. The schema must
// be migrated already (see Migrate). Nothing runs until Run.
func New(ctx context.Context, d Deps) (*Service, error) {
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	// Its own stream, and orders' (declared with the producer's config, so
	// whichever service starts first creates it and neither undoes the other).
	for _, bc := range []string{events.Context, events.OrdersContext} {
		cfg := natsx.StreamConfig(protoevent.StreamName(bc), protoevent.StreamSubjects(bc))
		if _, err := natsx.EnsureStream(ctx, d.JS, cfg); err != nil {
			return nil, fmt.Errorf("fulfillment: %s stream: %w", bc, err)
		}
	}
	ob := outbox.New(d.DB, natsx.NewPublisher(d.JS), outbox.Options{Logger: log})
	st := store.New(d.DB, ob, events.WithCounts(events.Encode))
	a := app.New(st, nil)
	a.SetClaimTTL(d.ClaimTTL)
	a.SetLogger(log.With("component", "outbound"))
	var conns []*grpc.ClientConn
	if d.InventoryAddr != "" {
		conn, err := grpcserver.Dial(d.InventoryAddr, grpcserver.WithServiceToken(d.ServiceToken))
		if err != nil {
			return nil, fmt.Errorf("fulfillment: inventory client: %w", err)
		}
		conns = append(conns, conn)
		inv := inventoryclient.New(inventoryv1.NewInventoryServiceClient(conn))
		a.SetInventory(inv)
		a.SetCountInventory(inv)
	}
	return &Service{db: d.DB, js: d.JS, log: log, outbox: ob, app: a, api: grpcapi.New(a), counts: grpcapi.NewCounts(a), conns: conns,
		wake: make(chan struct{}, 1)}, nil
}

// Register adds the gRPC API to a server.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	// Every fulfillment method checks ownership, so partners (a 3PL running
	// the floor for its own goods) reach them all but carrier master data.
	r.RegisterService(grpcserver.PartnerGuard(&fulfillmentv1.FulfillmentService_ServiceDesc, partnerMethods()...), s.api)
	// Cycle counts book the company's stock: internal callers only.
	r.RegisterService(grpcserver.PartnerGuard(&fulfillmentv1.CountService_ServiceDesc), s.counts)
}

// GRPCServiceName is the fully qualified service name, for health checks.
func (s *Service) GRPCServiceName() string {
	return fulfillmentv1.FulfillmentService_ServiceDesc.ServiceName
}

// Run opens expected receipts from orders' releases and outbound orders from
// their sales orders (with the worker that does what those owe inventory),
// books what cycle counts owe inventory, relays the outbox and
// forgets old request ids and inbox rows until ctx is done; then it drains the
// consumer first (for at most drainTimeout), then the relay (after its final
// drain) and the retention job. If a part stops on its own, Run stops the
// others and returns an error.
func (s *Service) Run(ctx context.Context) error {
	defer func() {
		for _, c := range s.conns {
			_ = c.Close()
		}
	}()
	err := lifecycle.Run(ctx,
		lifecycle.Start("purchase orders consumer", drainTimeout, s.consumePurchaseOrders),
		lifecycle.Start("sales orders consumer", drainTimeout, s.consumeSalesOrders),
		lifecycle.Part{Name: "outbound worker", Run: s.workOutbound},
		lifecycle.Part{Name: "count bookings", Run: s.bookCounts},
		lifecycle.Part{Name: "outbox relay", Run: s.outbox.Run},
		retention.Part(s.db, s.log, time.Hour, retention.Idempotency, retention.Inbox),
	)
	if err != nil {
		return fmt.Errorf("fulfillment: %w", err)
	}
	return nil
}

// consumePurchaseOrders starts the consumer that opens expected receipts from
// orders' PurchaseOrderReleased, in batches.
func (s *Service) consumePurchaseOrders(ctx context.Context) (lifecycle.Worker, error) {
	cons, err := natsx.ConsumeBatch(ctx, s.js, natsx.ConsumerConfig{
		Stream:         protoevent.StreamName(events.OrdersContext),
		Durable:        app.PurchaseOrdersConsumer,
		FilterSubjects: []string{events.PurchaseOrderReleasedSubject},
		Logger:         s.log.With("component", "purchase-orders"),
	}, events.PurchaseOrdersHandler(s.app))
	if err != nil {
		return nil, fmt.Errorf("start purchase orders consumer: %w", err)
	}
	return cons, nil
}

// consumeSalesOrders starts the consumer that opens outbound orders from
// orders' SalesOrderConfirmed and cancels their lines on
// SalesOrderCancelled; each batch then does the inventory work it owes.
func (s *Service) consumeSalesOrders(ctx context.Context) (lifecycle.Worker, error) {
	cons, err := natsx.ConsumeBatch(ctx, s.js, natsx.ConsumerConfig{
		Stream:         protoevent.StreamName(events.OrdersContext),
		Durable:        app.SalesOrdersConsumer,
		FilterSubjects: []string{events.SalesOrderConfirmedSubject, events.SalesOrderCancelledSubject},
		Logger:         s.log.With("component", "sales-orders"),
	}, events.SalesOrdersHandler(s.app, s.poke))
	if err != nil {
		return nil, fmt.Errorf("start sales orders consumer: %w", err)
	}
	return cons, nil
}

// outboundInterval is how often the outbound worker looks for work owed to
// inventory that an event's own attempt could not do (inventory was down,
// the process stopped between the inbox commit and the call).
const outboundInterval = 2 * time.Second

// poke asks the outbound worker to look for work now.
func (s *Service) poke(context.Context) {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// workOutbound reserves, releases and so on what outbound orders owe
// inventory, when poked and every outboundInterval, until ctx is done.
func (s *Service) workOutbound(ctx context.Context) error {
	t := time.NewTicker(outboundInterval)
	defer t.Stop()
	for {
		if _, err := s.app.Work(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("outbound work", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

// countInterval is how often approved count lines that their command could
// not book (inventory was down, the process stopped) are booked again.
const countInterval = 5 * time.Second

// bookCounts books what counts owe inventory every countInterval until ctx
// is done.
func (s *Service) bookCounts(ctx context.Context) error {
	t := time.NewTicker(countInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := s.app.BookCounts(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("count bookings", "error", err)
		}
	}
}

// partnerMethods are the FulfillmentService methods partners may call: all
// but CreateCarrier.
func partnerMethods() []string {
	var out []string
	for _, m := range fulfillmentv1.FulfillmentService_ServiceDesc.Methods {
		if m.MethodName != "CreateCarrier" {
			out = append(out, m.MethodName)
		}
	}
	return out
}
