package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

// stockFixture sets up a warehouse with bins and a few items.
func stockFixture(t *testing.T, db *sqldb.DB) *app.Service {
	t.Helper()
	return stockFixtureOn(t, newService(t, db))
}

// stockFixtureOn sets the stock fixture up in svc.
func stockFixtureOn(t *testing.T, svc *app.Service) *app.Service {
	t.Helper()
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.CreateWarehouse(ctx, "", inventory.Warehouse{Code: "W1", DisplayName: "Main"}))
	for _, l := range []inventory.Location{
		{Code: "RCV", Type: inventory.LocationReceivingDock},
		{Code: "A1", Type: inventory.LocationStorage},
		{Code: "A2", Type: inventory.LocationStorage},
		{Code: "PF", Type: inventory.LocationPickFace},
		{Code: "QC", Type: inventory.LocationQuarantine},
		{Code: "X", Type: inventory.LocationStorage, Blocked: true},
		{Code: "STG", Type: inventory.LocationStaging},
	} {
		must(svc.CreateLocation(ctx, "", "W1", l))
	}
	must(svc.CreateItem(ctx, "", inventory.Item{SKU: "WIDGET", Description: "Widget", BaseUoM: "EA", WholeUnitsOnly: true,
		Conversions: []inventory.UoMConversion{{UoM: "CS", Factor: "12"}}}))
	must(svc.CreateItem(ctx, "", inventory.Item{SKU: "AVG", Description: "Averaged", BaseUoM: "KG", CostMethod: inventory.CostMovingAverage,
		Conversions: []inventory.UoMConversion{{UoM: "BAG", Factor: "0.25"}}}))
	must(svc.CreateItem(ctx, "", inventory.Item{SKU: "MILK", Description: "Milk", BaseUoM: "EA", WholeUnitsOnly: true,
		Tracking: inventory.TrackingLot, ExpiryRequired: true}))
	return svc
}

// Source documents for tests that do not care which.
var (
	poSrc   = inventory.SourceDoc{Type: inventory.SourcePurchaseOrder, ID: "PO-T", Line: "1"}
	shipSrc = inventory.SourceDoc{Type: inventory.SourceShipment, ID: "SH-T"}
	soSrc   = inventory.SourceDoc{Type: inventory.SourceOutboundOrder, ID: "SO-T", Line: "1"}
)

var reqN atomic.Int64

// rid returns a fresh request id; the dialect subtests run in parallel.
func rid(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, reqN.Add(1))
}

func receive(t *testing.T, svc *app.Service, sku, loc, q, uom, cost, lot, expiry string) *inventory.Movement {
	t.Helper()
	m, err := svc.ReceiveStock(context.Background(), app.Receive{RequestID: rid("rcv"), SKU: sku, Warehouse: "W1", Location: loc,
		Quantity: app.Quantity{Value: q, UoM: uom}, Cost: app.UnitCost{Currency: "USD", Amount: cost}, Lot: lot, ExpiryDate: expiry,
		Source: inventory.SourceDoc{Type: inventory.SourcePurchaseOrder, ID: "PO-1", Line: "1"}})
	if err != nil {
		t.Fatalf("receive %s %s %s: %v", q, uom, sku, err)
	}
	return m
}

func issue(svc *app.Service, sku, loc, q, uom, lot string) (*inventory.Movement, error) {
	return svc.IssueStock(context.Background(), app.Issue{RequestID: rid("iss"), SKU: sku, Warehouse: "W1", Location: loc,
		Quantity: app.Quantity{Value: q, UoM: uom}, Lot: lot, Source: inventory.SourceDoc{Type: inventory.SourceShipment, ID: "SH-1"}})
}

func level(t *testing.T, svc *app.Service, sku, loc string) (onHand, allocated string) {
	t.Helper()
	page, _ := paging.Parse(100, "", "")
	levels, err := svc.ListStock(context.Background(), app.LevelFilter{Warehouse: "W1", SKU: sku, Location: loc, IncludeZero: true}, page)
	if err != nil {
		t.Fatal(err)
	}
	var oh, al inventory.Qty
	for _, l := range levels {
		oh += l.OnHand
		al += l.Allocated
	}
	return oh.String(), al.String()
}

