package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/cmd/trueup/internal/suite"
	"trueup.dev/gateway"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/logging"
	"trueup.dev/platform/telemetry/telemetrytest"
)

const testKey = "test-partner-key-0123456789abcdef"

// testServiceToken is the test stacks' internal gRPC credential.
const testServiceToken = "test-service-token-0123456789abcdef"

// dialTest connects to a test stack's (or served service's) gRPC port, sending
// testServiceToken like the gateway and the CLI do.
func dialTest(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpcserver.WithServiceToken(testServiceToken))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// startTestStack runs the whole dev stack on free loopback ports in a temp dir.
func startTestStack(t testing.TB) (*suite.Stack, *grpc.ClientConn, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	keys, err := gateway.ParseKeys(strings.NewReader("demo-partner " + testKey + " *\n"))
	if err != nil {
		t.Fatal(err)
	}
	log := logging.New(io.Discard, 0, "test")
	st, err := suite.Start(ctx, suite.Config{DataDir: t.TempDir(), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", NATSPort: -1, Keys: keys, ServiceToken: testServiceToken}, log)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	conn := dialTest(t, st.GRPCAddr)
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("stack did not stop within 30s")
			return nil
		}
	}
	t.Cleanup(func() {
		conn.Close()
		if err := stop(); err != nil {
			t.Errorf("stack stopped with error: %v", err)
		}
	})
	return st, conn, stop
}

