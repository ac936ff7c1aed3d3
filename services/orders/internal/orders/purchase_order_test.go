package orders

import (
	"errors"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

var (
	acme   = &Supplier{Code: "ACME", DisplayName: "Acme", CurrencyCode: "EUR"}
	widget = &CatalogItem{SKU: "W-1", BaseUoM: "EA", UoMs: []UoMFactor{{UoM: "CS", Factor: "12"}, {UoM: "HALF", Factor: "0.5"}}, SourceVersion: 1}
	bolt   = &CatalogItem{SKU: "B-1", BaseUoM: "KG", SourceVersion: 1}
	laptop = &CatalogItem{SKU: "L-1", BaseUoM: "EA", WholeUnitsOnly: true, SourceVersion: 1}
	items  = map[string]*CatalogItem{"W-1": widget, "B-1": bolt, "L-1": laptop}
)

func line(qty, uom, price string) POLineInput {
	return POLineInput{Item: "w-1", Quantity: qty, UoM: uom, UnitPrice: price, Warehouse: "wh1"}
}

func newPO(t *testing.T, tol string, lines ...POLineInput) *PurchaseOrder {
	t.Helper()
	po, err := NewPurchaseOrder("p1", POInput{Supplier: "ACME", TolerancePercent: tol, Lines: lines}, acme, items, "", t0)
	if err != nil {
		t.Fatalf("NewPurchaseOrder: %v", err)
	}
	return po
}

func TestLineAmountIsQuantityTimesPriceRoundedOnceHalfEven(t *testing.T) {
	tests := []struct {
		name, currency, qty, uom, price string
		base                            Qty
		amount                          int64
	}{
		{"cases to base units", "EUR", "2", "CS", "10.00", 24 * qtyOne, 2000},
		{"half cent rounds to even (down)", "EUR", "1", "", "0.125", qtyOne, 12},
		{"half cent rounds to even (up)", "EUR", "1", "", "0.135", qtyOne, 14},
		{"rounded once, not per unit", "EUR", "3", "", "0.333333", 3 * qtyOne, 100},
		{"fractional unit factor", "EUR", "3", "HALF", "1.10", 1500000, 330},
		{"JPY has no minor digits", "JPY", "3", "", "333.5", 3 * qtyOne, 1000},
		{"JPY half yen to even", "JPY", "1", "", "2.5", qtyOne, 2},
		{"KWD three digits", "KWD", "1", "", "1.2345", qtyOne, 1234},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			po, err := NewPurchaseOrder("p1", POInput{Currency: tt.currency, Lines: []POLineInput{line(tt.qty, tt.uom, tt.price)}}, acme, items, "", t0)
			if err != nil {
				t.Fatal(err)
			}
			l := po.Lines[0]
			if l.BaseQty != tt.base || l.Amount != tt.amount || po.Total() != tt.amount {
				t.Errorf("base %s amount %d total %d, want %s and %d", l.BaseQty, l.Amount, po.Total(), tt.base, tt.amount)
			}
		})
	}
}

func TestNewPurchaseOrderReportsEveryViolation(t *testing.T) {
	tests := []struct {
		name string
		in   POInput
		bad  []string
	}{
		{"no lines", POInput{}, []string{"purchase_order.lines"}},
		{"bad currency and tolerance", POInput{Currency: "EURO", TolerancePercent: "101", Lines: []POLineInput{line("1", "", "1")}},
			[]string{"purchase_order.currency_code", "purchase_order.over_receipt_tolerance_percent"}},
		{"unknown item", POInput{Lines: []POLineInput{{Item: "nope", Quantity: "1", UnitPrice: "1", Warehouse: "W"}}}, []string{"purchase_order.lines[0].item"}},
		{"unknown unit", POInput{Lines: []POLineInput{line("1", "PL", "1")}}, []string{"purchase_order.lines[0].quantity.uom"}},
		{"zero quantity", POInput{Lines: []POLineInput{line("0", "", "1")}}, []string{"purchase_order.lines[0].quantity.value"}},
		{"negative quantity", POInput{Lines: []POLineInput{line("-1", "", "1")}}, []string{"purchase_order.lines[0].quantity.value"}},
		{"exponent", POInput{Lines: []POLineInput{line("1e3", "", "1")}}, []string{"purchase_order.lines[0].quantity.value"}},
		{"beyond six places of base unit", POInput{Lines: []POLineInput{line("0.0000001", "CS", "1")}}, []string{"purchase_order.lines[0].quantity.value"}},
		{"price with seven places", POInput{Lines: []POLineInput{line("1", "", "0.0000001")}}, []string{"purchase_order.lines[0].unit_price"}},
		{"negative price", POInput{Lines: []POLineInput{line("1", "", "-1")}}, []string{"purchase_order.lines[0].unit_price"}},
		{"no warehouse, bad date, bad line tolerance", POInput{Lines: []POLineInput{{Item: "W-1", Quantity: "1", UnitPrice: "1", ExpectedDate: "31/12/2026", TolerancePercent: "x"}}},
			[]string{"purchase_order.lines[0].warehouse", "purchase_order.lines[0].expected_date", "purchase_order.lines[0].over_receipt_tolerance_percent"}},
		{"amount out of range", POInput{Lines: []POLineInput{line("1000000000", "", "99999999")}}, []string{"purchase_order.lines[0].unit_price"}},
		{"fraction of a whole-units item", POInput{Lines: []POLineInput{{Item: "L-1", Quantity: "1.5", UnitPrice: "1", Warehouse: "W"}}}, []string{"purchase_order.lines[0].quantity.value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPurchaseOrder("p1", tt.in, acme, items, "", t0)
			assertViolations(t, err, tt.bad)
		})
	}
}

