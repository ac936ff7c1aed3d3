package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/events"
	"trueup.dev/services/orders/internal/orders"
)

// soFixture is poFixture's catalog with a EUR customer SHOP (20 % sales tax
// by default, net 30, credit limit limit minor units; nil for none).
func soFixture(t *testing.T, db *sqldb.DB, limit *int64) *app.Service {
	t.Helper()
	svc := poFixture(t, db)
	_, err := svc.CreateCustomer(context.Background(), "", orders.Customer{Code: "SHOP", DisplayName: "Shop", CurrencyCode: "EUR",
		PaymentTermsDays: 30, DefaultTaxRate: "20", CreditLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// twoLineOrder is 2 CS of W-1 at 10.005 (20 % tax) and 0.5 KG of B-1 at
// 3.33 (7.5 % tax): net 20.01 + 1.665 -> 2001 + 166 cents (half to even),
// tax 400.2 -> 400 and 12.45 -> 12, total 2579.
func twoLineOrder() orders.SOInput {
	return orders.SOInput{Customer: "shop", CustomerRef: "PO-778", Lines: []orders.SOLineInput{
		{Item: "W-1", Quantity: "2", UoM: "CS", UnitPrice: "10.005", Warehouse: "wh1"},
		{Item: "b-1", Quantity: "0.5", UnitPrice: "3.33", TaxRate: "7.5", Warehouse: "WH1"},
	}}
}

func confirmedSO(t *testing.T, ctx context.Context, svc *app.Service) *orders.SalesOrder {
	t.Helper()
	so, err := svc.CreateSalesOrder(ctx, "", twoLineOrder())
	if err != nil {
		t.Fatal(err)
	}
	if so, err = svc.ConfirmSalesOrder(ctx, "", so.ID); err != nil {
		t.Fatal(err)
	}
	return so
}

type shipped struct {
	line int32
	base string
}

// shipmentMsg is a real encoded fulfillment ShipmentConfirmed.
func shipmentMsg(t *testing.T, eventID, shipment, so string, at time.Time, lines ...shipped) *natsx.Message {
	t.Helper()
	ev := &fulfillmentv1.ShipmentConfirmed{EventId: eventID, OccurredAt: timestamppb.New(at), AggregateId: "shipments/" + shipment,
		AggregateVersion: 1, Shipment: "shipments/" + shipment, OutboundOrder: "outboundOrders/" + so, Warehouse: "WH1",
		Carrier: "carriers/DHL", TrackingNumber: "JD0001", ShipTime: timestamppb.New(at)}
	if so != "" {
		ev.SalesOrder = "salesOrders/" + so
	}
	for _, l := range lines {
		ev.Lines = append(ev.Lines, &fulfillmentv1.ShippedLine{SalesOrderLine: l.line, BaseQuantity: l.base})
	}
	return &natsx.Message{EventID: eventID, Type: string(ev.ProtoReflect().Descriptor().FullName()),
		Subject: events.ShipmentConfirmedSubject, Data: payload(t, ev)}
}

func ship(t *testing.T, svc *app.Service, msgs ...*natsx.Message) {
	t.Helper()
	for i, err := range events.ShipmentsHandler(svc)(context.Background(), msgs) {
		if err != nil {
			t.Fatalf("shipment delivery %d (%s): %v", i, msgs[i].EventID, err)
		}
	}
}

func issuedInvoices(t *testing.T, db *sqldb.DB) []*ordersv1.InvoiceIssued {
	t.Helper()
	var out []*ordersv1.InvoiceIssued
	for _, r := range outboxRows(t, db) {
		if r.typ == "trueup.orders.v1.InvoiceIssued" {
			var ev ordersv1.InvoiceIssued
			if err := proto.Unmarshal(r.payload, &ev); err != nil {
				t.Fatal(err)
			}
			out = append(out, &ev)
		}
	}
	return out
}

func countType(t *testing.T, db *sqldb.DB, typ string) int {
	t.Helper()
	n := 0
	for _, r := range outboxRows(t, db) {
		if r.typ == typ {
			n++
		}
	}
	return n
}

func wantSOState(t *testing.T, err error, state orders.SOState) {
	t.Helper()
	var e *apperr.Error
	if !errors.Is(err, orders.ErrSOState) || !errors.As(err, &e) || e.Metadata["state"] != state.String() {
		t.Fatalf("err = %v, want FailedPrecondition naming state %s", err, state)
	}
}

func TestSalesOrderIsPricedStoredAndConfirmed(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := soFixture(t, db, nil)
		so, err := svc.CreateSalesOrder(ctx, "so-1", twoLineOrder())
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if so.State != orders.SODraft || so.Currency != "EUR" || so.Customer != "SHOP" || so.CustomerRef != "PO-778" {
			t.Fatalf("order = %+v", so)
		}
		l1, l2 := so.Lines[0], so.Lines[1]
		if l1.SKU != "W-1" || l1.BaseQty != 24_000_000 || l1.Net != 2001 || l1.Tax != 400 || l1.TaxRate != "20" || l1.Warehouse != "WH1" {
			t.Errorf("line 1 = %+v", l1)
		}
		if l2.SKU != "B-1" || l2.Net != 166 || l2.Tax != 12 || l2.TaxRate != "7.5" {
			t.Errorf("line 2 = %+v", l2)
		}
		if so.NetTotal() != 2167 || so.TaxTotal() != 412 || so.Total() != 2579 {
			t.Errorf("totals %d + %d = %d, want 2167 + 412 = 2579", so.NetTotal(), so.TaxTotal(), so.Total())
		}
		again, err := svc.CreateSalesOrder(ctx, "so-1", twoLineOrder())
		if err != nil || again.ID != so.ID {
			t.Fatalf("retry = %v, %v; want the first order %s", again, err, so.ID)
		}
		got, err := svc.GetSalesOrder(ctx, so.ID)
		if err != nil || got.Total() != 2579 || len(got.Lines) != 2 || got.Lines[0].Factor != "12" || got.Lines[0].UoM != "CS" {
			t.Fatalf("stored = %+v, %v", got, err)
		}
		if countType(t, db, "trueup.orders.v1.SalesOrderConfirmed") != 0 {
			t.Fatal("a draft emitted SalesOrderConfirmed")
		}
		c, err := svc.ConfirmSalesOrder(ctx, "conf-1", so.ID)
		if err != nil || c.State != orders.SOConfirmed || c.ConfirmedAt.IsZero() {
			t.Fatalf("confirm = %+v, %v", c, err)
		}
		if c2, err := svc.ConfirmSalesOrder(ctx, "conf-1", so.ID); err != nil || c2.Version != c.Version {
			t.Fatalf("confirm retry = %v, %v; want the first answer", c2, err)
		}
		_, err = svc.ConfirmSalesOrder(ctx, "conf-2", so.ID)
		wantSOState(t, err, orders.SOConfirmed)
		if n := countType(t, db, "trueup.orders.v1.SalesOrderConfirmed"); n != 1 {
			t.Fatalf("%d SalesOrderConfirmed, want 1", n)
		}
	})
}

func TestInvalidSalesOrderNamesEveryFieldAndWritesNothing(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := soFixture(t, db, nil)
		_, err := svc.CreateSalesOrder(ctx, "", orders.SOInput{Customer: "SHOP", Lines: []orders.SOLineInput{
			{Item: "NOPE", Quantity: "1", UnitPrice: "1", Warehouse: "WH1"},
			{Item: "W-1", Quantity: "-1", UoM: "PALLET", UnitPrice: "x", TaxRate: "101", Warehouse: ""},
			{Item: "W-1", Quantity: "1", UoM: "CS", UnitPrice: "1", TaxRate: "8.12345", Warehouse: "WH1"},
		}})
		var e *apperr.Error
		if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument {
			t.Fatalf("err = %v, want InvalidArgument", err)
		}
		want := map[string]bool{"sales_order.lines[0].item": true, "sales_order.lines[1].quantity.value": true,
			"sales_order.lines[1].unit_price": true, "sales_order.lines[1].tax_rate_percent": true,
			"sales_order.lines[1].warehouse": true, "sales_order.lines[1].quantity.uom": true,
			"sales_order.lines[2].tax_rate_percent": true}
		for _, v := range e.Violations {
			delete(want, v.Field)
		}
		if len(want) != 0 {
			t.Errorf("violations %+v miss %v", e.Violations, want)
		}
		if _, err := svc.CreateSalesOrder(ctx, "", orders.SOInput{Customer: "GHOST", Lines: twoLineOrder().Lines}); apperr.KindOf(err) != apperr.KindInvalidArgument {
			t.Errorf("unknown customer: %v", err)
		}
		if sos, _ := svc.ListSalesOrders(ctx, app.SOFilter{}, paging.Page{Limit: 10}); len(sos) != 0 {
			t.Errorf("%d orders written", len(sos))
		}
	})
}

