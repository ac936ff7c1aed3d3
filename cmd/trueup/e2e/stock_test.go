package e2e

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/caller"
)

// TestStockScenarios runs the warehouse's other stock flows through the
// suite, each posted by the rule its reason gives: 12 EA of widgets
// transferred from MAIN to a new EAST warehouse (in transit, then received:
// Inventory moves between the warehouses at the layer's 18.00); a wrong
// receipt of 7 EA at 3.00 reversed at exactly its value; 2 EA adjusted out
// as DAMAGED (against Damage and scrap); a cycle count of A-01-01 that finds
// 6 EA missing, above the count's threshold, approved by the lead as
// SHRINKAGE (against Shrinkage). Then the books reconcile per warehouse and
// survive every event delivered again.
func TestStockScenarios(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ea := func(v string) *typev1.Quantity { return &typev1.Quantity{Value: v, Uom: "EA"} }
		doc := func(typ inventoryv1.SourceDocumentType, id string) *inventoryv1.SourceDocument {
			return &inventoryv1.SourceDocument{Type: typ, Id: id}
		}
		const widget, a1 = "items/WIDGET-100", "warehouses/MAIN/locations/A-01-01"
		e.checkBooks(t)
		before := map[string]int64{}
		for _, a := range []string{"1400", "1450", "2100", "5100", "5110"} {
			before[a] = e.balance(t, a, "")
		}
		moved := func(a, warehouse string) int64 {
			if warehouse != "" {
				return e.balance(t, a, warehouse)
			}
			return e.balance(t, a, "") - before[a]
		}
		// rule waits for the journal entry of a movement and returns its rule.
		rule := func(movement string) string {
			t.Helper()
			var got string
			e.waitFor(t, "the entry of "+movement, func() bool {
				resp, err := e.led.ListJournalEntries(ctx, &ledgerv1.ListJournalEntriesRequest{MovementId: strings.TrimPrefix(movement, "movements/")})
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.GetJournalEntries()) > 1 {
					t.Fatalf("%d entries for movement %s", len(resp.GetJournalEntries()), movement)
				}
				if len(resp.GetJournalEntries()) == 1 {
					got = resp.GetJournalEntries()[0].GetRule()
				}
				return got != ""
			})
			return got
		}

		// A transfer to a second warehouse.
		if _, err := e.inv.CreateWarehouse(ctx, &inventoryv1.CreateWarehouseRequest{RequestId: "st-wh-east",
			Warehouse: &inventoryv1.Warehouse{Code: "EAST", DisplayName: "East depot", TimeZone: "America/New_York"}}); err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"RCV-01", "A-01-01"} {
			if _, err := e.inv.CreateLocation(ctx, &inventoryv1.CreateLocationRequest{RequestId: "st-loc-east-" + code, Parent: "warehouses/EAST",
				Location: &inventoryv1.Location{Code: code, Type: inventoryv1.LocationType_LOCATION_TYPE_STORAGE}}); err != nil {
				t.Fatal(err)
			}
		}
		tr, err := e.inv.TransferStock(ctx, &inventoryv1.TransferStockRequest{RequestId: "st-tr-1", Item: widget, FromLocation: a1,
			ToWarehouse: "warehouses/EAST", Quantity: ea("12"), Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_TRANSFER, "TO-E2E-1")})
		if err != nil || tr.GetValue().GetMinorUnits() != 1800 {
			t.Fatalf("transfer = %v, %v", tr, err)
		}
		if r := rule(tr.GetOutMovement()); r != "transfer_out" {
			t.Errorf("transfer out posted by %q", r)
		}
		if got := moved("1450", ""); got != 1800 {
			t.Errorf("in transit %d, want 1800", got)
		}
		in, err := e.inv.ReceiveTransfer(ctx, &inventoryv1.ReceiveTransferRequest{RequestId: "st-tr-1-in", Name: tr.GetName(), Location: "warehouses/EAST/locations/RCV-01"})
		if err != nil || len(in.GetInMovements()) != 1 {
			t.Fatalf("receive transfer = %v, %v", in, err)
		}
		if r := rule(in.GetInMovements()[0]); r != "transfer_in" {
			t.Errorf("transfer in posted by %q", r)
		}

		// A wrong receipt, reversed.
		wrong, err := e.inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: "st-wrong", Item: widget, Location: "warehouses/MAIN/locations/A-01-02",
			Quantity: ea("7"), UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "3.00"},
			Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, "PO-E2E-WRONG")})
		if err != nil {
			t.Fatal(err)
		}
		rev, err := e.inv.ReverseMovement(ctx, &inventoryv1.ReverseMovementRequest{RequestId: "st-wrong-rev", Name: wrong.GetName(),
			Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_RECEIPT, "REV-E2E-1")})
		if err != nil || rev.GetValue().GetMinorUnits() != -2100 {
			t.Fatalf("reversal = %v, %v", rev, err)
		}
		if r := rule(rev.GetName()); !strings.HasPrefix(r, "reversal/") {
			t.Errorf("reversal posted by %q", r)
		}

		// Damaged stock adjusted out.
		adj, err := e.inv.AdjustStock(ctx, &inventoryv1.AdjustStockRequest{RequestId: "st-adj-1", Item: widget, Location: a1, Quantity: ea("-2"),
			ReasonCode: "DAMAGED", Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_ADJUSTMENT, "ADJ-E2E-1")})
		if err != nil || adj.GetValue().GetMinorUnits() != -300 {
			t.Fatalf("adjustment = %v, %v", adj, err)
		}
		if r := rule(adj.GetName()); r != "adjustment/DAMAGE" {
			t.Errorf("adjustment posted by %q", r)
		}

		// A cycle count above its threshold, approved by the lead.
		as := func(who string) context.Context {
			return metadata.AppendToOutgoingContext(ctx, caller.InternalMetadataKey, who)
		}
		counter, lead := as("counter-7"), as("lead-2")
		c, err := e.cnt.CreateCount(lead, &fulfillmentv1.CreateCountRequest{RequestId: "st-count-1", Warehouse: "MAIN", Locations: []string{"A-01-01"},
			Thresholds: &fulfillmentv1.CountThresholds{MaxBaseQuantity: "5"}})
		if err != nil || len(c.GetTasks()) != 1 {
			t.Fatalf("count = %v, %v", c, err)
		}
		if _, err := e.ful.ClaimTask(counter, &fulfillmentv1.ClaimTaskRequest{Name: c.GetTasks()[0].GetTask()}); err != nil {
			t.Fatal(err)
		}
		// 120 - 12 transferred - 2 damaged = 106 expected; 100 counted.
		rec, err := e.cnt.RecordCount(counter, &fulfillmentv1.RecordCountRequest{RequestId: "st-count-1-rec", Task: c.GetTasks()[0].GetTask(),
			Lines: []*fulfillmentv1.CountedItem{{Item: "WIDGET-100", Quantity: ea("100")}}})
		if err != nil || rec.GetLines()[0].GetState() != fulfillmentv1.CountLineState_COUNT_LINE_STATE_PENDING_APPROVAL {
			t.Fatalf("record count = %v, %v", rec, err)
		}
		done, err := e.cnt.ReviewCount(lead, &fulfillmentv1.ReviewCountRequest{RequestId: "st-count-1-review", Name: c.GetName(),
			Decisions: []*fulfillmentv1.CountLineDecision{{Line: rec.GetLines()[0].GetNumber(), Decision: fulfillmentv1.CountDecision_COUNT_DECISION_APPROVE,
				Reason: "recounted twice", ReasonCode: "SHRINKAGE"}}})
		if err != nil {
			t.Fatal(err)
		}
		l := done.GetLines()[0]
		if l.GetState() != fulfillmentv1.CountLineState_COUNT_LINE_STATE_BOOKED || l.GetDifferenceBaseQuantity() != "-6" || l.GetDifferenceValue().GetMinorUnits() != -900 {
			t.Fatalf("approved count = %v", done)
		}
		if r := rule(l.GetMovement()); r != "count/SHRINKAGE" {
			t.Errorf("count posted by %q", r)
		}

		books := e.checkBooks(t)
		for a, want := range map[string]int64{"1400": -1200, "1450": 0, "2100": 0, "5100": 900, "5110": 300} {
			if got := moved(a, ""); got != want {
				t.Errorf("account %s moved %d, want %d", a, got, want)
			}
		}
		if east := moved("1400", "EAST"); east != 1800 {
			t.Errorf("EAST inventory %d, want 1800", east)
		}
		if stock := e.stockByBin(t, "EAST"); stock["WIDGET-100@RCV-01#"] != "12" {
			t.Errorf("EAST stock = %v", stock)
		}
		if stock := e.stockByBin(t, "MAIN"); stock["WIDGET-100@A-01-01#"] != "100" || stock["WIDGET-100@A-01-02#"] != "" {
			t.Errorf("MAIN stock = %v", stock)
		}
		e.redeliverAll(t, books)
	})
}

