package natsx

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"trueup.dev/platform/outbox"
)

func TestPublishSetsEventHeaders(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	m := event("evt-1", "payload")
	m.Headers = map[string]string{"traceparent": traceparent, "tracestate": "vendor=1"}
	publish(t, js, m)

	got := storedMsg(t, js, 1)
	want := map[string]string{
		nats.MsgIdHdr:     "evt-1",
		HeaderEventID:     "evt-1",
		HeaderEventType:   testType,
		HeaderOccurredAt:  "2026-11-27T09:30:00.000000123Z",
		HeaderContentType: ContentTypeProtobuf,
		"traceparent":     traceparent, // verbatim: not rewritten to the producer span
		"tracestate":      "vendor=1",
	}
	for k, v := range want {
		if g := got.Header.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	if string(got.Data) != "payload" || got.Subject != testSubject {
		t.Errorf("stored %s %q, want %s %q", got.Subject, got.Data, testSubject, "payload")
	}
}

func TestPublishBatchReportsPerMessage(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	p := NewPublisher(js)
	orphan := event("evt-x", "x")
	orphan.Subject = "nostream.v1.Nothing" // no stream captures it
	batch := []outbox.Message{event("evt-1", "a"), orphan, event("evt-2", "b")}

	errs, err := p.Publish(testCtx(t), batch)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if len(errs) != len(batch) {
		t.Fatalf("got %d slots, want %d", len(errs), len(batch))
	}
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("slots 0,2 = %v, %v; want nil", errs[0], errs[2])
	}
	if errs[1] == nil {
		t.Error("slot 1 (no stream) = nil, want an error")
	}

	// The relay re-publishes after a crash: the same ids are acknowledged again
	// and JetStream stores them once.
	errs, err = p.Publish(testCtx(t), []outbox.Message{event("evt-1", "a"), event("evt-2", "b")})
	if err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatalf("re-publish: %v %v", err, errs)
	}
	st, err := js.Stream(testCtx(t), testStream)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.CachedInfo().State.Msgs; n != 2 {
		t.Errorf("stream holds %d messages, want 2", n)
	}
}

func TestPublishWithDoneContext(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	errs, err := NewPublisher(js).Publish(ctx, []outbox.Message{event("evt-1", "a")})
	if !errors.Is(err, context.Canceled) || errs != nil {
		t.Fatalf("Publish = %v, %v; want nil, context.Canceled", errs, err)
	}
}

// delayedAcks is a JetStream whose publish acknowledgements arrive late, and which
// runs onSent once a message has been handed to the connection.
type delayedAcks struct {
	jetstream.JetStream
	delay  time.Duration // negative: never acknowledge
	onSent func()
}

func (d *delayedAcks) PublishMsgAsync(m *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	fut, err := d.JetStream.PublishMsgAsync(m, opts...)
	if err != nil {
		return nil, err
	}
	d.onSent()
	late := &lateFuture{PubAckFuture: fut, ok: make(chan *jetstream.PubAck, 1), err: make(chan error, 1)}
	go func() {
		select {
		case ack := <-fut.Ok():
			if d.delay < 0 {
				return
			}
			time.Sleep(d.delay)
			late.ok <- ack
		case err := <-fut.Err():
			late.err <- err
		}
	}()
	return late, nil
}

type lateFuture struct {
	jetstream.PubAckFuture
	ok  chan *jetstream.PubAck
	err chan error
}

func (f *lateFuture) Ok() <-chan *jetstream.PubAck { return f.ok }
func (f *lateFuture) Err() <-chan error            { return f.err }

// A shutdown cancels the relay's context while acks are on their way: Publish
// still waits for them (until the deadline), so persisted events are reported
// persisted instead of being published again on the next start.
func TestPublishWaitsForAcksAfterCancel(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	p := NewPublisher(&delayedAcks{JetStream: js, delay: 50 * time.Millisecond, onSent: cancel})
	errs, err := p.Publish(ctx, []outbox.Message{event("evt-1", "a"), event("evt-2", "b")})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Errorf("slot %d = %v, want nil: the ack arrived after the cancel but before the deadline", i, e)
		}
	}
}

// The wait is still bounded by ctx's deadline.
func TestPublishGivesUpOnAcksAtTheDeadline(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	p := NewPublisher(&delayedAcks{JetStream: js, delay: -1, onSent: func() {}})
	start := time.Now()
	errs, err := p.Publish(ctx, []outbox.Message{event("evt-1", "a")})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[0], context.DeadlineExceeded) {
		t.Errorf("slot 0 = %v, want the deadline", errs[0])
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("waited %v for an ack that never comes", waited)
	}
}
