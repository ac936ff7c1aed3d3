package outbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"trueup.dev/platform/sqldb"
)

// Run relays committed rows to the Publisher until ctx ends, then returns
// nil. It wakes on Wake (Add calls it on commit), every PollInterval, and
// when a refused row is due again; it publishes batches of due rows in seq
// order until none are left, and marks each acknowledged row sent. A refused
// row records the attempt and error and waits out its own backoff, or is
// parked after MaxAttempts (see the package documentation); the other rows
// carry on without a pause. Only when nothing in a batch got through (or the
// database failed) does Run pause, with a growing backoff that a Wake cuts
// short. Sent rows older than Retention are deleted now and then.
//
// When ctx ends in the middle of a batch whose publish already succeeded, the
// rows are still marked sent (with a short deadline of its own), so a
// graceful shutdown does not republish them. Then Run drains once more, for
// at most DrainTimeout, so events committed just before shutdown go out now
// rather than at the next start.
func (o *Outbox) Run(ctx context.Context) error {
	if o.pub == nil {
		return errors.New("outbox: Run needs a Publisher")
	}
	ticker := time.NewTicker(o.opts.PollInterval)
	defer ticker.Stop()
	var (
		lastPurge time.Time
		backoff   time.Duration
	)
	for {
		stalled := o.drain(ctx)
		if ctx.Err() != nil {
			o.finalDrain(ctx)
			return nil
		}
		if time.Since(lastPurge) >= min(o.opts.Retention, maxPurgeEvery) {
			o.purge(ctx)
			lastPurge = time.Now()
		}
		var (
			tick  <-chan time.Time
			pause time.Duration
		)
		if stalled {
			// The broker (or the database) is failing everything: pause, but
			// let a commit end the pause, so a new event is tried at once.
			backoff = min(max(2*backoff, minBackoff), o.opts.MaxBackoff)
			pause = backoff
		} else {
			backoff = 0
			tick = ticker.C
			pause = -1
			if !o.nextDue.IsZero() {
				pause = max(time.Until(o.nextDue), 0)
			}
		}
		var (
			t     *time.Timer
			timer <-chan time.Time
		)
		if pause >= 0 {
			t = time.NewTimer(pause)
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-o.wake:
		case <-tick:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
	}
}

// finalDrain publishes what is due once more after Run's context ended,
// bounded by DrainTimeout: the rows committed by the requests a graceful
// shutdown let finish.
func (o *Outbox) finalDrain(ctx context.Context) {
	if o.opts.DrainTimeout < 0 {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.opts.DrainTimeout)
	defer cancel()
	o.drain(dctx)
}

// drain publishes batches until a batch comes back short (nothing left, or
// the rest is claimed by another relay or not due). It reports whether it
// stalled: the database failed, or a batch had rows and none got through.
// A batch in which only some rows were refused is progress: those rows wait
// out their own backoff and the relay carries on.
//
// Batches are pipelined: a published batch goes to a marker goroutine, and
// the next one is fetched and published while it is marked, so the broker
// does not sit idle during the mark's write. At most PipelineDepth batches
// are in hand at once. drain returns only once every batch it published has
// been marked (or has failed to be), so the next pass, which starts again
// from the lowest unsent row, never sees a batch still in flight.
func (o *Outbox) drain(ctx context.Context) (stalled bool) {
	if !o.nextDue.After(time.Now()) {
		o.nextDue = time.Time{} // due now: this drain reads those rows
	}
	m := o.startMarker(ctx)
	defer func() {
		if m.finish() {
			stalled = true
		}
	}()
	// On SQLite, fetches read past the rows this pass already fetched: the
	// batches still being marked are unsent in the table and would be read
	// again. The bound lives only as long as the pass (see the package
	// documentation on cursors). On PostgreSQL the row locks of those
	// batches do the same, and a late commit below them is read at once.
	var after int64
	for ctx.Err() == nil {
		m.slots <- struct{}{} // waits while PipelineDepth batches are in hand
		if m.failed.Load() {
			<-m.slots
			return true // a mark failed: the database is in trouble, pause like for a failed fetch
		}
		b, err := o.claim(ctx, after)
		if err != nil {
			<-m.slots
			if ctx.Err() == nil {
				o.log.WarnContext(ctx, "outbox relay batch failed", "error", err)
			}
			return true
		}
		if len(b.rows) == 0 {
			<-m.slots
			return false
		}
		if o.db.Dialect != sqldb.Postgres {
			after = b.rows[len(b.rows)-1].seq
		}
		b.results = o.publish(ctx, b.rows)
		m.queue <- b
		if countFailed(b.results) == len(b.rows) {
			return true
		}
		if len(b.rows) < o.opts.BatchSize {
			return false
		}
	}
	return false
}

// row is one claimed outbox row.
type row struct {
	seq      int64
	attempts int
	msg      Message
}

// batch is one claimed batch on its way through the pipeline.
type batch struct {
	// tx is the PostgreSQL transaction that holds the rows' locks until the
	// batch is marked; nil on SQLite.
	tx      *sql.Tx
	rows    []row
	results []error // one per row, once published
}

// claim fetches the next batch of due rows. On PostgreSQL it opens the
// batch's transaction and locks the rows, skipping rows other batches hold
// (this relay's own, still being marked, or another replica's). On SQLite it
// reads without a lock, only rows past seq after.
func (o *Outbox) claim(ctx context.Context, after int64) (*batch, error) {
	if o.db.Dialect != sqldb.Postgres {
		rows, err := o.fetch(ctx, o.db, after, "")
		return &batch{rows: rows}, err
	}
	// Not WithTx: the transaction spans two goroutines (claimed and
	// published here, marked and committed by the marker), and a retry
	// after publishing would publish again. It begins without ctx's
	// cancellation so that a published batch can still be marked:
	// database/sql rolls a transaction back when its context ends.
	tx, err := o.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return nil, fmt.Errorf("outbox: begin batch transaction: %w", err)
	}
	rows, err := o.fetch(ctx, tx, 0, " FOR UPDATE SKIP LOCKED")
	if err != nil || len(rows) == 0 {
		_ = tx.Rollback()
		return &batch{}, err
	}
	return &batch{tx: tx, rows: rows}, nil
}

