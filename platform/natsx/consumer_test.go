package natsx

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestPermanent(t *testing.T) {
	t.Parallel()
	base := errors.New("bad payload")
	err := Permanent(fmt.Errorf("decode: %w", base))
	if !errors.Is(err, ErrPermanent) || !errors.Is(err, base) {
		t.Errorf("Permanent error does not match ErrPermanent and its cause: %v", err)
	}
	if err.Error() != "decode: bad payload" {
		t.Errorf("text = %q, want the cause's text unchanged", err.Error())
	}
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	if wrapped := fmt.Errorf("handler: %w", err); !errors.Is(wrapped, ErrPermanent) {
		t.Error("wrapping a Permanent error loses it")
	}
}

func TestConsumerConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  ConsumerConfig
	}{
		{"no stream", ConsumerConfig{Durable: "d"}},
		{"no durable", ConsumerConfig{Stream: "S"}},
		{"dotted durable", ConsumerConfig{Stream: "S", Durable: "a.b"}},
		{"wildcard durable", ConsumerConfig{Stream: "S", Durable: "a*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.cfg.withDefaults(); err == nil {
				t.Error("invalid config accepted")
			}
		})
	}
}

func TestBackoffPerAttempt(t *testing.T) {
	t.Parallel()
	cfg, err := ConsumerConfig{Stream: "S", Durable: "d"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		attempt uint64
		want    time.Duration
	}{
		{0, 100 * time.Millisecond}, // defensive: never an index out of range
		{1, 100 * time.Millisecond},
		{2, 500 * time.Millisecond},
		{3, 2 * time.Second},
		{4, 5 * time.Second},
		{9, 5 * time.Second}, // the last delay repeats
	}
	for _, tt := range tests {
		if got := cfg.backoff(tt.attempt); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
	if cfg.MaxDeliver != 5 || cfg.AckWait != 30*time.Second || cfg.Concurrency != 1 || cfg.Logger == nil {
		t.Errorf("defaults not applied: %+v", cfg)
	}
}

// TestFailureHandling drives one message through handlers that fail in different
// ways and checks how often it was delivered and whether it was dead-lettered.
func TestFailureHandling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		maxDeliver int
		// fail returns the handler's outcome for the given attempt (1-based).
		fail          func(attempt uint64) error
		wantCalls     int
		wantDLQ       bool
		wantErrSubstr string
	}{
		{
			name:       "fails twice then succeeds",
			maxDeliver: 5,
			fail: func(n uint64) error {
				if n <= 2 {
					return errors.New("db busy")
				}
				return nil
			},
			wantCalls: 3,
		},
		{
			name:          "always fails",
			maxDeliver:    3,
			fail:          func(uint64) error { return errors.New("ledger account missing") },
			wantCalls:     3,
			wantDLQ:       true,
			wantErrSubstr: "ledger account missing",
		},
		{
			name:          "permanent",
			maxDeliver:    5,
			fail:          func(uint64) error { return Permanent(errors.New("undecodable payload")) },
			wantCalls:     1,
			wantDLQ:       true,
			wantErrSubstr: "undecodable payload",
		},
		{
			name:          "panics",
			maxDeliver:    2,
			fail:          func(uint64) error { panic("nil map") },
			wantCalls:     2,
			wantDLQ:       true,
			wantErrSubstr: "handler panicked: nil map",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			js := newJS(t)
			var (
				calls     atomic.Int64
				succeeded = make(chan *Message, 1)
			)
			startConsumer(t, js, ConsumerConfig{MaxDeliver: tt.maxDeliver}, func(ctx context.Context, m *Message) error {
				calls.Add(1)
				if err := tt.fail(m.NumDelivered); err != nil {
					return err
				}
				succeeded <- m
				return nil
			})
			m := event("evt-1", "data")
			m.Headers = map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
			publish(t, js, m)

			if tt.wantDLQ {
				var dls []DeadLetter
				eventually(t, "a dead letter", func() bool {
					dls = deadLetters(t, js, "worker")
					return len(dls) > 0
				})
				dl := dls[0]
				if !strings.Contains(dl.Error, tt.wantErrSubstr) {
					t.Errorf("dead letter error = %q, want it to contain %q", dl.Error, tt.wantErrSubstr)
				}
				if dl.Delivered != tt.wantCalls || dl.Durable != "worker" || dl.Subject != testSubject ||
					dl.EventID != "evt-1" || dl.Type != testType || string(dl.Data) != "data" ||
					dl.Stream != testStream || dl.StreamSeq != 1 || time.Since(dl.At) > time.Minute {
					t.Errorf("dead letter = %+v", dl)
				}
				if got := dl.Headers.Get("traceparent"); got != m.Headers["traceparent"] {
					t.Errorf("dead letter lost the trace context: %q", got)
				}
				if got := dl.Headers.Get("Nats-Msg-Id"); got != "dlq.EVENTS.worker.1" {
					t.Errorf("dead letter Nats-Msg-Id = %q, want dlq.EVENTS.worker.1", got)
				}
			} else {
				select {
				case got := <-succeeded:
					if got.NumDelivered != uint64(tt.wantCalls) || got.EventID != "evt-1" || got.Type != testType ||
						string(got.Data) != "data" || got.Stream != testStream || got.StreamSeq != 1 {
						t.Errorf("processed message = %+v", got)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("message never processed")
				}
			}

			// Whatever happened, the message is settled: no redelivery follows.
			eventually(t, "the message to be settled", func() bool {
				info := consumerInfo(t, js, "worker")
				return info.NumAckPending == 0 && info.NumRedelivered == 0 && info.AckFloor.Stream == 1
			})
			time.Sleep(100 * time.Millisecond) // 10x the retry backoff
			if got := calls.Load(); got != int64(tt.wantCalls) {
				t.Errorf("handler called %d times, want %d", got, tt.wantCalls)
			}
			if !tt.wantDLQ {
				if dls := deadLetters(t, js, ""); len(dls) != 0 {
					t.Errorf("dead letters = %+v, want none", dls)
				}
			}
		})
	}
}

