package natsx

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

func TestReplayDeadLetter(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	var fixed atomic.Bool
	processed := make(chan *Message, 1)
	startConsumer(t, js, ConsumerConfig{}, func(ctx context.Context, m *Message) error {
		if !fixed.Load() {
			return Permanent(errors.New("unknown account 1400"))
		}
		processed <- m
		return nil
	})
	publish(t, js, event("evt-1", "data"))

	var dls []DeadLetter
	eventually(t, "a dead letter", func() bool {
		dls = deadLetters(t, js, "worker")
		return len(dls) == 1
	})

	fixed.Store(true) // the operator fixes the cause, then replays
	if err := ReplayDeadLetter(testCtx(t), js, dls[0].Seq); err != nil {
		t.Fatalf("replay: %v", err)
	}
	select {
	case m := <-processed:
		if m.EventID != "evt-1" || string(m.Data) != "data" || m.Type != testType || m.StreamSeq != 2 {
			t.Errorf("replayed message = %+v; want evt-1 stored again as seq 2", m)
		}
		if got := m.Headers.Get("Nats-Msg-Id"); !strings.HasPrefix(got, "evt-1-replay-") {
			t.Errorf("replayed Nats-Msg-Id = %q, want a fresh evt-1-replay-… id", got)
		}
		for k := range m.Headers {
			if strings.HasPrefix(k, "Trueup-Dlq-") {
				t.Errorf("replayed message carries %s", k)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("replayed message was not delivered")
	}
	if dls := deadLetters(t, js, ""); len(dls) != 0 {
		t.Errorf("dead letters after replay = %+v, want none", dls)
	}
	err := ReplayDeadLetter(testCtx(t), js, dls[0].Seq)
	if !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("second replay = %v, want not found", err)
	}
}

func TestListDeadLettersFiltersByDurable(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	fail := func(context.Context, *Message) error { return Permanent(errors.New("no")) }
	startConsumer(t, js, ConsumerConfig{Durable: "alpha"}, fail)
	startConsumer(t, js, ConsumerConfig{Durable: "beta"}, fail)
	publish(t, js, event("evt-1", "a"), event("evt-2", "b"))

	eventually(t, "four dead letters", func() bool { return len(deadLetters(t, js, "")) == 4 })
	for _, durable := range []string{"alpha", "beta"} {
		dls := deadLetters(t, js, durable)
		if len(dls) != 2 {
			t.Fatalf("%s: %d dead letters, want 2", durable, len(dls))
		}
		for _, dl := range dls {
			if dl.Durable != durable {
				t.Errorf("%s: listed %+v", durable, dl)
			}
		}
		if dls[0].Seq >= dls[1].Seq {
			t.Errorf("%s: not oldest first: %d, %d", durable, dls[0].Seq, dls[1].Seq)
		}
	}
	if dls := deadLetters(t, js, "gamma"); len(dls) != 0 {
		t.Errorf("gamma: %+v, want none", dls)
	}
}

func TestListDeadLettersWithoutDLQStream(t *testing.T) {
	t.Parallel()
	js := newJS(t) // no consumer yet, so no DLQ stream
	if dls := deadLetters(t, js, ""); len(dls) != 0 {
		t.Errorf("dead letters = %+v, want none", dls)
	}
	if err := ReplayDeadLetter(testCtx(t), js, 1); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("replay without DLQ = %v, want not found", err)
	}
}
