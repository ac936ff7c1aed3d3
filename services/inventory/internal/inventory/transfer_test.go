package inventory

import (
	"errors"
	"testing"
	"time"
)

func TestReverseReceiptRefusesAllButAnUntouchedReceipt(t *testing.T) {
	receipt := &Movement{ID: "R1", Type: MoveReceipt, BaseQty: 10 * qtyOne, Value: 1000, Currency: "USD"}
	untouched := func() *Layer {
		return &Layer{ID: "R1", Currency: "USD", QtyIn: 10 * qtyOne, ValueIn: 1000, QtyRemaining: 10 * qtyOne, ValueRemaining: 1000}
	}
	issued := untouched()
	issued.take(3 * qtyOne)
	// A pool of 5 worth 600 before R1 (10 worth 1000) came in: struck at 15 / 1600.
	pool := func() *Layer {
		return &Layer{ID: "pool-R0", Currency: "USD", QtyIn: 15 * qtyOne, ValueIn: 1600, QtyRemaining: 15 * qtyOne, ValueRemaining: 1600}
	}
	onlyR1 := func() *Layer { l := untouched(); l.ID = "pool-R1"; return l }
	issuedPool := pool()
	issuedPool.take(3 * qtyOne)
	filled := &Layer{ID: "pool-R0", Currency: "USD", QtyIn: 7 * qtyOne, ValueIn: 700, QtyRemaining: 7 * qtyOne, ValueRemaining: 700} // was -3
	for _, tc := range []struct {
		name         string
		orig         *Movement
		method       CostMethod
		layer        *Layer
		reversedBy   string
		changedSince bool
		want         error
		// wantLeft is the layer's quantity and value after the reversal.
		wantQty Qty
		wantVal int64
	}{
		{"UntouchedReceiptIsReversedWhole", receipt, CostFIFO, untouched(), "", false, nil, 0, 0},
		{"ReversalOfAReversalIsRefused", &Movement{ID: "V1", Type: MoveReversal}, CostFIFO, untouched(), "", false, ErrNotReversible, 0, 0},
		{"IssueIsNotReversed", &Movement{ID: "I1", Type: MoveIssue}, CostFIFO, untouched(), "", false, ErrNotReversible, 0, 0},
		{"SecondReversalIsRefused", receipt, CostFIFO, untouched(), "V1", false, ErrAlreadyReversed, 0, 0},
		{"ReceiptIssuedFromIsRefused", receipt, CostFIFO, issued, "", false, ErrReceiptConsumed, 0, 0},
		{"PooledReceiptLeavesThePoolAsBefore", receipt, CostMovingAverage, pool(), "", false, nil, 5 * qtyOne, 600},
		{"PooledReceiptIntoAnEmptyPoolEmptiesIt", receipt, CostMovingAverage, onlyR1(), "", false, nil, 0, 0},
		{"PoolIssuedFromSinceIsRefused", receipt, CostMovingAverage, issuedPool, "", false, ErrReceiptConsumed, 0, 0},
		{"PoolChangedSinceIsRefused", receipt, CostMovingAverage, pool(), "", true, ErrReceiptConsumed, 0, 0},
		{"ReceiptThatFilledNegativeStockIsRefused", receipt, CostMovingAverage, filled, "", false, ErrReceiptConsumed, 0, 0},
		{"PoolInAnotherCurrencyIsRefused", &Movement{ID: "R1", Type: MoveReceipt, BaseQty: 10 * qtyOne, Value: 1000, Currency: "EUR"},
			CostMovingAverage, pool(), "", false, ErrReceiptConsumed, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk, err := ReverseReceipt(tc.orig, tc.method, tc.layer, tc.reversedBy, tc.changedSince)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				return
			}
			l := tc.layer
			if err != nil || tk.Qty != 10*qtyOne || tk.Value != 1000 || tk.LayerID != l.ID ||
				l.QtyRemaining != tc.wantQty || l.ValueRemaining != tc.wantVal ||
				// a pool's average is struck again from what is left
				(tc.method == CostMovingAverage && (l.QtyIn != tc.wantQty || l.ValueIn != tc.wantVal)) {
				t.Fatalf("take = %+v, %v; layer %+v", tk, err, l)
			}
		})
	}
}

func TestTransferCarriesEachLayersValueAndAge(t *testing.T) {
	t1, t2 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	b := &Book{Method: CostFIFO, Open: []*Layer{
		{ID: "L1", Seq: 1, QtyIn: 10000 * qtyOne, ValueIn: 333333, QtyRemaining: 10000 * qtyOne, ValueRemaining: 333333, ReceivedAt: t1},
		{ID: "L2", Seq: 2, QtyIn: 20000 * qtyOne, ValueIn: 666667, QtyRemaining: 20000 * qtyOne, ValueRemaining: 666667, ReceivedAt: t2},
	}}
	out, err := b.Issue("", 30000*qtyOne, false, Layer{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Carry(b, out)
	if err != nil {
		t.Fatal(err)
	}
	want := []CarriedLayer{{SourceLayerID: "L1", Qty: 10000 * qtyOne, Value: 333333, ReceivedAt: t1}, {SourceLayerID: "L2", Qty: 20000 * qtyOne, Value: 666667, ReceivedAt: t2}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("carried = %+v, want %+v", got, want)
	}
	// Re-created as they left: a destination book gets exactly that value.
	dest := &Book{Method: CostFIFO}
	var total int64
	for i, l := range got {
		if _, err := dest.Receive(Layer{ID: l.SourceLayerID + "-in", Seq: int64(i + 1), Currency: "USD", QtyIn: l.Qty, ValueIn: l.Value, ReceivedAt: l.ReceivedAt}); err != nil {
			t.Fatal(err)
		}
		total += l.Value
	}
	if total != 1_000_000 || dest.Open[0].ReceivedAt != t1 {
		t.Fatalf("destination = %d, %+v", total, dest.Open[0])
	}
}

func TestReturnIsValuedAtTheIssuesCostAndNeverExceedsIt(t *testing.T) {
	// 3 units issued for 1.00: returns of 1, 1, 1 give 0.33, 0.34, 0.33 (the
	// cumulative rule), adding up to exactly 1.00; a fourth is refused.
	iss := &Movement{ID: "I1", Type: MoveIssue, BaseQty: -3 * qtyOne, Value: -100}
	var before Qty
	var total int64
	for i, want := range []int64{33, 34, 33} {
		v, err := ReturnValue(iss, before, qtyOne)
		if err != nil || v != want {
			t.Fatalf("return %d = %d, %v; want %d", i+1, v, err, want)
		}
		before += qtyOne
		total += v
	}
	if total != 100 {
		t.Fatalf("returns add up to %d, want the issue's 100", total)
	}
	if _, err := ReturnValue(iss, before, qtyOne); !errors.Is(err, ErrReturnExceedsIssue) {
		t.Fatalf("fourth return: %v", err)
	}
	if _, err := ReturnValue(iss, 0, 4*qtyOne); !errors.Is(err, ErrReturnExceedsIssue) {
		t.Fatalf("return of more than issued: %v", err)
	}
	if _, err := ReturnValue(&Movement{ID: "R1", Type: MoveReceipt, BaseQty: qtyOne}, 0, qtyOne); !errors.Is(err, ErrNotReturnable) {
		t.Fatalf("return against a receipt: %v", err)
	}
}
