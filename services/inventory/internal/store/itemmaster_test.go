package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/protoconv"
)

func exec(t *testing.T, db *sqldb.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", strings.Join(strings.Fields(query), " "), err)
	}
}

func countRows(t *testing.T, db *sqldb.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUpdateItem(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		created, err := svc.CreateItem(ctx, "", widget())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateItem(ctx, "", inventory.Item{SKU: "GADGET-1", Description: "Gadget", BaseUoM: "EA",
			Codes: []inventory.ItemCode{{Namespace: inventory.CodeERP, Code: "G-1"}}}); err != nil {
			t.Fatal(err)
		}

		change := inventory.ItemUpdate{
			Fields:  []string{"description", "codes", "status"},
			Version: 1,
			Values: inventory.Item{Description: "Widget, blue", Status: inventory.ItemBlocked, Codes: []inventory.ItemCode{
				{Namespace: inventory.CodeERP, Code: "100-1"},
				{Namespace: inventory.CodeWMS, Code: "w-100"},
			}},
		}
		updated, err := svc.UpdateItem(ctx, "upd-1", "widget-1", change)
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.GetItem(ctx, "WIDGET-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 || updated.Version != 2 || got.Description != "Widget, blue" || got.Status != inventory.ItemBlocked ||
			!got.UpdatedAt.Equal(updated.UpdatedAt) || !got.UpdatedAt.After(created.UpdatedAt) || !got.CreatedAt.Equal(created.CreatedAt) ||
			len(got.Conversions) != 2 || got.Tracking != inventory.TrackingLot {
			t.Fatalf("after update: %+v", got)
		}
		wantCodes := []inventory.ItemCode{{Namespace: inventory.CodeERP, Code: "100-1"}, {Namespace: inventory.CodeWMS, Code: "W-100"}}
		if !reflect.DeepEqual(got.Codes, wantCodes) {
			t.Fatalf("codes = %+v, want %+v (replaced as a whole, normalised)", got.Codes, wantCodes)
		}
		if _, err := svc.LookupItem(ctx, inventory.ItemCode{Namespace: inventory.CodeSupplier, Partner: "ACME", Code: "AC-1"}); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("removed code still maps: %v", err)
		}

		// A retry returns the item without a second change or event.
		again, err := svc.UpdateItem(ctx, "upd-1", "WIDGET-1", change)
		if err != nil || again.Version != 2 {
			t.Fatalf("retry = %+v, %v", again, err)
		}
		// The version read is stale now: Conflict (Aborted on the wire).
		if _, err := svc.UpdateItem(ctx, "upd-2", "WIDGET-1", change); !errors.Is(err, apperr.ErrConflict) {
			t.Fatalf("stale version: err = %v, want Conflict", err)
		}
		// A code another item holds is refused, naming the holder; nothing changes.
		clash := inventory.ItemUpdate{Fields: []string{"codes"}, Version: 2, Values: inventory.Item{Codes: []inventory.ItemCode{
			{Namespace: inventory.CodeWMS, Code: "W-100"},
			{Namespace: inventory.CodeERP, Code: " g-1"},
		}}}
		_, err = svc.UpdateItem(ctx, "upd-3", "WIDGET-1", clash)
		var e *apperr.Error
		if !errors.As(err, &e) || e.Kind != apperr.KindAlreadyExists || e.Metadata["holder"] != "items/GADGET-1" ||
			len(e.Violations) != 1 || e.Violations[0].Field != "item.codes[1].code" {
			t.Fatalf("code clash: err = %#v", err)
		}
		if got, _ := svc.GetItem(ctx, "WIDGET-1"); got.Version != 2 || len(got.Codes) != 2 {
			t.Fatalf("refused update changed the item: %+v", got)
		}
		if _, err := svc.UpdateItem(ctx, "", "NOPE", change); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("unknown item: %v", err)
		}
		if _, err := svc.UpdateItem(ctx, "", "WIDGET-1", inventory.ItemUpdate{Fields: []string{"sku"}, Version: 2}); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Fatalf("sku in mask: %v", err)
		}

		types := outboxTypes(t, db)
		want := []string{"trueup.inventory.v1.ItemCreated", "trueup.inventory.v1.ItemCreated", "trueup.inventory.v1.ItemUpdated"}
		if !slices.Equal(types, want) {
			t.Fatalf("outbox = %v, want %v", types, want)
		}
		var payload []byte
		if err := db.QueryRowContext(ctx, `SELECT payload FROM outbox WHERE type = 'trueup.inventory.v1.ItemUpdated'`).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var ev inventoryv1.ItemUpdated
		if err := proto.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.GetAggregateId() != "items/WIDGET-1" || ev.GetAggregateVersion() != 2 || ev.GetItem().GetDescription() != "Widget, blue" ||
			!ev.GetOccurredAt().AsTime().Equal(updated.UpdatedAt) {
			t.Fatalf("event = %v", &ev)
		}
	})
}

