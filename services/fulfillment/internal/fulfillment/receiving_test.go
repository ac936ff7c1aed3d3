package fulfillment

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/qty"
)

var rt0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

const today = "2026-12-03"

// receipt expects, of PO1 at MAIN: line 1 2 CS (24 EA) of W-1 at 15.00 a
// case, no tolerance; line 2 10 EA of G-1 at 1.00 with 10 % tolerance;
// line 3 5 EA of LOT-1 at 4.00.
func receipt() *ExpectedReceipt {
	return &ExpectedReceipt{ID: "PO1-MAIN", PurchaseOrder: "PO1", Supplier: "ACME", Warehouse: "MAIN", Currency: "USD",
		State: ReceiptOpen, Version: 1, CreatedAt: rt0, Lines: []ExpectedLine{
			{POLine: 1, SKU: "W-1", Quantity: "2", UoM: "CS", BaseQty: "24", BaseUoM: "EA", UnitPrice: "15.00"},
			{POLine: 2, SKU: "G-1", Quantity: "10", UoM: "EA", BaseQty: "10", BaseUoM: "EA", UnitPrice: "1.00", TolerancePct: "10"},
			{POLine: 3, SKU: "LOT-1", Quantity: "5", UoM: "EA", BaseQty: "5", BaseUoM: "EA", UnitPrice: "4.00"},
		}}
}

func item(sku string) ItemFacts {
	it := ItemFacts{SKU: sku, BaseUoM: "EA", Factors: map[string]*big.Rat{"EA": big.NewRat(1, 1), "CS": big.NewRat(12, 1)}}
	if sku == "LOT-1" {
		it.LotTracked, it.ExpiryRequired = true, true
	}
	return it
}

var places = Places{Quarantine: "QA-01"}

func scan(code, q, uom string) Scan {
	return Scan{Code: code, Quantity: q, UoM: uom, Condition: ConditionGood, Location: "RCV-01", By: "internal"}
}

// record plans and applies a scan as the app does, booking it as "m{n}".
func record(t *testing.T, r *ExpectedReceipt, s Scan, it ItemFacts) (*LinePlan, []Discrepancy) {
	t.Helper()
	if err := s.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	p, err := r.PlanLine(s, it, places, today, rt0)
	if err != nil {
		t.Fatalf("PlanLine: %v", err)
	}
	m := ""
	if p.Booking != nil {
		m = "m" + p.Line.Code
	}
	return p, r.Record(p, m, rt0)
}

func kinds(ds []Discrepancy) []DiscrepancyKind {
	var out []DiscrepancyKind
	for _, d := range ds {
		out = append(out, d.Kind)
	}
	return out
}

func sameKinds(got []Discrepancy, want ...DiscrepancyKind) bool {
	k := kinds(got)
	if len(k) != len(want) {
		return false
	}
	for i := range k {
		if k[i] != want[i] {
			return false
		}
	}
	return true
}

func TestExactReceiptFlagsNothingAndClosesClean(t *testing.T) {
	r := receipt()
	p, flagged := record(t, r, scan("W-1", "2", "CS"), item("W-1"))
	if len(flagged) != 0 || p.Booking == nil {
		t.Fatalf("flagged %v, booking %v", kinds(flagged), p.Booking)
	}
	b := p.Booking
	if b.PurchaseOrder != "PO1" || b.POLine != 1 || b.Location != "RCV-01" || b.Quantity != "2" || b.UoM != "CS" ||
		b.Cost != (UnitCost{Amount: "15.00", Currency: "USD", UoM: "CS"}) {
		t.Fatalf("booking = %+v", b)
	}
	if r.State != ReceiptReceiving || r.Lines[0].ReceivedQty != 24*qty.One || r.Version != 2 {
		t.Fatalf("receipt = %v, received %s, version %d", r.State, r.Lines[0].ReceivedQty, r.Version)
	}
	record(t, r, scan("G-1", "10", ""), item("G-1"))
	lot := scan("LOT-1", "5", "")
	lot.Lot, lot.Expiry = "l1", "2027-06-01"
	record(t, r, lot, item("LOT-1"))
	short, err := r.Close("internal", rt0)
	if err != nil || len(short) != 0 || r.State != ReceiptClosed {
		t.Fatalf("close: %v, %v, %v", kinds(short), err, r.State)
	}
	tot := r.Totals()
	if tot.Lines != 3 || tot.OpenDiscrepancies != 0 || len(tot.Items) != 3 || tot.Items[2].SKU != "W-1" || tot.Items[2].Received != 24*qty.One {
		t.Fatalf("totals = %+v", tot)
	}
	if _, err := r.PlanLine(scan("W-1", "1", ""), item("W-1"), places, today, rt0); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Fatalf("a scan into a closed receipt: %v", err)
	}
	if _, err := r.Close("internal", rt0); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Fatalf("closing twice: %v", err)
	}
}