// marker marks the batches of one drain pass, one at a time and in the
// order they were published, in its own goroutine. One goroutine makes the
// marks serial, which SQLite's single writer wants anyway, and keeps the
// relay's state (lastAck, nextDue) to one writer at a time.
type marker struct {
	// slots holds a token per batch in hand, from claim to the end of its
	// mark: its capacity, PipelineDepth, bounds the batches in hand (on
	// PostgreSQL, open transactions and their connections).
	slots  chan struct{}
	queue  chan *batch   // published batches, oldest first
	done   chan struct{} // closed when every queued batch is marked
	failed atomic.Bool   // a mark failed: the pass ends as a stall
}

func (o *Outbox) startMarker(ctx context.Context) *marker {
	m := &marker{
		slots: make(chan struct{}, o.opts.PipelineDepth),
		queue: make(chan *batch, o.opts.PipelineDepth),
		done:  make(chan struct{}),
	}
	go func() {
		defer close(m.done)
		for b := range m.queue {
			if o.markHook != nil {
				o.markHook()
			}
			if err := o.markBatch(ctx, b); err != nil {
				m.failed.Store(true)
				if ctx.Err() == nil {
					o.log.WarnContext(ctx, "outbox relay batch failed", "error", err)
				}
			}
			<-m.slots
		}
	}()
	return m
}

// finish waits for the queued batches to be marked and reports whether any
// mark failed.
func (m *marker) finish() (failed bool) {
	close(m.queue)
	<-m.done
	return m.failed.Load()
}