// TestTransferOfTwoCostLayers sends a transfer that consumes two cost layers
// (the opening 120 EA at 1.50 and 5 of 10 EA received at 1.60): it leaves as
// one TRANSFER_OUT and arrives as two TRANSFER_IN movements, one per layer,
// each posted as its own entry — so the reconciliation has nothing in flight
// and GL inventory at EAST is exactly 188.00.
func TestTransferOfTwoCostLayers(t *testing.T) {
	dialects(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: "tl-layer-2", Item: "items/WIDGET-100",
			Location: "warehouses/MAIN/locations/A-01-01", Quantity: &typev1.Quantity{Value: "10", Uom: "EA"},
			UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "1.60", Uom: "EA"},
			Source:   &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: "PO-E2E-TL", Line: "1"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.inv.CreateWarehouse(ctx, &inventoryv1.CreateWarehouseRequest{RequestId: "tl-wh-east",
			Warehouse: &inventoryv1.Warehouse{Code: "EAST", DisplayName: "East depot", TimeZone: "America/New_York"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.inv.CreateLocation(ctx, &inventoryv1.CreateLocationRequest{RequestId: "tl-loc-east", Parent: "warehouses/EAST",
			Location: &inventoryv1.Location{Code: "RCV-01", Type: inventoryv1.LocationType_LOCATION_TYPE_RECEIVING_DOCK}}); err != nil {
			t.Fatal(err)
		}
		tr, err := e.inv.TransferStock(ctx, &inventoryv1.TransferStockRequest{RequestId: "tl-tr", Item: "items/WIDGET-100",
			FromLocation: "warehouses/MAIN/locations/A-01-01", ToWarehouse: "warehouses/EAST", Quantity: &typev1.Quantity{Value: "125", Uom: "EA"},
			Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_TRANSFER, Id: "TO-E2E-TL"}})
		if err != nil || tr.GetValue().GetMinorUnits() != 18800 || len(tr.GetLayers()) != 2 {
			t.Fatalf("transfer = %v, %v", tr, err)
		}
		in, err := e.inv.ReceiveTransfer(ctx, &inventoryv1.ReceiveTransferRequest{RequestId: "tl-tr-in", Name: tr.GetName(), Location: "warehouses/EAST/locations/RCV-01"})
		if err != nil || len(in.GetInMovements()) != 2 {
			t.Fatalf("receive = %v, %v", in, err)
		}
		books := e.checkBooks(t)
		for _, m := range in.GetInMovements() {
			resp, err := e.led.ListJournalEntries(ctx, &ledgerv1.ListJournalEntriesRequest{MovementId: strings.TrimPrefix(m, "movements/")})
			if err != nil || len(resp.GetJournalEntries()) != 1 || resp.GetJournalEntries()[0].GetRule() != "transfer_in" {
				t.Fatalf("entries of %s = %v, %v", m, resp.GetJournalEntries(), err)
			}
		}
		if got := e.balance(t, "1400", "EAST"); got != 18800 {
			t.Fatalf("EAST inventory %d, want 18800", got)
		}
		e.redeliverAll(t, books)
	})
}
