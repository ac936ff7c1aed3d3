package store_test

import (
	"context"
	"testing"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

func TestShippingNotices(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		inv := newFakeInventory()
		svc.SetInventory(inv)
		releasePO(t, svc, "partner-a")
		pa := caller.NewContext(ctx, caller.Partner("partner-a"))
		pb := caller.NewContext(ctx, caller.Partner("partner-b"))

		// A partner's own goods, with their cost and lot.
		own := app.NoticeInput{Warehouse: "main", Reference: "ASN-77", ExpectedDate: "2026-12-10", Cartons: 3, Lines: []app.NoticeLineInput{
			{Item: "LOT-1", Quantity: "4", Lot: "l-9", Expiry: "2027-03-01", UnitCost: fulfillment.UnitCost{Amount: "2.00", Currency: "usd"}},
			{Item: "0400000000001", Quantity: "2", UnitCost: fulfillment.UnitCost{Amount: "12.00", Currency: "USD", UoM: "CS"}},
		}}
		r, err := svc.CreateExpectedReceipt(pa, "asn-1", own)
		if err != nil {
			t.Fatal(err)
		}
		if r.Partner != "partner-a" || r.Cartons != 3 || r.Currency != "USD" || len(r.Lines) != 2 || r.Lines[1].UoM != "CS" || r.Lines[1].BaseQty != "24" ||
			r.Lines[0].Lot != "L-9" || r.ExpectedDate() != "2026-12-10" || r.PurchaseOrder != "" {
			t.Fatalf("notice = %+v", r)
		}
		if again, err := svc.CreateExpectedReceipt(pa, "asn-1", own); err != nil || again.ID != r.ID {
			t.Fatalf("retried notice = %v, %v", again, err)
		}
		if _, err := svc.GetExpectedReceipt(pb, r.ID); apperr.KindOf(err) != apperr.KindNotFound {
			t.Fatalf("another partner reads the notice: %v", err)
		}
		// A scan without a lot takes the notice's; the goods book at the notice's cost.
		res, err := svc.RecordReceiptLine(pa, "asn-1-s1", r.ID, good("LOT-1", "4", ""))
		if err != nil || res.Line.State != fulfillment.LineBooked || res.Line.Lot != "L-9" || len(res.Discrepancies) != 0 {
			t.Fatalf("scan = %+v, %v", res, err)
		}
		var booked fulfillment.Booking
		for _, b := range inv.bookings {
			if b.SKU == "LOT-1" {
				booked = b
			}
		}
		if booked.Receipt != r.ID || booked.PurchaseOrder != "" || booked.Cost != (fulfillment.UnitCost{Amount: "2.00", Currency: "USD", UoM: "EA"}) || booked.Lot != "L-9" {
			t.Fatalf("booking = %+v", booked)
		}

		// A supplier's notice for the order: its lines are the order's.
		forPO := app.NoticeInput{Warehouse: "MAIN", PurchaseOrder: "PO7", Lines: []app.NoticeLineInput{{POLine: 1, Item: "W-1", Quantity: "1", UoM: "CS"}}}
		n, err := svc.CreateExpectedReceipt(pa, "asn-2", forPO)
		if err != nil || n.PurchaseOrder != "PO7" || n.Lines[0].UnitPrice != "15.00" || n.Supplier != "ACME" || n.Currency != "USD" {
			t.Fatalf("notice for the order = %+v, %v", n, err)
		}
		res, err = svc.RecordReceiptLine(pa, "asn-2-s1", n.ID, good("W-1", "12", "EA"))
		if err != nil || res.Line.POLine != 1 {
			t.Fatalf("scan = %+v, %v", res, err)
		}
		for _, b := range inv.bookings {
			if b.SKU == "W-1" && (b.PurchaseOrder != "PO7" || b.POLine != 1 || b.Cost.UoM != "CS") {
				t.Fatalf("a notice line of the order booked as %+v", b)
			}
		}
		for name, c := range map[string]app.NoticeInput{
			"another partner's order": {Warehouse: "MAIN", PurchaseOrder: "PO7", Lines: []app.NoticeLineInput{{POLine: 1, Item: "W-1", Quantity: "1"}}},
		} {
			if _, err := svc.CreateExpectedReceipt(pb, "bad-"+name, c); apperr.KindOf(err) != apperr.KindInvalidArgument {
				t.Errorf("%s: %v", name, err)
			}
		}
		for name, c := range map[string]app.NoticeInput{
			"wrong item for the line": {Warehouse: "MAIN", PurchaseOrder: "PO7", Lines: []app.NoticeLineInput{{POLine: 2, Item: "W-1", Quantity: "1"}}},
			"no such line":            {Warehouse: "MAIN", PurchaseOrder: "PO7", Lines: []app.NoticeLineInput{{POLine: 9, Item: "W-1", Quantity: "1"}}},
			"unknown item":            {Warehouse: "MAIN", Lines: []app.NoticeLineInput{{Item: "NOPE", Quantity: "1"}}},
			"unknown unit":            {Warehouse: "MAIN", Lines: []app.NoticeLineInput{{Item: "W-1", Quantity: "1", UoM: "PL"}}},
			"lot on an untracked":     {Warehouse: "MAIN", Lines: []app.NoticeLineInput{{Item: "W-1", Quantity: "1", Lot: "X"}}},
			"two currencies": {Warehouse: "MAIN", Lines: []app.NoticeLineInput{
				{Item: "W-1", Quantity: "1", UnitCost: fulfillment.UnitCost{Amount: "1", Currency: "USD"}},
				{Item: "LOT-1", Quantity: "1", UnitCost: fulfillment.UnitCost{Amount: "1", Currency: "EUR"}}}},
			"no lines":     {Warehouse: "MAIN"},
			"no warehouse": {Lines: []app.NoticeLineInput{{Item: "W-1", Quantity: "1"}}},
		} {
			if _, err := svc.CreateExpectedReceipt(pa, "bad-"+name, c); apperr.KindOf(err) != apperr.KindInvalidArgument {
				t.Errorf("%s: %v", name, err)
			}
		}
		if got := len(inv.bookings); got != 2 {
			t.Fatalf("%d bookings", got)
		}
	})
}