func TestStopWaitsForInFlightHandler(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	started := make(chan struct{})
	release := make(chan struct{})
	var finished atomic.Bool
	c := startConsumer(t, js, ConsumerConfig{}, func(ctx context.Context, m *Message) error {
		close(started)
		<-release // ignores ctx on purpose: Stop must wait anyway
		finished.Store(true)
		return nil
	})
	publish(t, js, event("evt-1", "a"))
	<-started

	stopped := make(chan error, 1)
	go func() { stopped <- c.Stop(testCtx(t)) }()
	select {
	case err := <-stopped:
		t.Fatalf("Stop returned (%v) while a handler was running", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Stop: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return after the handler finished")
	}
	if !finished.Load() {
		t.Error("Stop returned before the handler finished")
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	if err := c.Stop(testCtx(t)); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	// The in-flight message was acknowledged, not abandoned.
	if info := consumerInfo(t, js, "worker"); info.NumAckPending != 0 || info.AckFloor.Stream != 1 {
		t.Errorf("after Stop: ack pending %d, ack floor %d; want 0, 1", info.NumAckPending, info.AckFloor.Stream)
	}
}

func TestStopDeadlineCancelsHandlers(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	started := make(chan struct{})
	handlerCtxErr := make(chan error, 1)
	c := startConsumer(t, js, ConsumerConfig{}, func(ctx context.Context, m *Message) error {
		close(started)
		<-ctx.Done()
		handlerCtxErr <- ctx.Err()
		return ctx.Err()
	})
	publish(t, js, event("evt-1", "a"))
	<-started

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := c.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want deadline exceeded", err)
	}
	select {
	case err := <-handlerCtxErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler ctx err = %v, want canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler context was not cancelled")
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("consumer did not finish after its handlers returned")
	}
}

// TestStopHandsBackUnstartedMessages checks that messages fetched but not started
// when Stop is called are returned to the server at once, so the next consumer gets
// them without waiting for AckWait (30s here).
func TestStopHandsBackUnstartedMessages(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	started := make(chan struct{}, 3)
	release := make(chan struct{})
	c := startConsumer(t, js, ConsumerConfig{}, func(ctx context.Context, m *Message) error {
		started <- struct{}{}
		<-release
		return nil
	})
	publish(t, js, event("evt-1", "a"), event("evt-2", "b"), event("evt-3", "c"))
	<-started
	stopped := make(chan error, 1)
	go func() { stopped <- c.Stop(testCtx(t)) }()
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}

	var mu sync.Mutex
	delivered := map[string]uint64{} // event id → NumDelivered seen by the new consumer
	startConsumer(t, js, ConsumerConfig{}, func(ctx context.Context, m *Message) error {
		mu.Lock()
		defer mu.Unlock()
		delivered[m.EventID] = m.NumDelivered
		return nil
	})
	start := time.Now()
	eventually(t, "the remaining messages", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return delivered["evt-2"] > 0 && delivered["evt-3"] > 0
	})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("remaining messages took %v: they were not handed back", d)
	}
	mu.Lock()
	defer mu.Unlock()
	// Whether evt-2 was prefetched with evt-1 depends on timing, so its delivery
	// count is not asserted; the 5s bound above (well under the 30s AckWait) is
	// what shows prefetched messages are handed back rather than left to expire.
	if _, again := delivered["evt-1"]; again {
		t.Error("evt-1, acknowledged before Stop returned, was delivered again")
	}
}

