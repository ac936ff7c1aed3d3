package fulfillment

import (
	"testing"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/qty"
)

func TestSuggestBin(t *testing.T) {
	locs := []LocationFacts{
		{Code: "RCV-01", Type: LocationDock}, {Code: "PF-A-01", Type: LocationPickFace}, {Code: "PF-B-01", Type: LocationPickFace, Blocked: true},
		{Code: "A-01", Type: LocationStorage}, {Code: "A-02", Type: LocationStorage}, {Code: "PF-09", Type: LocationStorage},
		{Code: "B-01", Type: LocationStorage}, {Code: "B-02", Type: LocationStorage, Blocked: true},
	}
	h := func(pairs ...any) []Holding {
		var out []Holding
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, Holding{Location: pairs[i].(string), OnHand: qty.Qty(pairs[i+1].(int)) * qty.One})
		}
		return out
	}
	for name, c := range map[string]struct {
		held []Holding
		want string
	}{
		"its pick face":                      {h("PF-A-01", 3, "A-01", 10), "PF-A-01"},
		"pick face blocked: its zone, held":  {h("PF-B-01", 3, "PF-09", 1), "PF-09"},
		"pick face blocked: its zone, empty": {h("PF-B-01", 3, "A-01", 1, "A-02", 4), "PF-09"},
		"no pick face: a bin holding it":     {h("B-01", 2), "B-01"},
		"nothing anywhere: first empty bin":  {nil, "A-01"},
		"all bins full of others":            {h("A-01", 0, "A-02", 0), "A-01"},
	} {
		// Holdings of zero do not count as holding the item.
		if got := SuggestBin(locs, c.held); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
	if got := SuggestBin([]LocationFacts{{Code: "RCV-01", Type: LocationDock}}, nil); got != "" {
		t.Errorf("no storage: %q", got)
	}
}

func TestTaskClaims(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	k := &Task{ID: "T1", Type: TaskPutaway, State: TaskOpen, Version: 1}
	if err := k.Claim("anna", now, time.Minute); err != nil || k.ClaimedBy != "anna" || k.Version != 2 {
		t.Fatalf("claim: %v %+v", err, k)
	}
	if err := k.Claim("ben", now.Add(30*time.Second), time.Minute); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Fatalf("ben while anna holds it: %v", err)
	}
	if err := k.Claim("anna", now.Add(30*time.Second), time.Minute); err != nil || !k.ClaimExpires.Equal(now.Add(90*time.Second)) {
		t.Fatalf("anna renews: %v, %v", err, k.ClaimExpires)
	}
	if err := k.Release("ben", now.Add(time.Minute)); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Fatalf("ben releases anna's: %v", err)
	}
	if !k.Available(now.Add(90 * time.Second)) {
		t.Fatal("an expired claim is not available")
	}
	if err := k.CheckComplete("ben", TaskPutaway, now.Add(91*time.Second)); err != nil {
		t.Fatalf("ben completes after the claim lapsed: %v", err)
	}
	if err := k.CheckComplete("anna", TaskPick, now); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Fatalf("wrong type: %v", err)
	}
	k.Complete("ben", "A-01", "m1", now)
	if err := k.Claim("anna", now, time.Minute); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Fatalf("claiming a done task: %v", err)
	}
	if ZoneOf("A-01-02") != "A" || ZoneOf("RCV") != "RCV" {
		t.Fatal("ZoneOf")
	}
}
