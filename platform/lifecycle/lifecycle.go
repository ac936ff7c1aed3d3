// Package lifecycle runs the long-lived parts of a process (servers, outbox
// relays, event consumers, retention jobs) and shuts them down in order.
//
// A process is only healthy while all its parts run, so a part that stops on
// its own while the process should be running is a failure: Run stops the
// others and returns an error, rather than leave the process half alive (a
// service that takes commands but never publishes their events). On shutdown
// the parts stop one after the other in the order given, each drained before
// the next is told to stop: list a part before the parts that must outlive it
// (servers before the relay that publishes what their last calls committed;
// a consumer before the relay that publishes what its handlers emitted).
//
// It is a library, not a framework: a service builds its parts from its own
// handles and calls Run from its own Run.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultDrain bounds a part's stop when its Drain is zero. It is a backstop
// above the drain bounds the platform's parts apply themselves (the outbox's
// final drain, a consumer's Stop), so that theirs, which say what was
// abandoned, fire first.
const DefaultDrain = 15 * time.Second

// slack is how much longer a Group (or a Start part) waits than the bounds
// within it, so the inner bound fires first and its error names the culprit.
const slack = time.Second

// ErrStoppedEarly is wrapped by the error Run returns when a part stopped on
// its own while the process was meant to be running.
var ErrStoppedEarly = errors.New("stopped on its own")

// Part is one long-lived piece of a process.
type Part struct {
	// Name names the part in errors ("outbox relay", "catalog consumer").
	Name string
	// Run runs the part until its ctx is cancelled (or, for a part with a
	// Stop, until Stop makes it return) and then returns nil or ctx's error.
	// Returning before that, with or without an error, is a failure. ctx
	// carries the values of the ctx given to Run, but is cancelled only when
	// this part's turn to stop comes.
	Run func(ctx context.Context) error
	// Stop, if set, asks a part that does not end with its ctx to finish,
	// such as a gRPC server's graceful stop; it is called after Run's ctx is
	// cancelled and should return by the deadline of its own ctx.
	Stop func(ctx context.Context) error
	// Drain bounds how long stopping the part may take (Stop and Run's return
	// together); zero means DefaultDrain. A part still running past it is
	// reported and left behind: its ctx is cancelled, and the process is
	// about to exit.
	Drain time.Duration
}

func (p Part) drain() time.Duration {
	if p.Drain > 0 {
		return p.Drain
	}
	return DefaultDrain
}

// Run runs every part until ctx ends or one of them stops on its own, then
// stops the rest one by one in the order given, each bounded by its Drain.
// It returns nil after a clean shutdown; otherwise the part that stopped on
// its own (wrapping ErrStoppedEarly and its error) and whatever went wrong
// while stopping, joined. If ctx has ended already, nothing is started.
func Run(ctx context.Context, parts ...Part) error { return run(ctx, parts, false) }

// Group makes one Part of parts that start together and, when the group's
// turn comes, stop together (concurrently) rather than one by one: servers of
// one process, say, all of which must drain before the back end stops. A
// member that stops on its own stops the group, and so the whole Run.
func Group(name string, parts ...Part) Part {
	var d time.Duration
	for _, p := range parts {
		d = max(d, p.drain())
	}
	return Part{
		Name:  name,
		Run:   func(ctx context.Context) error { return run(ctx, parts, true) },
		Drain: d + slack,
	}
}

// running is a started part.
type running struct {
	Part
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Run's result, once done is closed
	seen   bool  // its end has been reported already
}

func run(ctx context.Context, parts []Part, together bool) error {
	for i, p := range parts {
		if p.Name == "" || p.Run == nil {
			return fmt.Errorf("lifecycle: part %d (%q) needs a Name and a Run", i, p.Name)
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	// The parts do not see ctx's cancellation: Run passes it on to each in
	// turn, which is what orders the shutdown.
	base := context.WithoutCancel(ctx)
	started := make([]*running, len(parts))
	ended := make(chan *running, len(parts))
	for i, p := range parts {
		pctx, cancel := context.WithCancel(base)
		r := &running{Part: p, cancel: cancel, done: make(chan struct{})}
		started[i] = r
		go func() {
			r.err = p.Run(pctx)
			close(r.done)
			ended <- r
		}()
	}
	defer func() {
		for _, r := range started {
			r.cancel()
		}
	}()

	var errs []error
	select {
	case <-ctx.Done():
	case r := <-ended:
		r.seen = true
		if ctx.Err() == nil {
			errs = append(errs, early(r.Name, r.err))
		} else if err := result(r.Name, r.err); err != nil {
			errs = append(errs, err)
		}
	}

	if together {
		stopErrs := make([]error, len(started))
		done := make(chan struct{})
		for i, r := range started {
			go func() {
				stopErrs[i] = stop(base, r)
				done <- struct{}{}
			}()
		}
		for range started {
			<-done
		}
		errs = append(errs, stopErrs...)
	} else {
		for _, r := range started {
			errs = append(errs, stop(base, r))
		}
	}
	return errors.Join(errs...)
}

// stop cancels one part, calls its Stop, and waits for its Run to return,
// all within its Drain.
func stop(base context.Context, r *running) error {
	if r.seen {
		return nil
	}
	r.seen = true
	select {
	case <-r.done: // ended by itself while an earlier part was stopping
		return result(r.Name, r.err)
	default:
	}
	ctx, cancel := context.WithTimeout(base, r.drain())
	defer cancel()
	r.cancel()
	var errs []error
	if r.Stop != nil {
		if err := r.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", r.Name, err))
		}
	}
	select {
	case <-r.done:
		errs = append(errs, result(r.Name, r.err))
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("%s did not stop within %s", r.Name, r.drain()))
	}
	return errors.Join(errs...)
}

// early is the error of a part that stopped while it should have run.
func early(name string, err error) error {
	if err == nil {
		return fmt.Errorf("%s %w", name, ErrStoppedEarly)
	}
	return fmt.Errorf("%s %w: %w", name, ErrStoppedEarly, err)
}

// result is the error of a part that returned when told to stop: its
// cancellation is how it was told, not a failure.
func result(name string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}
