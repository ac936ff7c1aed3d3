package inventory

import (
	"testing"
	"time"
)

func TestAllocationOrderFEFOThenFIFO(t *testing.T) {
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	levels := []*Level{
		{Location: "A", Lot: "NODATE-OLD", ReceivedAt: t1, OnHand: 5 * qtyOne},
		{Location: "B", Lot: "LATE", ExpiryDate: "2027-06-01", ReceivedAt: t1, OnHand: 5 * qtyOne},
		{Location: "C", Lot: "SOON", ExpiryDate: "2027-01-01", ReceivedAt: t1.Add(time.Hour), OnHand: 2 * qtyOne, Allocated: qtyOne},
		{Location: "D", Lot: "SOON", ExpiryDate: "2027-01-01", ReceivedAt: t1, OnHand: 1 * qtyOne},
	}
	SortForAllocation(levels)
	order := ""
	for _, l := range levels {
		order += l.Location
	}
	if order != "DCBA" {
		t.Fatalf("order = %s, want DCBA", order)
	}
	lines, short := PlanAllocation(levels, 4*qtyOne)
	if short != 0 || len(lines) != 3 || lines[0].Qty != qtyOne || lines[1].Qty != qtyOne || lines[2].Qty != 2*qtyOne || lines[2].Location != "B" {
		t.Fatalf("lines %+v short %s", lines, short)
	}
	_, short = PlanAllocation(levels, 100*qtyOne)
	if short != 100*qtyOne-12*qtyOne {
		t.Fatalf("short = %s", short)
	}
}
