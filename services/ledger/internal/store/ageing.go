package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"trueup.dev/platform/paging"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
)

// Ageing reports. Each page is two statements on one account's lines
// (journal_lines_by_account_document): the page of keys, aggregated and
// narrowed in SQL, then the detail of just those documents. Matching bills
// to receipts, and the ages, are done in Go per key (ledger/ageing.go).

// grniKeysQuery is a page of GRNI keys with more credited than debited.
// $1 account, $2 as of, $3 warehouse or ”, $4 partner or ”, $5..$8 the
// key after which to start, $9 the limit.
const grniKeysQuery = `SELECT document, item, warehouse, currency,
	CAST(SUM(CASE WHEN side = 1 THEN amount ELSE 0 END) AS BIGINT)
	FROM journal_lines
	WHERE account = $1 AND effective_at <= $2
	  AND ($3 = '' OR warehouse = $3)
	  AND ($4 = '' OR document IN (SELECT p.document FROM journal_lines p WHERE p.account = $1 AND p.partner = $4))
	  AND (document > $5 OR (document = $5 AND (item > $6 OR (item = $6 AND (warehouse > $7 OR (warehouse = $7 AND currency > $8))))))
	GROUP BY document, item, warehouse, currency
	HAVING SUM(CASE WHEN side = 2 THEN amount ELSE -amount END) > 0
	ORDER BY document, item, warehouse, currency
	LIMIT $9`

// grniCreditsQuery is the credits by time and the partners of chunkRows
// documents' lines on one account. $1 account, $2 as of, then the
// documents.
var grniCreditsQuery = `SELECT document, item, warehouse, currency, side, partner, effective_at, CAST(SUM(amount) AS BIGINT)
	FROM journal_lines
	WHERE account = $1 AND effective_at <= $2 AND document IN (` + placeholdersFrom(3, chunkRows) + `)
	GROUP BY document, item, warehouse, currency, side, partner, effective_at`

func placeholdersFrom(first, n int) string {
	s := ""
	for i := range n {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("$%d", first+i)
	}
	return s
}

// chunkArgs is the arguments of one IN list of chunkRows, padded with its
// first value, after fixed.
func chunkArgs(fixed []any, chunk []string) []any {
	args := append([]any(nil), fixed...)
	for i := range chunkRows {
		args = append(args, chunk[min(i, len(chunk)-1)])
	}
	return args
}

