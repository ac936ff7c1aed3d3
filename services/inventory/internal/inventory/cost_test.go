package inventory

import (
	"errors"
	"math/big"
	"testing"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
)

// units is n whole base units.
func units(n int64) Qty { return Qty(n) * qtyOne }

// receipt is the layer a receipt of n units worth v (minor units) opens.
func receipt(id, lot string, n, v int64) Layer {
	return Layer{ID: id, SKU: "SKU", Warehouse: "W1", Lot: lot, Currency: "USD", QtyIn: units(n), ValueIn: v, MovementID: id}
}

func mustReceive(t *testing.T, b *Book, in Layer) Received {
	t.Helper()
	r, err := b.Receive(in)
	if err != nil {
		t.Fatalf("receive %s: %v", in.ID, err)
	}
	return r
}

func mustIssue(t *testing.T, b *Book, lot string, n int64, allowNegative bool) Issued {
	t.Helper()
	out, err := b.Issue(lot, units(n), allowNegative, Layer{ID: "neg", SKU: "SKU", Warehouse: "W1", MovementID: "iss"})
	if err != nil {
		t.Fatalf("issue %d of lot %q: %v", n, lot, err)
	}
	return out
}

func bookValue(b *Book) (Qty, int64) {
	var q Qty
	var v int64
	for _, l := range b.Open {
		q += l.QtyRemaining
		v += l.ValueRemaining
	}
	return q, v
}

func TestFIFOIssueTakesOldestLayerFirst(t *testing.T) {
	b := &Book{Method: CostFIFO}
	mustReceive(t, b, receipt("r1", "", 10, 1000))
	mustReceive(t, b, receipt("r2", "", 12, 1800))
	out := mustIssue(t, b, "", 15, false)
	if out.Value != 1750 || len(out.Takes) != 2 || out.Takes[0] != (Take{"r1", units(10), 1000}) || out.Takes[1] != (Take{"r2", units(5), 750}) {
		t.Fatalf("issue of 15 = %+v, want 10 of r1 at 1000 then 5 of r2 at 750", out)
	}
}

func TestLastUnitTakesTheResidue(t *testing.T) {
	// 3 units for 100 cents: units 1, 2, 3 are worth round(100/3) = 33,
	// round(200/3) - 33 = 34 and 100 - 67 = 33: exactly 100 in all.
	b := &Book{Method: CostFIFO}
	mustReceive(t, b, receipt("r1", "", 3, 100))
	var got []int64
	for range 3 {
		got = append(got, mustIssue(t, b, "", 1, false).Value)
	}
	if got[0] != 33 || got[1] != 34 || got[2] != 33 {
		t.Fatalf("issues took %v, want [33 34 33]", got)
	}
	if q, v := bookValue(b); q != 0 || v != 0 {
		t.Fatalf("emptied layer keeps %s and %d", q, v)
	}
}

// A layer of 1,000,000 EA worth 10.00 issued one unit at a time gives one
// cent every 1,000 units (the half-even rounding of the cumulative value), not
// nothing until the end.
func TestValueIsTakenCumulativelyFromTheOriginalLayer(t *testing.T) {
	b := &Book{Method: CostFIFO}
	mustReceive(t, b, receipt("r1", "", 1_000_000, 1000))
	var sum int64
	for i := 1; i <= 2000; i++ {
		v := mustIssue(t, b, "", 1, false).Value
		sum += v
		if want := Cumulative(1000, units(int64(i)), units(1_000_000)); sum != want {
			t.Fatalf("after %d issues of 1 the value out is %d, want %d", i, sum, want)
		}
	}
	if sum != 2 {
		t.Fatalf("2,000 units of a cent per 1,000 were valued %d", sum)
	}
	sum += mustIssue(t, b, "", 997_000, false).Value
	if sum != 999 {
		t.Fatalf("after 999,000 units the value out is %d, want 999", sum)
	}
	for range 1000 {
		v := mustIssue(t, b, "", 1, false).Value
		if v < 0 || v > 1 {
			t.Fatalf("one unit of the last 1,000 took %d cents", v)
		}
		sum += v
	}
	if sum != 1000 {
		t.Fatalf("the whole layer was valued %d, want exactly its 1000", sum)
	}
}

