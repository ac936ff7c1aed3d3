package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const key = "key-acme-0123456789abcdefghij"

func newTestGateway(t *testing.T) *httptest.Server {
	t.Helper()
	keys, err := ParseKeys(strings.NewReader("acme " + key + " *\n"))
	if err != nil {
		t.Fatal(err)
	}
	down := "127.0.0.1:1" // nothing listens there
	g, err := New(context.Background(), Config{Targets: Targets{down, down, down, down}, Keys: keys,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	req.Header.Set("X-Api-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A backend that is down gives partners a 503 with a generic message, never
// the dial error with the backend's address.
func TestBackendDownDoesNotLeakInternals(t *testing.T) {
	srv := newTestGateway(t)
	req, _ := http.NewRequest("GET", srv.URL+"/v1/carriers", nil)
	code, body := do(t, req)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503 (%s)", code, body)
	}
	for _, leak := range []string{"127.0.0.1", "dial", "connection refused"} {
		if strings.Contains(body, leak) {
			t.Fatalf("body leaks %q: %s", leak, body)
		}
	}
	if !strings.Contains(body, "temporarily unavailable") {
		t.Fatalf("body = %s", body)
	}
}

// An oversized body is refused with 413 before it is read into memory.
func TestOversizedBodyIs413(t *testing.T) {
	srv := newTestGateway(t)
	big := strings.NewReader(`{"sku":"` + strings.Repeat("A", MaxBodyBytes) + `"}`)
	req, _ := http.NewRequest("POST", srv.URL+"/v1/items", big)
	if code, body := do(t, req); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413 (%.200s)", code, body)
	}
	// Without a declared length (chunked), the limit still applies while reading.
	req, _ = http.NewRequest("POST", srv.URL+"/v1/items", io.MultiReader(strings.NewReader(`{"sku":"`), strings.NewReader(strings.Repeat("A", MaxBodyBytes)), strings.NewReader(`"}`)))
	req.ContentLength = -1
	if code, body := do(t, req); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: status = %d, want 413 (%.200s)", code, body)
	}
}
