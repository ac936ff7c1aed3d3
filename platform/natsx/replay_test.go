package natsx

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/inbox"
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
		// The handler sees the event as on its first delivery.
		if m.EventID != "evt-1" || string(m.Data) != "data" || m.Type != testType || m.Subject != testSubject ||
			m.Stream != testStream || m.StreamSeq != 1 || !m.Replay {
			t.Errorf("replayed message = %+v; want evt-1 from EVENTS seq 1, marked a replay", m)
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
	// The event stream is untouched: the replay did not go through it.
	if n := streamMsgs(t, js, testStream); n != 1 {
		t.Errorf("%s holds %d messages after the replay, want 1", testStream, n)
	}
	// The processed replay leaves the replay stream (a work queue).
	eventually(t, "the replay stream emptied", func() bool { return streamMsgs(t, js, ReplayStream) == 0 })
	err := ReplayDeadLetter(testCtx(t), js, dls[0].Seq)
	if !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("second replay = %v, want not found", err)
	}
}

func TestReplayWithoutDLQStreamIsNotFound(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	if err := ReplayDeadLetter(testCtx(t), js, 1); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("replay without DLQ = %v, want not found", err)
	}
}

func streamMsgs(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	st, err := js.Stream(testCtx(t), name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := st.Info(testCtx(t))
	if err != nil {
		t.Fatalf("stream %s info: %v", name, err)
	}
	return info.State.Msgs
}

// Two durables read the same subject; only one fails. Its replay reaches it alone:
// the durable that processed the event is not handed it again.
func TestReplayReachesOnlyTheFailedDurable(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	var fixed atomic.Bool
	var healthyCalls, failingCalls atomic.Int64
	replayed := make(chan *Message, 1)
	startConsumer(t, js, ConsumerConfig{Durable: "healthy"}, func(context.Context, *Message) error {
		healthyCalls.Add(1)
		return nil
	})
	startConsumer(t, js, ConsumerConfig{Durable: "failing"}, func(_ context.Context, m *Message) error {
		failingCalls.Add(1)
		if !fixed.Load() {
			return Permanent(errors.New("unknown account"))
		}
		replayed <- m
		return nil
	})
	publish(t, js, event("evt-1", "data"))
	var dls []DeadLetter
	eventually(t, "the failing durable's dead letter", func() bool {
		dls = deadLetters(t, js, "")
		return len(dls) == 1
	})
	if dls[0].Durable != "failing" {
		t.Fatalf("dead letter = %+v, want failing's", dls[0])
	}
	eventually(t, "healthy to process the event", func() bool { return healthyCalls.Load() == 1 })

	fixed.Store(true)
	if err := ReplayDeadLetter(testCtx(t), js, dls[0].Seq); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-replayed:
		if m.EventID != "evt-1" || !m.Replay {
			t.Errorf("replayed %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the failed durable did not get the replay")
	}
	eventually(t, "the replay acknowledged", func() bool { return streamMsgs(t, js, ReplayStream) == 0 })
	time.Sleep(100 * time.Millisecond) // ten times the test backoff, for a stray delivery
	if n := healthyCalls.Load(); n != 1 {
		t.Errorf("healthy durable ran %d times, want 1: the replay fanned out", n)
	}
	if n := failingCalls.Load(); n != 2 {
		t.Errorf("failing durable ran %d times, want 2", n)
	}
}

// poisonAll dead-letters every event for each durable and returns once n dead
// letters are stored.
func poisonAll(t *testing.T, js jetstream.JetStream, n int, durables ...string) {
	t.Helper()
	for _, d := range durables {
		startConsumer(t, js, ConsumerConfig{Durable: d}, func(_ context.Context, m *Message) error {
			if m.Replay {
				return nil
			}
			return Permanent(errors.New("poison"))
		})
	}
	eventually(t, "the dead letters", func() bool { return len(deadLetters(t, js, "")) == n })
}

func TestReplayDeadLettersFiltered(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	publish(t, js, event("evt-1", "a"), event("evt-2", "b"), event("evt-3", "c"))
	poisonAll(t, js, 6, "alpha", "beta")
	ctx := testCtx(t)

	// By durable.
	done, err := ReplayDeadLetters(ctx, js, DeadLetterFilter{Durable: "alpha"}, ReplayOptions{})
	if err != nil || len(done) != 3 {
		t.Fatalf("replay alpha = %v, %v; want 3", done, err)
	}
	left := deadLetters(t, js, "")
	if len(left) != 3 || slices.ContainsFunc(left, func(d DeadLetter) bool { return d.Durable != "beta" }) {
		t.Fatalf("left after replaying alpha = %+v, want beta's three", left)
	}
	// By event id, then by sequence.
	done, err = ReplayDeadLetters(ctx, js, DeadLetterFilter{EventID: "evt-2"}, ReplayOptions{})
	if err != nil || len(done) != 1 {
		t.Fatalf("replay evt-2 = %v, %v; want 1", done, err)
	}
	left = deadLetters(t, js, "")
	if len(left) != 2 || left[0].EventID != "evt-1" || left[1].EventID != "evt-3" {
		t.Fatalf("left = %+v, want beta's evt-1 and evt-3", left)
	}
	// A missing sequence among the selected ones replays nothing.
	_, err = ReplayDeadLetters(ctx, js, DeadLetterFilter{Seqs: []uint64{left[0].Seq, 999}}, ReplayOptions{})
	if !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("replay with an unknown seq = %v, want not found", err)
	}
	if n := len(deadLetters(t, js, "")); n != 2 {
		t.Fatalf("%d dead letters after a refused replay, want 2", n)
	}
	// All.
	done, err = ReplayDeadLetters(ctx, js, DeadLetterFilter{}, ReplayOptions{})
	if err != nil || len(done) != 2 {
		t.Fatalf("replay all = %v, %v; want 2", done, err)
	}
	eventually(t, "every replay processed", func() bool { return streamMsgs(t, js, ReplayStream) == 0 })
	if dls := deadLetters(t, js, ""); len(dls) != 0 {
		t.Errorf("dead letters left: %+v", dls)
	}
}

