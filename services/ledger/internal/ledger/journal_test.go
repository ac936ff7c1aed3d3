package ledger

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"trueup.dev/platform/apperr"
)

func chart(t *testing.T) ChartMap {
	t.Helper()
	c := ChartMap{}
	for _, a := range DefaultChart() {
		c[a.Code] = &a
	}
	c["1010"] = &Account{Code: "1010", DisplayName: "Cash EUR", Type: AccountAsset, CurrencyCode: "EUR"}
	return c
}

func fields(err error) []string {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		return nil
	}
	var out []string
	for _, v := range ae.Violations {
		out = append(out, v.Field)
	}
	return out
}

func TestCheckEntry(t *testing.T) {
	dr := func(acct string, amt int64, cur string) Line {
		return Line{Account: acct, Side: Debit, Amount: amt, Currency: cur}
	}
	cr := func(acct string, amt int64, cur string) Line {
		return Line{Account: acct, Side: Credit, Amount: amt, Currency: cur}
	}
	tests := []struct {
		name    string
		lines   []Line
		bad     []string // violated fields
		message string   // part of the error message
	}{
		{name: "balanced", lines: []Line{dr("1400", 1234, "USD"), cr("2100", 1234, "USD")}},
		{name: "balanced per currency, two currencies", lines: []Line{dr("1400", 100, "USD"), cr("2100", 100, "USD"), dr("1400", 7, "JPY"), cr("2100", 3, "JPY"), cr("2100", 4, "jpy")}},
		{name: "one line", lines: []Line{dr("1400", 1, "USD")}, bad: []string{"lines"}},
		{name: "unbalanced names the imbalance", lines: []Line{dr("1400", 1234, "USD"), cr("2100", 1200, "USD")}, bad: []string{"lines"}, message: "debits USD 12.34, credits USD 12.00"},
		{name: "balanced in total but not per currency", lines: []Line{dr("1400", 100, "USD"), cr("2100", 100, "EUR")}, bad: []string{"lines"}, message: "EUR"},
		{name: "unknown account", lines: []Line{dr("9999", 1, "USD"), cr("2100", 1, "USD")}, bad: []string{"lines[0].account"}},
		{name: "zero amount", lines: []Line{dr("1400", 0, "USD"), cr("2100", 0, "USD")}, bad: []string{"lines[0].amount.minor_units", "lines[1].amount.minor_units"}},
		{name: "negative amount", lines: []Line{dr("1400", -5, "USD"), cr("2100", -5, "USD")}, bad: []string{"lines[0].amount.minor_units", "lines[1].amount.minor_units"}},
		{name: "no side", lines: []Line{{Account: "1400", Amount: 1, Currency: "USD"}, cr("2100", 1, "USD")}, bad: []string{"lines[0].side"}},
		{name: "not a currency", lines: []Line{dr("1400", 1, "UDS"), cr("2100", 1, "UDS")}, bad: []string{"lines[0].amount.currency_code", "lines[1].amount.currency_code"}},
		{name: "account kept in another currency", lines: []Line{dr("1010", 1, "USD"), cr("2100", 1, "USD")}, bad: []string{"lines[0].amount.currency_code"}},
		{name: "sum overflows", lines: []Line{dr("1400", math.MaxInt64, "USD"), dr("1400", 1, "USD"), cr("2100", 1, "USD")}, bad: []string{"lines"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &Entry{Lines: tt.lines}
			err := CheckEntry(e, chart(t))
			if len(tt.bad) == 0 {
				if err != nil {
					t.Fatalf("CheckEntry: %v", err)
				}
				return
			}
			if !errors.Is(err, apperr.ErrInvalidArgument) {
				t.Fatalf("CheckEntry = %v, want InvalidArgument", err)
			}
			if got := fields(err); !slices.Equal(got, tt.bad) {
				t.Errorf("violations on %v, want %v (%v)", got, tt.bad, err)
			}
			if tt.message != "" && !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not say %q", err, tt.message)
			}
		})
	}
}

func TestReversalSwapsEverySideAndLinks(t *testing.T) {
	e := &Entry{ID: "e1", Description: "Receipt", Source: Source{DocumentID: "PO-1", MovementID: "m1"},
		Lines: []Line{
			{Account: "1400", Side: Debit, Amount: 1234, Currency: "USD", Dims: Dimensions{Warehouse: "MAIN", Item: "SKU-1"}},
			{Account: "2100", Side: Credit, Amount: 1234, Currency: "USD", Dims: Dimensions{Warehouse: "MAIN", Item: "SKU-1"}},
		}}
	r := e.Reversal("r1", t0, "wrong PO", "internal")
	if r.Reverses != "e1" || r.Reason != "wrong PO" || r.Caller != "internal" || r.Source.MovementID != "m1" {
		t.Errorf("reversal = %+v", r)
	}
	for i, l := range r.Lines {
		want := e.Lines[i]
		want.Side = Debit + Credit - want.Side
		if l != want {
			t.Errorf("line %d = %+v, want %+v", i, l, want)
		}
	}
	if err := CheckEntry(r, chart(t)); err != nil {
		t.Errorf("reversal does not balance: %v", err)
	}
	var sum int64
	for i := range e.Lines {
		sum += e.Lines[i].Signed() + r.Lines[i].Signed()
	}
	if sum != 0 {
		t.Errorf("entry plus reversal nets to %d, want 0", sum)
	}
}
