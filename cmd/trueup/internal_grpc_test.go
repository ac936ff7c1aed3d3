package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/testkit/natstest"
)

// serveLedger runs `trueup serve ledger` on SQLite and an embedded NATS with
// extra flags until the test ends, and waits until it is healthy.
func serveLedger(t *testing.T, extra ...string) string {
	t.Helper()
	ns := natstest.Server(t)
	addr := freeAddr(t)
	args := append([]string{"serve", "ledger", "--database-url", "sqlite://" + filepath.Join(t.TempDir(), "ledger.db"),
		"--nats-url", ns.ClientURL(), "--grpc-addr", addr, "--log-level", "error", "--single-node", "--stream-replicas", "1"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve stopped with %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "trueup.ledger.v1.LedgerService"})
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return addr
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger never became healthy: %v %v", resp, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func createAccount(ctx context.Context, conn *grpc.ClientConn, id string) error {
	_, err := ledgerv1.NewLedgerServiceClient(conn).CreateAccount(ctx, &ledgerv1.CreateAccountRequest{
		RequestId: id, Account: &ledgerv1.Account{Code: "19" + id, DisplayName: "Suspense", Type: ledgerv1.AccountType_ACCOUNT_TYPE_ASSET, CurrencyCode: "USD"},
	})
	return err
}

func reflectionServices(ctx context.Context, conn *grpc.ClientConn) ([]string, error) {
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = stream.CloseSend() }()
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil && err != io.EOF {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names, nil
}

// Reaching a served service's gRPC port is not enough: every call but health
// needs the service token, and a partner id in metadata does not stand in for
// it. Reflection is off unless --reflection.
func TestServeRequiresTheServiceToken(t *testing.T) {
	addr := serveLedger(t, "--service-token", testServiceToken)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	anon, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	authed := dialTest(t, addr)
	defer authed.Close()

	if resp, err := healthpb.NewHealthClient(anon).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health without the token = %v, %v; want SERVING (probes send none)", resp, err)
	}
	if err := createAccount(ctx, anon, "r1"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("call without the token = %v, want Unauthenticated", err)
	}
	bad := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+strings.Repeat("x", len(testServiceToken)))
	if err := createAccount(bad, anon, "r2"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("call with a wrong token = %v, want Unauthenticated", err)
	}
	asPartner := metadata.AppendToOutgoingContext(ctx, caller.PartnerMetadataKey, "acme")
	if err := createAccount(asPartner, anon, "r3"); status.Code(err) != codes.Unauthenticated {
		t.Errorf("partner id without the token = %v, want Unauthenticated", err)
	}
	if err := createAccount(ctx, authed, "r4"); err != nil {
		t.Errorf("call with the token = %v", err)
	}
	if _, err := reflectionServices(ctx, authed); status.Code(err) != codes.Unimplemented {
		t.Errorf("reflection without --reflection = %v, want Unimplemented", err)
	}
}

func TestServeReflectionFlag(t *testing.T) {
	addr := serveLedger(t, "--service-token", testServiceToken, "--reflection")
	conn := dialTest(t, addr)
	defer conn.Close()
	names, err := reflectionServices(t.Context(), conn)
	if err != nil || !slices.Contains(names, "trueup.ledger.v1.LedgerService") {
		t.Errorf("reflection with --reflection = %v, %v", names, err)
	}
}

// serve refuses to start without a token, unless --insecure-internal says so.
func TestServeRefusesToStartWithoutServiceToken(t *testing.T) {
	base := []string{"serve", "ledger", "--database-url", "sqlite://" + filepath.Join(t.TempDir(), "l.db"), "--single-node", "--stream-replicas", "1"}
	if err := run(t.Context(), base); err == nil || !strings.Contains(err.Error(), "--service-token") || !strings.Contains(err.Error(), "--insecure-internal") {
		t.Errorf("serve without a token = %v, want a refusal naming --service-token and --insecure-internal", err)
	}
	if err := run(t.Context(), append(base, "--service-token", "short")); err == nil || strings.Contains(err.Error(), "short") {
		t.Errorf("serve with a short token = %v, want a refusal that does not print it", err)
	}
}

// A failed start prints no database password, in any of its URL forms, on
// stderr (the log) or in the error main prints.
func TestFailedStartDoesNotPrintDatabasePassword(t *testing.T) {
	stderr := captureStderr(t)
	err := run(t.Context(), []string{"serve", "inventory", "--database-url", "postgres://u:secret1@127.0.0.1:1/x?password=secret2&sslpassword=secret3&connect_timeout=2",
		"--single-node", "--stream-replicas", "1", "--insecure-internal"})
	out := stderr()
	if err == nil || !strings.Contains(err.Error(), "password=xxxxx") {
		t.Fatalf("serve against an unreachable database = %v, want the open error with the URL redacted", err)
	}
	for _, secret := range []string{"secret1", "secret2", "secret3"} {
		if strings.Contains(err.Error(), secret) || strings.Contains(out, secret) {
			t.Errorf("%s printed:\nerror: %v\nstderr: %s", secret, err, out)
		}
	}
	if !strings.Contains(out, "INSECURE INTERNAL") {
		t.Errorf("--insecure-internal logged no warning: %s", out)
	}
}

// captureStderr redirects os.Stderr until the returned function is called,
// which gives back what was written.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		got <- string(b)
	}()
	restored := false
	restore := func() string {
		if restored {
			return ""
		}
		restored = true
		os.Stderr = old
		_ = w.Close()
		return <-got
	}
	t.Cleanup(func() { restore() })
	return restore
}

// `trueup dev` makes one random token per data directory (0600) and keeps it;
// the CLI commands send it by default, and an explicit --service-token wins.
func TestDevServiceTokenIsTheCLIDefault(t *testing.T) {
	dir := t.TempDir()
	tok, err := devServiceToken(dir)
	if err != nil || len(tok.Reveal()) < minServiceTokenLen {
		t.Fatalf("devServiceToken = %d characters, %v", len(tok.Reveal()), err)
	}
	if again, _ := devServiceToken(dir); again != tok {
		t.Error("a second start made a new token")
	}
	if other, _ := devServiceToken(t.TempDir()); other == tok {
		t.Error("two data directories share a token")
	}
	info, err := os.Stat(filepath.Join(dir, devServiceTokenFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("token file = %v, %v; want mode 0600", info, err)
	}
	c := clientFlags{dataDir: dir}
	if got, err := c.target("a:1"); err != nil || got.token != tok || got.addr != "a:1" {
		t.Errorf("default target = %+v, %v; want the dev token", got, err)
	}
	c.token = "explicit"
	if got, _ := c.target("a:1"); got.token.Reveal() != "explicit" {
		t.Error("--service-token does not win over the dev file")
	}
	if got, err := (&clientFlags{dataDir: t.TempDir()}).target("a:1"); err != nil || got.token != "" {
		t.Errorf("no dev stack: target = %+v, %v; want no token", got, err)
	}
}
