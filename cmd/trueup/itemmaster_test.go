package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/sqldb"
)

func TestImportItemsAndAuditCommands(t *testing.T) {
	st, conn, _ := startTestStack(t)
	ctx := context.Background()
	dir := t.TempDir()
	good := filepath.Join(dir, "items.csv")
	if err := os.WriteFile(good, []byte("sku,description,base_uom,uoms,erp_code,wms_code,barcodes\n"+
		"NUT-1,Hex nut,EA,BX=100,N-1,WN-1,0123456789012@BX;0123456789005\nBOLT-1,Bolt,EA,,B-1,WB-1,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(`{"sku":"X-1","description":"X","baseUom":"EA","expiryRequired":true}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	if err := run(ctx, []string{"import-items", "--grpc-addr", st.GRPCAddr, "--service-token", testServiceToken, "--dry-run", good}); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	inv := inventoryv1.NewInventoryServiceClient(conn)
	if _, err := inv.GetItem(ctx, &inventoryv1.GetItemRequest{Name: "items/NUT-1"}); err == nil {
		t.Fatal("the dry run wrote an item")
	}
	for i := 0; i < 2; i++ { // the second run is a retry: same content, same request id
		if err := run(ctx, []string{"import-items", "--grpc-addr", st.GRPCAddr, "--service-token", testServiceToken, good}); err != nil {
			t.Fatalf("import (run %d): %v", i+1, err)
		}
	}
	if _, err := inv.GetItem(ctx, &inventoryv1.GetItemRequest{Name: "items/BOLT-1"}); err != nil {
		t.Fatalf("imported item: %v", err)
	}
	// The box's barcode finds the item, and its code says a scan counts a box.
	nut, err := inv.LookupItem(ctx, &inventoryv1.LookupItemRequest{Namespace: inventoryv1.CodeNamespace_CODE_NAMESPACE_BARCODE, Code: "0123456789012"})
	if err != nil || nut.GetSku() != "NUT-1" {
		t.Fatalf("lookup by barcode = %v, %v", nut, err)
	}
	var boxUoM string
	for _, c := range nut.GetCodes() {
		if c.GetNamespace() == inventoryv1.CodeNamespace_CODE_NAMESPACE_BARCODE && c.GetCode() == "0123456789012" {
			boxUoM = c.GetUom()
		}
	}
	if boxUoM != "BX" {
		t.Fatalf("barcode 0123456789012 counts %q, want BX (codes %v)", boxUoM, nut.GetCodes())
	}
	if err := run(ctx, []string{"import-items", "--grpc-addr", st.GRPCAddr, "--service-token", testServiceToken, bad}); !errors.Is(err, errImportRefused) {
		t.Fatalf("bad import: err = %v, want refused", err)
	}
	if err := run(ctx, []string{"import-items", "--grpc-addr", st.GRPCAddr, "--service-token", testServiceToken, filepath.Join(dir, "items.txt")}); err == nil {
		t.Fatal("an unknown format must fail")
	}
	if err := run(ctx, []string{"audit", "--grpc-addr", st.GRPCAddr, "--service-token", testServiceToken}); err != nil {
		t.Fatalf("audit of a clean master: %v", err)
	}
}

func TestAuditCommandOnDatabase(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "inventory.db")
	if err := run(ctx, []string{"audit"}); err == nil {
		t.Fatal("audit without a database or address must fail")
	}
	if err := run(ctx, []string{"migrate", "inventory", "--database-url", dsn}); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"audit", "--database-url", dsn}); err != nil {
		t.Fatalf("audit of an empty master: %v", err)
	}
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	// A legacy row the API would refuse: expiry required without lot tracking.
	_, err = db.ExecContext(ctx, `INSERT INTO items (sku, description, base_uom, whole_units_only, tracking, expiry_required,
		cost_method, status, version, created_at, updated_at) VALUES ('OLD-1', 'Old', 'EA', FALSE, 1, TRUE, 1, 1, 1, 0, 0)`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"audit", "--database-url", dsn, "--json"}); !errors.Is(err, errAuditErrors) {
		t.Fatalf("audit of a dirty master: err = %v, want ERROR findings", err)
	}
}