func TestCasesAgainstAnOrderInEaches(t *testing.T) {
	r := receipt()
	// G-1 was ordered in eaches; one case is 12, within 10 % of 10? No: 11 is the limit.
	_, flagged := record(t, r, scan("G-1", "1", "CS"), item("G-1"))
	if !sameKinds(flagged, DiscrepancyOver) || flagged[0].Expected != 11*qty.One || flagged[0].Actual != 12*qty.One {
		t.Fatalf("flagged = %+v", flagged)
	}
	// A case barcode implies its unit.
	it := item("W-1")
	it.ScanUoM = "CS"
	p, flagged := record(t, r, scan("0123456789012", "2", ""), it)
	if len(flagged) != 0 || p.Line.UoM != "CS" || p.Line.BaseQty != 24*qty.One || p.Line.Code != "0123456789012" {
		t.Fatalf("case barcode: %+v, %v", p.Line, kinds(flagged))
	}
}

func TestShortAndOverWithinAndBeyondTolerance(t *testing.T) {
	r := receipt()
	if _, f := record(t, r, scan("G-1", "11", ""), item("G-1")); len(f) != 0 {
		t.Fatalf("11 of 10 at 10 %% tolerance flagged %v", kinds(f))
	}
	_, f := record(t, r, scan("G-1", "0.5", ""), item("G-1"))
	if !sameKinds(f, DiscrepancyOver) || f[0].Actual.String() != "11.5" || f[0].POLine != 2 {
		t.Fatalf("beyond tolerance: %+v", f)
	}
	// Beyond, every further scan flags again, with the running total.
	if _, f := record(t, r, scan("G-1", "1", ""), item("G-1")); !sameKinds(f, DiscrepancyOver) || f[0].Actual.String() != "12.5" {
		t.Fatalf("the next scan: %+v", f)
	}
	// No tolerance on W-1: one more each than ordered is over.
	record(t, r, scan("W-1", "1", "CS"), item("W-1"))
	short, err := r.Close("internal", rt0)
	if err != nil || !sameKinds(short, DiscrepancyShort, DiscrepancyShort) {
		t.Fatalf("close flagged %v, %v", kinds(short), err)
	}
	if short[0].POLine != 1 || short[0].Expected != 24*qty.One || short[0].Actual != 12*qty.One || short[1].POLine != 3 || short[1].Actual != 0 {
		t.Fatalf("short = %+v", short)
	}
	if n := r.Totals().OpenDiscrepancies; n != 4 {
		t.Fatalf("open = %d", n)
	}
}

func TestDamagedGoodsGoToQuarantine(t *testing.T) {
	r := receipt()
	s := scan("W-1", "1", "CS")
	s.Condition = ConditionDamaged
	p, f := record(t, r, s, item("W-1"))
	if !sameKinds(f, DiscrepancyDamaged) || p.Booking == nil || p.Booking.Location != "QA-01" || p.Booking.PurchaseOrder != "PO1" {
		t.Fatalf("damaged: %v, %+v", kinds(f), p.Booking)
	}
	if r.Lines[0].ReceivedQty != 12*qty.One || r.Lines[0].DamagedQty != 12*qty.One || r.Totals().Items[2].Damaged != 12*qty.One {
		t.Fatalf("line = %+v", r.Lines[0])
	}
	// A warehouse with no quarantine refuses damaged goods.
	if _, err := receipt().PlanLine(s, item("W-1"), Places{}, today, rt0); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Fatalf("no quarantine: %v", err)
	}
}

