package fulfillment

import (
	"testing"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/qty"
)

func TestWaveOf(t *testing.T) {
	day := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for at, want := range map[time.Duration]string{
		9 * time.Hour:                 "MAIN-20261203-1200",
		12 * time.Hour:                "MAIN-20261203-1700",
		16*time.Hour + 59*time.Minute: "MAIN-20261203-1700",
		18 * time.Hour:                "MAIN-20261204-1200",
	} {
		if got := WaveOf("MAIN", day.Add(at), nil); got != want {
			t.Errorf("at %v: %s, want %s", at, got, want)
		}
	}
}

func order(t *testing.T) *OutboundOrder {
	t.Helper()
	o, err := NewOutboundOrder("SO1", "NW", "", []ConfirmedLine{{Line: 1, SKU: "W-1", Warehouse: "main", BaseQty: "10", BaseUoM: "EA"}}, rt0)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOutboundLifecycle(t *testing.T) {
	o := order(t)
	if o.State != OutboundAllocating || !o.Lines[0].NeedAllocate || o.Lines[0].Warehouse != "MAIN" {
		t.Fatalf("new = %+v", o)
	}
	tasks, short, err := o.Allocated(1, Reserved{Allocation: "A1", Allocated: 8 * qty.One, Shortfall: 2 * qty.One,
		Lines: []ReservedLine{{Location: "A-01", Qty: 5 * qty.One}, {Location: "B-02", Lot: "L1", Qty: 3 * qty.One}}}, "STG-01", "W1", rt0)
	if err != nil || len(tasks) != 2 || short != 2*qty.One || o.State != OutboundReleased || tasks[1].Zone != "B" || tasks[1].Lot != "L1" {
		t.Fatalf("allocated: %v %v %v %+v", err, short, o.State, tasks)
	}
	// Allocating again (a redelivered answer) changes nothing.
	if again, _, _ := o.Allocated(1, Reserved{Allocation: "A2"}, "STG-01", "W1", rt0); again != nil || o.Lines[0].Allocation != "A1" {
		t.Fatal("allocated twice")
	}
	out, err := o.Picked(tasks[0], Pick{Base: 4 * qty.One}, "C-09", rt0)
	if err != nil || out.Retry == nil || out.Retry.From != "C-09" || out.Retry.Qty != qty.One || out.Short != 0 {
		t.Fatalf("short with another bin: %+v, %v", out, err)
	}
	if _, err := o.Picked(tasks[1], Pick{Base: 4 * qty.One}, "", rt0); apperr.KindOf(err) != apperr.KindInvalidArgument {
		t.Fatalf("picking more than the task: %v", err)
	}
	out, _ = o.Picked(tasks[1], Pick{Base: 2 * qty.One}, "", rt0)
	if out.Short != qty.One || o.Lines[0].Short != 3*qty.One {
		t.Fatalf("short for good: %+v, line %+v", out, o.Lines[0])
	}
	if len(o.Staged) != 2 || o.Staged[1].Lot != "L1" {
		t.Fatalf("staged = %+v", o.Staged)
	}
	sh, err := o.Pack("MAIN", []PackLine{{Line: 1, Qty: 5 * qty.One}}, nil, rt0)
	if err != nil || len(sh.Lines) != 2 || sh.Lines[0].Qty+sh.Lines[1].Qty != 5*qty.One || sh.ID != "SH-SO1-1" || len(sh.Cartons) != 1 {
		t.Fatalf("pack = %+v, %v", sh, err)
	}
	rest, err := o.Pack("MAIN", nil, nil, rt0)
	if err != nil || len(rest.Lines) != 1 || rest.Lines[0].Qty != qty.One || rest.Lines[0].Lot != "L1" || rest.ID != "SH-SO1-2" {
		t.Fatalf("the rest = %+v, %v", rest, err)
	}
	if _, err := o.Pack("MAIN", nil, nil, rt0); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Fatalf("nothing left to pack: %v", err)
	}
	if err := o.Ship(sh, "UPS", "GROUND", "T1", nil, rt0); err != nil || o.Lines[0].Shipped != 5*qty.One || len(o.Staged) != 1 {
		t.Fatalf("ship: %v, %+v", err, o)
	}
	if err := o.Ship(sh, "UPS", "", "", nil, rt0); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Fatalf("shipping twice: %v", err)
	}
	// Cancelling: what did not ship is cancelled; the allocation is owed a
	// release (the packed unit goes back too).
	if changed := o.Cancel(nil, nil, rt0); len(changed) != 1 || o.Lines[0].Cancelled != 5*qty.One || !o.Lines[0].NeedRelease || o.Lines[0].Short != 0 {
		t.Fatalf("cancel = %v, %+v", changed, o.Lines[0])
	}
	o.Released(1, rt0)
	if err := o.CanShip(rest); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Fatalf("shipping a cancelled line's carton: %v", err)
	}
	if o.State != OutboundShipped || len(o.Staged) != 0 || o.Lines[0].NeedRelease {
		t.Fatalf("after release: %v %+v", o.State, o)
	}
	if _, err := NewOutboundOrder("SO2", "", "", []ConfirmedLine{{Line: 1, SKU: "W", Warehouse: "M", BaseQty: "0"}}, rt0); err == nil {
		t.Fatal("a zero line was accepted")
	}

	// A line cancelled in part is reserved again for the rest.
	p := order(t)
	p.Allocated(1, Reserved{Allocation: "A1", Allocated: 10 * qty.One, Lines: []ReservedLine{{Location: "A-01", Qty: 10 * qty.One}}}, "STG-01", "W1", rt0)
	p.Cancel([]int{1}, map[int]qty.Qty{1: 4 * qty.One}, rt0)
	p.Released(1, rt0)
	if l := p.Lines[0]; !l.NeedAllocate || l.Open() != 6*qty.One || l.Allocated != 0 {
		t.Fatalf("partly cancelled line = %+v", l)
	}
	again, _, _ := p.Allocated(1, Reserved{Allocation: "A2", Allocated: 6 * qty.One, Lines: []ReservedLine{{Location: "A-01", Qty: 6 * qty.One}}}, "STG-01", "W1", rt0)
	if len(again) != 1 || again[0].ID != "PICK-SO1-1-g1-1" || again[0].Allocation != "A2" {
		t.Fatalf("picks of the new reservation = %+v", again)
	}
}
