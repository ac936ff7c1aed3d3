package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
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

// poFixture is a service with two suppliers (EUR and JPY) and two catalog
// items, one with a case of 12.
func poFixture(t *testing.T, db *sqldb.DB) *app.Service {
	t.Helper()
	ctx := context.Background()
	svc := newService(t, db)
	for _, s := range []orders.Supplier{{Code: "ACME", DisplayName: "Acme", CurrencyCode: "EUR"}, {Code: "NIPPON", DisplayName: "Nippon", CurrencyCode: "JPY"}} {
		if _, err := svc.CreateSupplier(ctx, "", s); err != nil {
			t.Fatal(err)
		}
	}
	for i, it := range []orders.CatalogItem{
		{SKU: "W-1", Description: "Widget", BaseUoM: "EA", SourceVersion: 1, UoMs: []orders.UoMFactor{{UoM: "CS", Factor: "12"}}},
		{SKU: "B-1", Description: "Bolts", BaseUoM: "KG", SourceVersion: 1},
	} {
		if _, err := svc.SyncCatalogItem(ctx, fmt.Sprintf("item-%d", i), it); err != nil {
			t.Fatal(err)
		}
	}
	return svc
}

func draft(supplier string, lines ...orders.POLineInput) orders.POInput {
	return orders.POInput{Supplier: supplier, Lines: lines}
}

func wline(qty, uom, price string) orders.POLineInput {
	return orders.POLineInput{Item: "W-1", Quantity: qty, UoM: uom, UnitPrice: price, Warehouse: "WH1", ExpectedDate: "2026-12-24"}
}

func wantPOState(t *testing.T, err error, state orders.POState) {
	t.Helper()
	var e *apperr.Error
	if !errors.Is(err, orders.ErrPOState) || !errors.As(err, &e) || e.Metadata["state"] != state.String() {
		t.Fatalf("err = %v, want FailedPrecondition naming state %s", err, state)
	}
}

// receiptMsg is a real encoded inventory StockReceived (or, with reversal,
// StockReversed) naming purchase order po line line.
func receiptMsg(t *testing.T, id, po string, line int, base string, reversal bool) *natsx.Message {
	t.Helper()
	mv := &inventoryv1.Movement{
		Name: "movements/" + id, Type: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, Item: "items/W-1", Warehouse: "WH1",
		Quantity: &typev1.Quantity{Value: base, Uom: "EA"}, BaseQuantity: base,
		Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: po, Line: fmt.Sprint(line)},
	}
	var m proto.Message = &inventoryv1.StockReceived{EventId: id, OccurredAt: timestamppb.New(t0), AggregateId: "items/W-1", AggregateVersion: 1, Movement: mv}
	subject := events.StockReceivedSubject
	if reversal {
		mv.Type = inventoryv1.MovementType_MOVEMENT_TYPE_REVERSAL
		mv.BaseQuantity = "-" + base
		mv.Quantity.Value = "-" + base
		m = &inventoryv1.StockReversed{EventId: id, OccurredAt: timestamppb.New(t0), AggregateId: "items/W-1", AggregateVersion: 2, Movement: mv}
		subject = events.StockReversedSubject
	}
	return &natsx.Message{EventID: id, Type: string(m.ProtoReflect().Descriptor().FullName()), Subject: subject, Data: payload(t, m)}
}

