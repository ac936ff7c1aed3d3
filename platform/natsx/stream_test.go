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

// An operator's settings on an existing stream survive every service restart's
// EnsureStream; only missing subjects are added, and replicas are never lowered.
func TestEnsureStreamKeepsOperatorSettings(t *testing.T) {
	t.Parallel()
	js := newJS(t) // already ensured the test stream once
	ctx := testCtx(t)
	publish(t, js, event("e1", "x"))

	// The operator extends retention and caps the size for an investigation.
	st, err := js.Stream(ctx, testStream)
	if err != nil {
		t.Fatal(err)
	}
	operator := st.CachedInfo().Config
	operator.MaxAge = 90 * 24 * time.Hour
	operator.MaxBytes = 1 << 30
	if _, err := js.UpdateStream(ctx, operator); err != nil {
		t.Fatal(err)
	}

	// A service restarts with the defaults and one more subject.
	cfg := StreamConfig(testStream, []string{"test.>", "extra.>"})
	st, err = EnsureStream(ctx, js, cfg)
	if err != nil {
		t.Fatalf("ensure: %v", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.MaxAge != 90*24*time.Hour || info.Config.MaxBytes != 1<<30 {
		t.Errorf("max age, max bytes = %v, %d; want the operator's 2160h, 1GiB", info.Config.MaxAge, info.Config.MaxBytes)
	}
	if !slices.Equal(info.Config.Subjects, []string{"test.>", "extra.>"}) {
		t.Errorf("subjects = %v, want the missing one added", info.Config.Subjects)
	}
	if info.State.Msgs != 1 {
		t.Errorf("messages = %d, want 1 (ensure must not recreate the stream)", info.State.Msgs)
	}
	// Idempotent: nothing to change the second time.
	if _, err := EnsureStream(ctx, js, cfg); err != nil {
		t.Fatalf("ensure again: %v", err)
	}
}

func TestEnsureStreamCreates(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	cfg := StreamConfig("FRESH", []string{"fresh.>"})
	cfg.MaxAge = time.Hour
	st, err := EnsureStream(testCtx(t), js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().Config.MaxAge; got != time.Hour {
		t.Errorf("new stream max age = %v, want the declared 1h", got)
	}
}
