package suite

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"

	fulfillment "trueup.dev/services/fulfillment/server"
	inventory "trueup.dev/services/inventory/server"
	ledger "trueup.dev/services/ledger/server"
	orders "trueup.dev/services/orders/server"

	"trueup.dev/platform/sqldb"
)

// Service is what every bounded context's server package gives the binary.
type Service interface {
	Register(grpc.ServiceRegistrar)
	GRPCServiceName() string
	Run(ctx context.Context) error
}

// Deps is what the binary gives a service to build it.
type Deps struct {
	DB  *sqldb.DB
	JS  jetstream.JetStream
	Log *slog.Logger
	// InventoryAddr is the inventory service's gRPC target, for the
	// services that call it ("" if none is known).
	InventoryAddr string
	// TimeZone is the company's time zone (IANA name; "" is UTC), in which
	// the ledger's fiscal periods run.
	TimeZone string
	// ClaimTTL is how long a fulfillment task claim holds (0: the default).
	ClaimTTL time.Duration
	// ServiceToken is the internal credential the services send to
	// InventoryAddr ("" sends none).
	ServiceToken string
}

// ServiceDef is how the binary migrates and builds one service.
type ServiceDef struct {
	Name    string
	Migrate func(context.Context, *sqldb.DB) error
	Build   func(context.Context, Deps) (Service, error)
}

// Services lists the bounded contexts in start order: producers before the
// consumers of their events (each consumer also ensures the streams it reads).
var Services = []ServiceDef{
	{inventory.Name, inventory.Migrate, func(ctx context.Context, d Deps) (Service, error) {
		return inventory.New(ctx, inventory.Deps{DB: d.DB, JS: d.JS, Logger: d.Log})
	}},
	{orders.Name, orders.Migrate, func(ctx context.Context, d Deps) (Service, error) {
		return orders.New(ctx, orders.Deps{DB: d.DB, JS: d.JS, Logger: d.Log, InventoryAddr: d.InventoryAddr, ServiceToken: d.ServiceToken})
	}},
	{fulfillment.Name, fulfillment.Migrate, func(ctx context.Context, d Deps) (Service, error) {
		return fulfillment.New(ctx, fulfillment.Deps{DB: d.DB, JS: d.JS, Logger: d.Log, InventoryAddr: d.InventoryAddr, ClaimTTL: d.ClaimTTL, ServiceToken: d.ServiceToken})
	}},
	{ledger.Name, ledger.Migrate, func(ctx context.Context, d Deps) (Service, error) {
		return ledger.New(ctx, ledger.Deps{DB: d.DB, JS: d.JS, Logger: d.Log, InventoryAddr: d.InventoryAddr, TimeZone: d.TimeZone, ServiceToken: d.ServiceToken})
	}},
}

// Names lists the services by name, sorted.
func Names() []string {
	var names []string
	for _, s := range Services {
		names = append(names, s.Name)
	}
	sort.Strings(names)
	return names
}

// Lookup finds a service by name.
func Lookup(name string) (ServiceDef, error) {
	for _, s := range Services {
		if s.Name == name {
			return s, nil
		}
	}
	return ServiceDef{}, fmt.Errorf("unknown service %q (one of %v)", name, Names())
}

// MaxMessageSize admits an item import of up to 10 MiB in one call.
const MaxMessageSize = 11 << 20
