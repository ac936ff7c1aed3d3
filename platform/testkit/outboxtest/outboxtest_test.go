package outboxtest_test

import (
	"context"
	"errors"
	"testing"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/testkit/outboxtest"
)

var (
	_ outbox.Publisher = outboxtest.Discard{}
	_ outbox.Publisher = (*outboxtest.Recorder)(nil)
)

func batch(ids ...string) []outbox.Message {
	msgs := make([]outbox.Message, len(ids))
	for i, id := range ids {
		msgs[i] = outbox.Message{ID: id, Subject: "test.v1.Thing"}
	}
	return msgs
}

func ids(msgs []outbox.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// Discard acknowledges every message of a batch, one result per message.
func TestDiscardAcknowledgesEveryMessage(t *testing.T) {
	errs, err := outboxtest.Discard{}.Publish(context.Background(), batch("a", "b", "c"))
	if err != nil || len(errs) != 3 || errs[0] != nil || errs[1] != nil || errs[2] != nil {
		t.Fatalf("Publish = %v, %v; want three nil results", errs, err)
	}
}

// A refused message is reported to the outbox and not recorded; the rest of
// its batch is.
func TestRecorderRecordsOnlyWhatItAcknowledged(t *testing.T) {
	refused := errors.New("too large")
	r := &outboxtest.Recorder{Refuse: func(call, _ int, m outbox.Message) error {
		if call == 1 && m.ID == "b" {
			return refused
		}
		return nil
	}}
	errs, err := r.Publish(context.Background(), batch("a", "b", "c"))
	if err != nil || errs[0] != nil || !errors.Is(errs[1], refused) || errs[2] != nil {
		t.Fatalf("first call = %v, %v; want b refused", errs, err)
	}
	if _, err := r.Publish(context.Background(), batch("b")); err != nil {
		t.Fatal(err)
	}
	if got := ids(r.Published()); len(got) != 3 || got[0] != "a" || got[1] != "c" || got[2] != "b" {
		t.Fatalf("Published = %v, want [a c b]", got)
	}
	if !r.Has("b") || r.Has("d") {
		t.Fatalf("Has(b) = %v, Has(d) = %v; want true, false", r.Has("b"), r.Has("d"))
	}
}

// A broker that is down fails the whole call and records nothing of it.
func TestRecorderDownFailsTheWholeCall(t *testing.T) {
	down := errors.New("broker down")
	r := &outboxtest.Recorder{Down: func(call int) error {
		if call == 1 {
			return down
		}
		return nil
	}}
	if _, err := r.Publish(context.Background(), batch("a")); !errors.Is(err, down) {
		t.Fatalf("first call: err = %v, want %v", err, down)
	}
	if len(r.Published()) != 0 {
		t.Fatalf("recorded %v from a failed call", ids(r.Published()))
	}
	if _, err := r.Publish(context.Background(), batch("a")); err != nil || !r.Has("a") {
		t.Fatalf("second call: err = %v, recorded %v", err, ids(r.Published()))
	}
}
