package inventory

import (
	"errors"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

func stored(t *testing.T) *Item {
	t.Helper()
	it, err := NewItem(Item{
		SKU: "W-1", Description: "Widget", BaseUoM: "EA", WholeUnitsOnly: true,
		Conversions: []UoMConversion{{UoM: "CS", Factor: "12"}},
		Codes:       []ItemCode{{Namespace: CodeERP, Code: "100-1"}},
		Tracking:    TrackingLot,
	}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func TestUpdateAppliesOnlyMaskedFields(t *testing.T) {
	cur := stored(t)
	next, err := cur.Update(ItemUpdate{
		Fields:  []string{FieldDescription, FieldCodes},
		Version: 1,
		Values: Item{
			Description: " Better widget ", BaseUoM: "KG", Tracking: TrackingSerial, // not in the mask: ignored
			Codes: []ItemCode{{Namespace: CodeWMS, Code: "w1"}, {Namespace: CodeSupplier, Partner: "acme", Code: "a-1"}},
		},
	}, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if next.Description != "Better widget" || next.BaseUoM != "EA" || next.Tracking != TrackingLot {
		t.Errorf("fields outside the mask changed or value not normalised: %+v", next)
	}
	if len(next.Codes) != 2 || next.Codes[0] != (ItemCode{CodeWMS, "", "W1", ""}) || next.Codes[1] != (ItemCode{CodeSupplier, "ACME", "A-1", ""}) {
		t.Errorf("codes = %+v", next.Codes)
	}
	if next.Version != 2 || !next.UpdatedAt.Equal(t0.Add(time.Hour)) || !next.CreatedAt.Equal(t0) {
		t.Errorf("version/timestamps = %d %v %v", next.Version, next.CreatedAt, next.UpdatedAt)
	}
	if cur.Description != "Widget" || cur.Version != 1 || cur.Codes[0].Code != "100-1" {
		t.Errorf("the stored item was modified: %+v", cur)
	}
}

func TestUpdateRefusals(t *testing.T) {
	tests := []struct {
		name  string
		u     ItemUpdate
		kind  apperr.Kind
		field string
	}{
		{"empty mask", ItemUpdate{Version: 1}, apperr.KindInvalidArgument, "update_mask"},
		{"only output-only fields", ItemUpdate{Fields: []string{"version", "update_time"}, Version: 1}, apperr.KindInvalidArgument, "update_mask"},
		{"sku is immutable", ItemUpdate{Fields: []string{"sku", "description"}, Values: Item{SKU: "W-2", Description: "x"}, Version: 1},
			apperr.KindInvalidArgument, "item.sku"},
		{"base unit is immutable", ItemUpdate{Fields: []string{"base_uom"}, Values: Item{BaseUoM: "KG"}, Version: 1}, apperr.KindInvalidArgument, "item.base_uom"},
		{"unknown field", ItemUpdate{Fields: []string{"colour"}, Version: 1}, apperr.KindInvalidArgument, "update_mask"},
		{"no version", ItemUpdate{Fields: []string{FieldDescription}, Values: Item{Description: "x"}}, apperr.KindInvalidArgument, "item.version"},
		{"stale version", ItemUpdate{Fields: []string{FieldDescription}, Values: Item{Description: "x"}, Version: 7}, apperr.KindConflict, ""},
		{"invalid value", ItemUpdate{Fields: []string{FieldUoMs}, Values: Item{Conversions: []UoMConversion{{UoM: "CS", Factor: "0"}}}, Version: 1},
			apperr.KindInvalidArgument, "item.uoms[0].factor"},
		{"expiry without lot", ItemUpdate{Fields: []string{FieldTracking, FieldExpiryRequired}, Values: Item{Tracking: TrackingNone, ExpiryRequired: true}, Version: 1},
			apperr.KindInvalidArgument, "item.expiry_required"},
		{"description cleared by star", ItemUpdate{Fields: []string{"*"}, Version: 1}, apperr.KindInvalidArgument, "item.description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := stored(t).Update(tt.u, t0)
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind != tt.kind {
				t.Fatalf("err = %v, want kind %v", err, tt.kind)
			}
			if tt.field == "" {
				return
			}
			for _, v := range e.Violations {
				if v.Field == tt.field {
					return
				}
			}
			t.Errorf("no violation on %s: %+v", tt.field, e.Violations)
		})
	}
}

// A client that sends back the whole item it read (or a REST PATCH whose mask
// the gateway derives from the body) names output-only and immutable fields
// with their current values: they are accepted and change nothing.
func TestUpdateAcceptsUnchangedFixedFields(t *testing.T) {
	cur := stored(t)
	whole := *cur
	whole.Description = "Renamed"
	whole.SKU, whole.BaseUoM = "w-1", "ea"
	next, err := cur.Update(ItemUpdate{
		Fields:  []string{"name", "sku", "description", "base_uom", "uoms", "codes", "version", "create_time", "update_time"},
		Values:  whole,
		Version: 1,
	}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if next.Description != "Renamed" || next.SKU != "W-1" || next.BaseUoM != "EA" || next.Version != 2 || len(next.Codes) != 1 {
		t.Fatalf("next = %+v", next)
	}
}

func TestCheckUpdate(t *testing.T) {
	cur := stored(t)
	tests := []struct {
		name   string
		fields []string
		values Item
		use    ItemUsage
		types  []string // violation types expected; none means allowed
	}{
		{"remove unit of open allocation", []string{FieldUoMs}, Item{}, ItemUsage{OpenAllocationUoMs: []string{"CS"}}, []string{"UOM_IN_USE"}},
		{"remove unit nobody uses", []string{FieldUoMs}, Item{}, ItemUsage{OpenAllocationUoMs: []string{"EA"}, HasStock: true}, nil},
		{"change a factor in use", []string{FieldUoMs}, Item{Conversions: []UoMConversion{{UoM: "CS", Factor: "10"}}}, ItemUsage{OpenAllocationUoMs: []string{"CS"}}, nil},
		{"tracking with stock", []string{FieldTracking}, Item{Tracking: TrackingNone}, ItemUsage{HasStock: true}, []string{"ITEM_HAS_STOCK"}},
		{"tracking without stock", []string{FieldTracking}, Item{Tracking: TrackingNone}, ItemUsage{}, nil},
		{"cost method with stock", []string{FieldCostMethod, FieldTracking}, Item{CostMethod: CostMovingAverage, Tracking: TrackingSerial}, ItemUsage{HasStock: true},
			[]string{"ITEM_HAS_STOCK", "ITEM_HAS_STOCK"}},
		{"negative off with negative stock", []string{FieldAllowNegative}, Item{}, ItemUsage{HasStock: true, HasNegativeStock: true}, nil}, // already off
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, err := cur.Update(ItemUpdate{Fields: tt.fields, Values: tt.values, Version: 1}, t0)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckUpdate(cur, next, tt.use)
			if len(tt.types) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind != apperr.KindFailedPrecondition || len(e.Violations) != len(tt.types) {
				t.Fatalf("err = %#v, want FailedPrecondition with %v", err, tt.types)
			}
			for i, v := range e.Violations {
				if v.Type != tt.types[i] || v.Subject != "items/W-1" {
					t.Errorf("violation %d = %+v, want type %s", i, v, tt.types[i])
				}
			}
		})
	}

	neg := *cur
	neg.AllowNegative, neg.WholeUnitsOnly = true, false
	next, err := neg.Update(ItemUpdate{Fields: []string{FieldAllowNegative, FieldWholeUnitsOnly}, Values: Item{WholeUnitsOnly: true}, Version: 1}, t0)
	if err != nil {
		t.Fatal(err)
	}
	err = CheckUpdate(&neg, next, ItemUsage{HasStock: true, HasNegativeStock: true, HasFractionalStock: true})
	var e *apperr.Error
	if !errors.As(err, &e) || len(e.Violations) != 2 || e.Violations[0].Type != "FRACTIONAL_STOCK" || e.Violations[1].Type != "NEGATIVE_STOCK" {
		t.Fatalf("err = %#v", err)
	}
}

func TestLookupCode(t *testing.T) {
	c, err := LookupCode(ItemCode{Namespace: CodeSupplier, Partner: " acme ", Code: "ac-1 "})
	if err != nil || c != (ItemCode{CodeSupplier, "ACME", "AC-1", ""}) {
		t.Fatalf("LookupCode = %+v, %v", c, err)
	}
	_, err = LookupCode(ItemCode{Code: "X"})
	var e *apperr.Error
	if !errors.As(err, &e) || e.Violations[0].Field != "namespace" {
		t.Fatalf("no namespace: %v", err)
	}
	if _, err := LookupCode(ItemCode{Namespace: CodeCustomer, Code: "X"}); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("customer code without partner: %v", err)
	}
}
