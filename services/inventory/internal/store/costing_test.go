package store_test

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/events"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/store"
)

// Each test here checks one costing rule of issue 7 end to end, through the
// service and both databases; the rules themselves are table-tested in
// internal/inventory/cost_test.go.

func createItems(t *testing.T, svc *app.Service, items ...inventory.Item) {
	t.Helper()
	for _, it := range items {
		if _, err := svc.CreateItem(context.Background(), "", it); err != nil {
			t.Fatal(err)
		}
	}
}

func receiveIn(svc *app.Service, sku, lot, q, currency, cost string) (*inventory.Movement, error) {
	exp := ""
	if lot != "" {
		exp = "2031-01-01"
	}
	return svc.ReceiveStock(context.Background(), app.Receive{RequestID: rid("rcv"), SKU: sku, Warehouse: "W1", Location: "A1",
		Quantity: app.Quantity{Value: q}, Cost: app.UnitCost{Currency: currency, Amount: cost}, Lot: lot, ExpiryDate: exp, Source: poSrc})
}

func adjust(svc *app.Service, sku, lot, q string, cost app.UnitCost) (*inventory.Movement, error) {
	return svc.AdjustStock(context.Background(), app.Adjust{RequestID: rid("adj"), SKU: sku, Warehouse: "W1", Location: "A1",
		Quantity: app.Quantity{Value: q}, Lot: lot, Reason: "FOUND", Cost: cost})
}

func count(svc *app.Service, sku, q string, cost app.UnitCost) (*inventory.Movement, error) {
	return svc.CountStock(context.Background(), app.Count{RequestID: rid("cnt"), SKU: sku, Warehouse: "W1", Location: "A1",
		Counted: app.Quantity{Value: q}, Cost: cost})
}

func valuationLines(t *testing.T, svc *app.Service, sku string, byLot bool) []app.ValuationLine {
	t.Helper()
	lines, err := svc.Valuation(context.Background(), app.ValuationQuery{Warehouse: "W1", SKU: sku, ByLot: byLot})
	if err != nil {
		t.Fatalf("valuation of %s: %v", sku, err)
	}
	return lines
}

// okm and oka fail the test on an error and return the movement or allocation.
func okm(t *testing.T) func(*inventory.Movement, error) *inventory.Movement {
	return func(m *inventory.Movement, err error) *inventory.Movement {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
}

func oka(t *testing.T) func(*inventory.Allocation, error) *inventory.Allocation {
	return func(a *inventory.Allocation, err error) *inventory.Allocation {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
}

// Receive 2 @ 10, issue 5, issue 1 more: the negative layer of the first
// issue is no cost, so the second is still valued at 10.00; stock found later
// is valued at it too; and a count with a cost in another currency is refused
// while the stock is negative, instead of leaving -3 USD and +3 EUR.
func TestNegativeFIFOStockKeepsTheLastReceiptCost(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		createItems(t, svc, inventory.Item{SKU: "NEG", Description: "Negative", BaseUoM: "EA", WholeUnitsOnly: true, AllowNegative: true})
		okm(t)(receiveIn(svc, "NEG", "", "2", "USD", "10.00"))
		if m := okm(t)(issue(svc, "NEG", "A1", "5", "EA", "")); m.Value != -5000 {
			t.Fatalf("first negative issue valued %d, want -5000", m.Value)
		}
		if m := okm(t)(issue(svc, "NEG", "A1", "1", "EA", "")); m.Value != -1000 || m.Currency != "USD" {
			t.Fatalf("second negative issue = %d %s, want -1000 USD", m.Value, m.Currency)
		}
		if m := okm(t)(adjust(svc, "NEG", "", "1", app.UnitCost{})); m.Value != 1000 {
			t.Fatalf("found unit valued %d, want 1000", m.Value)
		}
		_, err := count(svc, "NEG", "1", app.UnitCost{Currency: "EUR", Amount: "10.00"})
		if !errors.Is(err, inventory.ErrCurrencyMismatch) {
			t.Fatalf("a EUR count of USD stock: %v", err)
		}
		if m := okm(t)(count(svc, "NEG", "1", app.UnitCost{})); m.Value != 4000 || m.Currency != "USD" {
			t.Fatalf("count from -3 to 1 = %d %s, want 4000 USD", m.Value, m.Currency)
		}
		lines := valuationLines(t, svc, "NEG", false)
		if len(lines) != 1 || lines[0].Currency != "USD" || lines[0].Qty.String() != "1" || lines[0].Value != 1000 {
			t.Fatalf("valuation = %+v, want 1 unit at 10.00 USD only", lines)
		}
	})
}

