package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/services/ledger/internal/ledger"
)

// exportPage is how many entries one read of a batch's content takes.
const exportPage = 500

// exportRange is the WHERE on journal entries e of a batch's range:
// [$2, $3) effective, booked into period $5 unless it is empty, posted up
// to $4.
const exportRange = `e.effective_at >= $2 AND e.effective_at < $3 AND ($5 = '' OR e.posting_period = $5) AND e.seq <= $4`

// bounds is r in unix microseconds, open ends as the extremes.
func bounds(r ledger.ExportRange) (int64, int64) {
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !r.From.IsZero() {
		from = ceilMicro(r.From)
	}
	if !r.To.IsZero() {
		to = ceilMicro(r.To)
	}
	return from, to
}

func (t *tx) CreateExportBatch(ctx context.Context, b *ledger.ExportBatch) error {
	if err := t.Tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM journal_entries`).Scan(&b.HighWaterSeq); err != nil {
		return fmt.Errorf("journal high-water mark: %w", err)
	}
	_, err := t.Tx.ExecContext(ctx, `INSERT INTO export_batches (id, period, from_date, to_date, mode, format, max_entries,
		created_at, caller, high_water_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		b.ID, b.Range.Period, b.Range.FromDate(), b.Range.ToDate(), int(b.Mode), int(b.Format), b.MaxEntries,
		b.CreatedAt.UnixMicro(), b.Caller, b.HighWaterSeq)
	if err != nil {
		return fmt.Errorf("insert export batch: %w", err)
	}
	from, to := bounds(b.Range)
	limit := b.MaxEntries
	if limit <= 0 {
		limit = math.MaxInt64
	}
	// The claim, in one statement so that the transaction stays short
	// (about 20 µs an entry on either dialect, measured with 100,000; a
	// caller bounds it with MaxEntries): an entry a live batch holds is
	// skipped; one a concurrent batch claims first (PostgreSQL) is skipped
	// once that one commits.
	res, err := t.Tx.ExecContext(ctx, `INSERT INTO journal_entry_exports (entry_id, batch_id)
		SELECT e.id, $1 FROM journal_entries e
		WHERE `+exportRange+` AND NOT EXISTS (SELECT 1 FROM journal_entry_exports x WHERE x.entry_id = e.id)
		ORDER BY e.seq LIMIT $6
		ON CONFLICT (entry_id) DO NOTHING`, b.ID, from, to, b.HighWaterSeq, b.Range.Period, limit)
	if err != nil {
		return fmt.Errorf("claim entries for export batch: %w", err)
	}
	if b.Entries, err = res.RowsAffected(); err != nil {
		return err
	}
	if _, err := t.Tx.ExecContext(ctx, `INSERT INTO export_batch_entries (batch_id, effective_at, entry_seq, entry_id)
		SELECT x.batch_id, e.effective_at, e.seq, e.id
		FROM journal_entry_exports x JOIN journal_entries e ON e.id = x.entry_id WHERE x.batch_id = $1`, b.ID); err != nil {
		return fmt.Errorf("record export batch entries: %w", err)
	}
	err = t.Tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM export_batch_entries b JOIN journal_lines l ON l.entry_id = b.entry_id WHERE b.batch_id = $1),
		(SELECT COUNT(*) FROM journal_entries e JOIN journal_entry_exports x ON x.entry_id = e.id
			WHERE `+exportRange+` AND x.batch_id <> $1),
		(SELECT COUNT(*) FROM journal_entries e
			WHERE `+exportRange+` AND NOT EXISTS (SELECT 1 FROM journal_entry_exports x WHERE x.entry_id = e.id))`,
		b.ID, from, to, b.HighWaterSeq, b.Range.Period).Scan(&b.Lines, &b.Skipped, &b.Remaining)
	if err != nil {
		return fmt.Errorf("count export batch: %w", err)
	}
	if _, err := t.Tx.ExecContext(ctx, `UPDATE export_batches SET entry_count = $2, line_count = $3, skipped_count = $4,
		remaining_count = $5 WHERE id = $1`, b.ID, b.Entries, b.Lines, b.Skipped, b.Remaining); err != nil {
		return fmt.Errorf("update export batch counts: %w", err)
	}
	return nil
}

func (t *tx) VoidExportBatch(ctx context.Context, id string, at time.Time, reason, by string) error {
	res, err := t.Tx.ExecContext(ctx, `UPDATE export_batches SET voided_at = $2, void_reason = $3, voided_by = $4
		WHERE id = $1 AND voided_at = 0`, id, at.UnixMicro(), reason, by)
	if err != nil {
		return fmt.Errorf("void export batch %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return apperr.Precondition("EXPORT_BATCH_VOIDED", "export batch "+id+" is not live").Wrap(err)
	}
	if _, err := t.Tx.ExecContext(ctx, `DELETE FROM journal_entry_exports WHERE batch_id = $1`, id); err != nil {
		return fmt.Errorf("release the entries of export batch %s: %w", id, err)
	}
	return nil
}

func (t *tx) SetExportChecksum(ctx context.Context, id, sum string, size int64) (string, int64, error) {
	if _, err := t.Tx.ExecContext(ctx, `UPDATE export_batches SET sha256 = $2, size_bytes = $3 WHERE id = $1 AND sha256 = ''`,
		id, sum, size); err != nil {
		return "", 0, fmt.Errorf("record checksum of export batch %s: %w", id, err)
	}
	var got string
	var n int64
	if err := t.Tx.QueryRowContext(ctx, `SELECT sha256, size_bytes FROM export_batches WHERE id = $1`, id).Scan(&got, &n); err != nil {
		return "", 0, fmt.Errorf("read checksum of export batch %s: %w", id, err)
	}
	return got, n, nil
}

const exportBatchColumns = `id, period, from_date, to_date, mode, format, max_entries, created_at, caller, entry_count,
	line_count, skipped_count, remaining_count, high_water_seq, sha256, size_bytes, voided_at, void_reason, voided_by`

func (r reader) GetExportBatch(ctx context.Context, id string) (*ledger.ExportBatch, error) {
	bs, err := r.exportBatches(ctx, `SELECT `+exportBatchColumns+` FROM export_batches WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, apperr.NotFound("export batch", id)
	}
	return bs[0], nil
}