func TestUpdateItemKeepsUnitsOfOpenAllocations(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		if _, err := svc.CreateItem(ctx, "", widget()); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateWarehouse(ctx, "", inventory.Warehouse{Code: "MAIN", DisplayName: "Main"}); err != nil {
			t.Fatal(err)
		}
		exec(t, db, `INSERT INTO allocations (id, sku, warehouse, requested_qty, requested_uom, requested, state, created_at, updated_at)
			VALUES ('A1', 'WIDGET-1', 'MAIN', '2', 'CS', 24000000, $1, 0, 0)`, int(inventory.AllocActive))
		dropCS := inventory.ItemUpdate{Fields: []string{"uoms"}, Version: 1,
			Values: inventory.Item{Conversions: []inventory.UoMConversion{{UoM: "PLT", Factor: "480"}}}}
		_, err := svc.UpdateItem(ctx, "", "WIDGET-1", dropCS)
		var e *apperr.Error
		if !errors.As(err, &e) || e.Kind != apperr.KindFailedPrecondition || len(e.Violations) != 1 || e.Violations[0].Type != "UOM_IN_USE" {
			t.Fatalf("removing a unit in use: err = %#v", err)
		}
		// Once the allocation is released the unit can go.
		exec(t, db, `UPDATE allocations SET state = $1 WHERE id = 'A1'`, int(inventory.AllocReleased))
		it, err := svc.UpdateItem(ctx, "", "WIDGET-1", dropCS)
		if err != nil || len(it.Conversions) != 1 {
			t.Fatalf("after release: %+v, %v", it, err)
		}
	})
}

func TestLookupItem(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		it := widget()
		it.Codes = append(it.Codes,
			inventory.ItemCode{Namespace: inventory.CodeWMS, Code: "W-1"},
			inventory.ItemCode{Namespace: inventory.CodeCustomer, Partner: "NORTHWIND", Code: "NW-1"})
		if _, err := svc.CreateItem(ctx, "", it); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateItem(ctx, "", inventory.Item{SKU: "OTHER", Description: "Other", BaseUoM: "EA",
			Codes: []inventory.ItemCode{{Namespace: inventory.CodeCustomer, Partner: "CONTOSO", Code: "NW-1"}}}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			code inventory.ItemCode
			want string // "" means NotFound
		}{
			{"erp", inventory.ItemCode{Namespace: inventory.CodeERP, Code: "100-1"}, "WIDGET-1"},
			{"wms, lower case", inventory.ItemCode{Namespace: inventory.CodeWMS, Code: " w-1 "}, "WIDGET-1"},
			{"supplier", inventory.ItemCode{Namespace: inventory.CodeSupplier, Partner: "acme", Code: "ac-1"}, "WIDGET-1"},
			{"customer", inventory.ItemCode{Namespace: inventory.CodeCustomer, Partner: "NORTHWIND", Code: "NW-1"}, "WIDGET-1"},
			{"same code, other customer", inventory.ItemCode{Namespace: inventory.CodeCustomer, Partner: "CONTOSO", Code: "NW-1"}, "OTHER"},
			{"other namespace", inventory.ItemCode{Namespace: inventory.CodeWMS, Code: "100-1"}, ""},
			{"other partner", inventory.ItemCode{Namespace: inventory.CodeSupplier, Partner: "GLOBEX", Code: "AC-1"}, ""},
		}
		for _, tt := range tests {
			got, err := svc.LookupItem(ctx, tt.code)
			switch {
			case tt.want == "" && !errors.Is(err, apperr.ErrNotFound):
				t.Errorf("%s: err = %v, want NotFound", tt.name, err)
			case tt.want != "" && (err != nil || got.SKU != tt.want):
				t.Errorf("%s: got %v, %v; want %s", tt.name, got, err, tt.want)
			}
		}
		if _, err := svc.LookupItem(ctx, inventory.ItemCode{Code: "100-1"}); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Errorf("no namespace: err = %v, want InvalidArgument", err)
		}
	})
}

