package natsx

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/testkit/natstest"
)

const (
	testStream  = "EVENTS"
	testSubject = "test.v1.ThingHappened"
	testType    = "trueup.test.v1.ThingHappened"
)

// newJS starts an embedded server with a test stream and returns a JetStream
// context on an in-process connection; both are closed when the test ends.
// The connection is ConnectEmbedded's, so the tests run with the reconnect
// policy the services use.
func newJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	nc, err := ConnectEmbedded(natstest.Server(t), t.Name())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js := natstest.JetStreamOn(t, nc)
	if _, err := EnsureStream(testCtx(t), js, StreamConfig(testStream, []string{"test.>"})); err != nil {
		t.Fatalf("ensure stream: %v", err)
	}
	return js
}

// testCtx is a context bounded well below the test timeout, so a hang fails fast.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// publish publishes events through the Publisher and fails the test on any error.
func publish(t *testing.T, js jetstream.JetStream, msgs ...outbox.Message) {
	t.Helper()
	errs, err := NewPublisher(js).Publish(testCtx(t), msgs)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("publish message %d: %v", i, e)
		}
	}
}

func event(id string, data string) outbox.Message {
	return outbox.Message{
		ID:         id,
		Subject:    testSubject,
		Type:       testType,
		Payload:    []byte(data),
		OccurredAt: time.Date(2026, 11, 27, 9, 30, 0, 123, time.UTC),
	}
}

// startConsumer runs Consume with fast test settings unless cfg overrides them,
// and stops it when the test ends.
func startConsumer(t *testing.T, js jetstream.JetStream, cfg ConsumerConfig, h Handler) *Consumer {
	t.Helper()
	if cfg.Stream == "" {
		cfg.Stream = testStream
	}
	if cfg.Durable == "" {
		cfg.Durable = "worker"
	}
	if cfg.Backoff == nil {
		cfg.Backoff = []time.Duration{10 * time.Millisecond}
	}
	c, err := Consume(testCtx(t), js, cfg, h)
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("stop consumer: %v", err)
		}
	})
	return c
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func deadLetters(t *testing.T, js jetstream.JetStream, durable string) []DeadLetter {
	t.Helper()
	dls, err := ListDeadLetters(testCtx(t), js, durable)
	if err != nil {
		t.Fatalf("list dead letters: %v", err)
	}
	return dls
}

func consumerInfo(t *testing.T, js jetstream.JetStream, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := js.Consumer(testCtx(t), testStream, durable)
	if err != nil {
		t.Fatalf("consumer %s: %v", durable, err)
	}
	info, err := c.Info(testCtx(t))
	if err != nil {
		t.Fatalf("consumer info %s: %v", durable, err)
	}
	return info
}

// storedMsg reads a message of the test stream by sequence.
func storedMsg(t *testing.T, js jetstream.JetStream, seq uint64) *jetstream.RawStreamMsg {
	t.Helper()
	st, err := js.Stream(testCtx(t), testStream)
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	m, err := st.GetMsg(testCtx(t), seq)
	if err != nil {
		t.Fatalf("get msg %d: %v", seq, err)
	}
	return m
}