func TestUnexpectedItemIsADiscrepancyNotAnError(t *testing.T) {
	r := receipt()
	// Without a cost it is held until someone accepts it with one.
	p, f := record(t, r, scan("X-9", "3", ""), item("X-9"))
	if !sameKinds(f, DiscrepancyUnexpectedItem) || p.Booking != nil || p.Line.State != LineHeld || p.Line.POLine != 0 {
		t.Fatalf("unexpected: %v, %+v", kinds(f), p.Line)
	}
	d := f[0]
	if !r.Discrepancies[d.Number-1].Holds(r) {
		t.Fatal("the discrepancy does not hold its line")
	}
	it := item("X-9")
	if _, err := r.PlanResolve(d.Number, Resolve{Resolution: ResolutionAccept, Note: "keep"}, &it, places); apperr.KindOf(err) != apperr.KindInvalidArgument {
		t.Fatalf("accepting without a cost: %v", err)
	}
	in := Resolve{Resolution: ResolutionAccept, Note: "keep them", UnitCost: UnitCost{Amount: "2", Currency: "usd"}, By: "buyer"}
	rp, err := r.PlanResolve(d.Number, in, &it, places)
	if err != nil || rp.Booking == nil || rp.Booking.Location != "QA-01" || rp.Booking.Receipt != "PO1-MAIN" || rp.Booking.ReceiptLine != 1 || rp.Booking.Cost.Currency != "USD" {
		t.Fatalf("plan = %+v, %v", rp, err)
	}
	settled, flagged := r.Resolve(rp, in, "m9", rt0)
	if len(settled) != 1 || settled[0].Resolution != ResolutionAccept || len(flagged) != 0 || r.Received[0].State != LineBooked || r.Received[0].Movement != "m9" {
		t.Fatalf("resolved %+v, line %+v", settled, r.Received[0])
	}
	if _, err := r.PlanResolve(d.Number, in, &it, places); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Fatalf("resolving twice: %v", err)
	}
	// With a cost in the scan it is booked into quarantine at once.
	s := scan("X-9", "1", "")
	s.UnitCost = UnitCost{Amount: "2.00", Currency: "USD"}
	p, f = record(t, r, s, it)
	if !sameKinds(f, DiscrepancyUnexpectedItem) || p.Booking == nil || p.Booking.Location != "QA-01" {
		t.Fatalf("with cost: %v, %+v", kinds(f), p.Booking)
	}
}

func TestLotMissingHoldsTheLineUntilAcceptedWithALot(t *testing.T) {
	r := receipt()
	p, f := record(t, r, scan("LOT-1", "5", ""), item("LOT-1"))
	if !sameKinds(f, DiscrepancyLotMissing) || p.Booking != nil || r.Lines[2].ReceivedQty != 0 {
		t.Fatalf("lot missing: %v, %+v", kinds(f), p.Booking)
	}
	it := item("LOT-1")
	in := Resolve{Resolution: ResolutionAccept, Note: "lot read off the pallet label", Lot: "l7"}
	var ae *apperr.Error
	if _, err := r.PlanResolve(f[0].Number, in, &it, places); !errors.As(err, &ae) || len(ae.Violations) != 1 || ae.Violations[0].Field != "expiry_date" {
		t.Fatalf("without the expiry: %v", err)
	}
	in.Expiry = "2027-01-31"
	rp, err := r.PlanResolve(f[0].Number, in, &it, places)
	if err != nil || rp.Booking.Lot != "L7" || rp.Booking.Location != "RCV-01" || rp.Booking.PurchaseOrder != "PO1" || rp.Booking.POLine != 3 {
		t.Fatalf("plan = %+v, %v", rp.Booking, err)
	}
	r.Resolve(rp, in, "m1", rt0)
	if r.Lines[2].ReceivedQty != 5*qty.One || r.Received[0].Lot != "L7" {
		t.Fatalf("after accept: %+v", r.Lines[2])
	}
	// Rejecting a held line books nothing.
	_, f = record(t, r, scan("LOT-1", "1", ""), it)
	rp, err = r.PlanResolve(f[0].Number, Resolve{Resolution: ResolutionReject, Note: "no label, sent back"}, &it, places)
	if err != nil || rp.Booking != nil {
		t.Fatalf("reject plan = %+v, %v", rp, err)
	}
	r.Resolve(rp, Resolve{Resolution: ResolutionReject, Note: "no label, sent back"}, "", rt0)
	if r.Received[1].State != LineRejected || r.Lines[2].ReceivedQty != 5*qty.One {
		t.Fatalf("after reject: %+v", r.Received[1])
	}
}

