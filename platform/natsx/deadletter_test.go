package natsx

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
	"trueup.dev/platform/inbox"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

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
			if dl.Durable != durable || dl.Stream != testStream {
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
}

// Two streams with consumers of the same durable name (a ledger reading INVENTORY
// and ORDERS) dead-letter message 1 of each: neither dead letter may be taken for
// a duplicate of the other and lost.
func TestSameDurableOnTwoStreamsKeepsBothDeadLetters(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	if _, err := EnsureStream(testCtx(t), js, StreamConfig("OTHER", []string{"other.>"})); err != nil {
		t.Fatal(err)
	}
	fail := func(context.Context, *Message) error { return Permanent(errors.New("poison")) }
	startConsumer(t, js, ConsumerConfig{Stream: testStream, Durable: "ledger"}, fail)
	startConsumer(t, js, ConsumerConfig{Stream: "OTHER", Durable: "ledger"}, fail)
	other := event("evt-other", "o")
	other.Subject = "other.v1.ThingHappened"
	publish(t, js, event("evt-events", "e"), other) // both are seq 1 of their stream

	eventually(t, "both source messages settled", func() bool {
		for _, stream := range []string{testStream, "OTHER"} {
			c, err := js.Consumer(testCtx(t), stream, "ledger")
			if err != nil {
				t.Fatal(err)
			}
			info, err := c.Info(testCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			if info.AckFloor.Stream != 1 {
				return false
			}
		}
		return true
	})
	dls := deadLetters(t, js, "ledger")
	if len(dls) != 2 {
		t.Fatalf("dead letters = %+v, want one per stream", dls)
	}
	got := map[string]string{}
	for _, dl := range dls {
		got[dl.Stream] = dl.EventID
		if dl.Durable != "ledger" || dl.StreamSeq != 1 {
			t.Errorf("dead letter %+v", dl)
		}
	}
	if got[testStream] != "evt-events" || got["OTHER"] != "evt-other" {
		t.Errorf("dead letters by stream = %v", got)
	}
	f := DeadLetterFilter{Stream: "OTHER", Durable: "ledger"}
	if dls, err := FindDeadLetters(testCtx(t), js, f); err != nil || len(dls) != 1 || dls[0].EventID != "evt-other" {
		t.Errorf("FindDeadLetters(%+v) = %+v, %v; want evt-other only", f, dls, err)
	}
}

// ensureShortDedupeDLQ creates the DLQ with a short duplicate window, so a test
// can see what happens after it.
func ensureShortDedupeDLQ(t *testing.T, js jetstream.JetStream, window time.Duration) {
	t.Helper()
	cfg := DLQStreamConfig()
	cfg.Duplicates = window
	if _, err := js.CreateStream(testCtx(t), cfg); err != nil {
		t.Fatal(err)
	}
}

// storeDeadLetter publishes a dead letter by hand, as if dead-lettered earlier.
func storeDeadLetter(t *testing.T, js jetstream.JetStream, subject, msgID string, hdr map[string]string) {
	t.Helper()
	m := nats.NewMsg(subject)
	m.Data = []byte("stored")
	if msgID != "" {
		m.Header.Set(nats.MsgIdHdr, msgID)
	}
	for k, v := range hdr {
		m.Header.Set(k, v)
	}
	if _, err := js.PublishMsg(testCtx(t), m); err != nil {
		t.Fatal(err)
	}
}

// A duplicate ack from the DLQ means "already parked" only if the stored copy is
// this message: a different message under the same id must not make the consumer
// terminate the source message.
func TestDuplicateDeadLetterOfAnotherMessageIsNotTrusted(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	ensureShortDedupeDLQ(t, js, 300*time.Millisecond)
	storeDeadLetter(t, js, DeadLetterSubject(testStream, "worker"), "dlq.EVENTS.worker.1", map[string]string{
		HeaderEventID: "evt-someone-else", HeaderDLQStream: testStream, HeaderDLQStreamSeq: "1",
	})
	startConsumer(t, js, ConsumerConfig{Backoff: []time.Duration{50 * time.Millisecond}},
		func(context.Context, *Message) error { return Permanent(errors.New("poison")) })
	publish(t, js, event("evt-1", "data"))

	// Once the window has passed, the real dead letter is stored beside the other.
	eventually(t, "evt-1 dead-lettered", func() bool {
		return slices.ContainsFunc(deadLetters(t, js, "worker"), func(d DeadLetter) bool { return d.EventID == "evt-1" })
	})
	eventually(t, "evt-1 settled", func() bool { return consumerInfo(t, js, "worker").AckFloor.Stream == 1 })
}

// The same delivery dead-lettered twice (the first Term was lost) is stored once.
func TestDuplicateDeadLetterOfTheSameMessageIsTerminated(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	ensureShortDedupeDLQ(t, js, time.Minute)
	storeDeadLetter(t, js, DeadLetterSubject(testStream, "worker"), "dlq.EVENTS.worker.1", map[string]string{
		HeaderEventID: "evt-1", HeaderDLQStream: testStream, HeaderDLQStreamSeq: "1",
	})
	startConsumer(t, js, ConsumerConfig{}, func(context.Context, *Message) error { return Permanent(errors.New("poison")) })
	publish(t, js, event("evt-1", "data"))
	eventually(t, "evt-1 settled", func() bool {
		info := consumerInfo(t, js, "worker")
		return info.AckFloor.Stream == 1 && info.NumAckPending == 0
	})
	if dls := deadLetters(t, js, ""); len(dls) != 1 || string(dls[0].Data) != "stored" {
		t.Errorf("dead letters = %+v, want only the stored copy", dls)
	}
}

// Dead letters written before the stream was part of the subject ("dlq.<durable>")
// are still listed, with the stream from their header.
func TestListDeadLettersReadsOldSubjects(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	if err := ensureDLQ(testCtx(t), js); err != nil {
		t.Fatal(err)
	}
	storeDeadLetter(t, js, DLQSubjectPrefix+"worker", "dlq-worker-7", map[string]string{
		HeaderEventID: "evt-old", HeaderDLQStream: testStream, HeaderDLQStreamSeq: "7",
		HeaderDLQSubject: testSubject, HeaderDLQAt: time.Now().UTC().Format(time.RFC3339Nano),
	})
	for _, f := range []DeadLetterFilter{{}, {Durable: "worker"}, {Stream: testStream}, {EventID: "evt-old"}} {
		dls, err := FindDeadLetters(testCtx(t), js, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(dls) != 1 || dls[0].Durable != "worker" || dls[0].Stream != testStream || dls[0].StreamSeq != 7 {
			t.Errorf("FindDeadLetters(%+v) = %+v, want the old dead letter", f, dls)
		}
	}
	// Replayed, it reaches the durable like a new one.
	got := make(chan *Message, 1)
	startConsumer(t, js, ConsumerConfig{}, func(_ context.Context, m *Message) error { got <- m; return nil })
	if err := ReplayDeadLetter(testCtx(t), js, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m.EventID != "evt-old" || m.Subject != testSubject || m.StreamSeq != 7 || !m.Replay {
			t.Errorf("replayed = %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("old dead letter not replayed")
	}
}

func TestDeadLetterFilterMatch(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	d := DeadLetter{Seq: 4, Stream: "ORDERS", Durable: "ledger", Subject: "orders.v1.X", EventID: "e1", At: at}
	tests := []struct {
		name string
		f    DeadLetterFilter
		want bool
	}{
		{"zero", DeadLetterFilter{}, true},
		{"seq", DeadLetterFilter{Seqs: []uint64{3, 4}}, true},
		{"other seq", DeadLetterFilter{Seqs: []uint64{5}}, false},
		{"stream and durable", DeadLetterFilter{Stream: "ORDERS", Durable: "ledger"}, true},
		{"other stream", DeadLetterFilter{Stream: "INVENTORY", Durable: "ledger"}, false},
		{"other durable", DeadLetterFilter{Durable: "orders"}, false},
		{"subject", DeadLetterFilter{Subject: "orders.v1.X"}, true},
		{"other event", DeadLetterFilter{EventID: "e2"}, false},
		{"since, inclusive", DeadLetterFilter{Since: at}, true},
		{"since later", DeadLetterFilter{Since: at.Add(time.Second)}, false},
		{"until, exclusive", DeadLetterFilter{Until: at}, false},
		{"until later", DeadLetterFilter{Until: at.Add(time.Second)}, true},
	}
	for _, tt := range tests {
		if got := tt.f.Match(d); got != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestDLQMaxAgeIsShorterThanTheInbox: a dead letter must expire while every
// consumer's inbox still remembers the events it applied, or a replay could
// apply one twice.
func TestDLQMaxAgeIsShorterThanTheInbox(t *testing.T) {
	if DLQMaxAge >= inbox.Retention {
		t.Errorf("DLQMaxAge %v is not shorter than inbox.Retention %v", DLQMaxAge, inbox.Retention)
	}
}
