package outbox_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
)

// One event the broker always refuses does not slow the others down: the relay
// backs off only when nothing in a batch got through.
func TestPoisonRowDoesNotThrottleTheRest(t *testing.T) {
	db := migrated(t, pgtest.OpenSQLite(t))
	poison := newEvent(t, 0)
	// The broker refuses the poison row every time.
	rec := &outboxtest.Recorder{Refuse: func(_, _ int, m outbox.Message) error {
		if m.ID == poison.ID {
			return errors.New("message too large")
		}
		return nil
	}}
	o := outbox.New(db, rec, outbox.Options{Logger: quiet, BatchSize: 16,
		PollInterval: 20 * time.Millisecond, MaxBackoff: time.Hour})
	add(t, db, o, poison)
	for i := 1; i <= 200; i++ {
		add(t, db, o, newEvent(t, i))
	}
	stop := startRelay(t, o)
	defer stop()
	waitFor(t, 15*time.Second, "every other event published", pendingIs(context.Background(), o, 1))
	if got := len(rec.Published()); got != 200 {
		t.Fatalf("published %d, want 200", got)
	}
}

// A broker that never acknowledges does not hold the relay: the publish times
// out, the rows stay unsent, and they go out once the broker answers.
func TestPublishTimeoutUnblocksTheRelay(t *testing.T) {
	db := migrated(t, pgtest.OpenSQLite(t))
	var hang atomic.Bool
	hang.Store(true)
	rec := &outboxtest.Recorder{}
	pub := hanging{rec: rec, hang: &hang}
	o := outbox.New(db, pub, outbox.Options{Logger: quiet, PollInterval: 20 * time.Millisecond,
		PublishTimeout: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	for i := range 5 {
		add(t, db, o, newEvent(t, i))
	}
	stop := startRelay(t, o)
	defer stop()
	time.Sleep(300 * time.Millisecond) // a few timed-out publishes
	if n, _ := o.Pending(context.Background()); n != 5 {
		t.Fatalf("pending = %d while the broker hangs, want 5", n)
	}
	hang.Store(false)
	waitFor(t, 10*time.Second, "all published after the broker answers", pendingIs(context.Background(), o, 0))
}

type hanging struct {
	rec  *outboxtest.Recorder
	hang *atomic.Bool
}

func (h hanging) Publish(ctx context.Context, msgs []outbox.Message) ([]error, error) {
	if h.hang.Load() {
		<-ctx.Done() // an ack that never comes
		return nil, ctx.Err()
	}
	return h.rec.Publish(ctx, msgs)
}
