package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/inbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
)

// chunkRows is how many rows one multi-row INSERT carries: a write of n rows
// runs n/chunkRows full statements and one remainder, so a table has at most
// chunkRows distinct statement texts (the SQLite statement cache stays small).
const chunkRows = 50

// microsPerDay is one UTC day in unix microseconds.
const microsPerDay = int64(86400 * 1_000_000)

// dayOf is the UTC day number of t (floor(unix seconds / 86400)).
func dayOf(micros int64) int64 {
	d := micros / microsPerDay
	if micros%microsPerDay < 0 {
		d--
	}
	return d
}

// ceilMicro is t in unix microseconds, rounded up: for a bound at t, a
// stored instant m (whole microseconds) is before t exactly when m < ceilMicro(t).
func ceilMicro(t time.Time) int64 {
	m := t.UnixMicro()
	if time.UnixMicro(m).Before(t) {
		m++
	}
	return m
}

// values is the VALUES list of a multi-row INSERT of rows rows of cols
// columns, $1 onwards.
func values(rows, cols int) string {
	var sb strings.Builder
	n := 0
	for i := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for j := range cols {
			if j > 0 {
				sb.WriteString(", ")
			}
			n++
			sb.WriteString("$" + strconv.Itoa(n))
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

// chunks calls fn with the query text and arguments of each chunk of rows:
// head + VALUES list + tail.
func chunks(rows [][]any, head, tail string, fn func(query string, args []any) error) error {
	if len(rows) == 0 {
		return nil
	}
	cols := len(rows[0])
	for start := 0; start < len(rows); start += chunkRows {
		chunk := rows[start:min(start+chunkRows, len(rows))]
		args := make([]any, 0, len(chunk)*cols)
		for _, r := range chunk {
			args = append(args, r...)
		}
		if err := fn(head+" VALUES "+values(len(chunk), cols)+tail, args); err != nil {
			return err
		}
	}
	return nil
}

// exec runs rows as chunked multi-row INSERTs and returns the rows affected.
func (t *tx) exec(ctx context.Context, rows [][]any, head, tail string) (int64, error) {
	var n int64
	err := chunks(rows, head, tail, func(query string, args []any) error {
		res, err := t.Tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		n += k
		return err
	})
	return n, err
}

// ---- write side ----

func (t *tx) SeedChart(ctx context.Context, accounts []ledger.Account, now time.Time) (int, error) {
	rows := make([][]any, 0, len(accounts))
	seen := map[string]bool{}
	for _, a := range accounts {
		if seen[a.Code] {
			continue
		}
		seen[a.Code] = true
		rows = append(rows, []any{a.Code, a.DisplayName, int(a.Type), a.CurrencyCode, now.UnixMicro()})
	}
	n, err := t.exec(ctx, rows, `INSERT INTO accounts (`+accountColumns+`)`, ` ON CONFLICT (code) DO NOTHING`)
	if err != nil {
		return 0, fmt.Errorf("seed chart of accounts: %w", err)
	}
	return int(n), nil
}

func (t *tx) SeedRules(ctx context.Context, rs *ledger.RuleSet, now time.Time) error {
	var n int
	if err := t.Tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM posting_rules WHERE version = $1`, rs.Version).Scan(&n); err != nil {
		return fmt.Errorf("look up posting rules version %d: %w", rs.Version, err)
	}
	if n > 0 {
		return nil
	}
	return t.InsertRuleSet(ctx, rs, now)
}

// InsertRuleSet stores a new rule version; Conflict when the version
// exists (another writer took the number first).
func (t *tx) InsertRuleSet(ctx context.Context, rs *ledger.RuleSet, now time.Time) error {
	rows := make([][]any, 0, len(rs.Rules))
	for _, r := range rs.Rules {
		roles := r.Roles
		if roles == nil {
			roles = map[string]string{}
		}
		b, err := json.Marshal(roles)
		if err != nil {
			return fmt.Errorf("encode roles of posting rule %s: %w", r.Key, err)
		}
		since := r.Since
		if since == 0 {
			since = rs.Version
		}
		rows = append(rows, []any{rs.Version, r.Key, r.Account, r.Counter, r.Description, string(b), since, now.UnixMicro()})
	}
	n, err := t.exec(ctx, rows, `INSERT INTO posting_rules (version, key, account, counter, description, roles, since_version, created_at)`,
		` ON CONFLICT (version, key) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("store posting rules version %d: %w", rs.Version, err)
	}
	if n != int64(len(rows)) {
		return apperr.Conflict(fmt.Sprintf("posting rules version %d was created by another call at the same time; retry", rs.Version), nil)
	}
	return nil
}

func (t *tx) RecordEvents(ctx context.Context, consumer string, eventIDs []string) (map[string]bool, error) {
	return inbox.Record(ctx, t.Tx.Tx, consumer, eventIDs)
}

const entryInsertColumns = `id, effective_at, posted_at, description, source_service, source_event_type, source_event_id,
	source_document_id, source_movement_id, source_seq, source_trace_id, rule, rule_version, reverses, reason, caller,
	posting_period, adjusting`

// entryTypes are the PostgreSQL types of entryInsertColumns, for insertPostgres.
var entryTypes = []string{"text", "bigint", "bigint", "text", "text", "text", "text",
	"text", "text", "bigint", "text", "text", "integer", "text", "text", "text",
	"text", "boolean"}

const lineColumns = `entry_id, line_no, account, side, amount, currency, warehouse, item, lot, document, partner, effective_at`

// lineTypes are the PostgreSQL types of lineColumns.
var lineTypes = []string{"text", "integer", "text", "smallint", "bigint", "text", "text", "text", "text", "text", "text", "bigint"}

const balanceColumns = `account, currency, warehouse, item, lot, document, partner, day, debit, credit`

// balanceTypes are the PostgreSQL types of balanceColumns.
var balanceTypes = []string{"text", "text", "text", "text", "text", "text", "text", "bigint", "bigint", "bigint"}

// balanceKey is one row of the balances table.
type balanceKey struct {
	account, currency                       string
	warehouse, item, lot, document, partner string
	day                                     int64
}

func (k balanceKey) compare(o balanceKey) int {
	for _, c := range [...]int{
		strings.Compare(k.account, o.account), strings.Compare(k.currency, o.currency),
		strings.Compare(k.warehouse, o.warehouse), strings.Compare(k.item, o.item),
		strings.Compare(k.lot, o.lot), strings.Compare(k.document, o.document),
		strings.Compare(k.partner, o.partner),
	} {
		if c != 0 {
			return c
		}
	}
	switch {
	case k.day < o.day:
		return -1
	case k.day > o.day:
		return 1
	}
	return 0
}

// InsertEntries writes entries, their lines and the balance deltas. On an
// error the transaction must be rolled back (as InTx does).
func (t *tx) InsertEntries(ctx context.Context, entries []*ledger.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	entryRows := make([][]any, 0, len(entries))
	var lineRows [][]any
	type sums struct{ debit, credit int64 }
	deltas := map[balanceKey]*sums{}
	for _, e := range entries {
		eff := e.EffectiveAt.UnixMicro()
		s := e.Source
		entryRows = append(entryRows, []any{e.ID, eff, e.PostedAt.UnixMicro(), e.Description, s.Service, s.EventType, s.EventID,
			s.DocumentID, s.MovementID, s.Seq, s.TraceID, e.Rule, e.RuleVersion, e.Reverses, e.Reason, e.Caller,
			e.PostingPeriod, e.Adjusting})
		day := dayOf(eff)
		for i, l := range e.Lines {
			d := l.Dims
			lineRows = append(lineRows, []any{e.ID, i + 1, l.Account, int(l.Side), l.Amount, l.Currency,
				d.Warehouse, d.Item, d.Lot, d.Document, d.Partner, eff})
			k := balanceKey{l.Account, l.Currency, d.Warehouse, d.Item, d.Lot, d.Document, d.Partner, day}
			b := deltas[k]
			if b == nil {
				b = &sums{}
				deltas[k] = b
			}
			if l.Side == ledger.Credit {
				b.credit += l.Amount
			} else {
				b.debit += l.Amount
			}
		}
	}

	keys := make([]balanceKey, 0, len(deltas))
	for k := range deltas {
		keys = append(keys, k)
	}
	// A fixed order: two transactions touching the same balances lock them
	// in the same order.
	slices.SortFunc(keys, balanceKey.compare)
	balanceRows := make([][]any, 0, len(keys))
	for _, k := range keys {
		b := deltas[k]
		balanceRows = append(balanceRows, []any{k.account, k.currency, k.warehouse, k.item, k.lot, k.document, k.partner, k.day, b.debit, b.credit})
	}

	if t.Tx.Dialect == sqldb.Postgres {
		return t.insertPostgres(ctx, entries, entryRows, lineRows, balanceRows)
	}
	if err := t.insertEntriesOnConflict(ctx, entries, entryRows); err != nil {
		return err
	}
	if _, err := t.exec(ctx, lineRows, `INSERT INTO journal_lines (`+lineColumns+`)`, ""); err != nil {
		return fmt.Errorf("insert %d journal lines: %w", len(lineRows), err)
	}
	if _, err := t.exec(ctx, balanceRows, `INSERT INTO balances (`+balanceColumns+`)`, balanceUpsert); err != nil {
		return fmt.Errorf("update %d balances: %w", len(balanceRows), err)
	}
	return nil
}

// balanceUpsert adds a balance row's delta to the row of its key.
const balanceUpsert = ` ON CONFLICT (account, currency, warehouse, item, lot, document, partner, day)
		  DO UPDATE SET debit = balances.debit + excluded.debit, credit = balances.credit + excluded.credit`

// insertPostgres writes a batch's entries, lines and balance deltas in one
// statement (one round trip, one text whatever the batch size): each
// table's rows from unnest(an array a column), the entries and lines as
// data-modifying WITH queries of the balances' upsert (in key order, as the
// rows come).
//
// The entries' insert is a plain INSERT: ON CONFLICT DO NOTHING makes every
// row a speculative insertion (a pre-check of each unique index, a
// speculative lock and an extra WAL record), ~20% of the entries' insert. A
// conflict fails the statement instead, and its constraint and key say
// which entry was posted already (the transaction is rolled back on the
// error either way, as on SQLite).
func (t *tx) insertPostgres(ctx context.Context, entries []*ledger.Entry, entryRows, lineRows, balanceRows [][]any) error {
	var args []any
	unnest := func(rows [][]any, pgTypes []string) string {
		params := make([]string, len(pgTypes))
		for j, typ := range pgTypes {
			args = append(args, column(rows, j, typ))
			params[j] = "$" + strconv.Itoa(len(args)) + "::" + typ + "[]"
		}
		return "SELECT * FROM unnest(" + strings.Join(params, ", ") + ")"
	}
	query := `WITH e AS (INSERT INTO journal_entries (` + entryInsertColumns + `) ` + unnest(entryRows, entryTypes) + `),
		l AS (INSERT INTO journal_lines (` + lineColumns + `) ` + unnest(lineRows, lineTypes) + `)
		INSERT INTO balances (` + balanceColumns + `) ` + unnest(balanceRows, balanceTypes) + balanceUpsert
	if _, err := t.Tx.ExecContext(ctx, query, args...); err != nil {
		if c := entryConflict(err, entries); c != nil {
			return c
		}
		return fmt.Errorf("insert %d journal entries, %d lines, %d balance deltas: %w", len(entryRows), len(lineRows), len(balanceRows), err)
	}
	return nil
}

// insertEntriesOnConflict is the SQLite insert of the entries: a conflict
// (on the event id, or the entry id) inserts nothing and returns no id, so
// the entry that was posted already shows.
func (t *tx) insertEntriesOnConflict(ctx context.Context, entries []*ledger.Entry, entryRows [][]any) error {
	inserted := map[string]int{}
	err := chunks(entryRows, `INSERT INTO journal_entries (`+entryInsertColumns+`)`, ` ON CONFLICT DO NOTHING RETURNING id`,
		func(query string, args []any) error {
			rows, err := t.Tx.QueryContext(ctx, query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					return err
				}
				inserted[id]++
			}
			return rows.Err()
		})
	if err != nil {
		return fmt.Errorf("insert %d journal entries: %w", len(entries), err)
	}
	for _, e := range entries {
		if inserted[e.ID] > 0 {
			inserted[e.ID]--
			continue
		}
		if e.Source.EventID != "" {
			var exists bool
			if err := t.Tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM journal_entries WHERE source_event_id = $1 AND source_movement_id = $2)`,
				e.Source.EventID, e.Source.MovementID).Scan(&exists); err != nil {
				return fmt.Errorf("look up journal entry for event %s: %w", e.Source.EventID, err)
			}
			if exists {
				return apperr.AlreadyExists("journal entry for event", e.Source.EventID, "")
			}
		}
		return apperr.AlreadyExists("journal entry", e.ID, "")
	}
	return nil
}

// column is column j of rows as a slice of the Go type of its PostgreSQL
// type: pgx encodes a []string or []int64 directly, a []any by reflection
// value by value. A value of another Go type (none here) keeps the []any.
func column(rows [][]any, j int, pgType string) any {
	var col any
	ok := true
	switch pgType {
	case "text":
		c := make([]string, len(rows))
		for i, r := range rows {
			c[i], ok = r[j].(string)
			if !ok {
				break
			}
		}
		col = c
	case "bigint", "integer", "smallint":
		c := make([]int64, len(rows))
		for i, r := range rows {
			switch v := r[j].(type) {
			case int:
				c[i] = int64(v)
			case int64:
				c[i] = v
			default:
				ok = false
			}
			if !ok {
				break
			}
		}
		col = c
	case "boolean":
		c := make([]bool, len(rows))
		for i, r := range rows {
			c[i], ok = r[j].(bool)
			if !ok {
				break
			}
		}
		col = c
	default:
		ok = false
	}
	if ok {
		return col
	}
	c := make([]any, len(rows))
	for i, r := range rows {
		c[i] = r[j]
	}
	return c
}

// entryConflict is the AlreadyExists a unique violation of insertPostgres
// means (nil for any other error), as the SQLite path reports it: the event
// id for journal_entries_by_event, else the entry of the batch holding the
// conflicting entry id (journal_entries_id_key, or journal_lines_pkey: Key
// (entry_id, line_no)=(id, n)) or reversed entry (journal_entries_reversal).
func entryConflict(err error, entries []*ledger.Entry) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != pgerrcode.UniqueViolation {
		return nil
	}
	// Detail: Key (column)=(value) already exists.
	key := pgErr.Detail
	if _, after, ok := strings.Cut(key, ")=("); ok {
		key = strings.TrimSuffix(after, ") already exists.")
	}
	switch pgErr.ConstraintName {
	case "journal_lines_pkey":
		if i := strings.LastIndex(key, ", "); i >= 0 {
			key = key[:i]
		}
	case "journal_entries_by_event":
		return apperr.AlreadyExists("journal entry for event", key, "")
	case "journal_entries_reversal":
		for _, e := range entries {
			if e.Reverses == key {
				return apperr.AlreadyExists("journal entry", e.ID, "")
			}
		}
	}
	return apperr.AlreadyExists("journal entry", key, "")
}

func (t *tx) ParkEvents(ctx context.Context, events []*ledger.ParkedEvent) error {
	// One row per event id (a statement may not update a row twice): the
	// first occurrence's content, the last one's reason.
	index := map[string]int{}
	var rows [][]any
	for _, e := range events {
		if i, ok := index[e.EventID]; ok {
			rows[i][5] = e.Reason
			continue
		}
		headers := e.Headers
		if headers == nil {
			headers = map[string]string{}
		}
		h, err := json.Marshal(headers)
		if err != nil {
			return fmt.Errorf("encode headers of parked event %s: %w", e.EventID, err)
		}
		payload := e.Payload
		if payload == nil {
			payload = []byte{}
		}
		index[e.EventID] = len(rows)
		rows = append(rows, []any{e.EventID, e.EventType, e.Subject, payload, string(h), e.Reason, e.ParkedAt.UnixMicro()})
	}
	if _, err := t.exec(ctx, rows, `INSERT INTO parked_events (event_id, event_type, subject, payload, headers, reason, parked_at)`,
		` ON CONFLICT (event_id) DO UPDATE SET reason = excluded.reason`); err != nil {
		return fmt.Errorf("park %d events: %w", len(rows), err)
	}
	return nil
}

func (t *tx) UnparkEvents(ctx context.Context, eventIDs []string) error {
	for _, id := range eventIDs {
		if _, err := t.Tx.ExecContext(ctx, `DELETE FROM parked_events WHERE event_id = $1`, id); err != nil {
			return fmt.Errorf("unpark event %s: %w", id, err)
		}
	}
	return nil
}

// ---- read side ----

const entryColumns = `e.seq, ` + `e.id, e.effective_at, e.posted_at, e.description, e.source_service, e.source_event_type, e.source_event_id,
	e.source_document_id, e.source_movement_id, e.source_seq, e.source_trace_id, e.rule, e.rule_version, e.reverses, e.reason, e.caller,
	e.posting_period, e.adjusting`

func (r reader) GetEntry(ctx context.Context, id string) (*ledger.Entry, error) {
	return r.oneEntry(ctx, "journal entry", `e.id = $1`, id)
}

func (r reader) EntryBySourceEvent(ctx context.Context, eventID string) (*ledger.Entry, error) {
	if eventID == "" {
		return nil, apperr.NotFound("journal entry for event", eventID)
	}
	return r.oneEntry(ctx, "journal entry for event", `e.source_event_id = $1`, eventID)
}

func (r reader) ReversalOf(ctx context.Context, id string) (*ledger.Entry, error) {
	if id == "" {
		return nil, apperr.NotFound("reversal of journal entry", id)
	}
	return r.oneEntry(ctx, "reversal of journal entry", `e.reverses = $1`, id)
}

func (r reader) oneEntry(ctx context.Context, resource, where, arg string) (*ledger.Entry, error) {
	es, _, err := r.entries(ctx, `SELECT `+entryColumns+` FROM journal_entries e WHERE `+where, arg)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, apperr.NotFound(resource, arg)
	}
	err = r.lines(ctx, es, `SELECT l.entry_id, `+lineColumnsRead+` FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
		WHERE `+where+` ORDER BY e.seq, l.line_no`, arg)
	if err != nil {
		return nil, err
	}
	return es[0], nil
}

// entryFilter is the WHERE of ListEntries: $1 the id after which to start,
// $2 account, $3 document, $4 movement, [$5, $6) the effective time.
const entryFilter = `e.seq > COALESCE((SELECT p.seq FROM journal_entries p WHERE p.id = $1), 0)
	AND ($2 = '' OR EXISTS (SELECT 1 FROM journal_lines a WHERE a.entry_id = e.id AND a.account = $2))
	AND ($3 = '' OR e.source_document_id = $3)
	AND ($4 = '' OR e.source_movement_id = $4)
	AND e.effective_at >= $5 AND e.effective_at < $6`

func (r reader) ListEntries(ctx context.Context, f app.EntryFilter, page paging.Page) ([]*ledger.Entry, error) {
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !f.From.IsZero() {
		from = ceilMicro(f.From)
	}
	if !f.To.IsZero() {
		to = ceilMicro(f.To)
	}
	es, seqs, err := r.entries(ctx, `SELECT `+entryColumns+` FROM journal_entries e WHERE `+entryFilter+` ORDER BY e.seq LIMIT $7`,
		page.After, f.Account, f.DocumentID, f.MovementID, from, to, page.Limit)
	if err != nil || len(es) == 0 {
		return es, err
	}
	// The page's lines in one query: the same filter, over the page's seqs.
	err = r.lines(ctx, es, `SELECT l.entry_id, `+lineColumnsRead+` FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
		WHERE `+entryFilter+` AND e.seq <= $7 ORDER BY e.seq, l.line_no`,
		page.After, f.Account, f.DocumentID, f.MovementID, from, to, seqs[len(seqs)-1])
	if err != nil {
		return nil, err
	}
	return es, nil
}

func (r reader) entries(ctx context.Context, query string, args ...any) ([]*ledger.Entry, []int64, error) {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("query journal entries: %w", err)
	}
	defer rows.Close()
	var out []*ledger.Entry
	var seqs []int64
	for rows.Next() {
		var e ledger.Entry
		var seq, eff, posted int64
		s := &e.Source
		if err := rows.Scan(&seq, &e.ID, &eff, &posted, &e.Description, &s.Service, &s.EventType, &s.EventID,
			&s.DocumentID, &s.MovementID, &s.Seq, &s.TraceID, &e.Rule, &e.RuleVersion, &e.Reverses, &e.Reason, &e.Caller,
			&e.PostingPeriod, &e.Adjusting); err != nil {
			return nil, nil, fmt.Errorf("scan journal entry: %w", err)
		}
		e.EffectiveAt = time.UnixMicro(eff).UTC()
		e.PostedAt = time.UnixMicro(posted).UTC()
		out = append(out, &e)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read journal entries: %w", err)
	}
	return out, seqs, nil
}

const lineColumnsRead = `l.account, l.side, l.amount, l.currency, l.warehouse, l.item, l.lot, l.document, l.partner`

// lines appends the lines the query returns (entry id first) to their entries in es.
func (r reader) lines(ctx context.Context, es []*ledger.Entry, query string, args ...any) error {
	byID := make(map[string]*ledger.Entry, len(es))
	for _, e := range es {
		byID[e.ID] = e
	}
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("query journal lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var l ledger.Line
		var side int
		d := &l.Dims
		if err := rows.Scan(&id, &l.Account, &side, &l.Amount, &l.Currency, &d.Warehouse, &d.Item, &d.Lot, &d.Document, &d.Partner); err != nil {
			return fmt.Errorf("scan journal line: %w", err)
		}
		l.Side = ledger.Side(side)
		if e := byID[id]; e != nil {
			e.Lines = append(e.Lines, l)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read journal lines: %w", err)
	}
	return nil
}

// groupDims are the dimensions Balances can group by, in column order.
var groupDims = []string{"warehouse", "item", "lot", "document", "partner"}

func (r reader) Balances(ctx context.Context, q app.BalanceQuery) ([]ledger.Balance, error) {
	group := map[string]bool{}
	for _, g := range q.GroupBy {
		if !slices.Contains(groupDims, g) {
			return nil, apperr.Invalid(apperr.Field("group_by", fmt.Sprintf("%q is not a dimension: one of %s", g, strings.Join(groupDims, ", "))))
		}
		group[g] = true
	}
	sel, by := []string{"account", "currency"}, []string{"account", "currency"}
	for _, d := range groupDims {
		if group[d] {
			sel = append(sel, d)
			by = append(by, d)
		} else {
			sel = append(sel, `'' AS `+d)
		}
	}
	// Whole days before Before's come from balances; the lines of Before's
	// own day up to Before from the journal, so any instant is exact.
	beforeDay, partFrom, partTo := int64(math.MaxInt64), int64(0), int64(0)
	if !q.Before.IsZero() {
		b := ceilMicro(q.Before)
		beforeDay = dayOf(b)
		partFrom, partTo = beforeDay*microsPerDay, b
	}
	const filter = `($4 = '' OR account = $4) AND ($5 = '' OR currency = $5) AND ($6 = '' OR warehouse = $6) AND ($7 = '' OR item = $7)`
	query := `SELECT ` + strings.Join(sel, ", ") + `, CAST(SUM(debit) AS BIGINT), CAST(SUM(credit) AS BIGINT) FROM (
		SELECT account, currency, warehouse, item, lot, document, partner, debit, credit
		  FROM balances WHERE day < $1 AND ` + filter + `
		UNION ALL
		SELECT account, currency, warehouse, item, lot, document, partner,
		       CASE WHEN side = 1 THEN amount ELSE 0 END, CASE WHEN side = 2 THEN amount ELSE 0 END
		  FROM journal_lines WHERE effective_at >= $2 AND effective_at < $3 AND ` + filter + `
	) b GROUP BY ` + strings.Join(by, ", ") + ` ORDER BY ` + strings.Join(by, ", ")
	rows, err := r.q.QueryContext(ctx, query, beforeDay, partFrom, partTo, q.Account, q.Currency, q.Warehouse, q.Item)
	if err != nil {
		return nil, fmt.Errorf("query balances: %w", err)
	}
	defer rows.Close()
	var out []ledger.Balance
	for rows.Next() {
		var b ledger.Balance
		d := &b.Dims
		if err := rows.Scan(&b.Account, &b.Currency, &d.Warehouse, &d.Item, &d.Lot, &d.Document, &d.Partner, &b.Debit, &b.Credit); err != nil {
			return nil, fmt.Errorf("scan balance: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read balances: %w", err)
	}
	return out, nil
}

func (r reader) ListParked(ctx context.Context, page paging.Page) ([]*ledger.ParkedEvent, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT event_id, event_type, subject, payload, headers, reason, parked_at FROM parked_events
		WHERE seq > COALESCE((SELECT p.seq FROM parked_events p WHERE p.event_id = $1), 0) ORDER BY seq LIMIT $2`,
		page.After, page.Limit)
	if err != nil {
		return nil, fmt.Errorf("query parked events: %w", err)
	}
	defer rows.Close()
	var out []*ledger.ParkedEvent
	for rows.Next() {
		var e ledger.ParkedEvent
		var headers string
		var parked int64
		if err := rows.Scan(&e.EventID, &e.EventType, &e.Subject, &e.Payload, &headers, &e.Reason, &parked); err != nil {
			return nil, fmt.Errorf("scan parked event: %w", err)
		}
		if err := json.Unmarshal([]byte(headers), &e.Headers); err != nil {
			return nil, fmt.Errorf("decode headers of parked event %s: %w", e.EventID, err)
		}
		if len(e.Payload) == 0 {
			e.Payload = nil // the same on both drivers
		}
		e.ParkedAt = time.UnixMicro(parked).UTC()
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read parked events: %w", err)
	}
	return out, nil
}

