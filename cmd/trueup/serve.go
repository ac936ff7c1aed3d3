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

	"trueup.dev/cmd/trueup/internal/suite"
	"trueup.dev/gateway"
	"trueup.dev/platform/config"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/sqldb"
)

// parseWithService accepts the service name before or after the flags.
func parseWithService(fs *flag.FlagSet, args []string) (suite.ServiceDef, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := config.Parse(fs, args); err != nil {
		return suite.ServiceDef{}, err
	}
	if name == "" {
		return oneService(fs)
	}
	if fs.NArg() != 0 {
		return suite.ServiceDef{}, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	return suite.Lookup(name)
}

func runServe(ctx context.Context, args []string) error {
	fs := newFlagSet("serve")
	var (
		c                 common
		dbURL             config.Redacted
		natsURL, grpcAddr string
		inventoryAddr     string
		timeZone          string
		claimTTL          time.Duration
		migrate           bool
		maxConns          int
		replicas          int
		singleNode        bool
		serviceToken      config.Redacted
		insecureInternal  bool
		reflection        bool
	)
	c.bind(fs)
	config.Secret(fs, &dbURL, "database-url", "TRUEUP_DATABASE_URL", "database DSN: postgres://… (production) or sqlite://path")
	bindServiceToken(fs, &serviceToken, "the internal credential every caller of the gRPC port must send (health excepted), and that this service sends to inventory; at least 32 characters")
	config.Bool(fs, &insecureInternal, "insecure-internal", "TRUEUP_INSECURE_INTERNAL", false, "run without --service-token: anyone who reaches the gRPC port can call it as any partner")
	config.Bool(fs, &reflection, "reflection", "TRUEUP_REFLECTION", false, "serve gRPC reflection (for grpcurl; it needs the service token too)")
	config.String(fs, &natsURL, "nats-url", "TRUEUP_NATS_URL", defaultNATSURL, "NATS JetStream URL")
	config.String(fs, &grpcAddr, "grpc-addr", "TRUEUP_GRPC_ADDR", ":9090", "gRPC listen address")
	config.String(fs, &inventoryAddr, "inventory-addr", "TRUEUP_INVENTORY_ADDR", "", "inventory gRPC target, for the services that call it (the ledger's reconciliation, orders' supplier returns, fulfillment's receiving); empty: none")
	config.String(fs, &timeZone, "time-zone", "TRUEUP_TIME_ZONE", "UTC", "the company's time zone (IANA name), in which the ledger's fiscal periods run; fixed once periods exist")
	config.Duration(fs, &claimTTL, "task-claim-ttl", "TRUEUP_TASK_CLAIM_TTL", 15*time.Minute, "how long a worker's claim on a fulfillment task holds before it goes back to the queue")
	config.Bool(fs, &migrate, "migrate", "TRUEUP_MIGRATE", true, "run database migrations at start-up")
	config.Int(fs, &maxConns, "db-max-conns", "TRUEUP_DB_MAX_CONNS", 10, "most open database connections of this process (PostgreSQL: keep replicas x this under max_connections)")
	config.Int(fs, &replicas, "stream-replicas", "TRUEUP_STREAM_REPLICAS", minProductionReplicas, "replicas of the service's JetStream stream and of the dead-letter stream (3 or more on a cluster)")
	config.Bool(fs, &singleNode, "single-node", "TRUEUP_SINGLE_NODE", false, "accept fewer than 3 stream replicas: a one-server NATS install that a disk loss can empty")
	def, err := parseWithService(fs, args)
	if err != nil {
		return err
	}
	if dbURL.Reveal() == "" {
		return errors.New("--database-url (TRUEUP_DATABASE_URL) is required")
	}
	if err := checkDurability(dbURL.Reveal(), replicas, singleNode); err != nil {
		return err
	}
	if err := checkServiceToken(serviceToken, insecureInternal); err != nil {
		return err
	}
	log, shutdownTelemetry, err := c.setup(ctx, def.Name, os.Stderr)
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTelemetry(context.Background()) }()
	if serviceToken.Reveal() == "" {
		log.Warn("INSECURE INTERNAL gRPC: no service token; anyone who reaches the gRPC port can call it and claim any partner", "grpc", grpcAddr)
	}

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
		if err := def.Migrate(ctx, db); err != nil {
			return err
		}
	}
	nc, err := natsx.Connect(ctx, natsURL, "trueup-"+def.Name)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if replicas < minProductionReplicas {
		log.Warn("SINGLE-NODE INSTALL: streams have fewer than 3 replicas; events acknowledged to this NATS server are lost if its disk is",
			"replicas", replicas)
	}
	if err := ensureReplicatedStreams(ctx, js, def.Name, replicas); err != nil {
		return err
	}
	svc, err := def.Build(ctx, suite.Deps{DB: db, JS: js, Log: log, InventoryAddr: inventoryAddr, TimeZone: timeZone, ClaimTTL: claimTTL, ServiceToken: serviceToken.Reveal()})
	if err != nil {
		return err
	}
	gs := grpcserver.New(grpcserver.Options{Logger: log, Reflection: reflection, ServiceToken: serviceToken.Reveal(), MaxRecvMsgSize: suite.MaxMessageSize})
	svc.Register(gs.GRPC())
	gs.Health().SetServingStatus(svc.GRPCServiceName(), healthpb.HealthCheckResponse_SERVING)
	lis, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		return fmt.Errorf("grpc listen: %w", err)
	}
	log.Info("serving", "service", def.Name, "grpc", lis.Addr().String())
	return suite.RunInOrder(ctx,
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
	if err := def.Migrate(ctx, db); err != nil {
		return err
	}
	fmt.Printf("%s: migrations applied\n", def.Name)
	return nil
}

