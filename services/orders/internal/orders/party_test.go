package orders

import (
	"errors"
	"strings"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func TestNewSupplier(t *testing.T) {
	tests := []struct {
		name string
		in   Supplier
		want Supplier // when valid
		bad  []string // fields with a violation, when invalid
	}{
		{
			name: "normalised",
			in:   Supplier{Code: " acme-1 ", DisplayName: " Acme Ltd ", CurrencyCode: "eur"},
			want: Supplier{Code: "ACME-1", DisplayName: "Acme Ltd", CurrencyCode: "EUR", CreatedAt: t0},
		},
		{
			name: "longest code and name",
			in:   Supplier{Code: strings.Repeat("A", 32), DisplayName: strings.Repeat("é", 100), CurrencyCode: "USD"},
			want: Supplier{Code: strings.Repeat("A", 32), DisplayName: strings.Repeat("é", 100), CurrencyCode: "USD", CreatedAt: t0},
		},
		{name: "empty", in: Supplier{}, bad: []string{"supplier.code", "supplier.display_name", "supplier.currency_code"}},
		{name: "code too long", in: Supplier{Code: strings.Repeat("A", 33), DisplayName: "x", CurrencyCode: "EUR"}, bad: []string{"supplier.code"}},
		{name: "code with space", in: Supplier{Code: "AC ME", DisplayName: "x", CurrencyCode: "EUR"}, bad: []string{"supplier.code"}},
		{name: "code starts with dash", in: Supplier{Code: "-ACME", DisplayName: "x", CurrencyCode: "EUR"}, bad: []string{"supplier.code"}},
		{name: "code with dot", in: Supplier{Code: "AC.ME", DisplayName: "x", CurrencyCode: "EUR"}, bad: []string{"supplier.code"}},
		{name: "name too long", in: Supplier{Code: "A", DisplayName: strings.Repeat("x", 101), CurrencyCode: "EUR"}, bad: []string{"supplier.display_name"}},
		{name: "name blank", in: Supplier{Code: "A", DisplayName: "   ", CurrencyCode: "EUR"}, bad: []string{"supplier.display_name"}},
		{name: "currency two letters", in: Supplier{Code: "A", DisplayName: "x", CurrencyCode: "EU"}, bad: []string{"supplier.currency_code"}},
		{name: "currency four letters", in: Supplier{Code: "A", DisplayName: "x", CurrencyCode: "EURO"}, bad: []string{"supplier.currency_code"}},
		{name: "currency digits", in: Supplier{Code: "A", DisplayName: "x", CurrencyCode: "978"}, bad: []string{"supplier.currency_code"}},
		{name: "currency non-ASCII", in: Supplier{Code: "A", DisplayName: "x", CurrencyCode: "ÉUR"}, bad: []string{"supplier.currency_code"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewSupplier(tt.in, t0)
			if len(tt.bad) == 0 {
				if err != nil {
					t.Fatalf("NewSupplier: %v", err)
				}
				if *got != tt.want {
					t.Errorf("NewSupplier = %+v, want %+v", *got, tt.want)
				}
				return
			}
			assertViolations(t, err, tt.bad)
		})
	}
}

func TestNewCustomer(t *testing.T) {
	tests := []struct {
		name string
		in   Customer
		bad  []string
	}{
		{name: "valid", in: Customer{Code: "c_1", DisplayName: "Shop", CurrencyCode: "gbp"}},
		{name: "all wrong", in: Customer{Code: "c/1", CurrencyCode: "pounds"}, bad: []string{"customer.code", "customer.display_name", "customer.currency_code"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewCustomer(tt.in, t0)
			if len(tt.bad) == 0 {
				if err != nil {
					t.Fatalf("NewCustomer: %v", err)
				}
				if got.Code != "C_1" || got.CurrencyCode != "GBP" || !got.CreatedAt.Equal(t0) {
					t.Errorf("NewCustomer = %+v", got)
				}
				return
			}
			assertViolations(t, err, tt.bad)
		})
	}
}

// assertViolations checks that err is InvalidArgument with violations on exactly the given fields.
func assertViolations(t *testing.T, err error, fields []string) {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument {
		t.Fatalf("err = %v, want InvalidArgument", err)
	}
	got := map[string]bool{}
	for _, v := range e.Violations {
		got[v.Field] = true
	}
	for _, f := range fields {
		if !got[f] {
			t.Errorf("no violation on %s; got %+v", f, e.Violations)
		}
	}
	if len(got) != len(fields) {
		t.Errorf("violations on %v, want only %v", e.Violations, fields)
	}
}
