package paging

import (
	"errors"
	"testing"

	"trueup.dev/platform/apperr"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		size      int32
		wantLimit int
		wantErr   bool
	}{
		{"default", 0, DefaultSize, false},
		{"explicit", 7, 7, false},
		{"clamped", 100000, MaxSize, false},
		{"negative", -1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.size, "", "")
			if tt.wantErr {
				if !errors.Is(err, apperr.ErrInvalidArgument) {
					t.Fatalf("err = %v, want InvalidArgument", err)
				}
				return
			}
			if err != nil || p.Limit != tt.wantLimit {
				t.Fatalf("Parse = %+v, %v; want limit %d", p, err, tt.wantLimit)
			}
		})
	}
}

func TestTokenRoundTrip(t *testing.T) {
	p, _ := Parse(2, "", "parent=warehouses/W1")
	tok := p.Next(2, "B-1")
	if tok == "" {
		t.Fatal("full page must yield a token")
	}
	if p.Next(1, "B-1") != "" {
		t.Fatal("short page must yield no token")
	}
	q, err := Parse(2, tok, "parent=warehouses/W1")
	if err != nil || q.After != "B-1" {
		t.Fatalf("Parse(token) = %+v, %v", q, err)
	}
	if _, err := Parse(2, tok, "parent=warehouses/W2"); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("token reused with another filter: err = %v, want InvalidArgument", err)
	}
	if _, err := Parse(2, "not-a-token!", ""); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("garbage token: err = %v, want InvalidArgument", err)
	}
}
