package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"trueup.dev/gateway"
	"trueup.dev/platform/config"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/sqldb"
)

// parseWithService accepts the service name before or after the flags.
func parseWithService(fs *flag.FlagSet, args []string) (serviceDef, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := config.Parse(fs, args); err != nil {
		return serviceDef{}, err
	}
	if name == "" {
		return oneService(fs)
	}
	if fs.NArg() != 0 {
		return serviceDef{}, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	return lookupService(name)
}

func runServe(ctx context.Context, args []string) error {
	fs := newFlagSet("serve")
	var (
		c                 common
		dbURL             config.Redacted
		natsURL, grpcAddr string
		migrate           bool
		maxConns          int
	)
	c.bind(fs)
	config.Secret(fs, &dbURL, "database-url", "TRUEUP_DATABASE_URL", "database DSN: postgres://… (production) or sqlite://path")
	config.String(fs, &natsURL, "nats-url", "TRUEUP_NATS_URL", defaultNATSURL, "NATS JetStream URL")
	config.String(fs, &grpcAddr, "grpc-addr", "TRUEUP_GRPC_ADDR", ":9090", "gRPC listen address")
	config.Bool(fs, &migrate, "migrate", "TRUEUP_MIGRATE", true, "run database migrations at start-up")
	config.Int(fs, &maxConns, "db-max-conns", "TRUEUP_DB_MAX_CONNS", 10, "most open database connections of this process (PostgreSQL: keep replicas x this under max_connections)")
	def, err := parseWithService(fs, args)
	if err != nil {
		return err
	}
	if dbURL.Reveal() == "" {
		return errors.New("--database-url (TRUEUP_DATABASE_URL) is required")
	}
	log, shutdownTelemetry, err := c.setup(ctx, def.name, os.Stderr)
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTelemetry(context.Background()) }()

	db, err := sqldb.Open(ctx, dbURL.Reveal())
	if err != nil {
		return err
	}
	defer db.Close()
	if maxConns > 0 {
		db.SetMaxOpenConns(maxConns)
		db.SetMaxIdleConns(maxConns)
	}
	if migrate {
		if err := def.migrate(ctx, db); err != nil {
			return err
		}
	}
	nc, err := natsx.Connect(ctx, natsURL, "trueup-"+def.name)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	svc, err := def.build(ctx, deps{db: db, js: js, log: log})
	if err != nil {
		return err
	}
	gs := grpcserver.New(grpcserver.Options{Logger: log, Reflection: true, MaxRecvMsgSize: maxMessageSize})
	svc.Register(gs.GRPC())
	gs.Health().SetServingStatus(svc.GRPCServiceName(), healthpb.HealthCheckResponse_SERVING)
	lis, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		return fmt.Errorf("grpc listen: %w", err)
	}
	log.Info("serving", "service", def.name, "grpc", lis.Addr().String())
	return runInOrder(ctx,
		[]func(context.Context) error{func(ctx context.Context) error { return gs.Serve(ctx, lis) }},
		[]func(context.Context) error{svc.Run})
}

func runMigrate(ctx context.Context, args []string) error {
	fs := newFlagSet("migrate")
	var dbURL config.Redacted
	config.Secret(fs, &dbURL, "database-url", "TRUEUP_DATABASE_URL", "database DSN: postgres://… or sqlite://path")
	def, err := parseWithService(fs, args)
	if err != nil {
		return err
	}
	if dbURL.Reveal() == "" {
		return errors.New("--database-url (TRUEUP_DATABASE_URL) is required")
	}
	db, err := sqldb.Open(ctx, dbURL.Reveal())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := def.migrate(ctx, db); err != nil {
		return err
	}
	fmt.Printf("%s: migrations applied\n", def.name)
	return nil
}

func runGateway(ctx context.Context, args []string) error {
	fs := newFlagSet("gateway")
	var (
		c                  common
		httpAddr, keysFile string
		t                  gateway.Targets
	)
	c.bind(fs)
	config.String(fs, &httpAddr, "http-addr", "TRUEUP_HTTP_ADDR", ":8080", "HTTP listen address")
	config.String(fs, &keysFile, "api-keys-file", "TRUEUP_API_KEYS_FILE", "", "file of partner API keys, one \"<partner-id> <key>\" per line (required)")
	config.String(fs, &t.Inventory, "inventory-addr", "TRUEUP_INVENTORY_ADDR", "localhost:9090", "inventory gRPC target")
	config.String(fs, &t.Orders, "orders-addr", "TRUEUP_ORDERS_ADDR", "localhost:9090", "orders gRPC target")
	config.String(fs, &t.Fulfillment, "fulfillment-addr", "TRUEUP_FULFILLMENT_ADDR", "localhost:9090", "fulfillment gRPC target")
	config.String(fs, &t.Ledger, "ledger-addr", "TRUEUP_LEDGER_ADDR", "localhost:9090", "ledger gRPC target")
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if keysFile == "" {
		return errors.New("--api-keys-file (TRUEUP_API_KEYS_FILE) is required: the gateway admits no anonymous partner")
	}
	log, shutdownTelemetry, err := c.setup(ctx, "gateway", os.Stderr)
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTelemetry(context.Background()) }()
	keys, err := gateway.LoadKeysFile(keysFile)
	if err != nil {
		return err
	}
	gw, err := gateway.New(ctx, gateway.Config{Targets: t, Keys: keys, Logger: log})
	if err != nil {
		return err
	}
	defer gw.Close()
	srv := &http.Server{Addr: httpAddr, Handler: gw.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	lis, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	log.Info("serving", "http", lis.Addr().String(), "partners", keys.Len())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}
