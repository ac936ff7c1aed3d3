package money

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestRoundHalfEven(t *testing.T) {
	tests := []struct {
		num, den int64
		want     int64
	}{
		{5, 2, 2}, {7, 2, 4}, {-5, 2, -2}, {-7, 2, -4}, {1, 3, 0}, {2, 3, 1}, {-2, 3, -1}, {10, 1, 10}, {0, 7, 0}, {249, 100, 2}, {251, 100, 3},
	}
	for _, tt := range tests {
		got, ok := RoundHalfEven(big.NewRat(tt.num, tt.den))
		if !ok || got != tt.want {
			t.Errorf("RoundHalfEven(%d/%d) = %d, want %d", tt.num, tt.den, got, tt.want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in, cur string
		want    *big.Rat
		ok      bool
	}{
		{"1.2345", "USD", big.NewRat(12345, 100), true},
		{"100", "JPY", big.NewRat(100, 1), true},
		{"0.001", "KWD", big.NewRat(1, 1), true},
		{"0.0000001", "USD", nil, false},
		{"-1", "USD", nil, false},
		{"1e2", "USD", nil, false},
		{"0x10", "USD", nil, false},
		{"+1", "USD", nil, false},
		{"", "USD", nil, false},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in, tt.cur)
		if (err == nil) != tt.ok || (tt.ok && got.Cmp(tt.want) != 0) {
			t.Errorf("ParseAmount(%q, %s) = %v, %v", tt.in, tt.cur, got, err)
		}
	}
}

// Taking random shares of what remains until nothing remains never loses or
// creates a minor unit.
func TestShareNeverLosesResidue(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		total := r.Int64N(1_000_000) - 1000
		whole := r.Int64N(1000) + 1
		remainingV, remainingQ, sum := total, whole, int64(0)
		for remainingQ > 0 {
			part := r.Int64N(remainingQ) + 1
			v := Share(remainingV, part, remainingQ)
			sum += v
			remainingV -= v
			remainingQ -= part
		}
		if sum != total || remainingV != 0 {
			t.Fatalf("shares of %d over %d summed to %d (left %d)", total, whole, sum, remainingV)
		}
	}
}

func TestString(t *testing.T) {
	for _, tt := range []struct {
		m    Money
		want string
	}{{Money{"USD", 1234}, "USD 12.34"}, {Money{"USD", -5}, "USD -0.05"}, {Money{"JPY", 5}, "JPY 5"}, {Money{"KWD", 1}, "KWD 0.001"}} {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%v = %q, want %q", tt.m, got, tt.want)
		}
	}
}