func TestEachShipmentIsInvoicedOnceInAnyOrder(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := soFixture(t, db, nil)
		so := confirmedSO(t, ctx, svc)
		at1, at2 := t0.Add(-2*time.Hour), t0.Add(-time.Hour)
		s1 := shipmentMsg(t, "e-s1", "S1", so.ID, at1, shipped{1, "20"}, shipped{2, "0.5"})
		s1again := shipmentMsg(t, "e-s1-resent", "S1", so.ID, at1, shipped{1, "20"}, shipped{2, "0.5"})
		s2 := shipmentMsg(t, "e-s2", "S2", so.ID, at2, shipped{1, "4"})
		// The backorder's shipment arrives first; the first shipment arrives
		// three times (a redelivery, and the same shipment in a new event);
		// then the backorder again.
		ship(t, svc, s2)
		ship(t, svc, s1, s1, s1again)
		ship(t, svc, s2)
		got, err := svc.GetSalesOrder(ctx, so.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != orders.SOShipped || got.Lines[0].Shipped != 24_000_000 || got.Lines[1].Shipped != 500_000 ||
			got.Lines[0].Invoiced != 24_000_000 || got.Lines[0].Backorder() != 0 || got.Uninvoiced() != 0 {
			t.Fatalf("order after shipments = %+v", got)
		}
		evs := issuedInvoices(t, db)
		if len(evs) != 2 {
			t.Fatalf("%d InvoiceIssued, want 2 (one per shipment)", len(evs))
		}
		invs, err := svc.ListInvoices(ctx, app.InvoiceFilter{SalesOrder: so.ID}, paging.Page{Limit: 10})
		if err != nil || len(invs) != 2 {
			t.Fatalf("invoices = %v, %v", invs, err)
		}
		byShipment := map[string]*orders.Invoice{}
		for _, inv := range invs {
			byShipment[inv.Shipment] = inv
		}
		// S1: 20 EA of a 12 EA case at 10.005 a case = 16.675 -> 1668 (half
		// to even), tax 333.6 -> 334; 0.5 KG: 166 + 12. S2: 4 EA = 3.335 ->
		// 334 (half to even), tax 66.8 -> 67.
		i1, i2 := byShipment["S1"], byShipment["S2"]
		if i1 == nil || i2 == nil {
			t.Fatalf("invoices by shipment = %v", byShipment)
		}
		if i1.NetTotal() != 1834 || i1.TaxTotal() != 346 || i1.Total() != 2180 || len(i1.Lines) != 2 {
			t.Errorf("S1 invoice %d + %d = %d (%+v), want 1834 + 346 = 2180", i1.NetTotal(), i1.TaxTotal(), i1.Total(), i1.Lines)
		}
		if l := i1.Lines[0]; l.Quantity != "20" || l.UoM != "EA" || l.Net != 1668 || l.Tax != 334 || l.SOLine != 1 {
			t.Errorf("S1 line 1 = %+v (20 EA is no exact number of cases, so it is invoiced in EA)", l)
		}
		if i2.Total() != 401 || !i2.IssuedAt.Equal(at2) || !i2.DueAt.Equal(at2.AddDate(0, 0, 30)) || i2.State != orders.InvoiceOpen {
			t.Errorf("S2 invoice = %+v, want 401 issued at %v due 30 days later", i2, at2)
		}
		for _, ev := range evs {
			var net, tax int64
			for _, l := range ev.GetLines() {
				if l.GetNetAmount().GetCurrencyCode() != "EUR" || l.GetNetAmount().GetMinorUnits() < 0 || l.GetTaxAmount().GetMinorUnits() < 0 {
					t.Errorf("line amounts %v", l)
				}
				net += l.GetNetAmount().GetMinorUnits()
				tax += l.GetTaxAmount().GetMinorUnits()
			}
			if net != ev.GetNetTotal().GetMinorUnits() || tax != ev.GetTaxTotal().GetMinorUnits() || net+tax != ev.GetTotal().GetMinorUnits() {
				t.Errorf("event totals do not add up: %v", ev)
			}
			if ev.GetSalesOrder() != "salesOrders/"+so.ID || ev.GetCustomer() != "customers/SHOP" || ev.GetShipment() == "" || ev.GetEffectiveTime() == nil {
				t.Errorf("event references: %v", ev)
			}
		}
	})
}

