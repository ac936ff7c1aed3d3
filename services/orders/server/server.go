// Package server is the orders service's composition root: it wires the store,
// the use cases, the gRPC API, the outbox relay and the consumers of inventory
// and fulfillment events (the catalog, purchase order receipts, shipments)
// from the handles the binary gives it. cmd/trueup runs it alone (`trueup
// serve orders`) or beside the other services (`trueup dev`).
package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/lifecycle"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/retention"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/events"
	"trueup.dev/services/orders/internal/grpcapi"
	"trueup.dev/services/orders/internal/inventoryclient"
	"trueup.dev/services/orders/internal/store"
)

// Name is the service's name on the command line and in logs.
const Name = "orders"

// drainTimeout bounds how long Run, once told to stop, waits for catalog updates
// in flight to commit. Past it they are abandoned (rolled back) and their events
// redelivered later, which the inbox makes harmless.
const drainTimeout = 10 * time.Second

// Deps are the handles the binary opens for the service.
type Deps struct {
	DB *sqldb.DB
	JS jetstream.JetStream
	// Logger may be nil (slog.Default()).
	Logger *slog.Logger
	// InventoryAddr is the inventory service's gRPC target, which a RETURN
	// of an over-receipt calls to issue the excess; empty: RETURN answers
	// Unavailable.
	InventoryAddr string
	// ServiceToken is the shared internal credential sent on calls to
	// InventoryAddr (grpcserver.WithServiceToken); empty sends none.
	ServiceToken string
}

// Service is a wired orders service.
type Service struct {
	// conns are the client connections to other services, closed by Run.
	conns  []*grpc.ClientConn
	db     *sqldb.DB
	js     jetstream.JetStream
	log    *slog.Logger
	outbox *outbox.Outbox
	app    *app.Service
	api    *grpcapi.Server
}

// Migrate brings the service's database schema up to date, including the
// platform's outbox, idempotency and inbox tables.
func Migrate(ctx context.Context, db *sqldb.DB) error { return store.Migrate(ctx, db) }

// New wires the service and makes sure the streams it uses exist: its own,
// inventory's (the catalog and receipts consumers read it) and fulfillment's
// (the shipments consumer reads it), each declared with the producer's
// config, so whichever service starts first creates it and neither undoes
// the other. The schema must be migrated already (see
// Migrate). Nothing runs until Run.
func New(ctx context.Context, d Deps) (*Service, error) {
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	for _, bc := range []string{events.Context, events.InventoryContext, events.FulfillmentContext} {
		cfg := natsx.StreamConfig(protoevent.StreamName(bc), protoevent.StreamSubjects(bc))
		if _, err := natsx.EnsureStream(ctx, d.JS, cfg); err != nil {
			return nil, fmt.Errorf("orders: %s stream: %w", bc, err)
		}
	}
	ob := outbox.New(d.DB, natsx.NewPublisher(d.JS), outbox.Options{Logger: log})
	a := app.New(store.New(d.DB, ob, events.Encode), nil)
	var conns []*grpc.ClientConn
	if d.InventoryAddr != "" {
		conn, err := grpcserver.Dial(d.InventoryAddr, grpcserver.WithServiceToken(d.ServiceToken))
		if err != nil {
			return nil, fmt.Errorf("orders: inventory client: %w", err)
		}
		conns = append(conns, conn)
		a.SetInventory(inventoryclient.New(inventoryv1.NewInventoryServiceClient(conn)))
	}
	return &Service{db: d.DB, js: d.JS, log: log, outbox: ob, app: a, api: grpcapi.New(a), conns: conns}, nil
}

// Register adds the gRPC API to a server.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	ordersv1.RegisterOrdersServiceServer(r, s.api)
}

// GRPCServiceName is the fully qualified service name, for health checks.
func (s *Service) GRPCServiceName() string { return ordersv1.OrdersService_ServiceDesc.ServiceName }