func payload(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func deliver(t *testing.T, svc *app.Service, msgs ...*natsx.Message) {
	t.Helper()
	for i, err := range events.ReceiptsHandler(svc)(context.Background(), msgs) {
		if err != nil {
			t.Fatalf("delivery %d (%s): %v", i, msgs[i].EventID, err)
		}
	}
}

func TestPurchaseOrderLifecycleIsStored(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		po, err := svc.CreatePurchaseOrder(ctx, "c1", draft("acme", wline("2", "CS", "10.005"), orders.POLineInput{Item: "b-1", Quantity: "0.5", UnitPrice: "3.33", Warehouse: "wh2"}))
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		// 2 CS x 10.005 = 20.01 EUR; 0.5 KG x 3.33 = 1.665 -> 1.66 (half to even).
		if po.State != orders.StateDraft || po.Currency != "EUR" || po.Lines[0].BaseQty != 24_000_000 || po.Lines[0].Amount != 2001 || po.Lines[1].Amount != 166 || po.Total() != 2167 {
			t.Fatalf("created %+v", po)
		}
		got, err := svc.GetPurchaseOrder(ctx, po.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Total() != 2167 || got.Lines[1].SKU != "B-1" || got.Lines[1].Warehouse != "WH2" || got.Lines[0].Factor != "12" || !got.CreatedAt.Equal(po.CreatedAt) {
			t.Errorf("read back %+v", got)
		}
		if _, err := svc.ClosePurchaseOrder(ctx, "", po.ID); err == nil {
			t.Fatal("closed a draft")
		} else {
			wantPOState(t, err, orders.StateDraft)
		}

		rel, err := svc.ReleasePurchaseOrder(ctx, "r1", po.ID)
		if err != nil || rel.State != orders.StateReleased || rel.ReleasedAt.IsZero() {
			t.Fatalf("release: %+v %v", rel, err)
		}
		// A retried release returns the first answer and emits nothing new.
		again, err := svc.ReleasePurchaseOrder(ctx, "r1", po.ID)
		if err != nil || again.Version != rel.Version {
			t.Fatalf("retried release: %+v %v", again, err)
		}
		_, err = svc.ReleasePurchaseOrder(ctx, "r2", po.ID)
		wantPOState(t, err, orders.StateReleased)

		var released []*ordersv1.PurchaseOrderReleased
		for _, r := range outboxRows(t, db) {
			if r.typ == "trueup.orders.v1.PurchaseOrderReleased" {
				var ev ordersv1.PurchaseOrderReleased
				if err := proto.Unmarshal(r.payload, &ev); err != nil {
					t.Fatal(err)
				}
				released = append(released, &ev)
			}
		}
		if len(released) != 1 {
			t.Fatalf("%d PurchaseOrderReleased events, want 1", len(released))
		}
		ev := released[0]
		l := ev.GetPurchaseOrder().GetLines()[0]
		if ev.GetAggregateId() != "purchaseOrders/"+po.ID || ev.GetPurchaseOrder().GetSupplier() != "suppliers/ACME" || l.GetItem() != "W-1" ||
			l.GetBaseQuantity() != "24" || l.GetBaseUom() != "EA" || l.GetQuantity().GetUom() != "CS" || l.GetWarehouse() != "WH1" || l.GetExpectedDate() != "2026-12-24" {
			t.Errorf("released event %v", ev)
		}

		deliver(t, svc, receiptMsg(t, "m1", po.ID, 1, "24", false))
		got, _ = svc.GetPurchaseOrder(ctx, po.ID)
		if got.State != orders.StatePartiallyReceived || got.Lines[0].Received != 24_000_000 {
			t.Fatalf("after first receipt: %s %+v", got.State, got.Lines[0])
		}
		deliver(t, svc, receiptMsg(t, "m2", "purchaseOrders/"+po.ID, 2, "0.5", false))
		got, _ = svc.GetPurchaseOrder(ctx, po.ID)
		if got.State != orders.StateReceived {
			t.Fatalf("after all receipts: %s", got.State)
		}
		_, err = svc.CancelPurchaseOrder(ctx, "", po.ID)
		wantPOState(t, err, orders.StateReceived)
		closed, err := svc.ClosePurchaseOrder(ctx, "x1", po.ID)
		if err != nil || closed.State != orders.StateClosed {
			t.Fatalf("close: %v", err)
		}
		for _, f := range []func() error{
			func() error { _, err := svc.ClosePurchaseOrder(ctx, "", po.ID); return err },
			func() error { _, err := svc.CancelPurchaseOrder(ctx, "", po.ID); return err },
			func() error { _, err := svc.ReleasePurchaseOrder(ctx, "", po.ID); return err },
		} {
			wantPOState(t, f(), orders.StateClosed)
		}

		// Cancel: a draft becomes CANCELLED; a partly received order CLOSED,
		// with only its open remainder cancelled.
		d, _ := svc.CreatePurchaseOrder(ctx, "", draft("ACME", wline("10", "", "1")))
		c, err := svc.CancelPurchaseOrder(ctx, "", d.ID)
		if err != nil || c.State != orders.StateCancelled || c.Lines[0].Cancelled != 10_000_000 {
			t.Fatalf("cancel draft: %+v %v", c, err)
		}
		_, err = svc.ReleasePurchaseOrder(ctx, "", d.ID)
		wantPOState(t, err, orders.StateCancelled)
		p, _ := svc.CreatePurchaseOrder(ctx, "", draft("ACME", wline("10", "", "1")))
		if _, err := svc.ReleasePurchaseOrder(ctx, "", p.ID); err != nil {
			t.Fatal(err)
		}
		deliver(t, svc, receiptMsg(t, "m3", p.ID, 1, "4", false))
		c, err = svc.CancelPurchaseOrder(ctx, "", p.ID)
		if err != nil || c.State != orders.StateClosed || c.Lines[0].Cancelled != 6_000_000 || c.Lines[0].Received != 4_000_000 {
			t.Fatalf("cancel partly received: %+v %v", c, err)
		}
		_, err = svc.GetPurchaseOrder(ctx, "nope")
		wantKind(t, err, apperr.KindNotFound)
	})
}

