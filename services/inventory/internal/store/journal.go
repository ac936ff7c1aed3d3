package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

// settleWait is how long a journal read on PostgreSQL waits for the
// movements already numbered to commit before it settles for an earlier
// watermark (see watermark).
const settleWait = 8 * time.Millisecond

// marks remembers, per database, recent journal observations on
// PostgreSQL: the sequence's last value and the transactions then writing
// movements. Once those have all ended, the value is a safe watermark.
var marks sync.Map // *sqldb.DB -> *markRing

type mark struct {
	last    int64
	writers map[string]bool
}

type markRing struct {
	mu    sync.Mutex
	ring  []mark // oldest first
	floor int64  // the highest watermark handed out: safe for good
}

func (r reader) settled(ctx context.Context, fn func(q reader, w int64) error) error {
	db, ok := r.q.(*sqldb.DB)
	if !ok { // already in a transaction: read in it
		w, err := r.watermark(ctx, r.q)
		if err != nil {
			return err
		}
		return fn(r, w)
	}
	var w int64
	opts := &sql.TxOptions{ReadOnly: true}
	if r.dialect == sqldb.Postgres {
		var err error
		if w, err = r.watermark(ctx, db); err != nil {
			return err
		}
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin journal read: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if r.dialect != sqldb.Postgres {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM movements`).Scan(&w); err != nil {
			return fmt.Errorf("journal watermark: %w", err)
		}
	}
	return fn(reader{q: tx, dialect: r.dialect}, w)
}

// watermark is settled's w on PostgreSQL (SQLite: the highest seq q sees).
// The sequence's last value L is read first, then the transactions holding
// the movements table's insert lock: whatever took a seq <= L is among them
// or has ended, so once they have all ended, every seq <= L has committed or
// never will. It waits settleWait at most for them; then it answers with
// the newest earlier observation whose writers have all ended (they always
// do, soon: a late commit only delays the watermark), so a reader is never
// blocked by a long transaction and never skips past one.
func (r reader) watermark(ctx context.Context, q querier) (int64, error) {
	var w int64
	if r.dialect != sqldb.Postgres {
		err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM movements`).Scan(&w)
		return w, err
	}
	mr := &markRing{} // in a transaction: this read's own observation only
	if db, ok := r.q.(*sqldb.DB); ok {
		v, _ := marks.LoadOrStore(db, mr)
		mr = v.(*markRing)
	}
	const writers = `SELECT COALESCE(string_agg(virtualtransaction, ','), '') FROM pg_locks
		WHERE locktype = 'relation' AND relation = 'movements'::regclass AND mode = 'RowExclusiveLock'
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND pid <> pg_backend_pid()`
	var now mark
	if err := q.QueryRowContext(ctx, `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM movements_seq_seq`).Scan(&now.last); err != nil {
		return 0, fmt.Errorf("journal watermark: %w", err)
	}
	var active map[string]bool
	for pause := time.Millisecond; ; pause *= 2 {
		var list string
		if err := q.QueryRowContext(ctx, writers).Scan(&list); err != nil {
			return 0, fmt.Errorf("journal writers: %w", err)
		}
		active = map[string]bool{}
		for _, vx := range strings.Split(list, ",") {
			if vx != "" {
				active[vx] = true
			}
		}
		if now.writers == nil {
			now.writers = active // those that may hold a seq <= now.last
		}
		if !overlaps(now.writers, active) || pause > settleWait {
			break
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(pause):
		}
	}
	mr.mu.Lock()
	defer mr.mu.Unlock()
	mr.ring = append(mr.ring, now)
	w = mr.floor
	for _, m := range mr.ring {
		if m.last > w && !overlaps(m.writers, active) {
			w = m.last
		}
	}
	// Observations at or below the floor, or settled, are done with.
	kept := mr.ring[:0]
	for _, m := range mr.ring {
		if m.last > w {
			kept = append(kept, m)
		}
	}
	mr.ring, mr.floor = kept, w
	if len(mr.ring) > 64 {
		mr.ring = mr.ring[len(mr.ring)-64:]
	}
	return w, nil
}

func overlaps(a, b map[string]bool) bool {
	for k := range a {
		if b[k] {
			return true
		}
	}
	return false
}

func (r reader) ListMovements(ctx context.Context, f app.MovementFilter, page paging.Page) (app.MovementPage, error) {
	after := int64(0)
	if page.After != "" {
		var err error
		if after, err = strconv.ParseInt(page.After, 10, 64); err != nil || after < 0 {
			return app.MovementPage{}, apperr.Invalid(apperr.Field("page_token", "is not a token returned by this list call"))
		}
	}
	var from, to int64
	if !f.From.IsZero() {
		from = micros(f.From)
	}
	if !f.To.IsZero() {
		to = micros(f.To)
	}
	var out app.MovementPage
	err := r.settled(ctx, func(q reader, w int64) error {
		ms, err := q.movements(ctx, `SELECT `+movementColumns+` FROM movements
			WHERE seq > $1 AND seq <= $2 AND ($3 = '' OR sku = $3) AND ($4 = '' OR warehouse = $4)
			  AND ($5 = 0 OR created_at >= $5) AND ($6 = 0 OR created_at < $6)
			ORDER BY seq LIMIT $7`,
			after, w, f.SKU, f.Warehouse, from, to, page.Limit)
		if err != nil {
			return err
		}
		out.Movements, out.Next = ms, max(after, w)
		if len(ms) == page.Limit {
			out.Next = ms[len(ms)-1].Seq // more may match up to w
		}
		return nil
	})
	return out, err
}