func (r reader) ListExportBatches(ctx context.Context, page paging.Page) ([]*ledger.ExportBatch, error) {
	return r.exportBatches(ctx, `SELECT `+exportBatchColumns+` FROM export_batches
		WHERE $1 = '' OR seq < (SELECT p.seq FROM export_batches p WHERE p.id = $1)
		ORDER BY seq DESC LIMIT $2`, page.After, page.Limit)
}

func (r reader) exportBatches(ctx context.Context, query string, args ...any) ([]*ledger.ExportBatch, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query export batches: %w", err)
	}
	defer rows.Close()
	var out []*ledger.ExportBatch
	for rows.Next() {
		var b ledger.ExportBatch
		var from, to string
		var mode, format int
		var created, voided int64
		if err := rows.Scan(&b.ID, &b.Range.Period, &from, &to, &mode, &format, &b.MaxEntries, &created, &b.Caller,
			&b.Entries, &b.Lines, &b.Skipped, &b.Remaining, &b.HighWaterSeq, &b.Checksum, &b.Size,
			&voided, &b.VoidReason, &b.VoidedBy); err != nil {
			return nil, fmt.Errorf("scan export batch: %w", err)
		}
		if b.Range.Period != "" {
			from, to = "", "" // recorded as well, for a reader of the table
		}
		// For display: the stored days as they were asked (the bounds
		// were applied when the batch was made).
		if b.Range, err = ledger.ParseExportRange(b.Range.Period, from, to, nil); err != nil {
			return nil, fmt.Errorf("export batch %s has a bad range: %w", b.ID, err)
		}
		b.Mode, b.Format = ledger.ExportMode(mode), ledger.ExportFormat(format)
		b.CreatedAt = time.UnixMicro(created).UTC()
		if voided != 0 {
			b.VoidedAt = time.UnixMicro(voided).UTC()
		}
		out = append(out, &b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read export batches: %w", err)
	}
	return out, nil
}

// exportLinesQuery reads the lines of a page of a batch's entries, those
// after ($2, $3) in (effective_at, entry_seq) order, by the batch's key.
const exportLinesQuery = `SELECT b.effective_at, b.entry_seq, e.id, e.posted_at, e.description,
	e.source_service, e.source_event_type, e.source_event_id, e.source_document_id, e.source_movement_id,
	e.source_seq, e.source_trace_id, e.rule, e.rule_version, e.reverses,
	l.line_no, l.account, COALESCE(a.display_name, ''), l.side, l.amount, l.currency,
	l.warehouse, l.item, l.lot, l.document, l.partner
	FROM (SELECT effective_at, entry_seq FROM export_batch_entries
		WHERE batch_id = $1 AND effective_at >= $2 AND (effective_at > $2 OR entry_seq > $3)
		ORDER BY effective_at, entry_seq LIMIT $4) b
	JOIN journal_entries e ON e.seq = b.entry_seq
	JOIN journal_lines l ON l.entry_id = e.id
	LEFT JOIN accounts a ON a.code = l.account
	ORDER BY b.effective_at, b.entry_seq, l.line_no`

func (r reader) ExportLines(ctx context.Context, id string, fn func([]ledger.ExportLine) error) error {
	afterAt, afterSeq := int64(math.MinInt64), int64(0)
	for {
		lines, entries, err := r.exportLines(ctx, id, afterAt, afterSeq)
		if err != nil {
			return err
		}
		if len(lines) > 0 {
			if err := fn(lines); err != nil {
				return err
			}
			last := lines[len(lines)-1]
			afterAt, afterSeq = last.EffectiveAt.UnixMicro(), last.Seq
		}
		if entries < exportPage {
			return nil
		}
	}
}

// exportLines reads one page; entries counts the entries it held.
func (r reader) exportLines(ctx context.Context, id string, afterAt, afterSeq int64) ([]ledger.ExportLine, int, error) {
	rows, err := r.q.QueryContext(ctx, exportLinesQuery, id, afterAt, afterSeq, exportPage)
	if err != nil {
		return nil, 0, fmt.Errorf("query export batch %s: %w", id, err)
	}
	defer rows.Close()
	var out []ledger.ExportLine
	entries := 0
	var prev int64 = -1
	for rows.Next() {
		var l ledger.ExportLine
		var eff, posted int64
		var side int
		s, d := &l.Source, &l.Dims
		if err := rows.Scan(&eff, &l.Seq, &l.EntryID, &posted, &l.Description,
			&s.Service, &s.EventType, &s.EventID, &s.DocumentID, &s.MovementID, &s.Seq, &s.TraceID,
			&l.Rule, &l.RuleVersion, &l.Reverses,
			&l.LineNo, &l.Account, &l.AccountName, &side, &l.Amount, &l.Currency,
			&d.Warehouse, &d.Item, &d.Lot, &d.Document, &d.Partner); err != nil {
			return nil, 0, fmt.Errorf("scan export line: %w", err)
		}
		l.Side = ledger.Side(side)
		l.EffectiveAt = time.UnixMicro(eff).UTC()
		l.PostedAt = time.UnixMicro(posted).UTC()
		if l.Seq != prev {
			entries++
			prev = l.Seq
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read export batch %s: %w", id, err)
	}
	return out, entries, nil
}
