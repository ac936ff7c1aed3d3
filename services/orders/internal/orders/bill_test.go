package orders

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

var t1 = t0.Add(time.Hour)

func violationFields(err error) map[string]bool {
	out := map[string]bool{}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		for _, v := range ae.Violations {
			out[v.Field] = true
		}
	}
	return out
}

func itemFactor(sku, uom string) (string, *big.Rat, bool) {
	it := items[sku]
	if it == nil {
		return "", nil, false
	}
	return it.Factor(uom)
}

// receivedPO is a released order of 10 EA of W-1 at 3.00 (30.00), of which
// received EA arrived, booked at value.
func receivedPO(t *testing.T, received Qty, value int64) *PurchaseOrder {
	t.Helper()
	po := newPO(t, "", line("10", "", "3.00"))
	if err := po.Release(t0); err != nil {
		t.Fatal(err)
	}
	if err := po.ApplyReceipt(1, received, t0, t0); err != nil {
		t.Fatal(err)
	}
	if err := po.AddReceivedValue(1, value); err != nil {
		t.Fatal(err)
	}
	return po
}

func billIn(number, priceTol, qtyTol string, lines ...BillLineInput) BillInput {
	return BillInput{Number: number, BillDate: "2026-12-01", PriceTolerancePercent: priceTol, QuantityTolerancePercent: qtyTol, Lines: lines}
}

func TestThreeWayMatch(t *testing.T) {
	tests := []struct {
		name                     string
		received                 Qty
		value                    int64
		qty, uom, price          string
		priceTol, qtyTol         string
		match                    Match
		state                    BillState
		amount, grni, ppv, order int64
	}{
		{"exact", 10 * qtyOne, 3000, "10", "", "3.00", "", "", MatchMatched, BillApproved, 3000, 3000, 0, 3000},
		{"price within tolerance", 10 * qtyOne, 3000, "10", "", "3.05", "2", "", MatchMatched, BillApproved, 3050, 3000, 50, 3000},
		{"price over tolerance", 10 * qtyOne, 3000, "10", "", "3.10", "2", "", MatchPriceVariance, BillOnHold, 3100, 3000, 100, 3000},
		{"price under, beyond zero tolerance", 10 * qtyOne, 3000, "10", "", "2.99", "", "", MatchPriceVariance, BillOnHold, 2990, 3000, -10, 3000},
		{"quantity over received", 8 * qtyOne, 2400, "10", "", "3.00", "", "", MatchQuantityVariance, BillOnHold, 3000, 2400, 600, 3000},
		{"quantity over within tolerance", 10 * qtyOne, 3000, "10.5", "", "3.00", "", "5", MatchMatched, BillApproved, 3150, 3000, 150, 3150},
		{"partial", 10 * qtyOne, 3000, "4", "", "3.00", "", "", MatchPartial, BillApproved, 1200, 1200, 0, 1200},
		{"nothing received", 0, 0, "1", "", "3.00", "", "", MatchQuantityVariance, BillOnHold, 300, 0, 300, 300},
		{"received value differs from order price", 10 * qtyOne, 2990, "10", "", "3.00", "", "", MatchMatched, BillApproved, 3000, 2990, 10, 3000},
		{"billed in another unit, price per that unit", 12 * qtyOne, 3600, "1", "CS", "36.00", "", "", MatchMatched, BillApproved, 3600, 3600, 0, 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			po := receivedPO(t, tt.received, tt.value)
			b, err := NewBill("b1", billIn("INV-1", tt.priceTol, tt.qtyTol, BillLineInput{POLine: 1, Quantity: tt.qty, UoM: tt.uom, Price: tt.price}), po, itemFactor, "", t1)
			if err != nil {
				t.Fatal(err)
			}
			l := b.Lines[0]
			if l.Match != tt.match || b.Match != tt.match || b.State != tt.state {
				t.Errorf("match %s/%s state %s, want %s %s", l.Match, b.Match, b.State, tt.match, tt.state)
			}
			if l.Amount != tt.amount || l.GRNI != tt.grni || l.PPV() != tt.ppv || l.OrderedAmount != tt.order {
				t.Errorf("amount %d grni %d ppv %d ordered %d, want %d %d %d %d", l.Amount, l.GRNI, l.PPV(), l.OrderedAmount, tt.amount, tt.grni, tt.ppv, tt.order)
			}
			if b.Total() != b.NetTotal()+b.Tax || b.PPV() != b.NetTotal()-b.GRNICleared() {
				t.Errorf("totals do not add up")
			}
		})
	}
}

