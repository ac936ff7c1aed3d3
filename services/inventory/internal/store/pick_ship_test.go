package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

func TestEveryMovementNamesItsDocument(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		receive(t, svc, "WIDGET", "A1", "10", "", "1.00", "", "")
		_, err := svc.AllocateStock(ctx, app.Allocate{RequestID: rid("al"), SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: "1"}})
		wantKind(t, err, apperr.KindInvalidArgument, "order.type")
		wantKind(t, err, apperr.KindInvalidArgument, "order.id")
		a, err := svc.AllocateStock(ctx, app.Allocate{RequestID: rid("al"), SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: "2"}, Order: soSrc})
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.ConfirmPick(ctx, app.ConfirmPick{RequestID: rid("p"), AllocationID: a.ID, Location: "A1", Quantity: app.Quantity{Value: "1"}})
		wantKind(t, err, apperr.KindInvalidArgument, "source.type")
		wantKind(t, err, apperr.KindInvalidArgument, "to_location")
		_, err = svc.ConfirmPick(ctx, app.ConfirmPick{RequestID: rid("p"), AllocationID: a.ID, Location: "A1", Quantity: app.Quantity{Value: "1"}, ToLocation: "A2", Source: soSrc})
		wantKind(t, err, apperr.KindInvalidArgument, "to_location") // storage is not staging
		_, err = svc.IssueStock(ctx, app.Issue{RequestID: rid("i"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Quantity: app.Quantity{Value: "1"}})
		wantKind(t, err, apperr.KindInvalidArgument, "source.id")
		_, err = svc.ConfirmShipment(ctx, app.Ship{RequestID: rid("s"), AllocationID: a.ID})
		wantKind(t, err, apperr.KindInvalidArgument, "source.type")
	})
}

