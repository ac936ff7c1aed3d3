package caller

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestContextRoundTrip(t *testing.T) {
	ctx := context.Background()
	if _, ok := FromContext(ctx); ok {
		t.Fatal("FromContext on an empty context reported a caller")
	}
	if got := From(ctx); got.IsPartner() || got.Scope() != "internal" {
		t.Fatalf("From(empty) = %+v, want the default internal caller", got)
	}
	ctx = NewContext(ctx, Partner("acme"))
	got, ok := FromContext(ctx)
	if !ok || got != Partner("acme") || From(ctx) != got {
		t.Fatalf("FromContext = %+v %v", got, ok)
	}
}

func TestScopesNeverCollide(t *testing.T) {
	tests := []struct {
		c    Caller
		want string
	}{
		{Caller{}, "internal"},
		{Internal(""), "internal"},
		{Internal("internal"), "internal"},
		{Internal("fulfillment"), "internal:fulfillment"},
		{Partner("acme"), "partner:acme"},
		// A partner whose id looks internal still gets a partner scope.
		{Partner("internal"), "partner:internal"},
	}
	for _, tt := range tests {
		if got := tt.c.Scope(); got != tt.want || tt.c.String() != tt.want {
			t.Errorf("%+v.Scope() = %q, want %q", tt.c, got, tt.want)
		}
	}
	if got := Partner("acme").Qualify("ReceiveStock"); got != "partner:acme/ReceiveStock" {
		t.Errorf("Qualify = %q", got)
	}
	if Partner("acme").Qualify("ReceiveStock") == Partner("globex").Qualify("ReceiveStock") ||
		Partner("acme").Qualify("ReceiveStock") == Internal("").Qualify("ReceiveStock") {
		t.Error("two callers share a scope")
	}
}

func TestValidateID(t *testing.T) {
	for _, ok := range []string{"acme", "ACME-3pl_01", "acme.example.com", strings.Repeat("a", MaxIDLength), "société"} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("ValidateID(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "   ", " acme", "acme\t", strings.Repeat("a", MaxIDLength+1), "ac\x00me", "ac\nme", "\xff\xfe", "ac\u200bme"} {
		if err := ValidateID(bad); !errors.Is(err, ErrMalformedID) {
			t.Errorf("ValidateID(%q) = %v, want ErrMalformedID", bad, err)
		}
	}
}
