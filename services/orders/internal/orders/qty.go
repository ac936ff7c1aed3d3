package orders

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// Qty is an exact quantity of an item's base unit, held as an integer number of
// millionths (QtyScale = 6 places), the same scale as inventory's quantities:
// 1.5 EA is Qty(1_500_000). A quantity entered in another unit converts to
// base units exactly or is refused; nothing is ever rounded.
type Qty int64

// QtyScale is the number of decimal places of a base quantity.
const QtyScale = 6

const qtyOne = Qty(1_000_000)

// MaxQty bounds one line's quantity (1e9 base units), so sums of many lines
// and receipts stay far inside int64.
const MaxQty = Qty(1_000_000_000) * qtyOne

// plainDecimal is the number syntax of trueup.type.v1.Quantity, as inventory
// accepts it: an optional "-", digits, and optionally "." and digits.
var plainDecimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// parseDecimal parses s in plainDecimal's grammar with at most scale places.
// Errors are field-violation descriptions.
func parseDecimal(s string, scale int) (*big.Rat, error) {
	if s == "" {
		return nil, fmt.Errorf("is required: a plain decimal such as \"12\" or \"0.5\"")
	}
	if !plainDecimal.MatchString(s) {
		return nil, fmt.Errorf("must be a plain decimal such as \"12\" or \"0.5\" (no sign other than \"-\", exponent, grouping or white space)")
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > scale {
		return nil, fmt.Errorf("must have at most %d decimal places", scale)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("must be a plain decimal such as \"12\" or \"0.5\"")
	}
	return r, nil
}

// ParseQty parses a base quantity (as inventory's movements carry it).
func ParseQty(s string) (Qty, error) {
	r, err := parseDecimal(s, QtyScale)
	if err != nil {
		return 0, err
	}
	return ratToQty(r)
}

// ratToQty converts an exact number of base units, refusing one that needs
// more than QtyScale places or is out of range.
func ratToQty(r *big.Rat) (Qty, error) {
	micro := new(big.Rat).Mul(r, new(big.Rat).SetInt64(int64(qtyOne)))
	if !micro.IsInt() {
		return 0, fmt.Errorf("is %s base units, which needs more than %d decimal places", r.FloatString(12), QtyScale)
	}
	n := micro.Num()
	if !n.IsInt64() || Qty(n.Int64()) > MaxQty || Qty(n.Int64()) < -MaxQty {
		return 0, fmt.Errorf("is out of range (at most %d base units)", MaxQty/qtyOne)
	}
	return Qty(n.Int64()), nil
}

// Rat is q as an exact rational number of base units.
func (q Qty) Rat() *big.Rat { return big.NewRat(int64(q), int64(qtyOne)) }

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
		s += "." + strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// CanonicalDecimal formats an exact rational with no trailing zeros. It is
// for values parsed from at most a few decimal places, whose expansion ends.
func CanonicalDecimal(r *big.Rat) string {
	s := r.FloatString(QtyScale)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
