package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/store"
)

// caseBarcodes is an item counted in EA and shipped in cases of twelve: the
// case carries one barcode, the single unit another.
func caseBarcodes() inventory.Item {
	return inventory.Item{
		SKU: "CAN-1", Description: "Soup, canned", BaseUoM: "EA",
		Conversions: []inventory.UoMConversion{{UoM: "CS", Factor: "12"}},
		Codes: []inventory.ItemCode{
			{Namespace: inventory.CodeBarcode, Code: "0123456789012", UoM: "cs"},
			{Namespace: inventory.CodeBarcode, Code: "0123456789005"},
		},
	}
}

var wantCaseCodes = []inventory.ItemCode{
	{Namespace: inventory.CodeBarcode, Code: "0123456789005"},
	{Namespace: inventory.CodeBarcode, Code: "0123456789012", UoM: "CS"},
}

// A scan of either barcode finds the item, and the item's matching code says
// which unit the scan counts.
func TestABarcodeFindsItsItemAndUnit(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		if _, err := svc.CreateItem(ctx, "", caseBarcodes()); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ scan, wantUoM string }{
			{"0123456789012", "CS"},
			{" 0123456789005", ""}, // the base unit
		} {
			it, err := svc.LookupItem(ctx, inventory.ItemCode{Namespace: inventory.CodeBarcode, Code: tt.scan})
			if err != nil || it.SKU != "CAN-1" {
				t.Fatalf("lookup %q = %+v, %v", tt.scan, it, err)
			}
			if !reflect.DeepEqual(it.Codes, wantCaseCodes) {
				t.Fatalf("lookup %q: codes = %+v, want %+v", tt.scan, it.Codes, wantCaseCodes)
			}
			var got *inventory.ItemCode
			for i, c := range it.Codes {
				if c.Key() == (inventory.CodeKey{Namespace: inventory.CodeBarcode, Code: inventory.NormalizeItemCode(inventory.ItemCode{Code: tt.scan}).Code}) {
					got = &it.Codes[i]
				}
			}
			if got == nil || got.UoM != tt.wantUoM {
				t.Errorf("lookup %q: matching code %+v, want uom %q", tt.scan, got, tt.wantUoM)
			}
		}
		// Barcodes are their own namespace: the same digits as a WMS code are
		// another code.
		if _, err := svc.LookupItem(ctx, inventory.ItemCode{Namespace: inventory.CodeWMS, Code: "0123456789012"}); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("WMS lookup of a barcode: err = %v, want NotFound", err)
		}
		// AllItems (audits, imports) reads the units too.
		all, err := svc.AuditItems(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range all {
			if f.Code == inventory.FindingInvalidField || f.Code == inventory.FindingSharedCode {
				t.Errorf("audit finding on a valid item: %+v", f)
			}
		}
		// The ItemCreated event carries the codes with their units.
		var payload []byte
		if err := db.QueryRowContext(ctx, `SELECT payload FROM outbox WHERE type = 'trueup.inventory.v1.ItemCreated'`).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var ev inventoryv1.ItemCreated
		if err := proto.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		codes := ev.GetItem().GetCodes()
		if len(codes) != 2 || codes[0].GetNamespace() != inventoryv1.CodeNamespace_CODE_NAMESPACE_BARCODE ||
			codes[0].GetCode() != "0123456789012" || codes[0].GetUom() != "CS" || codes[1].GetUom() != "" {
			t.Errorf("ItemCreated codes = %v", codes)
		}
	})
}

func TestABarcodeBelongsToOneItem(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		if _, err := svc.CreateItem(ctx, "", caseBarcodes()); err != nil {
			t.Fatal(err)
		}
		// The same barcode on another item, even for another unit, is taken.
		other := inventory.Item{SKU: "CAN-2", Description: "Soup, other", BaseUoM: "EA",
			Codes: []inventory.ItemCode{{Namespace: inventory.CodeBarcode, Code: "0123456789012"}}}
		_, err := svc.CreateItem(ctx, "", other)
		var e *apperr.Error
		if !errors.As(err, &e) || e.Kind != apperr.KindAlreadyExists || len(e.Violations) != 1 || e.Violations[0].Field != "item.codes[0].code" {
			t.Fatalf("create with a taken barcode: err = %v, want AlreadyExists on item.codes[0].code", err)
		}
		other.Codes[0].Code = "0123456789029"
		if _, err := svc.CreateItem(ctx, "", other); err != nil {
			t.Fatal(err)
		}
		_, err = svc.UpdateItem(ctx, "", "CAN-2", inventory.ItemUpdate{Fields: []string{"codes"}, Version: 1,
			Values: inventory.Item{Codes: []inventory.ItemCode{{Namespace: inventory.CodeBarcode, Code: "0123456789005"}}}})
		if !errors.Is(err, apperr.ErrAlreadyExists) {
			t.Fatalf("update to a taken barcode: err = %v, want AlreadyExists", err)
		}
	})
}

