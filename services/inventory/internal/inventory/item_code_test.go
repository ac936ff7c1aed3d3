package inventory

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

// caseItem is an item counted in EA and shipped in cases of twelve, with the
// case's barcode and the single unit's.
func caseItem() Item {
	return Item{
		SKU: "W-1", Description: "Widget", BaseUoM: "EA",
		Conversions: []UoMConversion{{UoM: "CS", Factor: "12"}},
		Codes: []ItemCode{
			{Namespace: CodeBarcode, Code: "0123456789012", UoM: "cs"},
			{Namespace: CodeBarcode, Code: "0123456789005"},
		},
	}
}

// violationFields returns the fields err's violations name, or fails.
func violationFields(t *testing.T, err error) []string {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument {
		t.Fatalf("err = %v, want InvalidArgument", err)
	}
	var out []string
	for _, v := range e.Violations {
		out = append(out, v.Field)
	}
	return out
}

func TestACodeNamesTheUnitOneScanCounts(t *testing.T) {
	it, err := NewItem(caseItem(), t0)
	if err != nil {
		t.Fatal(err)
	}
	want := []ItemCode{
		{Namespace: CodeBarcode, Code: "0123456789012", UoM: "CS"}, // upper-cased
		{Namespace: CodeBarcode, Code: "0123456789005"},
	}
	if !reflect.DeepEqual(it.Codes, want) {
		t.Errorf("codes = %+v, want %+v", it.Codes, want)
	}
}

func TestTheBaseUnitNamedOnACodeIsHeldEmpty(t *testing.T) {
	in := caseItem()
	in.Codes = []ItemCode{
		{Namespace: CodeBarcode, Code: "0123456789005", UoM: " ea "},
		{Namespace: CodeSupplier, Partner: "ACME", Code: "AC-1", UoM: "EA"},
	}
	it, err := NewItem(in, t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range it.Codes {
		if c.UoM != "" {
			t.Errorf("code %s: uom = %q, want empty (the base unit's one form)", c.Code, c.UoM)
		}
	}
}

func TestACodeInAnyNamespaceMayNameAUnit(t *testing.T) {
	in := caseItem()
	in.Codes = []ItemCode{
		{Namespace: CodeERP, Code: "100-1C", UoM: "CS"},
		{Namespace: CodeWMS, Code: "W-1C", UoM: "CS"},
		{Namespace: CodeSupplier, Partner: "ACME", Code: "AC-1C", UoM: "CS"},
		{Namespace: CodeCustomer, Partner: "NORTHWIND", Code: "NW-1C", UoM: "CS"},
	}
	it, err := NewItem(in, t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range it.Codes {
		if c.UoM != "CS" {
			t.Errorf("%s code: uom = %q, want CS", c.Namespace, c.UoM)
		}
	}
}

func TestCodeUnitsAndBarcodesAreRefused(t *testing.T) {
	tests := []struct {
		name  string
		codes []ItemCode
		want  []string
	}{
		{"a unit the item does not have", []ItemCode{{Namespace: CodeBarcode, Code: "0123456789012", UoM: "PL"}},
			[]string{"item.codes[0].uom"}},
		{"a unit on a supplier code the item does not have", []ItemCode{
			{Namespace: CodeBarcode, Code: "0123456789005"},
			{Namespace: CodeSupplier, Partner: "ACME", Code: "AC-1", UoM: "BOX"}},
			[]string{"item.codes[1].uom"}},
		{"a barcode with a partner", []ItemCode{{Namespace: CodeBarcode, Partner: "ACME", Code: "0123456789012"}},
			[]string{"item.codes[0].partner"}},
		{"one barcode for two units", []ItemCode{
			{Namespace: CodeBarcode, Code: "0123456789012", UoM: "CS"},
			{Namespace: CodeBarcode, Code: "0123456789012"}},
			[]string{"item.codes[1].code"}},
		{"a barcode that is not a code", []ItemCode{{Namespace: CodeBarcode, Code: "01234 56789"}},
			[]string{"item.codes[0].code"}},
	}
	for _, tt := range tests {
		in := caseItem()
		in.Codes = tt.codes
		_, err := NewItem(in, t0)
		if got := violationFields(t, err); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: violations on %v, want %v (%v)", tt.name, got, tt.want, err)
		}
	}
}

func TestRemovingAUnitACodeStillNamesIsRefused(t *testing.T) {
	cur, err := NewItem(caseItem(), t0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cur.Update(ItemUpdate{Fields: []string{FieldUoMs}, Version: 1, Values: Item{}}, t0.Add(time.Hour))
	if got := violationFields(t, err); !reflect.DeepEqual(got, []string{"item.codes[0].uom"}) {
		t.Fatalf("violations on %v, want item.codes[0].uom (%v)", got, err)
	}
	// Removing the unit and the code that names it in one update is fine.
	next, err := cur.Update(ItemUpdate{Fields: []string{FieldUoMs, FieldCodes}, Version: 1,
		Values: Item{Codes: cur.Codes[1:]}}, t0.Add(time.Hour))
	if err != nil || len(next.Conversions) != 0 || len(next.Codes) != 1 {
		t.Fatalf("Update = %+v, %v", next, err)
	}
}

func TestALookupFindsACodeByItselfWhateverItsUnit(t *testing.T) {
	c, err := LookupCode(ItemCode{Namespace: CodeBarcode, Code: " 0123456789012 ", UoM: "CS"})
	if err != nil || c != (ItemCode{Namespace: CodeBarcode, Code: "0123456789012"}) {
		t.Fatalf("LookupCode = %+v, %v", c, err)
	}
	if _, err := LookupCode(ItemCode{Namespace: CodeBarcode, Partner: "ACME", Code: "0123456789012"}); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Errorf("barcode lookup with a partner: err = %v, want InvalidArgument", err)
	}
}

func TestTheAuditFlagsACodeNamingAMissingUnit(t *testing.T) {
	it, err := NewItem(caseItem(), t0)
	if err != nil {
		t.Fatal(err)
	}
	it.Conversions = nil // as a direct database edit would leave it
	var found bool
	for _, f := range Audit([]*Item{it}, StockFacts{}) {
		found = found || (f.Code == FindingInvalidField && f.Severity == SeverityError &&
			f.SuggestedFix == "correct or remove the code with UpdateItem (update_mask: codes)")
	}
	if !found {
		t.Errorf("no INVALID_FIELD finding for the code naming CS: %+v", Audit([]*Item{it}, StockFacts{}))
	}
}
