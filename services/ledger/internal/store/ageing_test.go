package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
)

var outbound = inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_OUTBOUND_ORDER

func nextPage(t *testing.T, size int, token string) paging.Page {
	t.Helper()
	p, err := paging.Parse(int32(size), token, "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func grniRows(t *testing.T, svc *app.Service, q app.AgeingQuery, size int) ([]string, []ledger.AgeTotal) {
	t.Helper()
	var out []string
	var totals []ledger.AgeTotal
	page := paging.Page{Limit: size}
	for {
		rep, err := svc.GRNIAgeing(context.Background(), q, page)
		if err != nil {
			t.Fatal(err)
		}
		if page.After == "" {
			totals = rep.Totals
		} else if rep.Totals != nil {
			t.Errorf("totals on a later page: %v", rep.Totals)
		}
		for _, r := range rep.Rows {
			out = append(out, fmt.Sprintf("%s/%s/%s %s open %d of %d, %dd %v %v", r.Key.Document, r.Key.Item, r.Key.Warehouse,
				r.Key.Currency, r.Open, r.Received, r.AgeDays, r.Bucket, r.Partners))
		}
		if rep.Next == "" {
			return out, totals
		}
		page = nextPage(t, size, rep.Next)
	}
}

func shippedRows(t *testing.T, svc *app.Service, q app.AgeingQuery, size int) ([]string, []ledger.AgeTotal) {
	t.Helper()
	var out []string
	var totals []ledger.AgeTotal
	page := paging.Page{Limit: size}
	for {
		rep, err := svc.ShippedNotInvoiced(context.Background(), q, page)
		if err != nil {
			t.Fatal(err)
		}
		if page.After == "" {
			totals = rep.Totals
		}
		for _, r := range rep.Rows {
			out = append(out, fmt.Sprintf("%s %s %d %v %s..%s %dd %v partial=%v", r.Order, r.Currency, r.Cost, r.Items,
				r.First.Format("01-02"), r.Last.Format("01-02"), r.AgeDays, r.Bucket, r.Partial))
		}
		if rep.Next == "" {
			return out, totals
		}
		page = nextPage(t, size, rep.Next)
	}
}

// TestAgeingReports: real encoded inventory and orders events. A receipt
// 40 days old billed in part is open in 31–60 for the rest, a fully billed
// one (billed above its value: PPV) is gone, a yen receipt ages alone;
// shipments of an order no invoice covers are listed until invoiced, an
// order invoiced for one item of two stays listed for the other, and every
// page of one key walks to the same rows.
func TestAgeingReports(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		asOf := day1.Add(40 * 24 * time.Hour)
		days := func(n int) time.Time { return day1.Add(time.Duration(n) * 24 * time.Hour) }
		rcpt := func(id, order, sku, cur string, value int64, seq int64, at time.Time) app.Inbound {
			return stockEvent(t, id, movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: po, srcID: order, value: value,
				currency: cur, wh: "MAIN", sku: sku, seq: seq, at: at})
		}
		issue := func(id string, src inventoryv1.SourceDocumentType, doc, sku string, value int64, seq int64, at time.Time) app.Inbound {
			return stockEvent(t, id, movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE, src: src, srcID: doc, value: -value,
				currency: "USD", wh: "MAIN", sku: sku, seq: seq, at: at})
		}
		bill := func(id, po string, lines ...*ordersv1.SupplierBillLine) app.Inbound {
			var total int64
			for _, l := range lines {
				total += l.GetBilledAmount().GetMinorUnits()
			}
			ev := billEvent(id, "USD", lines, nil, usd(total))
			ev.PurchaseOrder = "purchaseOrders/" + po
			return ordersEvent(t, "b-"+id, ev)
		}
		invoice := func(id, so string, items ...string) app.Inbound {
			ev := invoiceEvent(id)
			ev.SalesOrder = "salesOrders/" + so
			ev.Lines, ev.NetTotal, ev.TaxTotal, ev.Total = nil, usd(0), usd(0), usd(0)
			for _, it := range items {
				ev.Lines = append(ev.Lines, &ordersv1.InvoiceLine{Item: "items/" + it, Warehouse: "warehouses/MAIN",
					Quantity: &typev1.Quantity{Value: "1", Uom: "EA"}, NetAmount: usd(10_00), TaxAmount: usd(0)})
				ev.NetTotal.MinorUnits += 10_00
				ev.Total.MinorUnits += 10_00
			}
			return ordersEvent(t, "i-"+id, ev)
		}
		post := func(batch ...app.Inbound) {
			t.Helper()
			res, err := svc.PostEvents(ctx, batch)
			if err != nil || res.Posted != len(batch) {
				t.Fatalf("PostEvents = %+v, %v; want %d posted", res, err, len(batch))
			}
		}
		post(
			rcpt("r1", "PO-1", "A", "USD", 1000_00, 1, day1),
			rcpt("r2", "PO-2", "A", "USD", 500_00, 2, day1),
			rcpt("r3", "PO-3", "C", "JPY", 15000, 3, days(35)),
			// After the report's date: not counted.
			rcpt("r4", "PO-4", "A", "USD", 1, 4, days(41)),
			// PO-1 billed in part, PO-2 in full above its value.
			bill("B-1", "PO-1", billLine("A", usd(300_00), usd(300_00))),
			bill("B-2", "PO-2", billLine("A", usd(500_00), usd(510_00))),
			issue("s1", outbound, "SO-1", "A", 70_01, 5, days(1)),
			issue("s2", outbound, "SO-1", "B", 10_00, 6, days(2)),
			issue("s3", outbound, "SO-3", "A", 5_00, 7, days(9)),
			issue("s4", outbound, "SO-3", "C", 6_00, 8, days(10)),
			issue("s5", ship, "SH-9", "A", 1_00, 9, days(39)),
			// A shipment confirmed through inventory names its order: its
			// COGS is under the order, where the invoice will put revenue.
			stockEvent(t, "s6", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE, src: ship, srcID: "SH-10", order: "SO-10",
				value: -2_00, currency: "USD", wh: "MAIN", sku: "A", seq: 10, at: days(39)}),
		)
		wantGRNI := []string{
			"PO-1/A/MAIN USD open 70000 of 100000, 40d 31-60 [ACME]",
			"PO-3/C/MAIN JPY open 15000 of 15000, 5d 0-30 []",
		}
		for _, size := range []int{1, 2, 50} {
			got, totals := grniRows(t, svc, app.AgeingQuery{AsOf: asOf}, size)
			if strings.Join(got, "\n") != strings.Join(wantGRNI, "\n") {
				t.Errorf("page size %d: GRNI ageing\n%s\nwant\n%s", size, strings.Join(got, "\n"), strings.Join(wantGRNI, "\n"))
			}
			if want := "[{JPY 0-30 15000 1} {JPY 31-60 0 0} {JPY 61-90 0 0} {JPY 90+ 0 0} {USD 0-30 0 0} {USD 31-60 70000 1} {USD 61-90 0 0} {USD 90+ 0 0}]"; fmt.Sprint(totals) != want {
				t.Errorf("page size %d: totals %v, want %s", size, totals, want)
			}
		}
		// The supplier filter keeps what was billed by it; a warehouse with
		// nothing has nothing.
		if got, _ := grniRows(t, svc, app.AgeingQuery{AsOf: asOf, Partner: "ACME"}, 50); len(got) != 1 || !strings.HasPrefix(got[0], "PO-1/A") {
			t.Errorf("ACME's GRNI: %v", got)
		}
		if got, tot := grniRows(t, svc, app.AgeingQuery{AsOf: asOf, Warehouse: "EAST"}, 50); len(got) != 0 || len(tot) != 0 {
			t.Errorf("EAST's GRNI: %v %v", got, tot)
		}
		// 61 days on, the same open amount is in 61-90.
		if got, _ := grniRows(t, svc, app.AgeingQuery{AsOf: days(61)}, 50); len(got) < 1 || !strings.Contains(got[0], "61d 61-90") {
			t.Errorf("GRNI at day 61: %v", got)
		}

		wantShipped := []string{
			"SH-9 USD 100 [A] 12-29..12-29 1d 0-30 partial=false",
			"SO-1 USD 8001 [A B] 11-21..11-22 39d 31-60 partial=false",
			"SO-10 USD 200 [A] 12-29..12-29 1d 0-30 partial=false",
			"SO-3 USD 1100 [A C] 11-29..11-30 31d 31-60 partial=false",
		}
		for _, size := range []int{1, 50} {
			if got, _ := shippedRows(t, svc, app.AgeingQuery{AsOf: asOf}, size); strings.Join(got, "\n") != strings.Join(wantShipped, "\n") {
				t.Errorf("page size %d: shipped not invoiced\n%s\nwant\n%s", size, strings.Join(got, "\n"), strings.Join(wantShipped, "\n"))
			}
		}

		// The rest of PO-1 billed: gone. SO-1 invoiced in full, SO-3 for A.
		post(
			bill("B-3", "PO-1", billLine("A", usd(700_00), usd(700_00))),
			invoice("INV-1", "SO-1", "A", "B"),
			invoice("INV-3", "SO-3", "A"),
			invoice("INV-10", "SO-10", "A"),
		)
		if got, _ := grniRows(t, svc, app.AgeingQuery{AsOf: asOf}, 50); len(got) != 1 || !strings.HasPrefix(got[0], "PO-3/C") {
			t.Errorf("GRNI after the last bill: %v", got)
		}
		got, totals := shippedRows(t, svc, app.AgeingQuery{AsOf: asOf}, 50)
		want := []string{
			"SH-9 USD 100 [A] 12-29..12-29 1d 0-30 partial=false",
			"SO-3 USD 600 [C] 11-30..11-30 30d 0-30 partial=true",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("shipped not invoiced after the invoices\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if w := "[{USD 0-30 700 2} {USD 31-60 0 0} {USD 61-90 0 0} {USD 90+ 0 0}]"; fmt.Sprint(totals) != w {
			t.Errorf("totals %v, want %s", totals, w)
		}
		// The customer filter keeps orders invoiced to it in part.
		if got, _ := shippedRows(t, svc, app.AgeingQuery{AsOf: asOf, Partner: "BOB"}, 50); len(got) != 1 || !strings.HasPrefix(got[0], "SO-3") {
			t.Errorf("BOB's shipped not invoiced: %v", got)
		}
		// As of before the invoices' date, they are not counted.
		if got, _ := shippedRows(t, svc, app.AgeingQuery{AsOf: days(1)}, 50); len(got) != 1 || !strings.HasPrefix(got[0], "SO-1 USD 7001") {
			t.Errorf("shipped not invoiced at day 1: %v", got)
		}
	})
}