func TestExpiredLotAndUnknownUnit(t *testing.T) {
	r := receipt()
	s := scan("LOT-1", "5", "")
	s.Lot, s.Expiry = "old", "2026-11-30"
	p, f := record(t, r, s, item("LOT-1"))
	if !sameKinds(f, DiscrepancyLotExpired) || p.Booking == nil || p.Booking.Location != "QA-01" {
		t.Fatalf("expired: %v, %+v", kinds(f), p.Booking)
	}
	p, f = record(t, r, scan("W-1", "1", "PL"), item("W-1"))
	if !sameKinds(f, DiscrepancyUoMNotConvertible) || p.Booking != nil || p.Line.State != LineHeld {
		t.Fatalf("unknown unit: %v, %+v", kinds(f), p.Line)
	}
	it := item("W-1")
	in := Resolve{Resolution: ResolutionAccept, Note: "it was 3 cases", Quantity: "3", UoM: "CS"}
	rp, err := r.PlanResolve(f[0].Number, in, &it, places)
	if err != nil {
		t.Fatal(err)
	}
	// 36 EA against 24 ordered: the acceptance flags the over-receipt.
	settled, flagged := r.Resolve(rp, in, "m2", rt0)
	if len(settled) != 1 || !sameKinds(flagged, DiscrepancyOver) || flagged[0].Actual != 36*qty.One || r.Lines[0].ReceivedQty != 36*qty.One {
		t.Fatalf("settled %v flagged %+v", kinds(settled), flagged)
	}
}

func TestBlindReceipt(t *testing.T) {
	r, err := NewBlindReceipt("BLIND-MAIN-1", Blind{Warehouse: "main", Reference: "DN 4711"}, "", rt0)
	if err != nil || !r.Blind || r.Warehouse != "MAIN" || !sameKinds(r.Discrepancies, DiscrepancyBlind) {
		t.Fatalf("blind = %+v, %v", r, err)
	}
	p, f := record(t, r, scan("W-1", "4", ""), item("W-1"))
	if !sameKinds(f, DiscrepancyNoCost) || p.Line.State != LineHeld {
		t.Fatalf("no cost: %v", kinds(f))
	}
	s := scan("W-1", "4", "")
	s.UnitCost = UnitCost{Amount: "1.25", Currency: "USD", UoM: "EA"}
	p, f = record(t, r, s, item("W-1"))
	if len(f) != 0 || p.Booking == nil || p.Booking.Location != "RCV-01" || p.Booking.Receipt != "BLIND-MAIN-1" || p.Booking.ReceiptLine != 2 {
		t.Fatalf("with cost: %v, %+v", kinds(f), p.Booking)
	}
	if _, err := NewBlindReceipt("x", Blind{}, "", rt0); apperr.KindOf(err) != apperr.KindInvalidArgument {
		t.Fatalf("no warehouse: %v", err)
	}
}

func TestScanChecks(t *testing.T) {
	for name, s := range map[string]Scan{
		"no item":      {Quantity: "1", Condition: ConditionGood, Location: "R"},
		"zero":         {Code: "W", Quantity: "0", Condition: ConditionGood, Location: "R"},
		"float":        {Code: "W", Quantity: "1e3", Condition: ConditionGood, Location: "R"},
		"no location":  {Code: "W", Quantity: "1", Condition: ConditionGood},
		"no condition": {Code: "W", Quantity: "1", Location: "R"},
		"bad expiry":   {Code: "W", Quantity: "1", Condition: ConditionGood, Location: "R", Expiry: "31/01/2027"},
		"cost, no ccy": {Code: "W", Quantity: "1", Condition: ConditionGood, Location: "R", UnitCost: UnitCost{Amount: "1"}},
	} {
		if err := s.Check(); apperr.KindOf(err) != apperr.KindInvalidArgument {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A lot for an item that takes none is refused.
	s := scan("W-1", "1", "")
	s.Lot = "L1"
	if _, err := receipt().PlanLine(s, item("W-1"), places, today, rt0); apperr.KindOf(err) != apperr.KindInvalidArgument {
		t.Fatalf("lot on an untracked item: %v", err)
	}
}