func TestPurchaseOrderAmountsAreExactInTheCurrencysMinorUnit(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		// JPY has exponent 0: 3 x 333.5 = 1000.5 -> 1000 (half to even).
		po, err := svc.CreatePurchaseOrder(ctx, "", draft("NIPPON", wline("3", "", "333.5"), wline("1", "", "2.5")))
		if err != nil {
			t.Fatal(err)
		}
		if po.Currency != "JPY" || po.Lines[0].Amount != 1000 || po.Lines[1].Amount != 2 || po.Total() != 1002 {
			t.Errorf("JPY amounts %+v", po.Lines)
		}
		// A JPY price with decimals beyond the yen is fine (rounded once), an
		// explicit currency overrides the supplier's.
		in := draft("ACME", wline("3", "", "0.333333"))
		in.Currency = "usd"
		po, err = svc.CreatePurchaseOrder(ctx, "", in)
		if err != nil || po.Currency != "USD" || po.Total() != 100 {
			t.Fatalf("USD order: %+v %v", po, err)
		}
		got, _ := svc.GetPurchaseOrder(ctx, po.ID)
		if got.Total() != 100 || got.Lines[0].UnitPrice != "0.333333" {
			t.Errorf("read back %+v", got.Lines[0])
		}
	})
}

func TestCreatePurchaseOrderRetryReturnsTheFirstOrder(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		in := draft("ACME", wline("1", "CS", "5"))
		first, err := svc.CreatePurchaseOrder(ctx, "req-1", in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := svc.CreatePurchaseOrder(ctx, "req-1", in)
		if err != nil || again.ID != first.ID || !again.CreatedAt.Equal(first.CreatedAt) {
			t.Fatalf("retry: %+v %v, want %s", again, err, first.ID)
		}
		_, err = svc.CreatePurchaseOrder(ctx, "req-1", draft("ACME", wline("2", "CS", "5")))
		wantKind(t, err, apperr.KindInvalidArgument)
		// The same key from a partner is another command.
		pctx := caller.NewContext(ctx, caller.Partner("p1"))
		other, err := svc.CreatePurchaseOrder(pctx, "req-1", in)
		if err != nil || other.ID == first.ID {
			t.Fatalf("partner's req-1: %+v %v", other, err)
		}
		all, _ := svc.ListPurchaseOrders(ctx, app.POFilter{}, paging.Page{Limit: 10})
		if len(all) != 2 {
			t.Errorf("%d orders, want 2", len(all))
		}
		// Refusals: unknown supplier, item and unit, each on its field.
		_, err = svc.CreatePurchaseOrder(ctx, "", draft("NOBODY", wline("1", "", "1")))
		wantKind(t, err, apperr.KindInvalidArgument)
		_, err = svc.CreatePurchaseOrder(ctx, "", draft("ACME", orders.POLineInput{Item: "ZZZ", Quantity: "1", UnitPrice: "1", Warehouse: "W"}, wline("1", "PL", "1")))
		var e *apperr.Error
		if !errors.As(err, &e) || len(e.Violations) != 2 || e.Violations[0].Field != "purchase_order.lines[0].item" || e.Violations[1].Field != "purchase_order.lines[1].quantity.uom" {
			t.Errorf("err = %v", err)
		}
	})
}