func TestReasonCodesAreMasterData(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		page, _ := paging.Parse(100, "", "")
		seeded, err := svc.ListReasonCodes(ctx, page)
		if err != nil || len(seeded) != len(inventory.DefaultReasonCodes) {
			t.Fatalf("seeded reason codes = %d, %v; want %d", len(seeded), err, len(inventory.DefaultReasonCodes))
		}
		for _, d := range inventory.DefaultReasonCodes {
			got, err := svc.GetReasonCode(ctx, d.Code)
			if err != nil || got.Category != d.Category || !got.Active || got.Description != d.Description {
				t.Fatalf("seeded %s = %+v, %v; want %+v", d.Code, got, err, d)
			}
		}
		if _, err := svc.CreateReasonCode(ctx, rid("rc"), inventory.ReasonCode{Code: "OLD_SCRAP", Description: "Retired", Category: inventory.ReasonScrap}); err != nil {
			t.Fatal(err)
		}
		_, err = svc.CreateReasonCode(ctx, "", inventory.ReasonCode{Code: "SCRAP", Description: "Again", Category: inventory.ReasonScrap})
		wantKind(t, err, apperr.KindAlreadyExists, "")
		receive(t, svc, "WIDGET", "A1", "10", "", "2.00", "", "")
		adj := func(reason string) error {
			_, err := svc.AdjustStock(ctx, app.Adjust{RequestID: rid("a"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Quantity: app.Quantity{Value: "-1"}, Reason: reason})
			return err
		}
		wantKind(t, adj("NO_SUCH_CODE"), apperr.KindInvalidArgument, "reason_code")
		wantKind(t, adj("OLD_SCRAP"), apperr.KindInvalidArgument, "reason_code") // inactive
		_, err = svc.CountStock(ctx, app.Count{RequestID: rid("c"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Counted: app.Quantity{Value: "9"}, Reason: "NOPE"})
		wantKind(t, err, apperr.KindInvalidArgument, "reason_code")
		// A scrap is an issue with a reason; against an adjustment the reason is required.
		scrap := app.Issue{RequestID: rid("i"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Quantity: app.Quantity{Value: "1"},
			Source: inventory.SourceDoc{Type: inventory.SourceAdjustment, ID: "SCRAP-1"}}
		_, err = svc.IssueStock(ctx, scrap)
		wantKind(t, err, apperr.KindInvalidArgument, "reason_code")
		scrap.Reason = "scrap"
		m, err := svc.IssueStock(ctx, scrap)
		if err != nil || m.ReasonCode != "SCRAP" || m.ReasonCategory != inventory.ReasonScrap || m.Value != -200 {
			t.Fatalf("scrap = %+v, %v", m, err)
		}
		cnt, err := svc.CountStock(ctx, app.Count{RequestID: rid("c"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Counted: app.Quantity{Value: "8"}})
		if err != nil || cnt.ReasonCode != inventory.CountDifferenceCode || cnt.ReasonCategory != inventory.ReasonCountDifference {
			t.Fatalf("count = %+v, %v", cnt, err)
		}
		stored, err := svc.ListMovements(ctx, app.MovementFilter{SKU: "WIDGET"}, page)
		if err != nil || stored[len(stored)-1].ReasonCategory != inventory.ReasonCountDifference {
			t.Fatalf("journal = %+v, %v", stored, err)
		}
	})
}

func TestEffectiveTimeIsKeptBesideTheRecordTime(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		now := testNow(t, svc)
		rcv := app.Receive{RequestID: rid("r"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Source: poSrc,
			Quantity: app.Quantity{Value: "2", UoM: "CS"}, Cost: app.UnitCost{Currency: "USD", Amount: "12.50"}, EffectiveAt: now.Add(time.Hour)}
		_, err := svc.ReceiveStock(ctx, rcv)
		wantKind(t, err, apperr.KindInvalidArgument, "effective_time")
		rcv.EffectiveAt = now.Add(-36 * time.Hour)
		m, err := svc.ReceiveStock(ctx, rcv)
		if err != nil || !m.EffectiveAt.Equal(rcv.EffectiveAt) || m.CreatedAt.Equal(m.EffectiveAt) || m.CostAmount != "12.50" || m.CostUoM != "CS" || m.Value != 2500 {
			t.Fatalf("receipt = %+v, %v", m, err)
		}
		stored, err := svc.ListMovements(ctx, app.MovementFilter{SKU: "WIDGET"}, paging.Page{Limit: 10})
		if err != nil || len(stored) != 1 || !stored[0].EffectiveAt.Equal(rcv.EffectiveAt) || stored[0].CostAmount != "12.50" {
			t.Fatalf("journal = %+v, %v", stored, err)
		}
		iss, err := svc.IssueStock(ctx, app.Issue{RequestID: rid("i"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Quantity: app.Quantity{Value: "1"}, Source: shipSrc})
		if err != nil || !iss.EffectiveAt.Equal(iss.CreatedAt) || iss.CostAmount != "" {
			t.Fatalf("issue without effective time = %+v, %v", iss, err)
		}
	})
}

// testNow is the fixture's clock: the record time of a probe receipt.
func testNow(t *testing.T, svc *app.Service) time.Time {
	t.Helper()
	return receive(t, svc, "AVG", "A2", "1", "", "1", "", "").CreatedAt
}

func TestPickThenShip(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		receive(t, svc, "WIDGET", "A1", "5", "", "1.00", "", "")
		receive(t, svc, "WIDGET", "A2", "5", "", "3.00", "", "")
		_, before := valuation(t, svc, "WIDGET", time.Time{})
		a, err := svc.AllocateStock(ctx, app.Allocate{RequestID: rid("al"), SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: "4"}, Order: soSrc})
		if err != nil || len(a.Lines) != 1 || a.Lines[0].Location != "A1" {
			t.Fatalf("allocation = %+v, %v", a, err)
		}
		// The scanner picks 3 from A2 instead of A1: available there, so the reservation follows.
		pick, err := svc.ConfirmPick(ctx, app.ConfirmPick{RequestID: rid("p"), AllocationID: a.ID, Location: "A2", Quantity: app.Quantity{Value: "3"}, ToLocation: "STG", Source: soSrc})
		if err != nil || pick.Type != inventory.MoveTransfer || pick.Value != 0 || pick.FromLocation != "A2" || pick.ToLocation != "STG" {
			t.Fatalf("pick = %+v, %v", pick, err)
		}
		if _, v := valuation(t, svc, "WIDGET", time.Time{}); v != before {
			t.Fatalf("a pick changed the value: %d, was %d", v, before)
		}
		if oh, al := level(t, svc, "WIDGET", "STG"); oh != "3" || al != "3" {
			t.Fatalf("staging = %s on hand, %s allocated; want 3 reserved", oh, al)
		}
		if _, al := level(t, svc, "WIDGET", "A1"); al != "1" {
			t.Fatalf("A1 allocated = %s, want 1 after re-pointing 3 to A2", al)
		}
		// Not enough available in A2 for another re-point of 3 (2 left, 1 reserved in A1 is ours).
		_, err = svc.ConfirmPick(ctx, app.ConfirmPick{RequestID: rid("p"), AllocationID: a.ID, Location: "A2", Quantity: app.Quantity{Value: "2"}, ToLocation: "STG", Source: soSrc})
		if !errors.Is(err, inventory.ErrPickExceedsAllocation) {
			t.Fatalf("over-pick: %v", err)
		}
		// Ship 2 of the 3 staged at FIFO cost of A2's... layers are per warehouse: FIFO takes the 1.00 layer first.
		ms, err := svc.ConfirmShipment(ctx, app.Ship{RequestID: rid("s"), AllocationID: a.ID, Source: shipSrc,
			Lines: []app.ShipLine{{Location: "STG", Quantity: app.Quantity{Value: "2"}}}})
		if err != nil || len(ms) != 1 || ms[0].Type != inventory.MoveIssue || ms[0].Value != -200 || len(ms[0].Layers) != 1 || ms[0].AllocationID != a.ID {
			t.Fatalf("shipment = %+v, %v", ms, err)
		}
		// The issue names the order it shipped for (the ledger books COGS under it), as stored.
		if got, err := svc.GetMovement(ctx, ms[0].ID); err != nil || ms[0].Order != a.Order.ID || got.Order != a.Order.ID || a.Order.ID == "" {
			t.Fatalf("shipment order = %q, stored %+v, %v; want %q", ms[0].Order, got, err, a.Order.ID)
		}
		if oh, al := level(t, svc, "WIDGET", "STG"); oh != "1" || al != "1" {
			t.Fatalf("staging after shipment = %s/%s, want 1/1", oh, al)
		}
		_, err = svc.ConfirmShipment(ctx, app.Ship{RequestID: rid("s"), AllocationID: a.ID, Source: shipSrc,
			Lines: []app.ShipLine{{Location: "STG", Quantity: app.Quantity{Value: "2"}}}})
		if !errors.Is(err, inventory.ErrShipExceedsPicked) {
			t.Fatalf("over-ship: %v", err)
		}
		// The order is cancelled: the staged 1 goes back to storage at no typed cost, the open 1 is released.
		_, before = valuation(t, svc, "WIDGET", time.Time{})
		rel, err := svc.ReleaseAllocation(ctx, app.Release{RequestID: rid("rel"), AllocationID: a.ID, ReturnLocation: "A1"})
		if err != nil || rel.State != inventory.AllocReleased || rel.Waiting() != 0 || rel.Staged[0].Returned != inventory.Qty(1_000_000) {
			t.Fatalf("release = %+v, %v", rel, err)
		}
		if oh, al := level(t, svc, "WIDGET", "STG"); oh != "0" || al != "0" {
			t.Fatalf("staging after release = %s/%s", oh, al)
		}
		if oh, al := level(t, svc, "WIDGET", "A1"); oh != "6" || al != "0" {
			t.Fatalf("A1 after release = %s/%s, want 6/0", oh, al)
		}
		if _, v := valuation(t, svc, "WIDGET", time.Time{}); v != before {
			t.Fatalf("putting stock back changed the value: %d, was %d", v, before)
		}
		checkStockInvariants(t, db, -1)
	})
}