// Run relays the outbox, feeds the catalog from inventory's item events and
// purchase orders from its receipts and returns until ctx is done. Then it drains the
// consumers first (handlers in flight finish, for at most drainTimeout), so
// the relay, stopped next, publishes what they emitted in its final drain. If a part stops on its own, Run stops the others and returns
// an error, so the process does not go on half alive.
func (s *Service) Run(ctx context.Context) error {
	defer func() {
		for _, c := range s.conns {
			_ = c.Close()
		}
	}()
	err := lifecycle.Run(ctx,
		lifecycle.Start("catalog consumer", drainTimeout, s.consumeCatalog),
		lifecycle.Start("receipts consumer", drainTimeout, s.consumeReceipts),
		lifecycle.Start("shipments consumer", drainTimeout, s.consumeShipments),
		lifecycle.Start("stages consumer", drainTimeout, s.consumeStages),
		lifecycle.Part{Name: "outbox relay", Run: s.outbox.Run},
		retention.Part(s.db, s.log, time.Hour, retention.Idempotency, retention.Inbox),
	)
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	return nil
}

// consumeCatalog starts the consumer that copies inventory's items into the catalog.
func (s *Service) consumeCatalog(ctx context.Context) (lifecycle.Worker, error) {
	cons, err := natsx.Consume(ctx, s.js, natsx.ConsumerConfig{
		Stream:         protoevent.StreamName(events.InventoryContext),
		Durable:        app.CatalogConsumer,
		FilterSubjects: events.CatalogSubjects,
		Logger:         s.log.With("component", "catalog"),
	}, events.CatalogHandler(s.app))
	if err != nil {
		return nil, fmt.Errorf("start catalog consumer: %w", err)
	}
	return cons, nil
}

// consumeReceipts starts the consumer that adds inventory's receipts (less
// their reversals and the issues that return goods to the supplier) to
// purchase order lines, in batches.
func (s *Service) consumeReceipts(ctx context.Context) (lifecycle.Worker, error) {
	cons, err := natsx.ConsumeBatch(ctx, s.js, natsx.ConsumerConfig{
		Stream:         protoevent.StreamName(events.InventoryContext),
		Durable:        app.ReceiptsConsumer,
		FilterSubjects: events.ReceiptSubjects,
		Logger:         s.log.With("component", "receipts"),
	}, events.ReceiptsHandler(s.app))
	if err != nil {
		return nil, fmt.Errorf("start receipts consumer: %w", err)
	}
	return cons, nil
}

// consumeShipments starts the consumer that records fulfillment's shipments
// on sales orders and invoices each one, in batches.
func (s *Service) consumeShipments(ctx context.Context) (lifecycle.Worker, error) {
	cons, err := natsx.ConsumeBatch(ctx, s.js, natsx.ConsumerConfig{
		Stream:         protoevent.StreamName(events.FulfillmentContext),
		Durable:        app.ShipmentsConsumer,
		FilterSubjects: []string{events.ShipmentConfirmedSubject},
		Logger:         s.log.With("component", "shipments"),
	}, events.ShipmentsHandler(s.app))
	if err != nil {
		return nil, fmt.Errorf("start shipments consumer: %w", err)
	}
	return cons, nil
}

// consumeStages starts the consumer that records when sales orders were
// first allocated and picked, from inventory's events.
func (s *Service) consumeStages(ctx context.Context) (lifecycle.Worker, error) {
	cons, err := natsx.ConsumeBatch(ctx, s.js, natsx.ConsumerConfig{
		Stream:         protoevent.StreamName(events.InventoryContext),
		Durable:        app.StagesConsumer,
		FilterSubjects: events.StageSubjects,
		Logger:         s.log.With("component", "stages"),
	}, events.StagesHandler(s.app))
	if err != nil {
		return nil, fmt.Errorf("start stages consumer: %w", err)
	}
	return cons, nil
}
