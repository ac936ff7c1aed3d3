// Package retention deletes what a service need not keep for ever: request ids
// long past any retry and inbox records of events long gone from their streams.
package retention

import (
	"context"
	"log/slog"
	"time"

	"trueup.dev/platform/idempotency"
	"trueup.dev/platform/inbox"
	"trueup.dev/platform/lifecycle"
	"trueup.dev/platform/sqldb"
)

// Job purges one table of rows older than Keep.
type Job struct {
	Name  string
	Keep  time.Duration
	Purge func(ctx context.Context, db *sqldb.DB, cutoff time.Time) (int64, error)
}

// Idempotency forgets request ids after idempotency.Retention.
var Idempotency = Job{Name: "idempotency_keys", Keep: idempotency.Retention, Purge: idempotency.Purge}

// Inbox forgets processed events after inbox.Retention.
var Inbox = Job{Name: "inbox", Keep: inbox.Retention, Purge: inbox.Purge}

// Run purges with each job at once and then every interval until ctx ends.
// A failed purge is logged and tried again next time; nothing else depends on it.
func Run(ctx context.Context, db *sqldb.DB, log *slog.Logger, every time.Duration, jobs ...Job) {
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for _, j := range jobs {
			n, err := j.Purge(ctx, db, time.Now().Add(-j.Keep))
			switch {
			case err != nil && ctx.Err() == nil:
				log.WarnContext(ctx, "retention purge failed", "table", j.Name, "error", err)
			case n > 0:
				log.InfoContext(ctx, "retention purge", "table", j.Name, "deleted", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Start runs Run in the background and returns the function that stops it and
// waits for it to finish: `defer retention.Start(ctx, db, log, time.Hour, jobs...)()`.
func Start(ctx context.Context, db *sqldb.DB, log *slog.Logger, every time.Duration, jobs ...Job) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, db, log, every, jobs...)
	}()
	return func() {
		cancel()
		<-done
	}
}

// Part is Run as a part of a service's lifecycle: it purges every interval
// until the lifecycle stops it, and never fails on its own (a failed purge is
// logged and retried next time).
func Part(db *sqldb.DB, log *slog.Logger, every time.Duration, jobs ...Job) lifecycle.Part {
	return lifecycle.Part{Name: "retention", Run: func(ctx context.Context) error {
		Run(ctx, db, log, every, jobs...)
		return nil
	}}
}
