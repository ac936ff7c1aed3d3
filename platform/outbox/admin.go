package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"trueup.dev/platform/sqldb"
)

// ParkedEvent is a row the relay gave up on after Options.MaxAttempts
// refusals, as ListParked reports it.
type ParkedEvent struct {
	// Seq is the row's place in the relay order.
	Seq int64
	// ID is the event id, which Unpark takes.
	ID string
	// Subject and Type say what the event is and where it was going.
	Subject, Type string
	// Attempts is how many publishes the broker refused.
	Attempts int
	// LastError is the broker's last refusal.
	LastError string
	// CreatedAt is when the event was committed; ParkedAt when the relay
	// gave up on it.
	CreatedAt, ParkedAt time.Time
}

// ListParked returns up to limit parked rows, oldest first (limit <= 0: 100).
func (o *Outbox) ListParked(ctx context.Context, limit int) ([]ParkedEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	rs, err := o.db.QueryContext(ctx,
		`SELECT seq, id, subject, type, attempts, last_error, created_at, parked_at FROM outbox
		 WHERE sent_at IS NULL AND parked_at IS NOT NULL ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: list parked rows: %w", err)
	}
	defer rs.Close()
	var out []ParkedEvent
	for rs.Next() {
		var (
			p         ParkedEvent
			lastError sql.NullString
		)
		if err := rs.Scan(&p.Seq, &p.ID, &p.Subject, &p.Type, &p.Attempts, &lastError, &p.CreatedAt, &p.ParkedAt); err != nil {
			return nil, fmt.Errorf("outbox: list parked rows: %w", err)
		}
		p.LastError = lastError.String
		out = append(out, p)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("outbox: list parked rows: %w", err)
	}
	return out, nil
}

// Unpark puts the parked rows with the given event ids back in line, with a
// fresh attempt budget (last_error is kept until the next attempt), and
// returns how many it found. Ids that are not parked are ignored. It wakes
// this Outbox's relay; a relay in another process finds the rows within its
// PollInterval.
func (o *Outbox) Unpark(ctx context.Context, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	cond, arg, err := anyOf(o.db.Dialect, "id", 1, ids)
	if err != nil {
		return 0, err
	}
	return o.unpark(ctx, ` AND `+cond, arg)
}

// UnparkAll puts every parked row back in line (see Unpark) and returns how
// many there were.
func (o *Outbox) UnparkAll(ctx context.Context) (int, error) {
	return o.unpark(ctx, "")
}

func (o *Outbox) unpark(ctx context.Context, where string, args ...any) (int, error) {
	var n int64
	err := o.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE outbox SET parked_at = NULL, next_attempt_at = NULL, attempts = 0
			 WHERE sent_at IS NULL AND parked_at IS NOT NULL`+where, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("outbox: unpark rows: %w", err)
	}
	if n > 0 {
		o.Wake()
	}
	return int(n), nil
}

// Republish marks the rows sent at or after since as unsent again, so the
// relay publishes them once more, in seq order, and returns how many. It is
// the repair for a broker that lost writes it had acknowledged (JetStream
// with periodic fsync, after a power loss): the relay believed them
// delivered. Every consumer sees those events again; their inboxes drop the
// ones they had applied. Rows already deleted by the retention purge
// (Options.Retention, 72h by default) cannot be republished.
//
// The rows change a chunk at a time, so SQLite's write lock is never held for
// long, and only rows that existed when Republish began are touched: the
// relay marking them sent again (with a new sent_at, past since) does not
// make Republish chase its own tail.
func (o *Outbox) Republish(ctx context.Context, since time.Time) (int, error) {
	if since.IsZero() {
		return 0, errors.New("outbox: Republish needs a start time")
	}
	var upper sql.NullInt64
	if err := o.db.QueryRowContext(ctx, `SELECT MAX(seq) FROM outbox`).Scan(&upper); err != nil {
		return 0, fmt.Errorf("outbox: republish: %w", err)
	}
	if !upper.Valid {
		return 0, nil
	}
	var (
		total int
		after int64 // rows with seq <= after are done
	)
	for {
		var seqs []int64
		err := o.db.WithTx(ctx, func(tx *sqldb.Tx) error {
			seqs = seqs[:0]
			rs, err := tx.QueryContext(ctx,
				`UPDATE outbox SET sent_at = NULL, next_attempt_at = NULL
				 WHERE seq IN (SELECT seq FROM outbox
				               WHERE sent_at IS NOT NULL AND sent_at >= $1 AND seq > $2 AND seq <= $3
				               ORDER BY seq LIMIT $4)
				 RETURNING seq`, sqldb.Timestamp(since), after, upper.Int64, republishChunk)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				var s int64
				if err := rs.Scan(&s); err != nil {
					return err
				}
				seqs = append(seqs, s)
			}
			return rs.Err()
		})
		if err != nil {
			return total, fmt.Errorf("outbox: republish rows sent since %s (%d done): %w", since.Format(time.RFC3339), total, err)
		}
		total += len(seqs)
		for _, s := range seqs {
			after = max(after, s)
		}
		if len(seqs) > 0 {
			o.Wake()
		}
		if len(seqs) < republishChunk {
			return total, nil
		}
	}
}
