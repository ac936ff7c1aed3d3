package inventory

import (
	"errors"
	"testing"
	"time"
)

func TestReverseReceiptRefusesAllButAnUntouchedFIFOReceipt(t *testing.T) {
	receipt := &Movement{ID: "R1", Type: MoveReceipt}
	untouched := func() *Layer {
		return &Layer{ID: "R1", QtyIn: 10 * qtyOne, ValueIn: 1000, QtyRemaining: 10 * qtyOne, ValueRemaining: 1000}
	}
	issued := untouched()
	issued.take(3 * qtyOne)
	for _, tc := range []struct {
		name       string
		orig       *Movement
		method     CostMethod
		layer      *Layer
		reversedBy string
		want       error
	}{
		{"UntouchedReceiptIsReversedWhole", receipt, CostFIFO, untouched(), "", nil},
		{"ReversalOfAReversalIsRefused", &Movement{ID: "V1", Type: MoveReversal}, CostFIFO, untouched(), "", ErrNotReversible},
		{"IssueIsNotReversed", &Movement{ID: "I1", Type: MoveIssue}, CostFIFO, untouched(), "", ErrNotReversible},
		{"SecondReversalIsRefused", receipt, CostFIFO, untouched(), "V1", ErrAlreadyReversed},
		{"MovingAverageReceiptIsPooled", receipt, CostMovingAverage, nil, "", ErrNotReversible},
		{"ReceiptIssuedFromIsRefused", receipt, CostFIFO, issued, "", ErrReceiptConsumed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk, err := ReverseReceipt(tc.orig, tc.method, tc.layer, tc.reversedBy)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil || tk.Qty != 10*qtyOne || tk.Value != 1000 || tc.layer.QtyRemaining != 0 || tc.layer.ValueRemaining != 0 {
				t.Fatalf("take = %+v, %v; layer %+v", tk, err, tc.layer)
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
