package inventory

import (
	"errors"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func TestNewItemNormalises(t *testing.T) {
	it, err := NewItem(Item{
		SKU: " abc-1 ", Description: " Widget ", BaseUoM: "ea",
		Conversions: []UoMConversion{{UoM: "cs", Factor: "12.000"}, {UoM: "kg", Factor: "0.250"}},
		Codes:       []ItemCode{{Namespace: CodeSupplier, Partner: "acme", Code: "w-9"}},
	}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if it.SKU != "ABC-1" || it.BaseUoM != "EA" || it.Description != "Widget" {
		t.Errorf("not normalised: %+v", it)
	}
	if it.Conversions[0] != (UoMConversion{"CS", "12"}) || it.Conversions[1] != (UoMConversion{"KG", "0.25"}) {
		t.Errorf("conversions = %+v", it.Conversions)
	}
	if it.Codes[0] != (ItemCode{CodeSupplier, "ACME", "W-9", ""}) {
		t.Errorf("codes = %+v", it.Codes)
	}
	if it.Tracking != TrackingNone || it.CostMethod != CostFIFO || it.Status != ItemActive || it.Version != 1 {
		t.Errorf("defaults not applied: %+v", it)
	}
}

func TestNewItemSerialIsWholeUnits(t *testing.T) {
	it, err := NewItem(Item{SKU: "S1", Description: "Phone", BaseUoM: "EA", Tracking: TrackingSerial}, t0)
	if err != nil || !it.WholeUnitsOnly {
		t.Fatalf("serial item must be whole units: %+v, %v", it, err)
	}
}

func TestNewItemReportsEveryViolation(t *testing.T) {
	_, err := NewItem(Item{
		SKU: "bad sku!", BaseUoM: "",
		Conversions: []UoMConversion{{UoM: "CS", Factor: "1e3"}, {UoM: "CS", Factor: "-1"}, {UoM: "PK", Factor: "0.0000000001"}},
		Codes:       []ItemCode{{Namespace: CodeERP, Partner: "X", Code: "A"}, {Namespace: CodeCustomer, Code: "B"}, {Code: "C"}},
	}, t0)
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument {
		t.Fatalf("err = %v, want InvalidArgument", err)
	}
	want := []string{
		"item.sku", "item.description", "item.base_uom",
		"item.uoms[0].factor", "item.uoms[1].uom", "item.uoms[1].factor", "item.uoms[2].factor",
		"item.codes[0].partner", "item.codes[1].partner", "item.codes[2].namespace",
	}
	got := map[string]bool{}
	for _, v := range e.Violations {
		got[v.Field] = true
	}
	for _, f := range want {
		if !got[f] {
			t.Errorf("no violation on %s; got %+v", f, e.Violations)
		}
	}
}

func TestCanonicalFactor(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"12", "12", true},
		{"12.50", "12.5", true},
		{"0.000001", "0.000001", true},
		{"0x10", "", false},
		{"0.0000001", "", false},
		{"0", "", false},
		{"-2", "", false},
		{"1e2", "", false},
		{"1/3", "", false},
		{"abc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := CanonicalFactor(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("CanonicalFactor(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestNewWarehouseAndLocation(t *testing.T) {
	if _, err := NewWarehouse(Warehouse{Code: "w1", DisplayName: "Main", TimeZone: "Mars/Olympus"}, t0); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Errorf("unknown time zone: err = %v", err)
	}
	w, err := NewWarehouse(Warehouse{Code: "w1", DisplayName: "Main"}, t0)
	if err != nil || w.Code != "W1" || w.TimeZone != "UTC" {
		t.Fatalf("NewWarehouse = %+v, %v", w, err)
	}
	if _, err := NewLocation("W1", Location{Code: "A-01"}, t0); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Errorf("missing type: err = %v", err)
	}
	l, err := NewLocation(" w1", Location{Code: "a-01", Type: LocationStorage}, t0)
	if err != nil || l.Warehouse != "W1" || l.Code != "A-01" {
		t.Fatalf("NewLocation = %+v, %v", l, err)
	}
}