func TestBillingALineInSeveralBillsClearsExactlyItsReceivedValue(t *testing.T) {
	// 3 EA received at 10.00: thirds do not divide evenly.
	po := newPO(t, "", line("3", "", "3.333333"))
	_ = po.Release(t0)
	_ = po.ApplyReceipt(1, 3*qtyOne, t0, t0)
	_ = po.AddReceivedValue(1, 1000)
	var cleared int64
	for i, n := range []string{"1", "1", "1"} {
		b, err := NewBill("b", billIn("INV-"+n+string(rune('a'+i)), "", "", BillLineInput{POLine: 1, Quantity: n, Price: "3.333333"}), po, itemFactor, "", t1)
		if err != nil {
			t.Fatal(err)
		}
		want := MatchPartial
		if i == 2 {
			want = MatchMatched
		}
		if b.Match != want || b.State != BillApproved {
			t.Errorf("bill %d: %s %s, want %s APPROVED", i, b.Match, b.State, want)
		}
		cleared += b.Lines[0].GRNI
	}
	if cleared != 1000 || po.Lines[0].OpenGRNI() != 0 || po.Lines[0].BilledQty != 3*qtyOne {
		t.Errorf("cleared %d open %d billed %s, want 1000 0 3", cleared, po.Lines[0].OpenGRNI(), po.Lines[0].BilledQty)
	}
	// a fourth bill has nothing left to match
	b, err := NewBill("b4", billIn("INV-4", "", "", BillLineInput{POLine: 1, Quantity: "1", Price: "3.333333"}), po, itemFactor, "", t1)
	if err != nil {
		t.Fatal(err)
	}
	if b.Match != MatchQuantityVariance || b.Lines[0].GRNI != 0 {
		t.Errorf("fourth bill %s grni %d, want QUANTITY_VARIANCE 0", b.Match, b.Lines[0].GRNI)
	}
}

func TestTwoBillsOnOneLineNeverBillMoreThanReceived(t *testing.T) {
	po := receivedPO(t, 10*qtyOne, 3000)
	b1, _ := NewBill("b1", billIn("A", "", "", BillLineInput{POLine: 1, Quantity: "6", Price: "3"}), po, itemFactor, "", t1)
	b2, _ := NewBill("b2", billIn("B", "", "", BillLineInput{POLine: 1, Quantity: "6", Price: "3"}), po, itemFactor, "", t1)
	if b1.Match != MatchPartial || b2.Match != MatchQuantityVariance || b2.State != BillOnHold {
		t.Fatalf("b1 %s, b2 %s %s", b1.Match, b2.Match, b2.State)
	}
	// rejecting the second puts its quantity back
	if err := b2.Reject("double billed", po, t1); err != nil {
		t.Fatal(err)
	}
	if po.Lines[0].BilledQty != 6*qtyOne || po.Lines[0].BilledValue != 1800 {
		t.Errorf("billed %s %d, want 6 1800", po.Lines[0].BilledQty, po.Lines[0].BilledValue)
	}
	b3, _ := NewBill("b3", billIn("C", "", "", BillLineInput{POLine: 1, Quantity: "4", Price: "3"}), po, itemFactor, "", t1)
	if b3.Match != MatchMatched || b3.Lines[0].GRNI != 1200 {
		t.Errorf("b3 %s grni %d", b3.Match, b3.Lines[0].GRNI)
	}
}

