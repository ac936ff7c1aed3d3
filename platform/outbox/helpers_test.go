package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/natstest"
	"trueup.dev/platform/testkit/pgtest"
)

func TestMain(m *testing.M) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	os.Exit(pgtest.Run(m))
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// migrated returns db with the outbox schema (migrated twice: the second
// run must be a no-op).
func migrated(tb testing.TB, db *sqldb.DB) *sqldb.DB {
	tb.Helper()
	for range 2 {
		if err := outbox.Migrate(context.Background(), db); err != nil {
			tb.Fatal(err)
		}
	}
	return db
}

// startJetStream runs an embedded NATS server with JetStream and a stream
// "EVENTS" on "test.>", and returns a JetStream client. It dials the server
// over TCP rather than in-process because the benchmarks measure the relay
// against a broker across a socket, as in production.
func startJetStream(tb testing.TB) (jetstream.JetStream, jetstream.Stream) {
	tb.Helper()
	s := natstest.Server(tb)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js := natstest.JetStreamOn(tb, nc)
	stream, err := js.CreateStream(context.Background(), jetstream.StreamConfig{
		Name:     "EVENTS",
		Subjects: []string{"test.>"},
		// The default duplicate window (2 minutes) covers the test.
	})
	if err != nil {
		tb.Fatal(err)
	}
	return js, stream
}

// jsPublisher publishes a batch asynchronously with Nats-Msg-Id = ID and
// waits for every acknowledgement: a stand-in for natsx's Publisher.
type jsPublisher struct{ js jetstream.JetStream }

func (p jsPublisher) Publish(ctx context.Context, msgs []outbox.Message) ([]error, error) {
	results := make([]error, len(msgs))
	futures := make([]jetstream.PubAckFuture, len(msgs))
	for i, m := range msgs {
		nm := nats.NewMsg(m.Subject)
		nm.Data = m.Payload
		for k, v := range m.Headers {
			nm.Header[k] = []string{v}
		}
		nm.Header[jetstream.MsgIDHeader] = []string{m.ID}
		futures[i], results[i] = p.js.PublishMsgAsync(nm)
	}
	for i, f := range futures {
		if results[i] != nil {
			continue
		}
		select {
		case <-f.Ok():
		case err := <-f.Err():
			results[i] = err
		case <-ctx.Done():
			results[i] = ctx.Err()
		}
	}
	return results, nil
}

func newEvent(tb testing.TB, n int) outbox.Message {
	tb.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		tb.Fatal(err)
	}
	return outbox.Message{
		ID:      id.String(),
		Subject: fmt.Sprintf("test.v1.Event%d", n%3),
		Type:    "trueup.test.v1.Event",
		Payload: []byte(fmt.Sprintf("event %d", n)),
	}
}

// add writes msgs in one transaction.
func add(tb testing.TB, db *sqldb.DB, o *outbox.Outbox, msgs ...outbox.Message) {
	tb.Helper()
	err := db.WithTx(context.Background(), func(tx *sqldb.Tx) error {
		return o.Add(context.Background(), tx, msgs...)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// startRelay runs o.Run until the returned stop is called (or the test
// ends); stop waits for Run to return and fails the test if it erred.
func startRelay(tb testing.TB, o *outbox.Outbox) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				tb.Error("Run did not return after its context ended")
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			tb.Fatal(err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func pendingIs(ctx context.Context, o *outbox.Outbox, want int) func() (bool, error) {
	return func() (bool, error) {
		n, err := o.Pending(ctx)
		return n == want, err
	}
}

var errBrokerDown = errors.New("broker down")
