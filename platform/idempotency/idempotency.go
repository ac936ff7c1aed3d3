// Package idempotency makes retried commands safe: a command that carries a client
// key (the API's request_id) is applied once, and a retry with the same key gets
// the first result back. The claim is made inside the command's own transaction,
// so a command that fails leaves no claim behind and can be retried.
//
// On PostgreSQL a concurrent duplicate blocks on the first claim's row until that
// transaction ends, then sees the stored result; SQLite serialises writers anyway.
//
// A key belongs to the caller that sent it (caller.From of the context): Claim
// and Complete namespace the scope by the caller, so two partners using the same
// request_id get two independent commands and neither can read or squat the
// other's. This happens here, for every service, and not in service code, so no
// use case can forget it. Rows written before callers were scoped carry the bare
// command scope ("ReceiveStock"); nothing matches them any more and they expire
// with Retention, so a retry that straddles the upgrade applies again once.
package idempotency

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/sqldb"
)

//go:embed migrations
var migrations embed.FS

// MigrationsTable is where golang-migrate records this package's schema version,
// apart from the service's own migrations.
const MigrationsTable = "idempotency_schema_migrations"

// Migrate creates or upgrades the idempotency_keys table.
func Migrate(ctx context.Context, db *sqldb.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	if err := sqldb.Migrate(ctx, db, sub, MigrationsTable); err != nil {
		return fmt.Errorf("migrate idempotency: %w", err)
	}
	return nil
}

// Fingerprint digests a canonical encoding of a request, so a key reused with a
// different payload can be told apart from an honest retry.
func Fingerprint(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// Claim records key under scope (e.g. "CreateItem") for the caller in ctx, with
// the request's fingerprint; the stored scope is caller.From(ctx).Qualify(scope),
// e.g. "partner:acme/CreateItem" or "internal/CreateItem", so the same key from
// another caller is another claim.
// When the key is new it returns replay=false and the caller goes on to apply the
// command and then calls Complete in the same transaction. When the key was used
// before by the same request it returns replay=true and the result stored by
// Complete. When it was used by a different request it returns InvalidArgument on
// field "request_id" and the caller must change nothing. An empty key claims
// nothing: such a command is simply not idempotent.
func Claim(ctx context.Context, tx *sqldb.Tx, scope, key, fingerprint string) (result string, replay bool, err error) {
	if key == "" {
		return "", false, nil
	}
	if len(key) > 200 {
		return "", false, apperr.Invalid(apperr.Field("request_id", "must be at most 200 characters"))
	}
	scope = caller.From(ctx).Qualify(scope)
	res, err := tx.ExecContext(ctx,
		`INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		scope, key, fingerprint, sqldb.Now())
	if err != nil {
		return "", false, fmt.Errorf("claim idempotency key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", false, fmt.Errorf("claim idempotency key: %w", err)
	} else if n == 1 {
		return "", false, nil
	}
	var storedFP string
	err = tx.QueryRowContext(ctx,
		`SELECT fingerprint, result FROM idempotency_keys WHERE scope = $1 AND key = $2`,
		scope, key).Scan(&storedFP, &result)
	if errors.Is(err, sql.ErrNoRows) {
		// The other claim was rolled back between our insert and select; make the
		// client retry rather than guess.
		return "", false, apperr.Conflict("request_id is being processed concurrently", err)
	}
	if err != nil {
		return "", false, fmt.Errorf("read idempotency key: %w", err)
	}
	if storedFP != fingerprint {
		return "", false, &apperr.Error{
			Kind:       apperr.KindInvalidArgument,
			Reason:     "REQUEST_ID_REUSED",
			Message:    "request_id was already used for a different request",
			Violations: []apperr.Violation{apperr.Field("request_id", "already used for a different request; use a new request_id")},
		}
	}
	return result, true, nil
}

// Complete stores the command's result (typically the created resource's id)
// against a key claimed in the same transaction, by the same caller (ctx must
// carry the caller Claim saw).
func Complete(ctx context.Context, tx *sqldb.Tx, scope, key, result string) error {
	if key == "" {
		return nil
	}
	scope = caller.From(ctx).Qualify(scope)
	if _, err := tx.ExecContext(ctx,
		`UPDATE idempotency_keys SET result = $1 WHERE scope = $2 AND key = $3`,
		result, scope, key); err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// Retention is how long a request id is remembered. A client retries within
// minutes; a request id reused after this is a new request.
const Retention = 30 * 24 * time.Hour

// purgeChunk bounds one purge transaction, so it never holds SQLite's write
// lock (or a PostgreSQL transaction) for long, however much has expired.
const purgeChunk = 5000

// Purge forgets request ids claimed before cutoff, a chunk at a time (each
// chunk its own short transaction, on the created_at index), and reports how
// many.
func Purge(ctx context.Context, db *sqldb.DB, cutoff time.Time) (int64, error) {
	n, err := db.DeleteInChunks(ctx,
		`DELETE FROM idempotency_keys WHERE (scope, key) IN (
		   SELECT scope, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)`,
		purgeChunk, sqldb.Timestamp(cutoff))
	if err != nil {
		return n, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}

// Querier runs a query: a pool or a transaction.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Lookup reads, without claiming it, what a completed command stored under key
// for the caller in ctx: done=false when the key is unknown (or claimed by a
// transaction not committed yet). A key used by a different request (another
// fingerprint) is refused like Claim refuses it. It lets a command that must
// call another service before its own transaction answer a retry without
// calling that service again.
func Lookup(ctx context.Context, q Querier, scope, key, fingerprint string) (result string, done bool, err error) {
	if key == "" {
		return "", false, nil
	}
	scope = caller.From(ctx).Qualify(scope)
	var storedFP string
	err = q.QueryRowContext(ctx, `SELECT fingerprint, result FROM idempotency_keys WHERE scope = $1 AND key = $2`,
		scope, key).Scan(&storedFP, &result)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read idempotency key: %w", err)
	}
	if storedFP != fingerprint {
		return "", false, &apperr.Error{
			Kind:       apperr.KindInvalidArgument,
			Reason:     "REQUEST_ID_REUSED",
			Message:    "request_id was already used for a different request",
			Violations: []apperr.Violation{apperr.Field("request_id", "already used for a different request; use a new request_id")},
		}
	}
	return result, result != "", nil
}