func TestCumulativeRoundsHalfToEven(t *testing.T) {
	tests := []struct {
		v    int64
		n, q Qty
		want int64
	}{
		{1000, units(500), units(1_000_000), 0},  // 0.5 -> 0
		{1000, units(1500), units(1_000_000), 2}, // 1.5 -> 2
		{1000, units(501), units(1_000_000), 1},
		{100, units(3), units(3), 100},
		{-3000, units(1), units(3), -1000},
		{7, 0, units(3), 0},
	}
	for _, tt := range tests {
		if got := Cumulative(tt.v, tt.n, tt.q); got != tt.want {
			t.Errorf("Cumulative(%d, %s, %s) = %d, want %d", tt.v, tt.n, tt.q, got, tt.want)
		}
	}
}

func TestFIFOIssueStaysWithinItsLot(t *testing.T) {
	b := &Book{Method: CostFIFO}
	mustReceive(t, b, receipt("l1", "L1", 2, 200))
	mustReceive(t, b, receipt("l2", "L2", 2, 600))
	out := mustIssue(t, b, "L2", 2, true)
	if out.Value != 600 || len(out.Takes) != 1 || out.Takes[0].LayerID != "l2" {
		t.Fatalf("issue of lot L2 = %+v, want only L2's layer", out)
	}
	// More of L2 than L2 holds goes negative in L2, at the newest receipt cost
	// (L2's 3.00), not at L1's; L1's stock is not touched.
	out = mustIssue(t, b, "L2", 1, true)
	if out.Negative == nil || out.Negative.Lot != "L2" || out.Value != 300 {
		t.Fatalf("negative issue of L2 = %+v", out)
	}
	if b.Open[0].QtyRemaining != units(2) || b.Open[0].ValueRemaining != 200 {
		t.Fatalf("L1's layer changed: %+v", b.Open[0])
	}
}

func TestNegativeFillStaysWithinTheLot(t *testing.T) {
	b := &Book{Method: CostFIFO}
	mustReceive(t, b, receipt("l1", "L1", 1, 100))
	mustIssue(t, b, "L1", 3, true) // L1 at -2, provisional 1.00 each
	r := mustReceive(t, b, receipt("l2", "L2", 5, 1000))
	if len(r.Fills) != 0 || r.Correction != 0 {
		t.Fatalf("a receipt of L2 filled L1's negative stock: %+v", r)
	}
	r = mustReceive(t, b, receipt("l1b", "L1", 3, 450)) // fills 2 of L1 at 1.50: correction -100
	if len(r.Fills) != 1 || r.Fills[0].Qty != units(2) || r.Correction != -100 || len(r.FillCorrections) != 1 || r.FillCorrections[0] != -100 {
		t.Fatalf("fill of L1 = %+v, want 2 units, correction -100", r)
	}
	if q, v := bookValue(b); q != units(6) || v != 1150 {
		t.Fatalf("book = %s %d, want 6 units: 5 of L2 at 1000 and 1 of L1 at 150", q, v)
	}
}

// Receive 2 @ 10.00, issue 5, issue 1 more: the second negative issue is
// valued at the newest receipt cost too (the negative layer of the first is
// no cost to go by), and found stock then fills the oldest negative layer.
func TestNegativeStockKeepsTheLastReceiptCost(t *testing.T) {
	b := &Book{Method: CostFIFO}
	mustReceive(t, b, receipt("r1", "", 2, 2000))
	first := mustIssue(t, b, "", 5, true)
	if first.Value != 5000 || first.Negative == nil || first.Negative.QtyRemaining != -units(3) {
		t.Fatalf("first negative issue = %+v", first)
	}
	// The store's Last is the newest layer with QtyIn > 0: still r1.
	second, err := b.Issue("", units(1), true, Layer{ID: "neg2", SKU: "SKU", Warehouse: "W1"})
	if err != nil || second.Value != 1000 || second.Negative == nil || second.Negative.ID != "neg2" {
		t.Fatalf("second negative issue = %+v, %v", second, err)
	}
	c, ok := b.CurrentCost("")
	if !ok || c.Cmp(big.NewRat(1000, 1)) != 0 {
		t.Fatalf("current cost = %v, %v; want 1000 per unit", c, ok)
	}
	r := mustReceive(t, b, receipt("found", "", 1, 1000))
	if len(r.Fills) != 1 || r.Fills[0].LayerID != "neg" || r.Correction != 0 {
		t.Fatalf("found unit fills %+v, want the oldest negative layer at no correction", r)
	}
}

