// Package inbox makes event consumers idempotent. JetStream delivers at least
// once (and its Nats-Msg-Id dedupe only covers a short window), so a handler
// records each event it applies in the inbox table, in the same transaction as
// the state change: a redelivery, however late, finds the record and changes
// nothing.
package inbox

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"trueup.dev/platform/sqldb"
)

//go:embed migrations
var migrationFiles embed.FS

// MigrationsTable is the golang-migrate version table of the inbox schema,
// apart from the service's own.
const MigrationsTable = "inbox_schema_migrations"

// Migrate creates or updates the inbox table.
func Migrate(ctx context.Context, db *sqldb.DB) error {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("inbox: migrations: %w", err)
	}
	if err := sqldb.Migrate(ctx, db, sub, MigrationsTable); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	return nil
}

// Process applies an event at most once per consumer. In one transaction it
// records (consumer, eventID) and, if the record is new, runs fn, then
// commits. If the event was already processed it returns (false, nil)
// without calling fn. If fn fails, nothing is recorded and fn's error is
// returned, so a redelivery processes the event again.
//
// Two concurrent deliveries of one event are safe: the second insert waits
// for the first transaction and then finds its record (or, if the first
// rolled back, takes over). fn must be safe to re-run on a transaction
// conflict (see sqldb.DB.WithTx); its side effects belong in tx or in
// tx.OnCommit.
//
// consumer names the handler, e.g. "ledger.post-receipt": one event may be
// processed once by each of several consumers.
func Process(ctx context.Context, db *sqldb.DB, consumer, eventID string, fn func(tx *sqldb.Tx) error) (applied bool, err error) {
	if consumer == "" || eventID == "" {
		return false, errors.New("inbox: consumer and event id are required")
	}
	err = db.WithTx(ctx, func(tx *sqldb.Tx) error {
		applied = false // a retried attempt starts over
		res, err := tx.ExecContext(ctx,
			`INSERT INTO inbox (consumer, event_id, processed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			consumer, eventID, sqldb.Now())
		if err != nil {
			return fmt.Errorf("inbox: record %s event %s: %w", consumer, eventID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("inbox: record %s event %s: %w", consumer, eventID, err)
		}
		if n == 0 {
			return nil // already processed
		}
		applied = true
		return fn(tx)
	})
	if err != nil {
		return false, err
	}
	return applied, nil
}

// Retention is how long a processed event id is remembered. It must outlive
// the streams' MaxAge (30 days), so no event still in a stream can be
// redelivered to a consumer that has forgotten it.
const Retention = 45 * 24 * time.Hour

// Purge forgets events processed before cutoff and reports how many.
func Purge(ctx context.Context, db *sqldb.DB, cutoff time.Time) (int64, error) {
	res, err := db.ExecContext(ctx, `DELETE FROM inbox WHERE processed_at < $1`, sqldb.Timestamp(cutoff))
	if err != nil {
		return 0, fmt.Errorf("purge inbox: %w", err)
	}
	return res.RowsAffected()
}
