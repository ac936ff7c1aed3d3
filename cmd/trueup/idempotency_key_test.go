package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"trueup.dev/platform/idempotency"
)

// keyDo sends one request through the gateway with a partner's key and an
// Idempotency-Key header, and returns the status, the body and its "name".
func keyDo(t *testing.T, method, url, apiKey, idemKey, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", idemKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, string(b), m.Name
}

// The Idempotency-Key header on the real stack: it is the request's
// request_id, scoped per partner; a replay returns the first response and the
// same key with a different body is 422. Keys are honoured for
// idempotency.Retention (30 days), at least the 24 hours promised.
func TestIdempotencyKeyHeader(t *testing.T) {
	if idempotency.Retention < 24*time.Hour {
		t.Fatalf("idempotency.Retention = %v, under the 24 hours Idempotency-Key promises", idempotency.Retention)
	}
	st, conn := startPartnerStack(t)
	if err := seed(context.Background(), conn); err != nil {
		t.Fatal(err)
	}
	waitForCatalog(t, conn)
	base := "http://" + st.HTTPAddr
	const po = `{"supplier":"suppliers/ACME","lines":[{"item":"WIDGET-100","quantity":{"value":"3","uom":"EA"},"unitPrice":"1.75","warehouse":"MAIN"}]}`

	// POST /v1/purchaseOrders: the body is the purchase_order field, the key
	// goes into the query.
	code, body, a := keyDo(t, "POST", base+"/v1/purchaseOrders", partnerAKey, "idem-po-1", po)
	if code != http.StatusOK || !strings.HasPrefix(a, "purchaseOrders/") {
		t.Fatalf("create = %d %s", code, body)
	}
	if code, body, got := keyDo(t, "POST", base+"/v1/purchaseOrders", partnerAKey, "idem-po-1", po); code != http.StatusOK || got != a {
		t.Fatalf("replay = %d %s, want %s", code, body, a)
	}
	code, body, b := keyDo(t, "POST", base+"/v1/purchaseOrders", partnerBKey, "idem-po-1", po)
	if code != http.StatusOK || b == a || !strings.HasPrefix(b, "purchaseOrders/") {
		t.Fatalf("partner B with A's key = %d %s, want its own order (A's is %s)", code, body, a)
	}
	if code, body, got := keyDo(t, "POST", base+"/v1/purchaseOrders", partnerAKey, "idem-po-1", po); code != http.StatusOK || got != a {
		t.Fatalf("A's replay after B = %d %s, want %s", code, body, a)
	}
	// The header and requestId in the query are one request id.
	if code, body, got := keyDo(t, "POST", base+"/v1/purchaseOrders?requestId=idem-po-1", partnerAKey, "idem-po-1", po); code != http.StatusOK || got != a {
		t.Fatalf("header and equal query = %d %s, want %s", code, body, a)
	}
	if code, body, _ := keyDo(t, "POST", base+"/v1/purchaseOrders?requestId=other", partnerAKey, "idem-po-1", po); code != http.StatusBadRequest {
		t.Fatalf("header and other query = %d %s, want 400", code, body)
	}
	other := strings.Replace(po, `"3"`, `"5"`, 1)
	code, body, _ = keyDo(t, "POST", base+"/v1/purchaseOrders", partnerAKey, "idem-po-1", other)
	var e struct {
		Code    int              `json:"code"`
		Message string           `json:"message"`
		Details []map[string]any `json:"details"`
	}
	if code != http.StatusUnprocessableEntity || json.Unmarshal([]byte(body), &e) != nil || e.Code != 3 ||
		!strings.Contains(body, "REQUEST_ID_REUSED") {
		t.Fatalf("same key, different body = %d %s, want 422 REQUEST_ID_REUSED", code, body)
	}

	// POST /v1/{name=purchaseOrders/*}:release has body "*": the key goes
	// into the JSON body; the replay gets the same answer.
	code, first, rel := keyDo(t, "POST", base+"/v1/"+a+":release", partnerAKey, "idem-rel-1", `{}`)
	if code != http.StatusOK || rel != a {
		t.Fatalf("release = %d %s", code, first)
	}
	if !strings.Contains(first, `"PURCHASE_ORDER_STATE_RELEASED"`) {
		t.Fatalf("release answer %s, want a released order", first)
	}
	if code, again, _ := keyDo(t, "POST", base+"/v1/"+a+":release", partnerAKey, "idem-rel-1", ``); code != http.StatusOK || again != first {
		t.Fatalf("release replay = %d %s, want the first answer %s", code, again, first)
	}
	if code, body, _ := keyDo(t, "POST", base+"/v1/"+a+":release", partnerAKey, "idem-rel-1", `{"requestId":"idem-rel-2"}`); code != http.StatusBadRequest {
		t.Fatalf("header and other body requestId = %d %s, want 400", code, body)
	}
	// A route without a request id refuses the header.
	if code, body, _ := keyDo(t, "GET", base+"/v1/"+a, partnerAKey, "idem-get", ``); code != http.StatusBadRequest ||
		!strings.Contains(body, "not idempotent by key") {
		t.Fatalf("GET with Idempotency-Key = %d %s, want 400", code, body)
	}
}
