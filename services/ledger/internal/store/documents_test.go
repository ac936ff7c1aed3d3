package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/events"
	"trueup.dev/services/ledger/internal/ledger"
)

// ordersEvent is the Inbound the consumer makes of a real encoded orders
// event.
func ordersEvent(t testing.TB, eventID string, ev proto.Message) app.Inbound {
	t.Helper()
	b, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	typ := string(ev.ProtoReflect().Descriptor().FullName())
	in := app.Inbound{EventID: eventID, EventType: typ, Subject: strings.TrimPrefix(typ, "trueup."), Payload: b,
		Headers: map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}}
	in.TraceID = app.TraceID(in.Headers)
	in.Decode(events.Decode(typ, b))
	return in
}

func usd(minor int64) *typev1.Money { return &typev1.Money{CurrencyCode: "USD", MinorUnits: minor} }
func jpy(minor int64) *typev1.Money { return &typev1.Money{CurrencyCode: "JPY", MinorUnits: minor} }

var day2 = time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)

func billEvent(id, cur string, lines []*ordersv1.SupplierBillLine, tax, total *typev1.Money) *ordersv1.SupplierBillApproved {
	return &ordersv1.SupplierBillApproved{EventId: "ev-" + id, OccurredAt: timestamppb.New(day2.Add(time.Minute)), AggregateId: "supplierBills/" + id,
		AggregateVersion: 2, SupplierBill: "supplierBills/" + id, Supplier: "suppliers/ACME", PurchaseOrder: "purchaseOrders/PO-1",
		CurrencyCode: cur, Lines: lines, Tax: tax, Total: total, EffectiveTime: timestamppb.New(day2)}
}

func billLine(sku string, received, billed *typev1.Money) *ordersv1.SupplierBillLine {
	return &ordersv1.SupplierBillLine{Item: "items/" + sku, Warehouse: "warehouses/MAIN",
		Quantity: &typev1.Quantity{Value: "10", Uom: "EA"}, ReceivedValue: received, BilledAmount: billed}
}

func invoiceEvent(id string) *ordersv1.InvoiceIssued {
	return &ordersv1.InvoiceIssued{EventId: "ev-" + id, AggregateId: "invoices/" + id, AggregateVersion: 1,
		Invoice: "invoices/" + id, Customer: "customers/BOB", SalesOrder: "salesOrders/SO-1", CurrencyCode: "USD",
		Lines: []*ordersv1.InvoiceLine{
			{Item: "items/A", Warehouse: "warehouses/MAIN", Quantity: &typev1.Quantity{Value: "2", Uom: "EA"}, NetAmount: usd(150_00), TaxAmount: usd(30_00)},
			{Item: "items/B", Warehouse: "warehouses/MAIN", Quantity: &typev1.Quantity{Value: "1", Uom: "EA"}, NetAmount: usd(49_99), TaxAmount: usd(0)},
		},
		NetTotal: usd(199_99), TaxTotal: usd(30_00), Total: usd(229_99), EffectiveTime: timestamppb.New(day2)}
}

func paymentEvent(id string, amount int64, invoice string, applied int64) *ordersv1.PaymentReceived {
	return &ordersv1.PaymentReceived{EventId: "ev-" + id, AggregateId: "payments/" + id, AggregateVersion: 1,
		Payment: "payments/" + id, Customer: "customers/BOB", CurrencyCode: "USD", Amount: usd(amount),
		Method: ordersv1.PaymentMethod_PAYMENT_METHOD_BANK_TRANSFER, EffectiveTime: timestamppb.New(day2.Add(24 * time.Hour)),
		Applications: []*ordersv1.PaymentApplication{{Invoice: "invoices/" + invoice, Amount: usd(applied)}}}
}

// docBalances sums balances by account, currency, document and partner.
func docBalances(t *testing.T, svc *app.Service) map[string]int64 {
	t.Helper()
	rows, err := svc.Balances(context.Background(), app.BalanceQuery{GroupBy: []string{"document", "partner"}})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[fmt.Sprintf("%s %s %s %s", r.Account, r.Currency, r.Dims.Document, r.Dims.Partner)] = r.Net()
	}
	return out
}

