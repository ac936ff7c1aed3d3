package inventory

import (
	"errors"
	"testing"
)

func twoLineAllocation() *Allocation {
	return &Allocation{ID: "a1", State: AllocActive, Requested: 10 * qtyOne, Lines: []AllocLine{
		{Location: "A1", Lot: "L1", Qty: 6 * qtyOne},
		{Location: "A2", Lot: "L2", Qty: 4 * qtyOne},
	}}
}

func TestPickAsPlannedStagesTheStockStillReserved(t *testing.T) {
	a := twoLineAllocation()
	moved, err := a.Pick("A1", "L1", "", "STG", 6*qtyOne, 0)
	if err != nil || len(moved) != 0 {
		t.Fatalf("Pick = %v, %v", moved, err)
	}
	if a.Lines[0].Picked != 6*qtyOne || a.Waiting() != 6*qtyOne || a.State != AllocActive || a.Held() != 10*qtyOne {
		t.Fatalf("allocation = %+v", a)
	}
	if _, err := a.Pick("A2", "L2", "", "STG", 4*qtyOne, 0); err != nil || a.State != AllocPicked {
		t.Fatalf("second pick: %v, state %v", err, a.State)
	}
}

func TestPickFromAnotherBinOrLotRepointsTheReservation(t *testing.T) {
	a := twoLineAllocation()
	// 5 from B9 lot L2, planned nowhere: the reservation moves there, L2's first.
	moved, err := a.Pick("B9", "L2", "", "STG", 5*qtyOne, 5*qtyOne)
	if err != nil {
		t.Fatal(err)
	}
	want := []Repoint{{Location: "A2", Lot: "L2", Qty: 4 * qtyOne}, {Location: "A1", Lot: "L1", Qty: qtyOne}}
	if len(moved) != 2 || moved[0] != want[0] || moved[1] != want[1] {
		t.Fatalf("moved = %+v, want %+v", moved, want)
	}
	if a.Held() != 10*qtyOne || a.Open() != 5*qtyOne || a.Lines[2].Qty != 5*qtyOne || a.Lines[2].Picked != 5*qtyOne {
		t.Fatalf("allocation = %+v", a)
	}
}

func TestPickFromAnotherBinNeedsAvailableStock(t *testing.T) {
	a := twoLineAllocation()
	if _, err := a.Pick("B9", "L1", "", "STG", 3*qtyOne, 2*qtyOne); !errors.Is(err, ErrInsufficientStock) {
		t.Fatalf("err = %v, want insufficient stock", err)
	}
	if _, err := a.Pick("A1", "L1", "", "STG", 11*qtyOne, 100*qtyOne); !errors.Is(err, ErrPickExceedsAllocation) {
		t.Fatalf("err = %v, want pick exceeds allocation", err)
	}
}

func TestShortPickReleasesTheRest(t *testing.T) {
	a := twoLineAllocation()
	if _, err := a.Pick("A1", "L1", "", "STG", 2*qtyOne, 0); err != nil {
		t.Fatal(err)
	}
	rel := a.ReleaseOpen()
	if len(rel) != 2 || rel[0].Qty != 4*qtyOne || rel[1].Qty != 4*qtyOne || a.State != AllocPicked || a.Held() != 2*qtyOne {
		t.Fatalf("released %+v, allocation %+v", rel, a)
	}
}

func TestReleaseAfterPickPutsStagedStockBack(t *testing.T) {
	a := twoLineAllocation()
	if _, err := a.Pick("A1", "L1", "", "STG", 6*qtyOne, 0); err != nil {
		t.Fatal(err)
	}
	open, back, err := a.Release("")
	if err != nil || len(open) != 1 || open[0].Qty != 4*qtyOne || len(back) != 1 || back[0] != (PutBack{From: "STG", To: "A1", Lot: "L1", Qty: 6 * qtyOne}) {
		t.Fatalf("Release = %+v, %+v, %v", open, back, err)
	}
	if a.State != AllocReleased || a.Waiting() != 0 {
		t.Fatalf("allocation = %+v", a)
	}
}

func TestShipTakesStagedStockAndEndsTheAllocation(t *testing.T) {
	a := &Allocation{ID: "a1", State: AllocActive, Lines: []AllocLine{{Location: "A1", Qty: 3 * qtyOne}}}
	if _, err := a.Pick("A1", "", "", "STG", 3*qtyOne, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ship("STG", "", 4*qtyOne); !errors.Is(err, ErrShipExceedsPicked) {
		t.Fatalf("err = %v, want ship exceeds picked", err)
	}
	if q, err := a.Ship("STG", "", 0); err != nil || q != 3*qtyOne || a.State != AllocShipped {
		t.Fatalf("Ship = %v, %v, state %v", q, err, a.State)
	}
	if _, _, err := a.Release(""); !errors.Is(err, ErrAllocationShipped) {
		t.Fatalf("release after ship: %v", err)
	}
}
