package ledger

import (
	"cmp"
	"slices"
	"time"
)

// Ageing reports: what was received and not billed (GRNI), and what was
// shipped and not invoiced.
//
// GRNI ageing. Receipts against a purchase order credit GRNI under the
// order's id (the line's document), item and warehouse; the supplier bill
// matched to them debits GRNI under the same order and item at the value the
// receipts were taken at (a price difference goes to purchase price
// variance, never to GRNI), so GRNI per (document, item, warehouse,
// currency) nets to zero once everything received is billed. Per key the
// debits (bills, and reversals of wrong receipts) are matched against the
// credits (receipts) oldest receipt first; what is left of the receipts is
// the open amount, and its age is the age of the oldest receipt with
// something left, in whole days as of the report's date. Debits beyond the
// credits (billed before received) leave nothing open.
//
// Shipped-not-invoiced. The common document of the order-to-cash chain is
// the order's id. An issue for an outbound order (source OUTBOUND_ORDER)
// posts Dr COGS / Cr Inventory under that order's id (the line's document),
// and an invoice posts its revenue lines under the sales order it bills
// (documents.go); fulfillment names an outbound order after its sales
// order, so both sides meet on one id. An issue whose source is a SHIPMENT
// names only the shipment (inventory's StockIssued carries the shipment and
// the allocation, not the order): it is listed under the shipment's id and
// stays listed, since no invoice can be seen to cover it, until inventory's
// movement carries the order. Journal lines carry no
// quantities, and COGS (cost) cannot be compared with revenue (price), so
// an order is matched by item: an item of an order that shipped is
// invoiced once any invoice has a revenue line for that order and item; the
// shipped cost of the items no invoice names yet is open, aged from the
// first of their shipments. An order invoiced for some items and not others
// is listed with the rest (Partial). A further shipment of an item already
// invoiced is not seen as open: quantities would be needed for that.
//
// Buckets are by whole days of age (as-of minus the oldest open date,
// floored): 0–30, 31–60, 61–90 and over 90 days.

// AgeBucket is a band of ages.
type AgeBucket int

// Age buckets, in whole days.
const (
	Age0To30  AgeBucket = iota + 1 // 0 to 30 days
	Age31To60                      // 31 to 60 days
	Age61To90                      // 61 to 90 days
	AgeOver90                      // 91 days and more
)

// AgeBuckets are every bucket, youngest first.
var AgeBuckets = []AgeBucket{Age0To30, Age31To60, Age61To90, AgeOver90}

// String names a bucket ("0-30").
func (b AgeBucket) String() string {
	switch b {
	case Age0To30:
		return "0-30"
	case Age31To60:
		return "31-60"
	case Age61To90:
		return "61-90"
	case AgeOver90:
		return "90+"
	}
	return "?"
}

// AgeDays is the whole days from since to asOf (0 when since is not before
// asOf).
func AgeDays(since, asOf time.Time) int {
	if !since.Before(asOf) {
		return 0
	}
	return int(asOf.Sub(since) / (24 * time.Hour))
}

// BucketOf is the bucket of an age in whole days.
func BucketOf(days int) AgeBucket {
	switch {
	case days <= 30:
		return Age0To30
	case days <= 60:
		return Age31To60
	case days <= 90:
		return Age61To90
	}
	return AgeOver90
}

// GRNIKey is one purchase order, item and warehouse in one currency.
type GRNIKey struct {
	Document, Item, Warehouse, Currency string
}

// GRNICredit is what receipts credited GRNI on one key at one time.
type GRNICredit struct {
	At     time.Time
	Amount int64 // > 0
}

// GRNIActivity is a key's GRNI lines up to the report's date: the credits
// (receipts) by time, and the debits (bills, reversals, returns to the
// supplier) summed.
type GRNIActivity struct {
	Key     GRNIKey
	Credits []GRNICredit
	Debits  int64
	// Partners are the suppliers the key's lines name (from its bills).
	Partners []string
}

// GRNIRow is one key with something received and not billed.
type GRNIRow struct {
	Key      GRNIKey
	Received int64 // the credits
	Billed   int64 // the debits, at most Received
	Open     int64 // Received - Billed, > 0
	// Oldest is the date of the oldest receipt with something left open;
	// AgeDays its age as of the report's date, Bucket its band.
	Oldest   time.Time
	AgeDays  int
	Bucket   AgeBucket
	Partners []string
}