func TestShortPickReleasesTheRestAndOrdersListTheirAllocations(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		receive(t, svc, "WIDGET", "A1", "20", "", "1.00", "", "")
		order := inventory.SourceDoc{Type: inventory.SourceOutboundOrder, ID: "SO-LIST"}
		var ids []string
		for i := 0; i < 3; i++ {
			a, err := svc.AllocateStock(ctx, app.Allocate{RequestID: rid("al"), SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: "5"},
				Order: inventory.SourceDoc{Type: order.Type, ID: order.ID, Line: string(rune('1' + i))}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.ID)
		}
		if _, err := svc.AllocateStock(ctx, app.Allocate{RequestID: rid("al"), SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: "1"}, Order: soSrc}); err != nil {
			t.Fatal(err)
		}
		page, _ := paging.Parse(2, "", "")
		first, err := svc.ListAllocations(ctx, app.AllocationFilter{Order: order}, page)
		if err != nil || len(first) != 2 || first[0].ID != ids[0] {
			t.Fatalf("first page = %d, %v", len(first), err)
		}
		page.After = first[1].ID
		rest, err := svc.ListAllocations(ctx, app.AllocationFilter{Order: order}, page)
		if err != nil || len(rest) != 1 || rest[0].ID != ids[2] {
			t.Fatalf("second page = %+v, %v", rest, err)
		}
		_, err = svc.ListAllocations(ctx, app.AllocationFilter{}, page)
		wantKind(t, err, apperr.KindInvalidArgument, "order.id")
		// Short pick: 2 of 5 found, the rest released in the same call.
		if _, err := svc.ConfirmPick(ctx, app.ConfirmPick{RequestID: rid("p"), AllocationID: ids[0], Location: "A1", Quantity: app.Quantity{Value: "2"},
			ToLocation: "STG", Source: soSrc, ReleaseRemaining: true}); err != nil {
			t.Fatal(err)
		}
		a, err := svc.GetAllocation(ctx, ids[0])
		if err != nil || a.State != inventory.AllocPicked || a.Open() != 0 || a.Held().String() != "2" {
			t.Fatalf("after short pick = %+v, %v", a, err)
		}
		// Ship the whole order: only what is staged ships.
		ms, err := svc.ConfirmShipment(ctx, app.Ship{RequestID: rid("s"), Order: order, Source: shipSrc})
		if err != nil || len(ms) != 1 || ms[0].BaseQty.String() != "-2" {
			t.Fatalf("order shipment = %+v, %v", ms, err)
		}
		if a, _ := svc.GetAllocation(ctx, ids[0]); a.State != inventory.AllocShipped {
			t.Fatalf("state after shipment = %v", a.State)
		}
		if _, al := level(t, svc, "WIDGET", "A1"); al != "11" {
			t.Fatalf("A1 allocated = %s, want 11 (two open allocations of 5 and one of 1)", al)
		}
		checkStockInvariants(t, db, -1)
	})
}