func TestShortShipmentLeavesABackorderThatCanBeCancelled(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := soFixture(t, db, nil)
		so := confirmedSO(t, ctx, svc)
		ship(t, svc, shipmentMsg(t, "e1", "S1", so.ID, t0, shipped{1, "20"}))
		got, _ := svc.GetSalesOrder(ctx, so.ID)
		if got.State != orders.SOPartiallyShipped || got.Lines[0].Backorder() != 4_000_000 || got.Lines[1].Backorder() != 0 {
			t.Fatalf("after a short shipment: %+v", got)
		}
		// line 1 is partly shipped: its backorder can be cancelled; line 2 can too
		c, err := svc.CancelSalesOrder(ctx, "", so.ID, []int{1}, "customer no longer needs the rest")
		if err != nil || c.State != orders.SOPartiallyShipped || c.Lines[0].Cancelled != 4_000_000 || c.Lines[0].Open() != 0 {
			t.Fatalf("cancel line 1's backorder = %+v, %v", c, err)
		}
		_, err = svc.CancelSalesOrder(ctx, "", so.ID, []int{1}, "")
		if !errors.Is(err, orders.ErrNothingToCancel) {
			t.Fatalf("cancel line 1 again: %v, want NOTHING_TO_CANCEL", err)
		}
		if _, err := svc.CancelSalesOrder(ctx, "", so.ID, []int{9}, ""); apperr.KindOf(err) != apperr.KindInvalidArgument {
			t.Fatalf("cancel line 9: %v, want InvalidArgument", err)
		}
		c, err = svc.CancelSalesOrder(ctx, "", so.ID, nil, "")
		if err != nil || c.State != orders.SOClosed || c.CancelledAt.IsZero() {
			t.Fatalf("cancel the rest = %+v, %v; want CLOSED", c, err)
		}
		_, err = svc.CancelSalesOrder(ctx, "", so.ID, nil, "")
		wantSOState(t, err, orders.SOClosed)
		if n := countType(t, db, "trueup.orders.v1.SalesOrderCancelled"); n != 2 {
			t.Errorf("%d SalesOrderCancelled, want 2", n)
		}
		// a draft cancelled as a whole is CANCELLED; a shipped order cannot be
		d, err := svc.CreateSalesOrder(ctx, "", twoLineOrder())
		if err != nil {
			t.Fatal(err)
		}
		if d, err = svc.CancelSalesOrder(ctx, "", d.ID, nil, ""); err != nil || d.State != orders.SOCancelled {
			t.Fatalf("cancel a draft = %+v, %v", d, err)
		}
		_, err = svc.ConfirmSalesOrder(ctx, "", d.ID)
		wantSOState(t, err, orders.SOCancelled)
		full := confirmedSO(t, ctx, svc)
		ship(t, svc, shipmentMsg(t, "e2", "S2", full.ID, t0, shipped{1, "24"}, shipped{2, "0.5"}))
		_, err = svc.CancelSalesOrder(ctx, "", full.ID, nil, "")
		wantSOState(t, err, orders.SOShipped)
	})
}