func valuation(t *testing.T, svc *app.Service, sku string, asOf time.Time) (string, int64) {
	t.Helper()
	lines, err := svc.Valuation(context.Background(), app.ValuationQuery{Warehouse: "W1", SKU: sku, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	var q inventory.Qty
	var v int64
	for _, l := range lines {
		q += l.Qty
		v += l.Value
	}
	return q.String(), v
}

func wantKind(t *testing.T, err error, kind apperr.Kind, field string) *apperr.Error {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != kind {
		t.Fatalf("err = %v, want %v", err, kind)
	}
	if field != "" {
		for _, v := range e.Violations {
			if v.Field == field {
				return e
			}
		}
		t.Fatalf("no violation on %s: %+v", field, e.Violations)
	}
	return e
}

func TestReceiveAndIssueFIFO(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		r1 := receive(t, svc, "WIDGET", "A1", "10", "EA", "1.00", "", "")
		if r1.Value != 1000 || r1.BaseQty.String() != "10" || r1.Currency != "USD" {
			t.Fatalf("receipt = %+v", r1)
		}
		r2 := receive(t, svc, "WIDGET", "A1", "1", "CS", "18.00", "", "") // 12 EA at 1.50
		if r2.Value != 1800 || r2.BaseQty.String() != "12" {
			t.Fatalf("receipt in CS = %+v", r2)
		}
		m, err := issue(svc, "WIDGET", "A1", "15", "EA", "")
		if err != nil {
			t.Fatal(err)
		}
		// FIFO: 10 at 1.00 then 5 at 1.50.
		if m.Value != -1750 || len(m.Layers) != 2 || m.Layers[0].Value != 1000 || m.Layers[1].Value != 750 {
			t.Fatalf("issue = %+v", m)
		}
		if oh, _ := level(t, svc, "WIDGET", "A1"); oh != "7" {
			t.Fatalf("on hand = %s, want 7", oh)
		}
		if q, v := valuation(t, svc, "WIDGET", time.Time{}); q != "7" || v != 1050 {
			t.Fatalf("valuation = %s %d, want 7 1050", q, v)
		}
		// The journal reads back with the layers consumed.
		back, err := svc.ListMovements(context.Background(), app.MovementFilter{SKU: "WIDGET"}, mustPage(t))
		if err != nil || len(back) != 3 || len(back[2].Layers) != 2 || back[2].Layers[1].Value != 750 || back[2].Source.ID != "SH-1" {
			t.Fatalf("journal = %+v, %v", back, err)
		}
		// The events carry the exact cost for the ledger.
		var payload []byte
		if err := db.QueryRowContext(context.Background(), `SELECT payload FROM outbox WHERE type = 'trueup.inventory.v1.StockIssued'`).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var ev inventoryv1.StockIssued
		if err := proto.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		mv := ev.GetMovement()
		if mv.GetValue().GetMinorUnits() != -1750 || mv.GetValue().GetCurrencyCode() != "USD" || len(mv.GetLayers()) != 2 ||
			mv.GetBaseQuantity() != "-15" || mv.GetSource().GetId() != "SH-1" || ev.GetAggregateId() != "items/WIDGET" || ev.GetAggregateVersion() != back[2].Seq {
			t.Fatalf("StockIssued = %v", &ev)
		}
	})
}

