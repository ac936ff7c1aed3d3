package main

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

// service is what every bounded context's server package gives the binary.
type service interface {
	Register(grpc.ServiceRegistrar)
	GRPCServiceName() string
	Run(ctx context.Context) error
}

type deps struct {
	db  *sqldb.DB
	js  jetstream.JetStream
	log *slog.Logger
	// inventoryAddr is the inventory service's gRPC target, for the
	// services that call it ("" if none is known).
	inventoryAddr string
	// timeZone is the company's time zone (IANA name; "" is UTC), in which
	// the ledger's fiscal periods run.
	timeZone string
	// claimTTL is how long a fulfillment task claim holds (0: the default).
	claimTTL time.Duration
	// serviceToken is the internal credential the services send to
	// inventoryAddr ("" sends none).
	serviceToken string
}

// serviceDef is how the binary migrates and builds one service.
type serviceDef struct {
	name    string
	migrate func(context.Context, *sqldb.DB) error
	build   func(context.Context, deps) (service, error)
}

// services lists the bounded contexts in start order: producers before the
// consumers of their events (each consumer also ensures the streams it reads).
var services = []serviceDef{
	{inventory.Name, inventory.Migrate, func(ctx context.Context, d deps) (service, error) {
		return inventory.New(ctx, inventory.Deps{DB: d.db, JS: d.js, Logger: d.log})
	}},
	{orders.Name, orders.Migrate, func(ctx context.Context, d deps) (service, error) {
		return orders.New(ctx, orders.Deps{DB: d.db, JS: d.js, Logger: d.log, InventoryAddr: d.inventoryAddr, ServiceToken: d.serviceToken})
	}},
	{fulfillment.Name, fulfillment.Migrate, func(ctx context.Context, d deps) (service, error) {
		return fulfillment.New(ctx, fulfillment.Deps{DB: d.db, JS: d.js, Logger: d.log, InventoryAddr: d.inventoryAddr, ClaimTTL: d.claimTTL, ServiceToken: d.serviceToken})
	}},
	{ledger.Name, ledger.Migrate, func(ctx context.Context, d deps) (service, error) {
		return ledger.New(ctx, ledger.Deps{DB: d.db, JS: d.js, Logger: d.log, InventoryAddr: d.inventoryAddr, TimeZone: d.timeZone, ServiceToken: d.serviceToken})
	}},
}

func serviceNames() []string {
	var names []string
	for _, s := range services {
		names = append(names, s.name)
	}
	sort.Strings(names)
	return names
}

func lookupService(name string) (serviceDef, error) {
	for _, s := range services {
		if s.name == name {
			return s, nil
		}
	}
	return serviceDef{}, fmt.Errorf("unknown service %q (one of %v)", name, serviceNames())
}

// maxMessageSize admits an item import of up to 10 MiB in one call.
const maxMessageSize = 11 << 20