// Receive 10 @ 1, issue 10, receive 10 @ 3, issue 10, find 1: it is valued at
// the last average, 3.00, not the lifetime average of the receipts, 2.00.
func TestMovingAverageKeepsTheLastAverageWhenThePoolEmpties(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		okm(t)(receiveIn(svc, "AVG", "", "10", "USD", "1.00"))
		okm(t)(issue(svc, "AVG", "A1", "10", "KG", ""))
		okm(t)(receiveIn(svc, "AVG", "", "10", "USD", "3.00"))
		okm(t)(issue(svc, "AVG", "A1", "10", "KG", ""))
		if m := okm(t)(adjust(svc, "AVG", "", "1", app.UnitCost{})); m.Value != 300 {
			t.Fatalf("1 KG found valued %d, want 300", m.Value)
		}
	})
}

// A layer of 1,000,000 EA worth 10.00: issues of 400 EA take the value
// cumulatively from the layer's original quantity and value, one cent per
// 1,000 EA (0, 1, 0, 1, 0), instead of rounding each issue's share of what
// remains to nothing and leaving it all to the last issue.
func TestLowValueLayerIsIssuedAtItsCumulativeValue(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		okm(t)(receiveIn(svc, "WIDGET", "", "1000000", "USD", "0.00001"))
		var got []int64
		for range 5 {
			got = append(got, -okm(t)(issue(svc, "WIDGET", "A1", "400", "EA", "")).Value)
		}
		if !reflect.DeepEqual(got, []int64{0, 1, 0, 1, 0}) {
			t.Fatalf("five issues of 400 EA took %v cents, want [0 1 0 1 0]", got)
		}
		if q, v := valuation(t, svc, "WIDGET", time.Time{}); q != "998000" || v != 998 {
			t.Fatalf("valuation = %s %d, want 998000 EA at 998", q, v)
		}
		if m := okm(t)(issue(svc, "WIDGET", "A1", "998000", "EA", "")); m.Value != -998 {
			t.Fatalf("the rest took %d, want the residue 998", m.Value)
		}
	})
}

// An issue of lot L1 takes only L1's layers (its negative part is kept in
// L1), a receipt of L1 fills only L1's negative stock, and L2 keeps its cost.
func TestFIFOLotsAreCostedWithinTheLot(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		createItems(t, svc, inventory.Item{SKU: "LOTNEG", Description: "Lots", BaseUoM: "EA", WholeUnitsOnly: true,
			Tracking: inventory.TrackingLot, AllowNegative: true})
		okm(t)(receiveIn(svc, "LOTNEG", "L1", "2", "USD", "1.00"))
		okm(t)(receiveIn(svc, "LOTNEG", "L2", "2", "USD", "3.00"))
		m := okm(t)(issue(svc, "LOTNEG", "A1", "3", "EA", "L1"))
		if len(m.Layers) != 2 || m.Layers[0].Value != 200 || m.Layers[1].Qty.String() != "1" {
			t.Fatalf("issue of 3 of L1 took %+v, want L1's 2 and 1 negative in L1", m.Layers)
		}
		var l2 int64
		if err := db.QueryRowContext(context.Background(), `SELECT qty_remaining FROM cost_layers WHERE sku = 'LOTNEG' AND lot = 'L2'`).Scan(&l2); err != nil || l2 != 2_000_000 {
			t.Fatalf("L2's layer holds %d (%v), want its 2 EA", l2, err)
		}
		okm(t)(receiveIn(svc, "LOTNEG", "L1", "1", "USD", "1.00")) // fills L1's negative unit
		if m := okm(t)(issue(svc, "LOTNEG", "A1", "2", "EA", "L2")); m.Value != -600 {
			t.Fatalf("issue of L2 valued %d, want L2's own 600", m.Value)
		}
		if lines := valuationLines(t, svc, "LOTNEG", true); len(lines) != 0 {
			t.Fatalf("empty lots valued %+v", lines)
		}
	})
}

