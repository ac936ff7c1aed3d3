// Package qty holds stock quantities as exact integers of millionths of a base
// unit (Scale = 6 decimal places, inventory's scale): 1.5 EA is Qty(1_500_000).
// A quantity entered in another unit converts to base units exactly or is
// refused; nothing is ever rounded, and arithmetic that would leave the range
// fails instead of wrapping.
package qty

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// Qty is a quantity in millionths of a base unit.
type Qty int64

// Scale is the number of decimal places of a Qty.
const Scale = 6

// One is one base unit.
const One = Qty(1_000_000)

// Max bounds a quantity (1e9 base units), so sums of many lines stay far
// inside int64.
const Max = Qty(1_000_000_000) * One

// plain is the number syntax of trueup.type.v1.Quantity: an optional "-",
// digits, and optionally "." and digits.
var plain = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// ParseDecimal parses s, a plain decimal ("12", "0.5") with at most places
// decimal places, exactly.
func ParseDecimal(s string, places int) (*big.Rat, error) {
	if s == "" {
		return nil, fmt.Errorf("is required: a plain decimal such as \"12\" or \"0.5\"")
	}
	if !plain.MatchString(s) {
		return nil, fmt.Errorf("must be a plain decimal such as \"12\" or \"0.5\" (no sign other than \"-\", exponent, grouping or white space)")
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > places {
		return nil, fmt.Errorf("must have at most %d decimal places", places)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("must be a plain decimal such as \"12\" or \"0.5\"")
	}
	return r, nil
}

// Parse parses a base quantity such as "12" or "0.25".
func Parse(s string) (Qty, error) {
	r, err := ParseDecimal(s, Scale)
	if err != nil {
		return 0, err
	}
	return FromRat(r)
}

// FromRat converts an exact number of base units, refusing one that needs
// more than Scale places or is out of range.
func FromRat(r *big.Rat) (Qty, error) {
	micro := new(big.Rat).Mul(r, new(big.Rat).SetInt64(int64(One)))
	if !micro.IsInt() {
		return 0, fmt.Errorf("is %s base units, which needs more than %d decimal places", r.FloatString(12), Scale)
	}
	n := micro.Num()
	if !n.IsInt64() || Qty(n.Int64()) > Max || Qty(n.Int64()) < -Max {
		return 0, fmt.Errorf("is out of range (at most %d base units)", Max/One)
	}
	return Qty(n.Int64()), nil
}

// Add is a + b, or an error when the sum leaves the range.
func Add(a, b Qty) (Qty, error) {
	s := a + b
	if s > Max || s < -Max {
		return 0, fmt.Errorf("%s + %s is out of range (at most %d base units)", a, b, Max/One)
	}
	return s, nil
}

// Rat is q as an exact rational number of base units.
func (q Qty) Rat() *big.Rat { return big.NewRat(int64(q), int64(One)) }

// String formats q canonically: no trailing zeros ("1.5", "-2", "0").
func (q Qty) String() string {
	v := int64(q)
	neg := v < 0
	if neg {
		v = -v
	}
	whole, frac := v/int64(One), v%int64(One)
	s := strconv.FormatInt(whole, 10)
	if frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Canonical formats an exact rational with no trailing zeros, to Scale places.
// It is for values parsed from at most Scale places, whose expansion ends.
func Canonical(r *big.Rat) string {
	s := r.FloatString(Scale)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
