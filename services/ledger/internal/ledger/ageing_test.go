package ledger

import (
	"fmt"
	"testing"
	"time"
)

var asOf = time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)

func daysAgo(n int) time.Time { return asOf.Add(-time.Duration(n) * 24 * time.Hour) }

func TestGRNIAgeingMatchesBillsOldestReceiptFirst(t *testing.T) {
	key := GRNIKey{Document: "PO-1", Item: "A", Warehouse: "MAIN", Currency: "USD"}
	tests := []struct {
		name    string
		credits []GRNICredit
		debits  int64
		open    bool
		want    GRNIRow // Key, Received, Billed, Open, AgeDays, Bucket
	}{
		{name: "unbilled receipt", credits: []GRNICredit{{daysAgo(5), 100_00}},
			open: true, want: GRNIRow{Received: 100_00, Open: 100_00, AgeDays: 5, Bucket: Age0To30}},
		{name: "partial bill leaves the rest of the receipt open", credits: []GRNICredit{{daysAgo(40), 100_00}}, debits: 30_00,
			open: true, want: GRNIRow{Received: 100_00, Billed: 30_00, Open: 70_00, AgeDays: 40, Bucket: Age31To60}},
		{name: "a bill clears the oldest receipt first, the age is the next one's",
			credits: []GRNICredit{{daysAgo(10), 50_00}, {daysAgo(100), 40_00}}, debits: 40_00,
			open: true, want: GRNIRow{Received: 90_00, Billed: 40_00, Open: 50_00, AgeDays: 10, Bucket: Age0To30}},
		{name: "a bill into the second receipt ages from it",
			credits: []GRNICredit{{daysAgo(95), 40_00}, {daysAgo(61), 50_00}}, debits: 41_00,
			open: true, want: GRNIRow{Received: 90_00, Billed: 41_00, Open: 49_00, AgeDays: 61, Bucket: Age61To90}},
		{name: "fully billed is not open", credits: []GRNICredit{{daysAgo(40), 100_00}}, debits: 100_00},
		// A bill above the receipt value debits GRNI at the receipt value
		// and the rest to PPV; even a debit beyond the credits (billed
		// before received) leaves nothing open.
		{name: "over-billed is not open", credits: []GRNICredit{{daysAgo(40), 100_00}}, debits: 120_00},
		{name: "no receipt", debits: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := AgeGRNI(GRNIActivity{Key: key, Credits: tt.credits, Debits: tt.debits}, asOf)
			if ok != tt.open {
				t.Fatalf("open = %v, want %v (%+v)", ok, tt.open, got)
			}
			if !ok {
				return
			}
			if got.Key != key || got.Received != tt.want.Received || got.Billed != tt.want.Billed || got.Open != tt.want.Open ||
				got.AgeDays != tt.want.AgeDays || got.Bucket != tt.want.Bucket {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if !got.Oldest.Equal(daysAgo(tt.want.AgeDays)) {
				t.Errorf("oldest %v, want %v", got.Oldest, daysAgo(tt.want.AgeDays))
			}
		})
	}
}

func TestAgeBucketEdges(t *testing.T) {
	tests := []struct {
		since time.Time
		days  int
		b     AgeBucket
	}{
		{asOf, 0, Age0To30},
		{asOf.Add(time.Hour), 0, Age0To30}, // after the date: age 0
		{daysAgo(30), 30, Age0To30},
		{daysAgo(31).Add(time.Second), 30, Age0To30}, // not a whole 31st day
		{daysAgo(31), 31, Age31To60},
		{daysAgo(60), 60, Age31To60},
		{daysAgo(61), 61, Age61To90},
		{daysAgo(90), 90, Age61To90},
		{daysAgo(91), 91, AgeOver90},
		{daysAgo(4000), 4000, AgeOver90},
	}
	for _, tt := range tests {
		d := AgeDays(tt.since, asOf)
		if d != tt.days || BucketOf(d) != tt.b {
			t.Errorf("since %v: %d days in %v, want %d in %v", tt.since, d, BucketOf(d), tt.days, tt.b)
		}
	}
}