func TestCreditLimitHoldsAcrossOrdersAndInvoices(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		limit := int64(5000)
		svc := soFixture(t, db, &limit)
		first := confirmedSO(t, ctx, svc) // 2579 of 5000
		second, err := svc.CreateSalesOrder(ctx, "", twoLineOrder())
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.ConfirmSalesOrder(ctx, "", second.ID)
		var e *apperr.Error
		if !errors.Is(err, orders.ErrCreditLimit) || !errors.As(err, &e) || e.Metadata["exposure_minor_units"] != "2579" ||
			e.Metadata["credit_limit_minor_units"] != "5000" || e.Metadata["order_total_minor_units"] != "2579" {
			t.Fatalf("second confirm: %v (%+v), want CREDIT_LIMIT_EXCEEDED with exposure 2579", err, e)
		}
		// shipping and invoicing the first moves exposure from order to invoice
		ship(t, svc, shipmentMsg(t, "e1", "S1", first.ID, t0, shipped{1, "24"}, shipped{2, "0.5"}))
		if _, err := svc.ConfirmSalesOrder(ctx, "", second.ID); !errors.Is(err, orders.ErrCreditLimit) {
			t.Fatalf("confirm with the first invoiced and unpaid: %v, want refused", err)
		}
		// paying the invoice frees the headroom
		if _, err := svc.RecordPayment(ctx, "", orders.PaymentInput{Customer: "SHOP", Amount: 2579, Method: orders.MethodBankTransfer}); err != nil {
			t.Fatal(err)
		}
		if c, err := svc.ConfirmSalesOrder(ctx, "", second.ID); err != nil || c.State != orders.SOConfirmed {
			t.Fatalf("confirm after payment = %+v, %v", c, err)
		}
	})
}