// TestAuditDirtyMaster writes, with plain SQL, the kind of item master that
// legacy loads and direct edits leave behind, which the API would refuse, and
// checks that the audit names every problem.
func TestAuditDirtyMaster(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		// A clean item, through the API.
		clean := inventory.Item{SKU: "CLEAN", Description: "Clean item", BaseUoM: "EA",
			Conversions: []inventory.UoMConversion{{UoM: "CS", Factor: "12"}},
			Codes:       []inventory.ItemCode{{Namespace: inventory.CodeERP, Code: "E-CLEAN"}, {Namespace: inventory.CodeWMS, Code: "W-CLEAN"}}}
		if _, err := svc.CreateItem(ctx, "", clean); err != nil {
			t.Fatal(err)
		}
		legacy := func(sku, desc, base string, tracking int, expiry bool, erp, wms string) {
			t.Helper()
			exec(t, db, `INSERT INTO items (sku, description, base_uom, whole_units_only, tracking, expiry_required, cost_method, status, version, created_at, updated_at)
				VALUES ($1, $2, $3, FALSE, $4, $5, 1, 1, 1, 0, 0)`, sku, desc, base, tracking, expiry)
			if erp != "" {
				exec(t, db, `INSERT INTO item_codes (namespace, partner, code, sku) VALUES (1, '', $1, $2)`, erp, sku)
			}
			if wms != "" {
				exec(t, db, `INSERT INTO item_codes (namespace, partner, code, sku) VALUES (2, '', $1, $2)`, wms, sku)
			}
		}
		legacy("DUP-1", "Steel widget, 10 mm", "EA", 1, false, "E-DUP1", "W-DUP1")
		legacy("DUP-2", "STEEL WIDGET 10MM", "EA", 1, false, "E-DUP2", "W-DUP2")
		legacy("SHARED-1", "Shared one", "EA", 1, false, "E-SH", "W-SH1")
		legacy("SHARED-2", "Shared two", "EA", 1, false, "e-sh", "W-SH2") // same ERP code, other case
		legacy("NODESC", "", "EA", 1, false, "E-ND", "W-ND")
		legacy("NOERP", "No ERP code", "EA", 1, false, "", "W-NOERP")
		legacy("NOWMS", "No WMS code", "EA", 1, false, "E-NOWMS", "")
		legacy("EXPIRY", "Expiry, no lot", "EA", 1, true, "E-EXP", "W-EXP")
		legacy("STOCKY", "Stock problems", "EA", 1, false, "E-ST", "W-ST")

		for _, step := range []error{
			func() error {
				_, err := svc.CreateWarehouse(ctx, "", inventory.Warehouse{Code: "MAIN", DisplayName: "Main"})
				return err
			}(),
			func() error {
				_, err := svc.CreateLocation(ctx, "", "MAIN", inventory.Location{Code: "A-1", Type: inventory.LocationStorage})
				return err
			}(),
			func() error {
				_, err := svc.CreateLocation(ctx, "", "MAIN", inventory.Location{Code: "QC-1", Type: inventory.LocationQuarantine, Blocked: true})
				return err
			}(),
		} {
			if step != nil {
				t.Fatal(step)
			}
		}
		exec(t, db, `INSERT INTO lots (sku, lot, first_received_at) VALUES ('STOCKY', '', 0), ('CLEAN', '', 0)`)
		// STOCKY: 5 EA in A-1 and 2.5 EA in the blocked QC-1, and a cost layer with nothing left in it.
		exec(t, db, `INSERT INTO stock_levels (warehouse, location, sku, lot, on_hand, received_at) VALUES
			('MAIN', 'A-1', 'STOCKY', '', 5000000, 0), ('MAIN', 'QC-1', 'STOCKY', '', 2500000, 0), ('MAIN', 'A-1', 'CLEAN', '', 12000000, 0)`)
		exec(t, db, `INSERT INTO cost_layers (id, seq, sku, warehouse, currency, qty_in, value_in, qty_remaining, value_remaining, received_at, movement_id) VALUES
			('L1', 1, 'STOCKY', 'MAIN', 'USD', 7500000, 750, 7500000, 0, 0, 'M1'),
			('L2', 2, 'CLEAN', 'MAIN', 'USD', 12000000, 1200, 12000000, 1200, 0, 'M2')`)
		// CLEAN: moved in cases (known) and in bags (not known); allocated in pallets (not known).
		exec(t, db, `INSERT INTO movements (id, type, sku, warehouse, entered_qty, entered_uom, base_qty, value_minor, created_at) VALUES
			('M2', 1, 'CLEAN', 'MAIN', '1', 'CS', 12000000, 1200, 0), ('M3', 1, 'CLEAN', 'MAIN', '1', 'BAG', 1000000, 0, 0)`)
		exec(t, db, `INSERT INTO allocations (id, sku, warehouse, requested_qty, requested_uom, requested, state, created_at, updated_at) VALUES
			('A1', 'CLEAN', 'MAIN', '1', 'PLT', 480000000, $1, 0, 0), ('A2', 'CLEAN', 'MAIN', '1', 'DRUM', 1, $2, 0, 0)`,
			int(inventory.AllocActive), int(inventory.AllocReleased))

		findings, err := svc.AuditItems(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range findings {
			got = append(got, fmt.Sprintf("%s %s %s", f.Severity, f.Code, strings.Join(f.Items, "+")))
			if f.Message == "" || f.SuggestedFix == "" {
				t.Errorf("finding without message or fix: %+v", f)
			}
		}
		want := []string{
			"ERROR EXPIRY_WITHOUT_LOT EXPIRY",
			"ERROR MISSING_FIELD NODESC",
			"ERROR SHARED_CODE SHARED-1+SHARED-2",
			"ERROR STOCK_WITHOUT_COST STOCKY",
			"ERROR UOM_WITHOUT_CONVERSION CLEAN", // PLT, open allocation
			"WARNING DUPLICATE_ITEM DUP-1+DUP-2",
			"WARNING INVALID_FIELD SHARED-2", // e-sh stored unnormalised
			"WARNING STOCK_IN_BLOCKED_LOCATION STOCKY",
			"WARNING UNMAPPED_ERP_CODE NOERP",
			"WARNING UNMAPPED_WMS_CODE NOWMS",
			"WARNING UOM_WITHOUT_CONVERSION CLEAN", // BAG, history only; DRUM's allocation is released
		}
		if !slices.Equal(got, want) {
			t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

const importCSV = "sku,description,base_uom,uoms,whole_units_only,tracking,expiry_required,cost_method,erp_code,wms_code,supplier_codes,customer_codes\n" +
	"NUT-1,Hex nut M8,EA,CS=12,yes,,,,N-100,WN-100,ACME:AC-N1,\n" +
	"FLOUR-1,Wheat flour,KG,BAG=0.25,,LOT,yes,MOVING_AVERAGE,F-100,,,NORTHWIND:NW-F1\n" +
	"BOLT-1,Bolt M8,EA,BX=100,yes,,,,B-100,WB-100,,\n"

func TestImportItemsCSV(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		if _, err := svc.CreateItem(ctx, "", widget()); err != nil { // ERP 100-1, description "Widget"
			t.Fatal(err)
		}
		parse := func(content string) inventory.ImportBatch {
			t.Helper()
			b, err := inventory.ParseItemsCSV(content)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		itemsBefore, eventsBefore := countRows(t, db, "items"), len(outboxTypes(t, db))
		unchanged := func(what string) {
			t.Helper()
			if countRows(t, db, "items") != itemsBefore || len(outboxTypes(t, db)) != eventsBefore || countRows(t, db, "idempotency_keys") != 0 {
				t.Fatalf("%s wrote something", what)
			}
		}

		// Dry run: reports the findings, writes nothing.
		dry, err := svc.ImportItems(ctx, "imp-1", parse(importCSV), true)
		if err != nil {
			t.Fatal(err)
		}
		if dry.Committed || dry.Created != 0 || len(dry.Errors) != 0 {
			t.Fatalf("dry run = %+v", dry)
		}
		var codes []string
		for _, f := range dry.Findings {
			codes = append(codes, f.Code+":"+strings.Join(f.Items, "+"))
		}
		if !slices.Equal(codes, []string{"UNMAPPED_WMS_CODE:FLOUR-1"}) {
			t.Fatalf("dry-run findings = %v", codes)
		}
		unchanged("a dry run")

		// One bad line (a code the existing item holds): nothing is written.
		bad := importCSV + "WIDGET-2,Widget two,EA,,,,,,100-1,,,\n"
		res, err := svc.ImportItems(ctx, "imp-2", parse(bad), false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Committed || res.Created != 0 || len(res.Errors) != 1 || res.Errors[0].Line != 5 || res.Errors[0].Field != "erp_code" ||
			!strings.Contains(res.Errors[0].Description, "items/WIDGET-1") {
			t.Fatalf("bad import = %+v", res)
		}
		unchanged("a refused import")

		// A good file: every item, one event each, in one go.
		res, err = svc.ImportItems(ctx, "imp-3", parse(importCSV), false)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Committed || res.Created != 3 || len(res.Errors) != 0 || len(res.Findings) != 1 {
			t.Fatalf("import = %+v", res)
		}
		flour, err := svc.GetItem(ctx, "FLOUR-1")
		if err != nil || flour.Tracking != inventory.TrackingLot || !flour.ExpiryRequired || flour.CostMethod != inventory.CostMovingAverage ||
			flour.Conversions[0] != (inventory.UoMConversion{UoM: "BAG", Factor: "0.25"}) || len(flour.Codes) != 2 {
			t.Fatalf("imported item = %+v, %v", flour, err)
		}
		if it, err := svc.LookupItem(ctx, inventory.ItemCode{Namespace: inventory.CodeSupplier, Partner: "ACME", Code: "AC-N1"}); err != nil || it.SKU != "NUT-1" {
			t.Fatalf("lookup of an imported code = %v, %v", it, err)
		}
		types := outboxTypes(t, db)
		if len(types) != eventsBefore+3 || countRows(t, db, "items") != itemsBefore+3 {
			t.Fatalf("outbox = %v", types)
		}
		for _, typ := range types {
			if typ != "trueup.inventory.v1.ItemCreated" {
				t.Fatalf("unexpected event %s", typ)
			}
		}

		// A retry returns the first result and writes nothing more.
		again, err := svc.ImportItems(ctx, "imp-3", parse(importCSV), false)
		if err != nil || !again.Committed || again.Created != 3 || len(again.Errors) != 0 {
			t.Fatalf("retry = %+v, %v", again, err)
		}
		if len(outboxTypes(t, db)) != eventsBefore+3 {
			t.Fatal("retry wrote events")
		}
		// The same file under a new request id: every sku exists now.
		res, err = svc.ImportItems(ctx, "imp-4", parse(importCSV), false)
		if err != nil || res.Committed || len(res.Errors) == 0 {
			t.Fatalf("re-import = %+v, %v", res, err)
		}
		if _, err := svc.ImportItems(ctx, "", inventory.ImportBatch{}, false); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Fatalf("empty import: %v", err)
		}
	})
}

func TestImportItemsJSONLines(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		content := `{"sku":"nut-1","description":"Hex nut","baseUom":"EA","uoms":[{"uom":"CS","factor":"12"}],"codes":[{"namespace":"CODE_NAMESPACE_ERP","code":"N-1"},{"namespace":"CODE_NAMESPACE_WMS","code":"WN-1"}]}

{"sku":"BOLT-1","description":"Bolt","base_uom":"EA","tracking":"TRACKING_SERIAL","codes":[{"namespace":"CODE_NAMESPACE_ERP","code":"B-1"},{"namespace":"CODE_NAMESPACE_WMS","code":"WB-1"}]}
`
		b, err := protoconv.ItemsFromJSONLines(content)
		if err != nil {
			t.Fatal(err)
		}
		res, err := svc.ImportItems(ctx, "j1", b, false)
		if err != nil || !res.Committed || res.Created != 2 || len(res.Findings) != 0 {
			t.Fatalf("import = %+v, %v", res, err)
		}
		bolt, err := svc.GetItem(ctx, "BOLT-1")
		if err != nil || bolt.Tracking != inventory.TrackingSerial || !bolt.WholeUnitsOnly {
			t.Fatalf("bolt = %+v, %v", bolt, err)
		}

		// A malformed line and an unknown field are errors on their lines.
		b, err = protoconv.ItemsFromJSONLines(`{"sku":"X-1","description":"X","baseUom":"EA"}` + "\n" + `{"sku": ` + "\n" + `{"sku":"Y","colour":"red"}`)
		if err != nil {
			t.Fatal(err)
		}
		res, err = svc.ImportItems(ctx, "j2", b, false)
		if err != nil || res.Committed || len(res.Errors) != 2 || res.Errors[0].Line != 2 || res.Errors[1].Line != 3 {
			t.Fatalf("bad jsonl = %+v, %v", res, err)
		}
		if _, err := svc.GetItem(ctx, "X-1"); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("a refused import wrote X-1: %v", err)
		}
	})
}

