package lifecycle

import (
	"context"
	"errors"
	"time"
)

// Worker is something that, once started, runs on its own goroutines until
// stopped, and drains when it is: natsx.Consumer is one.
type Worker interface {
	// Done is closed once the worker has stopped, whoever stopped it.
	Done() <-chan struct{}
	// Stop stops the worker and waits for the work in flight, until ctx ends.
	Stop(ctx context.Context) error
}

// ErrWorkerEnded is the cause Start's part gives when its worker ended while
// it should have been running (a consumer whose connection was closed).
var ErrWorkerEnded = errors.New("worker ended")

// Start makes a Part of a Worker: start begins it with the part's ctx (whose
// cancellation may itself begin the worker's stop, as natsx.Consume's does),
// and at the part's turn to stop the worker's Stop drains it for at most
// drain (zero means DefaultDrain). A worker that ends while the process
// should run is a failure, like any part that stops on its own.
func Start(name string, drain time.Duration, start func(ctx context.Context) (Worker, error)) Part {
	p := Part{Name: name, Drain: drain}
	bound := p.drain()
	// The part's own bound is a little longer than the worker's, so the
	// worker's Stop reports what it abandoned before Run gives up on it.
	p.Drain = bound + slack
	p.Run = func(ctx context.Context) error {
		w, err := start(ctx)
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
		case <-w.Done():
			if ctx.Err() == nil {
				return ErrWorkerEnded
			}
		}
		// The drain outlives the cancellation that asked for it.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
		defer cancel()
		return w.Stop(dctx)
	}
	return p
}