// AgeGRNI matches a's debits against its credits oldest first and returns
// what is open as of asOf; ok is false when nothing is.
func AgeGRNI(a GRNIActivity, asOf time.Time) (GRNIRow, bool) {
	credits := slices.Clone(a.Credits)
	slices.SortStableFunc(credits, func(x, y GRNICredit) int { return x.At.Compare(y.At) })
	row := GRNIRow{Key: a.Key, Partners: a.Partners}
	for _, c := range credits {
		row.Received += c.Amount
	}
	left := max(a.Debits, 0)
	for _, c := range credits {
		if left >= c.Amount {
			left -= c.Amount
			continue
		}
		// The first receipt not wholly billed: the oldest open one.
		row.Billed = min(max(a.Debits, 0), row.Received)
		row.Open = row.Received - row.Billed
		row.Oldest = c.At
		row.AgeDays = AgeDays(c.At, asOf)
		row.Bucket = BucketOf(row.AgeDays)
		return row, row.Open > 0
	}
	return GRNIRow{}, false
}

// AgeTotal is the open amount of one currency in one bucket.
type AgeTotal struct {
	Currency string
	Bucket   AgeBucket
	Amount   int64
	Count    int // the rows in it
}

// AgeTotals sums open amounts per currency and bucket, in currency then
// bucket order; every bucket of a currency that has any row is present.
type AgeTotals struct{ m map[string]*[4]AgeTotal }

// Add counts one open amount.
func (t *AgeTotals) Add(currency string, b AgeBucket, amount int64) {
	if t.m == nil {
		t.m = map[string]*[4]AgeTotal{}
	}
	row := t.m[currency]
	if row == nil {
		row = &[4]AgeTotal{}
		for i, bk := range AgeBuckets {
			row[i] = AgeTotal{Currency: currency, Bucket: bk}
		}
		t.m[currency] = row
	}
	row[b-1].Amount += amount
	row[b-1].Count++
}

// List is the totals, by currency then bucket.
func (t *AgeTotals) List() []AgeTotal {
	var out []AgeTotal
	curs := make([]string, 0, len(t.m))
	for c := range t.m {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	for _, c := range curs {
		out = append(out, t.m[c][:]...)
	}
	return out
}

// ShippedLine is the shipped cost of one item of an order from one
// warehouse in one currency: COGS its shipments debited, net.
type ShippedLine struct {
	Item, Warehouse, Currency string
	Cost                      int64
	First, Last               time.Time
	// Invoiced is true when an invoice has a revenue line for the order
	// and item.
	Invoiced bool
}

// OrderShipments is what one order shipped, by item.
type OrderShipments struct {
	Order string
	Lines []ShippedLine
}

// ShippedNotInvoicedRow is the part of one order, in one currency, that
// shipped and no invoice covers.
type ShippedNotInvoicedRow struct {
	Order    string
	Currency string
	Cost     int64 // the shipped cost of the items not invoiced
	// Items are the items not invoiced, sorted.
	Items []string
	// First and Last are the first and last shipment of those items.
	First, Last time.Time
	AgeDays     int // of First, as of the report's date
	Bucket      AgeBucket
	// Partial: some other item of the order is invoiced.
	Partial bool
}

// AgeShipments is the rows of o with something shipped and not invoiced,
// one per currency, in currency order. A line of no net cost (shipped and
// returned) is not open.
func AgeShipments(o OrderShipments, asOf time.Time) []ShippedNotInvoicedRow {
	byCur := map[string]*ShippedNotInvoicedRow{}
	partial := false
	for _, l := range o.Lines {
		if l.Invoiced {
			partial = true
			continue
		}
		if l.Cost <= 0 {
			continue
		}
		r := byCur[l.Currency]
		if r == nil {
			r = &ShippedNotInvoicedRow{Order: o.Order, Currency: l.Currency, First: l.First, Last: l.Last}
			byCur[l.Currency] = r
		}
		r.Cost += l.Cost
		if !slices.Contains(r.Items, l.Item) {
			r.Items = append(r.Items, l.Item)
		}
		if l.First.Before(r.First) {
			r.First = l.First
		}
		if l.Last.After(r.Last) {
			r.Last = l.Last
		}
	}
	out := make([]ShippedNotInvoicedRow, 0, len(byCur))
	for _, r := range byCur {
		slices.Sort(r.Items)
		r.Partial = partial
		r.AgeDays = AgeDays(r.First, asOf)
		r.Bucket = BucketOf(r.AgeDays)
		out = append(out, *r)
	}
	slices.SortFunc(out, func(x, y ShippedNotInvoicedRow) int { return cmp.Compare(x.Currency, y.Currency) })
	return out
}
