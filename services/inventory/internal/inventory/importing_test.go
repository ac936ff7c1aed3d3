package inventory

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"trueup.dev/platform/apperr"
)

const goodCSV = "\uFEFFsku,description,base_uom,uoms,whole_units_only,tracking,expiry_required,cost_method,erp_code,wms_code,supplier_codes,customer_codes,allow_negative\n" +
	"nut-1,Hex nut M8,ea,CS=12;PLT=480,yes,,,,100-1,W-NUT1,ACME:AC-1;GLOBEX:G-9,,\n" +
	"\"flour-1\",\"Flour, wheat\",KG,BAG=0.25,false,LOT,true,MOVING_AVERAGE,100-2,W-FL1,,NORTHWIND:NW-1,1\n"

func TestParseItemsCSV(t *testing.T) {
	b, err := ParseItemsCSV(goodCSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Errors) != 0 || len(b.Records) != 2 {
		t.Fatalf("batch = %+v", b)
	}
	nut, flour := b.Records[0], b.Records[1]
	if nut.Line != 2 || nut.Item.SKU != "nut-1" || !nut.Item.WholeUnitsOnly || len(nut.Item.Conversions) != 2 ||
		nut.Item.Conversions[1] != (UoMConversion{"PLT", "480"}) || len(nut.Item.Codes) != 4 ||
		nut.Item.Codes[3] != (ItemCode{CodeSupplier, "GLOBEX", "G-9", ""}) || nut.CodeFields[3] != "supplier_codes" {
		t.Errorf("nut = %+v", nut)
	}
	if flour.Line != 3 || flour.Item.Description != "Flour, wheat" || flour.Item.Tracking != TrackingLot || !flour.Item.ExpiryRequired ||
		flour.Item.CostMethod != CostMovingAverage || !flour.Item.AllowNegative || flour.Item.Codes[2] != (ItemCode{CodeCustomer, "NORTHWIND", "NW-1", ""}) {
		t.Errorf("flour = %+v", flour)
	}
}

func TestParseItemsCSVReportsEachBadCell(t *testing.T) {
	content := "sku,description,base_uom,uoms,tracking,supplier_codes,whole_units_only\n" +
		"A,Apple,EA,CS12,LOTS,ACME-1,maybe\n" +
		"B,Banana,EA\n" +
		"C,\"Cherry,EA,,,,\n"
	b, err := ParseItemsCSV(content)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range b.Errors {
		got[fmt.Sprintf("%d:%s", e.Line, e.Field)] = true
	}
	for _, w := range []string{"2:uoms", "2:tracking", "2:supplier_codes", "2:whole_units_only", "3:content", "4:content"} {
		if !got[w] {
			t.Errorf("no error %s; got %+v", w, b.Errors)
		}
	}
	if len(b.Records) != 1 {
		t.Errorf("records = %+v, want the one readable row", b.Records)
	}
}

func TestParseItemsCSVRefusesUnusableContent(t *testing.T) {
	tests := map[string]string{
		"empty":          "",
		"unknown column": "sku,description,base_uom,colour\n",
		"missing column": "sku,description\n",
		"too large":      strings.Repeat("x", MaxImportBytes+1),
		"too many":       "sku,description,base_uom\n" + strings.Repeat("A,B,EA\n", MaxImportRecords+1),
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseItemsCSV(content); !errors.Is(err, apperr.ErrInvalidArgument) {
				t.Fatalf("err = %v, want InvalidArgument", err)
			}
		})
	}
}

