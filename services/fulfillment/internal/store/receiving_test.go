package store_test

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/events"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// fakeInventory stands in for the inventory service in these store tests
// (the dev-stack test in cmd/trueup runs receiving against the real one): it
// books each request id once, as inventory does, and remembers the bookings.
type fakeInventory struct {
	mu       sync.Mutex
	bookings map[string]fulfillment.Booking
	calls    int
	fail     error
	moves    []app.Move
	movedBy  map[string]app.Move
	// Outbound: what can be reserved per item (in A-01-02), and what was
	// asked, by request id.
	avail    map[string]qty.Qty
	allocs   map[string]fulfillment.Reserved
	picks    map[string]app.InventoryPick
	releases map[string]string
	shipped  map[string][]fulfillment.ShipmentLine
}

func newFakeInventory() *fakeInventory {
	return &fakeInventory{bookings: map[string]fulfillment.Booking{}, avail: map[string]qty.Qty{},
		allocs: map[string]fulfillment.Reserved{}, picks: map[string]app.InventoryPick{}, releases: map[string]string{},
		shipped: map[string][]fulfillment.ShipmentLine{}}
}

func (f *fakeInventory) ResolveItem(_ context.Context, code, _ string) (fulfillment.ItemFacts, error) {
	facts := map[string]fulfillment.ItemFacts{
		"W-1":   {SKU: "W-1", BaseUoM: "EA", Factors: map[string]*big.Rat{"EA": big.NewRat(1, 1), "CS": big.NewRat(12, 1)}},
		"LOT-1": {SKU: "LOT-1", BaseUoM: "EA", Factors: map[string]*big.Rat{"EA": big.NewRat(1, 1)}, LotTracked: true},
	}
	if code == "0400000000001" { // a case barcode of W-1
		it := facts["W-1"]
		it.ScanUoM = "CS"
		return it, nil
	}
	it, ok := facts[strings.ToUpper(code)]
	if !ok {
		return fulfillment.ItemFacts{}, apperr.NotFound("item with code", code)
	}
	return it, nil
}

func (f *fakeInventory) Location(_ context.Context, warehouse, code string) (app.Location, error) {
	switch code {
	case "RCV-01", "QA-01", "A-01-01", "A-01-02", "PF-01", "STG-01":
		return app.Location{Warehouse: warehouse, Code: code}, nil
	case "BLOCKED":
		return app.Location{Warehouse: warehouse, Code: code, Blocked: true}, nil
	}
	return app.Location{}, apperr.NotFound("location", code)
}

func (f *fakeInventory) Locations(context.Context, string) ([]fulfillment.LocationFacts, error) {
	return []fulfillment.LocationFacts{
		{Code: "RCV-01", Type: fulfillment.LocationDock}, {Code: "QA-01", Type: fulfillment.LocationQuarantine},
		{Code: "A-01-01", Type: fulfillment.LocationStorage}, {Code: "A-01-02", Type: fulfillment.LocationStorage},
		{Code: "PF-01", Type: fulfillment.LocationPickFace}, {Code: "BLOCKED", Type: fulfillment.LocationStorage, Blocked: true},
		{Code: "STG-01", Type: fulfillment.LocationStaging},
	}, nil
}

// StockOf: LOT-1 has its pick face; W-1 is in A-01-02.
func (f *fakeInventory) StockOf(_ context.Context, _, sku string) ([]fulfillment.Holding, error) {
	switch sku {
	case "LOT-1":
		return []fulfillment.Holding{{Location: "PF-01", OnHand: qty.One}}, nil
	case "W-1":
		return []fulfillment.Holding{{Location: "A-01-02", OnHand: qty.One}}, nil
	}
	return nil, nil
}

func (f *fakeInventory) Move(_ context.Context, requestID, _ string, m app.Move) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.moves = append(f.moves, m)
	if f.movedBy == nil {
		f.movedBy = map[string]app.Move{}
	}
	if prev, ok := f.movedBy[requestID]; ok && prev != m {
		return "", apperr.Invalid(apperr.Field("request_id", "already used for a different request"))
	}
	f.movedBy[requestID] = m
	return "mv-" + requestID, nil
}

