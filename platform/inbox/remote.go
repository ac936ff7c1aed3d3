package inbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"trueup.dev/platform/sqldb"
)

// A handler that must make another service do something (fulfillment asking
// inventory to allocate, the ledger asking orders for a price) cannot do it
// inside the inbox transaction: the call would be repeated on every rollback,
// conflict retry and redelivery, and while it waits it holds SQLite's only
// write lock or a PostgreSQL connection. Nor can it do it in an OnCommit hook:
// a crash between the commit and the hook skips the call for ever, since the
// inbox already says the event was processed.
//
// The pattern, which ProcessWithCall implements:
//
//  1. If the inbox already holds the event, stop: nothing to do.
//  2. Make the call outside any local transaction, with a request id derived
//     from (consumer, event id) by RequestID. The remote command is idempotent
//     by request id, so however often this step runs — a crash after it, a
//     failure of step 3, a redelivery — the remote applies it once and answers
//     every repeat with its first answer.
//  3. Record the event and apply the local effect of the answer in one inbox
//     transaction (Process). A concurrent or later delivery that gets here
//     second finds the record and changes nothing.
//
// A failed call is returned to the consumer like any handler error: transient
// failures (the remote restarting) are retried without limit, logic failures
// count towards max-deliver and end in the dead-letter stream.
//
// The alternative, for a command whose answer the handler does not need, is to
// write the command as an event to the outbox in the same transaction and let
// the other service consume it.

// RequestID is the request id a consumer sends with a command it issues on
// behalf of an event: the same (consumer, event) pair always gives the same
// id, and different pairs never collide. It is short, printable and well under
// the 200 characters a request id may have.
func RequestID(consumer, eventID string) string {
	sum := sha256.Sum256([]byte(consumer + "\x00" + eventID))
	return "evt-" + hex.EncodeToString(sum[:16])
}

// ProcessWithCall processes an event whose effect needs another service: it
// returns (false, nil) at once if the event was processed before; otherwise it
// runs call outside any transaction with RequestID(consumer, eventID), and
// then applies the answer with apply inside Process, recording the event in
// the same transaction. See the pattern above. apply must do its work through
// tx; call must be idempotent by the request id it is given.
func ProcessWithCall[R any](ctx context.Context, db *sqldb.DB, consumer, eventID string,
	call func(ctx context.Context, requestID string) (R, error),
	apply func(tx *sqldb.Tx, answer R) error,
) (applied bool, err error) {
	if consumer == "" || eventID == "" {
		return false, errors.New("inbox: consumer and event id are required")
	}
	done, err := Processed(ctx, db, consumer, eventID)
	if err != nil {
		return false, err
	}
	if done {
		return false, nil
	}
	answer, err := call(ctx, RequestID(consumer, eventID))
	if err != nil {
		return false, fmt.Errorf("inbox: %s event %s: %w", consumer, eventID, err)
	}
	return Process(ctx, db, consumer, eventID, func(tx *sqldb.Tx) error { return apply(tx, answer) })
}

// Processed reports whether consumer has already processed eventID.
func Processed(ctx context.Context, db *sqldb.DB, consumer, eventID string) (bool, error) {
	var n int
	if err := db.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM inbox WHERE consumer = $1 AND event_id = $2`, consumer, eventID).Scan(&n); err != nil {
		return false, fmt.Errorf("inbox: look up %s event %s: %w", consumer, eventID, err)
	}
	return n > 0, nil
}
