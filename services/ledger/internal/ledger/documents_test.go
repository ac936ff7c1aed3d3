package ledger

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// line is a compact line for comparisons: "Dr 2100 1000 USD wh/item/doc/partner".
func lineStrings(e *Entry) []string {
	var out []string
	for _, l := range e.Lines {
		side := "Dr"
		if l.Side == Credit {
			side = "Cr"
		}
		d := l.Dims
		out = append(out, fmt.Sprintf("%s %s %d %s %s/%s/%s/%s", side, l.Account, l.Amount, l.Currency, d.Warehouse, d.Item, d.Document, d.Partner))
	}
	return out
}

// TestDocumentRulesPostToTheMinorUnit checks every document rule: which
// accounts are debited and credited, by exactly how much, with which
// dimensions, and that the entry balances and passes the chart's checks.
func TestDocumentRulesPostToTheMinorUnit(t *testing.T) {
	eff := time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)
	bill := DocumentHeader{ID: "B-1", Partner: "SUP-1", Order: "PO-1", Currency: "USD", EffectiveAt: eff}
	inv := DocumentHeader{ID: "INV-1", Partner: "CUST-1", Order: "SO-1", Currency: "USD", EffectiveAt: eff}
	pay := DocumentHeader{ID: "PAY-1", Partner: "CUST-1", Currency: "USD", EffectiveAt: eff}
	yen := func(h DocumentHeader) DocumentHeader { h.Currency = "JPY"; return h }
	tests := []struct {
		name string
		doc  Document
		want []string
	}{
		{"bill billed above receipt: Dr PPV", BillApproved{DocumentHeader: bill, Lines: []BillLine{{Item: "A", Warehouse: "MAIN", Received: 100_00, Billed: 103_01}}, Total: 103_01},
			[]string{"Dr 2100 10000 USD MAIN/A/PO-1/SUP-1", "Dr 5200 301 USD MAIN/A/B-1/SUP-1", "Cr 2000 10301 USD //B-1/SUP-1"}},
		{"bill billed below receipt: Cr PPV", BillApproved{DocumentHeader: bill, Lines: []BillLine{{Item: "A", Warehouse: "MAIN", Received: 100_00, Billed: 99_99}}, Total: 99_99},
			[]string{"Dr 2100 10000 USD MAIN/A/PO-1/SUP-1", "Cr 5200 1 USD MAIN/A/B-1/SUP-1", "Cr 2000 9999 USD //B-1/SUP-1"}},
		{"bill at receipt value with tax, two lines", BillApproved{DocumentHeader: bill, Lines: []BillLine{
			{Item: "A", Warehouse: "MAIN", Received: 50_00, Billed: 50_00}, {Item: "B", Warehouse: "EAST", Received: 1, Billed: 1}}, Tax: 10_01, Total: 60_02},
			[]string{"Dr 2100 5000 USD MAIN/A/PO-1/SUP-1", "Dr 2100 1 USD EAST/B/PO-1/SUP-1", "Dr 1300 1001 USD //B-1/SUP-1", "Cr 2000 6002 USD //B-1/SUP-1"}},
		{"bill in yen (exponent 0), variance of one yen", BillApproved{DocumentHeader: yen(bill), Lines: []BillLine{{Item: "A", Warehouse: "TOKYO", Received: 1500, Billed: 1501}}, Tax: 150, Total: 1651},
			[]string{"Dr 2100 1500 JPY TOKYO/A/PO-1/SUP-1", "Dr 5200 1 JPY TOKYO/A/B-1/SUP-1", "Dr 1300 150 JPY //B-1/SUP-1", "Cr 2000 1651 JPY //B-1/SUP-1"}},
		{"bill without an order: GRNI under the bill", BillApproved{DocumentHeader: DocumentHeader{ID: "B-2", Partner: "SUP-1", Currency: "EUR", EffectiveAt: eff},
			Lines: []BillLine{{Item: "A", Warehouse: "MAIN", Received: 7, Billed: 7}}, Total: 7},
			[]string{"Dr 2100 7 EUR MAIN/A/B-2/SUP-1", "Cr 2000 7 EUR //B-2/SUP-1"}},
		{"invoice with tax", InvoiceIssued{DocumentHeader: inv, Lines: []InvoiceLine{
			{Item: "A", Warehouse: "MAIN", Net: 199_99, Tax: 40_00}, {Item: "B", Warehouse: "MAIN", Net: 1, Tax: 0}}, Net: 200_00, Tax: 40_00, Total: 240_00},
			[]string{"Dr 1200 24000 USD //INV-1/CUST-1", "Cr 4000 19999 USD MAIN/A/SO-1/CUST-1", "Cr 4000 1 USD MAIN/B/SO-1/CUST-1", "Cr 2200 4000 USD //INV-1/CUST-1"}},
		{"invoice in yen without tax", InvoiceIssued{DocumentHeader: yen(inv), Lines: []InvoiceLine{{Item: "A", Warehouse: "TOKYO", Net: 3000}}, Net: 3000, Total: 3000},
			[]string{"Dr 1200 3000 JPY //INV-1/CUST-1", "Cr 4000 3000 JPY TOKYO/A/SO-1/CUST-1"}},
		{"payment applied to two invoices", PaymentReceived{DocumentHeader: pay, Method: "BANK_TRANSFER", Amount: 340_00,
			Applied: []PaymentApplication{{Invoice: "INV-1", Amount: 240_00}, {Invoice: "INV-2", Amount: 100_00}}},
			[]string{"Dr 1000 34000 USD //PAY-1/CUST-1", "Cr 1200 24000 USD //INV-1/CUST-1", "Cr 1200 10000 USD //INV-2/CUST-1"}},
		{"payment partly unapplied: the rest on the payment", PaymentReceived{DocumentHeader: yen(pay), Amount: 5001,
			Applied: []PaymentApplication{{Invoice: "INV-1", Amount: 3000}}},
			[]string{"Dr 1000 5001 JPY //PAY-1/CUST-1", "Cr 1200 3000 JPY //INV-1/CUST-1", "Cr 1200 2001 JPY //PAY-1/CUST-1"}},
		{"supplier paid: AP cleared per bill, the rest prepaid", SupplierPaymentMade{DocumentHeader: DocumentHeader{ID: "SP-1", Partner: "SUP-1", Currency: "USD", EffectiveAt: eff},
			Method: "BANK_TRANSFER", Amount: 150_00, Applied: []PaymentApplication{{Invoice: "B-1", Amount: 103_01}}},
			[]string{"Dr 2000 10301 USD //B-1/SUP-1", "Dr 2000 4699 USD //SP-1/SUP-1", "Cr 1000 15000 USD //SP-1/SUP-1"}},
	}
	now := eff.Add(time.Hour)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := Source{EventType: "trueup.orders.v1.X", EventID: "ev-1", TraceID: "tr"}
			e, err := PostDocument(DefaultRules(), tt.doc, src, "id-1", now)
			if err != nil {
				t.Fatal(err)
			}
			if got := lineStrings(e); !slices.Equal(got, tt.want) {
				t.Errorf("lines\n got %q\nwant %q", got, tt.want)
			}
			if err := CheckEntry(e, chart(t)); err != nil {
				t.Errorf("entry refused: %v", err)
			}
			h := tt.doc.Header()
			if e.ID != "id-1" || e.Rule != tt.doc.RuleKey() || e.RuleVersion != DefaultRules().Version || !e.EffectiveAt.Equal(eff) || !e.PostedAt.Equal(now) {
				t.Errorf("entry %+v", e)
			}
			if e.Source != (Source{Service: "orders", EventType: src.EventType, EventID: "ev-1", DocumentID: h.ID, TraceID: "tr"}) {
				t.Errorf("source %+v", e.Source)
			}
			if !strings.Contains(e.Description, h.ID) {
				t.Errorf("description %q does not name %s", e.Description, h.ID)
			}
		})
	}
}