func (f *fakeInventory) Receive(_ context.Context, requestID, _ string, b fulfillment.Booking) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		return "", f.fail
	}
	if prev, ok := f.bookings[requestID]; ok && prev != b {
		return "", apperr.Invalid(apperr.Field("request_id", "already used for a different request"))
	}
	f.bookings[requestID] = b
	return "mv-" + requestID[len(requestID)-6:], nil
}

func (f *fakeInventory) booked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bookings)
}

// releasePO opens PO7-MAIN: line 1 2 CS (24 EA) of W-1 at 15.00 a case, line
// 2 3 EA of LOT-1 at 4.00, for partner.
func releasePO(t *testing.T, svc *app.Service, partner string) {
	t.Helper()
	m, err := protoevent.Message("rel-po7", &ordersv1.PurchaseOrderReleased{EventId: "rel-po7", OccurredAt: timestamppb.New(t0),
		AggregateId: "purchaseOrders/PO7", AggregateVersion: 2, PurchaseOrder: &ordersv1.PurchaseOrder{
			Name: "purchaseOrders/PO7", Supplier: "suppliers/ACME", Partner: partner, CurrencyCode: "USD", Lines: []*ordersv1.PurchaseOrderLine{
				{LineNumber: 1, Item: "W-1", Quantity: &typev1.Quantity{Value: "2", Uom: "CS"}, BaseQuantity: "24", BaseUom: "EA", Warehouse: "MAIN", UnitPrice: "15.00"},
				{LineNumber: 2, Item: "LOT-1", Quantity: &typev1.Quantity{Value: "3", Uom: "EA"}, BaseQuantity: "3", BaseUom: "EA", Warehouse: "MAIN", UnitPrice: "4.00"},
			}}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	msg := &natsx.Message{EventID: m.ID, Type: m.Type, Subject: m.Subject, Data: m.Payload}
	if errs := events.PurchaseOrdersHandler(svc)(context.Background(), []*natsx.Message{msg}); errs[0] != nil {
		t.Fatal(errs[0])
	}
}

func good(code, q, uom string) fulfillment.Scan {
	return fulfillment.Scan{Code: code, Quantity: q, UoM: uom, Condition: fulfillment.ConditionGood, Location: "RCV-01"}
}

func TestReceivingBooksOnceAndFlagsAtOnce(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, ob := newService(t, db)
		inv := newFakeInventory()
		svc.SetInventory(inv)
		releasePO(t, svc, "")
		before := pending(t, ob)

		// A case barcode, in cases against an order line in cases.
		first, err := svc.RecordReceiptLine(ctx, "scan-1", "PO7-MAIN", good("0400000000001", "1", ""))
		if err != nil {
			t.Fatal(err)
		}
		l := first.Line
		if l.Number != 1 || l.UoM != "CS" || l.BaseQty != 12*qty.One || l.State != fulfillment.LineBooked || l.Movement == "" || l.POLine != 1 || len(first.Discrepancies) != 0 {
			t.Fatalf("line = %+v, flagged %v", l, first.Discrepancies)
		}
		if first.Receipt.State != fulfillment.ReceiptReceiving || first.Receipt.Lines[0].ReceivedQty != 12*qty.One {
			t.Fatalf("receipt = %v, %s", first.Receipt.State, first.Receipt.Lines[0].ReceivedQty)
		}
		// The scanner lost the answer and sends it again: same answer, booked once.
		again, err := svc.RecordReceiptLine(ctx, "scan-1", "PO7-MAIN", good("0400000000001", "1", ""))
		if err != nil || again.Line != l || again.Receipt.Version != first.Receipt.Version || inv.booked() != 1 {
			t.Fatalf("retry = %+v, %v; bookings %d", again, err, inv.booked())
		}
		if _, err := svc.RecordReceiptLine(ctx, "scan-1", "PO7-MAIN", good("W-1", "2", "CS")); apperr.KindOf(err) != apperr.KindInvalidArgument {
			t.Fatalf("the request id for another scan: %v", err)
		}
		if got := pending(t, ob) - before; got != 1 {
			t.Fatalf("%d events after a line and its retry, want 1 (ReceiptLineRecorded)", got)
		}

		// Damaged, then over: each flagged the moment it is scanned.
		dmg := good("W-1", "6", "EA")
		dmg.Condition = fulfillment.ConditionDamaged
		res, err := svc.RecordReceiptLine(ctx, "scan-2", "PO7-MAIN", dmg)
		if err != nil || len(res.Discrepancies) != 1 || res.Discrepancies[0].Kind != fulfillment.DiscrepancyDamaged || res.Line.Location != "QA-01" {
			t.Fatalf("damaged = %+v, %v", res, err)
		}
		res, err = svc.RecordReceiptLine(ctx, "scan-3", "PO7-MAIN", good("W-1", "7", "EA"))
		if err != nil || len(res.Discrepancies) != 1 || res.Discrepancies[0].Kind != fulfillment.DiscrepancyOver || res.Discrepancies[0].Actual != 25*qty.One {
			t.Fatalf("over = %+v, %v", res, err)
		}
		// Lot missing: held, not booked, until accepted with a lot.
		res, err = svc.RecordReceiptLine(ctx, "scan-4", "PO7-MAIN", good("LOT-1", "3", ""))
		if err != nil || res.Line.State != fulfillment.LineHeld || res.Discrepancies[0].Kind != fulfillment.DiscrepancyLotMissing || inv.booked() != 3 {
			t.Fatalf("lot missing = %+v, %v; bookings %d", res, err, inv.booked())
		}
		held := res.Discrepancies[0].Number
		accept := fulfillment.Resolve{Resolution: fulfillment.ResolutionAccept, Note: "lot on the label", Lot: "L-9"}
		d, err := svc.ResolveReceiptDiscrepancy(ctx, "fix-1", "PO7-MAIN", held, accept)
		if err != nil || d.Resolution != fulfillment.ResolutionAccept || d.PurchaseOrder != "PO7" || inv.booked() != 4 {
			t.Fatalf("accept = %+v, %v; bookings %d", d, err, inv.booked())
		}
		if again, err := svc.ResolveReceiptDiscrepancy(ctx, "fix-1", "PO7-MAIN", held, accept); err != nil || *again != *d || inv.booked() != 4 {
			t.Fatalf("retried accept = %+v, %v", again, err)
		}
		if _, err := svc.ResolveReceiptDiscrepancy(ctx, "fix-2", "PO7-MAIN", held, accept); apperr.KindOf(err) != apperr.KindFailedPrecondition {
			t.Fatalf("accepting twice: %v", err)
		}
		er, _ := svc.GetExpectedReceipt(ctx, "PO7-MAIN")
		if er.Received[3].State != fulfillment.LineBooked || er.Received[3].Lot != "L-9" || er.Lines[1].ReceivedQty != 3*qty.One ||
			er.Lines[0].ReceivedQty != 25*qty.One || er.Lines[0].DamagedQty != 6*qty.One {
			t.Fatalf("after: %+v / %+v", er.Received[3], er.Lines)
		}

		// Refusals change nothing.
		for name, c := range map[string]struct {
			scan fulfillment.Scan
			kind apperr.Kind
		}{
			"unknown code":     {good("NOPE", "1", ""), apperr.KindNotFound},
			"blocked location": {fulfillment.Scan{Code: "W-1", Quantity: "1", Condition: fulfillment.ConditionGood, Location: "BLOCKED"}, apperr.KindFailedPrecondition},
			"other warehouse":  {fulfillment.Scan{Code: "W-1", Quantity: "1", Condition: fulfillment.ConditionGood, Location: "warehouses/EAST/locations/RCV-01"}, apperr.KindFailedPrecondition},
			"no quantity":      {good("W-1", "", ""), apperr.KindInvalidArgument},
		} {
			if _, err := svc.RecordReceiptLine(ctx, "bad-"+name, "PO7-MAIN", c.scan); apperr.KindOf(err) != c.kind {
				t.Errorf("%s: %v, want %v", name, err, c.kind)
			}
		}
		inv.fail = apperr.Precondition("ITEM_BLOCKED", "item W-1 is blocked")
		if _, err := svc.RecordReceiptLine(ctx, "scan-blocked", "PO7-MAIN", good("W-1", "1", "")); apperr.KindOf(err) != apperr.KindFailedPrecondition {
			t.Fatalf("inventory's refusal: %v", err)
		}
		inv.fail = nil
		if er2, _ := svc.GetExpectedReceipt(ctx, "PO7-MAIN"); len(er2.Received) != 4 || er2.Version != er.Version {
			t.Fatalf("a refusal changed the receipt: %d lines, version %d", len(er2.Received), er2.Version)
		}

		// Close: nothing short (25 of 24, 3 of 3); the damaged and over stay open.
		closed, short, err := svc.CloseReceipt(ctx, "close-1", "PO7-MAIN")
		if err != nil || closed.State != fulfillment.ReceiptClosed || len(short) != 0 || closed.ClosedAt.IsZero() {
			t.Fatalf("close = %v, %v, %v", closed.State, short, err)
		}
		if again, _, err := svc.CloseReceipt(ctx, "close-1", "PO7-MAIN"); err != nil || again.Version != closed.Version {
			t.Fatalf("retried close = %v", err)
		}
		if _, err := svc.RecordReceiptLine(ctx, "late", "PO7-MAIN", good("W-1", "1", "")); apperr.KindOf(err) != apperr.KindFailedPrecondition {
			t.Fatalf("a scan after close: %v", err)
		}
		yes := true
		open, err := svc.ListReceiptDiscrepancies(ctx, app.DiscrepancyFilter{Receipt: "PO7-MAIN", Open: &yes}, app.DiscrepancyKey{}, 10)
		if err != nil || len(open) != 2 || open[0].Kind != fulfillment.DiscrepancyDamaged || open[1].Kind != fulfillment.DiscrepancyOver || open[0].PurchaseOrder != "PO7" {
			t.Fatalf("open = %+v, %v", open, err)
		}
	})
}

