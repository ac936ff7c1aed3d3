package natsx

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestStartEmbeddedRequiresStoreDir(t *testing.T) {
	t.Parallel()
	if s, err := StartEmbedded(EmbeddedOptions{Port: -1}); err == nil {
		Shutdown(s)
		t.Fatal("StartEmbedded without StoreDir succeeded")
	}
}

func TestConnectByURL(t *testing.T) {
	t.Parallel()
	s, err := StartEmbedded(EmbeddedOptions{StoreDir: t.TempDir(), Port: -1, ServerName: "test-1"})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	defer Shutdown(s)
	nc, err := Connect(t.Context(), s.ClientURL(), "url-client")
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer nc.Close()
	if got := nc.ConnectedServerName(); got != "test-1" {
		t.Errorf("server name = %q, want test-1", got)
	}
	if err := nc.Flush(); err != nil {
		t.Errorf("flush: %v", err)
	}
}

func TestConnectGivesUpWhenContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	// Port 1 refuses connections at once, so Connect keeps retrying until ctx ends.
	_, err := Connect(ctx, "nats://127.0.0.1:1", "nobody")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
}

func TestShutdownNil(t *testing.T) {
	t.Parallel()
	Shutdown(nil) // must not panic
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://alice:s3cr3t@nats:4222":         "nats://alice:xxxxx@nats:4222",
		"nats://t0ken@nats:4222":                "nats://xxxxx@nats:4222",
		"nats://a:b@n1:4222,nats://a:b@n2:4222": "nats://a:xxxxx@n1:4222,nats://a:xxxxx@n2:4222",
		"nats://localhost:4222":                 "nats://localhost:4222",
		"nats://u:s3cr3t%zz@nats:4222":          "nats://xxxxx",
	} {
		if got := redactURL(in); got != want || strings.Contains(got, "s3cr3t") {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