func TestMovingAverageIssueTakesTheAverage(t *testing.T) {
	b := &Book{Method: CostMovingAverage}
	mustReceive(t, b, receipt("r1", "", 10, 1000))
	mustReceive(t, b, receipt("r2", "", 10, 2000))
	if len(b.Open) != 1 || b.Open[0].ID != "pool-r1" {
		t.Fatalf("moving average has layers %+v, want one pool", b.Open)
	}
	if out := mustIssue(t, b, "", 5, false); out.Value != 750 {
		t.Fatalf("issue of 5 at the average of 1.50 = %d", out.Value)
	}
}

// Receive 10 @ 1, issue 10, receive 10 @ 3, issue 10: stock found then is
// valued at the last average, 3.00, not at the lifetime average 2.00.
func TestMovingAverageKeepsTheLastAverageWhenThePoolEmpties(t *testing.T) {
	b := &Book{Method: CostMovingAverage}
	mustReceive(t, b, receipt("r1", "", 10, 1000))
	mustIssue(t, b, "", 10, false)
	b.Open = nil // the store hands out only layers with stock; the pool is Last
	mustReceive(t, b, receipt("r2", "", 10, 3000))
	mustIssue(t, b, "", 10, false)
	b.Open = nil
	c, ok := b.CurrentCost("")
	v, err := Value(units(1), c, "quantity.value")
	if !ok || err != nil || v != 300 {
		t.Fatalf("one unit found is valued %d (%v, %v), want 300", v, ok, err)
	}
}

func TestMovingAverageNegativeStockIsFilledAtTheReceiptCost(t *testing.T) {
	b := &Book{Method: CostMovingAverage}
	mustReceive(t, b, receipt("r1", "", 2, 2000))
	out := mustIssue(t, b, "", 5, true) // 2 at 10.00, 3 ahead at 10.00
	if out.Value != 5000 || len(out.Takes) != 1 || out.Takes[0].Qty != units(5) {
		t.Fatalf("negative issue = %+v, want one take of the pool", out)
	}
	r := mustReceive(t, b, receipt("r2", "", 4, 4800)) // fills 3 at 12.00: correction -600
	if r.Correction != -600 {
		t.Fatalf("correction = %d, want -600", r.Correction)
	}
	if q, v := bookValue(b); q != units(1) || v != 1200 {
		t.Fatalf("book = %s %d, want 1 unit at 1200", q, v)
	}
}

func TestCurrencyIsLockedWhileStockRemains(t *testing.T) {
	for _, method := range []CostMethod{CostFIFO, CostMovingAverage} {
		b := &Book{Method: method}
		mustReceive(t, b, receipt("r1", "", 2, 2000))
		mustIssue(t, b, "", 5, true) // negative stock is stock too
		eur := receipt("r2", "", 3, 3000)
		eur.Currency = "EUR"
		if _, err := b.Receive(eur); !errors.Is(err, ErrCurrencyMismatch) {
			t.Fatalf("method %d: EUR into USD stock: %v", method, err)
		}
	}
}