func TestReceiptsAreAppliedOnceInAnyOrder(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		po, _ := svc.CreatePurchaseOrder(ctx, "", draft("ACME", wline("10", "", "1")))
		if _, err := svc.ReleasePurchaseOrder(ctx, "", po.ID); err != nil {
			t.Fatal(err)
		}
		a, b, rev := receiptMsg(t, "a", po.ID, 1, "6", false), receiptMsg(t, "b", po.ID, 1, "3", false), receiptMsg(t, "rev", po.ID, 1, "3", true)
		// Triple delivery, in one batch and across batches, with the reversal
		// arriving before the receipt it reverses.
		deliver(t, svc, rev, a, a)
		deliver(t, svc, a)
		deliver(t, svc, b, rev, b)
		got, _ := svc.GetPurchaseOrder(ctx, po.ID)
		if got.Lines[0].Received != 6_000_000 || got.State != orders.StatePartiallyReceived {
			t.Fatalf("received %s (%s), want 6 PARTIALLY_RECEIVED", got.Lines[0].Received, got.State)
		}
		// Movements that name no purchase order, or one unknown here, are
		// acknowledged and change nothing.
		other := receiptMsg(t, "o", po.ID, 1, "1", false)
		var ev inventoryv1.StockReceived
		_ = proto.Unmarshal(other.Data, &ev)
		ev.Movement.Source.Type = inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_ADJUSTMENT
		other.Data = payload(t, &ev)
		deliver(t, svc, other, receiptMsg(t, "u", "unknown-po", 1, "1", false), receiptMsg(t, "l", po.ID, 9, "1", false))
		got, _ = svc.GetPurchaseOrder(ctx, po.ID)
		if got.Lines[0].Received != 6_000_000 {
			t.Errorf("received %s after foreign movements", got.Lines[0].Received)
		}
		// A line that is no number, or none (inventory takes any text),
		// names no line here: acknowledged like an unknown line, never
		// dead-lettered, and nothing changes.
		for i, line := range []string{"first", ""} {
			bad := receiptMsg(t, fmt.Sprintf("bad-%d", i), po.ID, 1, "1", false)
			_ = proto.Unmarshal(bad.Data, &ev)
			ev.Movement.Source.Line = line
			bad.Data = payload(t, &ev)
			if errs := events.ReceiptsHandler(svc)(ctx, []*natsx.Message{bad}); errs[0] != nil {
				t.Errorf("line %q: %v", line, errs[0])
			}
		}
		if got, _ = svc.GetPurchaseOrder(ctx, po.ID); got.Lines[0].Received != 6_000_000 {
			t.Errorf("received %s after movements naming no line", got.Lines[0].Received)
		}
	})
}