// TestPostingOrdersDocuments: real encoded bills, invoices and payments post
// under rule version 2 to the minor unit (PPV both ways, yen), a receipt's
// GRNI clears per purchase order once billed, a payment clears its invoice,
// and each event posts once however often it is delivered.
func TestPostingOrdersDocuments(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		batch := []app.Inbound{
			// The receipts the bills match: Dr Inventory / Cr GRNI under PO-1.
			stockEvent(t, "r1", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: po, srcID: "PO-1", value: 1000_00, currency: "USD", wh: "MAIN", sku: "A", seq: 1, at: day1}),
			stockEvent(t, "r2", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: po, srcID: "PO-1", value: 500_00, currency: "USD", wh: "MAIN", sku: "B", seq: 2, at: day1}),
			stockEvent(t, "r3", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: po, srcID: "PO-1", value: 15000, currency: "JPY", wh: "MAIN", sku: "C", seq: 3, at: day1}),
			// Billed 12.34 above on A and 0.01 below on B, with tax.
			ordersEvent(t, "b1", billEvent("B-1", "USD", []*ordersv1.SupplierBillLine{
				billLine("A", usd(1000_00), usd(1012_34)), billLine("B", usd(500_00), usd(499_99))}, usd(151_23), usd(1663_56))),
			// Yen: billed one yen below, no tax.
			ordersEvent(t, "b2", billEvent("B-2", "JPY", []*ordersv1.SupplierBillLine{billLine("C", jpy(15000), jpy(14999))}, nil, jpy(14999))),
			ordersEvent(t, "i1", invoiceEvent("INV-1")),
			ordersEvent(t, "p1", paymentEvent("PAY-1", 250_00, "INV-1", 229_99)),
			// An orders event with nothing to post.
			ordersEvent(t, "s1", &ordersv1.SupplierCreated{EventId: "s1", AggregateId: "suppliers/ACME"}),
		}
		for i := range 3 {
			res, err := svc.PostEvents(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			want := app.PostingResult{Posted: 7, NoValue: 1}
			if i > 0 {
				want = app.PostingResult{Duplicates: len(batch)}
			}
			if res != want {
				t.Errorf("delivery %d: %+v, want %+v", i+1, res, want)
			}
		}
		got := docBalances(t, svc)
		want := map[string]int64{
			"1400 USD PO-1 ": 1500_00, "1400 JPY PO-1 ": 15000,
			// GRNI: credited by the receipts, debited by the bills: cleared.
			"2100 USD PO-1 ": 0, "2100 USD PO-1 ACME": 0, "2100 JPY PO-1 ": 0, "2100 JPY PO-1 ACME": 0,
			"5200 USD B-1 ACME": 12_34 - 1, "5200 JPY B-2 ACME": -1,
			"1300 USD B-1 ACME": 151_23,
			"2000 USD B-1 ACME": -1663_56, "2000 JPY B-2 ACME": -14999,
			"1200 USD INV-1 BOB": 0, "1200 USD PAY-1 BOB": -(250_00 - 229_99),
			"4000 USD SO-1 BOB": -199_99, "2200 USD INV-1 BOB": -30_00,
			"1000 USD PAY-1 BOB": 250_00,
		}
		// GRNI per PO nets to zero over its receipt and bill lines.
		grni := map[string]int64{}
		for k, v := range got {
			if strings.HasPrefix(k, "2100 ") {
				cur := strings.Fields(k)[1]
				grni[cur] += v
				delete(got, k)
			}
		}
		for k := range want {
			if strings.HasPrefix(k, "2100 ") {
				delete(want, k)
			}
		}
		if grni["USD"] != 0 || grni["JPY"] != 0 {
			t.Errorf("GRNI after billing = %v, want cleared", grni)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("balances\n got %v\nwant %v", got, want)
		}
		tb, err := svc.GetTrialBalance(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for cur, net := range tb.Totals {
			if net != 0 {
				t.Errorf("trial balance in %s = %d", cur, net)
			}
		}
		e, err := svc.EntryForEvent(ctx, "b1")
		if err != nil {
			t.Fatal(err)
		}
		if e.Rule != ledger.RuleBillApproved || e.RuleVersion != ledger.DefaultRules().Version || e.Source.Service != "orders" || e.Source.DocumentID != "B-1" ||
			e.Source.EventType != "trueup.orders.v1.SupplierBillApproved" || e.Source.TraceID != "0af7651916cd43dd8448eb211c80319c" ||
			!e.EffectiveAt.Equal(day2) || len(e.Lines) != 6 {
			t.Errorf("bill entry %+v", e)
		}
		if l := e.Lines[0]; l.Dims != (ledger.Dimensions{Warehouse: "MAIN", Item: "A", Document: "PO-1", Partner: "ACME"}) {
			t.Errorf("GRNI line dims %+v", l.Dims)
		}
		pe, err := svc.EntryForEvent(ctx, "p1")
		if err != nil || !pe.EffectiveAt.Equal(day2.Add(24*time.Hour)) || !strings.Contains(pe.Description, "bank transfer") {
			t.Errorf("payment entry %+v, %v", pe, err)
		}
	})
}

