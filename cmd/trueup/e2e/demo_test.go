package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"trueup.dev/cmd/trueup/internal/demo"
)

// TestDemoDayReconcilesAndReplaysAsNothing plays a small `trueup demo` day
// on the suite: it ends reconciled, with the discrepancies, short picks,
// backorders, bills and payments it made; the books check out; and playing
// the same day again (the same run id: every request id repeats) changes
// nothing — not one journal entry more.
func TestDemoDayReconcilesAndReplaysAsNothing(t *testing.T) {
	e := start(t, nil)
	ctx := context.Background()
	cfg := demo.Config{Conn: e.conn, GatewayURL: e.base, APIKey: partnerKey, HTTP: http.DefaultClient, RunID: "e2e", Seed: 7,
		PurchaseOrders: 12, SalesOrders: 45, Workers: 4}
	s, err := demo.Play(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := s.Did
	if !s.Reconciled || !s.TrialBalance.Balanced || !s.Reconciliation.Clean {
		t.Fatalf("the day does not reconcile: %+v", s)
	}
	if d.PurchaseOrders != 12 || d.SupplierBills != 12 || d.ShortReceipts != 2 || d.DamagedLines != 2 || d.UnexpectedItems != 1 ||
		d.SalesOrders != 45 || d.ShortPicks == 0 || d.Backorders == 0 || d.BackordersShipped == 0 || d.Invoices != d.Shipments ||
		d.CustomerPayments == 0 || d.Transfers != 1 || d.CountDifferences != 1 || d.PriceVarianceMinor <= 0 {
		t.Errorf("the day did %+v", d)
	}
	if s.OpenDiscrepancies["short"] != 2 || s.OpenDiscrepancies["damaged"] != 2 || s.OpenDiscrepancies["unexpected_item"] != 1 {
		t.Errorf("open discrepancies %v", s.OpenDiscrepancies)
	}
	if len(s.Valuation) != 2 || len(s.OrderToCash) == 0 {
		t.Errorf("valuation %v, order to cash %v", s.Valuation, s.OrderToCash)
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"12 purchase orders received", "45 sales orders", "total: balanced", "CLEAN", "The books and the warehouse agree."} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, text.String())
		}
	}
	books := e.checkBooks(t)

	again, err := demo.Play(ctx, cfg)
	if err != nil {
		t.Fatalf("replaying the day: %v", err)
	}
	if after := e.checkBooks(t); after != books {
		t.Fatalf("replaying the day moved the books: %d entries -> %d\nbefore:\n%s\nafter:\n%s", books.entries, after.entries, books.rows, after.rows)
	}
	if !again.Reconciled {
		t.Fatalf("the replayed day does not reconcile: %+v", again)
	}
}