// Valuation pages by item x warehouse (all lots of an item on one page). Now
// (q.AsOf zero) and not by lot, it reads the sums the triggers keep per item
// and warehouse (cost_books): the open layers, less any movement above the
// watermark that the snapshot already sees. Otherwise it sums the journal
// up to the watermark (and q.AsOf) item by item, through the movements'
// (warehouse, sku, created_at) index.
func (r reader) Valuation(ctx context.Context, q app.ValuationQuery, page paging.Page) (app.ValuationPage, error) {
	var wAfter, sAfter string
	if page.After != "" {
		var ok bool
		if wAfter, sAfter, ok = strings.Cut(page.After, "\x00"); !ok {
			return app.ValuationPage{}, apperr.Invalid(apperr.Field("page_token", "is not a token returned by this call"))
		}
	}
	var out app.ValuationPage
	err := r.settled(ctx, func(rd reader, w int64) error {
		out.Through = w
		rows, err := rd.q.QueryContext(ctx, `SELECT b.warehouse, b.sku, b.qty_open, b.value_open,
				COALESCE((SELECT c.currency FROM cost_layers c WHERE c.sku = b.sku AND c.warehouse = b.warehouse AND c.qty_remaining <> 0
					ORDER BY c.seq LIMIT 1), '')
			FROM cost_books b
			WHERE ($1 = '' OR b.warehouse = $1) AND ($2 = '' OR b.sku = $2)
			  AND (b.warehouse > $3 OR (b.warehouse = $3 AND b.sku > $4))
			ORDER BY b.warehouse, b.sku LIMIT $5`, q.Warehouse, q.SKU, wAfter, sAfter, page.Limit)
		if err != nil {
			return fmt.Errorf("valuation: %w", err)
		}
		type book struct {
			warehouse, sku string
			line           app.ValuationLine
		}
		var books []book
		for rows.Next() {
			var b book
			var qty int64
			if err := rows.Scan(&b.warehouse, &b.sku, &qty, &b.line.Value, &b.line.Currency); err != nil {
				rows.Close()
				return fmt.Errorf("scan valuation: %w", err)
			}
			b.line.Warehouse, b.line.SKU, b.line.Qty = b.warehouse, b.sku, inventory.Qty(qty)
			books = append(books, b)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(books) == page.Limit {
			out.Next = books[len(books)-1].warehouse + "\x00" + books[len(books)-1].sku
		}
		for _, b := range books {
			var lines []app.ValuationLine
			var err error
			if q.AsOf.IsZero() && !q.ByLot {
				lines, err = rd.journalSums(ctx, b.warehouse, b.sku, false, `seq > $3`, w)
				for i := range lines { // movements above w: take them back out
					lines[i].Qty, lines[i].Value = -lines[i].Qty, -lines[i].Value
				}
				lines = append([]app.ValuationLine{b.line}, lines...)
			} else {
				cond, args := `seq <= $3`, []any{w}
				if !q.AsOf.IsZero() {
					cond, args = cond+` AND created_at <= $4`, append(args, micros(q.AsOf))
				}
				lines, err = rd.journalSums(ctx, b.warehouse, b.sku, q.ByLot, cond, args...)
			}
			if err != nil {
				return err
			}
			out.Lines = append(out.Lines, mergeLines(lines)...)
		}
		return nil
	})
	return out, err
}

// journalSums sums the journal of sku in warehouse where cond holds ($3
// on are args), by currency (and lot): value and quantity, transfers
// within the warehouse left out.
func (r reader) journalSums(ctx context.Context, warehouse, sku string, byLot bool, cond string, args ...any) ([]app.ValuationLine, error) {
	// PostgreSQL refuses a constant in GROUP BY, so the lot column comes and goes.
	lotSelect, lotGroup := "'' AS lot", ""
	if byLot {
		lotSelect, lotGroup = "lot", ", lot"
	}
	rows, err := r.q.QueryContext(ctx, `SELECT `+lotSelect+`, currency, CAST(SUM(base_qty) AS BIGINT), CAST(SUM(value_minor) AS BIGINT)
		FROM movements WHERE warehouse = $1 AND sku = $2 AND type <> `+strconv.Itoa(int(inventory.MoveTransfer))+` AND `+cond+`
		GROUP BY currency`+lotGroup+` ORDER BY `+strings.TrimPrefix(lotGroup+", currency", ", "),
		append([]any{warehouse, sku}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("valuation of %s in %s: %w", sku, warehouse, err)
	}
	defer rows.Close()
	var out []app.ValuationLine
	for rows.Next() {
		l := app.ValuationLine{Warehouse: warehouse, SKU: sku}
		var qty int64
		if err := rows.Scan(&l.Lot, &l.Currency, &qty, &l.Value); err != nil {
			return nil, fmt.Errorf("scan valuation: %w", err)
		}
		l.Qty = inventory.Qty(qty)
		out = append(out, l)
	}
	return out, rows.Err()
}

// mergeLines adds up lines of the same lot and currency, in the order first
// seen, and drops those at zero.
func mergeLines(lines []app.ValuationLine) []app.ValuationLine {
	var out []app.ValuationLine
	idx := map[[2]string]int{}
	for _, l := range lines {
		k := [2]string{l.Lot, l.Currency}
		if i, ok := idx[k]; ok {
			out[i].Qty += l.Qty
			out[i].Value += l.Value
			continue
		}
		idx[k] = len(out)
		out = append(out, l)
	}
	kept := out[:0]
	for _, l := range out {
		if l.Qty != 0 || l.Value != 0 {
			kept = append(kept, l)
		}
	}
	return kept
}