func (r reader) GRNIActivity(ctx context.Context, q app.GRNIQuery, page paging.Page) ([]ledger.GRNIActivity, error) {
	after := app.ParseGRNIPageKey(page.After)
	asOf := q.AsOf.UnixMicro()
	rows, err := r.q.QueryContext(ctx, grniKeysQuery, q.Account, asOf, q.Warehouse, q.Partner,
		after.Document, after.Item, after.Warehouse, after.Currency, page.Limit)
	if err != nil {
		return nil, fmt.Errorf("query GRNI keys: %w", err)
	}
	var out []ledger.GRNIActivity
	byKey := map[ledger.GRNIKey]int{}
	var docs []string
	for rows.Next() {
		var a ledger.GRNIActivity
		if err := rows.Scan(&a.Key.Document, &a.Key.Item, &a.Key.Warehouse, &a.Key.Currency, &a.Debits); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan GRNI key: %w", err)
		}
		byKey[a.Key] = len(out)
		out = append(out, a)
		if len(docs) == 0 || docs[len(docs)-1] != a.Key.Document {
			docs = append(docs, a.Key.Document)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("GRNI keys: %w", err)
	}
	for len(docs) > 0 {
		chunk := docs[:min(len(docs), chunkRows)]
		docs = docs[len(chunk):]
		if err := func() error {
			rows, err := r.q.QueryContext(ctx, grniCreditsQuery, chunkArgs([]any{q.Account, asOf}, chunk)...)
			if err != nil {
				return fmt.Errorf("query GRNI credits: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var k ledger.GRNIKey
				var side int
				var partner string
				var at, amount int64
				if err := rows.Scan(&k.Document, &k.Item, &k.Warehouse, &k.Currency, &side, &partner, &at, &amount); err != nil {
					return fmt.Errorf("scan GRNI credit: %w", err)
				}
				i, ok := byKey[k]
				if !ok {
					continue
				}
				a := &out[i]
				if side == int(ledger.Credit) {
					a.Credits = append(a.Credits, ledger.GRNICredit{At: time.UnixMicro(at).UTC(), Amount: amount})
				}
				if partner != "" && !slices.Contains(a.Partners, partner) {
					a.Partners = append(a.Partners, partner)
				}
			}
			return rows.Err()
		}(); err != nil {
			return nil, err
		}
	}
	for i := range out {
		slices.Sort(out[i].Partners)
	}
	return out, nil
}

// shippedOrdersQuery is a page of documents with a shipment's COGS line for
// an item no invoice line of the document names. $1 COGS, $2 $3 the issue
// rules, $4 as of, $5 after, $6 warehouse or ”, $7 partner or ”, $8
// revenue, $9 the invoice rule, $10 the limit.
const shippedOrdersQuery = `SELECT DISTINCT l.document
	FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
	WHERE l.account = $1 AND e.rule IN ($2, $3) AND l.effective_at <= $4 AND l.document > $5
	  AND ($6 = '' OR l.warehouse = $6)
	  AND ($7 = '' OR l.document IN (SELECT p.document FROM journal_lines p WHERE p.account = $8 AND p.partner = $7))
	  AND NOT EXISTS (SELECT 1 FROM journal_lines v JOIN journal_entries ve ON ve.id = v.entry_id
	      WHERE v.account = $8 AND v.document = l.document AND v.item = l.item AND ve.rule = $9 AND v.effective_at <= $4)
	ORDER BY l.document
	LIMIT $10`

// shippedLinesQuery is the shipped cost of chunkRows documents by item,
// warehouse and currency. $1 COGS, $2 $3 the issue rules, $4 as of, $5
// warehouse or ”, then the documents.
var shippedLinesQuery = `SELECT l.document, l.item, l.warehouse, l.currency,
	CAST(SUM(CASE WHEN l.side = 1 THEN l.amount ELSE -l.amount END) AS BIGINT), MIN(l.effective_at), MAX(l.effective_at)
	FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
	WHERE l.account = $1 AND e.rule IN ($2, $3) AND l.effective_at <= $4 AND ($5 = '' OR l.warehouse = $5)
	  AND l.document IN (` + placeholdersFrom(6, chunkRows) + `)
	GROUP BY l.document, l.item, l.warehouse, l.currency
	ORDER BY l.document, l.item, l.warehouse, l.currency`

// invoicedItemsQuery is the items invoice lines of chunkRows documents name.
// $1 revenue, $2 the invoice rule, $3 as of, then the documents.
var invoicedItemsQuery = `SELECT DISTINCT v.document, v.item
	FROM journal_lines v JOIN journal_entries ve ON ve.id = v.entry_id
	WHERE v.account = $1 AND ve.rule = $2 AND v.effective_at <= $3 AND v.document IN (` + placeholdersFrom(4, chunkRows) + `)`

func (r reader) OrderShipments(ctx context.Context, q app.ShipmentQuery, page paging.Page) ([]ledger.OrderShipments, error) {
	if len(q.IssueRules) != 2 {
		return nil, fmt.Errorf("order shipments: want the 2 issue rules, got %d", len(q.IssueRules))
	}
	asOf := q.AsOf.UnixMicro()
	rows, err := r.q.QueryContext(ctx, shippedOrdersQuery, q.COGS, q.IssueRules[0], q.IssueRules[1], asOf, page.After,
		q.Warehouse, q.Partner, q.Revenue, q.InvoiceRule, page.Limit)
	if err != nil {
		return nil, fmt.Errorf("query shipped orders: %w", err)
	}
	var docs []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan shipped order: %w", err)
		}
		docs = append(docs, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("shipped orders: %w", err)
	}
	out := make([]ledger.OrderShipments, len(docs))
	at := map[string]int{}
	for i, d := range docs {
		out[i].Order = d
		at[d] = i
	}
	for len(docs) > 0 {
		chunk := docs[:min(len(docs), chunkRows)]
		docs = docs[len(chunk):]
		invoiced := map[[2]string]bool{}
		if err := scanAll(ctx, r, invoicedItemsQuery, chunkArgs([]any{q.Revenue, q.InvoiceRule, asOf}, chunk), func(sc func(...any) error) error {
			var d, item string
			if err := sc(&d, &item); err != nil {
				return err
			}
			invoiced[[2]string{d, item}] = true
			return nil
		}); err != nil {
			return nil, fmt.Errorf("invoiced items: %w", err)
		}
		if err := scanAll(ctx, r, shippedLinesQuery, chunkArgs([]any{q.COGS, q.IssueRules[0], q.IssueRules[1], asOf, q.Warehouse}, chunk), func(sc func(...any) error) error {
			var d string
			var l ledger.ShippedLine
			var first, last int64
			if err := sc(&d, &l.Item, &l.Warehouse, &l.Currency, &l.Cost, &first, &last); err != nil {
				return err
			}
			i, ok := at[d]
			if !ok {
				return nil
			}
			l.First, l.Last = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
			l.Invoiced = invoiced[[2]string{d, l.Item}]
			out[i].Lines = append(out[i].Lines, l)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("shipped lines: %w", err)
		}
	}
	return out, nil
}

// scanAll runs query and calls fn with each row's Scan.
func scanAll(ctx context.Context, r reader, query string, args []any, fn func(scan func(...any) error) error) error {
	rows, err := r.q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