// By lot, a moving-average item's value is pro-rated by lot quantity: every
// unit costs the pool's average, so an emptied lot shows nothing.
func TestMovingAverageValuationByLotIsProrated(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		createItems(t, svc, inventory.Item{SKU: "AVGLOT", Description: "Averaged lots", BaseUoM: "EA", WholeUnitsOnly: true,
			Tracking: inventory.TrackingLot, CostMethod: inventory.CostMovingAverage})
		okm(t)(receiveIn(svc, "AVGLOT", "L1", "10", "USD", "1.00"))
		okm(t)(receiveIn(svc, "AVGLOT", "L2", "10", "USD", "3.00"))
		okm(t)(receiveIn(svc, "AVGLOT", "L3", "10", "USD", "2.00"))
		if m := okm(t)(issue(svc, "AVGLOT", "A1", "10", "EA", "L1")); m.Value != -2000 {
			t.Fatalf("issue at the average = %d, want -2000", m.Value)
		}
		lines := valuationLines(t, svc, "AVGLOT", true)
		if len(lines) != 2 || lines[0].Lot != "L2" || lines[0].Value != 2000 || lines[1].Lot != "L3" || lines[1].Value != 2000 {
			t.Fatalf("by lot = %+v, want L2 and L3 at 20.00 each and no L1", lines)
		}
	})
}

// Ten receipts of 1e9 EA at 10,000,000.00 each are refused at the first, as
// beyond the limit per movement; receipts up to the book value limit are
// taken and the next refused; GetValuation always answers.
func TestValuesBeyondTheLimitsAreRefusedNeverOverflow(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		createItems(t, svc, inventory.Item{SKU: "BULK", Description: "Bulk", BaseUoM: "EA"})
		_, err := receiveIn(svc, "BULK", "", "1000000000", "USD", "10000000")
		if !errors.Is(err, inventory.ErrMovementTooLarge) || apperr.KindOf(err) != apperr.KindInvalidArgument {
			t.Fatalf("receipt worth 10^18 cents: %v", err)
		}
		for i := range 10 { // 10^14 cents each: the book reaches 10^15
			if _, err := receiveIn(svc, "BULK", "", "1000000000", "USD", "1000"); err != nil {
				t.Fatalf("receipt %d: %v", i+1, err)
			}
		}
		_, err = receiveIn(svc, "BULK", "", "1", "USD", "0.01")
		if !errors.Is(err, inventory.ErrStockLimit) || apperr.KindOf(err) != apperr.KindFailedPrecondition {
			t.Fatalf("receipt beyond the book value limit: %v", err)
		}
		if q, v := valuation(t, svc, "BULK", time.Time{}); q != "10000000000" || v != inventory.MaxBookValue {
			t.Fatalf("valuation = %s %d", q, v)
		}
	})
}

// Currencies are ISO 4217 codes with their own exponents; a typo is refused,
// and a new currency may start once the stock and its layers are at zero.
func TestCurrencyIsISO4217AndChangesOnlyAtZero(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		_, err := receiveIn(svc, "WIDGET", "", "1", "UDS", "1.00")
		wantKind(t, err, apperr.KindInvalidArgument, "unit_cost.currency_code")
		if m := okm(t)(receiveIn(svc, "WIDGET", "", "3", "JPY", "100.5")); m.Value != 302 { // 301.5 yen, half to even
			t.Fatalf("JPY receipt = %d, want 302", m.Value)
		}
		if _, err := receiveIn(svc, "WIDGET", "", "1", "USD", "1.00"); !errors.Is(err, inventory.ErrCurrencyMismatch) {
			t.Fatalf("USD into JPY stock: %v", err)
		}
		okm(t)(issue(svc, "WIDGET", "A1", "3", "EA", ""))
		if m := okm(t)(receiveIn(svc, "WIDGET", "", "2", "KWD", "1.2345")); m.Value != 2469 { // 1234.5 fils each
			t.Fatalf("KWD receipt after the stock emptied = %d, want 2469", m.Value)
		}
		if m := okm(t)(issue(svc, "WIDGET", "A1", "1", "EA", "")); m.Currency != "KWD" || m.Value != -1234 {
			t.Fatalf("issue after the switch = %d %s", m.Value, m.Currency)
		}
		lines := valuationLines(t, svc, "WIDGET", false)
		if len(lines) != 1 || lines[0].Currency != "KWD" || lines[0].Value != 1235 {
			t.Fatalf("valuation = %+v, want only KWD 1.235", lines)
		}
	})
}