func TestNewPurchaseOrderDefaultsAndNormalises(t *testing.T) {
	po, err := NewPurchaseOrder("p1", POInput{Lines: []POLineInput{
		{Item: " w-1", Quantity: "1.50", UoM: "cs", UnitPrice: "2", Warehouse: " wh1 ", ExpectedDate: "2026-12-24", TolerancePercent: "2.50"},
		{Item: "B-1", Quantity: "0.25", UnitPrice: "4", Warehouse: "WH1"},
	}}, acme, items, "partner-a", t0)
	if err != nil {
		t.Fatal(err)
	}
	if po.Currency != "EUR" || po.State != StateDraft || po.TolerancePercent != "0" || po.Partner != "partner-a" || po.Version != 1 {
		t.Errorf("order %+v", po)
	}
	l := po.Lines[0]
	if l.Number != 1 || l.SKU != "W-1" || l.UoM != "CS" || l.Quantity != "1.5" || l.BaseQty != 18*qtyOne || l.Warehouse != "WH1" || l.TolerancePercent != "2.5" || l.Factor != "12" {
		t.Errorf("line 1 %+v", l)
	}
	if l2 := po.Lines[1]; l2.Number != 2 || l2.UoM != "KG" || l2.BaseQty != 250000 || l2.Amount != 100 {
		t.Errorf("line 2 %+v", l2)
	}
}

func wantState(t *testing.T, err error, state POState) {
	t.Helper()
	var e *apperr.Error
	if !errors.Is(err, ErrPOState) || !errors.As(err, &e) || e.Metadata["state"] != state.String() {
		t.Fatalf("err = %v, want FailedPrecondition naming state %s", err, state)
	}
}

