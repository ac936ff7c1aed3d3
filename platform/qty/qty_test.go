package qty

import (
	"math/big"
	"testing"
)

func TestParseAndFormat(t *testing.T) {
	for in, want := range map[string]string{"12": "12", "0.5": "0.5", "1.250000": "1.25", "-2": "-2", "0": "0", "0.000001": "0.000001"} {
		q, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if q.String() != want {
			t.Errorf("Parse(%q) = %s, want %s", in, q, want)
		}
	}
	for _, bad := range []string{"", "1e3", "1,000", " 1", "0.0000001", "+1", "1000000001"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestFromRatRefusesWhatNeedsRounding(t *testing.T) {
	if _, err := FromRat(big.NewRat(1, 3)); err == nil {
		t.Fatal("1/3 was accepted")
	}
	q, err := FromRat(big.NewRat(24, 1))
	if err != nil || q != 24*One {
		t.Fatalf("24 = %v, %v", q, err)
	}
}

func TestAddIsChecked(t *testing.T) {
	if _, err := Add(Max, One); err == nil {
		t.Fatal("Max + 1 did not fail")
	}
	if s, err := Add(One, One/2); err != nil || s.String() != "1.5" {
		t.Fatalf("1 + 0.5 = %v, %v", s, err)
	}
}