func TestPaymentsSettleInvoicesAndReceivablesAreAged(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := soFixture(t, db, nil)
		so := confirmedSO(t, ctx, svc)
		at1, at2 := t0.Add(-2*time.Hour), t0.Add(-time.Hour)
		ship(t, svc, shipmentMsg(t, "e1", "S1", so.ID, at1, shipped{1, "20"}, shipped{2, "0.5"}))
		ship(t, svc, shipmentMsg(t, "e2", "S2", so.ID, at2, shipped{1, "4"}))
		i1, _ := svc.ListInvoices(ctx, app.InvoiceFilter{}, paging.Page{Limit: 10})
		inv := map[string]*orders.Invoice{}
		for _, i := range i1 {
			inv[i.Shipment] = i
		}
		// 40 days after due, both invoices (2180 + 401) are 31-60 days past due
		asOf := at2.AddDate(0, 0, 70)
		rows, err := svc.ReceivablesAgeing(ctx, app.AgeingFilter{AsOf: asOf}, paging.Page{Limit: 10})
		if err != nil || len(rows) != 1 {
			t.Fatalf("ageing = %v, %v", rows, err)
		}
		r := rows[0]
		if r.Customer != "SHOP" || r.Currency != "EUR" || r.OpenTotal() != 2581 || r.Buckets[2].Amount != 2581 || r.Buckets[2].Count != 2 ||
			r.Buckets[0].Amount != 0 || !r.OldestDue.Equal(inv["S1"].DueAt) {
			t.Fatalf("ageing row = %+v", r)
		}
		if rows, _ := svc.ReceivablesAgeing(ctx, app.AgeingFilter{AsOf: at2}, paging.Page{Limit: 10}); rows[0].Buckets[0].Amount != 2581 {
			t.Errorf("at issue nothing is past due: %+v", rows[0])
		}
		// 2000 unapplied goes to the earliest due invoice first
		p1, err := svc.RecordPayment(ctx, "pay-1", orders.PaymentInput{Customer: "shop", Amount: 2000, Method: orders.MethodBankTransfer, Reference: "BANK-1", ReceivedAt: at2})
		if err != nil || len(p1.Applications) != 1 || p1.Applications[0].Invoice != inv["S1"].ID || p1.Unapplied() != 0 {
			t.Fatalf("payment 1 = %+v, %v", p1, err)
		}
		if again, err := svc.RecordPayment(ctx, "pay-1", orders.PaymentInput{Customer: "shop", Amount: 2000, Method: orders.MethodBankTransfer, Reference: "BANK-1", ReceivedAt: at2}); err != nil || again.ID != p1.ID {
			t.Fatalf("payment retry = %v, %v", again, err)
		}
		if got, _ := svc.GetInvoice(ctx, inv["S1"].ID); got.State != orders.InvoicePartiallyPaid || got.Open() != 180 {
			t.Fatalf("S1 after 2000 = %+v", got)
		}
		// refused applications change nothing
		for name, in := range map[string]orders.PaymentInput{
			"more than open": {Customer: "SHOP", Amount: 1000, Method: orders.MethodCash, Applications: []orders.Application{{Invoice: inv["S1"].ID, Amount: 181}}},
			"more than paid": {Customer: "SHOP", Amount: 100, Method: orders.MethodCash, Applications: []orders.Application{{Invoice: inv["S1"].ID, Amount: 150}}},
			"no invoice":     {Customer: "SHOP", Amount: 100, Method: orders.MethodCash, Applications: []orders.Application{{Invoice: "nope", Amount: 50}}},
			"zero":           {Customer: "SHOP", Amount: 0, Method: orders.MethodCash},
			"no method":      {Customer: "SHOP", Amount: 10},
			"future":         {Customer: "SHOP", Amount: 10, Method: orders.MethodCash, ReceivedAt: time.Now().Add(time.Hour)},
			"currency":       {Customer: "SHOP", Amount: 10, Currency: "USD", Method: orders.MethodCash, Applications: []orders.Application{{Invoice: inv["S1"].ID, Amount: 10}}},
		} {
			if _, err := svc.RecordPayment(ctx, "", in); apperr.KindOf(err) != apperr.KindInvalidArgument {
				t.Errorf("%s: %v, want InvalidArgument", name, err)
			}
		}
		p2, err := svc.RecordPayment(ctx, "", orders.PaymentInput{Customer: "SHOP", Amount: 700, Method: orders.MethodCard,
			Applications: []orders.Application{{Invoice: inv["S1"].ID, Amount: 180}, {Invoice: inv["S2"].ID, Amount: 401}}, ReceivedAt: at2})
		if err != nil || p2.Unapplied() != 119 {
			t.Fatalf("payment 2 = %+v, %v", p2, err)
		}
		for _, id := range []string{inv["S1"].ID, inv["S2"].ID} {
			if got, _ := svc.GetInvoice(ctx, id); got.State != orders.InvoicePaid || got.Open() != 0 || got.PaidAt.IsZero() {
				t.Errorf("invoice %s = %+v, want PAID", id, got)
			}
		}
		rows, err = svc.ReceivablesAgeing(ctx, app.AgeingFilter{AsOf: asOf}, paging.Page{Limit: 10})
		if err != nil || len(rows) != 1 || rows[0].OpenTotal() != 0 || rows[0].Unapplied != 119 || !rows[0].OldestDue.IsZero() {
			t.Fatalf("ageing after payment = %+v, %v; want only the 119 credit", rows, err)
		}
		if n := countType(t, db, "trueup.orders.v1.PaymentReceived"); n != 2 {
			t.Errorf("%d PaymentReceived, want 2", n)
		}
		if ps, _ := svc.ListPayments(ctx, app.PaymentFilter{Customer: "SHOP"}, paging.Page{Limit: 10}); len(ps) != 2 || len(ps[1].Applications) != 2 {
			t.Errorf("payments = %+v", ps)
		}
	})
}