func TestLifecycleTransitions(t *testing.T) {
	t1 := t0.Add(time.Hour)
	type step func(po *PurchaseOrder) error
	release := func(po *PurchaseOrder) error { return po.Release(t1) }
	cancel := func(po *PurchaseOrder) error { return po.Cancel(t1) }
	closePO := func(po *PurchaseOrder) error { return po.Close(t1) }
	receive := func(q Qty) step { return func(po *PurchaseOrder) error { return po.ApplyReceipt(1, q, t1, t1) } }
	tests := []struct {
		name  string
		steps []step
		last  step
		want  POState // after last, or the state named by its refusal
		ok    bool
	}{
		{"draft is released", nil, release, StateReleased, true},
		{"draft is cancelled", nil, cancel, StateCancelled, true},
		{"draft cannot close", nil, closePO, StateDraft, false},
		{"released cannot be released again", []step{release}, release, StateReleased, false},
		{"released is cancelled", []step{release}, cancel, StateCancelled, true},
		{"released cannot close", []step{release}, closePO, StateReleased, false},
		{"a receipt makes it partially received", []step{release}, receive(4 * qtyOne), StatePartiallyReceived, true},
		{"the rest makes it received", []step{release, receive(4 * qtyOne)}, receive(6 * qtyOne), StateReceived, true},
		{"a reversal takes it back", []step{release, receive(10 * qtyOne)}, receive(-3 * qtyOne), StatePartiallyReceived, true},
		{"reversing everything reopens it", []step{release, receive(4 * qtyOne)}, receive(-4 * qtyOne), StateReleased, true},
		{"partially received cancel closes it", []step{release, receive(4 * qtyOne)}, cancel, StateClosed, true},
		{"partially received closes short", []step{release, receive(4 * qtyOne)}, closePO, StateClosed, true},
		{"received closes", []step{release, receive(10 * qtyOne)}, closePO, StateClosed, true},
		{"received cannot be cancelled", []step{release, receive(10 * qtyOne)}, cancel, StateReceived, false},
		{"received cannot be released", []step{release, receive(10 * qtyOne)}, release, StateReceived, false},
		{"closed cannot close again", []step{release, receive(10 * qtyOne), closePO}, closePO, StateClosed, false},
		{"closed cannot be cancelled", []step{release, receive(10 * qtyOne), closePO}, cancel, StateClosed, false},
		{"closed cannot be released", []step{release, receive(10 * qtyOne), closePO}, release, StateClosed, false},
		{"cancelled cannot be released", []step{cancel}, release, StateCancelled, false},
		{"cancelled cannot be cancelled", []step{cancel}, cancel, StateCancelled, false},
		{"cancelled cannot close", []step{cancel}, closePO, StateCancelled, false},
		{"a late receipt is recorded on a closed order", []step{release, receive(4 * qtyOne), closePO}, receive(qtyOne), StateClosed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			po := newPO(t, "", line("10", "", "1"))
			for i, s := range tt.steps {
				if err := s(po); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			v := po.Version
			err := tt.last(po)
			if !tt.ok {
				wantState(t, err, tt.want)
				if po.State != tt.want || po.Version != v {
					t.Errorf("refused command changed the order: %s v%d", po.State, po.Version)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if po.State != tt.want || po.Version != v+1 {
				t.Errorf("state %s v%d, want %s v%d", po.State, po.Version, tt.want, v+1)
			}
		})
	}
}

func TestCancellingPartlyReceivedOrderCancelsOnlyTheOpenRemainder(t *testing.T) {
	po := newPO(t, "", line("10", "", "1"), line("5", "", "1"))
	_ = po.Release(t0)
	if err := po.ApplyReceipt(1, 4*qtyOne, t0, t0); err != nil {
		t.Fatal(err)
	}
	if err := po.Cancel(t0); err != nil {
		t.Fatal(err)
	}
	if po.State != StateClosed || po.Lines[0].Cancelled != 6*qtyOne || po.Lines[1].Cancelled != 5*qtyOne || po.Lines[0].Received != 4*qtyOne {
		t.Errorf("after cancel: %s %+v", po.State, po.Lines)
	}
}

func TestOverReceiptWithinToleranceIsAcceptedBeyondItIsADiscrepancy(t *testing.T) {
	tests := []struct {
		name         string
		poTol, lnTol string
		received     Qty
		open         Qty
	}{
		{"exact", "", "", 10 * qtyOne, 0},
		{"default tolerance is zero", "", "", 10*qtyOne + 1, 1},
		{"within the order's 5 %", "5", "", 10*qtyOne + qtyOne/2, 0},
		{"beyond the order's 5 %", "5", "", 11 * qtyOne, qtyOne / 2},
		{"the line's tolerance wins", "5", "10", 11 * qtyOne, 0},
		{"the line's zero wins too", "5", "0", 10*qtyOne + 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := line("10", "", "1")
			l.TolerancePercent = tt.lnTol
			po := newPO(t, tt.poTol, l)
			_ = po.Release(t0)
			if err := po.ApplyReceipt(1, tt.received, t0, t0); err != nil {
				t.Fatal(err)
			}
			if got := po.OpenDiscrepancy(&po.Lines[0]); got != tt.open {
				t.Errorf("open discrepancy %s, want %s", got, tt.open)
			}
			if po.State != StateReceived {
				t.Errorf("state %s", po.State)
			}
			err := po.Close(t0)
			if tt.open > 0 && !errors.Is(err, ErrOpenDiscrepancy) {
				t.Errorf("close with an open discrepancy: %v", err)
			}
			if tt.open == 0 && err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
}

func TestResolvingADiscrepancy(t *testing.T) {
	over := func(t *testing.T) *PurchaseOrder {
		po := newPO(t, "", line("1", "CS", "12"))
		_ = po.Release(t0)
		_ = po.ApplyReceipt(1, 24*qtyOne, t0, t0)
		return po
	}
	t.Run("accept keeps it; more beyond reopens", func(t *testing.T) {
		po := over(t)
		if err := po.ResolveDiscrepancy(1, ResolveAccept, t0); err != nil {
			t.Fatal(err)
		}
		l := &po.Lines[0]
		if po.OpenDiscrepancy(l) != 0 || po.AcceptedOverReceipt(l) != 12*qtyOne || l.BaseQty != 12*qtyOne {
			t.Errorf("after accept: %+v", l)
		}
		_ = po.ApplyReceipt(1, qtyOne, t0, t0)
		if po.OpenDiscrepancy(l) != qtyOne {
			t.Errorf("a further over-receipt is not open: %s", po.OpenDiscrepancy(l))
		}
	})
	t.Run("amend raises the ordered quantity and amount", func(t *testing.T) {
		po := over(t)
		if err := po.ResolveDiscrepancy(1, ResolveAmend, t0); err != nil {
			t.Fatal(err)
		}
		l := po.Lines[0]
		if l.Quantity != "2" || l.BaseQty != 24*qtyOne || l.Amount != 2400 || po.OpenDiscrepancy(&l) != 0 {
			t.Errorf("after amend: %+v", l)
		}
	})
	t.Run("amend to a fraction of a case that is not exact is refused", func(t *testing.T) {
		po := newPO(t, "", line("1", "CS", "12"))
		_ = po.Release(t0)
		_ = po.ApplyReceipt(1, 13*qtyOne, t0, t0) // 13/12 CS is not a terminating decimal
		if err := po.ResolveDiscrepancy(1, ResolveAmend, t0); !errors.Is(err, ErrAmendNotExact) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("accept and amend are recorded as the line's resolutions", func(t *testing.T) {
		po := over(t)
		_ = po.ResolveDiscrepancy(1, ResolveAccept, t0)
		_ = po.ApplyReceipt(1, 6*qtyOne, t0, t0)
		_ = po.ResolveDiscrepancy(1, ResolveAmend, t0.Add(time.Second))
		rs := po.Lines[0].Resolutions
		if len(rs) != 2 || rs[0] != (ResolvedDiscrepancy{Number: 1, How: ResolveAccept, Qty: 12 * qtyOne, At: t0}) ||
			rs[1] != (ResolvedDiscrepancy{Number: 2, How: ResolveAmend, Qty: 6 * qtyOne, At: t0.Add(time.Second)}) {
			t.Errorf("resolutions %+v", rs)
		}
	})
	t.Run("return is not a one-step resolution", func(t *testing.T) {
		if err := over(t).ResolveDiscrepancy(1, ResolveReturn, t0); err == nil || apperr.KindOf(err) != apperr.KindInternal {
			t.Errorf("err = %v, want an internal error: RETURN goes through StartReturn", err)
		}
	})
	t.Run("nothing to resolve", func(t *testing.T) {
		po := newPO(t, "", line("1", "CS", "12"))
		if err := po.ResolveDiscrepancy(1, ResolveAccept, t0); !errors.Is(err, ErrNoDiscrepancy) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unknown line", func(t *testing.T) {
		assertViolations(t, over(t).ResolveDiscrepancy(9, ResolveAccept, t0), []string{"line_number"})
	})
}

func TestReceiptsCommute(t *testing.T) {
	deltas := []Qty{3 * qtyOne, -3 * qtyOne, 5 * qtyOne, 4 * qtyOne}
	forward, backward := newPO(t, "", line("10", "", "1")), newPO(t, "", line("10", "", "1"))
	_, _ = forward.Release(t0), backward.Release(t0)
	for i := range deltas {
		_ = forward.ApplyReceipt(1, deltas[i], t0, t0)
		_ = backward.ApplyReceipt(1, deltas[len(deltas)-1-i], t0, t0)
	}
	if forward.State != backward.State || forward.Lines[0].Received != backward.Lines[0].Received || forward.State != StatePartiallyReceived {
		t.Errorf("forward %s %s, backward %s %s", forward.State, forward.Lines[0].Received, backward.State, backward.Lines[0].Received)
	}
	if err := forward.ApplyReceipt(7, qtyOne, t0, t0); !errors.Is(err, ErrUnknownLine) {
		t.Errorf("unknown line: %v", err)
	}
}

func TestPartnerSeesOnlyItsOwnOrders(t *testing.T) {
	po := newPO(t, "", line("1", "", "1"))
	po.Partner = "a"
	if !po.VisibleTo("") || !po.VisibleTo("a") || po.VisibleTo("b") {
		t.Error("visibility rule broken")
	}
}