func TestCodeUnitsAreRefusedOnTheirField(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		for _, tt := range []struct {
			name  string
			code  inventory.ItemCode
			field string
		}{
			{"a unit the item lacks", inventory.ItemCode{Namespace: inventory.CodeBarcode, Code: "0123456789012", UoM: "PL"}, "item.codes[0].uom"},
			{"a barcode with a partner", inventory.ItemCode{Namespace: inventory.CodeBarcode, Partner: "ACME", Code: "0123456789012"}, "item.codes[0].partner"},
		} {
			it := caseBarcodes()
			it.Codes = []inventory.ItemCode{tt.code}
			_, err := svc.CreateItem(ctx, "", it)
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument || len(e.Violations) != 1 || e.Violations[0].Field != tt.field {
				t.Errorf("%s: err = %v, want InvalidArgument on %s", tt.name, err, tt.field)
			}
		}
		if n := countRows(t, db, "items"); n != 0 {
			t.Fatalf("%d items written by refused creates", n)
		}

		if _, err := svc.CreateItem(ctx, "", caseBarcodes()); err != nil {
			t.Fatal(err)
		}
		// Removing CS while the case barcode names it is refused, and nothing changes.
		_, err := svc.UpdateItem(ctx, "", "CAN-1", inventory.ItemUpdate{Fields: []string{"uoms"}, Version: 1})
		var e *apperr.Error
		if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument || len(e.Violations) != 1 || e.Violations[0].Field != "item.codes[1].uom" {
			t.Fatalf("removing CS: err = %v, want InvalidArgument on item.codes[1].uom", err)
		}
		if got, err := svc.GetItem(ctx, "CAN-1"); err != nil || got.Version != 1 || len(got.Conversions) != 1 || !reflect.DeepEqual(got.Codes, wantCaseCodes) {
			t.Fatalf("after the refused update: %+v, %v", got, err)
		}
		// Re-pointing the case barcode at the base unit and removing CS together is fine.
		next, err := svc.UpdateItem(ctx, "", "CAN-1", inventory.ItemUpdate{Fields: []string{"uoms", "codes"}, Version: 1,
			Values: inventory.Item{Codes: []inventory.ItemCode{{Namespace: inventory.CodeBarcode, Code: "0123456789012", UoM: "EA"}}}})
		if err != nil || len(next.Conversions) != 0 || len(next.Codes) != 1 || next.Codes[0].UoM != "" {
			t.Fatalf("update = %+v, %v", next, err)
		}
		got, err := svc.LookupItem(ctx, inventory.ItemCode{Namespace: inventory.CodeBarcode, Code: "0123456789012"})
		if err != nil || got.Version != 2 || len(got.Codes) != 1 || got.Codes[0].UoM != "" {
			t.Fatalf("lookup after update = %+v, %v", got, err)
		}
	})
}

func TestImportedBarcodesKeepTheirUnit(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		b, err := inventory.ParseItemsCSV("sku,description,base_uom,uoms,barcodes\n" +
			"CAN-1,\"Soup, canned\",EA,CS=12,0123456789012@cs;0123456789005\n")
		if err != nil {
			t.Fatal(err)
		}
		res, err := svc.ImportItems(ctx, "imp-barcodes", b, false)
		if err != nil || !res.Committed || res.Created != 1 {
			t.Fatalf("import = %+v, %v", res, err)
		}
		it, err := svc.LookupItem(ctx, inventory.ItemCode{Namespace: inventory.CodeBarcode, Code: "0123456789012"})
		if err != nil || !reflect.DeepEqual(it.Codes, wantCaseCodes) {
			t.Fatalf("lookup = %+v, %v", it, err)
		}
	})
}

// Codes stored before codes had units count the base unit.
func TestCodesFromBeforeUnitsCountTheBaseUnit(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if err := store.MigrateTo(ctx, db, 9); err != nil {
			t.Fatal(err)
		}
		exec(t, db, `INSERT INTO items (sku, description, base_uom, whole_units_only, tracking, expiry_required, cost_method,
			status, version, created_at, updated_at, allow_negative) VALUES ('OLD-1', 'Old', 'EA', false, 1, false, 1, 1, 1, 0, 0, false)`)
		exec(t, db, `INSERT INTO item_codes (namespace, partner, code, sku) VALUES (1, '', '100-9', 'OLD-1')`)
		svc := newService(t, db) // migrates the rest of the way
		it, err := svc.LookupItem(ctx, inventory.ItemCode{Namespace: inventory.CodeERP, Code: "100-9"})
		if err != nil || !reflect.DeepEqual(it.Codes, []inventory.ItemCode{{Namespace: inventory.CodeERP, Code: "100-9"}}) {
			t.Fatalf("lookup = %+v, %v", it, err)
		}
	})
}
