package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"trueup.dev/cmd/trueup/internal/suite"
	"trueup.dev/gateway"
	"trueup.dev/platform/logging"
)

var keyLine = regexp.MustCompile(`(?m)^(tu_([a-z2-7]{8})_[a-z2-7]+)$`)

// partnersCreate runs `trueup partners create` and returns the key it printed
// and its prefix.
func partnersCreate(t *testing.T, args ...string) (key, prefix string) {
	t.Helper()
	var out bytes.Buffer
	if err := partnersCmd(append([]string{"create"}, args...), &out, time.Now); err != nil {
		t.Fatal(err)
	}
	m := keyLine.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no key in output:\n%s", out.String())
	}
	return m[1], m[2]
}

func partnersOut(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := partnersCmd(args, &out, time.Now); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// create prints the key once and stores only its hash; list shows the
// record without key or hash; revoke marks it.
func TestPartnersCreateListRevoke(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api-keys")
	key, prefix := partnersCreate(t, "--keys-file", path, "--partner", "acme", "--scopes", "orders.read,fulfillment.write", "--expires", "720h")
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), key) || strings.Contains(string(b), strings.TrimPrefix(key, "tu_"+prefix+"_")) {
		t.Fatalf("keys file holds the key:\n%s", b)
	}
	list := partnersOut(t, "list", "--keys-file", path)
	if !strings.Contains(list, "acme") || !strings.Contains(list, prefix) || !strings.Contains(list, "orders.read,fulfillment.write") || strings.Contains(list, key) {
		t.Fatalf("list:\n%s", list)
	}
	recs, err := gateway.ReadKeyRecords(path)
	if err != nil || len(recs) != 1 || strings.Contains(list, recs[0].SHA256) {
		t.Fatalf("records %v %v; list:\n%s", recs, err, list)
	}
	if recs[0].Expires.Sub(recs[0].Created) != 720*time.Hour {
		t.Fatalf("expiry %v created %v", recs[0].Expires, recs[0].Created)
	}
	partnersOut(t, "revoke", "--keys-file", path, "--prefix", prefix)
	if recs, _ := gateway.ReadKeyRecords(path); recs[0].Revoked.IsZero() {
		t.Fatal("not revoked")
	}
	if err := partnersCmd([]string{"revoke", "--keys-file", path, "--prefix", "zzzzzzzz"}, io.Discard, time.Now); err == nil {
		t.Fatal("revoking an unknown prefix succeeded")
	}
	if err := partnersCmd([]string{"create", "--keys-file", path, "--partner", "acme", "--scopes", "orders.admin"}, io.Discard, time.Now); err == nil {
		t.Fatal("an unknown scope was accepted")
	}
}

// On the running stack a key created with `trueup partners create` works and,
// once revoked, is refused without a restart.
func TestPartnersRevokeOnRunningGateway(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "api-keys")
	key, prefix := partnersCreate(t, "--keys-file", path, "--partner", "acme", "--scopes", "inventory.read")
	keys, err := gateway.LoadKeysFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := suite.Start(ctx, suite.Config{DataDir: dir, GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", NATSPort: -1, Keys: keys, ServiceToken: testServiceToken}, logging.New(io.Discard, 0, "test"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	var stopped bool
	t.Cleanup(func() {
		if !stopped {
			cancel()
			<-done
		}
	})
	url := "http://" + st.HTTPAddr + "/v1/items"
	if code, body := httpDo(t, "GET", url, key, ""); code != http.StatusOK {
		t.Fatalf("new key: %d %s", code, body)
	}
	if code, _ := httpDo(t, "POST", url, key, `{}`); code != http.StatusForbidden {
		t.Fatalf("write without inventory.write: %d, want 403", code)
	}
	partnersOut(t, "revoke", "--keys-file", path, "--prefix", prefix)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := httpDo(t, "GET", url, key, "")
		if code == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked key still answered %d after 10s", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Stopping the gateway flushes last-used times, which list shows.
	cancel()
	<-done
	stopped = true
	list := partnersOut(t, "list", "--keys-file", path)
	if !strings.Contains(list, prefix) || !strings.Contains(list, time.Now().UTC().Format("2006-01-02T")) {
		t.Fatalf("list:\n%s", list)
	}
	used, err := gateway.ReadLastUsed(path)
	if err != nil || used[prefix].IsZero() {
		t.Fatalf("last used = %v %v", used, err)
	}
}

// `trueup dev` creates the demo partner once, in the hashed format, keeps the
// key in dev-api-key, and replaces a keys file of the old plain format.
func TestDevCreatesDemoPartnerOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "api-keys")
	if err := os.WriteFile(path, []byte("# partner-id key scopes\ndemo-partner tu_dev_oldoldoldoldoldoldoldoldold *\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dev-api-key"), []byte("tu_dev_oldoldoldoldoldoldoldoldold"), 0o600); err != nil {
		t.Fatal(err)
	}
	k1, created, err := ensureDevAPIKey(dir)
	if err != nil || !created {
		t.Fatalf("first start: %v %v", created, err)
	}
	if _, ok := gateway.KeyPrefix(k1); !ok {
		t.Fatalf("dev key %q is not in the new format", k1)
	}
	if _, err := os.Stat(path + ".legacy"); err != nil {
		t.Fatalf("old keys file not kept aside: %v", err)
	}
	k2, created, err := ensureDevAPIKey(dir)
	if err != nil || created || k2 != k1 {
		t.Fatalf("second start: %q %v %v", k2, created, err)
	}
	saved, _ := os.ReadFile(filepath.Join(dir, "dev-api-key"))
	if string(saved) != k1 {
		t.Fatalf("dev-api-key = %q", saved)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), k1) {
		t.Fatal("keys file holds the dev key")
	}
	st := &suite.Stack{GRPCAddr: "g", HTTPAddr: "h"}
	var first, later bytes.Buffer
	printBanner(&first, st, dir, k1, true)
	printBanner(&later, st, dir, k1, false)
	if !strings.Contains(first.String(), k1) || strings.Contains(later.String(), k1) || !strings.Contains(later.String(), "dev-api-key") {
		t.Fatalf("banners:\n%s\n---\n%s", first.String(), later.String())
	}
}
