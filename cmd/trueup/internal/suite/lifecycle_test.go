package suite

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"trueup.dev/platform/lifecycle"
)

// On shutdown the front drains before the back is told to stop.
func TestRunInOrderStopsFrontFirst(t *testing.T) {
	var mu sync.Mutex
	var order []string
	note := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunInOrder(ctx,
			[]func(context.Context) error{func(ctx context.Context) error {
				<-ctx.Done()
				time.Sleep(50 * time.Millisecond) // draining in-flight calls
				note("front drained")
				return nil
			}},
			[]func(context.Context) error{func(ctx context.Context) error {
				<-ctx.Done()
				note("back stopped")
				return nil
			}})
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 || order[0] != "front drained" || order[1] != "back stopped" {
		t.Fatalf("order = %v", order)
	}
}

// A back part that fails on its own stops the front and the error is returned.
func TestRunInOrderBackFailureStopsAll(t *testing.T) {
	boom := errors.New("nats gone")
	err := RunInOrder(context.Background(),
		[]func(context.Context) error{func(ctx context.Context) error { <-ctx.Done(); return nil }},
		[]func(context.Context) error{func(context.Context) error { return boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

// A server that fails on its own (its listener gone) stops the back too, and
// the error names it as the part that stopped early.
func TestRunInOrderFrontFailureStopsTheBack(t *testing.T) {
	boom := errors.New("listener closed")
	var backStarted atomic.Bool
	backStopped := make(chan struct{})
	err := RunInOrder(context.Background(),
		[]func(context.Context) error{func(context.Context) error { return boom }},
		[]func(context.Context) error{func(ctx context.Context) error {
			backStarted.Store(true)
			<-ctx.Done()
			close(backStopped)
			return nil
		}})
	if !errors.Is(err, boom) || !errors.Is(err, lifecycle.ErrStoppedEarly) {
		t.Fatalf("err = %v, want %v as a part that stopped early", err, boom)
	}
	// The front may fail before the back's group has even started its
	// members (then there is nothing to stop); a back that started must
	// have stopped by the time RunInOrder returns.
	if backStarted.Load() {
		select {
		case <-backStopped:
		default:
			t.Fatal("RunInOrder returned before the back stopped")
		}
	}
}

// A part that returns without an error while the process should run is a
// failure too: a process whose relay quietly ended would take commands and
// never publish their events.
func TestRunInOrderPartEndingQuietlyIsAFailure(t *testing.T) {
	err := RunInOrder(context.Background(),
		[]func(context.Context) error{func(ctx context.Context) error { <-ctx.Done(); return nil }},
		[]func(context.Context) error{func(context.Context) error { return nil }})
	if !errors.Is(err, lifecycle.ErrStoppedEarly) {
		t.Fatalf("err = %v, want %v", err, lifecycle.ErrStoppedEarly)
	}
}

// The servers of the front stop together, not one after the other, so the
// gateway and the gRPC server drain in parallel within one bound.
func TestRunInOrderStopsAServerTierTogether(t *testing.T) {
	const drain = 100 * time.Millisecond
	server := func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(drain)
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunInOrder(ctx, []func(context.Context) error{server, server, server}, nil)
	}()
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= 3*drain {
		t.Fatalf("three servers took %v to stop, want about %v (together)", took, drain)
	}
}
