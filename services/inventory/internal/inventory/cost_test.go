package inventory

import (
	"math/big"
	"testing"
)

func TestConsumeFIFOAndResidue(t *testing.T) {
	// 3 units for 100 cents: 33.33... each. Three issues of one take 33, 34, 33
	// (half-even shares of what remains) and exactly 100 in all.
	layers := []*Layer{{ID: "a", QtyIn: 3 * qtyOne, QtyRemaining: 3 * qtyOne, ValueIn: 100, ValueRemaining: 100}}
	var total int64
	for i := 0; i < 3; i++ {
		_, v, short := Consume(layers, "", qtyOne)
		if short != 0 {
			t.Fatalf("short %s", short)
		}
		total += v
	}
	if total != 100 || layers[0].ValueRemaining != 0 || layers[0].QtyRemaining != 0 {
		t.Fatalf("issued %d, layer left %+v", total, layers[0])
	}
}

func TestConsumeOrderAndLots(t *testing.T) {
	layers := []*Layer{
		{ID: "old", Lot: "L1", QtyRemaining: 2 * qtyOne, ValueRemaining: 200},
		{ID: "new", Lot: "L2", QtyRemaining: 2 * qtyOne, ValueRemaining: 300},
	}
	takes, v, short := Consume(layers, "L2", 3*qtyOne)
	if short != 0 || v != 300+100 || len(takes) != 2 || takes[0].LayerID != "new" || takes[1].LayerID != "old" {
		t.Fatalf("takes %+v value %d short %s", takes, v, short)
	}
	_, _, short = Consume(layers, "", 5*qtyOne)
	if short != 4*qtyOne {
		t.Fatalf("short = %s, want 4", short)
	}
}

func TestCurrentCost(t *testing.T) {
	if _, _, ok := CurrentCost(nil, nil); ok {
		t.Fatal("no layers: no cost")
	}
	open := []*Layer{{Currency: "USD", QtyRemaining: 2 * qtyOne, ValueRemaining: 300}, {QtyRemaining: 0, ValueRemaining: 0}}
	c, cur, ok := CurrentCost(open, nil)
	if !ok || cur != "USD" || c.Cmp(big.NewRat(150, 1)) != 0 {
		t.Fatalf("cost = %v %s %v", c, cur, ok)
	}
	c, _, _ = CurrentCost(nil, &Layer{Currency: "USD", QtyIn: 4 * qtyOne, ValueIn: 10})
	if v, ok := ValueOf(3*qtyOne, c); !ok || v != 8 { // 7.5 -> 8 (half to even)
		t.Fatalf("ValueOf = %d", v)
	}
	if _, ok := ValueOf(maxQty, big.NewRat(1<<62, 1)); ok {
		t.Fatal("an overflowing value must be refused")
	}
}