// Concurrent updates from the same version: exactly one wins, the others get
// a retryable Conflict, and exactly one ItemUpdated is written.
func TestConcurrentUpdatesOneWinner(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		if _, err := svc.CreateItem(ctx, "", widget()); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var wins atomic.Int32
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.UpdateItem(ctx, "", "WIDGET-1", inventory.ItemUpdate{Fields: []string{"description"}, Version: 1,
					Values: inventory.Item{Description: fmt.Sprintf("Widget %d", i)}})
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, apperr.ErrConflict):
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d updates won, want 1", wins.Load())
		}
		if got := outboxTypes(t, db); len(got) != 2 || got[1] != "trueup.inventory.v1.ItemUpdated" {
			t.Fatalf("outbox = %v", got)
		}
		if it, _ := svc.GetItem(ctx, "WIDGET-1"); it.Version != 2 {
			t.Fatalf("version = %d, want 2", it.Version)
		}
	})
}

// A cost-method change and a receipt of the same item racing: whichever order
// they commit in, the cost method never changes while stock is on hand. Either
// the update goes first (and the receipt, waiting for the item's lock, books
// its stock under the new method) or it is refused because the receipt's stock
// is there. The check reads the outbox in relay order, the order consumers (the
// ledger) see the events in: an ItemUpdated that follows the item's
// StockReceived is a cost-method change with stock on hand.
//
// On PostgreSQL, before UpdateItem took the item's lock, the update read no
// stock while the receipt was in flight, then its UPDATE waited for the receipt
// to commit and went through: every run caught it within its first two
// iterations (40 leave a wide margin, in under a second). On SQLite write
// transactions run one at a time, so this checks the same rule holds there.
func TestCostMethodNeverChangesWithStockOnHand(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		if _, err := svc.CreateWarehouse(ctx, "", inventory.Warehouse{Code: "W1", DisplayName: "Main"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateLocation(ctx, "", "W1", inventory.Location{Code: "A1", Type: inventory.LocationStorage}); err != nil {
			t.Fatal(err)
		}
		const iterations = 40
		var updatedFirst, refused int
		for i := range iterations {
			sku := fmt.Sprintf("RACE-%d", i)
			if _, err := svc.CreateItem(ctx, "", inventory.Item{SKU: sku, Description: "Race", BaseUoM: "EA"}); err != nil {
				t.Fatal(err)
			}
			var (
				wg                 sync.WaitGroup
				start              = make(chan struct{})
				receiveErr, updErr error
			)
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				_, receiveErr = svc.ReceiveStock(ctx, app.Receive{RequestID: "rcv-" + sku, SKU: sku, Warehouse: "W1", Location: "A1",
					Quantity: app.Quantity{Value: "5"}, Cost: app.UnitCost{Currency: "USD", Amount: "2"},
					Source: inventory.SourceDoc{Type: inventory.SourcePurchaseOrder, ID: "PO-RACE", Line: "1"}})
			}()
			go func() {
				defer wg.Done()
				<-start
				_, updErr = svc.UpdateItem(ctx, "upd-"+sku, sku, inventory.ItemUpdate{Fields: []string{inventory.FieldCostMethod}, Version: 1,
					Values: inventory.Item{CostMethod: inventory.CostMovingAverage}})
			}()
			close(start)
			wg.Wait()
			if receiveErr != nil {
				t.Fatalf("%s: receipt: %v", sku, receiveErr)
			}
			it, err := svc.GetItem(ctx, sku)
			if err != nil {
				t.Fatal(err)
			}
			order := itemEventOrder(t, db, sku)
			switch {
			case updErr == nil:
				if it.CostMethod != inventory.CostMovingAverage || !slices.Equal(order, []string{"ItemCreated", "ItemUpdated", "StockReceived"}) {
					t.Fatalf("%s: cost method changed with stock on hand: item is %v, events in outbox order %v", sku, it.CostMethod, order)
				}
				updatedFirst++
			case errors.Is(updErr, apperr.ErrFailedPrecondition):
				if it.CostMethod != inventory.CostFIFO || !slices.Equal(order, []string{"ItemCreated", "StockReceived"}) {
					t.Fatalf("%s: refused update left item %v, events %v", sku, it.CostMethod, order)
				}
				refused++
			default:
				t.Fatalf("%s: update: %v, want success or FailedPrecondition", sku, updErr)
			}
		}
		t.Logf("%d iterations: update first %d, refused for stock %d", iterations, updatedFirst, refused)
	})
}

