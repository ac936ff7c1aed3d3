package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"trueup.dev/platform/sqldb"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
)

func (r reader) InventoryAfter(ctx context.Context, account string, after int64) (map[ledger.StockKey]int64, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT l.warehouse, l.item, l.currency,
		CAST(SUM(CASE WHEN l.side = 1 THEN l.amount ELSE -l.amount END) AS BIGINT)
		FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
		WHERE e.source_seq > $1 AND e.source_service = 'inventory' AND l.account = $2
		GROUP BY l.warehouse, l.item, l.currency`, after, account)
	if err != nil {
		return nil, fmt.Errorf("query entries after seq %d: %w", after, err)
	}
	defer rows.Close()
	out := map[ledger.StockKey]int64{}
	for rows.Next() {
		var k ledger.StockKey
		var v int64
		if err := rows.Scan(&k.Warehouse, &k.Item, &k.Currency, &v); err != nil {
			return nil, fmt.Errorf("scan entries after seq: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

func (r reader) ManualEntriesOn(ctx context.Context, account string) (map[ledger.StockKey][]string, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT DISTINCT l.warehouse, l.item, l.currency, e.id, e.seq
		FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id
		WHERE e.source_service <> 'inventory' AND l.account = $1 ORDER BY e.seq`, account)
	if err != nil {
		return nil, fmt.Errorf("query manual entries on %s: %w", account, err)
	}
	defer rows.Close()
	out := map[ledger.StockKey][]string{}
	for rows.Next() {
		var k ledger.StockKey
		var id string
		var seq int64
		if err := rows.Scan(&k.Warehouse, &k.Item, &k.Currency, &id, &seq); err != nil {
			return nil, fmt.Errorf("scan manual entries: %w", err)
		}
		out[k] = append(out[k], id)
	}
	return out, rows.Err()
}

// postedQuery looks up chunkRows movement ids at a time (a short chunk is
// padded with its first id): one statement text on both dialects.
var postedQuery = `SELECT source_movement_id FROM journal_entries WHERE source_movement_id IN (` + placeholders(chunkRows) + `)`

func placeholders(n int) string {
	var sb strings.Builder
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "$%d", i+1)
	}
	return sb.String()
}

func (r reader) PostedMovements(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), chunkRows)]
		ids = ids[len(chunk):]
		args := make([]any, chunkRows)
		for i := range args {
			args[i] = chunk[min(i, len(chunk)-1)]
		}
		if err := func() error {
			rows, err := r.q.QueryContext(ctx, postedQuery, args...)
			if err != nil {
				return fmt.Errorf("query posted movements: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					return fmt.Errorf("scan posted movement: %w", err)
				}
				out[id] = true
			}
			return rows.Err()
		}(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r reader) LastCheckpoint(ctx context.Context) (int64, error) {
	var c int64
	err := r.q.QueryRowContext(ctx, `SELECT COALESCE((SELECT checkpoint FROM reconciliations ORDER BY run_at DESC, id DESC LIMIT 1), 0)`).Scan(&c)
	if err != nil {
		return 0, fmt.Errorf("last reconciliation checkpoint: %w", err)
	}
	return c, nil
}

func (t *tx) SaveReconciliation(ctx context.Context, run app.ReconciliationRun) error {
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO reconciliations (id, run_at, through_seq, checkpoint, clean, differences, caller)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, run.ID, run.RunAt.UnixMicro(), run.Through, run.Checkpoint, run.Clean, run.Differences, run.Caller)
	if err != nil {
		return fmt.Errorf("save reconciliation: %w", err)
	}
	return nil
}

// Snapshot implements app.Store: fn reads one consistent view (a read-only
// transaction; repeatable read on PostgreSQL, where a plain transaction sees
// each statement's own snapshot; SQLite's read transaction is one snapshot
// from its first read).
func (s *Store) Snapshot(ctx context.Context, fn func(r app.Reader) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.db.Dialect == sqldb.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin snapshot: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	return fn(reader{q: tx})
}
