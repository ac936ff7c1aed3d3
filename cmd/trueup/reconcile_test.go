package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
)

// TestReconciliationExactWhileStockMoves: four scanners receive and issue
// stock as fast as they can while the ledger reconciles over and over; every
// run is exact, the movements the ledger has not posted yet being in flight,
// never a difference. Then `trueup reconcile` prints the table (and JSON)
// and exits cleanly.
func TestReconciliationExactWhileStockMoves(t *testing.T) {
	st, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	inv := inventoryv1.NewInventoryServiceClient(conn)
	rec := ledgerv1.NewReconciliationServiceClient(conn)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var moves atomic.Int64
	var failed atomic.Value
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("rec-%d-%d", w, i)
				src := &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: "PO-" + id, Line: "1"}
				_, err := inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: id, Item: "items/WIDGET-100",
					Location: "warehouses/MAIN/locations/A-01-01", Quantity: &typev1.Quantity{Value: "2", Uom: "EA"},
					UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "1.37"}, Source: src})
				if err == nil && i%2 == 1 {
					_, err = inv.IssueStock(ctx, &inventoryv1.IssueStockRequest{RequestId: id + "-i", Item: "items/WIDGET-100",
						Location: "warehouses/MAIN/locations/A-01-01", Quantity: &typev1.Quantity{Value: "3", Uom: "EA"},
						Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_SHIPMENT, Id: "SH-" + id, Line: "1"}})
				}
				if err != nil {
					failed.Store(err)
					return
				}
				moves.Add(1)
			}
		})
	}
	runs, inFlight := 0, 0
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		r, err := rec.Reconcile(ctx, &ledgerv1.ReconcileRequest{})
		if err != nil {
			t.Fatal(err)
		}
		runs++
		if len(r.GetPendingMovements()) > 0 {
			inFlight++
		}
		if !r.GetClean() {
			t.Fatalf("run %d (after %d stock commands) is not clean while stock moves: %v", runs, moves.Load(), r)
		}
	}
	close(stop)
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d reconciliations, %d of them with movements in flight, beside %d stock commands", runs, inFlight, moves.Load())
	if moves.Load() < 20 || runs < 5 {
		t.Fatalf("only %d stock commands and %d runs: the test proved nothing", moves.Load(), runs)
	}

	// The command line: a table, then JSON; both clean once the ledger caught up.
	var out bytes.Buffer
	var err error
	for range 100 {
		out.Reset()
		if err = reconcileCommand(ctx, stackTarget(st), false, &out); err == nil && !strings.Contains(out.String(), "in flight") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || !strings.Contains(out.String(), "the books agree with the warehouse") || !strings.Contains(out.String(), "WIDGET-100") {
		t.Fatalf("trueup reconcile = %v\n%s", err, out.String())
	}
	out.Reset()
	if err := reconcileCommand(ctx, stackTarget(st), true, &out); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Clean bool `json:"clean"`
		Rows  []struct {
			Item string `json:"item"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || !doc.Clean || len(doc.Rows) == 0 {
		t.Fatalf("trueup reconcile --json = %v\n%s", err, out.String())
	}
	// A difference makes the command fail, so it can gate a close.
	led := ledgerv1.NewLedgerServiceClient(conn)
	if _, err := led.CreateJournalEntry(ctx, &ledgerv1.CreateJournalEntryRequest{RequestId: "rec-manual", JournalEntry: &ledgerv1.JournalEntry{
		Reason: "test", Lines: []*ledgerv1.JournalLine{
			{Account: "accounts/1400", Side: ledgerv1.Side_SIDE_CREDIT, Amount: &typev1.Money{CurrencyCode: "USD", MinorUnits: 5}, Dimensions: &ledgerv1.Dimensions{Warehouse: "MAIN", Item: "COFFEE-BEANS"}},
			{Account: "accounts/5100", Side: ledgerv1.Side_SIDE_DEBIT, Amount: &typev1.Money{CurrencyCode: "USD", MinorUnits: 5}},
		}}}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := reconcileCommand(ctx, stackTarget(st), false, &out); !errors.Is(err, errUnreconciled) || !strings.Contains(out.String(), "1 rows differ") {
		t.Fatalf("trueup reconcile after a difference = %v\n%s", err, out.String())
	}

	// GRNI ageing: the receipts made through inventory, none billed, are
	// open in full under their purchase orders, today.
	out.Reset()
	if err := grniCommand(ctx, stackTarget(st), ageingOptions{Warehouse: "MAIN"}, false, &out); err != nil ||
		!regexpMatch(`PO-rec-0-0\s+WIDGET-100\s+MAIN\s+USD 2\.74\s+USD 0\.00\s+USD 2\.74\s+\S+\s+0\s+0-30`, out.String()) ||
		!strings.Contains(out.String(), "received, not billed") {
		t.Fatalf("trueup reconcile --grni = %v\n%s", err, out.String())
	}
	out.Reset()
	if err := grniCommand(ctx, stackTarget(st), ageingOptions{}, true, &out); err != nil {
		t.Fatal(err)
	}
	var grni struct {
		Rows []struct {
			PurchaseOrder string `json:"purchaseOrder"`
			Open          struct {
				MinorUnits string `json:"minorUnits"`
			} `json:"open"`
		} `json:"rows"`
		Totals []struct {
			Bucket string `json:"bucket"`
		} `json:"totals"`
	}
	open := map[string]string{}
	err = json.Unmarshal(out.Bytes(), &grni)
	for _, r := range grni.Rows {
		open[r.PurchaseOrder] = r.Open.MinorUnits
	}
	if err != nil || int64(len(grni.Rows)) < moves.Load() || len(grni.Totals) != 4 || open["PO-rec-0-0"] != "274" {
		t.Fatalf("trueup reconcile --grni --json = %v: %d rows for %d moves, totals %v, first %+v", err, len(grni.Rows), moves.Load(), grni.Totals, grni.Rows[:1])
	}
	// Shipped-not-invoiced: the issues named only their shipments, and no
	// invoice names them: each is listed under its shipment.
	out.Reset()
	if err := shippedCommand(ctx, stackTarget(st), ageingOptions{}, false, &out); err != nil || !strings.Contains(out.String(), "SH-rec-0-1") ||
		!strings.Contains(out.String(), "shipped, not invoiced") {
		t.Fatalf("trueup reconcile --shipped-not-invoiced = %v\n%.2000s", err, out.String())
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