func TestStackServesHealthRESTAndEvents(t *testing.T) {
	rec := telemetrytest.NewRecorder(t)
	st, conn, stop := startTestStack(t)
	ctx := context.Background()

	// Health answers on gRPC for the server and each service.
	health := healthpb.NewHealthClient(conn)
	for _, svc := range []string{"", "trueup.inventory.v1.InventoryService", "trueup.orders.v1.OrdersService", "trueup.fulfillment.v1.FulfillmentService", "trueup.ledger.v1.LedgerService"} {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health %q = %v, %v", svc, resp, err)
		}
	}

	// The seed loads demo data through the APIs, and seeding twice changes nothing.
	for i := 0; i < 2; i++ {
		if err := seed(ctx, conn); err != nil {
			t.Fatalf("seed run %d: %v", i+1, err)
		}
	}

	base := "http://" + st.HTTPAddr
	// REST: health and OpenAPI are public; /v1 needs a key.
	if code, _ := httpDo(t, "GET", base+"/readyz", "", ""); code != http.StatusOK {
		t.Fatalf("readyz = %d", code)
	}
	if code, body := httpDo(t, "GET", base+"/openapi.json", "", ""); code != http.StatusOK || !strings.Contains(body, "/v1/items") {
		t.Fatalf("openapi = %d", code)
	}
	if code, _ := httpDo(t, "GET", base+"/v1/items", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("no key: %d, want 401", code)
	}
	if code, _ := httpDo(t, "GET", base+"/v1/items", "wrong-key-wrong-key-wrong-key", ""); code != http.StatusUnauthorized {
		t.Fatalf("bad key: %d, want 401", code)
	}
	code, body := httpDo(t, "GET", base+"/v1/items", testKey, "")
	if code != http.StatusOK || !strings.Contains(body, `"sku":"WIDGET-100"`) {
		t.Fatalf("list items = %d %s", code, body)
	}
	// Bad input: 400 with every field violation, and nothing written.
	code, body = httpDo(t, "POST", base+"/v1/customers", testKey, `{"code":"bad code!","currencyCode":"usdx"}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "customer.code") || !strings.Contains(body, "customer.currency_code") {
		t.Fatalf("invalid customer = %d %s", code, body)
	}
	if code, _ = httpDo(t, "GET", base+"/v1/items/NOPE", testKey, ""); code != http.StatusNotFound {
		t.Fatalf("unknown item = %d, want 404", code)
	}
	// A create through REST, retried with the same request_id, answers the same customer.
	for i := 0; i < 2; i++ {
		code, body = httpDo(t, "POST", base+"/v1/customers?request_id=rest-create-1", testKey,
			`{"code":"tape-co","displayName":"Tape Co","currencyCode":"USD"}`)
		if code != http.StatusOK || !strings.Contains(body, `"name":"customers/TAPE-CO"`) {
			t.Fatalf("create via REST (try %d) = %d %s", i+1, code, body)
		}
	}
	// A duplicate create without the request_id is a conflict: 409.
	if code, _ = httpDo(t, "POST", base+"/v1/customers", testKey, `{"code":"TAPE-CO","displayName":"x","currencyCode":"USD"}`); code != http.StatusConflict {
		t.Fatalf("duplicate = %d, want 409", code)
	}
	// The item master is the company's: a partner reads it, never writes it.
	if code, body = httpDo(t, "POST", base+"/v1/items", testKey, `{"sku":"TAPE-48","description":"x","baseUom":"EA"}`); code != http.StatusForbidden {
		t.Fatalf("a partner creating an item = %d %s, want 403", code, body)
	}

	// An item created over gRPC reaches orders' catalog through the outbox, NATS and the inbox.
	inv := inventoryv1.NewInventoryServiceClient(conn)
	if _, err := inv.CreateItem(ctx, &inventoryv1.CreateItemRequest{RequestId: "e2e-1",
		Item: &inventoryv1.Item{Sku: "E2E-1", Description: "End to end", BaseUom: "EA"}}); err != nil {
		t.Fatal(err)
	}
	ord := ordersv1.NewOrdersServiceClient(conn)
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/E2E-1"})
		if err == nil {
			if got.GetDescription() != "End to end" || got.GetBaseUom() != "EA" {
				t.Fatalf("catalog item = %v", got)
			}
			break
		}
		if status.Code(err) != codes.NotFound || time.Now().After(deadline) {
			t.Fatalf("catalog item never arrived: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Tracing: the orders consumer's span is a child of inventory's CreateItem server span.
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	spans := rec.Ended()
	var handler, consumer = telemetrytest.FindSpan(spans, "trueup.inventory.v1.InventoryService/CreateItem"), telemetrytest.FindSpan(spans, "inventory.v1.ItemCreated process")
	if handler == nil || consumer == nil {
		t.Fatalf("spans missing: handler=%v consumer=%v", handler != nil, consumer != nil)
	}
	found := false
	for _, s := range spans {
		if s.Name() == "inventory.v1.ItemCreated process" && s.Parent().SpanID() == findHandlerFor(spans, s) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no consumer span is a child of a CreateItem server span")
	}
}

// findHandlerFor returns the span id of the CreateItem server span in the same
// trace as s (zero if none).
func findHandlerFor(spans []telemetrytest.Span, s telemetrytest.Span) [8]byte {
	for _, h := range spans {
		if h.Name() == "trueup.inventory.v1.InventoryService/CreateItem" && h.SpanContext().TraceID() == s.SpanContext().TraceID() {
			return h.SpanContext().SpanID()
		}
	}
	return [8]byte{}
}

func httpDo(t *testing.T, method, url, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDevAPIKeyIsStable(t *testing.T) {
	dir := t.TempDir()
	k1, err := devAPIKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := devAPIKey(dir)
	if err != nil || k1 != k2 {
		t.Fatalf("key changed between starts: %q %q %v", k1, k2, err)
	}
	keys, err := gateway.LoadKeysFile(filepath.Join(dir, "api-keys"))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := keys.Lookup(k1); !ok || p.ID != "demo-partner" {
		t.Fatalf("dev key not in keys file: %v %v", p, ok)
	}
	if info, _ := os.Stat(filepath.Join(dir, "api-keys")); info.Mode().Perm() != 0o600 {
		t.Fatalf("keys file mode = %v, want 0600", info.Mode().Perm())
	}
}
