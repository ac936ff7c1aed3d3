package natsx

import (
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestStreamConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg := StreamConfig("ORDERS", []string{"orders.>"})
	tests := []struct {
		name      string
		got, want any
	}{
		{"name", cfg.Name, "ORDERS"},
		{"subjects", slices.Equal(cfg.Subjects, []string{"orders.>"}), true},
		{"storage", cfg.Storage, jetstream.FileStorage},
		{"retention", cfg.Retention, jetstream.LimitsPolicy},
		{"duplicates", cfg.Duplicates, 2 * time.Minute},
		{"max age", cfg.MaxAge, 30 * 24 * time.Hour},
		{"replicas", cfg.Replicas, 1},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestEnsureStreamIsIdempotentAndUpdates(t *testing.T) {
	t.Parallel()
	js := newJS(t) // already ensured the test stream once
	ctx := testCtx(t)
	cfg := StreamConfig(testStream, []string{"test.>"})
	if _, err := EnsureStream(ctx, js, cfg); err != nil {
		t.Fatalf("ensure again: %v", err)
	}
	publish(t, js, event("e1", "x"))

	cfg.MaxAge = time.Hour
	st, err := EnsureStream(ctx, js, cfg)
	if err != nil {
		t.Fatalf("ensure with new max age: %v", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatalf("info: %v", err)
	}
	if info.Config.MaxAge != time.Hour {
		t.Errorf("max age = %v, want 1h", info.Config.MaxAge)
	}
	if info.State.Msgs != 1 {
		t.Errorf("messages = %d, want 1 (ensure must not recreate the stream)", info.State.Msgs)
	}
}