func (r reader) Rules(ctx context.Context) (*ledger.RuleSet, error) {
	return r.rules(ctx, `(SELECT MAX(version) FROM posting_rules)`)
}

func (r reader) RulesVersion(ctx context.Context, version int) (*ledger.RuleSet, error) {
	rs, err := r.rules(ctx, `$1`, version)
	if err != nil {
		return nil, err
	}
	if len(rs.Rules) == 0 {
		return nil, apperr.NotFound("posting rules version", strconv.Itoa(version))
	}
	return rs, nil
}

// rules reads the rule set of the version the SQL expression gives; an
// empty version 0 when there is none.
func (r reader) rules(ctx context.Context, version string, args ...any) (*ledger.RuleSet, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT version, key, account, counter, description, roles, since_version, created_at
		FROM posting_rules WHERE version = `+version+` ORDER BY key`, args...)
	if err != nil {
		return nil, fmt.Errorf("query posting rules: %w", err)
	}
	defer rows.Close()
	rs := &ledger.RuleSet{}
	var created int64
	for rows.Next() {
		var rule ledger.Rule
		var roles string
		if err := rows.Scan(&rs.Version, &rule.Key, &rule.Account, &rule.Counter, &rule.Description, &roles, &rule.Since, &created); err != nil {
			return nil, fmt.Errorf("scan posting rule: %w", err)
		}
		if err := json.Unmarshal([]byte(roles), &rule.Roles); err != nil {
			return nil, fmt.Errorf("decode roles of posting rule %s: %w", rule.Key, err)
		}
		if len(rule.Roles) == 0 {
			rule.Roles = nil
		}
		if rule.Since == 0 {
			rule.Since = rs.Version // a row from before since_version existed
		}
		if t := time.UnixMicro(created).UTC(); rs.CreatedAt.IsZero() || t.Before(rs.CreatedAt) {
			rs.CreatedAt = t
		}
		rs.Rules = append(rs.Rules, rule)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read posting rules: %w", err)
	}
	return rs, nil
}

func (r reader) Chart(ctx context.Context) (ledger.ChartMap, error) {
	as, err := r.accounts(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY code`)
	if err != nil {
		return nil, err
	}
	c := make(ledger.ChartMap, len(as))
	for _, a := range as {
		c[a.Code] = a
	}
	return c, nil
}

func (r reader) PostingVersion(ctx context.Context) (app.PostingVersion, error) {
	var v app.PostingVersion
	err := r.q.QueryRowContext(ctx, `SELECT (SELECT COALESCE(MAX(version), 0) FROM posting_rules), (SELECT COUNT(*) FROM accounts)`).
		Scan(&v.Rules, &v.Accounts)
	if err != nil {
		return v, fmt.Errorf("query posting rules and chart version: %w", err)
	}
	return v, nil
}
