// Package money holds amounts as integer minor units with an ISO 4217 currency,
// and the one rounding rule Trueup uses when an exact rational amount must
// become minor units: round half to even ("banker's rounding"), so rounding
// errors do not drift in one direction over many postings.
package money

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// Money is an amount in a currency's minor units (cents for USD, yen for JPY).
type Money struct {
	Currency string
	Minor    int64
}

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// minorDigits lists currencies whose minor unit is not 1/100. ISO 4217.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// NormalizeCurrency trims and upper-cases a currency code and checks its shape.
func NormalizeCurrency(code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if !currencyPattern.MatchString(c) {
		return "", fmt.Errorf("must be a three-letter ISO 4217 code such as USD")
	}
	return c, nil
}

// MinorDigits is the number of decimal places of a currency's minor unit.
func MinorDigits(currency string) int {
	if d, ok := minorDigits[currency]; ok {
		return d
	}
	return 2
}

// plainAmount is the only amount syntax accepted: big.Rat alone would also take
// exponents, hex and binary.
var plainAmount = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// MaxAmountScale is the most decimal places a unit price may have.
const MaxAmountScale = 6

// ParseAmount parses a non-negative decimal amount in major units ("1.2345")
// with at most MaxAmountScale places and returns it exactly in minor units of
// currency (for USD, "1.2345" is 123.45 cents).
func ParseAmount(s, currency string) (*big.Rat, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("is required, e.g. \"1.25\"")
	}
	if !plainAmount.MatchString(s) {
		return nil, fmt.Errorf("must be a plain non-negative decimal such as \"1.25\"")
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > MaxAmountScale {
		return nil, fmt.Errorf("must have at most %d decimal places", MaxAmountScale)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("must be a plain non-negative decimal such as \"1.25\"")
	}
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(MinorDigits(currency))), nil))
	return r.Mul(r, scale), nil
}

// RoundHalfEven rounds an exact rational to the nearest integer, ties to even.
// ok is false when the result does not fit in an int64.
func RoundHalfEven(r *big.Rat) (int64, bool) {
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int)) // truncates toward zero
	twice := new(big.Int).Abs(m)
	twice.Lsh(twice, 1)
	switch c := twice.Cmp(den); {
	case c > 0 || (c == 0 && q.Bit(0) == 1):
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

// Share returns the part of total that belongs to part out of whole:
// total*part/whole rounded half to even, except that the whole takes the whole
// total exactly. Taking shares of what remains, until the last share takes the
// rest, therefore never loses or creates a minor unit.
func Share(total, part, whole int64) int64 {
	if part == whole {
		return total
	}
	if whole == 0 {
		return 0
	}
	r := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(total), big.NewInt(part)), big.NewInt(whole))
	v, _ := RoundHalfEven(r) // |total*part/whole| <= |total| when |part| <= |whole|
	return v
}

// String formats an amount for people: "USD 12.34".
func (m Money) String() string {
	d := MinorDigits(m.Currency)
	neg := m.Minor < 0
	v := new(big.Int).Abs(big.NewInt(m.Minor)).String()
	for len(v) <= d {
		v = "0" + v
	}
	if d > 0 {
		v = v[:len(v)-d] + "." + v[len(v)-d:]
	}
	if neg {
		v = "-" + v
	}
	return m.Currency + " " + v
}
