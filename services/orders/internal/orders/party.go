// Package orders is the orders domain: the suppliers and customers orders are
// placed with and for, the catalog of items order lines may refer to, and
// purchase orders with their lifecycle and receipt rules. It knows nothing of
// gRPC, SQL or JSON.
package orders

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"trueup.dev/platform/apperr"
)

// Supplier is a party that purchase orders are placed with.
type Supplier struct {
	// Code identifies the supplier; item codes of namespace SUPPLIER name it.
	Code        string
	DisplayName string
	// CurrencyCode is the ISO 4217 currency the supplier is paid in.
	CurrencyCode string
	CreatedAt    time.Time
}

// Customer is a party that sales orders are taken from.
type Customer struct {
	// Code identifies the customer; item codes of namespace CUSTOMER name it.
	Code        string
	DisplayName string
	// CurrencyCode is the ISO 4217 currency the customer is invoiced in.
	CurrencyCode string
	CreatedAt    time.Time
}

// MaxDisplayNameLength is the most characters (not bytes) a display name may have.
const MaxDisplayNameLength = 100

var (
	partyCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,31}$`)
	currencyPattern  = regexp.MustCompile(`^[A-Z]{3}$`)
)

// NormalizeCode trims and upper-cases a supplier or customer code, so "acme " and
// "ACME" are one party.
func NormalizeCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// NormalizeCurrency trims and upper-cases an ISO 4217 currency code.
func NormalizeCurrency(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// NewSupplier validates and normalises a new supplier. Every violation is
// reported at once, each on its field ("supplier.code", ...).
func NewSupplier(s Supplier, now time.Time) (*Supplier, error) {
	var v apperr.Violations
	checkParty(&v, "supplier", &s.Code, &s.DisplayName, &s.CurrencyCode)
	if err := v.Err(); err != nil {
		return nil, err
	}
	s.CreatedAt = now.UTC()
	return &s, nil
}

// NewCustomer validates and normalises a new customer, like NewSupplier.
func NewCustomer(c Customer, now time.Time) (*Customer, error) {
	var v apperr.Violations
	checkParty(&v, "customer", &c.Code, &c.DisplayName, &c.CurrencyCode)
	if err := v.Err(); err != nil {
		return nil, err
	}
	c.CreatedAt = now.UTC()
	return &c, nil
}

// checkParty normalises and checks the fields suppliers and customers share; the
// rules are one so a party code means the same on both sides of the business.
func checkParty(v *apperr.Violations, resource string, code, displayName, currency *string) {
	*code = NormalizeCode(*code)
	if !partyCodePattern.MatchString(*code) {
		v.Add(resource+".code", "is required: 1-32 characters of A-Z, 0-9, '_' or '-', starting with a letter or digit")
	}
	*displayName = strings.TrimSpace(*displayName)
	if *displayName == "" || utf8.RuneCountInString(*displayName) > MaxDisplayNameLength {
		v.Add(resource+".display_name", "is required, at most 100 characters")
	}
	*currency = NormalizeCurrency(*currency)
	if !ValidCurrency(*currency) {
		v.Add(resource+".currency_code", "is required: a three-letter ISO 4217 code such as \"EUR\"")
	}
}

// ValidCurrency reports whether c has the form of an ISO 4217 alphabetic code:
// exactly three upper-case ASCII letters. Whether the code is currently issued is
// not checked, so a new currency needs no release.
func ValidCurrency(c string) bool { return currencyPattern.MatchString(c) }