func TestShortAtCloseBlindReceiptsAndListing(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		svc.SetInventory(newFakeInventory())
		releasePO(t, svc, "partner-a")
		pa := caller.NewContext(ctx, caller.Partner("partner-a"))
		pb := caller.NewContext(ctx, caller.Partner("partner-b"))
		if _, err := svc.RecordReceiptLine(pb, "s1", "PO7-MAIN", good("W-1", "1", "CS")); apperr.KindOf(err) != apperr.KindNotFound {
			t.Fatalf("another partner scans: %v", err)
		}
		if _, err := svc.RecordReceiptLine(pa, "s1", "PO7-MAIN", good("W-1", "1", "CS")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.CloseReceipt(pb, "c1", "PO7-MAIN"); apperr.KindOf(err) != apperr.KindNotFound {
			t.Fatalf("another partner closes: %v", err)
		}
		_, short, err := svc.CloseReceipt(pa, "c1", "PO7-MAIN")
		if err != nil || len(short) != 2 || short[0].Kind != fulfillment.DiscrepancyShort || short[0].Actual != 12*qty.One || short[1].POLine != 2 {
			t.Fatalf("short = %+v, %v", short, err)
		}

		b1, err := svc.CreateBlindReceipt(ctx, "blind-1", fulfillment.Blind{Warehouse: "main", Reference: "DN-1"})
		if err != nil || !b1.Blind || len(b1.Discrepancies) != 1 {
			t.Fatalf("blind = %+v, %v", b1, err)
		}
		if again, err := svc.CreateBlindReceipt(ctx, "blind-1", fulfillment.Blind{Warehouse: "main", Reference: "DN-1"}); err != nil || again.ID != b1.ID {
			t.Fatalf("retried blind = %v, %v", again, err)
		}
		b2, err := svc.CreateBlindReceipt(ctx, "blind-2", fulfillment.Blind{Warehouse: "main"})
		if err != nil || b2.ID == b1.ID {
			t.Fatalf("second blind = %v, %v", b2, err)
		}
		s := good("W-1", "2", "")
		s.UnitCost = fulfillment.UnitCost{Amount: "1.25", Currency: "USD", UoM: "EA"}
		res, err := svc.RecordReceiptLine(ctx, "b1-1", b1.ID, s)
		if err != nil || res.Line.State != fulfillment.LineBooked || res.Line.POLine != 0 || len(res.Discrepancies) != 0 {
			t.Fatalf("blind line = %+v, %v", res, err)
		}

		// Everything, a page at a time; a partner sees its own only.
		var all []fulfillment.Discrepancy
		after := app.DiscrepancyKey{}
		for {
			page, err := svc.ListReceiptDiscrepancies(ctx, app.DiscrepancyFilter{Warehouse: "MAIN"}, after, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			after = app.DiscrepancyKey{Receipt: page[0].Receipt, Number: page[0].Number}
		}
		if len(all) != 4 {
			t.Fatalf("%d discrepancies, want 2 SHORT + 2 BLIND_RECEIPT: %+v", len(all), all)
		}
		if mine, _ := svc.ListReceiptDiscrepancies(pa, app.DiscrepancyFilter{}, app.DiscrepancyKey{}, 10); len(mine) != 2 {
			t.Fatalf("partner-a lists %d", len(mine))
		}
		if theirs, _ := svc.ListReceiptDiscrepancies(pb, app.DiscrepancyFilter{}, app.DiscrepancyKey{}, 10); len(theirs) != 0 {
			t.Fatalf("partner-b lists %d", len(theirs))
		}
	})
}

