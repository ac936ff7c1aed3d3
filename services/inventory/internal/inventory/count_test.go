package inventory

import "testing"

func TestLevelChangeOfEachMovementAtALocation(t *testing.T) {
	q := func(n int64) Qty { return Qty(n * 1_000_000) }
	cases := []struct {
		name string
		m    Movement
		loc  string
		want Qty
	}{
		{"a receipt adds to its location", Movement{Type: MoveReceipt, ToLocation: "A1", BaseQty: q(5)}, "A1", q(5)},
		{"a receipt elsewhere changes nothing", Movement{Type: MoveReceipt, ToLocation: "A2", BaseQty: q(5)}, "A1", 0},
		{"a transfer takes from its source", Movement{Type: MoveTransfer, FromLocation: "A1", ToLocation: "A2", BaseQty: q(3)}, "A1", q(-3)},
		{"a transfer adds to its destination", Movement{Type: MoveTransfer, FromLocation: "A1", ToLocation: "A2", BaseQty: q(3)}, "A2", q(3)},
		{"an issue takes from its location", Movement{Type: MoveIssue, FromLocation: "A1", BaseQty: q(-2)}, "A1", q(-2)},
		{"a count down takes", Movement{Type: MoveCount, FromLocation: "A1", BaseQty: q(-1)}, "A1", q(-1)},
		{"a count with no difference names both sides", Movement{Type: MoveCount, FromLocation: "A1", ToLocation: "A1"}, "A1", 0},
		{"a transfer out of the warehouse takes", Movement{Type: MoveTransferOut, FromLocation: "A1", BaseQty: q(-4)}, "A1", q(-4)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.m.LevelChange(c.loc); got != c.want {
				t.Fatalf("LevelChange(%s) = %s, want %s", c.loc, got, c.want)
			}
		})
	}
}

func TestOnHandAsOfACountTimeTakesBackWhatMovedSince(t *testing.T) {
	q := func(n int64) Qty { return Qty(n * 1_000_000) }
	// 120 at the count; then 10 moved out, 4 received: 114 now.
	since := []*Movement{
		{Type: MoveTransfer, FromLocation: "A1", ToLocation: "A2", BaseQty: q(10)},
		{Type: MoveReceipt, ToLocation: "A1", BaseQty: q(4)},
	}
	if got, sup := OnHandAsOf(q(114), "A1", since); got != q(120) || sup {
		t.Fatalf("as of the count = %s, superseded %v; want 120, false", got, sup)
	}
	if got, sup := OnHandAsOf(q(114), "A1", nil); got != q(114) || sup {
		t.Fatalf("nothing since = %s, %v", got, sup)
	}
	recount := append(since, &Movement{Type: MoveCount, FromLocation: "A1", BaseQty: q(-1)})
	if _, sup := OnHandAsOf(q(113), "A1", recount); !sup {
		t.Fatal("a later count of the level must supersede this one")
	}
}