// A dead letter older than the inbox retention is not replayed without Force: the
// consumers' inboxes may have forgotten the event.
func TestReplayRefusesDeadLettersOlderThanTheInboxRetention(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	publish(t, js, event("evt-1", "a"), event("evt-2", "b"))
	poisonAll(t, js, 2, "worker")
	ctx := testCtx(t)
	dls := deadLetters(t, js, "")
	later := func() time.Time { return dls[0].At.Add(inbox.Retention) }

	_, err := ReplayDeadLetters(ctx, js, DeadLetterFilter{}, ReplayOptions{Now: later})
	if apperr.KindOf(err) != apperr.KindFailedPrecondition || !strings.Contains(err.Error(), "older than") {
		t.Fatalf("replay of old dead letters = %v, want a precondition failure", err)
	}
	if n := len(deadLetters(t, js, "")); n != 2 {
		t.Fatalf("%d dead letters after the refusal, want 2 (nothing replayed)", n)
	}
	// Younger than the limit, they replay.
	young := func() time.Time { return dls[0].At.Add(ReplayMaxAge - time.Hour) }
	if _, err := ReplayDeadLetters(ctx, js, DeadLetterFilter{Seqs: []uint64{dls[0].Seq}}, ReplayOptions{Now: young}); err != nil {
		t.Fatalf("replay of a young dead letter: %v", err)
	}
	// Forced, an old one does too.
	if _, err := ReplayDeadLetters(ctx, js, DeadLetterFilter{}, ReplayOptions{Now: later, Force: true}); err != nil {
		t.Fatalf("forced replay: %v", err)
	}
	if dls := deadLetters(t, js, ""); len(dls) != 0 {
		t.Errorf("dead letters left: %+v", dls)
	}
}

func TestDLQKeepsDeadLettersLessThanTheInboxRetention(t *testing.T) {
	t.Parallel()
	if got := DLQStreamConfig().MaxAge; got <= 0 || got >= inbox.Retention {
		t.Errorf("DLQ MaxAge = %v, want positive and below the inbox retention %v", got, inbox.Retention)
	}
	if ReplayMaxAge >= inbox.Retention {
		t.Errorf("ReplayMaxAge = %v, want below the inbox retention %v", ReplayMaxAge, inbox.Retention)
	}
}
