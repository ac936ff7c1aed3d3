package ledger

import (
	"errors"
	"strings"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func TestNewAccount(t *testing.T) {
	tests := []struct {
		name string
		in   Account
		want Account // when valid
		bad  []string
	}{
		{
			name: "normalised",
			in:   Account{Code: " 1400 ", DisplayName: " Inventory ", Type: AccountAsset, CurrencyCode: "eur"},
			want: Account{Code: "1400", DisplayName: "Inventory", Type: AccountAsset, CurrencyCode: "EUR", CreatedAt: t0},
		},
		{
			name: "letters upper-cased, 20 long",
			in:   Account{Code: "grni" + strings.Repeat("0", 16), DisplayName: "GRNI", Type: AccountLiability, CurrencyCode: "USD"},
			want: Account{Code: "GRNI" + strings.Repeat("0", 16), DisplayName: "GRNI", Type: AccountLiability, CurrencyCode: "USD", CreatedAt: t0},
		},
		{name: "empty", in: Account{}, bad: []string{"account.code", "account.display_name", "account.type"}},
		{
			name: "any currency",
			in:   Account{Code: "1400", DisplayName: "Inventory", Type: AccountAsset},
			want: Account{Code: "1400", DisplayName: "Inventory", Type: AccountAsset, CreatedAt: t0},
		},
		{name: "not an ISO 4217 currency", in: Account{Code: "1", DisplayName: "x", Type: AccountAsset, CurrencyCode: "UDS"}, bad: []string{"account.currency_code"}},
		{name: "code too long", in: Account{Code: strings.Repeat("1", 21), DisplayName: "x", Type: AccountAsset, CurrencyCode: "EUR"}, bad: []string{"account.code"}},
		{name: "code with dash", in: Account{Code: "14-00", DisplayName: "x", Type: AccountAsset, CurrencyCode: "EUR"}, bad: []string{"account.code"}},
		{name: "code with inner space", in: Account{Code: "14 00", DisplayName: "x", Type: AccountAsset, CurrencyCode: "EUR"}, bad: []string{"account.code"}},
		{name: "name too long", in: Account{Code: "1", DisplayName: strings.Repeat("x", 101), Type: AccountAsset, CurrencyCode: "EUR"}, bad: []string{"account.display_name"}},
		{name: "unknown type", in: Account{Code: "1", DisplayName: "x", Type: 6, CurrencyCode: "EUR"}, bad: []string{"account.type"}},
		{name: "negative type", in: Account{Code: "1", DisplayName: "x", Type: -1, CurrencyCode: "EUR"}, bad: []string{"account.type"}},
		{name: "bad currency", in: Account{Code: "1", DisplayName: "x", Type: AccountAsset, CurrencyCode: "E1R"}, bad: []string{"account.currency_code"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewAccount(tt.in, t0)
			if len(tt.bad) == 0 {
				if err != nil {
					t.Fatalf("NewAccount: %v", err)
				}
				if *got != tt.want {
					t.Errorf("NewAccount = %+v, want %+v", *got, tt.want)
				}
				return
			}
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument {
				t.Fatalf("err = %v, want InvalidArgument", err)
			}
			fields := map[string]bool{}
			for _, v := range e.Violations {
				fields[v.Field] = true
			}
			for _, f := range tt.bad {
				if !fields[f] {
					t.Errorf("no violation on %s; got %+v", f, e.Violations)
				}
			}
			if len(fields) != len(tt.bad) {
				t.Errorf("violations %+v, want only %v", e.Violations, tt.bad)
			}
		})
	}
}

func TestAccountNormalBalance(t *testing.T) {
	tests := []struct {
		typ  AccountType
		want Side
	}{
		{AccountAsset, Debit},
		{AccountExpense, Debit},
		{AccountLiability, Credit},
		{AccountEquity, Credit},
		{AccountRevenue, Credit},
		{0, 0},
	}
	for _, tt := range tests {
		a := &Account{Type: tt.typ}
		if got := a.NormalBalance(); got != tt.want {
			t.Errorf("%v.NormalBalance() = %v, want %v", tt.typ, got, tt.want)
		}
	}
}
