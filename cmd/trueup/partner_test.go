package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/cmd/trueup/internal/suite"
	"trueup.dev/gateway"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/logging"
)

const (
	partnerAKey = "partner-a-key-0123456789abcdef"
	partnerBKey = "partner-b-key-0123456789abcdef"
)

// startPartnerStack is startTestStack with two partners, partner-a and
// partner-b, each with its own API key.
func startPartnerStack(t *testing.T) (*suite.Stack, *grpc.ClientConn) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	keys, err := gateway.ParseKeys(strings.NewReader("partner-a " + partnerAKey + " *\npartner-b " + partnerBKey + " *\n"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	st, err := suite.Start(ctx, suite.Config{DataDir: t.TempDir(), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", NATSPort: -1, Keys: keys, ServiceToken: testServiceToken},
		logging.New(io.Discard, 0, "test"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	conn := dialTest(t, st.GRPCAddr)
	t.Cleanup(func() {
		conn.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("stack stopped with error: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("stack did not stop within 30s")
		}
	})
	return st, conn
}

// createPOAs creates a purchase order through the gateway with the given key
// and extra headers, and returns its name.
func createPOAs(t *testing.T, base, key, requestID string, headers map[string]string) string {
	t.Helper()
	body := `{"supplier":"suppliers/ACME","lines":[{"item":"WIDGET-100","quantity":{"value":"3","uom":"EA"},"unitPrice":"1.75","warehouse":"MAIN"}]}`
	req, err := http.NewRequest("POST", base+"/v1/purchaseOrders?requestId="+requestID, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m struct {
		Name string `json:"name"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &m) != nil || !strings.HasPrefix(m.Name, "purchaseOrders/") {
		t.Fatalf("create %s = %d %s", requestID, resp.StatusCode, b)
	}
	return m.Name
}

// Request ids belong to the partner that sent them: partner B reusing A's
// request_id and body gets a purchase order of its own, never A's; A's retry
// still answers A's order; and B cannot act as A by adding the identity
// header the gateway uses towards the services.
func TestRequestIDsArePerPartner(t *testing.T) {
	st, conn := startPartnerStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	waitForCatalog(t, conn)
	base := "http://" + st.HTTPAddr
	spoofA := map[string]string{"Grpc-Metadata-X-Trueup-Partner": "partner-a", "Grpc-Metadata-X-Trueup-Caller": "inventory"}

	a := createPOAs(t, base, partnerAKey, "po-a-7-line-1", nil)
	b := createPOAs(t, base, partnerBKey, "po-a-7-line-1", nil)
	if b == a {
		t.Fatalf("partner B got partner A's order %s", a)
	}
	if got := createPOAs(t, base, partnerAKey, "po-a-7-line-1", nil); got != a {
		t.Fatalf("partner A's retry = %s, want its own %s", got, a)
	}
	if got := createPOAs(t, base, partnerBKey, "po-a-7-line-1", nil); got != b {
		t.Fatalf("partner B's retry = %s, want its own %s", got, b)
	}
	// B claiming to be A through headers is still B.
	if got := createPOAs(t, base, partnerBKey, "po-a-7-line-1", spoofA); got != b {
		t.Fatalf("partner B with a spoofed partner header = %s, want B's own %s (A's is %s)", got, b, a)
	}
	// Nor can B squat A's next request id while claiming to be A.
	squat := createPOAs(t, base, partnerBKey, "po-a-7-line-2", spoofA)
	if next := createPOAs(t, base, partnerAKey, "po-a-7-line-2", nil); next == squat || next == a || next == b {
		t.Fatalf("partner A's next request = %s; B squatted %s", next, squat)
	}

	// The real server installs the caller interceptor: an internal caller with
	// the same request id has a namespace of its own, and (until the internal
	// ports require a credential) metadata on the gRPC port is taken as given.
	ord := ordersv1.NewOrdersServiceClient(conn)
	receive := func(ctx context.Context) string {
		po, err := ord.CreatePurchaseOrder(ctx, &ordersv1.CreatePurchaseOrderRequest{RequestId: "po-a-7-line-1", PurchaseOrder: &ordersv1.PurchaseOrder{
			Supplier: "suppliers/ACME", Lines: []*ordersv1.PurchaseOrderLine{{Item: "WIDGET-100",
				Quantity: &typev1.Quantity{Value: "3", Uom: "EA"}, UnitPrice: "1.75", Warehouse: "MAIN"}}}})
		if err != nil {
			t.Fatalf("CreatePurchaseOrder over gRPC: %v", err)
		}
		return po.GetName()
	}
	if in := receive(ctx); in == a || in == b {
		t.Fatalf("internal caller got a partner's order %s", in)
	}
	if got := receive(metadata.AppendToOutgoingContext(ctx, caller.PartnerMetadataKey, "partner-a")); got != a {
		t.Fatalf("gRPC as partner-a = %s, want %s", got, a)
	}
}

// A partner reaches only the methods a service opens to partners (which check
// ownership): the catalog and availability of inventory, not its stock
// journal; nothing of the ledger. Internal callers reach everything.
func TestPartnersReachOnlyPartnerMethods(t *testing.T) {
	st, conn := startPartnerStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	base := "http://" + st.HTTPAddr
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/v1/items", "", http.StatusOK},
		{"GET", "/v1/warehouses/MAIN/stock", "", http.StatusOK},
		{"GET", "/v1/purchaseOrders", "", http.StatusOK},
		{"GET", "/v1/expectedReceipts", "", http.StatusOK},
		{"POST", "/v1/stock:receive", `{"requestId":"x","item":"items/WIDGET-100","location":"warehouses/MAIN/locations/A-01-01","quantity":{"value":"1"}}`, http.StatusForbidden},
		{"POST", "/v1/items", `{"sku":"NEW-1","baseUom":"EA"}`, http.StatusForbidden},
		{"POST", "/v1/allocations", `{"requestId":"y","item":"items/WIDGET-100","warehouse":"warehouses/MAIN","quantity":{"value":"1"}}`, http.StatusForbidden},
		{"GET", "/v1/movements", "", http.StatusForbidden},
		{"GET", "/v1/valuation", "", http.StatusForbidden},
		{"GET", "/v1/trialBalance", "", http.StatusForbidden},
		{"GET", "/v1/journalEntries", "", http.StatusForbidden},
		{"GET", "/v1/exportBatches", "", http.StatusForbidden},
		{"POST", "/v1/carriers", `{"code":"DHL","displayName":"DHL"}`, http.StatusForbidden},
	} {
		if code, body := httpDo(t, c.method, base+c.path, partnerAKey, c.body); code != c.want {
			t.Errorf("%s %s as a partner = %d %s, want %d", c.method, c.path, code, body, c.want)
		}
	}
	// The same internal methods over gRPC with the service credential.
	if _, err := inventoryv1.NewInventoryServiceClient(conn).ListMovements(ctx, &inventoryv1.ListMovementsRequest{PageSize: 1}); err != nil {
		t.Fatalf("ListMovements as an internal caller: %v", err)
	}
	if _, err := inventoryv1.NewInventoryServiceClient(conn).ListMovements(metadata.AppendToOutgoingContext(ctx, caller.PartnerMetadataKey, "partner-a"),
		&inventoryv1.ListMovementsRequest{PageSize: 1}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("ListMovements as a partner over gRPC: %v", err)
	}
}

// waitForCatalog waits until orders' catalog, fed by inventory's events, has
// the seeded widget: orders resolves order lines against it.
func waitForCatalog(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	ord := ordersv1.NewOrdersServiceClient(conn)
	waitFor(t, "WIDGET-100 in the orders catalog", func() bool {
		_, err := ord.GetCatalogItem(context.Background(), &ordersv1.GetCatalogItemRequest{Name: "catalogItems/WIDGET-100"})
		return err == nil
	})
}