func TestAgeTotalsPerCurrencyAndBucket(t *testing.T) {
	var tot AgeTotals
	tot.Add("USD", Age31To60, 70_00)
	tot.Add("JPY", AgeOver90, 1500)
	tot.Add("USD", Age31To60, 5)
	tot.Add("USD", Age0To30, 1)
	got := fmt.Sprint(tot.List())
	want := "[{JPY 0-30 0 0} {JPY 31-60 0 0} {JPY 61-90 0 0} {JPY 90+ 1500 1} {USD 0-30 1 1} {USD 31-60 7005 2} {USD 61-90 0 0} {USD 90+ 0 0}]"
	if got != want {
		t.Errorf("totals %s, want %s", got, want)
	}
}

func TestShippedNotInvoicedByItem(t *testing.T) {
	l := func(item, cur string, cost int64, first, last int, invoiced bool) ShippedLine {
		return ShippedLine{Item: item, Warehouse: "MAIN", Currency: cur, Cost: cost, First: daysAgo(first), Last: daysAgo(last), Invoiced: invoiced}
	}
	tests := []struct {
		name  string
		lines []ShippedLine
		want  string
	}{
		{"nothing invoiced", []ShippedLine{l("A", "USD", 70_01, 40, 3, false), l("B", "USD", 10, 35, 35, false)},
			"SO-1 USD 7011 [A B] 40 31-60 false"},
		{"partly invoiced: the items no invoice names", []ShippedLine{l("A", "USD", 70_01, 40, 3, true), l("B", "USD", 10, 35, 35, false)},
			"SO-1 USD 10 [B] 35 31-60 true"},
		{"fully invoiced", []ShippedLine{l("A", "USD", 70_01, 40, 3, true)}, ""},
		{"shipped and returned: no cost left", []ShippedLine{l("A", "USD", 0, 40, 3, false)}, ""},
		{"two currencies", []ShippedLine{l("A", "USD", 5, 1, 1, false), l("B", "JPY", 900, 91, 91, false)},
			"SO-1 JPY 900 [B] 91 90+ false; SO-1 USD 5 [A] 1 0-30 false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			for i, r := range AgeShipments(OrderShipments{Order: "SO-1", Lines: tt.lines}, asOf) {
				if i > 0 {
					got += "; "
				}
				got += fmt.Sprintf("%s %s %d %v %d %v %v", r.Order, r.Currency, r.Cost, r.Items, r.AgeDays, r.Bucket, r.Partial)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGRNIAgeingTwoCurrencies(t *testing.T) {
	var tot AgeTotals
	for _, a := range []GRNIActivity{
		{Key: GRNIKey{"PO-1", "A", "MAIN", "USD"}, Credits: []GRNICredit{{daysAgo(40), 100_00}}, Debits: 30_00},
		{Key: GRNIKey{"PO-1", "C", "MAIN", "JPY"}, Credits: []GRNICredit{{daysAgo(2), 15000}}},
		{Key: GRNIKey{"PO-2", "A", "MAIN", "USD"}, Credits: []GRNICredit{{daysAgo(200), 1}}, Debits: 1},
	} {
		if r, ok := AgeGRNI(a, asOf); ok {
			tot.Add(r.Key.Currency, r.Bucket, r.Open)
		}
	}
	got := fmt.Sprint(tot.List())
	want := "[{JPY 0-30 15000 1} {JPY 31-60 0 0} {JPY 61-90 0 0} {JPY 90+ 0 0} {USD 0-30 0 0} {USD 31-60 7000 1} {USD 61-90 0 0} {USD 90+ 0 0}]"
	if got != want {
		t.Errorf("totals %s, want %s", got, want)
	}
}
