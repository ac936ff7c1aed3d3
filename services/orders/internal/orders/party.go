// Package orders is the orders domain: the suppliers and customers orders are
// placed with and for, the catalog of items order lines may refer to, and
// purchase orders with their lifecycle and receipt rules. It knows nothing of
// gRPC, SQL or JSON.
package orders

import (
	"fmt"
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
	// Partner is the partner that created the supplier; "" for an internal caller.
	Partner string
	// PaymentTermsDays is how many days after a bill's date it falls due.
	PaymentTermsDays int
	TaxID            string
	CreatedAt        time.Time
}

// Customer is a party that sales orders are taken from.
type Customer struct {
	// Code identifies the customer; item codes of namespace CUSTOMER name it.
	Code        string
	DisplayName string
	// CurrencyCode is the ISO 4217 currency the customer is invoiced in.
	CurrencyCode string
	// Partner is the partner that created the customer; "" for an internal caller.
	Partner string
	// PaymentTermsDays is how many days after an invoice's issue it falls due.
	PaymentTermsDays int
	// CreditLimit is the most the customer may owe, in minor units of
	// CurrencyCode; nil is no limit.
	CreditLimit *int64
	// TaxExempt customers pay no sales tax: lines without a rate take 0.
	TaxExempt bool
	// DefaultTaxRate is the rate in percent of lines that give none,
	// canonical ("0", "8.25").
	DefaultTaxRate string
	TaxID          string
	CreatedAt      time.Time
}

// MaxDisplayNameLength is the most characters (not bytes) a display name may have.
const MaxDisplayNameLength = 100

// Payment terms: DefaultPaymentTermsDays is what a party that gives none
// gets (net 30); MaxPaymentTermsDays bounds them.
const (
	DefaultPaymentTermsDays = 30
	MaxPaymentTermsDays     = 365
	maxTaxIDLength          = 32
)

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
	checkTerms(&v, "supplier", s.PaymentTermsDays, &s.TaxID)
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
	checkTerms(&v, "customer", c.PaymentTermsDays, &c.TaxID)
	if c.CreditLimit != nil && *c.CreditLimit < 0 {
		v.Add("customer.credit_limit", "must not be negative")
	}
	rate, err := parseTaxRate(c.DefaultTaxRate)
	if err != nil {
		v.Add("customer.default_tax_rate_percent", err.Error())
	}
	c.DefaultTaxRate = rate
	if c.TaxExempt && rate != "0" {
		v.Add("customer.default_tax_rate_percent", "must be empty or \"0\" for a tax-exempt customer")
	}
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

// checkTerms checks the payment terms and tax id both kinds of party have.
func checkTerms(v *apperr.Violations, resource string, days int, taxID *string) {
	if days < 0 || days > MaxPaymentTermsDays {
		v.Add(resource+".payment_terms_days", fmt.Sprintf("must be between 0 and %d", MaxPaymentTermsDays))
	}
	*taxID = strings.TrimSpace(*taxID)
	if utf8.RuneCountInString(*taxID) > maxTaxIDLength {
		v.Add(resource+".tax_id", fmt.Sprintf("must be at most %d characters", maxTaxIDLength))
	}
}

// TaxRateFor is the rate a sales order line of the customer takes when it
// gives none.
func (c *Customer) TaxRateFor() string {
	if c.TaxExempt || c.DefaultTaxRate == "" {
		return "0"
	}
	return c.DefaultTaxRate
}

// VisibleTo reports whether a caller sees, and may order with, the customer:
// internal callers (partner "") see every one; a partner sees its own and the
// company's (created by an internal caller, the shared master data), never
// another partner's.
func (c *Customer) VisibleTo(partner string) bool {
	return partner == "" || c.Partner == "" || c.Partner == partner
}

// VisibleTo reports whether a caller sees the supplier, as for customers.
func (s *Supplier) VisibleTo(partner string) bool {
	return partner == "" || s.Partner == "" || s.Partner == partner
}