// TestDocumentsThatDoNotAddUpAreParked: a bill whose total misses its lines
// by one cent, and an invoice with an amount in another currency, are
// parked with the reason and listed, never posted in part.
func TestDocumentsThatDoNotAddUpAreParked(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		short := ordersEvent(t, "u1", billEvent("B-9", "USD", []*ordersv1.SupplierBillLine{billLine("A", usd(100_00), usd(100_00))}, usd(5_00), usd(104_99)))
		mixed := invoiceEvent("INV-9")
		mixed.Lines[1].NetAmount = &typev1.Money{CurrencyCode: "EUR", MinorUnits: 49_99}
		foreign := ordersEvent(t, "u2", mixed)
		for range 3 {
			res, err := svc.PostEvents(ctx, []app.Inbound{short, foreign})
			if err != nil {
				t.Fatal(err)
			}
			if res.Posted != 0 {
				t.Fatalf("posted %+v", res)
			}
		}
		parked, err := svc.ListParked(ctx, paging.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(parked) != 2 || parked[0].EventID != "u1" || parked[1].EventID != "u2" {
			t.Fatalf("parked %+v", parked)
		}
		if r := parked[0].Reason; !strings.Contains(r, "total payable is USD 104.99") || !strings.Contains(r, "B-9") {
			t.Errorf("bill parked because %q", r)
		}
		if r := parked[1].Reason; !strings.Contains(r, "cannot read") || !strings.Contains(r, `"EUR"`) {
			t.Errorf("invoice parked because %q", r)
		}
		if tb, _ := svc.GetTrialBalance(ctx, time.Time{}); len(tb.Rows) != 0 {
			t.Errorf("something was posted: %+v", tb.Rows)
		}
	})
}