func TestQuantitiesConvertExactlyOrAreRefused(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		rec := func(q, uom string) error {
			_, err := svc.ReceiveStock(ctx, app.Receive{Source: poSrc, RequestID: rid("r"), SKU: "WIDGET", Warehouse: "W1", Location: "A1",
				Quantity: app.Quantity{Value: q, UoM: uom}, Cost: app.UnitCost{Currency: "USD", Amount: "1"}})
			return err
		}
		wantKind(t, rec("0.1", "CS"), apperr.KindInvalidArgument, "quantity.value") // 1.2 EA of a whole-unit item
		wantKind(t, rec("1", "PLT"), apperr.KindInvalidArgument, "quantity.uom")
		wantKind(t, rec("0", "EA"), apperr.KindInvalidArgument, "quantity.value")
		wantKind(t, rec("1.0000001", "EA"), apperr.KindInvalidArgument, "quantity.value")
		_, err := svc.ReceiveStock(ctx, app.Receive{Source: poSrc, RequestID: rid("r"), SKU: "WIDGET", Warehouse: "W1", Location: "A1",
			Quantity: app.Quantity{Value: "1"}, Cost: app.UnitCost{Currency: "US", Amount: "-1"}})
		e := wantKind(t, err, apperr.KindInvalidArgument, "unit_cost.currency_code")
		if len(e.Violations) != 2 {
			t.Fatalf("want both cost violations, got %+v", e.Violations)
		}
		// A weighed item takes fractions, exactly: 3 BAG = 0.75 KG.
		m, err := svc.ReceiveStock(ctx, app.Receive{Source: poSrc, RequestID: rid("r"), SKU: "AVG", Warehouse: "W1", Location: "A1",
			Quantity: app.Quantity{Value: "3", UoM: "BAG"}, Cost: app.UnitCost{Currency: "USD", Amount: "2.00", UoM: "BAG"}})
		if err != nil || m.BaseQty.String() != "0.75" || m.Value != 600 {
			t.Fatalf("bag receipt = %+v, %v", m, err)
		}
		if oh, _ := level(t, svc, "WIDGET", "A1"); oh != "0" {
			t.Fatalf("refused receipts changed stock: %s", oh)
		}
	})
}

func TestIssueRefusesShortageAndChangesNothing(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		receive(t, svc, "WIDGET", "A1", "5", "EA", "2", "", "")
		before := len(outboxTypes(t, db))
		_, err := issue(svc, "WIDGET", "A1", "1", "CS", "")
		e := wantKind(t, err, apperr.KindFailedPrecondition, "")
		if e.Reason != "INSUFFICIENT_STOCK" || e.Metadata["shortfall"] != "7" || len(e.Violations) != 1 {
			t.Fatalf("shortage error = %#v", e)
		}
		if oh, _ := level(t, svc, "WIDGET", "A1"); oh != "5" {
			t.Fatalf("on hand = %s", oh)
		}
		if after := len(outboxTypes(t, db)); after != before {
			t.Fatalf("a refused issue wrote %d events", after-before)
		}
		if _, err := issue(svc, "WIDGET", "NOPE", "1", "EA", ""); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("unknown location: %v", err)
		}
		if _, err := issue(svc, "NOPE", "A1", "1", "EA", ""); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("unknown item: %v", err)
		}
	})
}

func TestStockCommandsAreIdempotent(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		cmd := app.Receive{Source: poSrc, RequestID: "same", SKU: "WIDGET", Warehouse: "W1", Location: "A1",
			Quantity: app.Quantity{Value: "4"}, Cost: app.UnitCost{Currency: "USD", Amount: "1"}}
		a, err := svc.ReceiveStock(ctx, cmd)
		if err != nil {
			t.Fatal(err)
		}
		b, err := svc.ReceiveStock(ctx, cmd)
		if err != nil || b.ID != a.ID {
			t.Fatalf("retry = %v, %v; want movement %s", b, err, a.ID)
		}
		cmd.Quantity.Value = "5"
		wantKind(t, func() error { _, err := svc.ReceiveStock(ctx, cmd); return err }(), apperr.KindInvalidArgument, "request_id")
		if oh, _ := level(t, svc, "WIDGET", "A1"); oh != "4" {
			t.Fatalf("on hand = %s, want 4", oh)
		}
	})
}

func TestMovingAverageAndResidue(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		receive(t, svc, "AVG", "A1", "10", "KG", "1.00", "", "")
		receive(t, svc, "AVG", "A1", "10", "KG", "2.00", "", "")
		m, err := issue(svc, "AVG", "A1", "5", "KG", "")
		if err != nil || m.Value != -750 {
			t.Fatalf("average issue = %+v, %v", m, err)
		}
		// 3 units for 1.00 in all: issues of one take 33, 34, 33 — never 99 or 101.
		receive(t, svc, "WIDGET", "A2", "3", "EA", "0.333333", "", "") // 3 x 33.3333c = 99.9999c -> 100c
		var sum int64
		for i := 0; i < 3; i++ {
			m, err := issue(svc, "WIDGET", "A2", "1", "EA", "")
			if err != nil {
				t.Fatal(err)
			}
			sum += -m.Value
		}
		if sum != 100 {
			t.Fatalf("issued value = %d, want exactly the 100 received", sum)
		}
		if q, v := valuation(t, svc, "WIDGET", time.Time{}); q != "0" || v != 0 {
			t.Fatalf("empty stock valued %s %d", q, v)
		}
	})
}