// A retry's answer equals the first answer and the journal: times at the
// stored precision (the clock here has nanoseconds), and a count with no
// difference reports the locations the journal holds.
func TestRetriesAnswerExactlyWhatTheFirstCallDid(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		stockFixture(t, db) // schema and master data
		var tick atomic.Int64
		now := func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * 1_000_000_789 * time.Nanosecond) }
		st := store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode)
		svc := app.New(st, now)
		ctx := context.Background()
		twice := func(name string, do func() (*inventory.Movement, error)) *inventory.Movement {
			t.Helper()
			first := okm(t)(do())
			again := okm(t)(do())
			stored := okm(t)(st.GetMovement(ctx, first.ID))
			if !reflect.DeepEqual(first, again) || !reflect.DeepEqual(first, stored) {
				t.Fatalf("%s: first answer\n%+v\nretry\n%+v\njournal\n%+v", name, first, again, stored)
			}
			return first
		}
		rcv := app.Receive{RequestID: rid("r"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Source: poSrc,
			Quantity: app.Quantity{Value: "10"}, Cost: app.UnitCost{Currency: "USD", Amount: "1.25"}}
		twice("receive", func() (*inventory.Movement, error) { return svc.ReceiveStock(ctx, rcv) })
		mv := app.Move{RequestID: rid("m"), SKU: "WIDGET", Warehouse: "W1", From: "A1", To: "A2", Quantity: app.Quantity{Value: "2"}}
		twice("move", func() (*inventory.Movement, error) { return svc.MoveStock(ctx, mv) })
		iss := app.Issue{RequestID: rid("i"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Source: shipSrc, Quantity: app.Quantity{Value: "3"}}
		twice("issue", func() (*inventory.Movement, error) { return svc.IssueStock(ctx, iss) })
		adj := app.Adjust{RequestID: rid("a"), SKU: "WIDGET", Warehouse: "W1", Location: "A2", Quantity: app.Quantity{Value: "1"}, Reason: "FOUND"}
		twice("adjust", func() (*inventory.Movement, error) { return svc.AdjustStock(ctx, adj) })
		same := app.Count{RequestID: rid("c"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Counted: app.Quantity{Value: "5"}}
		if m := twice("zero count", func() (*inventory.Movement, error) { return svc.CountStock(ctx, same) }); m.FromLocation != "A1" || m.ToLocation != "A1" || m.BaseQty != 0 {
			t.Fatalf("zero count = %+v", m)
		}
		up := app.Count{RequestID: rid("c"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Counted: app.Quantity{Value: "6"}}
		twice("count", func() (*inventory.Movement, error) { return svc.CountStock(ctx, up) })
		al := app.Allocate{RequestID: rid("al"), SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: "2"}, Order: inventory.SourceDoc{Type: inventory.SourceOutboundOrder, ID: "SO-1"}}
		a1 := oka(t)(svc.AllocateStock(ctx, al))
		a2 := oka(t)(svc.AllocateStock(ctx, al))
		if !reflect.DeepEqual(a1, a2) || !reflect.DeepEqual(a1, oka(t)(svc.GetAllocation(ctx, a1.ID))) {
			t.Fatalf("allocation retry = %+v, first %+v", a2, a1)
		}
		l := a1.Lines[0]
		pick := app.ConfirmPick{RequestID: rid("p"), AllocationID: a1.ID, Location: l.Location, Lot: l.Lot, Quantity: app.Quantity{Value: "1"}, ToLocation: "STG", Source: soSrc}
		twice("pick", func() (*inventory.Movement, error) { return svc.ConfirmPick(ctx, pick) })
		ship := app.Ship{RequestID: rid("s"), AllocationID: a1.ID, Source: shipSrc}
		s1, err := svc.ConfirmShipment(ctx, ship)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := svc.ConfirmShipment(ctx, ship)
		if err != nil || !reflect.DeepEqual(s1, s2) || !reflect.DeepEqual(s1[0], okm(t)(st.GetMovement(ctx, s1[0].ID))) {
			t.Fatalf("shipment retry = %+v, %v; first %+v", s2, err, s1)
		}
		rel := app.Release{RequestID: rid("rel"), AllocationID: a1.ID}
		r1 := oka(t)(svc.ReleaseAllocation(ctx, rel))
		r2 := oka(t)(svc.ReleaseAllocation(ctx, rel))
		if !reflect.DeepEqual(r1, r2) {
			t.Fatalf("release retry = %+v, first %+v", r2, r1)
		}
	})
}
