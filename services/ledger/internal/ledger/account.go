// Package ledger is the general-ledger domain: for now the chart of accounts;
// the double-entry journal builds on it. It knows nothing of gRPC, SQL or JSON.
package ledger

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
)

// AccountType is the kind of an account, which decides its normal balance and
// the report it appears on.
type AccountType int

// Account types.
const (
	AccountAsset AccountType = iota + 1
	AccountLiability
	AccountEquity
	AccountRevenue
	AccountExpense
)

// String names the type for logs and messages.
func (t AccountType) String() string {
	switch t {
	case AccountAsset:
		return "ASSET"
	case AccountLiability:
		return "LIABILITY"
	case AccountEquity:
		return "EQUITY"
	case AccountRevenue:
		return "REVENUE"
	case AccountExpense:
		return "EXPENSE"
	}
	return fmt.Sprintf("account_type(%d)", int(t))
}

// Valid reports whether t is one of the five account types.
func (t AccountType) Valid() bool { return t >= AccountAsset && t <= AccountExpense }

// Side is a side of a journal line: debit or credit.
type Side int

// Sides.
const (
	Debit Side = iota + 1
	Credit
)

// String names the side.
func (s Side) String() string {
	switch s {
	case Debit:
		return "DEBIT"
	case Credit:
		return "CREDIT"
	}
	return fmt.Sprintf("side(%d)", int(s))
}

// Account is an account of the chart of accounts.
type Account struct {
	// Code identifies the account, e.g. "1400".
	Code        string
	DisplayName string
	Type        AccountType
	// CurrencyCode is the ISO 4217 currency every amount posted to it must
	// be in; empty for an account that takes any currency (its balances are
	// kept per currency), as the default chart's accounts do.
	CurrencyCode string
	CreatedAt    time.Time
}

// NormalBalance is the side on which the account's balance normally sits, and
// so the side that increases it: debit for assets and expenses, credit for
// liabilities, equity and revenue. A balance reported "as normal" is positive
// when it sits on this side. An account of no valid type (which NewAccount never
// makes) has none: the zero Side.
func (a *Account) NormalBalance() Side {
	switch a.Type {
	case AccountAsset, AccountExpense:
		return Debit
	case AccountLiability, AccountEquity, AccountRevenue:
		return Credit
	}
	return 0
}

// MaxDisplayNameLength is the most characters (not bytes) a display name may have.
const MaxDisplayNameLength = 100

var accountCodePattern = regexp.MustCompile(`^[A-Z0-9]{1,20}$`)

// NormalizeCode trims and upper-cases an account code.
func NormalizeCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// NormalizeCurrency trims and upper-cases an ISO 4217 currency code.
func NormalizeCurrency(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// NewAccount validates and normalises a new account. Every violation is reported
// at once, each on its field ("account.code", ...).
func NewAccount(a Account, now time.Time) (*Account, error) {
	var v apperr.Violations
	a.Code = NormalizeCode(a.Code)
	if !accountCodePattern.MatchString(a.Code) {
		v.Add("account.code", "is required: 1-20 letters A-Z or digits, e.g. \"1400\"")
	}
	a.DisplayName = strings.TrimSpace(a.DisplayName)
	if a.DisplayName == "" || utf8.RuneCountInString(a.DisplayName) > MaxDisplayNameLength {
		v.Add("account.display_name", "is required, at most 100 characters")
	}
	if !a.Type.Valid() {
		v.Add("account.type", "is required: ASSET, LIABILITY, EQUITY, REVENUE or EXPENSE")
	}
	a.CurrencyCode = NormalizeCurrency(a.CurrencyCode)
	if a.CurrencyCode != "" && !money.Known(a.CurrencyCode) {
		v.Add("account.currency_code", "is an ISO 4217 code such as \"EUR\", or empty for an account that takes any currency")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	a.CreatedAt = now.UTC()
	return &a, nil
}
