package inventory

import (
	"math/big"
	"time"

	"trueup.dev/platform/money"
)

// Costing rules, in one place.
//
//   - A receipt opens a cost layer holding the received quantity and its value:
//     quantity x unit cost, computed exactly and rounded once, half to even, to
//     the minor unit. A moving-average item has one pooled layer per warehouse
//     that receipts add to; a FIFO item gets a layer per receipt (per lot).
//   - An issue takes layers oldest first (FIFO; for a lot, that lot's layers
//     first). From each layer it takes the layer's remaining value in proportion
//     to the quantity taken (money.Share); taking the rest of a layer takes the
//     rest of its value. So the value that leaves is exactly the value that came
//     in: no rounding residue is lost or created, and the sum of remaining layer
//     values is always the stock's book value.
//   - An upward adjustment or count is valued at the current cost: the average of
//     the open layers (value / quantity), or the last layer's cost when nothing is
//     on hand, or zero when the item never had a cost in that warehouse (the
//     audit reports such stock).
//   - Stock of one item in one warehouse is valued in one currency: the first
//     receipt's. A receipt in another currency is refused; convert first.

// Layer is a cost layer.
type Layer struct {
	ID             string
	Seq            int64
	SKU, Warehouse string
	Lot            string
	Currency       string
	QtyIn          Qty
	ValueIn        int64
	QtyRemaining   Qty
	ValueRemaining int64
	ReceivedAt     time.Time
	MovementID     string
}

// Take is what one issue took from one layer.
type Take struct {
	LayerID string
	Qty     Qty
	Value   int64
}

// Consume takes q (> 0) from layers, preferring those of lot, oldest first
// (layers must be in Seq order). It changes the layers it takes from and returns
// the takes, the total value taken and what it could not take.
func Consume(layers []*Layer, lot string, q Qty) (takes []Take, value int64, short Qty) {
	short = q
	take := func(match func(*Layer) bool) {
		for _, l := range layers {
			if short == 0 {
				return
			}
			if l.QtyRemaining <= 0 || !match(l) {
				continue
			}
			n := min(short, l.QtyRemaining)
			v := money.Share(l.ValueRemaining, int64(n), int64(l.QtyRemaining))
			l.QtyRemaining -= n
			l.ValueRemaining -= v
			takes = append(takes, Take{LayerID: l.ID, Qty: n, Value: v})
			value += v
			short -= n
		}
	}
	take(func(l *Layer) bool { return l.Lot == lot })
	take(func(l *Layer) bool { return l.Lot != lot })
	return takes, value, short
}

// CurrentCost is the cost per base unit (in minor units, exact) that new stock
// without a price of its own is valued at; see the rules above. ok is false
// when the item never had a cost layer.
func CurrentCost(layers []*Layer, last *Layer) (perUnit *big.Rat, currency string, ok bool) {
	var q Qty
	var v int64
	for _, l := range layers {
		if l.QtyRemaining > 0 {
			q += l.QtyRemaining
			v += l.ValueRemaining
			currency = l.Currency
		}
	}
	if q > 0 {
		return new(big.Rat).Quo(big.NewRat(v, 1), q.Rat()), currency, true
	}
	if last != nil && last.QtyIn > 0 {
		return new(big.Rat).Quo(big.NewRat(last.ValueIn, 1), last.QtyIn.Rat()), last.Currency, true
	}
	return new(big.Rat), "", false
}

// ValueOf values q base units at perUnit minor units each, rounded half to
// even. ok is false when the value does not fit in an int64.
func ValueOf(q Qty, perUnit *big.Rat) (int64, bool) {
	return money.RoundHalfEven(new(big.Rat).Mul(q.Rat(), perUnit))
}