func TestShipmentOfAnUnknownSalesOrderIsDeadLettered(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := soFixture(t, db, nil)
		so := confirmedSO(t, ctx, svc)
		errs := events.ShipmentsHandler(svc)(ctx, []*natsx.Message{
			shipmentMsg(t, "e1", "S1", "no-such-order", t0, shipped{1, "1"}),
			shipmentMsg(t, "e2", "S2", so.ID, t0, shipped{7, "1"}),
			shipmentMsg(t, "e3", "S3", so.ID, t0, shipped{1, "abc"}),
			shipmentMsg(t, "e4", "T1", "", t0, shipped{1, "1"}), // a transfer: no sales order
			shipmentMsg(t, "e5", "S5", so.ID, t0, shipped{2, "0.5"}),
		})
		for i, want := range []bool{true, true, true, false, false} {
			if got := errors.Is(errs[i], natsx.ErrPermanent); got != want {
				t.Errorf("delivery %d: err %v, permanent %v, want %v", i, errs[i], got, want)
			}
		}
		if errs[3] != nil || errs[4] != nil {
			t.Fatalf("good deliveries failed: %v %v", errs[3], errs[4])
		}
		if evs := issuedInvoices(t, db); len(evs) != 1 || evs[0].GetShipment() != "shipments/S5" {
			t.Fatalf("invoices = %v, want S5's only", evs)
		}
	})
}

func TestPartnerSeesAndChangesOnlyItsOwnSalesDocuments(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := soFixture(t, db, nil)
		pa := caller.NewContext(ctx, caller.Partner("partner-a"))
		pb := caller.NewContext(ctx, caller.Partner("partner-b"))
		// a's own customer; b cannot see it or order for it
		if _, err := svc.CreateCustomer(pa, "", orders.Customer{Code: "A-SHOP", DisplayName: "A's shop", CurrencyCode: "EUR"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.GetCustomer(pb, "A-SHOP"); apperr.KindOf(err) != apperr.KindNotFound {
			t.Errorf("b gets a's customer: %v", err)
		}
		if cs, _ := svc.ListCustomers(pb, app.PartyFilter{}, paging.Page{Limit: 10}); len(cs) != 1 || cs[0].Code != "SHOP" {
			t.Errorf("b lists customers %v, want only the company's SHOP", cs)
		}
		// a partner cannot reach another's customer by filtering for it either
		a := "partner-a"
		if cs, _ := svc.ListCustomers(pb, app.PartyFilter{Partner: &a}, paging.Page{Limit: 10}); len(cs) != 0 {
			t.Errorf("b lists a's customers by filter: %v", cs)
		}
		if cs, _ := svc.ListCustomers(ctx, app.PartyFilter{Partner: &a}, paging.Page{Limit: 10}); len(cs) != 1 || cs[0].Partner != "partner-a" {
			t.Errorf("internal filter by partner: %v", cs)
		}
		in := twoLineOrder()
		in.Customer = "A-SHOP"
		if _, err := svc.CreateSalesOrder(pb, "", in); apperr.KindOf(err) != apperr.KindInvalidArgument {
			t.Errorf("b orders for a's customer: %v, want InvalidArgument (no such customer)", err)
		}
		so, err := svc.CreateSalesOrder(pa, "", in)
		if err != nil || so.Partner != "partner-a" {
			t.Fatalf("a's order = %+v, %v", so, err)
		}
		for name, f := range map[string]func() error{
			"get":     func() error { _, err := svc.GetSalesOrder(pb, so.ID); return err },
			"confirm": func() error { _, err := svc.ConfirmSalesOrder(pb, "", so.ID); return err },
			"cancel":  func() error { _, err := svc.CancelSalesOrder(pb, "", so.ID, nil, ""); return err },
		} {
			if err := f(); apperr.KindOf(err) != apperr.KindNotFound {
				t.Errorf("%s as another partner: %v, want NotFound", name, err)
			}
		}
		if sos, _ := svc.ListSalesOrders(pb, app.SOFilter{Partner: &a}, paging.Page{Limit: 10}); len(sos) != 0 {
			t.Errorf("b lists %d of a's orders", len(sos))
		}
		if _, err := svc.ConfirmSalesOrder(pa, "", so.ID); err != nil {
			t.Fatal(err)
		}
		ship(t, svc, shipmentMsg(t, "e1", "S1", so.ID, t0, shipped{1, "24"}))
		invs, err := svc.ListInvoices(pa, app.InvoiceFilter{}, paging.Page{Limit: 10})
		if err != nil || len(invs) != 1 || invs[0].Partner != "partner-a" {
			t.Fatalf("a's invoices = %v, %v", invs, err)
		}
		if _, err := svc.GetInvoice(pb, invs[0].ID); apperr.KindOf(err) != apperr.KindNotFound {
			t.Errorf("b gets a's invoice: %v", err)
		}
		if got, _ := svc.ListInvoices(pb, app.InvoiceFilter{}, paging.Page{Limit: 10}); len(got) != 0 {
			t.Errorf("b lists %d invoices", len(got))
		}
		if _, err := svc.RecordPayment(pb, "", orders.PaymentInput{Customer: "SHOP", Amount: 10, Method: orders.MethodCash,
			Applications: []orders.Application{{Invoice: invs[0].ID, Amount: 10}}}); apperr.KindOf(err) != apperr.KindNotFound {
			t.Errorf("b pays a's invoice: %v, want NotFound", err)
		}
		p, err := svc.RecordPayment(pa, "", orders.PaymentInput{Customer: "A-SHOP", Amount: 10, Method: orders.MethodCash})
		if err != nil || len(p.Applications) != 1 {
			t.Fatalf("a pays its invoice = %+v, %v", p, err)
		}
		if _, err := svc.GetPayment(pb, p.ID); apperr.KindOf(err) != apperr.KindNotFound {
			t.Errorf("b gets a's payment: %v", err)
		}
		if rows, _ := svc.ReceivablesAgeing(pb, app.AgeingFilter{}, paging.Page{Limit: 10}); len(rows) != 0 {
			t.Errorf("b ages a's receivables: %+v", rows)
		}
		if rows, _ := svc.ReceivablesAgeing(pa, app.AgeingFilter{}, paging.Page{Limit: 10}); len(rows) != 1 {
			t.Errorf("a's ageing = %+v", rows)
		}
		// internal callers see everything
		if sos, _ := svc.ListSalesOrders(ctx, app.SOFilter{}, paging.Page{Limit: 10}); len(sos) != 1 {
			t.Errorf("internal lists %d orders", len(sos))
		}
	})
}

