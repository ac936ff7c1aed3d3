package orders

import (
	"errors"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

func shop(limit *int64) *Customer {
	return &Customer{Code: "SHOP", DisplayName: "Shop", CurrencyCode: "EUR", PaymentTermsDays: 30, DefaultTaxRate: "20", CreditLimit: limit}
}

func newSO(t *testing.T, cus *Customer, lines ...SOLineInput) *SalesOrder {
	t.Helper()
	so, err := NewSalesOrder("s1", SOInput{Customer: cus.Code, Lines: lines}, cus, items, "", t0)
	if err != nil {
		t.Fatalf("NewSalesOrder: %v", err)
	}
	return so
}

func TestSalesLineNetAndTaxAreEachRoundedOnceHalfEven(t *testing.T) {
	tests := []struct {
		name, qty, uom, price, rate string
		net, tax                    int64
	}{
		{"cases", "2", "CS", "10.00", "20", 2000, 400},
		{"net half cent to even (down)", "1", "", "0.125", "0", 12, 0},
		{"net half cent to even (up)", "1", "", "0.135", "0", 14, 0},
		{"tax half cent to even (down)", "1", "", "0.25", "10", 25, 2},
		{"tax half cent to even (up)", "1", "", "0.35", "10", 35, 4},
		{"fractional rate", "3", "", "19.99", "8.875", 5997, 532},
		{"customer's default rate", "1", "", "1.00", "", 100, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			so := newSO(t, shop(nil), SOLineInput{Item: "W-1", Quantity: tc.qty, UoM: tc.uom, UnitPrice: tc.price, TaxRate: tc.rate, Warehouse: "WH1"})
			if l := so.Lines[0]; l.Net != tc.net || l.Tax != tc.tax {
				t.Errorf("net %d tax %d, want %d %d", l.Net, l.Tax, tc.net, tc.tax)
			}
		})
	}
	exempt := shop(nil)
	exempt.TaxExempt, exempt.DefaultTaxRate = true, "0"
	if so := newSO(t, exempt, SOLineInput{Item: "W-1", Quantity: "1", UnitPrice: "5", Warehouse: "WH1"}); so.Lines[0].Tax != 0 || so.Lines[0].TaxRate != "0" {
		t.Errorf("tax-exempt customer's line = %+v", so.Lines[0])
	}
}

