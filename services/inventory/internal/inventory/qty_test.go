package inventory

import (
	"strings"
	"testing"
)

// The quantity grammar of trueup.type.v1.Quantity: an optional leading "-",
// one or more digits, optionally "." and one or more digits; nothing else.
func TestQuantityGrammarAcceptsOnlyPlainDecimals(t *testing.T) {
	accepted := []struct{ in, want string }{
		{"12", "12"},
		{"-3", "-3"},
		{"0.5", "0.5"},
		{"12.250", "12.25"}, // trailing zeros allowed, value unchanged
		{"1.500000", "1.5"},
		{"-0.000001", "-0.000001"},
		{"0", "0"},
		{"-0", "0"},
		{"007", "7"}, // leading zeros allowed
		{"999999999", "999999999"},
	}
	for _, tt := range accepted {
		q, err := ParseQty(tt.in)
		if err != nil || q.String() != tt.want {
			t.Errorf("ParseQty(%q) = %s, %v; want %s", tt.in, q, err, tt.want)
		}
	}
	refused := []struct {
		in, why string // why: a part of the field violation's description
	}{
		{"", "is required"},
		{"   ", "is blank"},
		{"+5", `must not have a "+" sign: a positive value is written without one: "5", not "+5"`},
		{"+0.5", `"0.5", not "+0.5"`},
		{"+-5", `must not have a "+" sign`},
		{" 5", `must not contain white space, not even leading or trailing: "5", not " 5"`},
		{"5 ", "must not contain white space"},
		{"\t5", "must not contain white space"},
		{"5\n", "must not contain white space"},
		{"1 000", "must not contain white space"},
		{"- 5", "must not contain white space"},
		{"1e3", "must not use an exponent"},
		{"2.5E-2", "must not use an exponent"},
		{"-1e3", "must not use an exponent"},
		{"1,5", `must use "." as the decimal point`},
		{"1,000", "no digit grouping"},
		{".5", `must have a digit before the ".": "0.5", not ".5"`},
		{"-.5", `"-0.5", not "-.5"`},
		{"5.", `must have a digit after the ".": "5", not "5."`},
		{".", `must have a digit before the "."`},
		{"-", "must be a plain decimal"},
		{"--5", "must be a plain decimal"},
		{"1.2.3", "must be a plain decimal"},
		{"\u22125", "must be a plain decimal"}, // U+2212 MINUS SIGN, not "-"
		{"\uff15", "must be a plain decimal"},  // a full-width digit five
		{"0x10", "must be a plain decimal"},
		{"0b101", "must be a plain decimal"},
		{"0o17", "must be a plain decimal"},
		{"1p3", "must be a plain decimal"},
		{"1_000", "must be a plain decimal"},
		{"1/2", "must be a plain decimal"},
		{"abc", "must be a plain decimal"},
		{"NaN", "must be a plain decimal"},
		{"Inf", "must be a plain decimal"},
		{"0.0000001", "at most 6 decimal places"},
		{"99999999999", "out of range"},
	}
	for _, tt := range refused {
		q, err := ParseQty(tt.in)
		if err == nil {
			t.Errorf("ParseQty(%q) = %s, want refused (%s)", tt.in, q, tt.why)
			continue
		}
		if !strings.Contains(err.Error(), tt.why) {
			t.Errorf("ParseQty(%q): %q, want it to say %q", tt.in, err, tt.why)
		}
	}
}

// A quantity entered in any unit, and a unit's factor, follow the same grammar.
func TestEnteredQuantitiesAndFactorsFollowTheGrammar(t *testing.T) {
	it := &Item{SKU: "W", BaseUoM: "EA", Conversions: []UoMConversion{{UoM: "CS", Factor: "12"}}}
	for _, in := range []string{"+1", " 1", "1 ", "1e1", ".5"} {
		if q, err := it.ToBase(in, "CS"); err == nil {
			t.Errorf("ToBase(%q, CS) = %s, want refused", in, q)
		}
		if f, err := CanonicalFactor(in); err == nil {
			t.Errorf("CanonicalFactor(%q) = %s, want refused", in, f)
		}
	}
	if q, err := it.ToBase("-0.5", "CS"); err != nil || q.String() != "-6" {
		t.Errorf(`ToBase("-0.5", CS) = %s, %v; want -6`, q, err)
	}
	if f, err := CanonicalFactor("12.50"); err != nil || f != "12.5" {
		t.Errorf(`CanonicalFactor("12.50") = %s, %v; want 12.5`, f, err)
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
