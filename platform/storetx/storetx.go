// Package storetx is the write transaction every service's store hands its use
// cases: a database transaction that also claims request ids (so a retried
// command applies once) and records domain events in the transactional outbox,
// all committing together or not at all.
package storetx

import (
	"context"
	"encoding/json"
	"fmt"

	"trueup.dev/platform/idempotency"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
)

// Encoder turns a domain event into an outbox message; each service has one.
type Encoder func(ctx context.Context, event any) (outbox.Message, error)

// Runner opens transactions on one database.
type Runner struct {
	db     *sqldb.DB
	outbox *outbox.Outbox
	encode Encoder
}

// NewRunner builds a Runner whose transactions add events to ob, encoded by encode.
func NewRunner(db *sqldb.DB, ob *outbox.Outbox, encode Encoder) *Runner {
	return &Runner{db: db, outbox: ob, encode: encode}
}

// Run runs fn in one transaction (retried on a serialisation conflict, see
// sqldb.DB.WithTx).
func (r *Runner) Run(ctx context.Context, fn func(tx *Tx) error) error {
	return r.db.WithTx(ctx, func(t *sqldb.Tx) error {
		return fn(&Tx{Tx: t, r: r})
	})
}

// Wrap makes a Tx of a transaction opened elsewhere, such as the one
// inbox.Process runs a consumer's effects in.
func (r *Runner) Wrap(t *sqldb.Tx) *Tx { return &Tx{Tx: t, r: r} }

// Tx is one write transaction.
type Tx struct {
	*sqldb.Tx
	r *Runner
}

// Claim claims requestID for the command under scope (see idempotency.Claim);
// the command's JSON encoding is its fingerprint, so domain command structs
// must encode deterministically (plain structs do). The claim belongs to the
// caller in ctx (caller.From): idempotency.Claim namespaces scope by it, so a
// service passes the bare command name and gets partner isolation for free.
func (t *Tx) Claim(ctx context.Context, scope, requestID string, command any) (result string, replay bool, err error) {
	canonical, err := json.Marshal(command)
	if err != nil {
		return "", false, fmt.Errorf("fingerprint %s: %w", scope, err)
	}
	return idempotency.Claim(ctx, t.Tx, scope, requestID, idempotency.Fingerprint(canonical))
}

// Complete stores the command's result against its request id, for the same
// caller as the Claim (ctx carries it).
func (t *Tx) Complete(ctx context.Context, scope, requestID, result string) error {
	return idempotency.Complete(ctx, t.Tx, scope, requestID, result)
}

// Emit records domain events in the outbox, in this transaction.
func (t *Tx) Emit(ctx context.Context, events ...any) error {
	msgs := make([]outbox.Message, 0, len(events))
	for _, e := range events {
		m, err := t.r.encode(ctx, e)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	return t.r.outbox.Add(ctx, t.Tx, msgs...)
}

// Lookup reads what a completed command stored under requestID for the caller
// in ctx, without claiming it (see idempotency.Lookup): done=false when no
// committed command holds it. command is fingerprinted as Claim does.
func Lookup(ctx context.Context, q idempotency.Querier, scope, requestID string, command any) (result string, done bool, err error) {
	canonical, err := json.Marshal(command)
	if err != nil {
		return "", false, fmt.Errorf("fingerprint %s: %w", scope, err)
	}
	return idempotency.Lookup(ctx, q, scope, requestID, idempotency.Fingerprint(canonical))
}
