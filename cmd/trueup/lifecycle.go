package main

import (
	"context"
	"errors"

	"golang.org/x/sync/errgroup"
)

// runInOrder runs the front (servers taking calls) and the back (outbox relays
// and event consumers) of a process and shuts them down in that order: when ctx
// ends, the servers stop taking calls and drain the ones in flight first; only
// then do the relays and consumers stop, so events committed by the last calls
// are still published before the process exits. If any part fails on its own,
// everything stops.
func runInOrder(ctx context.Context, front, back []func(context.Context) error) error {
	frontCtx, stopFront := context.WithCancel(ctx)
	defer stopFront()
	backCtx, stopBack := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBack()

	b, bctx := errgroup.WithContext(backCtx)
	for _, run := range back {
		b.Go(func() error { return run(bctx) })
	}
	// A back part that fails (not stopped by us) takes the front down too.
	go func() {
		<-bctx.Done()
		stopFront()
	}()

	f, fctx := errgroup.WithContext(frontCtx)
	for _, run := range front {
		f.Go(func() error { return run(fctx) })
	}
	frontErr := f.Wait()
	stopBack()
	return errors.Join(frontErr, b.Wait())
}
