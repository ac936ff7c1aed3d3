package orders

import (
	"errors"
	"testing"
	"time"
)

// received12of10 is a released order for 10 EA at 0 % tolerance of which 12
// arrived at RCV-01 (lot L1): 2 EA beyond what is allowed.
func received12of10(t *testing.T, tol string) *PurchaseOrder {
	t.Helper()
	po := newPO(t, tol, line("10", "", "1.50"))
	_ = po.Release(t0)
	_ = po.ApplyReceipt(1, 12*qtyOne, t0, t0)
	_ = po.AddReceivedValue(1, 1800)
	po.NoteReceiptPlace(1, "WH1", "rcv-01", "l1")
	return po
}

func TestReturnSendsBackTheExcessBeyondWhatIsAllowed(t *testing.T) {
	tests := []struct {
		name  string
		tol   string
		whole bool
		want  Qty
	}{
		{"no tolerance: all beyond the order", "", false, 2 * qtyOne},
		{"5 %: beyond 10.5", "5", false, 1_500_000},
		{"5 %, whole units: 1.5 rounds up to 2", "5", true, 2 * qtyOne},
		{"20 %: within tolerance, nothing to return", "20", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			po := received12of10(t, tt.tol)
			p, err := po.StartReturn(1, ReturnFrom{}, tt.whole, t0)
			if tt.want == 0 {
				if !errors.Is(err, ErrNoDiscrepancy) {
					t.Fatalf("err = %v, want NO_RECEIPT_DISCREPANCY", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p != (PendingReturn{Discrepancy: 1, Qty: tt.want, Location: "RCV-01", Lot: "L1", StartedAt: t0}) {
				t.Errorf("pending return %+v", p)
			}
			if po.Lines[0].Returning() != tt.want || !po.HasOpenDiscrepancy() {
				t.Errorf("returning %s, open %v", po.Lines[0].Returning(), po.HasOpenDiscrepancy())
			}
		})
	}
}

func TestReturnIsRecordedOnceWithItsMovement(t *testing.T) {
	po := received12of10(t, "")
	p, err := po.StartReturn(1, ReturnFrom{}, true, t0)
	if err != nil {
		t.Fatal(err)
	}
	// While it is in progress the order cannot close, and no other
	// resolution may start; a retry resumes the same return.
	if err := po.Close(t0); !errors.Is(err, ErrOpenDiscrepancy) {
		t.Errorf("close during the return: %v", err)
	}
	if err := po.ResolveDiscrepancy(1, ResolveAccept, t0); !errors.Is(err, ErrReturnInProgress) {
		t.Errorf("accept during the return: %v", err)
	}
	if again, err := po.StartReturn(1, ReturnFrom{Location: "warehouses/wh1/locations/rcv-01"}, true, t0.Add(time.Second)); err != nil || again != p {
		t.Errorf("resume = %+v, %v; want %+v", again, err, p)
	}
	if _, err := po.StartReturn(1, ReturnFrom{Location: "A-01"}, true, t0); !errors.Is(err, ErrReturnInProgress) {
		t.Errorf("another location during the return: %v", err)
	}
	at := t0.Add(time.Minute)
	changed, err := po.CompleteReturn(1, p.Discrepancy, "movements/m1", 2*qtyOne, 300, "EUR", true, at, at)
	if err != nil || !changed {
		t.Fatalf("complete = %v, %v", changed, err)
	}
	l := &po.Lines[0]
	if l.Received != 10*qtyOne || l.Returned != 2*qtyOne || l.ReceivedValue != 1500 || l.Return != nil || po.OpenDiscrepancy(l) != 0 {
		t.Errorf("line after the return %+v", l)
	}
	if len(l.Resolutions) != 1 || l.Resolutions[0] != (ResolvedDiscrepancy{Number: 1, How: ResolveReturn, Qty: 2 * qtyOne, Movement: "movements/m1", At: at}) {
		t.Errorf("resolutions %+v", l.Resolutions)
	}
	// A concurrent completion of the same return changes nothing.
	if changed, err := po.CompleteReturn(1, p.Discrepancy, "movements/m1", 2*qtyOne, 300, "EUR", true, at, at); err != nil || changed || l.Received != 10*qtyOne {
		t.Errorf("second completion = %v, %v; received %s", changed, err, l.Received)
	}
	if err := po.Close(at); err != nil || po.State != StateClosed {
		t.Errorf("close after the return: %v (%s)", err, po.State)
	}
	// Nothing left to return; an already resolved discrepancy is not open.
	if _, err := po.StartReturn(1, ReturnFrom{}, true, at); !errors.Is(err, ErrNoDiscrepancy) {
		t.Errorf("return again: %v", err)
	}
}

// The issue event may apply the movement before the RETURN records it: then
// the recording takes nothing out again.
func TestReturnAppliedByItsEventFirstIsNotAppliedTwice(t *testing.T) {
	po := received12of10(t, "")
	p, _ := po.StartReturn(1, ReturnFrom{}, true, t0)
	if err := po.ApplyReturn(1, 2*qtyOne, 300, "EUR", t0); err != nil {
		t.Fatal(err)
	}
	if po.OpenDiscrepancy(&po.Lines[0]) != 0 || !po.HasOpenDiscrepancy() {
		t.Errorf("applied, not recorded: open %s, has open %v; the return in progress keeps it open", po.OpenDiscrepancy(&po.Lines[0]), po.HasOpenDiscrepancy())
	}
	if _, err := po.CompleteReturn(1, p.Discrepancy, "movements/m1", 2*qtyOne, 300, "EUR", false, t0, t0); err != nil {
		t.Fatal(err)
	}
	if l := po.Lines[0]; l.Received != 10*qtyOne || l.Returned != 2*qtyOne || l.ReceivedValue != 1500 || po.HasOpenDiscrepancy() {
		t.Errorf("line %+v", l)
	}
}

func TestReturnRefusals(t *testing.T) {
	t.Run("nothing to return", func(t *testing.T) {
		po := newPO(t, "", line("10", "", "1"))
		_ = po.Release(t0)
		_ = po.ApplyReceipt(1, 10*qtyOne, t0, t0)
		if _, err := po.StartReturn(1, ReturnFrom{Location: "A"}, false, t0); !errors.Is(err, ErrNoDiscrepancy) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("already resolved by accept", func(t *testing.T) {
		po := received12of10(t, "")
		_ = po.ResolveDiscrepancy(1, ResolveAccept, t0)
		if _, err := po.StartReturn(1, ReturnFrom{}, false, t0); !errors.Is(err, ErrNoDiscrepancy) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("no location known", func(t *testing.T) {
		po := newPO(t, "", line("10", "", "1"))
		_ = po.Release(t0)
		_ = po.ApplyReceipt(1, 12*qtyOne, t0, t0)
		assertViolations(t, func() error { _, err := po.StartReturn(1, ReturnFrom{}, false, t0); return err }(), []string{"location"})
		if po.Lines[0].Return != nil {
			t.Error("a refused return was started")
		}
	})
	t.Run("location of another warehouse", func(t *testing.T) {
		po := received12of10(t, "")
		assertViolations(t, func() error {
			_, err := po.StartReturn(1, ReturnFrom{Location: "warehouses/WH9/locations/A"}, false, t0)
			return err
		}(), []string{"location"})
	})
	t.Run("unknown line", func(t *testing.T) {
		assertViolations(t, func() error { _, err := received12of10(t, "").StartReturn(9, ReturnFrom{}, false, t0); return err }(), []string{"line_number"})
	})
	t.Run("a refused return is abandoned and the discrepancy is open again", func(t *testing.T) {
		po := received12of10(t, "")
		p, _ := po.StartReturn(1, ReturnFrom{}, false, t0)
		if !po.AbandonReturn(1, p.Discrepancy, t0) || po.Lines[0].Return != nil || po.OpenDiscrepancy(&po.Lines[0]) != 2*qtyOne {
			t.Fatalf("abandon: %+v", po.Lines[0])
		}
		if po.AbandonReturn(1, p.Discrepancy, t0) {
			t.Error("abandoned twice")
		}
		if err := po.ResolveDiscrepancy(1, ResolveAccept, t0); err != nil {
			t.Errorf("accept after the abandoned return: %v", err)
		}
	})
}

func TestReceiptPlaceIsRememberedOnlyForTheLinesWarehouse(t *testing.T) {
	po := newPO(t, "", line("10", "", "1"))
	po.NoteReceiptPlace(1, "WH2", "A", "")
	if po.Lines[0].ReceiptLocation != "" {
		t.Errorf("a receipt into another warehouse set %q", po.Lines[0].ReceiptLocation)
	}
	po.NoteReceiptPlace(1, "wh1", " b-2 ", "")
	if po.Lines[0].ReceiptLocation != "B-2" {
		t.Errorf("location %q", po.Lines[0].ReceiptLocation)
	}
	if got := ReturnRequestID("p1", 1, 2); got != "po-return/p1/1/2" {
		t.Errorf("request id %q", got)
	}
}