func TestCreditLimitIsWeighedOnlyInItsCurrency(t *testing.T) {
	limit := int64(1000)
	so := newSO(t, shop(&limit), SOLineInput{Item: "W-1", Quantity: "1", UnitPrice: "5", Warehouse: "WH1"}) // 6.00 with tax
	if err := so.Confirm(shop(&limit), Credit{Exposure: 401}, t0); !errors.Is(err, ErrCreditLimit) {
		t.Fatalf("401 + 600 > 1000: %v", err)
	}
	if so.State != SODraft || so.Version != 1 {
		t.Fatalf("a refused confirmation changed the order: %+v", so)
	}
	if err := so.Confirm(shop(&limit), Credit{Exposure: 400}, t0); err != nil || so.State != SOConfirmed {
		t.Fatalf("400 + 600 = 1000: %v", err)
	}
	usd, err := NewSalesOrder("s2", SOInput{Customer: "SHOP", Currency: "USD", Lines: []SOLineInput{{Item: "W-1", Quantity: "1", UnitPrice: "1", Warehouse: "WH1"}}}, shop(&limit), items, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	var e *apperr.Error
	if err := usd.Confirm(shop(&limit), Credit{}, t0); !errors.As(err, &e) || e.Reason != ReasonCreditCurrency {
		t.Fatalf("USD order against a EUR limit: %v", err)
	}
	if err := usd.Confirm(shop(nil), Credit{}, t0); err != nil {
		t.Fatalf("no limit: %v", err)
	}
}

func TestShipmentAfterCancellationTakesBackTheCancelledPart(t *testing.T) {
	so := newSO(t, shop(nil), SOLineInput{Item: "W-1", Quantity: "10", UnitPrice: "1", Warehouse: "WH1"})
	if err := so.Confirm(shop(nil), Credit{}, t0); err != nil {
		t.Fatal(err)
	}
	if err := so.ApplyShipment([]ShippedQty{{Line: 1, Qty: 4 * qtyOne}}, t0, t0); err != nil || so.State != SOPartiallyShipped {
		t.Fatalf("ship 4: %v %v", err, so.State)
	}
	if _, err := so.Cancel(nil, t0); err != nil || so.State != SOClosed || so.Lines[0].Cancelled != 6*qtyOne {
		t.Fatalf("cancel the backorder: %v %+v", err, so)
	}
	// the warehouse had already picked 2 more; they left: a fact
	if err := so.ApplyShipment([]ShippedQty{{Line: 1, Qty: 2 * qtyOne}}, t0, t0); err != nil {
		t.Fatal(err)
	}
	if l := so.Lines[0]; l.Shipped != 6*qtyOne || l.Cancelled != 4*qtyOne || l.Open() != 0 || so.State != SOClosed {
		t.Fatalf("after a late shipment: %+v %v", l, so.State)
	}
	if err := so.ApplyShipment([]ShippedQty{{Line: 2, Qty: qtyOne}}, t0, t0); !errors.Is(err, ErrUnknownSOLine) {
		t.Fatalf("unknown line: %v", err)
	}
	if err := so.ApplyShipment([]ShippedQty{{Line: 1, Qty: 0}}, t0, t0); err == nil {
		t.Fatal("a zero shipment was applied")
	}
}

func TestReceivablesBands(t *testing.T) {
	due := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		asOf time.Time
		band int
	}{
		{due.Add(-time.Hour), 0},
		{due.Add(23 * time.Hour), 0},
		{due.Add(24 * time.Hour), 1},
		{due.AddDate(0, 0, 30), 1},
		{due.AddDate(0, 0, 31), 2},
		{due.AddDate(0, 0, 60), 2},
		{due.AddDate(0, 0, 61), 3},
		{due.AddDate(0, 0, 90), 3},
		{due.AddDate(0, 0, 91), 4},
		{due.AddDate(2, 0, 0), 4},
	} {
		if got := Band(DaysPastDue(due, tc.asOf)); got != tc.band {
			t.Errorf("%v after due: band %d, want %d", tc.asOf.Sub(due), got, tc.band)
		}
	}
}

func TestCustomerSettingsAreChecked(t *testing.T) {
	neg := int64(-1)
	_, err := NewCustomer(Customer{Code: "C", DisplayName: "C", CurrencyCode: "EUR", PaymentTermsDays: 400, CreditLimit: &neg,
		TaxExempt: true, DefaultTaxRate: "5", TaxID: "0123456789012345678901234567890123"}, t0)
	var e *apperr.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	want := map[string]bool{"customer.payment_terms_days": true, "customer.credit_limit": true,
		"customer.default_tax_rate_percent": true, "customer.tax_id": true}
	for _, v := range e.Violations {
		delete(want, v.Field)
	}
	if len(want) != 0 {
		t.Errorf("violations %+v miss %v", e.Violations, want)
	}
}

func TestTimingsAreNearestRankPercentilesOfDocumentsThatReachedBothStages(t *testing.T) {
	var docs [][]time.Time
	for i := 1; i <= 100; i++ {
		docs = append(docs, []time.Time{t0, t0.Add(time.Duration(i) * time.Minute), {}})
	}
	docs = append(docs, []time.Time{t0, {}, {}})                                // not reached
	docs = append(docs, []time.Time{t0, t0.Add(-time.Hour), t0.Add(time.Hour)}) // out of order: counts as 0
	got := Timings([]string{"A", "B", "C"}, [][2]int{{0, 1}, {1, 2}, {0, 2}}, docs)
	if ab := got[0]; ab.From != "A" || ab.To != "B" || ab.Count != 101 || ab.P50 != 50*time.Minute || ab.P90 != 90*time.Minute ||
		ab.P99 != 99*time.Minute || ab.Max != 100*time.Minute {
		t.Errorf("A->B = %+v", ab)
	}
	if bc := got[1]; bc.Count != 1 || bc.Max != 2*time.Hour {
		t.Errorf("B->C = %+v", bc)
	}
	if ac := got[2]; ac.Count != 1 || ac.P50 != time.Hour {
		t.Errorf("A->C = %+v", ac)
	}
	if none := Timings([]string{"A", "B"}, [][2]int{{0, 1}}, nil); none[0].Count != 0 || none[0].Max != 0 {
		t.Errorf("no documents = %+v", none)
	}
}