func TestMoveAdjustCount(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		receive(t, svc, "WIDGET", "RCV", "24", "EA", "1.00", "", "")
		mv, err := svc.MoveStock(ctx, app.Move{RequestID: rid("m"), SKU: "WIDGET", Warehouse: "W1", From: "RCV", To: "A1", Quantity: app.Quantity{Value: "1", UoM: "CS"}})
		if err != nil || mv.Value != 0 || mv.BaseQty.String() != "12" {
			t.Fatalf("move = %+v, %v", mv, err)
		}
		_, err = svc.MoveStock(ctx, app.Move{RequestID: rid("m"), SKU: "WIDGET", Warehouse: "W1", From: "RCV", To: "X", Quantity: app.Quantity{Value: "1"}})
		if e := wantKind(t, err, apperr.KindFailedPrecondition, ""); e.Reason != "LOCATION_BLOCKED" {
			t.Fatalf("move into blocked: %v", e)
		}
		adj, err := svc.AdjustStock(ctx, app.Adjust{RequestID: rid("a"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Quantity: app.Quantity{Value: "-2"}, Reason: "damaged"})
		if err != nil || adj.Value != -200 || adj.ReasonCode != "DAMAGED" {
			t.Fatalf("adjust down = %+v, %v", adj, err)
		}
		_, err = svc.AdjustStock(ctx, app.Adjust{RequestID: rid("a"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Quantity: app.Quantity{Value: "1"}})
		wantKind(t, err, apperr.KindInvalidArgument, "reason_code")
		up, err := svc.AdjustStock(ctx, app.Adjust{RequestID: rid("a"), SKU: "WIDGET", Warehouse: "W1", Location: "A2", Quantity: app.Quantity{Value: "3"}, Reason: "FOUND"})
		if err != nil || up.Value != 300 {
			t.Fatalf("adjust up at current cost = %+v, %v", up, err)
		}
		cnt, err := svc.CountStock(ctx, app.Count{RequestID: rid("c"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Counted: app.Quantity{Value: "7"}})
		if err != nil || cnt.BaseQty.String() != "-3" || cnt.Value != -300 || cnt.Counted == nil || cnt.Counted.String() != "7" {
			t.Fatalf("count = %+v, %v", cnt, err)
		}
		if oh, _ := level(t, svc, "WIDGET", "A1"); oh != "7" {
			t.Fatalf("A1 = %s, want 7", oh)
		}
		if q, v := valuation(t, svc, "WIDGET", time.Time{}); q != "22" || v != 2200 {
			t.Fatalf("valuation = %s %d, want 22 2200", q, v)
		}
	})
}

func TestLotsAllocationFEFOPickRelease(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		_, err := svc.ReceiveStock(ctx, app.Receive{Source: poSrc, RequestID: rid("r"), SKU: "MILK", Warehouse: "W1", Location: "A1",
			Quantity: app.Quantity{Value: "5"}, Cost: app.UnitCost{Currency: "USD", Amount: "1"}})
		wantKind(t, err, apperr.KindInvalidArgument, "lot")
		receive(t, svc, "MILK", "A1", "5", "", "1.00", "LATE", "2031-06-01")
		receive(t, svc, "MILK", "A2", "5", "", "1.20", "soon", "2030-01-01")
		receive(t, svc, "MILK", "QC", "50", "", "1.00", "HELD", "2029-01-01") // quarantine: never allocated
		receive(t, svc, "MILK", "PF", "50", "", "1.00", "GONE", "2026-01-01") // expired before the test clock's today
		a, err := svc.AllocateStock(ctx, app.Allocate{RequestID: rid("al"), SKU: "MILK", Warehouse: "W1", Quantity: app.Quantity{Value: "7"},
			Order: inventory.SourceDoc{Type: inventory.SourceOutboundOrder, ID: "SO-1", Line: "1"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Lines) != 2 || a.Lines[0].Lot != "SOON" || a.Lines[0].Qty.String() != "5" || a.Lines[1].Lot != "LATE" || a.Lines[1].Qty.String() != "2" {
			t.Fatalf("FEFO lines = %+v", a.Lines)
		}
		if _, al := level(t, svc, "MILK", "A1"); al != "2" {
			t.Fatalf("A1 allocated = %s", al)
		}
		// Allocated stock cannot be issued outside the allocation.
		if _, err := issue(svc, "MILK", "A2", "1", "", "SOON"); !errors.Is(err, apperr.ErrFailedPrecondition) {
			t.Fatalf("issue of allocated stock: %v", err)
		}
		// Too much without allow_partial reserves nothing; with it, reports the shortfall.
		_, err = svc.AllocateStock(ctx, app.Allocate{RequestID: rid("al"), SKU: "MILK", Warehouse: "W1", Quantity: app.Quantity{Value: "4"}, Order: soSrc})
		if e := wantKind(t, err, apperr.KindFailedPrecondition, ""); e.Metadata["shortfall"] != "1" {
			t.Fatalf("shortfall = %v", e.Metadata)
		}
		p, err := svc.AllocateStock(ctx, app.Allocate{RequestID: rid("al"), SKU: "MILK", Warehouse: "W1", Quantity: app.Quantity{Value: "4"}, AllowPartial: true, Order: soSrc})
		if err != nil || p.Shortfall().String() != "1" || p.Reserved().String() != "3" {
			t.Fatalf("partial = %+v, %v", p, err)
		}
		// Pick 5 of SOON to staging (no value), ship them at their cost, then release the rest.
		pick, err := svc.ConfirmPick(ctx, app.ConfirmPick{RequestID: rid("p"), AllocationID: a.ID, Location: "A2", Lot: "SOON", Quantity: app.Quantity{Value: "5"},
			ToLocation: "STG", Source: soSrc})
		if err != nil || pick.Value != 0 || pick.Type != inventory.MoveTransfer || pick.AllocationID != a.ID || pick.ToLocation != "STG" {
			t.Fatalf("pick = %+v, %v", pick, err)
		}
		shipped, err := svc.ConfirmShipment(ctx, app.Ship{RequestID: rid("s"), AllocationID: a.ID, Source: shipSrc})
		if err != nil || len(shipped) != 1 || shipped[0].Value != -600 || shipped[0].FromLocation != "STG" {
			t.Fatalf("shipment = %+v, %v", shipped, err)
		}
		_, err = svc.ConfirmPick(ctx, app.ConfirmPick{RequestID: rid("p"), AllocationID: a.ID, Location: "A1", Lot: "LATE", Quantity: app.Quantity{Value: "3"}, ToLocation: "STG", Source: soSrc})
		wantKind(t, err, apperr.KindFailedPrecondition, "")
		rel, err := svc.ReleaseAllocation(ctx, app.Release{RequestID: rid("rel"), AllocationID: a.ID})
		if err != nil || rel.State != inventory.AllocReleased || rel.Held().String() != "5" || rel.Open() != 0 {
			t.Fatalf("release = %+v, %v", rel, err)
		}
		if _, al := level(t, svc, "MILK", "A1"); al != "3" { // only the partial allocation's 3 remain
			t.Fatalf("A1 allocated after release = %s, want 3", al)
		}
		if _, err := svc.ConfirmPick(ctx, app.ConfirmPick{RequestID: rid("p"), AllocationID: a.ID, Location: "A1", Lot: "LATE", Quantity: app.Quantity{Value: "1"}, ToLocation: "STG", Source: soSrc}); !errors.Is(err, apperr.ErrFailedPrecondition) {
			t.Fatalf("pick after release: %v", err)
		}
	})
}

func TestValuationAsOfThePast(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		r := receive(t, svc, "WIDGET", "A1", "10", "EA", "1.00", "", "")
		if _, err := issue(svc, "WIDGET", "A1", "4", "EA", ""); err != nil {
			t.Fatal(err)
		}
		if q, v := valuation(t, svc, "WIDGET", r.CreatedAt); q != "10" || v != 1000 {
			t.Fatalf("as of the receipt: %s %d", q, v)
		}
		if q, v := valuation(t, svc, "WIDGET", r.CreatedAt.Add(-time.Microsecond)); q != "0" || v != 0 {
			t.Fatalf("before the receipt: %s %d", q, v)
		}
		if q, v := valuation(t, svc, "WIDGET", time.Time{}); q != "6" || v != 600 {
			t.Fatalf("now: %s %d", q, v)
		}
	})
}

