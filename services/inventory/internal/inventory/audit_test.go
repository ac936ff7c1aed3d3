package inventory

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// clean is an item the audit has nothing to say about.
func clean(sku, desc string) *Item {
	return &Item{SKU: sku, Description: desc, BaseUoM: "EA", Tracking: TrackingNone, CostMethod: CostFIFO, Status: ItemActive,
		Conversions: []UoMConversion{{UoM: "CS", Factor: "12"}},
		Codes:       []ItemCode{{Namespace: CodeERP, Code: "E-" + sku}, {Namespace: CodeWMS, Code: "W-" + sku}}}
}

func TestAuditCleanMasterHasNoFindings(t *testing.T) {
	items := []*Item{clean("A", "Apple"), clean("B", "Banana")}
	facts := StockFacts{
		UoMUses: []UoMUse{{SKU: "A", UoM: "CS", OpenAllocations: 1}, {SKU: "A", UoM: "EA", Movements: 3}},
		Values:  []StockValue{{SKU: "A", Warehouse: "MAIN", OnHand: 5 * qtyOne, Value: 500}},
	}
	if got := Audit(items, facts); len(got) != 0 {
		t.Fatalf("findings on a clean master: %+v", got)
	}
}

func TestAuditFindsEachProblem(t *testing.T) {
	dupA := clean("DUP-A", "Steel widget, 10 mm")
	dupB := clean("DUP-B", "STEEL  WIDGET 10MM")
	otherUoM := clean("DUP-C", "steel widget 10mm")
	otherUoM.BaseUoM = "KG"
	shareA, shareB := clean("SHARE-A", "Share A"), clean("SHARE-B", "Share B")
	shareA.Codes = append(shareA.Codes, ItemCode{Namespace: CodeSupplier, Partner: "ACME", Code: "AC-1"})
	shareB.Codes = append(shareB.Codes, ItemCode{Namespace: CodeSupplier, Partner: "acme", Code: "ac-1"}) // legacy, unnormalised
	noDesc := clean("NODESC", "")
	noERP := clean("NOERP", "No ERP")
	noERP.Codes = noERP.Codes[1:]
	noWMS := clean("NOWMS", "No WMS")
	noWMS.Codes = noWMS.Codes[:1]
	expiry := clean("EXP", "Expiring")
	expiry.ExpiryRequired = true
	badFactor := clean("BADF", "Bad factor")
	badFactor.Conversions = []UoMConversion{{UoM: "CS", Factor: "-1"}}
	uomGap := clean("GAP", "Gap")
	stock := clean("STOCK", "Stock")
	items := []*Item{dupA, dupB, otherUoM, shareA, shareB, noDesc, noERP, noWMS, expiry, badFactor, uomGap, stock}
	before := fmt.Sprintf("%+v", *shareB)
	facts := StockFacts{
		UoMUses: []UoMUse{
			{SKU: "GAP", UoM: "PLT", OpenAllocations: 2},
			{SKU: "GAP", UoM: "BX", Movements: 4},
			{SKU: "GAP", UoM: "bx", Movements: 1},
			{SKU: "UNKNOWN", UoM: "X", Movements: 1},
		},
		Values: []StockValue{
			{SKU: "STOCK", Warehouse: "MAIN", OnHand: 3 * qtyOne, Value: 0},
			{SKU: "STOCK", Warehouse: "WEST", OnHand: 3 * qtyOne, Value: 10},
		},
		Blocked: []BlockedStock{{SKU: "STOCK", Warehouse: "MAIN", Location: "QC-01", OnHand: 1_500_000}},
	}
	got := Audit(items, facts)
	if after := fmt.Sprintf("%+v", *shareB); after != before {
		t.Fatalf("the audit changed an item:\n%s\n%s", before, after)
	}

	type want struct {
		code  string
		sev   Severity
		items []string
		text  string
	}
	wants := []want{
		{FindingDuplicateItem, SeverityWarning, []string{"DUP-A", "DUP-B"}, "same description"},
		{FindingSharedCode, SeverityError, []string{"SHARE-A", "SHARE-B"}, "SUPPLIER:ACME:AC-1"},
		{FindingInvalidField, SeverityWarning, []string{"SHARE-B"}, "unnormalised"},
		{FindingMissingField, SeverityError, []string{"NODESC"}, "no description"},
		{FindingUnmappedERPCode, SeverityWarning, []string{"NOERP"}, "no ERP item code"},
		{FindingUnmappedWMSCode, SeverityWarning, []string{"NOWMS"}, "no WMS item code"},
		{FindingExpiryWithoutLot, SeverityError, []string{"EXP"}, "not tracked by lot"},
		{FindingInvalidField, SeverityError, []string{"BADF"}, "item.uoms[0].factor"},
		{FindingUoMWithoutConversion, SeverityError, []string{"GAP"}, "unit PLT is used by 2 open allocations"},
		{FindingUoMWithoutConversion, SeverityWarning, []string{"GAP"}, "unit BX is used by 5 movements"},
		{FindingStockWithoutCost, SeverityError, []string{"STOCK"}, "3 EA on hand in warehouse MAIN"},
		{FindingStockInBlockedLocation, SeverityWarning, []string{"STOCK"}, "1.5 EA in blocked location MAIN/QC-01"},
	}
	for _, w := range wants {
		found := slices.ContainsFunc(got, func(f Finding) bool {
			return f.Code == w.code && f.Severity == w.sev && reflect.DeepEqual(f.Items, w.items) &&
				strings.Contains(f.Message, w.text) && f.SuggestedFix != ""
		})
		if !found {
			t.Errorf("no %s %s finding on %v containing %q", w.sev, w.code, w.items, w.text)
		}
	}
	if len(got) != len(wants) {
		for _, f := range got {
			t.Logf("%s %s %v %s", f.Severity, f.Code, f.Items, f.Message)
		}
		t.Errorf("%d findings, want %d", len(got), len(wants))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Severity > got[i-1].Severity {
			t.Fatalf("findings not most severe first at %d: %v after %v", i, got[i].Severity, got[i-1].Severity)
		}
	}

	// Deterministic: the same data in another order gives the same report.
	slices.Reverse(items)
	slices.Reverse(facts.UoMUses)
	if again := Audit(items, facts); !reflect.DeepEqual(again, got) {
		t.Fatal("the audit depends on input order")
	}
}

func TestAuditUnnormalisedSKU(t *testing.T) {
	legacy := clean("abc-1", "Legacy")
	legacy.Codes = clean("ABC-1", "").Codes
	got := Audit([]*Item{legacy}, StockFacts{})
	if len(got) != 1 || got[0].Code != FindingInvalidField || got[0].Severity != SeverityError || !strings.Contains(got[0].Message, "unnormalised") {
		t.Fatalf("findings = %+v", got)
	}
}

func TestNormalizeDescription(t *testing.T) {
	for in, want := range map[string]string{
		"Steel widget, 10 mm":  "steelwidget10mm",
		"  STEEL-WIDGET 10MM ": "steelwidget10mm",
		"Café crème":           "cafécrème",
		"---":                  "",
	} {
		if got := NormalizeDescription(in); got != want {
			t.Errorf("NormalizeDescription(%q) = %q, want %q", in, got, want)
		}
	}
}
