package outbox_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/testkit/pgtest"
)

// One event the broker always refuses does not slow the others down: the relay
// backs off only when nothing in a batch got through.
func TestPoisonRowDoesNotThrottleTheRest(t *testing.T) {
	db := migrated(t, pgtest.OpenSQLite(t))
	poison := newEvent(t, 0)
	rec := &recorder{}
	rec.fail = func(call, i int) error { return nil }
	o := outbox.New(db, failing{rec: rec, id: poison.ID}, outbox.Options{Logger: quiet, BatchSize: 16,
		PollInterval: 20 * time.Millisecond, MaxBackoff: time.Hour})
	add(t, db, o, poison)
	for i := 1; i <= 200; i++ {
		add(t, db, o, newEvent(t, i))
	}
	stop := startRelay(t, o)
	defer stop()
	waitFor(t, 15*time.Second, "every other event published", pendingIs(context.Background(), o, 1))
	if got := len(rec.published()); got != 200 {
		t.Fatalf("published %d, want 200", got)
	}
}

// failing refuses one message id and passes the rest to rec.
type failing struct {
	rec *recorder
	id  string
}

func (f failing) Publish(ctx context.Context, msgs []outbox.Message) ([]error, error) {
	var pass []outbox.Message
	idx := map[int]int{}
	for i, m := range msgs {
		if m.ID != f.id {
			idx[i] = len(pass)
			pass = append(pass, m)
		}
	}
	res, err := f.rec.Publish(ctx, pass)
	if err != nil {
		return nil, err
	}
	out := make([]error, len(msgs))
	for i := range msgs {
		j, ok := idx[i]
		if !ok {
			out[i] = errors.New("message too large")
			continue
		}
		out[i] = res[j]
	}
	return out, nil
}

// A broker that never acknowledges does not hold the relay: the publish times
// out, the rows stay unsent, and they go out once the broker answers.
func TestPublishTimeoutUnblocksTheRelay(t *testing.T) {
	db := migrated(t, pgtest.OpenSQLite(t))
	var hang atomic.Bool
	hang.Store(true)
	rec := &recorder{}
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
	rec  *recorder
	hang *atomic.Bool
}

func (h hanging) Publish(ctx context.Context, msgs []outbox.Message) ([]error, error) {
	if h.hang.Load() {
		<-ctx.Done() // an ack that never comes
		return nil, ctx.Err()
	}
	return h.rec.Publish(ctx, msgs)
}