// An item that allows negative stock: an issue ahead of its receipt is valued
// at the last known cost; the receipt that covers it books the difference as a
// value-only correction, so the book value still equals the journal.
func TestNegativeStockCosting(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		for _, it := range []inventory.Item{
			{SKU: "NEG-FIFO", Description: "Negative FIFO", BaseUoM: "EA", WholeUnitsOnly: true, AllowNegative: true},
			{SKU: "NEG-AVG", Description: "Negative average", BaseUoM: "EA", WholeUnitsOnly: true, AllowNegative: true, CostMethod: inventory.CostMovingAverage},
		} {
			if _, err := svc.CreateItem(ctx, "", it); err != nil {
				t.Fatal(err)
			}
			// Never received: no cost to value negative stock at.
			if _, err := issue(svc, it.SKU, "A1", "1", "EA", ""); !errors.Is(err, apperr.ErrFailedPrecondition) {
				t.Fatalf("%s: negative issue without any cost: %v", it.SKU, err)
			}
			receive(t, svc, it.SKU, "A1", "2", "EA", "10.00", "", "")
			m, err := issue(svc, it.SKU, "A1", "5", "EA", "") // 2 on hand at 10.00, 3 ahead at 10.00 provisional
			if err != nil || m.Value != -5000 {
				t.Fatalf("%s: negative issue = %+v, %v", it.SKU, m, err)
			}
			if oh, _ := level(t, svc, it.SKU, "A1"); oh != "-3" {
				t.Fatalf("%s: on hand = %s, want -3", it.SKU, oh)
			}
			receive(t, svc, it.SKU, "A1", "4", "EA", "12.00", "", "") // fills 3 (actual 36.00 vs provisional 30.00), 1 left at 12.00
			if q, v := valuation(t, svc, it.SKU, time.Time{}); q != "1" || v != 1200 {
				t.Fatalf("%s: valuation = %s %d, want 1 at 1200", it.SKU, q, v)
			}
			var layerValue int64
			if err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(value_remaining), 0) FROM cost_layers WHERE sku = $1`, it.SKU).Scan(&layerValue); err != nil || layerValue != 1200 {
				t.Fatalf("%s: layers hold %d, want 1200 (%v)", it.SKU, layerValue, err)
			}
			// The true-up is a cost correction of its own, never an adjustment.
			var correction int64
			var corrects string
			if err := db.QueryRowContext(ctx, `SELECT value_minor, corrects FROM movements WHERE sku = $1 AND type = $2`, it.SKU, int(inventory.MoveCostCorrection)).Scan(&correction, &corrects); err != nil || correction != -600 {
				t.Fatalf("%s: correction = %d, %v; want -600", it.SKU, correction, err)
			}
			// A FIFO negative layer is one issue's: the correction names it. A
			// moving-average pool below zero was taken by many and names none.
			if want := map[bool]string{true: m.ID, false: ""}[it.CostMethod != inventory.CostMovingAverage]; corrects != want {
				t.Fatalf("%s: correction corrects %q, want %q", it.SKU, corrects, want)
			}
			var adjusted int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM movements WHERE sku = $1 AND type = $2`, it.SKU, int(inventory.MoveAdjustment)).Scan(&adjusted); err != nil || adjusted != 0 {
				t.Fatalf("%s: %d adjustments, want none (%v)", it.SKU, adjusted, err)
			}
		}
		// An item that does not allow it is refused.
		receive(t, svc, "WIDGET", "A1", "1", "EA", "1", "", "")
		if _, err := issue(svc, "WIDGET", "A1", "2", "EA", ""); !errors.Is(err, apperr.ErrFailedPrecondition) {
			t.Fatalf("negative issue of a normal item: %v", err)
		}
	})
}

