package resname

import (
	"errors"
	"reflect"
	"testing"

	"trueup.dev/platform/apperr"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, pattern string
		want          []string
	}{
		{"items/ABC", "items/*", []string{"ABC"}},
		{"warehouses/W1/locations/A-01", "warehouses/*/locations/*", []string{"W1", "A-01"}},
		{"items/", "items/*", nil},
		{"things/ABC", "items/*", nil},
		{"items/A/B", "items/*", nil},
		{"", "items/*", nil},
	}
	for _, tt := range tests {
		got, err := Parse("name", tt.name, tt.pattern)
		if tt.want == nil {
			if !errors.Is(err, apperr.ErrInvalidArgument) {
				t.Errorf("Parse(%q) err = %v, want InvalidArgument", tt.name, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	if got := Format("warehouses/*/locations/*", "W1", "A"); got != "warehouses/W1/locations/A" {
		t.Errorf("Format = %q", got)
	}
}
