package inventory

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Qty is an exact quantity of an item's base unit, held as an integer number of
// millionths (QtyScale = 6 decimal places): 1.5 EA is Qty(1_500_000). Sums and
// differences are exact; nothing is ever rounded. A quantity entered in another
// unit converts to base units exactly or is refused (see Item.ToBase).
type Qty int64

// QtyScale is the number of decimal places of a base quantity.
const QtyScale = 6

const qtyOne = Qty(1_000_000)

// maxQty bounds quantities so sums of many cannot overflow int64.
const maxQty = Qty(1_000_000_000_000) * qtyOne / 1_000 // 1e9 base units

// ParseQty parses a quantity in the decimal grammar of trueup.type.v1.Quantity
// (see parseDecimal) with at most QtyScale places.
func ParseQty(s string) (Qty, error) {
	r, err := parseDecimal(s, QtyScale)
	if err != nil {
		return 0, err
	}
	return ratToQty(r)
}

// plainDecimal is the one number syntax inventory accepts, for quantities and
// unit factors alike, as trueup.type.v1.Quantity documents it: an optional
// leading "-", one or more digits, and optionally "." and one or more digits.
// Nothing is trimmed or normalised before the match: a client that sends "+5"
// or " 5" has a bug worth hearing about, and what the journal keeps as entered
// is then exactly what was sent. big.Rat alone would also take exponents, hex,
// binary, octal, underscores and fractions.
var plainDecimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// exampleDecimals ends the generic refusal, so a reader sees the grammar.
const exampleDecimals = `an optional "-", digits, and optionally "." and digits, e.g. "12", "-3", "0.5" or "12.250"`

// parseDecimal parses a decimal in plainDecimal's grammar with at most scale
// places. Its errors are field-violation descriptions that name what is wrong
// with the common near misses (a sign, white space, an exponent, a bare dot),
// because "must be a plain decimal" alone leaves a client guessing.
func parseDecimal(s string, scale int) (*big.Rat, error) {
	if err := checkDecimal(s); err != nil {
		return nil, err
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > scale {
		return nil, fmt.Errorf("must have at most %d decimal places", scale)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok { // unreachable for a string plainDecimal matched; kept so a bad pattern cannot panic
		return nil, fmt.Errorf("must be a plain decimal: %s", exampleDecimals)
	}
	return r, nil
}

// exponentForm is a number in scientific notation ("1e3", "2.5E-2"), refused
// with its own reason.
var exponentForm = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+$`)

// checkDecimal refuses s unless it matches plainDecimal, saying why.
func checkDecimal(s string) error {
	if plainDecimal.MatchString(s) {
		return nil
	}
	// instead names the valid form a near miss was meant to be, when there is one.
	instead := func(fixed string) string {
		if !plainDecimal.MatchString(fixed) {
			return ""
		}
		return fmt.Sprintf(": %q, not %q", fixed, s)
	}
	switch {
	case s == "":
		return fmt.Errorf("is required: %s", exampleDecimals)
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("is blank: %s", exampleDecimals)
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return fmt.Errorf("must not contain white space, not even leading or trailing%s", instead(strings.Join(strings.Fields(s), "")))
	case strings.HasPrefix(s, "+"):
		return fmt.Errorf("must not have a \"+\" sign: a positive value is written without one%s", instead(s[1:]))
	case exponentForm.MatchString(s):
		return fmt.Errorf("must not use an exponent: write the number out, e.g. \"1000\" for \"1e3\"")
	case strings.Contains(s, ","):
		return fmt.Errorf("must use \".\" as the decimal point and no digit grouping: %s", exampleDecimals)
	case strings.HasPrefix(strings.TrimPrefix(s, "-"), "."):
		return fmt.Errorf("must have a digit before the \".\"%s", instead(strings.Replace(s, ".", "0.", 1)))
	case strings.HasSuffix(s, "."):
		return fmt.Errorf("must have a digit after the \".\"%s", instead(strings.TrimSuffix(s, ".")))
	}
	return fmt.Errorf("must be a plain decimal: %s", exampleDecimals)
}

// ratToQty converts an exact rational number of base units, refusing one that
// needs more than QtyScale places or is out of range.
func ratToQty(r *big.Rat) (Qty, error) {
	micro := new(big.Rat).Mul(r, new(big.Rat).SetInt64(int64(qtyOne)))
	if !micro.IsInt() {
		return 0, fmt.Errorf("is %s base units, which needs more than %d decimal places", r.FloatString(12), QtyScale)
	}
	n := micro.Num()
	if !n.IsInt64() || Qty(n.Int64()) > maxQty || Qty(n.Int64()) < -maxQty {
		return 0, fmt.Errorf("is out of range")
	}
	return Qty(n.Int64()), nil
}

// Rat is q as an exact rational number of base units.
func (q Qty) Rat() *big.Rat { return big.NewRat(int64(q), int64(qtyOne)) }

// IsWhole says whether q is a whole number of base units.
func (q Qty) IsWhole() bool { return q%qtyOne == 0 }

// String formats q canonically: no trailing zeros ("1.5", "-2", "0").
func (q Qty) String() string {
	neg := q < 0
	v := int64(q)
	if neg {
		v = -v
	}
	whole, frac := v/int64(qtyOne), v%int64(qtyOne)
	s := strconv.FormatInt(whole, 10)
	if frac != 0 {
		f := strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
		s += "." + f
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Factor returns the exact number of base units in one uom ("" or the base unit
// itself is 1). ok is false for a unit the item does not know.
func (it *Item) Factor(uom string) (*big.Rat, bool) {
	uom = NormalizeUoM(uom)
	if uom == "" || uom == it.BaseUoM {
		return big.NewRat(1, 1), true
	}
	for _, c := range it.Conversions {
		if c.UoM == uom {
			r, ok := new(big.Rat).SetString(c.Factor)
			return r, ok
		}
	}
	return nil, false
}

// ToBase converts a quantity entered in uom to exact base units. It refuses an
// unknown unit, a value that would need more than QtyScale decimal places of
// base unit, and a fraction of a base unit for items handled in whole units.
// The returned error is a description for a field violation.
func (it *Item) ToBase(value, uom string) (Qty, error) {
	f, ok := it.Factor(uom)
	if !ok {
		return 0, fmt.Errorf("unit %q is not known for item %s (known: %s)", NormalizeUoM(uom), it.SKU, strings.Join(it.Units(), ", "))
	}
	r, err := parseDecimal(value, QtyScale)
	if err != nil {
		return 0, err
	}
	q, err := ratToQty(r.Mul(r, f))
	if err != nil {
		return 0, err
	}
	if it.WholeUnitsOnly && !q.IsWhole() {
		return 0, fmt.Errorf("is %s %s: item %s is handled in whole %s only", q, it.BaseUoM, it.SKU, it.BaseUoM)
	}
	return q, nil
}

// Units lists the units an item knows, base first.
func (it *Item) Units() []string {
	out := []string{it.BaseUoM}
	for _, c := range it.Conversions {
		out = append(out, c.UoM)
	}
	return out
}