// TestEventWithoutRuleIsPostedAfterANewRuleVersion: an event parked because
// no rule covers it is posted by RepostParked once a new rule version adds
// the rule, and its entry names that version; entries posted before keep
// theirs. The version is created idempotently by request id.
func TestEventWithoutRuleIsPostedAfterANewRuleVersion(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		// Version 5 (after the built-in 1-4): payments are not posted yet.
		v3, err := svc.CreateRuleVersion(ctx, "rv-3", app.RuleVersionRequest{RuleChanges: ledger.RuleChanges{Remove: []string{ledger.RulePaymentReceived}}})
		if err != nil || v3.Version != 5 || v3.Lookup(ledger.RulePaymentReceived) != nil {
			t.Fatalf("v3 = %+v, %v", v3, err)
		}
		inv := ordersEvent(t, "i1", invoiceEvent("INV-1"))
		pay := ordersEvent(t, "p1", paymentEvent("PAY-1", 229_99, "INV-1", 229_99))
		if res, err := svc.PostEvents(ctx, []app.Inbound{inv, pay}); err != nil || res.Posted != 1 || res.Parked != 1 {
			t.Fatalf("PostEvents = %+v, %v", res, err)
		}
		parked, _ := svc.ListParked(ctx, paging.Page{Limit: 10})
		if len(parked) != 1 || !strings.Contains(parked[0].Reason, `no posting rule for "payment_received" (rules version 5)`) {
			t.Fatalf("parked %+v", parked)
		}
		// Reposting before a rule exists changes nothing.
		if posted, still, err := svc.RepostParked(ctx, events.Decode); err != nil || posted != 0 || still != 1 {
			t.Fatalf("RepostParked = %d, %d, %v", posted, still, err)
		}

		// Version 6 adds the rule, to another cash account; on an old base it is refused.
		rule := ledger.Rule{Key: ledger.RulePaymentReceived, Description: "Payments into the bank",
			Roles: map[string]string{"cash": "1000", "ar": "1200"}}
		_, err = svc.CreateRuleVersion(ctx, "rv-x", app.RuleVersionRequest{BaseVersion: 4, RuleChanges: ledger.RuleChanges{Rules: []ledger.Rule{rule}}})
		wantKind(t, err, apperr.KindFailedPrecondition)
		req := app.RuleVersionRequest{BaseVersion: 5, RuleChanges: ledger.RuleChanges{Rules: []ledger.Rule{rule}}}
		v4, err := svc.CreateRuleVersion(ctx, "rv-4", req)
		if err != nil || v4.Version != 6 || v4.Lookup(ledger.RulePaymentReceived).Since != 6 || v4.Lookup(ledger.RuleInvoiceIssued).Since != 2 {
			t.Fatalf("v4 = %+v, %v", v4, err)
		}
		again, err := svc.CreateRuleVersion(ctx, "rv-4", req)
		if err != nil || again.Version != 6 || !again.CreatedAt.Equal(v4.CreatedAt) || len(again.Rules) != len(v4.Rules) {
			t.Fatalf("retry = %+v, %v; want version 6 again", again, err)
		}
		_, err = svc.CreateRuleVersion(ctx, "rv-4", app.RuleVersionRequest{RuleChanges: ledger.RuleChanges{Remove: []string{"return"}}})
		wantKind(t, err, apperr.KindInvalidArgument)
		// A rule naming an account not in the chart is refused.
		_, err = svc.CreateRuleVersion(ctx, "rv-5", app.RuleVersionRequest{RuleChanges: ledger.RuleChanges{Rules: []ledger.Rule{
			{Key: "adjustment/MYSTERY", Account: "1400", Counter: "7777"}}}})
		wantKind(t, err, apperr.KindInvalidArgument)

		posted, still, err := svc.RepostParked(ctx, events.Decode)
		if err != nil || posted != 1 || still != 0 {
			t.Fatalf("RepostParked = %d posted, %d still parked, %v; want 1, 0", posted, still, err)
		}
		e, err := svc.EntryForEvent(ctx, "p1")
		if err != nil {
			t.Fatal(err)
		}
		if e.Rule != ledger.RulePaymentReceived || e.RuleVersion != 6 || !strings.HasPrefix(e.Description, "Payments into the bank: payment PAY-1") {
			t.Errorf("reposted entry: rule %s v%d %q", e.Rule, e.RuleVersion, e.Description)
		}
		if e, _ := svc.EntryForEvent(ctx, "i1"); e.RuleVersion != 5 {
			t.Errorf("the invoice posted before keeps version %d, want 5", e.RuleVersion)
		}
		if ar := docBalances(t, svc)["1200 USD INV-1 BOB"]; ar != 0 {
			t.Errorf("receivable of INV-1 after its payment = %d, want 0", ar)
		}
		for v, n := range map[int]int{0: len(v4.Rules), 1: len(ledger.MovementRules().Rules), 5: len(v3.Rules)} {
			rs, err := svc.RulesVersion(ctx, v)
			if err != nil || len(rs.Rules) != n {
				t.Errorf("RulesVersion(%d) = %+v, %v", v, rs, err)
			}
		}
		// Redelivery of the reposted event changes nothing.
		if res, err := svc.PostEvents(ctx, []app.Inbound{pay, pay, pay}); err != nil || res.Duplicates != 3 {
			t.Errorf("redelivery: %+v, %v", res, err)
		}
	})
}
