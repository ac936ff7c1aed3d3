// Package server is the inventory service's composition root: it wires the store,
// the use cases, the gRPC API and the outbox relay from the handles the binary
// gives it. cmd/trueup runs it alone (`trueup serve inventory`) or beside the
// other services (`trueup dev`).
package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/lifecycle"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/retention"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/events"
	"trueup.dev/services/inventory/internal/grpcapi"
	"trueup.dev/services/inventory/internal/store"
)

// Name is the service's name on the command line and in logs.
const Name = "inventory"

// Deps are the handles the binary opens for the service.
type Deps struct {
	DB     *sqldb.DB
	JS     jetstream.JetStream
	Logger *slog.Logger
}

// Service is a wired inventory service.
type Service struct {
	db     *sqldb.DB
	log    *slog.Logger
	outbox *outbox.Outbox
	api    *grpcapi.Server
}

// Migrate brings the service's database schema up to date.
func Migrate(ctx context.Context, db *sqldb.DB) error { return store.Migrate(ctx, db) }

// New wires the service and makes sure its event stream exists. The schema must
// be migrated already (see Migrate).
func New(ctx context.Context, d Deps) (*Service, error) {
	cfg := natsx.StreamConfig(protoevent.StreamName(events.Context), protoevent.StreamSubjects(events.Context))
	if _, err := natsx.EnsureStream(ctx, d.JS, cfg); err != nil {
		return nil, fmt.Errorf("inventory stream: %w", err)
	}
	ob := outbox.New(d.DB, natsx.NewPublisher(d.JS), outbox.Options{Logger: d.Logger})
	st := store.New(d.DB, ob, events.Encode)
	return &Service{db: d.DB, log: d.Logger, outbox: ob, api: grpcapi.New(app.New(st, nil))}, nil
}

// Register adds the gRPC API to a server.
func (s *Service) Register(r grpc.ServiceRegistrar) {
	r.RegisterService(grpcserver.PartnerGuard(&inventoryv1.InventoryService_ServiceDesc, PartnerMethods...), s.api)
}

// PartnerMethods are the inventory methods a partner may call: the catalog,
// the warehouses and their locations, and availability. Everything else is
// the company's stock journal (receipts, moves, issues, counts, allocations,
// valuation), which partners change through orders and fulfillment, where
// ownership is checked, and never read whole.
var PartnerMethods = []string{"GetItem", "ListItems", "LookupItem", "GetWarehouse", "ListWarehouses",
	"GetLocation", "ListLocations", "ListStock", "GetReasonCode", "ListReasonCodes"}

// GRPCServiceName is the fully qualified service name, for health checks.
func (s *Service) GRPCServiceName() string {
	return inventoryv1.InventoryService_ServiceDesc.ServiceName
}

// Run relays the outbox and forgets old request ids until ctx is done, then
// stops the relay (after its final drain) and the retention job, in that order.
// If either stops on its own, Run stops the other and returns an error.
func (s *Service) Run(ctx context.Context) error {
	err := lifecycle.Run(ctx,
		lifecycle.Part{Name: "outbox relay", Run: s.outbox.Run},
		retention.Part(s.db, s.log, time.Hour, retention.Idempotency),
	)
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	return nil
}
