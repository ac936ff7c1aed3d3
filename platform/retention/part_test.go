package retention_test

import (
	"context"
	"testing"
	"time"

	"trueup.dev/platform/idempotency"
	"trueup.dev/platform/lifecycle"
	"trueup.dev/platform/retention"
	"trueup.dev/platform/testkit/pgtest"
)

// TestPartRunsUntilTheLifecycleStopsIt: the retention part purges at once and
// ends cleanly when its lifecycle does, without counting as a part that
// stopped on its own.
func TestPartRunsUntilTheLifecycleStopsIt(t *testing.T) {
	db := pgtest.OpenSQLite(t)
	if err := idempotency.Migrate(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- lifecycle.Run(ctx, retention.Part(db, nil, time.Hour, retention.Idempotency)) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("lifecycle with the retention part: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("retention part did not stop")
	}
}
