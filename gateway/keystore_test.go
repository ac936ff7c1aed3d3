package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func startFileGateway(t *testing.T, path string, limits Limits) *httptest.Server {
	t.Helper()
	keys, err := LoadKeysFile(path)
	if err != nil {
		t.Fatal(err)
	}
	down := "127.0.0.1:1"
	g, err := New(context.Background(), Config{Targets: Targets{down, down, down, down}, Keys: keys,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: limits, KeysReloadInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, url string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// A created key is stored only as a hash, found by its prefix, and works;
// the same prefix with another secret does not.
func TestCreatedKeyIsStoredHashed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api-keys")
	key, rec, err := CreateKey(path, "acme", []string{"orders.read"}, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := KeyPrefix(key); !ok || p != rec.Prefix || !strings.HasPrefix(key, "tu_"+rec.Prefix+"_") {
		t.Fatalf("key %q prefix %q ok %v", key, rec.Prefix, ok)
	}
	b, _ := os.ReadFile(path)
	secret := key[len("tu_")+prefixLen+1:]
	if strings.Contains(string(b), secret) || !strings.Contains(string(b), rec.SHA256) {
		t.Fatalf("keys file holds the key or not its hash:\n%s", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	keys, err := LoadKeysFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := keys.Lookup(key); !ok || p.ID != "acme" || !p.Allows("orders.read") || p.Allows("orders.write") {
		t.Fatalf("Lookup = %+v %v", p, ok)
	}
	forged := "tu_" + rec.Prefix + "_" + strings.Repeat("a", len(secret))
	if _, ok := keys.Lookup(forged); ok {
		t.Fatal("a wrong secret with a known prefix was accepted")
	}
	if _, _, err := CreateKey(path, "acme", []string{"orders.admin"}, 0, time.Now()); err == nil {
		t.Fatal("unknown scope accepted")
	}
}

// A keys file in the old plain format is refused, telling the operator what to do.
func TestLegacyKeysFileRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api-keys")
	if err := os.WriteFile(path, []byte("# partner-id key scopes\nacme key-acme-0123456789abcdefghij *\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadKeysFile(path)
	if !errors.Is(err, ErrLegacyKeysFile) || !strings.Contains(err.Error(), "trueup partners create") {
		t.Fatalf("err = %v", err)
	}
}

// An expired key is 401 with WWW-Authenticate.
func TestExpiredKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api-keys")
	key, _, err := CreateKey(path, "acme", []string{"*"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeysFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := keys.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, tt := range []struct {
		at   time.Time
		want int
	}{{time.Now(), 200}, {time.Now().Add(2 * time.Hour), 401}} {
		keys.now = func() time.Time { return tt.at }
		req := httptest.NewRequest("GET", "/v1/items", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want || (tt.want == 401 && rec.Header().Get("WWW-Authenticate") == "") {
			t.Fatalf("at %v: %d %v %s", tt.at, rec.Code, rec.Header(), rec.Body)
		}
	}
}

// The bearer scheme is case-insensitive; another scheme, or none, is 401.
func TestBearerScheme(t *testing.T) {
	h := mustKeys(t).Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for auth, want := range map[string]int{
		"Bearer " + key: 200, "bearer " + key: 200, "BEARER " + key: 200,
		"Token " + key: 401, key: 401, "Bearer": 401, "Bearer ": 401, "Basic " + key: 401,
	} {
		req := httptest.NewRequest("GET", "/v1/items", nil)
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want || (want == 401 && rec.Header().Get("WWW-Authenticate") == "") {
			t.Errorf("Authorization %q: %d %v, want %d", auth, rec.Code, rec.Header(), want)
		}
	}
}

func mustKeys(t *testing.T) *Keys {
	t.Helper()
	k, err := ParseKeys(strings.NewReader("acme " + key + " *\n"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A key revoked in the file stops working on the running gateway, and a key
// created after the start starts working, without a restart.
func TestRevocationWithoutRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api-keys")
	k1, r1, err := CreateKey(path, "acme", []string{"*"}, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := startFileGateway(t, path, Limits{})
	url := srv.URL + "/v1/carriers"
	if resp := call(t, url, map[string]string{"Authorization": "Bearer " + k1}); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("valid key: %d, want 503 (backend down)", resp.StatusCode)
	}
	k2, _, err := CreateKey(path, "globex", []string{"*"}, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := RevokeKey(path, r1.Prefix, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, url, k1, http.StatusUnauthorized)
	waitStatus(t, url, k2, http.StatusServiceUnavailable)
	if resp := call(t, url, map[string]string{"X-Api-Key": k1}); resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("revoked key: no WWW-Authenticate")
	}
	// A broken file leaves the keys in force.
	if err := os.WriteFile(path, []byte("{not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if resp := call(t, url, map[string]string{"X-Api-Key": k2}); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after a broken file: %d", resp.StatusCode)
	}
}

func waitStatus(t *testing.T, url, key string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := call(t, url, map[string]string{"X-Api-Key": key})
		if resp.StatusCode == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %d, want %d", resp.StatusCode, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// After 10 failed attempts in a minute a source is answered 429 with
// Retry-After, even with a valid key; a request without a credential is no
// attempt.
func TestFailedAttemptsThrottledPerSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api-keys")
	good, _, err := CreateKey(path, "acme", []string{"*"}, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := startFileGateway(t, path, Limits{})
	url := srv.URL + "/v1/carriers"
	for range 20 {
		if resp := call(t, url, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("no credential: %d, want 401", resp.StatusCode)
		}
	}
	for i := range DefaultAuthFailures {
		if resp := call(t, url, map[string]string{"X-Api-Key": "wrong-key-wrong-key-wrong-key"}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	for _, k := range []string{"wrong-key-wrong-key-wrong-key", good} {
		resp := call(t, url, map[string]string{"X-Api-Key": k})
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("after %d failures: %d Retry-After %q, want 429", DefaultAuthFailures, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
}

// Failures against one prefix block that prefix from every source, and only it.
func TestFailedAttemptsThrottledPerPrefix(t *testing.T) {
	th := newFailureThrottle(3, time.Minute)
	now := time.Now()
	th.now = func() time.Time { return now }
	for i := range 3 {
		th.fail("10.0.0."+string(rune('1'+i)), "abcdefgh")
	}
	if th.blocked("10.0.0.9", "abcdefgh") <= 0 {
		t.Fatal("prefix not blocked from a new source")
	}
	if th.blocked("10.0.0.9", "zzzzzzzz") != 0 || th.blocked("10.0.0.1", "") != 0 {
		t.Fatal("another prefix or a source with one failure blocked")
	}
	now = now.Add(time.Minute)
	if th.blocked("10.0.0.9", "abcdefgh") != 0 {
		t.Fatal("still blocked after the window")
	}
}

// Use of a key is recorded, in memory, then in the last-used file.
func TestLastUsed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api-keys")
	k, rec, err := CreateKey(path, "acme", []string{"*"}, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeysFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := keys.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/v1/items", nil)
	req.Header.Set("X-Api-Key", k)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if err := keys.flushLastUsed(); err != nil {
		t.Fatal(err)
	}
	used, err := ReadLastUsed(path)
	if err != nil || time.Since(used[rec.Prefix]) > time.Minute {
		t.Fatalf("last used = %v %v", used, err)
	}
}
