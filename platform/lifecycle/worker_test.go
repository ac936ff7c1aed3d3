package lifecycle_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"trueup.dev/platform/lifecycle"
)

// fakeWorker stands in for a natsx.Consumer: it ends when stopped, or when
// told its connection closed, and can take a while to drain.
type fakeWorker struct {
	drainFor time.Duration
	once     sync.Once
	done     chan struct{}
	j        *journal

	mu          sync.Mutex
	hadDeadline bool
}

func newFakeWorker(j *journal, drainFor time.Duration) *fakeWorker {
	return &fakeWorker{drainFor: drainFor, done: make(chan struct{}), j: j}
}

func (w *fakeWorker) Done() <-chan struct{} { return w.done }

func (w *fakeWorker) end() { w.once.Do(func() { close(w.done) }) }

func (w *fakeWorker) Stop(ctx context.Context) error {
	_, ok := ctx.Deadline()
	w.mu.Lock()
	w.hadDeadline = ok
	w.mu.Unlock()
	select {
	case <-time.After(w.drainFor):
		w.j.note("worker drained")
		w.end()
		return nil
	case <-ctx.Done():
		return errors.New("worker abandoned its handlers")
	}
}

func TestWorkerIsDrainedAtItsTurn(t *testing.T) {
	var j journal
	w := newFakeWorker(&j, 20*time.Millisecond)
	part := lifecycle.Start("consumer", time.Second, func(context.Context) (lifecycle.Worker, error) { return w, nil })
	cancel, result := runAsync(part, until(&j, "relay", 0))
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := wait(t, result, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got, want := j.String(), "worker drained, relay stopped"; got != want {
		t.Fatalf("stopped %q, want %q", got, want)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.hadDeadline {
		t.Fatal("the worker's Stop got no deadline; the drain must be bounded")
	}
}

func TestWorkerDrainIsBounded(t *testing.T) {
	var j journal
	w := newFakeWorker(&j, time.Hour)
	part := lifecycle.Start("consumer", 30*time.Millisecond, func(context.Context) (lifecycle.Worker, error) { return w, nil })
	cancel, result := runAsync(part, until(&j, "relay", 0))
	time.Sleep(10 * time.Millisecond)
	cancel()
	start := time.Now()
	err := wait(t, result, 5*time.Second)
	if err == nil || errors.Is(err, lifecycle.ErrStoppedEarly) {
		t.Fatalf("err = %v; want the worker's drain failure", err)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Fatalf("shutdown took %s; the worker's drain bound is 30ms", took)
	}
	if j.String() != "relay stopped" {
		t.Fatalf("stopped %q; the relay must still stop", j.String())
	}
}

func TestWorkerEndingOnItsOwnStopsEverything(t *testing.T) {
	var j journal
	w := newFakeWorker(&j, 0)
	part := lifecycle.Start("consumer", time.Second, func(context.Context) (lifecycle.Worker, error) { return w, nil })
	_, result := runAsync(until(&j, "server", 0), part, until(&j, "relay", 0))
	time.Sleep(10 * time.Millisecond)
	w.end() // the NATS connection closed
	err := wait(t, result, 5*time.Second)
	if !errors.Is(err, lifecycle.ErrWorkerEnded) || !errors.Is(err, lifecycle.ErrStoppedEarly) {
		t.Fatalf("err = %v; want the consumer reported as ended on its own", err)
	}
	if got, want := j.String(), "server stopped, relay stopped"; got != want {
		t.Fatalf("stopped %q, want %q", got, want)
	}
}

func TestWorkerThatFailsToStartStopsEverything(t *testing.T) {
	var j journal
	boom := errors.New("no such stream")
	part := lifecycle.Start("consumer", time.Second, func(context.Context) (lifecycle.Worker, error) { return nil, boom })
	_, result := runAsync(part, until(&j, "relay", 0))
	if err := wait(t, result, 5*time.Second); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if j.String() != "relay stopped" {
		t.Fatalf("stopped %q, want the relay stopped", j.String())
	}
}