func TestConcurrency(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	const n = 3
	var running atomic.Int64
	all := make(chan struct{})
	var once sync.Once
	startConsumer(t, js, ConsumerConfig{Concurrency: n}, func(ctx context.Context, m *Message) error {
		if running.Add(1) == n {
			once.Do(func() { close(all) })
		}
		select {
		case <-all: // every handler waits until n run at the same time
			return nil
		case <-time.After(5 * time.Second):
			return Permanent(errors.New("handlers did not run concurrently"))
		}
	})
	publish(t, js, event("evt-1", "a"), event("evt-2", "b"), event("evt-3", "c"))
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatalf("only %d handlers ran at once, want %d", running.Load(), n)
	}
}

func TestCancelledContextStopsConsumer(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	ctx, cancel := context.WithCancel(t.Context())
	c, err := Consume(ctx, js, ConsumerConfig{Stream: testStream, Durable: "worker"},
		func(context.Context, *Message) error { return nil })
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	cancel()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("consumer kept running after its context was cancelled")
	}
	if err := c.Stop(testCtx(t)); err != nil {
		t.Errorf("Stop after cancel: %v", err)
	}
}

// TestSlowHandlerIsNotRedelivered checks that a handler running longer than AckWait
// keeps its message (the runner extends the deadline) instead of a second worker
// getting it too.
func TestSlowHandlerIsNotRedelivered(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	var calls atomic.Int64
	done := make(chan struct{})
	startConsumer(t, js, ConsumerConfig{AckWait: 300 * time.Millisecond, Concurrency: 2},
		func(ctx context.Context, m *Message) error {
			if calls.Add(1) == 1 {
				time.Sleep(time.Second) // over three AckWaits
				close(done)
			}
			return nil
		})
	publish(t, js, event("evt-1", "a"))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not finish")
	}
	time.Sleep(100 * time.Millisecond)
	if got := calls.Load(); got != 1 {
		t.Errorf("handler called %d times, want 1", got)
	}
}

// A message that comes back past MaxDeliver without ever failing in a handler
// (the process handling it crashed each time) is parked, not run again.
func TestRedeliveryPastMaxDeliverIsDeadLetteredUnrun(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	ctx := testCtx(t)
	first := startConsumer(t, js, ConsumerConfig{MaxDeliver: 2}, func(context.Context, *Message) error { return nil })
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	publish(t, js, event("evt-crash", "boom"))
	// Five deliveries (more than twice MaxDeliver) that end without an outcome,
	// as when the process handling them dies each time.
	cons, err := js.Consumer(ctx, testStream, "worker")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			if err := m.Nak(); err != nil {
				t.Fatal(err)
			}
		}
	}
	var calls atomic.Int64
	startConsumer(t, js, ConsumerConfig{MaxDeliver: 2}, func(context.Context, *Message) error {
		calls.Add(1)
		return nil
	})
	eventually(t, "the crash-looping message dead-lettered", func() bool { return len(deadLetters(t, js, "worker")) == 1 })
	if calls.Load() != 0 {
		t.Fatalf("handler ran %d times on a message past max_deliver", calls.Load())
	}
	if dl := deadLetters(t, js, "worker")[0]; !strings.Contains(dl.Error, "without an outcome") {
		t.Fatalf("dead letter error = %q", dl.Error)
	}
}

// A handler stuck past HandlerTimeout fails and the message is retried.
func TestHandlerTimeout(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	var calls atomic.Int64
	startConsumer(t, js, ConsumerConfig{HandlerTimeout: 50 * time.Millisecond}, func(ctx context.Context, m *Message) error {
		if calls.Add(1) == 1 {
			<-ctx.Done() // a downstream call that never answers
			return ctx.Err()
		}
		return nil
	})
	publish(t, js, event("evt-slow", "x"))
	eventually(t, "the retry after the timeout", func() bool { return calls.Load() == 2 })
}

// Stream "A_B" with durable "c" and stream "A" with durable "B_c" would share a
// replay durable; the second is refused instead of stealing the first's replays.
func TestReplayDurableNameCollisionIsRefused(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	for _, name := range []string{"A_B", "A"} {
		if _, err := EnsureStream(testCtx(t), js, StreamConfig(name, []string{strings.ToLower(name) + ".>"})); err != nil {
			t.Fatal(err)
		}
	}
	nop := func(context.Context, *Message) error { return nil }
	startConsumer(t, js, ConsumerConfig{Stream: "A_B", Durable: "c"}, nop)
	c, err := Consume(testCtx(t), js, ConsumerConfig{Stream: "A", Durable: "B_c"}, nop)
	if err == nil {
		_ = c.Stop(testCtx(t))
		t.Fatal("a colliding replay durable was accepted")
	}
}