// Scanners on one receipt at once: every line gets its own number, every
// booking is counted once.
func TestConcurrentScansOnOneReceipt(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		svc.SetInventory(newFakeInventory())
		releasePO(t, svc, "")
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = svc.RecordReceiptLine(ctx, fmt.Sprintf("c-%d", i), "PO7-MAIN", good("W-1", "1", "EA"))
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("scan %d: %v", i, err)
			}
		}
		er, err := svc.GetExpectedReceipt(ctx, "PO7-MAIN")
		if err != nil || len(er.Received) != n || er.Lines[0].ReceivedQty != n*qty.One || er.Version != 1+n {
			t.Fatalf("receipt: %d lines, %s received, version %d, %v", len(er.Received), er.Lines[0].ReceivedQty, er.Version, err)
		}
	})
}

func (f *fakeInventory) Allocate(_ context.Context, requestID string, a app.Allocate) (fulfillment.Reserved, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.allocs[requestID]; ok {
		return r, nil
	}
	got := min(a.Qty, f.avail[a.SKU])
	f.avail[a.SKU] -= got
	r := fulfillment.Reserved{Allocation: fmt.Sprintf("AL-%d", len(f.allocs)+1), Allocated: got, Shortfall: a.Qty - got}
	if got > 0 {
		r.Lines = []fulfillment.ReservedLine{{Location: "A-01-02", Qty: got}}
	}
	f.allocs[requestID] = r
	return r, nil
}

func (f *fakeInventory) ConfirmPick(_ context.Context, requestID string, p app.InventoryPick) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if prev, ok := f.picks[requestID]; ok && prev != p {
		return apperr.Invalid(apperr.Field("request_id", "already used for a different request"))
	}
	f.picks[requestID] = p
	return nil
}

func (f *fakeInventory) ReleaseAllocation(_ context.Context, requestID, allocation string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releases[requestID] = allocation
	return nil
}

// ConfirmShipment costs every base unit at 1.50 USD.
func (f *fakeInventory) ConfirmShipment(_ context.Context, requestID, _, _, _ string, lines []fulfillment.ShipmentLine) ([]fulfillment.ShipmentLine, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if out, ok := f.shipped[requestID]; ok {
		return out, nil
	}
	var out []fulfillment.ShipmentLine
	for i, l := range lines {
		out = append(out, fulfillment.ShipmentLine{CostMinor: int64(l.Qty) * 150 / int64(qty.One), CostCurrency: "USD", Movement: fmt.Sprintf("%s-%d", requestID, i)})
	}
	f.shipped[requestID] = out
	return out, nil
}