func TestBillTransitions(t *testing.T) {
	po := receivedPO(t, 10*qtyOne, 3000)
	held, _ := NewBill("b1", billIn("A", "", "", BillLineInput{POLine: 1, Quantity: "10", Price: "4"}), po, itemFactor, "", t1)
	if held.State != BillOnHold {
		t.Fatalf("state %s", held.State)
	}
	if err := held.Accept("", t1); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Errorf("accept without reason: %v", err)
	}
	if err := held.Accept("supplier raised prices", t1); err != nil || held.State != BillApproved || held.ApprovedAt.IsZero() {
		t.Fatalf("accept: %v %s", err, held.State)
	}
	if err := held.Accept("again", t1); !errors.Is(err, ErrBillState) {
		t.Errorf("accept approved: %v", err)
	}
	if err := held.Reject("no", po, t1); !errors.Is(err, ErrBillState) {
		t.Errorf("reject approved: %v", err)
	}
	var ae *apperr.Error
	if err := held.Reject("no", po, t1); !errors.As(err, &ae) || ae.Metadata["state"] != "APPROVED" {
		t.Errorf("refusal metadata: %v", err)
	}
}

func TestBillingAnUnreleasedOrderIsRefused(t *testing.T) {
	for _, cancel := range []bool{false, true} {
		po := newPO(t, "", line("10", "", "3.00"))
		want := "DRAFT"
		if cancel {
			_ = po.Cancel(t0)
			want = "CANCELLED"
		}
		_, err := NewBill("b1", billIn("A", "", "", BillLineInput{POLine: 1, Quantity: "1", Price: "3"}), po, itemFactor, "", t1)
		var ae *apperr.Error
		if !errors.Is(err, ErrPOState) || !errors.As(err, &ae) || ae.Metadata["state"] != want {
			t.Errorf("bill %s order: %v", want, err)
		}
	}
}

func TestInvalidBillReportsEveryField(t *testing.T) {
	po := receivedPO(t, 10*qtyOne, 3000)
	_, err := NewBill("b1", BillInput{TaxMinor: -1, PriceTolerancePercent: "101", Lines: []BillLineInput{
		{POLine: 9, Quantity: "1", Price: "1"}, {POLine: 1, Quantity: "0", UoM: "BOX", Price: "x"}}}, po, itemFactor, "", t1)
	fields := violationFields(err)
	for _, f := range []string{"supplier_bill.bill_number", "supplier_bill.bill_date", "supplier_bill.tax.minor_units",
		"supplier_bill.price_tolerance_percent", "supplier_bill.lines[0].purchase_order_line", "supplier_bill.lines[1].quantity.value",
		"supplier_bill.lines[1].unit_price", "supplier_bill.lines[1].quantity.uom"} {
		if !fields[f] {
			t.Errorf("no violation on %s (got %v)", f, fields)
		}
	}
}

func TestJPYBill(t *testing.T) {
	po, err := NewPurchaseOrder("p1", POInput{Supplier: "ACME", Currency: "JPY", Lines: []POLineInput{line("3", "", "333.5")}}, acme, items, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	_ = po.Release(t0)
	_ = po.ApplyReceipt(1, 3*qtyOne, t0, t0)
	_ = po.AddReceivedValue(1, 1000)
	b, err := NewBill("b1", BillInput{Number: "J-1", BillDate: "2026-12-01", TaxMinor: 100, Lines: []BillLineInput{{POLine: 1, Quantity: "3", Price: "333.5"}}}, po, itemFactor, "", t1)
	if err != nil {
		t.Fatal(err)
	}
	if b.Match != MatchMatched || b.NetTotal() != 1000 || b.GRNICleared() != 1000 || b.Total() != 1100 || b.PPV() != 0 {
		t.Errorf("%s net %d grni %d total %d", b.Match, b.NetTotal(), b.GRNICleared(), b.Total())
	}
}