func TestListSalesOrdersFiltersAndPages(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := soFixture(t, db, nil)
		var ids []string
		for i := 0; i < 5; i++ {
			so, err := svc.CreateSalesOrder(ctx, "", twoLineOrder())
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, so.ID)
		}
		if _, err := svc.ConfirmSalesOrder(ctx, "", ids[1]); err != nil {
			t.Fatal(err)
		}
		page := paging.Page{Limit: 2}
		var seen []string
		for {
			sos, err := svc.ListSalesOrders(ctx, app.SOFilter{Customer: "SHOP"}, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, so := range sos {
				seen = append(seen, so.ID)
				if len(so.Lines) != 2 {
					t.Errorf("order %s listed with %d lines", so.ID, len(so.Lines))
				}
			}
			if len(sos) < page.Limit {
				break
			}
			page.After = sos[len(sos)-1].ID
		}
		if len(seen) != 5 {
			t.Fatalf("paged through %d orders, want 5", len(seen))
		}
		if sos, _ := svc.ListSalesOrders(ctx, app.SOFilter{State: orders.SOConfirmed}, paging.Page{Limit: 10}); len(sos) != 1 || sos[0].ID != ids[1] {
			t.Errorf("confirmed = %v", sos)
		}
	})
}

// stageMsg is a real encoded inventory AllocationCreated (pick false) or
// StockPicked for the outbound order named after so.
func stageMsg(t *testing.T, id, so string, pick bool, at time.Time) *natsx.Message {
	t.Helper()
	order := &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_OUTBOUND_ORDER, Id: so}
	var m proto.Message = &inventoryv1.AllocationCreated{EventId: id, OccurredAt: timestamppb.New(at), AggregateId: "items/W-1",
		Allocation: &inventoryv1.Allocation{Name: "allocations/" + id, Order: order, CreateTime: timestamppb.New(at)}}
	subject := events.AllocationCreatedSubject
	if pick {
		m = &inventoryv1.StockPicked{EventId: id, OccurredAt: timestamppb.New(at), AggregateId: "items/W-1",
			Movement: &inventoryv1.Movement{Name: "movements/" + id, Type: inventoryv1.MovementType_MOVEMENT_TYPE_MOVE, Source: order,
				EffectiveTime: timestamppb.New(at)}}
		subject = events.StockPickedSubject
	}
	return &natsx.Message{EventID: id, Type: string(m.ProtoReflect().Descriptor().FullName()), Subject: subject, Data: payload(t, m)}
}