// itemEventOrder lists the short type names of the outbox events about one
// item, in relay order.
func itemEventOrder(t *testing.T, db *sqldb.DB, sku string) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT type, payload FROM outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ string
		var payload []byte
		if err := rows.Scan(&typ, &payload); err != nil {
			t.Fatal(err)
		}
		var ev interface {
			proto.Message
			GetAggregateId() string
		}
		switch typ {
		case "trueup.inventory.v1.ItemCreated":
			ev = &inventoryv1.ItemCreated{}
		case "trueup.inventory.v1.ItemUpdated":
			ev = &inventoryv1.ItemUpdated{}
		case "trueup.inventory.v1.StockReceived":
			ev = &inventoryv1.StockReceived{}
		default:
			continue
		}
		if err := proto.Unmarshal(payload, ev); err != nil {
			t.Fatal(err)
		}
		if ev.GetAggregateId() == "items/"+sku {
			out = append(out, strings.TrimPrefix(typ, "trueup.inventory.v1."))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A quantity off the grammar trueup.type.v1.Quantity documents reaches the
// client as InvalidArgument with one field violation on quantity.value that
// says what is wrong, and nothing is written.
func TestQuantityOffGrammarIsAFieldViolation(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		if _, err := svc.CreateWarehouse(ctx, "", inventory.Warehouse{Code: "W1", DisplayName: "Main"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateLocation(ctx, "", "W1", inventory.Location{Code: "A1", Type: inventory.LocationStorage}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateItem(ctx, "", inventory.Item{SKU: "NUT", Description: "Nut", BaseUoM: "EA"}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ value, why string }{
			{"+5", `must not have a "+" sign`},
			{" 5", "must not contain white space"},
			{"5 ", "must not contain white space"},
			{"1e1", "must not use an exponent"},
			{".5", `must have a digit before the "."`},
		} {
			_, err := svc.ReceiveStock(ctx, app.Receive{RequestID: "rcv " + tt.value, SKU: "NUT", Warehouse: "W1", Location: "A1",
				Quantity: app.Quantity{Value: tt.value}, Cost: app.UnitCost{Currency: "USD", Amount: "1"},
				Source: inventory.SourceDoc{Type: inventory.SourcePurchaseOrder, ID: "PO-1", Line: "1"}})
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument || len(e.Violations) != 1 ||
				e.Violations[0].Field != "quantity.value" || !strings.Contains(e.Violations[0].Description, tt.why) {
				t.Errorf("receive %q: err = %#v, want one quantity.value violation saying %q", tt.value, err, tt.why)
			}
		}
		if n := countRows(t, db, "movements"); n != 0 {
			t.Errorf("refused receipts wrote %d movements", n)
		}
	})
}