func runGateway(ctx context.Context, args []string) error {
	fs := newFlagSet("gateway")
	var (
		c                  common
		httpAddr, keysFile string
		t                  gateway.Targets
		serviceToken       config.Redacted
		limits             gateway.Limits
		internalToken      config.Redacted
	)
	c.bind(fs)
	bindGatewayLimits(fs, &limits)
	config.Secret(fs, &internalToken, "internal-token", "TRUEUP_GATEWAY_INTERNAL_TOKEN", "token an operator's probe sends in X-Trueup-Internal-Token to see backend addresses and health on /readyz (empty: nobody sees them)")
	config.String(fs, &httpAddr, "http-addr", "TRUEUP_HTTP_ADDR", ":8080", "HTTP listen address")
	config.String(fs, &keysFile, "api-keys-file", "TRUEUP_API_KEYS_FILE", "", "file of partner API keys, hashed records managed with \"trueup partners\" and re-read when it changes (required)")
	config.String(fs, &t.Inventory, "inventory-addr", "TRUEUP_INVENTORY_ADDR", "localhost:9090", "inventory gRPC target")
	config.String(fs, &t.Orders, "orders-addr", "TRUEUP_ORDERS_ADDR", "localhost:9090", "orders gRPC target")
	config.String(fs, &t.Fulfillment, "fulfillment-addr", "TRUEUP_FULFILLMENT_ADDR", "localhost:9090", "fulfillment gRPC target")
	config.String(fs, &t.Ledger, "ledger-addr", "TRUEUP_LEDGER_ADDR", "localhost:9090", "ledger gRPC target")
	bindServiceToken(fs, &serviceToken, "the services' internal credential, sent on every upstream call")
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
	gateway.SetGRPCLogger(log)
	keys, err := gateway.LoadKeysFile(keysFile)
	if err != nil {
		return err
	}
	if serviceToken.Reveal() == "" {
		log.Warn("no --service-token: services that require one refuse every call from this gateway")
	}
	gw, err := gateway.New(ctx, gateway.Config{Targets: t, Keys: keys, Logger: log, ServiceToken: serviceToken.Reveal(), Limits: limits, InternalToken: internalToken.Reveal()})
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

// bindGatewayLimits declares the gateway's per-request and per-partner limits
// (see gateway.Limits) for `trueup gateway` and `trueup dev`.
func bindGatewayLimits(fs *flag.FlagSet, l *gateway.Limits) {
	config.Duration(fs, &l.UpstreamTimeout, "upstream-timeout", "TRUEUP_UPSTREAM_TIMEOUT", gateway.DefaultUpstreamTimeout, "deadline of every call the gateway makes to a service; a partner's Grpc-Timeout header is ignored")
	config.Int(fs, &l.RequestsPerSecond, "rate-limit", "TRUEUP_RATE_LIMIT", gateway.DefaultRequestsPerSecond, "requests per second each partner may sustain, else 429 with Retry-After (negative: no limit)")
	config.Int(fs, &l.Burst, "rate-burst", "TRUEUP_RATE_BURST", gateway.DefaultBurst, "requests a partner may send at once above its rate")
	config.Int(fs, &l.AuthFailures, "auth-failures", "TRUEUP_AUTH_FAILURES", gateway.DefaultAuthFailures, "failed authentication attempts a source IP or a key prefix may make in a minute, else 429 with Retry-After (negative: no throttle)")
	config.Int(fs, &l.MaxConcurrent, "max-concurrent", "TRUEUP_MAX_CONCURRENT", gateway.DefaultMaxConcurrent, "requests of one partner in flight at once, else 429 with Retry-After (negative: no cap)")
}

// minProductionReplicas is the fewest stream replicas that survive the loss of
// one NATS server with its disk: JetStream acknowledges a write once a majority
// of replicas hold it.
const minProductionReplicas = 3

// checkDurability refuses a production configuration that would acknowledge
// events a single failure can lose: streams below three replicas (unless the
// operator says this is a single-node install), or a SQLite database whose
// commits a power loss can undo after the relay published them.
func checkDurability(dsn string, replicas int, singleNode bool) error {
	if replicas < 1 {
		return fmt.Errorf("--stream-replicas %d: must be at least 1", replicas)
	}
	if replicas < minProductionReplicas && !singleNode {
		return fmt.Errorf("--stream-replicas %d: production streams need %d replicas, so an event acknowledged by NATS survives the loss of one server; "+
			"on a one-server install pass --single-node (TRUEUP_SINGLE_NODE=true) to accept that risk", replicas, minProductionReplicas)
	}
	if strings.HasPrefix(dsn, "sqlite://") {
		_, query, _ := strings.Cut(dsn, "?")
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "_synchronous" && !strings.EqualFold(v, "FULL") && !strings.EqualFold(v, "EXTRA") {
				return fmt.Errorf("--database-url: _synchronous=%s lets a power loss undo a commit the outbox relay already published; serve needs FULL (the default)", v)
			}
		}
	}
	return nil
}

// ensureReplicatedStreams creates the service's own stream, the dead-letter
// stream and the replay stream with the required replicas before the service declares them with its
// defaults (EnsureStream never lowers replicas), and refuses to start when an
// existing stream has fewer.
func ensureReplicatedStreams(ctx context.Context, js jetstream.JetStream, service string, replicas int) error {
	own := natsx.StreamConfig(protoevent.StreamName(service), protoevent.StreamSubjects(service))
	for _, cfg := range []jetstream.StreamConfig{own, natsx.DLQStreamConfig(), natsx.ReplayStreamConfig()} {
		cfg.Replicas = replicas
		st, err := natsx.EnsureStream(ctx, js, cfg)
		if err != nil {
			return fmt.Errorf("stream %s with %d replicas: %w", cfg.Name, replicas, err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			return fmt.Errorf("stream %s: %w", cfg.Name, err)
		}
		if info.Config.Replicas < replicas {
			return fmt.Errorf("stream %s has %d replicas, fewer than the %d required: raise it (nats stream edit %s --replicas %d) or lower --stream-replicas",
				cfg.Name, info.Config.Replicas, replicas, cfg.Name, replicas)
		}
	}
	return nil
}