func TestOverReceiptBeyondToleranceStaysOpenUntilResolved(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		in := draft("ACME", wline("10", "", "1"), wline("1", "CS", "12"))
		in.TolerancePercent = "5"
		po, _ := svc.CreatePurchaseOrder(ctx, "", in)
		if _, err := svc.ReleasePurchaseOrder(ctx, "", po.ID); err != nil {
			t.Fatal(err)
		}
		// Line 1: 10.5 of 10 is within 5 %; line 2: 14 of 12 is beyond it.
		deliver(t, svc, receiptMsg(t, "r1", po.ID, 1, "10.5", false), receiptMsg(t, "r2", po.ID, 2, "14", false))
		got, _ := svc.GetPurchaseOrder(ctx, po.ID)
		if got.OpenDiscrepancy(&got.Lines[0]) != 0 || got.OpenDiscrepancy(&got.Lines[1]) != 1_400_000 || got.State != orders.StateReceived {
			t.Fatalf("discrepancies %s %s, state %s", got.OpenDiscrepancy(&got.Lines[0]), got.OpenDiscrepancy(&got.Lines[1]), got.State)
		}
		_, err := svc.ClosePurchaseOrder(ctx, "", po.ID)
		if !errors.Is(err, orders.ErrOpenDiscrepancy) {
			t.Fatalf("close with open discrepancy: %v", err)
		}
		_, err = svc.ResolveReceiptDiscrepancy(ctx, "", po.ID, 1, orders.ResolveAccept, orders.ReturnFrom{})
		if !errors.Is(err, orders.ErrNoDiscrepancy) {
			t.Errorf("resolve a line without one: %v", err)
		}
		// RETURN needs inventory, which this service has none of.
		_, err = svc.ResolveReceiptDiscrepancy(ctx, "", po.ID, 2, orders.ResolveReturn, orders.ReturnFrom{Location: "RCV"})
		if apperr.KindOf(err) != apperr.KindUnavailable {
			t.Errorf("return without inventory: %v", err)
		}
		// A location is for RETURN only.
		_, err = svc.ResolveReceiptDiscrepancy(ctx, "", po.ID, 2, orders.ResolveAccept, orders.ReturnFrom{Location: "RCV"})
		if apperr.KindOf(err) != apperr.KindInvalidArgument {
			t.Errorf("accept with a location: %v", err)
		}
		// 14 EA is not a whole number of cases of 12 as a 6-place decimal? 14/12 = 1.1666…: amend is refused.
		_, err = svc.ResolveReceiptDiscrepancy(ctx, "", po.ID, 2, orders.ResolveAmend, orders.ReturnFrom{})
		if !errors.Is(err, orders.ErrAmendNotExact) {
			t.Errorf("amend to 14/12 CS: %v", err)
		}
		res, err := svc.ResolveReceiptDiscrepancy(ctx, "acc-1", po.ID, 2, orders.ResolveAccept, orders.ReturnFrom{})
		if err != nil || res.OpenDiscrepancy(&res.Lines[1]) != 0 || res.AcceptedOverReceipt(&res.Lines[1]) != 1_400_000 {
			t.Fatalf("accept: %+v %v", res, err)
		}
		// An amend on another order raises the ordered quantity and its amount.
		p2, _ := svc.CreatePurchaseOrder(ctx, "", draft("ACME", wline("1", "CS", "12")))
		_, _ = svc.ReleasePurchaseOrder(ctx, "", p2.ID)
		deliver(t, svc, receiptMsg(t, "r3", p2.ID, 1, "18", false))
		am, err := svc.ResolveReceiptDiscrepancy(ctx, "", p2.ID, 1, orders.ResolveAmend, orders.ReturnFrom{})
		if err != nil || am.Lines[0].Quantity != "1.5" || am.Lines[0].BaseQty != 18_000_000 || am.Lines[0].Amount != 1800 || am.Total() != 1800 {
			t.Fatalf("amend: %+v %v", am, err)
		}
		got, _ = svc.GetPurchaseOrder(ctx, p2.ID)
		if got.Lines[0].BaseQty != 18_000_000 || got.Total() != 1800 || got.State != orders.StateReceived {
			t.Errorf("amend read back %+v", got)
		}
		if _, err := svc.ClosePurchaseOrder(ctx, "", po.ID); err != nil {
			t.Errorf("close after resolving: %v", err)
		}
	})
}