// Blocking a bin stops stock coming in but lets what is there go out.
func TestBlockedLocation(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		receive(t, svc, "WIDGET", "A1", "5", "EA", "1", "", "")
		l, err := svc.UpdateLocation(ctx, "blk-1", "w1", "a1", []string{"blocked"}, inventory.Location{Blocked: true})
		if err != nil || !l.Blocked || l.Type != inventory.LocationStorage {
			t.Fatalf("block = %+v, %v", l, err)
		}
		_, err = svc.ReceiveStock(ctx, app.Receive{Source: poSrc, RequestID: rid("r"), SKU: "WIDGET", Warehouse: "W1", Location: "A1",
			Quantity: app.Quantity{Value: "1"}, Cost: app.UnitCost{Currency: "USD", Amount: "1"}})
		if e := wantKind(t, err, apperr.KindFailedPrecondition, ""); e.Reason != "LOCATION_BLOCKED" {
			t.Fatalf("receive into blocked = %v", e)
		}
		if _, err := svc.AllocateStock(ctx, app.Allocate{RequestID: rid("a"), SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: "1"}, Order: soSrc}); !errors.Is(err, apperr.ErrFailedPrecondition) {
			t.Fatalf("allocation from a blocked bin: %v", err)
		}
		if _, err := issue(svc, "WIDGET", "A1", "2", "EA", ""); err != nil {
			t.Fatalf("issue out of a blocked bin: %v", err)
		}
		if _, err := svc.UpdateLocation(ctx, "blk-2", "W1", "A1", []string{"code"}, inventory.Location{Code: "B9"}); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Fatalf("renaming a location: %v", err)
		}
		if _, err := svc.UpdateLocation(ctx, "blk-3", "W1", "A1", []string{"blocked"}, inventory.Location{Blocked: false}); err != nil {
			t.Fatal(err)
		}
		receive(t, svc, "WIDGET", "A1", "1", "EA", "1", "", "")
		n := 0
		for _, typ := range outboxTypes(t, db) {
			if typ == "trueup.inventory.v1.LocationUpdated" {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("%d LocationUpdated events, want 2", n)
		}
	})
}