// TestDocumentsThatDoNotAddUpAreRefused: totals that miss the lines by one
// minor unit, negative amounts, a payment applying more than it brings, and
// a currency that is not one are ErrInvalidDocument, saying why.
func TestDocumentsThatDoNotAddUpAreRefused(t *testing.T) {
	h := DocumentHeader{ID: "D-1", Partner: "P", Currency: "USD"}
	for _, tt := range []struct {
		name string
		doc  Document
		says string
	}{
		{"bill total one cent short", BillApproved{DocumentHeader: h, Lines: []BillLine{{Received: 100, Billed: 100}}, Tax: 5, Total: 104}, "total payable is USD 1.04"},
		{"bill negative billed amount", BillApproved{DocumentHeader: h, Lines: []BillLine{{Received: 100, Billed: -1}}, Total: -1}, "negative"},
		{"bill negative received value", BillApproved{DocumentHeader: h, Lines: []BillLine{{Received: -100, Billed: 0}}}, "negative"},
		{"invoice lines against net total", InvoiceIssued{DocumentHeader: h, Lines: []InvoiceLine{{Net: 100, Tax: 10}}, Net: 101, Tax: 10, Total: 111}, "net total"},
		{"invoice lines against tax total", InvoiceIssued{DocumentHeader: h, Lines: []InvoiceLine{{Net: 100, Tax: 10}}, Net: 100, Tax: 11, Total: 111}, "tax total"},
		{"invoice total", InvoiceIssued{DocumentHeader: h, Lines: []InvoiceLine{{Net: 100, Tax: 10}}, Net: 100, Tax: 10, Total: 109}, "the total is"},
		{"payment over-applied", PaymentReceived{DocumentHeader: h, Amount: 100, Applied: []PaymentApplication{{Invoice: "I", Amount: 101}}}, "more than"},
		{"payment of nothing", PaymentReceived{DocumentHeader: h}, "more than zero"},
		{"payment applied to no invoice", PaymentReceived{DocumentHeader: h, Amount: 1, Applied: []PaymentApplication{{Amount: 1}}}, "names no invoice"},
		{"no currency", PaymentReceived{DocumentHeader: DocumentHeader{ID: "D-1"}, Amount: 1}, "ISO 4217"},
		{"no document id", PaymentReceived{DocumentHeader: DocumentHeader{Currency: "USD"}, Amount: 1}, "no document id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, err := PostDocument(DefaultRules(), tt.doc, Source{}, "x", time.Now())
			if !errors.Is(err, ErrInvalidDocument) || e != nil {
				t.Fatalf("entry %v, err %v; want ErrInvalidDocument", e, err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("err %q does not say %q", err, tt.says)
			}
		})
	}
}

