package lifecycle_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"trueup.dev/platform/lifecycle"
)

// journal records what the fake parts did, in order.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) note(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, s)
}

func (j *journal) String() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return strings.Join(j.lines, ", ")
}

// until runs until its ctx is cancelled, then takes drainFor to drain.
func until(j *journal, name string, drainFor time.Duration) lifecycle.Part {
	return lifecycle.Part{Name: name, Run: func(ctx context.Context) error {
		<-ctx.Done()
		time.Sleep(drainFor)
		j.note(name + " stopped")
		return ctx.Err()
	}}
}

// runAsync runs parts until the returned cancel, and delivers Run's result.
// It returns once every part's Run has been called, so a cancel is a shutdown
// of running parts, not a Run that starts nothing.
func runAsync(parts ...lifecycle.Part) (cancel func(), result <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	var started sync.WaitGroup
	wrapped := make([]lifecycle.Part, len(parts))
	for i, p := range parts {
		started.Add(1)
		run := p.Run
		p.Run = func(ctx context.Context) error {
			started.Done()
			return run(ctx)
		}
		wrapped[i] = p
	}
	done := make(chan error, 1)
	go func() { done <- lifecycle.Run(ctx, wrapped...) }()
	started.Wait()
	return cancel, done
}

func wait(t *testing.T, result <-chan error, within time.Duration) error {
	t.Helper()
	select {
	case err := <-result:
		return err
	case <-time.After(within):
		t.Fatalf("Run did not return within %s", within)
		return nil
	}
}

func TestShutdownStopsPartsInOrderEachDrainedBeforeTheNext(t *testing.T) {
	var j journal
	cancel, result := runAsync(until(&j, "server", 30*time.Millisecond), until(&j, "consumer", 10*time.Millisecond), until(&j, "relay", 0))
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := wait(t, result, 5*time.Second); err != nil {
		t.Fatalf("clean shutdown returned %v", err)
	}
	if got, want := j.String(), "server stopped, consumer stopped, relay stopped"; got != want {
		t.Fatalf("stopped %q, want %q", got, want)
	}
}

func TestPartFailingOnItsOwnStopsTheOthersWithItsError(t *testing.T) {
	var j journal
	boom := errors.New("nats gone")
	failing := lifecycle.Part{Name: "consumer", Run: func(context.Context) error {
		time.Sleep(10 * time.Millisecond)
		return boom
	}}
	_, result := runAsync(until(&j, "server", 0), failing, until(&j, "relay", 0))
	err := wait(t, result, 5*time.Second)
	if !errors.Is(err, boom) || !errors.Is(err, lifecycle.ErrStoppedEarly) || !strings.Contains(err.Error(), "consumer") {
		t.Fatalf("err = %v; want the consumer's error, marked as stopped on its own", err)
	}
	if got, want := j.String(), "server stopped, relay stopped"; got != want {
		t.Fatalf("stopped %q, want %q: the others must be stopped, in order", got, want)
	}
}

func TestPartReturningNilOnItsOwnIsAFailure(t *testing.T) {
	var j journal
	quitter := lifecycle.Part{Name: "relay", Run: func(context.Context) error { return nil }}
	_, result := runAsync(until(&j, "server", 0), quitter)
	if err := wait(t, result, 5*time.Second); !errors.Is(err, lifecycle.ErrStoppedEarly) {
		t.Fatalf("err = %v; a part that returns while the process should run must fail it", err)
	}
	if j.String() != "server stopped" {
		t.Fatalf("stopped %q, want the server stopped", j.String())
	}
}

