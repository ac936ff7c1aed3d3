// Package server is the ledger service's composition root: it wires the
// store, the use cases, the gRPC API and the outbox relay from the handles the
// binary gives it. cmd/trueup runs it alone (`trueup serve ledger`) or
// beside the other services (`trueup dev`).
package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"
	// The company time zone resolves without the host's zone database.
	_ "time/tzdata"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/lifecycle"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/retention"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/events"
	"trueup.dev/services/ledger/internal/grpcapi"
	"trueup.dev/services/ledger/internal/inventoryview"
	"trueup.dev/services/ledger/internal/store"
)

// Name is the service's name on the command line and in logs.
const Name = "ledger"

// Deps are the handles the binary opens for the service.
type Deps struct {
	DB *sqldb.DB
	JS jetstream.JetStream
	// Logger may be nil (slog.Default()).
	Logger *slog.Logger
	// InventoryAddr is the inventory service's gRPC target, which
	// reconciliation reads; empty: reconciliation answers Unavailable.
	InventoryAddr string
	// TimeZone is the company's time zone, an IANA name such as
	// "America/New_York", in which fiscal periods are calendar months;
	// empty: UTC. It cannot change once periods are recorded (New refuses).
	TimeZone string
	// ServiceToken is the shared internal credential sent on calls to
	// InventoryAddr (grpcserver.WithServiceToken); empty sends none.
	ServiceToken string
}

// Service is a wired ledger service.
type Service struct {
	// conns are the client connections to other services, closed by Run.
	conns  []*grpc.ClientConn
	db     *sqldb.DB
	js     jetstream.JetStream
	app    *app.Service
	log    *slog.Logger
	outbox *outbox.Outbox
	api    *grpcapi.Server
	recon  *grpcapi.Reconciliation
	export *grpcapi.Export
	period *grpcapi.Periods
}

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
	// Its own stream, and inventory's and orders', which it posts from
	// (declared with the producer's config, so whichever service starts
	// first creates it).
	for _, bc := range []string{events.Context, events.InventoryContext, events.OrdersContext} {
		cfg := natsx.StreamConfig(protoevent.StreamName(bc), protoevent.StreamSubjects(bc))
		if _, err := natsx.EnsureStream(ctx, d.JS, cfg); err != nil {
			return nil, fmt.Errorf("ledger: %s stream: %w", bc, err)
		}
	}
	ob := outbox.New(d.DB, natsx.NewPublisher(d.JS), outbox.Options{Logger: log})
	a := app.New(store.New(d.DB, ob, events.Encode), nil)
	loc, err := time.LoadLocation(d.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("ledger: company time zone %q: %w", d.TimeZone, err)
	}
	a.SetTimeZone(loc)
	var conns []*grpc.ClientConn
	if d.InventoryAddr != "" {
		conn, err := grpcserver.Dial(d.InventoryAddr, grpcserver.WithServiceToken(d.ServiceToken))
		if err != nil {
			return nil, fmt.Errorf("ledger: inventory client: %w", err)
		}
		conns = append(conns, conn)
		a.SetInventory(inventoryview.New(inventoryv1.NewInventoryServiceClient(conn)))
	}
	if err := a.Seed(ctx); err != nil {
		return nil, fmt.Errorf("ledger: seed the default chart and posting rules: %w", err)
	}
	if err := a.StartPeriods(ctx); err != nil {
		return nil, fmt.Errorf("ledger: fiscal periods: %w", err)
	}
	return &Service{db: d.DB, js: d.JS, log: log, outbox: ob, app: a, api: grpcapi.New(a, events.Decode),
		recon: grpcapi.NewReconciliation(a, events.Decode), export: grpcapi.NewExport(a),
		period: grpcapi.NewPeriods(a, events.Decode), conns: conns}, nil
}

// Register adds the gRPC API to a server.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	// The books are the company's: no ledger method is open to partners.
	r.RegisterService(grpcserver.PartnerGuard(&ledgerv1.LedgerService_ServiceDesc), s.api)
	r.RegisterService(grpcserver.PartnerGuard(&ledgerv1.ReconciliationService_ServiceDesc), s.recon)
	r.RegisterService(grpcserver.PartnerGuard(&ledgerv1.ExportService_ServiceDesc), s.export)
	r.RegisterService(grpcserver.PartnerGuard(&ledgerv1.PeriodService_ServiceDesc), s.period)
}

// GRPCServiceName is the fully qualified service name, for health checks.
func (s *Service) GRPCServiceName() string {
	return ledgerv1.LedgerService_ServiceDesc.ServiceName
}

// drainTimeout bounds how long Run waits for posting batches in flight.
const drainTimeout = 10 * time.Second

// Run posts inventory's stock events and orders' documents, relays the
// outbox and forgets old request ids and inbox records until ctx is done;
// then it drains the posting consumers first (batches in flight finish),
// then the relay (after
// its final drain) and the retention job. If a part stops on its own, Run
// stops the others and returns an error.
func (s *Service) Run(ctx context.Context) error {
	defer func() {
		for _, c := range s.conns {
			_ = c.Close()
		}
	}()
	err := lifecycle.Run(ctx,
		lifecycle.Start("posting consumer", drainTimeout, s.consumePostings),
		lifecycle.Start("orders posting consumer", drainTimeout, s.consumeOrderPostings),
		lifecycle.Part{Name: "outbox relay", Run: s.outbox.Run},
		retention.Part(s.db, s.log, time.Hour, retention.Idempotency, retention.Inbox),
	)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// consumePostings starts the consumer that posts inventory's stock events to
// the journal, in batches (one transaction and one aggregated balance write
// per batch).
func (s *Service) consumePostings(ctx context.Context) (lifecycle.Worker, error) {
	cons, err := natsx.ConsumeBatch(ctx, s.js, natsx.ConsumerConfig{
		Stream:         protoevent.StreamName(events.InventoryContext),
		Durable:        app.Consumer,
		FilterSubjects: events.InventorySubjects,
		Logger:         s.log.With("component", "postings"),
	}, events.PostingHandler(s.app))
	if err != nil {
		return nil, fmt.Errorf("start posting consumer: %w", err)
	}
	return cons, nil
}

// OrdersDurable is the durable name of the consumer that posts orders'
// documents. It records what it posted in the same inbox as the inventory
// consumer (app.Consumer): event ids are unique across streams, and an
// event is posted once whichever consumer delivers it.
const OrdersDurable = "ledger-orders-postings"

// consumeOrderPostings starts the consumer that posts orders' documents
// (supplier bills, invoices, payments) to the journal, in batches, like
// consumePostings.
func (s *Service) consumeOrderPostings(ctx context.Context) (lifecycle.Worker, error) {
	cons, err := natsx.ConsumeBatch(ctx, s.js, natsx.ConsumerConfig{
		Stream:         protoevent.StreamName(events.OrdersContext),
		Durable:        OrdersDurable,
		FilterSubjects: events.OrdersSubjects,
		Logger:         s.log.With("component", "orders-postings"),
	}, events.PostingHandler(s.app))
	if err != nil {
		return nil, fmt.Errorf("start orders posting consumer: %w", err)
	}
	return cons, nil
}
