package app

import (
	"context"
	"strings"
	"time"

	"trueup.dev/platform/paging"
	"trueup.dev/services/ledger/internal/ledger"
)

// Ageing reports (ledger/ageing.go): GRNI ageing (received, not billed) and
// shipped-not-invoiced, each as of a date.

// AgeingReader reads the journal lines the ageing reports are made of,
// aggregated by key in the database, a page of keys at a time.
type AgeingReader interface {
	// GRNIActivity returns up to page.Limit keys (document, item,
	// warehouse, currency) after page.After (GRNIPageKey), in key order,
	// whose lines on q.Account up to q.AsOf credit more than they debit:
	// each with its credits summed by effective time, its debits summed,
	// and the partners its lines name.
	GRNIActivity(ctx context.Context, q GRNIQuery, page paging.Page) ([]ledger.GRNIActivity, error)
	// OrderShipments returns up to page.Limit documents after page.After,
	// in document order, that have a line on q.COGS of an entry of one of
	// q.IssueRules up to q.AsOf for an item no revenue line (q.Revenue, an
	// entry of q.InvoiceRule, up to q.AsOf) of the document names: each
	// with its shipped cost by item, warehouse and currency, marked
	// invoiced or not.
	OrderShipments(ctx context.Context, q ShipmentQuery, page paging.Page) ([]ledger.OrderShipments, error)
}

// GRNIQuery narrows GRNIActivity.
type GRNIQuery struct {
	Account   string // the GRNI account
	AsOf      time.Time
	Warehouse string // "" for all
	// Partner keeps the documents a line of which names the supplier (a
	// purchase order nothing has been billed on names none).
	Partner string
}

// ShipmentQuery narrows OrderShipments.
type ShipmentQuery struct {
	COGS        string   // the account shipments debit
	IssueRules  []string // the rules of shipments' entries
	Revenue     string   // the account invoices credit per line
	InvoiceRule string   // the rule of invoices' entries
	AsOf        time.Time
	Warehouse   string // "" for all
	// Partner keeps the orders an invoice line of which names the customer
	// (an order nothing has been invoiced on names none).
	Partner string
}

// AgeingQuery is what an ageing report is asked for.
type AgeingQuery struct {
	// AsOf is the report's date; zero means now.
	AsOf time.Time
	// Warehouse and Partner narrow the report ("" for all); see GRNIQuery
	// and ShipmentQuery for what a partner matches.
	Warehouse, Partner string
}

// GRNIAgeingReport is one page of GRNI ageing.
type GRNIAgeingReport struct {
	AsOf time.Time
	Rows []ledger.GRNIRow
	// Totals per currency and bucket of every row the query matches (not
	// only this page's), on the first page only (nil on the next ones).
	Totals []ledger.AgeTotal
	// Next is the next page's token (page.Next), "" on the last page.
	Next string
}

// ShippedNotInvoicedReport is one page of shipped-not-invoiced.
type ShippedNotInvoicedReport struct {
	AsOf   time.Time
	Rows   []ledger.ShippedNotInvoicedRow
	Totals []ledger.AgeTotal // as GRNIAgeingReport's
	Next   string
}

// IssueRuleKeys are the movement rules of shipments: their COGS lines are
// what shipped-not-invoiced counts.
var IssueRuleKeys = []string{"issue/SHIPMENT", "issue/OUTBOUND_ORDER"}

// GRNIPageKey is a GRNI key as a page token's position.
func GRNIPageKey(k ledger.GRNIKey) string {
	return strings.Join([]string{k.Document, k.Item, k.Warehouse, k.Currency}, "\x1f")
}

// ParseGRNIPageKey reads GRNIPageKey ("" is before every key).
func ParseGRNIPageKey(s string) ledger.GRNIKey {
	p := strings.SplitN(s, "\x1f", 4)
	for len(p) < 4 {
		p = append(p, "")
	}
	return ledger.GRNIKey{Document: p[0], Item: p[1], Warehouse: p[2], Currency: p[3]}
}

func (s *Service) asOf(t time.Time) time.Time {
	if t.IsZero() {
		return s.now().UTC()
	}
	return t.UTC()
}