func TestStuckPartIsBoundedByItsDrainAndTheRestStillStop(t *testing.T) {
	var j journal
	release := make(chan struct{})
	defer close(release)
	stuck := lifecycle.Part{Name: "stuck", Drain: 50 * time.Millisecond, Run: func(context.Context) error {
		<-release // ignores its ctx
		return nil
	}}
	cancel, result := runAsync(stuck, until(&j, "relay", 0))
	cancel()
	start := time.Now()
	err := wait(t, result, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "stuck did not stop within 50ms") {
		t.Fatalf("err = %v; want the stuck part named", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("shutdown took %s; the drain bound is 50ms", took)
	}
	if j.String() != "relay stopped" {
		t.Fatalf("stopped %q; the parts after a stuck one must still stop", j.String())
	}
}

func TestStopIsCalledForPartsThatDoNotEndWithTheirContext(t *testing.T) {
	var j journal
	stopped := make(chan struct{})
	server := lifecycle.Part{
		Name: "server",
		Run: func(context.Context) error {
			<-stopped // like grpc.Server.Serve, which returns after GracefulStop
			j.note("server stopped")
			return nil
		},
		Stop: func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("Stop's ctx has no deadline; the drain must be bounded")
			}
			close(stopped)
			return nil
		},
	}
	cancel, result := runAsync(server, until(&j, "relay", 0))
	cancel()
	if err := wait(t, result, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got, want := j.String(), "server stopped, relay stopped"; got != want {
		t.Fatalf("stopped %q, want %q", got, want)
	}
}

func TestErrorsWhileStoppingAreReturnedButCancellationIsNot(t *testing.T) {
	flush := errors.New("flush failed")
	failsToDrain := lifecycle.Part{Name: "relay", Run: func(ctx context.Context) error {
		<-ctx.Done()
		return flush
	}}
	var j journal
	cancel, result := runAsync(until(&j, "server", 0), failsToDrain)
	cancel()
	if err := wait(t, result, 5*time.Second); !errors.Is(err, flush) || errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want the relay's drain error only", err)
	}
}

func TestGroupStopsItsMembersTogetherBeforeTheNextPart(t *testing.T) {
	var j journal
	// The group starts its members itself: wait until both run before the
	// shutdown, or a cancel that wins the race leaves them never started.
	var members sync.WaitGroup
	member := func(name string) lifecycle.Part {
		p := until(&j, name, 200*time.Millisecond)
		run := p.Run
		members.Add(1)
		p.Run = func(ctx context.Context) error { members.Done(); return run(ctx) }
		return p
	}
	front := lifecycle.Group("front", member("grpc"), member("gateway"))
	cancel, result := runAsync(front, until(&j, "relay", 0))
	members.Wait()
	cancel()
	start := time.Now()
	if err := wait(t, result, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 350*time.Millisecond {
		t.Errorf("group took %s to stop; its members drain concurrently (200ms each, 400ms one after the other)", took)
	}
	if got := j.String(); !strings.HasSuffix(got, "relay stopped") || strings.Count(got, "stopped") != 3 {
		t.Fatalf("stopped %q; want both group members, then the relay", got)
	}
}

func TestGroupMemberFailingStopsEverything(t *testing.T) {
	var j journal
	boom := errors.New("listener closed")
	front := lifecycle.Group("front", until(&j, "grpc", 0),
		lifecycle.Part{Name: "gateway", Run: func(context.Context) error { return boom }})
	_, result := runAsync(front, until(&j, "relay", 0))
	if err := wait(t, result, 5*time.Second); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if got, want := j.String(), "grpc stopped, relay stopped"; got != want {
		t.Fatalf("stopped %q, want %q", got, want)
	}
}

func TestNothingStartsAfterTheContextEnded(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := lifecycle.Run(ctx, lifecycle.Part{Name: "relay", Run: func(context.Context) error { ran = true; return nil }})
	if err != nil || ran {
		t.Fatalf("Run on an ended ctx = %v, ran %v; want nil and nothing started", err, ran)
	}
}

func TestPartWithoutRunIsRefused(t *testing.T) {
	if err := lifecycle.Run(context.Background(), lifecycle.Part{Name: "relay"}); err == nil {
		t.Fatal("a part without Run must be refused before anything starts")
	}
}

func TestPartsKeepTheValuesOfRunsContext(t *testing.T) {
	type key struct{}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	got := make(chan any, 1)
	done := make(chan error, 1)
	go func() {
		done <- lifecycle.Run(ctx, lifecycle.Part{Name: "p", Run: func(ctx context.Context) error {
			got <- ctx.Value(key{})
			<-ctx.Done()
			return nil
		}})
	}()
	if v := <-got; v != "v" {
		t.Fatalf("value = %v; parts must see the values of Run's ctx (logger, trace)", v)
	}
	cancel()
	if err := wait(t, done, 5*time.Second); err != nil {
		t.Fatal(err)
	}
}
