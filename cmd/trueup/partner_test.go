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
	"google.golang.org/grpc/metadata"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
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
func startPartnerStack(t *testing.T) (*stack, *grpc.ClientConn) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	keys, err := gateway.ParseKeys(strings.NewReader("partner-a " + partnerAKey + " *\npartner-b " + partnerBKey + " *\n"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	st, err := startStack(ctx, stackConfig{DataDir: t.TempDir(), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", NATSPort: -1, Keys: keys, ServiceToken: testServiceToken},
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

// receiveAs posts a stock receipt through the gateway with the given key and
// extra headers, and returns the movement's name.
func receiveAs(t *testing.T, base, key, requestID string, headers map[string]string) string {
	t.Helper()
	body := `{"requestId":"` + requestID + `","item":"items/WIDGET-100","location":"warehouses/MAIN/locations/A-01-01",` +
		`"quantity":{"value":"3","uom":"EA"},"unitCost":{"currencyCode":"USD","amount":"1.75"},` +
		`"source":{"type":"SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER","id":"PO-A-7"}}`
	req, err := http.NewRequest("POST", base+"/v1/stock:receive", strings.NewReader(body))
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
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &m) != nil || !strings.HasPrefix(m.Name, "movements/") {
		t.Fatalf("receive %s = %d %s", requestID, resp.StatusCode, b)
	}
	return m.Name
}

// Request ids belong to the partner that sent them: partner B reusing A's
// request_id and body gets a movement of its own, never A's (with A's purchase
// order and cost); A's retry still answers A's movement; and B cannot act as A
// by adding the identity header the gateway uses towards the services.
func TestRequestIDsArePerPartner(t *testing.T) {
	st, conn := startPartnerStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	base := "http://" + st.HTTPAddr
	spoofA := map[string]string{"Grpc-Metadata-X-Trueup-Partner": "partner-a", "Grpc-Metadata-X-Trueup-Caller": "inventory"}

	a := receiveAs(t, base, partnerAKey, "po-a-7-line-1", nil)
	b := receiveAs(t, base, partnerBKey, "po-a-7-line-1", nil)
	if b == a {
		t.Fatalf("partner B got partner A's movement %s", a)
	}
	if got := receiveAs(t, base, partnerAKey, "po-a-7-line-1", nil); got != a {
		t.Fatalf("partner A's retry = %s, want its own %s", got, a)
	}
	if got := receiveAs(t, base, partnerBKey, "po-a-7-line-1", nil); got != b {
		t.Fatalf("partner B's retry = %s, want its own %s", got, b)
	}
	// B claiming to be A through headers is still B.
	if got := receiveAs(t, base, partnerBKey, "po-a-7-line-1", spoofA); got != b {
		t.Fatalf("partner B with a spoofed partner header = %s, want B's own %s (A's is %s)", got, b, a)
	}
	// Nor can B squat A's next request id while claiming to be A.
	squat := receiveAs(t, base, partnerBKey, "po-a-7-line-2", spoofA)
	if next := receiveAs(t, base, partnerAKey, "po-a-7-line-2", nil); next == squat || next == a || next == b {
		t.Fatalf("partner A's next request = %s; B squatted %s", next, squat)
	}

	// The real server installs the caller interceptor: an internal caller with
	// the same request id has a namespace of its own, and (until the internal
	// ports require a credential) metadata on the gRPC port is taken as given.
	inv := inventoryv1.NewInventoryServiceClient(conn)
	receive := func(ctx context.Context) string {
		m, err := inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: "po-a-7-line-1", Item: "items/WIDGET-100",
			Location: "warehouses/MAIN/locations/A-01-01", Quantity: &typev1.Quantity{Value: "3", Uom: "EA"},
			UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "1.75"},
			Source:   &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: "PO-A-7"}})
		if err != nil {
			t.Fatalf("ReceiveStock over gRPC: %v", err)
		}
		return m.GetName()
	}
	if in := receive(ctx); in == a || in == b {
		t.Fatalf("internal caller got a partner's movement %s", in)
	}
	if got := receive(metadata.AppendToOutgoingContext(ctx, caller.PartnerMetadataKey, "partner-a")); got != a {
		t.Fatalf("gRPC as partner-a = %s, want %s", got, a)
	}
}