func TestPartnerSeesAndChangesOnlyItsOwnPurchaseOrders(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		pa := caller.NewContext(ctx, caller.Partner("partner-a"))
		pb := caller.NewContext(ctx, caller.Partner("partner-b"))
		mine, err := svc.CreatePurchaseOrder(pa, "", draft("ACME", wline("1", "", "1")))
		if err != nil || mine.Partner != "partner-a" {
			t.Fatalf("partner create: %+v %v", mine, err)
		}
		internal, _ := svc.CreatePurchaseOrder(ctx, "", draft("ACME", wline("1", "", "1")))
		if internal.Partner != "" {
			t.Fatalf("internal order owned by %q", internal.Partner)
		}
		for name, f := range map[string]func() error{
			"get":     func() error { _, err := svc.GetPurchaseOrder(pb, mine.ID); return err },
			"release": func() error { _, err := svc.ReleasePurchaseOrder(pb, "", mine.ID); return err },
			"cancel":  func() error { _, err := svc.CancelPurchaseOrder(pb, "", mine.ID); return err },
			"close":   func() error { _, err := svc.ClosePurchaseOrder(pb, "", mine.ID); return err },
			"resolve": func() error {
				_, err := svc.ResolveReceiptDiscrepancy(pb, "", mine.ID, 1, orders.ResolveAccept, orders.ReturnFrom{})
				return err
			},
			"get internal": func() error { _, err := svc.GetPurchaseOrder(pa, internal.ID); return err },
		} {
			err := f()
			var e *apperr.Error
			if !errors.As(err, &e) || e.Kind != apperr.KindNotFound || e.Reason != "PURCHASE_ORDER_NOT_FOUND" {
				t.Errorf("%s as another partner: %v, want NotFound", name, err)
			}
		}
		// The same answer as for an order that does not exist.
		_, missing := svc.GetPurchaseOrder(pb, "no-such-order")
		_, hidden := svc.GetPurchaseOrder(pb, mine.ID)
		if fmt.Sprint(missing) == "" || apperr.KindOf(missing) != apperr.KindOf(hidden) {
			t.Errorf("hidden %v vs missing %v", hidden, missing)
		}
		list := func(ctx context.Context, f app.POFilter) []string {
			t.Helper()
			pos, err := svc.ListPurchaseOrders(ctx, f, paging.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, p := range pos {
				ids = append(ids, p.ID)
			}
			return ids
		}
		other := "partner-a"
		if got := list(pb, app.POFilter{}); len(got) != 0 {
			t.Errorf("partner-b lists %v", got)
		}
		if got := list(pb, app.POFilter{Partner: &other}); len(got) != 0 {
			t.Errorf("partner-b filtering on partner-a lists %v", got)
		}
		if got := list(pa, app.POFilter{}); len(got) != 1 || got[0] != mine.ID {
			t.Errorf("partner-a lists %v", got)
		}
		if got := list(ctx, app.POFilter{}); len(got) != 2 {
			t.Errorf("internal lists %v", got)
		}
		if got := list(ctx, app.POFilter{Partner: &other}); len(got) != 1 || got[0] != mine.ID {
			t.Errorf("internal filtering on partner-a lists %v", got)
		}
		// The owner changes its own.
		if _, err := svc.ReleasePurchaseOrder(pa, "", mine.ID); err != nil {
			t.Errorf("owner release: %v", err)
		}
		if _, err := svc.CancelPurchaseOrder(pa, "", mine.ID); err != nil {
			t.Errorf("owner cancel: %v", err)
		}
		// Internal callers change any.
		if _, err := svc.ReleasePurchaseOrder(ctx, "", internal.ID); err != nil {
			t.Errorf("internal release: %v", err)
		}
	})
}

func TestListPurchaseOrdersFiltersAndPages(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		var ids []string
		for i := range 5 {
			sup := "ACME"
			if i%2 == 1 {
				sup = "NIPPON"
			}
			po, err := svc.CreatePurchaseOrder(ctx, "", draft(sup, wline("1", "", "1")))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, po.ID)
		}
		if _, err := svc.ReleasePurchaseOrder(ctx, "", ids[0]); err != nil {
			t.Fatal(err)
		}
		count := func(f app.POFilter) int {
			t.Helper()
			pos, err := svc.ListPurchaseOrders(ctx, f, paging.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return len(pos)
		}
		first, _ := svc.GetPurchaseOrder(ctx, ids[0])
		third, _ := svc.GetPurchaseOrder(ctx, ids[2])
		for name, c := range map[string]struct {
			f    app.POFilter
			want int
		}{
			"all":           {app.POFilter{}, 5},
			"released":      {app.POFilter{State: orders.StateReleased}, 1},
			"drafts":        {app.POFilter{State: orders.StateDraft}, 4},
			"supplier":      {app.POFilter{Supplier: "NIPPON"}, 2},
			"created from":  {app.POFilter{CreatedFrom: third.CreatedAt}, 3},
			"created until": {app.POFilter{CreatedBefore: third.CreatedAt}, 2},
			"range":         {app.POFilter{CreatedFrom: first.CreatedAt, CreatedBefore: third.CreatedAt, Supplier: "ACME"}, 1},
		} {
			if got := count(c.f); got != c.want {
				t.Errorf("%s: %d, want %d", name, got, c.want)
			}
		}
		// Pages of two walk every order once, in id order.
		var seen []string
		page := paging.Page{Limit: 2}
		for {
			pos, err := svc.ListPurchaseOrders(ctx, app.POFilter{}, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pos {
				seen = append(seen, p.ID)
			}
			if len(pos) < page.Limit {
				break
			}
			page.After = pos[len(pos)-1].ID
		}
		if fmt.Sprint(seen) != fmt.Sprint(ids) {
			t.Errorf("pages %v, want %v", seen, ids)
		}
	})
}