// TestDocumentWithoutRuleOrRole: no rule for the document, or a rule
// without an optional role the document needs, is ErrNoRule naming it; a
// document that does not need the role posts under the same rule.
func TestDocumentWithoutRuleOrRole(t *testing.T) {
	h := DocumentHeader{ID: "B-1", Currency: "USD"}
	variance := BillApproved{DocumentHeader: h, Lines: []BillLine{{Received: 100, Billed: 90}}, Total: 90}
	if _, err := PostDocument(MovementRules(), variance, Source{}, "x", time.Now()); !errors.Is(err, ErrNoRule) || !strings.Contains(err.Error(), `"bill_approved" (rules version 1)`) {
		t.Errorf("under v1: err = %v, want ErrNoRule for bill_approved", err)
	}
	noPPV := &RuleSet{Version: 7, Rules: []Rule{{Key: RuleBillApproved, Roles: map[string]string{RoleGRNI: AcctGRNI, RoleAP: AcctPayable}}}}
	_, err := PostDocument(noPPV, variance, Source{}, "x", time.Now())
	if !errors.Is(err, ErrNoRule) || !strings.Contains(err.Error(), `role "ppv"`) {
		t.Errorf("variance without a ppv role: err = %v", err)
	}
	exact := BillApproved{DocumentHeader: h, Lines: []BillLine{{Received: 100, Billed: 100}}, Total: 100}
	if e, err := PostDocument(noPPV, exact, Source{}, "x", time.Now()); err != nil || e.RuleVersion != 7 {
		t.Errorf("bill at receipt value: %v, %v", e, err)
	}
	empty := BillApproved{DocumentHeader: h}
	if e, err := PostDocument(noPPV, empty, Source{}, "x", time.Now()); err != nil || e != nil {
		t.Errorf("bill of nothing: %v, %v; want nothing to post", e, err)
	}
}