func TestNewCurrencyOnceTheBookIsAtZero(t *testing.T) {
	for _, method := range []CostMethod{CostFIFO, CostMovingAverage} {
		b := &Book{Method: method}
		mustReceive(t, b, receipt("r1", "", 2, 2000))
		mustIssue(t, b, "", 2, false)
		b.Open = nil
		eur := receipt("r2", "", 3, 3300)
		eur.Currency = "EUR"
		r := mustReceive(t, b, eur)
		if len(r.Changed) != 1 || r.Changed[0].Currency != "EUR" || r.Changed[0].ID == "pool-r1" || b.Currency() != "EUR" {
			t.Fatalf("method %d: new currency gave %+v", method, r.Changed)
		}
		if out := mustIssue(t, b, "", 1, false); out.Value != 1100 || out.Takes[0].LayerID != r.Changed[0].ID {
			t.Fatalf("method %d: issue after the switch = %+v", method, out)
		}
	}
}

func TestStockBeyondTheLimitsIsRefused(t *testing.T) {
	b := &Book{Method: CostMovingAverage}
	mustReceive(t, b, receipt("r1", "", 1, MaxBookValue))
	if _, err := b.Receive(receipt("r2", "", 1, 1)); !errors.Is(err, ErrStockLimit) {
		t.Fatalf("book value beyond the limit: %v", err)
	}
	b = &Book{Method: CostFIFO}
	mustReceive(t, b, Layer{ID: "big", Currency: "USD", QtyIn: MaxStockQty, ValueIn: 1})
	if _, err := b.Receive(receipt("r2", "", 1, 0)); !errors.Is(err, ErrStockLimit) {
		t.Fatalf("quantity beyond the limit: %v", err)
	}
	if err := CheckLevel(MaxStockQty, 1, "level"); !errors.Is(err, ErrStockLimit) {
		t.Fatalf("level beyond the limit: %v", err)
	}
	if err := CheckLevel(-MaxStockQty, -1, "level"); !errors.Is(err, ErrStockLimit) {
		t.Fatalf("negative level beyond the limit: %v", err)
	}
	if err := CheckLevel(MaxStockQty-1, 1, "level"); err != nil {
		t.Fatalf("level at the limit: %v", err)
	}
}

func TestValueBeyondTheMovementLimitIsRefused(t *testing.T) {
	// 1e9 EA at 10,000,000.00 is 10^18 cents: it fits int64, and ten of them
	// would not; one is already beyond the limit per movement.
	perUnit, _ := money.ParseAmount("10000000", "USD")
	_, err := Value(units(1_000_000_000), perUnit, "quantity.value")
	var e *apperr.Error
	if !errors.Is(err, ErrMovementTooLarge) || !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument || e.Violations[0].Field != "quantity.value" {
		t.Fatalf("value beyond the limit: %#v", err)
	}
	if v, err := Value(units(3), big.NewRat(5, 2), "quantity.value"); err != nil || v != 8 { // 7.5 -> 8
		t.Fatalf("Value = %d, %v", v, err)
	}
}

func TestCurrentCostIsTheLotsAverageElseTheNewestCost(t *testing.T) {
	l1 := &Layer{ID: "a", Lot: "L1", Currency: "USD", QtyIn: units(2), QtyRemaining: units(2), ValueIn: 300, ValueRemaining: 300}
	l2 := &Layer{ID: "b", Lot: "L2", Currency: "USD", QtyIn: units(1), QtyRemaining: units(1), ValueIn: 600, ValueRemaining: 600}
	last := &Layer{ID: "c", Currency: "USD", QtyIn: units(4), ValueIn: 10}
	tests := []struct {
		name string
		book Book
		lot  string
		want *big.Rat
	}{
		{"the lot's open layers", Book{Open: []*Layer{l1, l2}, Last: l2}, "L1", big.NewRat(150, 1)},
		{"the newest cost when the lot has no stock", Book{Open: []*Layer{l1, l2}, Last: l2}, "L3", big.NewRat(600, 1)},
		{"a pool serves every lot", Book{Method: CostMovingAverage, Open: []*Layer{l1}, Last: l1}, "L9", big.NewRat(150, 1)},
		{"the last cost when nothing is open", Book{Last: last}, "", big.NewRat(10, 4)},
		{"never a cost", Book{}, "", nil},
	}
	for _, tt := range tests {
		got, ok := tt.book.CurrentCost(tt.lot)
		if ok != (tt.want != nil) || (ok && got.Cmp(tt.want) != 0) {
			t.Errorf("%s: cost = %v, %v; want %v", tt.name, got, ok, tt.want)
		}
	}
}