func TestOrderLinesNameItemsByAnyMappedCode(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		sync := func(id string, version int64, codes ...orders.ItemCode) {
			t.Helper()
			if _, err := svc.SyncCatalogItem(ctx, id, orders.CatalogItem{SKU: "L-1", BaseUoM: "EA", SourceVersion: version, WholeUnitsOnly: true, Codes: codes}); err != nil {
				t.Fatal(err)
			}
		}
		sync("l1", 1, orders.ItemCode{Namespace: orders.CodeSupplier, Partner: "ACME", Code: "ACME-77"}, orders.ItemCode{Namespace: orders.CodeERP, Code: "ERP-9"})
		ln := func(item, qty string) orders.POLineInput {
			return orders.POLineInput{Item: item, Quantity: qty, UnitPrice: "1", Warehouse: "WH1"}
		}
		po, err := svc.CreatePurchaseOrder(ctx, "", draft("ACME", ln("acme-77", "1"), ln("ERP-9", "2"), ln("L-1", "3")))
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range po.Lines {
			if l.SKU != "L-1" {
				t.Errorf("line %d stored as %q, want the SKU L-1", i+1, l.SKU)
			}
		}
		// Another supplier's part number names nothing for this supplier.
		_, err = svc.CreatePurchaseOrder(ctx, "", draft("NIPPON", ln("ACME-77", "1")))
		wantKind(t, err, apperr.KindInvalidArgument)
		// A whole-units item refuses a fraction.
		_, err = svc.CreatePurchaseOrder(ctx, "", draft("ACME", ln("L-1", "0.5")))
		wantKind(t, err, apperr.KindInvalidArgument)
		// A newer version of the item drops a code; an older one changes nothing.
		sync("l2", 2, orders.ItemCode{Namespace: orders.CodeERP, Code: "ERP-9"})
		sync("l0", 1, orders.ItemCode{Namespace: orders.CodeSupplier, Partner: "ACME", Code: "ACME-77"})
		_, err = svc.CreatePurchaseOrder(ctx, "", draft("ACME", ln("ACME-77", "1")))
		wantKind(t, err, apperr.KindInvalidArgument)
		if _, err := svc.CreatePurchaseOrder(ctx, "", draft("ACME", ln("erp-9", "1"))); err != nil {
			t.Errorf("ERP code after update: %v", err)
		}
	})
}

// Receipts for one order applied concurrently (two consumer replicas) all
// count: the order is locked for each change, so none overwrites another.
func TestConcurrentReceiptsOnOneOrderAllCount(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		po, _ := svc.CreatePurchaseOrder(ctx, "", draft("ACME", wline("100", "", "1")))
		if _, err := svc.ReleasePurchaseOrder(ctx, "", po.ID); err != nil {
			t.Fatal(err)
		}
		const n = 12
		errs := make(chan error, n)
		for i := range n {
			go func() {
				for _, err := range svc.ApplyReceipts(ctx, []app.Receipt{{EventID: fmt.Sprintf("c%d", i), Order: po.ID, Line: 1, Qty: 1_000_000}}) {
					errs <- err
				}
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("receipt: %v", err)
			}
		}
		got, _ := svc.GetPurchaseOrder(ctx, po.ID)
		if got.Lines[0].Received != n*1_000_000 || got.Version != po.Version+1+n {
			t.Errorf("received %s at version %d, want %d at %d", got.Lines[0].Received, got.Version, n, po.Version+1+n)
		}
	})
}