// TestNextRuleSet: a new version is the latest plus changes, each rule
// keeping the version it took its form in; every invalid rule is reported.
func TestNextRuleSet(t *testing.T) {
	c := chart(t)
	v2 := DefaultRules()
	nv := v2.Version + 1
	cash2 := Rule{Key: RulePaymentReceived, Description: "to the EUR cash account", Roles: map[string]string{RoleCash: "1010", RoleAR: AcctReceivable}}
	next, err := NextRuleSet(v2, RuleChanges{
		Rules:  []Rule{cash2, {Key: " adjustment/MYSTERY ", Account: "1400", Counter: "5130"}},
		Remove: []string{"return"},
	}, c)
	if err != nil {
		t.Fatal(err)
	}
	if next.Version != nv || len(next.Rules) != len(v2.Rules)+1-1 {
		t.Fatalf("v%d with %d rules", next.Version, len(next.Rules))
	}
	if !slices.IsSortedFunc(next.Rules, func(a, b Rule) int { return strings.Compare(a.Key, b.Key) }) {
		t.Error("rules not in key order")
	}
	for key, since := range map[string]int{RulePaymentReceived: nv, "adjustment/MYSTERY": nv, RuleBillApproved: 2, "receipt/PURCHASE_ORDER": 1} {
		if r := next.Lookup(key); r == nil || r.Since != since {
			t.Errorf("%s = %+v, want since v%d", key, r, since)
		}
	}
	if next.Lookup("return") != nil {
		t.Error("removed rule still there")
	}
	// Replacing all: only the rules given.
	all, err := NextRuleSet(v2, RuleChanges{ReplaceAll: true, Rules: []Rule{v2.Rules[0]}}, c)
	if err != nil || len(all.Rules) != 1 || all.Rules[0].Since != v2.Rules[0].Since {
		t.Fatalf("replace all: %+v, %v", all, err)
	}

	for _, tt := range []struct {
		name   string
		c      RuleChanges
		fields []string
	}{
		{"malformed keys", RuleChanges{Rules: []Rule{
			{Key: "Receipt/X", Account: "1400", Counter: "2100"}, {Key: "receipt//X", Account: "1400", Counter: "2100"},
			{Key: strings.Repeat("a", 101), Account: "1400", Counter: "2100"}}},
			[]string{"rules[0].key", "rules[1].key", "rules[2].key"}},
		{"movement rule accounts", RuleChanges{Rules: []Rule{{Key: "receipt/X", Account: "9999"}, {Key: "receipt/Y", Account: "1400", Counter: "1400", Roles: map[string]string{"ar": "1200"}}}},
			[]string{"rules[0].counter_account", "rules[0].account", "rules[1].counter_account", "rules[1].role_accounts"}},
		{"document rule roles", RuleChanges{Rules: []Rule{{Key: RuleInvoiceIssued, Account: "1200", Roles: map[string]string{"ar": "1200", "tax": "8888", "grni": "2100"}}}},
			[]string{"rules[0].account", "rules[0].role_accounts.revenue", "rules[0].role_accounts.grni", "rules[0].role_accounts.tax"}},
		{"twice, removed and unknown removal", RuleChanges{Rules: []Rule{v2.Rules[0], v2.Rules[0]}, Remove: []string{v2.Rules[0].Key, "nope"}},
			[]string{"rules[1].key", "remove_keys[0]", "remove_keys[1]"}},
		{"remove with replace all", RuleChanges{ReplaceAll: true, Rules: []Rule{v2.Rules[0]}, Remove: []string{"return"}}, []string{"remove_keys"}},
		{"no change", RuleChanges{Rules: []Rule{v2.Rules[3]}}, []string{"rules"}},
		{"nothing left", RuleChanges{ReplaceAll: true}, []string{"rules"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NextRuleSet(v2, tt.c, c)
			if got := fields(err); !slices.Equal(got, tt.fields) {
				t.Errorf("violations on %v, want %v (%v)", got, tt.fields, err)
			}
		})
	}
}
