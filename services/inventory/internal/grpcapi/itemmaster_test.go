package grpcapi_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/events"
	"trueup.dev/services/inventory/internal/grpcapi"
	"trueup.dev/services/inventory/internal/store"
)

func newServer(t *testing.T) *grpcapi.Server {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode)
	return grpcapi.New(app.New(st, func() time.Time { return time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) }))
}

func kind(err error) apperr.Kind {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return apperr.KindInternal
}

// The item-master RPCs end to end through the proto mapping (SQLite; the store
// tests cover both dialects).
func TestItemMasterRPCs(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	erp := inventoryv1.CodeNamespace_CODE_NAMESPACE_ERP
	_, err := s.CreateItem(ctx, &inventoryv1.CreateItemRequest{Item: &inventoryv1.Item{
		Sku: "W-1", Description: "Widget", BaseUom: "EA",
		Codes: []*inventoryv1.ItemCode{{Namespace: erp, Code: "100-1"}},
	}})
	if err != nil {
		t.Fatal(err)
	}

	up, err := s.UpdateItem(ctx, &inventoryv1.UpdateItemRequest{
		Item: &inventoryv1.Item{Name: "items/w-1", Version: 1, Description: "Widget, red", Status: inventoryv1.ItemStatus_ITEM_STATUS_BLOCKED},
		// As the REST gateway derives it from a PATCH body: the version rides along.
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"version", "description"}},
	})
	if err != nil || up.GetVersion() != 2 || up.GetDescription() != "Widget, red" || up.GetStatus() != inventoryv1.ItemStatus_ITEM_STATUS_ACTIVE {
		t.Fatalf("UpdateItem = %v, %v", up, err)
	}
	for name, req := range map[string]*inventoryv1.UpdateItemRequest{
		"no name":     {Item: &inventoryv1.Item{Version: 2}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}}},
		"another sku": {Item: &inventoryv1.Item{Name: "items/W-1", Sku: "W-2", Version: 2}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"description"}}},
		"no mask":     {Item: &inventoryv1.Item{Name: "items/W-1", Version: 2, Description: "x"}},
	} {
		if _, err := s.UpdateItem(ctx, req); kind(err) != apperr.KindInvalidArgument {
			t.Errorf("%s: err = %v, want InvalidArgument", name, err)
		}
	}

	got, err := s.LookupItem(ctx, &inventoryv1.LookupItemRequest{Namespace: erp, Code: "100-1"})
	if err != nil || got.GetName() != "items/W-1" {
		t.Fatalf("LookupItem = %v, %v", got, err)
	}
	if _, err := s.LookupItem(ctx, &inventoryv1.LookupItemRequest{Code: "100-1"}); kind(err) != apperr.KindInvalidArgument {
		t.Errorf("lookup without namespace: %v", err)
	}

	if _, err := s.ImportItems(ctx, &inventoryv1.ImportItemsRequest{Content: "sku,description,base_uom\nA,B,EA\n"}); kind(err) != apperr.KindInvalidArgument {
		t.Errorf("import without format: %v", err)
	}
	imp, err := s.ImportItems(ctx, &inventoryv1.ImportItemsRequest{
		Format:       inventoryv1.ImportFormat_IMPORT_FORMAT_CSV,
		Content:      "sku,description,base_uom,erp_code\nW-2,\"Widget, RED\",EA,100-1\nW-3,Widget blue,EA,\n",
		ValidateOnly: true,
	})
	if err != nil || imp.GetCommitted() || len(imp.GetErrors()) != 1 || imp.GetErrors()[0].GetLine() != 2 || imp.GetErrors()[0].GetField() != "erp_code" {
		t.Fatalf("ImportItems dry run = %v, %v", imp, err)
	}
	if len(imp.GetFindings()) == 0 || imp.GetFindings()[0].GetItems()[0] != "items/W-3" {
		t.Fatalf("findings = %v", imp.GetFindings())
	}
	imp, err = s.ImportItems(ctx, &inventoryv1.ImportItemsRequest{
		Format:  inventoryv1.ImportFormat_IMPORT_FORMAT_JSON_LINES,
		Content: `{"sku":"W-3","description":"Widget blue","baseUom":"EA","codes":[{"namespace":"CODE_NAMESPACE_ERP","code":"100-3"}]}`,
	})
	if err != nil || !imp.GetCommitted() || imp.GetCreatedCount() != 1 {
		t.Fatalf("ImportItems = %v, %v", imp, err)
	}

	audit, err := s.AuditItems(ctx, &inventoryv1.AuditItemsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var wms int
	for _, f := range audit.GetFindings() {
		if f.GetCode() == "UNMAPPED_WMS_CODE" && f.GetSeverity() == inventoryv1.FindingSeverity_FINDING_SEVERITY_WARNING {
			wms++
		}
	}
	if wms != 2 {
		t.Fatalf("audit = %v", audit.GetFindings())
	}
}

