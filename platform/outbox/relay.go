package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"trueup.dev/platform/sqldb"
)

// Run relays committed rows to the Publisher until ctx ends, then returns
// nil. It wakes on Wake (Add calls it on commit) or every PollInterval,
// publishes batches of unsent rows in seq order until none are left, and
// marks each acknowledged row sent. A failed publish leaves its rows unsent,
// records the attempt and error on them, and pauses the relay with a growing
// backoff. Sent rows older than Retention are deleted now and then.
//
// When ctx ends in the middle of a batch whose publish already succeeded, the
// rows are still marked sent (with a short deadline of its own), so a
// graceful shutdown does not republish them.
func (o *Outbox) Run(ctx context.Context) error {
	ticker := time.NewTicker(o.opts.PollInterval)
	defer ticker.Stop()
	var (
		lastPurge time.Time
		backoff   time.Duration
	)
	for {
		failed := o.drain(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(lastPurge) >= min(o.opts.Retention, maxPurgeEvery) {
			o.purge(ctx)
			lastPurge = time.Now()
		}
		if failed {
			backoff = min(max(2*backoff, minBackoff), o.opts.MaxBackoff)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			continue
		}
		backoff = 0
		select {
		case <-ctx.Done():
			return nil
		case <-o.wake:
		case <-ticker.C:
		}
	}
}

// drain publishes batches until a batch comes back short (nothing left, or
// the rest is claimed by another relay). It reports whether anything failed.
func (o *Outbox) drain(ctx context.Context) (failed bool) {
	for ctx.Err() == nil {
		n, nFailed, err := o.relayBatch(ctx)
		if err == nil {
			if o.published != nil {
				o.published.Add(ctx, int64(n-nFailed))
			}
			if o.failures != nil && nFailed > 0 {
				o.failures.Add(ctx, int64(nFailed))
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				o.log.WarnContext(ctx, "outbox relay batch failed", "error", err)
			}
			return true
		}
		// Back off only when nothing got through: one event the broker keeps
		// refusing (too large, no stream) must not throttle every other event.
		if nFailed > 0 && nFailed == n {
			return true
		}
		if n < o.opts.BatchSize {
			return nFailed > 0
		}
	}
	return false
}

// row is one claimed outbox row.
type row struct {
	seq int64
	msg Message
}

// relayBatch claims, publishes and marks one batch. It returns how many rows
// it claimed and how many of them were not acknowledged.
func (o *Outbox) relayBatch(ctx context.Context) (n, failed int, err error) {
	if o.db.Dialect == sqldb.Postgres {
		// The transaction must outlive ctx so a published batch can still
		// be marked: database/sql rolls a transaction back when the
		// context it began with ends.
		err = o.db.WithTx(context.WithoutCancel(ctx), func(tx *sqldb.Tx) error {
			rows, err := o.fetch(ctx, tx, " FOR UPDATE SKIP LOCKED")
			if err != nil || len(rows) == 0 {
				n, failed = 0, 0
				return err
			}
			results := o.publish(ctx, rows)
			n, failed = len(rows), countFailed(results)
			mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
			defer cancel()
			return o.mark(mctx, tx, rows, results)
		})
		return n, failed, err
	}

	rows, err := o.fetch(ctx, o.db, "")
	if err != nil || len(rows) == 0 {
		return 0, 0, err
	}
	results := o.publish(ctx, rows)
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	err = o.db.WithTx(mctx, func(tx *sqldb.Tx) error { return o.mark(mctx, tx, rows, results) })
	return len(rows), countFailed(results), err
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (o *Outbox) fetch(ctx context.Context, q querier, lock string) ([]row, error) {
	rs, err := q.QueryContext(ctx,
		`SELECT seq, id, subject, type, payload, headers, occurred_at FROM outbox
		 WHERE sent_at IS NULL ORDER BY seq LIMIT $1`+lock, o.opts.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("outbox: fetch unsent rows: %w", err)
	}
	defer rs.Close()
	var rows []row
	for rs.Next() {
		var (
			r       row
			headers string
		)
		if err := rs.Scan(&r.seq, &r.msg.ID, &r.msg.Subject, &r.msg.Type, &r.msg.Payload, &headers, &r.msg.OccurredAt); err != nil {
			return nil, fmt.Errorf("outbox: fetch unsent rows: %w", err)
		}
		if err := json.Unmarshal([]byte(headers), &r.msg.Headers); err != nil {
			// Only a hand-edited row gets here; losing its trace context
			// beats blocking the relay.
			o.log.WarnContext(ctx, "outbox row has malformed headers", "id", r.msg.ID, "error", err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("outbox: fetch unsent rows: %w", err)
	}
	return rows, nil
}

// publish hands the batch to the Publisher and returns one result per row.
func (o *Outbox) publish(ctx context.Context, rows []row) []error {
	msgs := make([]Message, len(rows))
	for i, r := range rows {
		msgs[i] = r.msg
	}
	// A broker that never acknowledges (a lost ack, a leader election) must not
	// hold the batch, and on PostgreSQL its row locks, for ever.
	pctx, cancel := context.WithTimeout(ctx, o.opts.PublishTimeout)
	defer cancel()
	results, err := o.pub.Publish(pctx, msgs)
	if err == nil && len(results) != len(msgs) {
		err = fmt.Errorf("publisher returned %d results for %d messages", len(results), len(msgs))
	}
	if err != nil {
		results = make([]error, len(msgs))
		for i := range results {
			results[i] = err
		}
	}
	return results
}

func countFailed(results []error) int {
	n := 0
	for _, err := range results {
		if err != nil {
			n++
		}
	}
	return n
}

// mark records the outcome of a publish: one UPDATE for the acknowledged
// rows, one per distinct error for the others.
func (o *Outbox) mark(ctx context.Context, tx *sqldb.Tx, rows []row, results []error) error {
	var sent []int64
	failed := map[string][]int64{}
	for i, r := range rows {
		if results[i] == nil {
			sent = append(sent, r.seq)
			continue
		}
		msg := results[i].Error()
		if len(msg) > maxErrorLen {
			msg = msg[:maxErrorLen]
		}
		failed[msg] = append(failed[msg], r.seq)
	}
	if len(sent) > 0 {
		q, args := inList(`UPDATE outbox SET sent_at = $1, attempts = attempts + 1 WHERE sent_at IS NULL AND seq IN `, sent, sqldb.Now())
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("outbox: mark %d rows sent: %w", len(sent), err)
		}
	}
	for msg, seqs := range failed {
		q, args := inList(`UPDATE outbox SET attempts = attempts + 1, last_error = $1 WHERE seq IN `, seqs, msg)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("outbox: record failed publish of %d rows: %w", len(seqs), err)
		}
		o.log.WarnContext(ctx, "outbox publish failed", "rows", len(seqs), "first_seq", seqs[0], "error", msg)
	}
	return nil
}

// inList appends "($2, $3, …)" for seqs to query, after the leading args.
func inList(query string, seqs []int64, leading ...any) (string, []any) {
	var b strings.Builder
	b.WriteString(query)
	b.WriteString("(")
	args := append(make([]any, 0, len(leading)+len(seqs)), leading...)
	for i, s := range seqs {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, s)
		b.WriteString("$" + strconv.Itoa(len(args)))
	}
	b.WriteString(")")
	return b.String(), args
}

// purge deletes sent rows older than Retention, a chunk at a time.
func (o *Outbox) purge(ctx context.Context) {
	cutoff := sqldb.Timestamp(time.Now().Add(-o.opts.Retention))
	for ctx.Err() == nil {
		res, err := o.db.ExecContext(ctx,
			`DELETE FROM outbox WHERE seq IN (
			   SELECT seq FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1 ORDER BY sent_at LIMIT $2)`,
			cutoff, purgeChunk)
		if err != nil {
			if ctx.Err() == nil {
				o.log.WarnContext(ctx, "outbox purge failed", "error", err)
			}
			return
		}
		if n, err := res.RowsAffected(); err != nil || n < purgeChunk {
			return
		}
	}
}