// GRNIAgeing reports, a page of keys at a time, what was received against
// purchase orders and not billed as of q.AsOf, aged by the oldest open
// receipt; the first page also has the totals per currency and bucket.
func (s *Service) GRNIAgeing(ctx context.Context, q AgeingQuery, page paging.Page) (*GRNIAgeingReport, error) {
	out := &GRNIAgeingReport{AsOf: s.asOf(q.AsOf)}
	err := s.store.Snapshot(ctx, func(r Reader) error {
		rules, err := r.Rules(ctx)
		if err != nil {
			return err
		}
		gq := GRNIQuery{Account: ledger.AcctGRNI, AsOf: out.AsOf, Warehouse: q.Warehouse, Partner: q.Partner}
		if rule := rules.Lookup("receipt/PURCHASE_ORDER"); rule != nil && rule.Counter != "" {
			gq.Account = rule.Counter
		}
		acts, err := r.GRNIActivity(ctx, gq, page)
		if err != nil {
			return err
		}
		for _, a := range acts {
			if row, ok := ledger.AgeGRNI(a, out.AsOf); ok {
				out.Rows = append(out.Rows, row)
			}
		}
		if len(acts) > 0 {
			out.Next = page.Next(len(acts), GRNIPageKey(acts[len(acts)-1].Key))
		}
		if page.After != "" {
			return nil
		}
		var tot ledger.AgeTotals
		all := paging.Page{Limit: paging.MaxSize}
		for {
			acts, err := r.GRNIActivity(ctx, gq, all)
			if err != nil {
				return err
			}
			for _, a := range acts {
				if row, ok := ledger.AgeGRNI(a, out.AsOf); ok {
					tot.Add(row.Key.Currency, row.Bucket, row.Open)
				}
			}
			if len(acts) < all.Limit {
				break
			}
			all.After = GRNIPageKey(acts[len(acts)-1].Key)
		}
		out.Totals = tot.List()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ShippedNotInvoiced reports, a page of orders at a time, the cost of what
// shipped as of q.AsOf for items of an order no invoice names yet, aged by
// the first of those shipments; the first page also has the totals per
// currency and bucket.
func (s *Service) ShippedNotInvoiced(ctx context.Context, q AgeingQuery, page paging.Page) (*ShippedNotInvoicedReport, error) {
	out := &ShippedNotInvoicedReport{AsOf: s.asOf(q.AsOf)}
	err := s.store.Snapshot(ctx, func(r Reader) error {
		rules, err := r.Rules(ctx)
		if err != nil {
			return err
		}
		sq := ShipmentQuery{COGS: ledger.AcctCOGS, IssueRules: IssueRuleKeys, Revenue: ledger.AcctRevenue,
			InvoiceRule: ledger.RuleInvoiceIssued, AsOf: out.AsOf, Warehouse: q.Warehouse, Partner: q.Partner}
		if rule := rules.Lookup(IssueRuleKeys[0]); rule != nil && rule.Counter != "" {
			sq.COGS = rule.Counter
		}
		if rule := rules.Lookup(ledger.RuleInvoiceIssued); rule != nil && rule.Roles[ledger.RoleRevenue] != "" {
			sq.Revenue = rule.Roles[ledger.RoleRevenue]
		}
		orders, err := r.OrderShipments(ctx, sq, page)
		if err != nil {
			return err
		}
		for _, o := range orders {
			out.Rows = append(out.Rows, ledger.AgeShipments(o, out.AsOf)...)
		}
		if len(orders) > 0 {
			out.Next = page.Next(len(orders), orders[len(orders)-1].Order)
		}
		if page.After != "" {
			return nil
		}
		var tot ledger.AgeTotals
		all := paging.Page{Limit: paging.MaxSize}
		for {
			orders, err := r.OrderShipments(ctx, sq, all)
			if err != nil {
				return err
			}
			for _, o := range orders {
				for _, row := range ledger.AgeShipments(o, out.AsOf) {
					tot.Add(row.Currency, row.Bucket, row.Cost)
				}
			}
			if len(orders) < all.Limit {
				break
			}
			all.After = orders[len(orders)-1].Order
		}
		out.Totals = tot.List()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