func mustPage(t *testing.T) paging.Page {
	t.Helper()
	p, err := paging.Parse(100, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Go-live counts: stock found before any receipt needs a cost, and then later
// receipts work as usual. Large quantities work on both databases.
func TestFoundStockAndLargeQuantities(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		_, err := svc.CountStock(ctx, app.Count{RequestID: rid("c"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Counted: app.Quantity{Value: "10"}})
		if e := wantKind(t, err, apperr.KindFailedPrecondition, ""); e.Reason != "NO_COST" {
			t.Fatalf("count without a cost = %v", e)
		}
		m, err := svc.CountStock(ctx, app.Count{RequestID: rid("c"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Counted: app.Quantity{Value: "10"},
			Cost: app.UnitCost{Currency: "USD", Amount: "2.00"}})
		if err != nil || m.Value != 2000 || m.Currency != "USD" || m.Source.Type != inventory.SourceCount {
			t.Fatalf("opening count = %+v, %v", m, err)
		}
		receive(t, svc, "WIDGET", "A1", "200", "CS", "24.00", "", "") // 2400 EA: above 2^31 micro-units
		if _, err := issue(svc, "WIDGET", "A1", "2148", "EA", ""); err != nil {
			t.Fatalf("large issue: %v", err)
		}
		if q, v := valuation(t, svc, "WIDGET", time.Time{}); q != "262" || v != 2000+480000-(10*200+2138*200) {
			t.Fatalf("valuation = %s %d", q, v)
		}
		if _, err := svc.ReceiveStock(ctx, app.Receive{RequestID: rid("r"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Source: poSrc,
			Quantity: app.Quantity{Value: "1000000000"}, Cost: app.UnitCost{Currency: "USD", Amount: "100000000"}}); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Fatalf("a value beyond int64 must be refused: %v", err)
		}
	})
}