func TestPlanImport(t *testing.T) {
	existing := []*Item{clean("OLD-1", "Old item")}
	existing[0].Codes = append(existing[0].Codes, ItemCode{Namespace: CodeSupplier, Partner: "ACME", Code: "TAKEN"})
	content := "sku,description,base_uom,uoms,erp_code,wms_code,supplier_codes,tracking,expiry_required\n" +
		"NEW-1,New item,EA,CS=12,N-1,WN-1,,,\n" + // 2: good
		"new-1,Again,EA,,N-2,WN-2,,,\n" + // 3: sku twice in the file
		"OLD-1,Old again,EA,,N-3,WN-3,,,\n" + // 4: sku exists
		"NEW-2,Other,EA,,n-1,WN-4,acme:taken,,\n" + // 5: code twice in the file; code held by OLD-1
		"NEW-3,Bad,,CS=0,N-5,WN-5,,,yes\n" + // 6: no base unit, bad factor, expiry without lot
		"NEW-4,OLD ITEM,EA,,N-6,,,,\n" // 7: fine, but a duplicate of OLD-1 and no WMS code
	b, err := ParseItemsCSV(content)
	if err != nil {
		t.Fatal(err)
	}
	plan := PlanImport(b, existing, t0)
	var got []string
	for _, e := range plan.Errors {
		got = append(got, fmt.Sprintf("%d:%s", e.Line, e.Field))
	}
	want := []string{"3:item.sku", "4:item.sku", "5:erp_code", "5:supplier_codes", "6:item.base_uom", "6:item.uoms[0].factor", "6:item.expiry_required"}
	if !slices.Equal(got, want) {
		t.Fatalf("errors = %v\nwant     %v\n%+v", got, want, plan.Errors)
	}
	if !strings.Contains(plan.Errors[0].Description, "line 2") || !strings.Contains(plan.Errors[3].Description, "items/OLD-1") {
		t.Errorf("errors do not say where the clash is: %+v", plan.Errors)
	}
	if len(plan.Items) != 2 || plan.Items[0].SKU != "NEW-1" || plan.Items[1].SKU != "NEW-4" || plan.Items[0].Version != 1 {
		t.Fatalf("items = %+v", plan.Items)
	}
	var codes []string
	for _, f := range plan.Findings {
		codes = append(codes, f.Code+":"+strings.Join(f.Items, "+"))
	}
	if !slices.Equal(codes, []string{"DUPLICATE_ITEM:NEW-4+OLD-1", "UNMAPPED_WMS_CODE:NEW-4"}) {
		t.Fatalf("findings = %v", codes)
	}
}

func TestImportErrorsAreCapped(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("sku,description,base_uom\n")
	for i := 0; i < MaxImportErrors+10; i++ {
		sb.WriteString("bad sku!,,\n")
	}
	b, err := ParseItemsCSV(sb.String())
	if err != nil {
		t.Fatal(err)
	}
	plan := PlanImport(b, nil, t0)
	if len(plan.Errors) != MaxImportErrors+1 || plan.Errors[MaxImportErrors].Line != 0 {
		t.Fatalf("%d errors, last %+v", len(plan.Errors), plan.Errors[len(plan.Errors)-1])
	}
}

func TestImportedCodesMayNameTheirUnit(t *testing.T) {
	content := "sku,description,base_uom,uoms,erp_code,supplier_codes,barcodes\n" +
		"W-1,Widget,EA,CS=12,100-1,ACME:AC-1C@cs,0123456789012@CS; 0123456789005\n" + // 2: good
		"W-2,Gadget,EA,CS=6,,,0123456789012\n" + // 3: the barcode is W-1's, whatever the unit
		"W-3,Gizmo,EA,,200-1@PL,,0123456789029@\n" + // 4: no PL on the item; "@" without a unit
		"W-4,Doohickey,EA,,,,0123456789036@BOX\n" // 5: no BOX on the item
	b, err := ParseItemsCSV(content)
	if err != nil {
		t.Fatal(err)
	}
	plan := PlanImport(b, nil, t0)
	var got []string
	for _, e := range plan.Errors {
		got = append(got, fmt.Sprintf("%d:%s", e.Line, e.Field))
	}
	want := []string{"3:barcodes", "4:barcodes", "4:erp_code", "5:barcodes"}
	if !slices.Equal(got, want) {
		t.Fatalf("errors = %v\nwant     %v\n%+v", got, want, plan.Errors)
	}
	if len(plan.Items) != 1 {
		t.Fatalf("items = %+v", plan.Items)
	}
	wantCodes := []ItemCode{
		{Namespace: CodeERP, Code: "100-1"},
		{Namespace: CodeSupplier, Partner: "ACME", Code: "AC-1C", UoM: "CS"},
		{Namespace: CodeBarcode, Code: "0123456789012", UoM: "CS"},
		{Namespace: CodeBarcode, Code: "0123456789005"},
	}
	if !slices.Equal(plan.Items[0].Codes, wantCodes) {
		t.Errorf("codes = %+v\nwant    %+v", plan.Items[0].Codes, wantCodes)
	}
}