func TestOrderToCashAndProcureToPayStagesAreTimed(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := soFixture(t, db, nil)
		so := confirmedSO(t, ctx, svc) // confirmed at t0 + a few seconds
		// stage times before the test clock (t0 + seconds), which would clamp later ones
		allocated, picked, shippedAt := t0.Add(-50*time.Minute), t0.Add(-45*time.Minute), t0.Add(-40*time.Minute)
		// the pick arrives first, then the allocation twice, then a later allocation
		for i, err := range events.StagesHandler(svc)(ctx, []*natsx.Message{
			stageMsg(t, "pick-1", so.ID, true, picked), stageMsg(t, "alloc-1", so.ID, false, allocated),
			stageMsg(t, "alloc-1", so.ID, false, allocated), stageMsg(t, "alloc-2", so.ID, false, allocated.Add(time.Minute)),
			stageMsg(t, "alloc-x", "not-a-sales-order", false, allocated),
		}) {
			if err != nil {
				t.Fatalf("stage %d: %v", i, err)
			}
		}
		got, _ := svc.GetSalesOrder(ctx, so.ID)
		if !got.AllocatedAt.Equal(allocated) || !got.PickedAt.Equal(picked) {
			t.Fatalf("stages = allocated %v picked %v", got.AllocatedAt, got.PickedAt)
		}
		ship(t, svc, shipmentMsg(t, "e1", "S1", so.ID, shippedAt, shipped{1, "24"}, shipped{2, "0.5"}))
		got, _ = svc.GetSalesOrder(ctx, so.ID)
		if !got.ShippedAt.Equal(shippedAt) || !got.InvoicedAt.Equal(shippedAt) || !got.PaidAt.IsZero() {
			t.Fatalf("after shipment: shipped %v invoiced %v paid %v", got.ShippedAt, got.InvoicedAt, got.PaidAt)
		}
		if _, err := svc.RecordPayment(ctx, "", orders.PaymentInput{Customer: "SHOP", Amount: 1000, Method: orders.MethodCash}); err != nil {
			t.Fatal(err)
		}
		if got, _ = svc.GetSalesOrder(ctx, so.ID); !got.PaidAt.IsZero() {
			t.Fatal("a part payment marked the order paid")
		}
		p, err := svc.RecordPayment(ctx, "", orders.PaymentInput{Customer: "SHOP", Amount: 1579, Method: orders.MethodCash})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ = svc.GetSalesOrder(ctx, so.ID); !got.PaidAt.Equal(p.ReceivedAt) {
			t.Fatalf("paid at %v, want the last payment's %v", got.PaidAt, p.ReceivedAt)
		}
		tm, err := svc.OrderToCashTimings(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
		if err != nil || tm.Documents != 1 || len(tm.Steps) != 7 {
			t.Fatalf("timings = %+v, %v", tm, err)
		}
		for _, st := range tm.Steps {
			if st.Count != 1 {
				t.Errorf("step %s -> %s counted %d orders, want 1", st.From, st.To, st.Count)
			}
		}
		if whole := tm.Steps[6]; whole.From != "CONFIRMED" || whole.To != "PAID" || whole.Max != got.PaidAt.Sub(got.ConfirmedAt) {
			t.Errorf("confirmed to paid = %+v, want %v", whole, got.PaidAt.Sub(got.ConfirmedAt))
		}
		if tm, _ := svc.OrderToCashTimings(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour)); tm.Documents != 0 || tm.Steps[0].Count != 0 {
			t.Errorf("an empty range = %+v", tm)
		}
		pb := caller.NewContext(ctx, caller.Partner("partner-b"))
		if tm, _ := svc.OrderToCashTimings(pb, t0.Add(-time.Hour), t0.Add(time.Hour)); tm.Documents != 0 {
			t.Errorf("another partner times %d of the company's orders", tm.Documents)
		}
		if _, err := svc.OrderToCashTimings(ctx, t0, t0); apperr.KindOf(err) != apperr.KindInvalidArgument {
			t.Errorf("empty range: %v", err)
		}

		po := releasedPO(t, ctx, svc, "ACME", "3.00")
		deliver(t, svc, valuedReceipt(t, "m1", po.ID, 1, "10", 3000, "EUR", false))
		if _, err := svc.RecordBill(ctx, "", po.ID, billInput("B-1", 0, bl(1, "10", "", "3"))); err != nil {
			t.Fatal(err)
		}
		gotPO, _ := svc.GetPurchaseOrder(ctx, po.ID)
		if gotPO.ReceivedAt.IsZero() || gotPO.BilledAt.IsZero() || gotPO.BilledAt.Before(gotPO.ReceivedAt) {
			t.Fatalf("purchase order stages: received %v billed %v", gotPO.ReceivedAt, gotPO.BilledAt)
		}
		if _, err := svc.RecordSupplierPayment(ctx, "", orders.SupplierPaymentInput{Supplier: "ACME", Amount: 3000, Method: orders.MethodBankTransfer}); err != nil {
			t.Fatal(err)
		}
		if gotPO, _ = svc.GetPurchaseOrder(ctx, po.ID); gotPO.PaidAt.IsZero() {
			t.Fatalf("purchase order not paid after its bill was: %+v", gotPO)
		}
		ptp, err := svc.ProcureToPayTimings(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
		if err != nil || ptp.Documents != 1 || len(ptp.Steps) != 4 || ptp.Steps[3].From != "RELEASED" || ptp.Steps[3].To != "PAID" {
			t.Fatalf("procure to pay = %+v, %v", ptp, err)
		}
		for _, st := range ptp.Steps {
			if st.Count != 1 {
				t.Errorf("step %s -> %s counted %d orders, want 1", st.From, st.To, st.Count)
			}
		}
	})
}
