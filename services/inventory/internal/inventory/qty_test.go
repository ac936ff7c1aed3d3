package inventory

import "testing"

func TestParseQtyAndString(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"12", "12", true}, {"1.500000", "1.5", true}, {"-0.000001", "-0.000001", true}, {"0", "0", true},
		{"0.0000001", "", false}, {"1e3", "", false}, {"abc", "", false}, {"", "", false}, {"99999999999", "", false},
		{"0x10", "", false}, {"1p3", "", false}, {"0b101", "", false}, {"1_000", "", false}, {".5", "", false}, {"+2", "2", true},
	}
	for _, tt := range tests {
		q, err := ParseQty(tt.in)
		if (err == nil) != tt.ok || (tt.ok && q.String() != tt.want) {
			t.Errorf("ParseQty(%q) = %v (%s), %v", tt.in, int64(q), q, err)
		}
	}
}

func TestToBase(t *testing.T) {
	widget := &Item{SKU: "W", BaseUoM: "EA", WholeUnitsOnly: true,
		Conversions: []UoMConversion{{UoM: "CS", Factor: "12"}, {UoM: "PLT", Factor: "480"}, {UoM: "DZ", Factor: "12"}}}
	coffee := &Item{SKU: "C", BaseUoM: "KG", Conversions: []UoMConversion{{UoM: "BAG", Factor: "0.25"}, {UoM: "LB", Factor: "0.453592"}}}
	tests := []struct {
		it         *Item
		value, uom string
		want       string
		ok         bool
	}{
		{widget, "2", "CS", "24", true},
		{widget, "0.5", "cs", "6", true},
		{widget, "1", "", "1", true},
		{widget, "1.5", "PLT", "720", true},
		{widget, "0.1", "CS", "", false}, // 1.2 EA: not whole
		{widget, "1.5", "EA", "", false},
		{widget, "1", "BX", "", false}, // unknown unit
		{coffee, "3", "BAG", "0.75", true},
		{coffee, "1", "LB", "0.453592", true},
		{coffee, "0.5", "LB", "0.226796", true},
		{coffee, "0.1", "LB", "", false}, // 0.0453592 KG needs 7 places
		{coffee, "0.000001", "KG", "0.000001", true},
		{coffee, "-1", "BAG", "-0.25", true},
	}
	for _, tt := range tests {
		q, err := tt.it.ToBase(tt.value, tt.uom)
		if (err == nil) != tt.ok || (tt.ok && q.String() != tt.want) {
			t.Errorf("%s.ToBase(%q, %q) = %s, %v; want %s ok=%v", tt.it.SKU, tt.value, tt.uom, q, err, tt.want, tt.ok)
		}
	}
}