func TestNegativeIssueWithoutAnyCostIsRefused(t *testing.T) {
	b := &Book{Method: CostFIFO}
	if _, err := b.Issue("", units(1), true, Layer{ID: "n"}); !errors.Is(err, ErrNoCostForNegativeStock) {
		t.Fatalf("negative issue with no cost: %v", err)
	}
	if _, err := b.Issue("", units(1), false, Layer{ID: "n"}); !errors.Is(err, ErrLayersDisagreeWithStock) || apperr.KindOf(err) != apperr.KindInternal {
		t.Fatalf("layers short of a normal item's stock: %v", err)
	}
}

func TestProrateByLotAddsUpExactly(t *testing.T) {
	tests := []struct {
		value int64
		qtys  []Qty
		want  []int64
	}{
		{100, []Qty{units(1), units(1), units(1)}, []int64{33, 34, 33}},
		{1000, []Qty{0, units(10), units(10)}, []int64{0, 500, 500}},
		{-90, []Qty{units(2), units(1)}, []int64{-60, -30}},
	}
	for _, tt := range tests {
		got, ok := ProrateByLot(tt.value, tt.qtys)
		if !ok || len(got) != len(tt.want) {
			t.Fatalf("ProrateByLot(%d, %v) = %v, %v", tt.value, tt.qtys, got, ok)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("ProrateByLot(%d, %v) = %v, want %v", tt.value, tt.qtys, got, tt.want)
				break
			}
		}
	}
	if _, ok := ProrateByLot(5, []Qty{units(1), -units(1)}); ok {
		t.Fatal("quantities summing to zero have nothing to pro-rate by")
	}
}

func TestRefusalsMatchTheirSentinels(t *testing.T) {
	err := Refuse(ErrInsufficientStock, "short 3")
	if !errors.Is(err, ErrInsufficientStock) || errors.Is(err, ErrNoCost) || !errors.Is(err, apperr.ErrFailedPrecondition) {
		t.Fatalf("refusal %v matches the wrong sentinels", err)
	}
	if !errors.Is(apperr.Precondition(ReasonNoCost, "x"), ErrNoCost) {
		t.Fatal("an apperr precondition with the reason must match the sentinel")
	}
}

func TestCurrencyMustBeISO4217(t *testing.T) {
	tests := []struct {
		in, want string
		digits   int
		ok       bool
	}{
		{" usd", "USD", 2, true}, {"JPY", "JPY", 0, true}, {"KWD", "KWD", 3, true}, {"EUR", "EUR", 2, true},
		{"UDS", "", 0, false}, {"XAU", "", 0, false}, {"US", "", 0, false}, {"XXX", "", 0, false},
	}
	for _, tt := range tests {
		got, err := NormalizeCurrency(tt.in)
		if (err == nil) != tt.ok || got != tt.want || (tt.ok && money.MinorDigits(got) != tt.digits) {
			t.Errorf("NormalizeCurrency(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// A pool written before the cumulative rule summed every receipt into QtyIn
// and ValueIn; its remaining stock is then taken at its remaining average.
func TestLayerWithoutACumulativeBasisIsTakenAtItsRemainingAverage(t *testing.T) {
	b := &Book{Method: CostMovingAverage}
	b.Open = []*Layer{{ID: "old-pool", Currency: "USD", QtyIn: units(20), ValueIn: 4000, QtyRemaining: units(10), ValueRemaining: 3000}}
	b.Last = b.Open[0]
	if out := mustIssue(t, b, "", 5, false); out.Value != 1500 {
		t.Fatalf("half of the old pool took %d, want 1500", out.Value)
	}
}
