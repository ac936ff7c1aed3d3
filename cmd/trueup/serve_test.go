package main

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/testkit/natstest"
	"trueup.dev/platform/testkit/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The production path: `trueup migrate` then `trueup serve` against PostgreSQL and
// an external NATS, a real call, an event on the stream, and a clean SIGTERM-style stop.
func TestMigrateAndServeOnPostgres(t *testing.T) {
	dsn := pgtest.NewDSN(t)
	ns := natstest.Server(t) // dialled by URL, as a deployed service does

	if err := run(context.Background(), []string{"migrate", "ledger", "--database-url", dsn}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := run(context.Background(), []string{"serve", "ledger"}); err == nil {
		t.Fatal("serve without a database URL must fail")
	}

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "ledger", "--database-url", dsn, "--nats-url", ns.ClientURL(),
			"--grpc-addr", addr, "--migrate=false", "--log-level", "warn", "--single-node", "--stream-replicas", "1", "--service-token", testServiceToken})
	}()
	conn := dialTest(t, addr)
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: "trueup.ledger.v1.LedgerService"})
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger never became healthy: %v %v", resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := ledgerv1.NewLedgerServiceClient(conn).CreateAccount(ctx, &ledgerv1.CreateAccountRequest{
		RequestId: "r1", Account: &ledgerv1.Account{Code: "1900", DisplayName: "Suspense", Type: ledgerv1.AccountType_ACCOUNT_TYPE_ASSET, CurrencyCode: "USD"},
	}); err != nil {
		t.Fatal(err)
	}
	// The event reaches the LEDGER stream through the outbox relay.
	nc, err := natsx.Connect(ctx, ns.ClientURL(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for {
		st, err := js.Stream(ctx, "LEDGER")
		if err == nil {
			if info, err := st.Info(ctx); err == nil && info.State.Msgs == 1 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("AccountCreated never reached the LEDGER stream")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestUnknownCommandAndService(t *testing.T) {
	if err := run(context.Background(), []string{"frobnicate"}); err == nil {
		t.Fatal("unknown command must fail")
	}
	if err := run(context.Background(), []string{"migrate", "payroll", "--database-url", "sqlite://x.db"}); err == nil {
		t.Fatal("unknown service must fail")
	}
}
