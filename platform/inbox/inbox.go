// Package inbox makes event consumers idempotent. JetStream delivers at least
// once (and its Nats-Msg-Id dedupe only covers a short window), so a handler
// records each event it applies in the inbox table, in the same transaction as
// the state change: a redelivery, however late, finds the record and changes
// nothing.
package inbox

import (
	"context"
	"embed"
	"encoding/json"
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

// purgeChunk bounds one purge transaction, so it never holds SQLite's write
// lock (or a PostgreSQL transaction) for long, however much has expired.
const purgeChunk = 5000

// Purge forgets events processed before cutoff, a chunk at a time (each chunk
// its own short transaction, on the processed_at index), and reports how many.
func Purge(ctx context.Context, db *sqldb.DB, cutoff time.Time) (int64, error) {
	n, err := db.DeleteInChunks(ctx,
		`DELETE FROM inbox WHERE (consumer, event_id) IN (
		   SELECT consumer, event_id FROM inbox WHERE processed_at < $1 LIMIT $2)`,
		purgeChunk, sqldb.Timestamp(cutoff))
	if err != nil {
		return n, fmt.Errorf("purge inbox: %w", err)
	}
	return n, nil
}

// Delivery is one event handed to ProcessBatch: its id and the effect to apply
// once.
type Delivery struct {
	EventID string
	Apply   func(tx *sqldb.Tx) error
}

// Outcome is what ProcessBatch did with one delivery.
type Outcome struct {
	// Applied is true when this call ran the effect, false when the event had
	// been processed before (or appeared earlier in the same batch).
	Applied bool
	// Err is the effect's error; the event is then not recorded and must be
	// delivered again.
	Err error
}

// Insert statements of ProcessBatch: one text per dialect whatever the batch
// size (pgx prepares and caches every distinct statement text), the ids passed
// as one JSON array. ON CONFLICT DO NOTHING RETURNING yields only the ids
// recorded now, i.e. the events not processed before. SQLite needs the WHERE
// to parse ON CONFLICT after INSERT … SELECT.
const (
	batchInsertSQLite = `INSERT INTO inbox (consumer, event_id, processed_at)
		SELECT $1, value, $3 FROM json_each($2) WHERE true
		ON CONFLICT DO NOTHING RETURNING event_id`
	batchInsertPostgres = `INSERT INTO inbox (consumer, event_id, processed_at)
		SELECT $1, e, $3 FROM jsonb_array_elements_text($2::jsonb) AS e
		ON CONFLICT DO NOTHING RETURNING event_id`
)

// ProcessBatch applies many events in one transaction: one statement records
// them all in the inbox, the effects of those not processed before run in
// order, and one commit makes every effect and record durable together. It is
// how a consumer keeps up with a burst: the cost of a commit is shared by the
// batch instead of paid per event.
//
// If any effect fails, the whole transaction is rolled back and each event is
// then processed alone (Process), so one failing event is isolated: the others
// are applied and the failure is reported in its own Outcome. The returned
// error is non-nil only when nothing could be decided (the database failed);
// then no Outcome is returned and every delivery must be retried.
//
// Effects must be commutative or version-gated with respect to one another, as
// for any consumer: order within a batch is delivery order, but after a failure
// the others are applied before the failing one is retried.
func ProcessBatch(ctx context.Context, db *sqldb.DB, consumer string, batch []Delivery) ([]Outcome, error) {
	if consumer == "" {
		return nil, errors.New("inbox: consumer is required")
	}
	out := make([]Outcome, len(batch))
	ids := make([]string, 0, len(batch))
	first := make(map[string]int, len(batch)) // event id -> index of its first delivery
	for i, d := range batch {
		if d.EventID == "" {
			return nil, fmt.Errorf("inbox: delivery %d has no event id", i)
		}
		if _, dup := first[d.EventID]; !dup {
			first[d.EventID] = i
			ids = append(ids, d.EventID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	idJSON, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("inbox: encode event ids: %w", err)
	}
	insert := batchInsertSQLite
	if db.Dialect == sqldb.Postgres {
		insert = batchInsertPostgres
	}
	err = db.WithTx(ctx, func(tx *sqldb.Tx) error {
		for i := range out {
			out[i] = Outcome{} // a retried attempt starts over
		}
		fresh, err := record(ctx, tx, insert, consumer, string(idJSON))
		if err != nil {
			return err
		}
		for i, d := range batch {
			if !fresh[d.EventID] || first[d.EventID] != i {
				continue
			}
			if err := d.Apply(tx); err != nil {
				return errEffectFailed
			}
			out[i].Applied = true
		}
		return nil
	})
	if err == nil {
		return out, nil
	}
	if !errors.Is(err, errEffectFailed) {
		return nil, err
	}
	// Isolate the failure: every event alone, each in its own transaction.
	for i, d := range batch {
		if first[d.EventID] != i {
			out[i] = Outcome{}
			continue
		}
		applied, err := Process(ctx, db, consumer, d.EventID, d.Apply)
		out[i] = Outcome{Applied: applied, Err: err}
	}
	return out, nil
}

// Record records eventIDs as processed by consumer in the open transaction
// tx, in one statement, and returns those not recorded before: the events
// whose effects the caller now applies in the same transaction. It is
// ProcessBatch's first step, for a consumer that applies a batch's effects
// itself (aggregating them, say) rather than one by one.
func Record(ctx context.Context, tx *sqldb.Tx, consumer string, eventIDs []string) (map[string]bool, error) {
	if consumer == "" {
		return nil, errors.New("inbox: consumer is required")
	}
	if len(eventIDs) == 0 {
		return map[string]bool{}, nil
	}
	idJSON, err := json.Marshal(eventIDs)
	if err != nil {
		return nil, fmt.Errorf("inbox: encode event ids: %w", err)
	}
	insert := batchInsertSQLite
	if tx.Dialect == sqldb.Postgres {
		insert = batchInsertPostgres
	}
	return record(ctx, tx, insert, consumer, string(idJSON))
}

func record(ctx context.Context, tx *sqldb.Tx, insert, consumer, idJSON string) (map[string]bool, error) {
	rows, err := tx.QueryContext(ctx, insert, consumer, idJSON, sqldb.Now())
	if err != nil {
		return nil, fmt.Errorf("inbox: record %s events: %w", consumer, err)
	}
	fresh := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("inbox: record %s events: %w", consumer, err)
		}
		fresh[id] = true
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("inbox: record %s events: %w", consumer, err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbox: record %s events: %w", consumer, err)
	}
	return fresh, nil
}

// errEffectFailed rolls a batch back so its events can be processed one by one.
var errEffectFailed = errors.New("inbox: an effect in the batch failed")
