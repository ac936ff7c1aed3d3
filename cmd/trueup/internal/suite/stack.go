// Package suite composes the whole Trueup suite in one process (the dev stack)
// and describes each bounded context the binary can serve on its own.
package suite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"trueup.dev/gateway"
	"trueup.dev/platform/config"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/sqldb"
)

// Config configures the all-in-one development stack.
type Config struct {
	DataDir  string
	GRPCAddr string
	HTTPAddr string
	NATSPort int
	Keys     *gateway.Keys
	// TimeZone is the company's time zone ("" is UTC).
	TimeZone string
	// TaskClaimTTL is how long a fulfillment task claim holds (0: default).
	TaskClaimTTL time.Duration
	// ServiceToken is the internal credential the gRPC server requires
	// (health excepted) and the gateway and services send; required.
	ServiceToken config.Redacted
	// GatewayLimits bound partners' requests (zero fields: the defaults).
	GatewayLimits gateway.Limits
	// DatabaseURLs, by service name, puts a service on another database
	// (e.g. PostgreSQL) instead of its SQLite file in DataDir.
	DatabaseURLs map[string]string
}

// Stack is the whole suite in one process: an embedded NATS server, one SQLite
// database per service, one gRPC server carrying every service's API, and the
// REST gateway in front of it.
type Stack struct {
	GRPCAddr string
	HTTPAddr string
	NATSURL  string
	// ServiceToken is what a gRPC client of the stack must send.
	ServiceToken config.Redacted

	log      *slog.Logger
	ns       *server.Server
	nc       *nats.Conn
	dbs      []*sqldb.DB
	grpc     *grpcserver.Server
	grpcLis  net.Listener
	httpLis  net.Listener
	http     *http.Server
	gw       *gateway.Gateway
	services []Service
}

// Start opens everything and starts listening; Run serves until ctx ends.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (st *Stack, err error) {
	if cfg.ServiceToken.Reveal() == "" {
		return nil, errors.New("dev stack: no service token")
	}
	st = &Stack{log: log, ServiceToken: cfg.ServiceToken}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	st.ns, err = natsx.StartEmbedded(natsx.EmbeddedOptions{
		StoreDir: filepath.Join(cfg.DataDir, "nats"), Host: "127.0.0.1", Port: cfg.NATSPort, ServerName: "trueup-dev",
	})
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	st.NATSURL = st.ns.ClientURL()
	st.nc, err = natsx.ConnectEmbedded(st.ns, "trueup-dev")
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(st.nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	st.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return nil, fmt.Errorf("grpc listen: %w", err)
	}
	st.GRPCAddr = st.grpcLis.Addr().String()
	// Reflection on, unlike `trueup serve`: grpcurl on a laptop is the point.
	// It needs the service token like every other non-health RPC.
	st.grpc = grpcserver.New(grpcserver.Options{Logger: log, Reflection: true, ServiceToken: cfg.ServiceToken.Reveal(), MaxRecvMsgSize: MaxMessageSize})
	for _, def := range Services {
		url := cfg.DatabaseURLs[def.Name]
		if url == "" {
			url = "sqlite://" + filepath.Join(cfg.DataDir, def.Name+".db")
		}
		db, err := sqldb.Open(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("%s database: %w", def.Name, err)
		}
		st.dbs = append(st.dbs, db)
		if err := def.Migrate(ctx, db); err != nil {
			return nil, fmt.Errorf("%s migrations: %w", def.Name, err)
		}
		svc, err := def.Build(ctx, Deps{DB: db, JS: js, Log: log.With("service", def.Name), InventoryAddr: st.GRPCAddr, TimeZone: cfg.TimeZone, ClaimTTL: cfg.TaskClaimTTL, ServiceToken: cfg.ServiceToken.Reveal()})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", def.Name, err)
		}
		svc.Register(st.grpc.GRPC())
		st.grpc.Health().SetServingStatus(svc.GRPCServiceName(), healthpb.HealthCheckResponse_SERVING)
		st.services = append(st.services, svc)
	}
	st.httpLis, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("http listen: %w", err)
	}
	st.HTTPAddr = st.httpLis.Addr().String()
	t := st.GRPCAddr
	st.gw, err = gateway.New(ctx, gateway.Config{
		Targets:      gateway.Targets{Inventory: t, Orders: t, Fulfillment: t, Ledger: t},
		Keys:         cfg.Keys,
		Logger:       log.With("component", "gateway"),
		ServiceToken: cfg.ServiceToken.Reveal(),
		Limits:       cfg.GatewayLimits,
	})
	if err != nil {
		return nil, err
	}
	st.http = &http.Server{Handler: st.gw.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	return st, nil
}

// Run serves until ctx is done, then shuts down in order: stop taking HTTP and
// gRPC calls and drain those in flight, stop event handlers and the outbox relays
// (each finishes what it holds), then close NATS and the databases.
func (st *Stack) Run(ctx context.Context) error {
	defer st.close()
	front := []func(context.Context) error{
		func(ctx context.Context) error { return st.grpc.Serve(ctx, st.grpcLis) },
		func(ctx context.Context) error {
			errc := make(chan error, 1)
			go func() { errc <- st.http.Serve(st.httpLis) }()
			select {
			case err := <-errc:
				return fmt.Errorf("http: %w", err)
			case <-ctx.Done():
			}
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := st.http.Shutdown(shutdownCtx)
			if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
				err = errors.Join(err, serr)
			}
			return err
		},
	}
	var back []func(context.Context) error
	for _, svc := range st.services {
		back = append(back, svc.Run)
	}
	return RunInOrder(ctx, front, back)
}

func (st *Stack) close() {
	for _, l := range []net.Listener{st.grpcLis, st.httpLis} {
		if l != nil {
			_ = l.Close() // closed already when served
		}
	}
	if st.gw != nil {
		st.gw.Close()
	}
	if st.nc != nil {
		st.nc.Close()
	}
	if st.ns != nil {
		natsx.Shutdown(st.ns)
	}
	for _, db := range st.dbs {
		_ = db.Close()
	}
}

// WriteStats sums the services' databases' durable commits and the
// transactions (WithTx calls) they carried since they opened
// (sqldb.DB.WriteGroups): SQLite commits several writers' transactions at
// once. Zeros for a service on PostgreSQL, which does not count them.
func (st *Stack) WriteStats() (commits, transactions int64) {
	for _, db := range st.dbs {
		g, m := db.WriteGroups()
		commits += g
		transactions += m
	}
	return commits, transactions
}
