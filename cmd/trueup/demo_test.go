package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/cmd/trueup/internal/demo"
)

// TestDemoCommand runs `trueup demo` against a dev stack as a new user
// would after `make run`: a small day, its summary as JSON on stdout and
// progress on stderr, exit status 0 because the books reconcile. Then a
// journal entry typed by hand on Inventory breaks the tie-out, and the
// next day's demo says so and exits 1. Bad flags change nothing.
func TestDemoCommand(t *testing.T) {
	st, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	waitForCatalog(t, conn)
	args := func(extra ...string) []string {
		return append([]string{"--grpc-addr", st.GRPCAddr, "--http-addr", st.HTTPAddr, "--api-key", testKey, "--service-token", testServiceToken,
			"--purchase-orders", "6", "--sales-orders", "15", "--workers", "4"}, extra...)
	}
	var out, progress bytes.Buffer
	if err := demoCommand(ctx, args("--json", "--run-id", "day-1"), &out, &progress); err != nil {
		t.Fatalf("trueup demo: %v\n%s", err, progress.String())
	}
	var s demo.Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	if !s.Reconciled || s.RunID != "day-1" || s.Did.SalesOrders != 15 || s.Did.PurchaseOrders != 6 || len(s.TrialBalance.Rows) == 0 {
		t.Fatalf("summary = %+v", s)
	}
	for _, phase := range []string{"purchase orders...", "sales orders...", "closing the books..."} {
		if !strings.Contains(progress.String(), phase) {
			t.Errorf("progress lacks %q:\n%s", phase, progress.String())
		}
	}

	// A manual entry on Inventory: the next day does not reconcile.
	if _, err := ledgerv1.NewLedgerServiceClient(conn).CreateJournalEntry(ctx, &ledgerv1.CreateJournalEntryRequest{RequestId: "demo-test-manual", JournalEntry: &ledgerv1.JournalEntry{
		Description: "Revaluation typed by hand", Reason: "test: break the tie-out",
		Lines: []*ledgerv1.JournalLine{
			{Account: "accounts/1400", Side: ledgerv1.Side_SIDE_DEBIT, Amount: &typev1.Money{CurrencyCode: "USD", MinorUnits: 500}, Dimensions: &ledgerv1.Dimensions{Warehouse: "MAIN", Item: "WIDGET-100"}},
			{Account: "accounts/5120", Side: ledgerv1.Side_SIDE_CREDIT, Amount: &typev1.Money{CurrencyCode: "USD", MinorUnits: 500}, Dimensions: &ledgerv1.Dimensions{Warehouse: "MAIN", Item: "WIDGET-100"}},
		}}}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err := demoCommand(ctx, args("--run-id", "day-2", "--sales-orders", "3", "--purchase-orders", "3"), &out, &progress)
	if !errors.Is(err, errUnreconciled) || !strings.Contains(out.String(), "NOT RECONCILED") || !strings.Contains(out.String(), "DO NOT agree") {
		t.Fatalf("an unreconciled day: %v\n%s", err, out.String())
	}

	for _, bad := range [][]string{
		{"--sales-orders", "0"},
		{"--workers", "-1"},
		{"extra"},
		{"--api-key", "", "--data-dir", t.TempDir()},
	} {
		out.Reset()
		if err := demoCommand(ctx, append(args("--run-id", "bad"), bad...), &out, &progress); err == nil || out.Len() != 0 {
			t.Errorf("trueup demo %v: %v, output %q; want an error and no day", bad, err, out.String())
		}
	}
}