// A case barcode round-trips through the API with its unit: LookupItem by the
// barcode returns the item, and the item's matching code names the unit.
func TestBarcodeLookupRPCReturnsTheUnit(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	barcode := inventoryv1.CodeNamespace_CODE_NAMESPACE_BARCODE
	wantCodes := []*inventoryv1.ItemCode{
		{Namespace: barcode, Code: "0123456789005"},
		{Namespace: barcode, Code: "0123456789012", Uom: "CS"},
	}
	created, err := s.CreateItem(ctx, &inventoryv1.CreateItemRequest{Item: &inventoryv1.Item{
		Sku: "CAN-1", Description: "Soup, canned", BaseUom: "EA",
		Uoms:  []*inventoryv1.UomConversion{{Uom: "CS", Factor: "12"}},
		Codes: []*inventoryv1.ItemCode{{Namespace: barcode, Code: "0123456789012", Uom: "cs"}, {Namespace: barcode, Code: "0123456789005"}},
	}})
	if err != nil || len(created.GetCodes()) != 2 || created.GetCodes()[0].GetUom() != "CS" {
		t.Fatalf("CreateItem = %v, %v", created, err)
	}
	for _, scan := range []string{"0123456789012", "0123456789005"} {
		got, err := s.LookupItem(ctx, &inventoryv1.LookupItemRequest{Namespace: barcode, Code: scan})
		if err != nil || got.GetName() != "items/CAN-1" {
			t.Fatalf("LookupItem %s = %v, %v", scan, got, err)
		}
		if len(got.GetCodes()) != 2 || !proto.Equal(got.GetCodes()[0], wantCodes[0]) || !proto.Equal(got.GetCodes()[1], wantCodes[1]) {
			t.Fatalf("LookupItem %s: codes = %v, want %v", scan, got.GetCodes(), wantCodes)
		}
	}
	for name, code := range map[string]*inventoryv1.ItemCode{
		"codes[0].uom":     {Namespace: barcode, Code: "0123456789029", Uom: "PL"},
		"codes[0].partner": {Namespace: barcode, Partner: "ACME", Code: "0123456789029"},
	} {
		_, err := s.CreateItem(ctx, &inventoryv1.CreateItemRequest{Item: &inventoryv1.Item{
			Sku: "CAN-2", Description: "Soup, other", BaseUom: "EA", Codes: []*inventoryv1.ItemCode{code},
		}})
		var e *apperr.Error
		if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument || len(e.Violations) != 1 || e.Violations[0].Field != "item."+name {
			t.Errorf("%s: err = %v, want InvalidArgument on item.%s", name, err, name)
		}
	}
	_, err = s.UpdateItem(ctx, &inventoryv1.UpdateItemRequest{
		Item:       &inventoryv1.Item{Name: "items/CAN-1", Version: 1},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"uoms"}},
	})
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument || len(e.Violations) != 1 || e.Violations[0].Field != "item.codes[1].uom" {
		t.Fatalf("removing CS: err = %v, want InvalidArgument on item.codes[1].uom", err)
	}
}