// markBatch records a published batch's outcome, on PostgreSQL in the
// batch's own transaction, which it then commits, and on SQLite in a write
// transaction of its own. The rows are out, so the mark gets a deadline of
// its own even when ctx has ended: a graceful shutdown does not republish
// them.
func (o *Outbox) markBatch(ctx context.Context, b *batch) error {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	var err error
	if b.tx != nil {
		if err = o.mark(mctx, b.tx, b.rows, b.results); err == nil {
			if err = b.tx.Commit(); err != nil {
				err = fmt.Errorf("outbox: commit batch: %w", err)
			}
		}
		if err != nil {
			_ = b.tx.Rollback()
		}
	} else {
		err = o.db.WithTx(mctx, func(tx *sqldb.Tx) error { return o.mark(mctx, tx, b.rows, b.results) })
	}
	if err != nil {
		return err
	}
	failed := countFailed(b.results)
	if o.published != nil {
		o.published.Add(ctx, int64(len(b.rows)-failed))
	}
	if o.failures != nil && failed > 0 {
		o.failures.Add(ctx, int64(failed))
	}
	return nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// fetch reads up to BatchSize due rows with a seq above after, in seq order.
func (o *Outbox) fetch(ctx context.Context, q querier, after int64, lock string) ([]row, error) {
	rs, err := q.QueryContext(ctx,
		`SELECT seq, attempts, id, subject, type, payload, headers, occurred_at FROM outbox
		 WHERE sent_at IS NULL AND parked_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= $1) AND seq > $3
		 ORDER BY seq LIMIT $2`+lock, sqldb.Now(), o.opts.BatchSize, after)
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
		if err := rs.Scan(&r.seq, &r.attempts, &r.msg.ID, &r.msg.Subject, &r.msg.Type, &r.msg.Payload, &headers, &r.msg.OccurredAt); err != nil {
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

// failureKey groups the refused rows of a batch that get the same UPDATE:
// the same error and the same attempt count, hence the same next attempt.
type failureKey struct {
	msg      string
	attempts int // after this failure
}

// mark records the outcome of a publish: one UPDATE for the acknowledged
// rows, one per distinct (error, attempts) for the others, each with a fixed
// statement text (see anyOf).
func (o *Outbox) mark(ctx context.Context, tx execer, rows []row, results []error) error {
	now := sqldb.Now()
	var sent []int64
	failed := map[failureKey][]row{}
	for i, r := range rows {
		if results[i] == nil {
			sent = append(sent, r.seq)
			continue
		}
		msg := results[i].Error()
		if len(msg) > maxErrorLen {
			msg = msg[:maxErrorLen]
		}
		k := failureKey{msg: msg, attempts: r.attempts + 1}
		failed[k] = append(failed[k], r)
	}
	if len(sent) > 0 {
		cond, arg, err := anyOf(o.db.Dialect, "seq", 2, sent)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE outbox SET sent_at = $1, attempts = attempts + 1 WHERE sent_at IS NULL AND `+cond, now, arg); err != nil {
			return fmt.Errorf("outbox: mark %d rows sent: %w", len(sent), err)
		}
		o.lastAck = time.Now()
	}
	// A refusal counts towards parking only while the broker accepts other
	// rows: then the row is at fault (too large, no stream for its subject).
	// During an outage nothing gets through and rows wait it out unparked.
	brokerUp := len(sent) > 0 || (!o.lastAck.IsZero() && time.Since(o.lastAck) <= o.opts.MaxBackoff)
	for k, rs := range failed {
		seqs := make([]int64, len(rs))
		for i, r := range rs {
			seqs[i] = r.seq
		}
		next := now.Add(o.rowBackoff(k.attempts))
		var parkedAt any // NULL: not parked
		park := brokerUp && k.attempts >= o.opts.MaxAttempts
		if park {
			parkedAt = now
		}
		cond, arg, err := anyOf(o.db.Dialect, "seq", 4, seqs)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, parked_at = $3 WHERE `+cond,
			k.msg, next, parkedAt, arg); err != nil {
			return fmt.Errorf("outbox: record failed publish of %d rows: %w", len(seqs), err)
		}
		if park {
			for _, r := range rs {
				o.log.ErrorContext(ctx, "outbox row parked: the broker keeps refusing it; see trueup outbox parked, then retry",
					"seq", r.seq, "id", r.msg.ID, "subject", r.msg.Subject, "attempts", k.attempts, "error", k.msg)
			}
			if o.parked != nil {
				o.parked.Add(ctx, int64(len(rs)))
			}
			continue
		}
		if o.nextDue.IsZero() || next.Before(o.nextDue) {
			o.nextDue = next
		}
		o.log.WarnContext(ctx, "outbox publish failed", "rows", len(seqs), "first_seq", seqs[0],
			"attempts", k.attempts, "next_attempt_at", next, "error", k.msg)
	}
	return nil
}

// rowBackoff is a refused row's wait before its next attempt, after its
// attempts-th failure: 100ms doubling per attempt, capped at MaxBackoff.
func (o *Outbox) rowBackoff(attempts int) time.Duration {
	shift := min(max(attempts-1, 0), 30) // 100ms<<30 is far past any cap
	return min(minBackoff<<shift, o.opts.MaxBackoff)
}

// anyOf is the condition "col is one of vals", with vals ([]int64 or
// []string) bound as the single parameter $n, so the statement text is the
// same whatever the number of values: pgx prepares and caches every distinct
// statement text on every connection, and one text per batch size would
// fill that cache. PostgreSQL binds vals as an array; SQLite as a JSON
// array, unpacked by json_each.
func anyOf(d sqldb.Dialect, col string, n int, vals any) (cond string, arg any, err error) {
	p := "$" + strconv.Itoa(n)
	if d == sqldb.Postgres {
		return col + " = ANY(" + p + ")", vals, nil
	}
	b, err := json.Marshal(vals)
	if err != nil {
		return "", nil, fmt.Errorf("outbox: encode %s list: %w", col, err)
	}
	return col + " IN (SELECT value FROM json_each(" + p + "))", string(b), nil
}

// purge deletes sent rows older than Retention, a chunk at a time.
func (o *Outbox) purge(ctx context.Context) {
	cutoff := sqldb.Timestamp(time.Now().Add(-o.opts.Retention))
	if _, err := o.db.DeleteInChunks(ctx,
		`DELETE FROM outbox WHERE seq IN (
		   SELECT seq FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1 ORDER BY sent_at LIMIT $2)`,
		purgeChunk, cutoff); err != nil && ctx.Err() == nil {
		o.log.WarnContext(ctx, "outbox purge failed", "error", err)
	}
}
