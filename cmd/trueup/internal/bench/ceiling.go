package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"trueup.dev/platform/sqldb"
)

// Ceilings are the storage's and the broker's own limits, measured in the
// same run as the figures they bound.
type Ceilings struct {
	// DatabaseCommitsPerSec is the single-row durable commit rate (BEGIN;
	// INSERT; COMMIT on one connection) on the services' database, with
	// the same settings (sqldb.CommitCeiling).
	DatabaseCommitsPerSec float64 `json:"databaseCommitsPerSec"`
	Database              string  `json:"database"`
	// NATSPublishSyncPerSec is JetStream publishes a second, each waiting
	// for its ack before the next (one publisher, file storage, like the
	// outbox relays' streams).
	NATSPublishSyncPerSec float64 `json:"natsPublishSyncPerSec"`
	// NATSPublishAsyncPerSec is the same with up to 256 acks outstanding.
	NATSPublishAsyncPerSec float64 `json:"natsPublishAsyncPerSec"`
}

// databaseCeiling measures the commit rate on dsn, or on a scratch SQLite
// file in dir (the data directory's disk and the stack's own settings:
// WAL, synchronous=FULL) when dsn is empty.
func databaseCeiling(ctx context.Context, dsn, dir string, d time.Duration) (float64, string, error) {
	label := "PostgreSQL"
	if dsn == "" {
		dsn, label = "sqlite://"+filepath.Join(dir, "bench-ceiling.db"), "SQLite (WAL, synchronous=FULL)"
	}
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		return 0, label, fmt.Errorf("commit ceiling: %w", err)
	}
	defer db.Close()
	rate, err := sqldb.CommitCeiling(ctx, db, d)
	return round1(rate), label, err
}

// natsCeiling measures JetStream publish-with-ack on a scratch stream of
// its own (file storage, one replica, as the dev stack's), deleted after.
func natsCeiling(ctx context.Context, url, run string, d time.Duration) (syncRate, asyncRate float64, err error) {
	nc, err := nats.Connect(url, nats.Name("trueup-bench"))
	if err != nil {
		return 0, 0, fmt.Errorf("nats ceiling: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(256))
	if err != nil {
		return 0, 0, err
	}
	name := "BENCH_CEILING_" + run
	subject := "trueup.bench.ceiling." + run
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject}, Storage: jetstream.FileStorage}); err != nil {
		return 0, 0, fmt.Errorf("nats ceiling: %w", err)
	}
	defer func() { _ = js.DeleteStream(context.WithoutCancel(ctx), name) }() // scratch
	payload := make([]byte, 256)                                             // about one event's size
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		if _, err := js.Publish(ctx, subject, payload); err != nil {
			return 0, 0, fmt.Errorf("nats ceiling: %w", err)
		}
		n++
	}
	syncRate = float64(n) / time.Since(start).Seconds()
	n = 0
	start = time.Now()
	for time.Since(start) < d {
		if _, err := js.PublishAsync(subject, payload); err != nil {
			return 0, 0, fmt.Errorf("nats ceiling: %w", err)
		}
		n++
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
	asyncRate = float64(n) / time.Since(start).Seconds()
	return round1(syncRate), round1(asyncRate), nil
}
