package store

import (
	"context"
	"fmt"
	"time"

	"trueup.dev/platform/sqldb"
	"trueup.dev/services/ledger/internal/ledger"
)

const periodColumns = `id, start_at, end_at, state, closed_at, closed_by, close_reason, forced, reconciliation_id,
	reconciliation_clean, reconciliation_differences, reconciliation_error, locked_at, locked_by, lock_reason,
	reopened_at, reopened_by, reopen_reason`

func (r reader) Periods(ctx context.Context) ([]*ledger.Period, error) {
	return r.periods(ctx, `SELECT `+periodColumns+` FROM periods ORDER BY start_at`)
}

// LockPeriods reads every period and locks the rows against a concurrent
// change of state (PostgreSQL; SQLite's write transactions are serial): a
// posting shares the lock, so postings never wait for each other, while a
// close, lock or reopen takes it exclusively and waits for the postings in
// flight (and they for it), so no entry lands in a period that closed under
// it.
func (t *tx) LockPeriods(ctx context.Context, exclusive bool) ([]*ledger.Period, error) {
	q := `SELECT ` + periodColumns + ` FROM periods ORDER BY start_at`
	if t.Tx.Dialect == sqldb.Postgres {
		if exclusive {
			q += ` FOR UPDATE`
		} else {
			q += ` FOR SHARE`
		}
	}
	return t.periods(ctx, q)
}

func (t *tx) InsertPeriods(ctx context.Context, ps []*ledger.Period) error {
	rows := make([][]any, 0, len(ps))
	for _, p := range ps {
		rows = append(rows, []any{p.ID, p.Start.UnixMicro(), p.End.UnixMicro(), int(p.State)})
	}
	if _, err := t.exec(ctx, rows, `INSERT INTO periods (id, start_at, end_at, state)`, ` ON CONFLICT DO NOTHING`); err != nil {
		return fmt.Errorf("record %d periods: %w", len(rows), err)
	}
	return nil
}

func (t *tx) UpdatePeriod(ctx context.Context, p *ledger.Period) error {
	res, err := t.Tx.ExecContext(ctx, `UPDATE periods SET state = $2, closed_at = $3, closed_by = $4, close_reason = $5, forced = $6,
		reconciliation_id = $7, reconciliation_clean = $8, reconciliation_differences = $9, reconciliation_error = $10,
		locked_at = $11, locked_by = $12, lock_reason = $13, reopened_at = $14, reopened_by = $15, reopen_reason = $16
		WHERE id = $1`,
		p.ID, int(p.State), micros(p.ClosedAt), p.ClosedBy, p.CloseReason, p.Forced,
		p.ReconciliationID, p.ReconciliationClean, p.ReconciliationDifferences, p.ReconciliationError,
		micros(p.LockedAt), p.LockedBy, p.LockReason, micros(p.ReopenedAt), p.ReopenedBy, p.ReopenReason)
	if err != nil {
		return fmt.Errorf("update period %s: %w", p.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("update period %s: %d rows (%v)", p.ID, n, err)
	}
	return nil
}

func (t *tx) EntriesWithoutPeriod(ctx context.Context, limit int) (map[string]time.Time, error) {
	rows, err := t.Tx.QueryContext(ctx, `SELECT id, effective_at FROM journal_entries WHERE posting_period = '' ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("query entries without a period: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var eff int64
		if err := rows.Scan(&id, &eff); err != nil {
			return nil, fmt.Errorf("scan entry without a period: %w", err)
		}
		out[id] = time.UnixMicro(eff).UTC()
	}
	return out, rows.Err()
}

func (t *tx) SetPostingPeriods(ctx context.Context, periods map[string]string) error {
	for id, p := range periods {
		if _, err := t.Tx.ExecContext(ctx, `UPDATE journal_entries SET posting_period = $2 WHERE id = $1`, id, p); err != nil {
			return fmt.Errorf("set the period of entry %s: %w", id, err)
		}
	}
	return nil
}

// micros is t in unix microseconds, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros is the inverse of micros.
func fromMicros(m int64) time.Time {
	if m == 0 {
		return time.Time{}
	}
	return time.UnixMicro(m).UTC()
}

func (r reader) periods(ctx context.Context, query string, args ...any) ([]*ledger.Period, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query periods: %w", err)
	}
	defer rows.Close()
	var out []*ledger.Period
	for rows.Next() {
		var p ledger.Period
		var start, end, closed, locked, reopened int64
		var state int
		if err := rows.Scan(&p.ID, &start, &end, &state, &closed, &p.ClosedBy, &p.CloseReason, &p.Forced, &p.ReconciliationID,
			&p.ReconciliationClean, &p.ReconciliationDifferences, &p.ReconciliationError, &locked, &p.LockedBy, &p.LockReason,
			&reopened, &p.ReopenedBy, &p.ReopenReason); err != nil {
			return nil, fmt.Errorf("scan period: %w", err)
		}
		p.Start, p.End, p.State = time.UnixMicro(start).UTC(), time.UnixMicro(end).UTC(), ledger.PeriodState(state)
		p.ClosedAt, p.LockedAt, p.ReopenedAt = fromMicros(closed), fromMicros(locked), fromMicros(reopened)
		out = append(out, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read periods: %w", err)
	}
	return out, nil
}
