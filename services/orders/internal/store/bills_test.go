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

// valuedReceipt is an encoded StockReceived (or StockReversed) of base EA of
// W-1 on a purchase order line, valued at value minor units of currency.
func valuedReceipt(t *testing.T, id, po string, line int, base string, value int64, currency string, reversal bool) *natsx.Message {
	t.Helper()
	mv := &inventoryv1.Movement{
		Name: "movements/" + id, Type: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, Item: "items/W-1", Warehouse: "WH1",
		Quantity: &typev1.Quantity{Value: base, Uom: "EA"}, BaseQuantity: base,
		Value:  &typev1.Money{CurrencyCode: currency, MinorUnits: value},
		Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: po, Line: fmt.Sprint(line)},
	}
	var m proto.Message = &inventoryv1.StockReceived{EventId: id, OccurredAt: timestamppb.New(t0), AggregateId: "items/W-1", AggregateVersion: 1, Movement: mv}
	subject := events.StockReceivedSubject
	if reversal {
		mv.Type = inventoryv1.MovementType_MOVEMENT_TYPE_REVERSAL
		mv.BaseQuantity, mv.Quantity.Value = "-"+base, "-"+base
		mv.Value.MinorUnits = -value
		m = &inventoryv1.StockReversed{EventId: id, OccurredAt: timestamppb.New(t0), AggregateId: "items/W-1", AggregateVersion: 2, Movement: mv}
		subject = events.StockReversedSubject
	}
	return &natsx.Message{EventID: id, Type: string(m.ProtoReflect().Descriptor().FullName()), Subject: subject, Data: payload(t, m)}
}

func billInput(number string, tax int64, lines ...orders.BillLineInput) orders.BillInput {
	return orders.BillInput{Number: number, BillDate: "2026-11-30", TaxMinor: tax, Lines: lines}
}

func bl(line int, qty, uom, price string) orders.BillLineInput {
	return orders.BillLineInput{POLine: line, Quantity: qty, UoM: uom, Price: price}
}

// releasedPO creates and releases an order of 10 EA of W-1 at price.
func releasedPO(t *testing.T, ctx context.Context, svc *app.Service, supplier, price string) *orders.PurchaseOrder {
	t.Helper()
	po, err := svc.CreatePurchaseOrder(ctx, "", draft(supplier, wline("10", "", price)))
	if err != nil {
		t.Fatal(err)
	}
	if po, err = svc.ReleasePurchaseOrder(ctx, "", po.ID); err != nil {
		t.Fatal(err)
	}
	return po
}

func approvedEvents(t *testing.T, db *sqldb.DB) []*ordersv1.SupplierBillApproved {
	t.Helper()
	var out []*ordersv1.SupplierBillApproved
	for _, r := range outboxRows(t, db) {
		if r.typ == "trueup.orders.v1.SupplierBillApproved" {
			var ev ordersv1.SupplierBillApproved
			if err := proto.Unmarshal(r.payload, &ev); err != nil {
				t.Fatal(err)
			}
			out = append(out, &ev)
		}
	}
	return out
}

// checkLedgerIdentity asserts what the ledger checks before it posts a bill
// (services/ledger/internal/ledger/documents.go): every amount in the
// document's currency and not negative, and the lines' billed amounts plus
// tax equal to the total payable to the minor unit.
func checkLedgerIdentity(t *testing.T, ev *ordersv1.SupplierBillApproved) {
	t.Helper()
	cur := ev.GetCurrencyCode()
	var billed int64
	for i, l := range ev.GetLines() {
		for _, m := range []*typev1.Money{l.GetReceivedValue(), l.GetBilledAmount()} {
			if m.GetCurrencyCode() != cur || m.GetMinorUnits() < 0 {
				t.Errorf("line %d amount %v: not a non-negative %s amount", i, m, cur)
			}
		}
		billed += l.GetBilledAmount().GetMinorUnits()
	}
	if ev.GetTax().GetCurrencyCode() != cur || ev.GetTotal().GetCurrencyCode() != cur || ev.GetTax().GetMinorUnits() < 0 {
		t.Errorf("tax %v total %v not in %s", ev.GetTax(), ev.GetTotal(), cur)
	}
	if billed+ev.GetTax().GetMinorUnits() != ev.GetTotal().GetMinorUnits() {
		t.Errorf("lines billed %d + tax %d != total %d", billed, ev.GetTax().GetMinorUnits(), ev.GetTotal().GetMinorUnits())
	}
	if ev.GetSupplierBill() == "" || ev.GetPurchaseOrder() == "" || ev.GetSupplier() == "" || ev.GetEffectiveTime() == nil {
		t.Errorf("event lacks a reference: %v", ev)
	}
}

func TestReceivedValueIsTrackedOnceWithReversals(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		po := releasedPO(t, ctx, svc, "ACME", "3.00")
		m1 := valuedReceipt(t, "m1", po.ID, 1, "6", 1800, "EUR", false)
		deliver(t, svc, m1, m1) // twice in one batch
		deliver(t, svc, m1)     // and again later
		deliver(t, svc, valuedReceipt(t, "m2", po.ID, 1, "4", 1200, "EUR", false))
		deliver(t, svc, valuedReceipt(t, "m3", po.ID, 1, "1", 300, "EUR", true)) // reversal
		deliver(t, svc, valuedReceipt(t, "m4", po.ID, 1, "1", 310, "EUR", false))
		deliver(t, svc, valuedReceipt(t, "m5", po.ID, 1, "0", 999, "USD", false)) // another currency: not counted
		got, err := svc.GetPurchaseOrder(ctx, po.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l := got.Lines[0]; l.Received != 10_000_000 || l.ReceivedValue != 3010 || l.OpenGRNI() != 3010 {
			t.Fatalf("received %s value %d open %d, want 10 3010 3010", l.Received, l.ReceivedValue, l.OpenGRNI())
		}
	})
}

func TestSupplierBillIsMatchedApprovedAndEmittedOnce(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		po := releasedPO(t, ctx, svc, "ACME", "3.00")
		deliver(t, svc, valuedReceipt(t, "m1", po.ID, 1, "4", 1200, "EUR", false))
		// A partial bill: 3 of the 4 received.
		b1, err := svc.RecordBill(ctx, "b1", po.ID, billInput("INV-1", 0, bl(1, "3", "", "3.00")))
		if err != nil {
			t.Fatal(err)
		}
		if b1.State != orders.BillApproved || b1.Match != orders.MatchPartial || b1.GRNICleared() != 900 {
			t.Fatalf("partial bill %s %s grni %d", b1.State, b1.Match, b1.GRNICleared())
		}
		deliver(t, svc, valuedReceipt(t, "m2", po.ID, 1, "6", 1801, "EUR", false))
		in := billInput("INV-2", 1330, bl(1, "7", "", "3.00"))
		b2, err := svc.RecordBill(ctx, "b2", po.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		// received 10 at 3001; bills clear 900 then 3001 - 900 = 2101.
		if b2.State != orders.BillApproved || b2.Match != orders.MatchMatched || b2.GRNICleared() != 2101 || b2.NetTotal() != 2100 || b2.PPV() != -1 || b2.Total() != 3430 {
			t.Fatalf("second bill %s %s grni %d net %d ppv %d total %d", b2.State, b2.Match, b2.GRNICleared(), b2.NetTotal(), b2.PPV(), b2.Total())
		}
		again, err := svc.RecordBill(ctx, "b2", po.ID, in)
		if err != nil || again.ID != b2.ID || again.Version != b2.Version {
			t.Fatalf("retry: %v %v", again, err)
		}
		if _, err := svc.RecordBill(ctx, "b2", po.ID, billInput("INV-2", 0, bl(1, "1", "", "3.00"))); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Errorf("same request id, other bill: %v", err)
		}
		if _, err := svc.RecordBill(ctx, "b3", po.ID, billInput("INV-2", 0, bl(1, "1", "", "3.00"))); !errors.Is(err, apperr.ErrAlreadyExists) {
			t.Errorf("bill number reused: %v", err)
		}
		evs := approvedEvents(t, db)
		if len(evs) != 2 {
			t.Fatalf("%d SupplierBillApproved, want 2", len(evs))
		}
		var cleared int64
		for _, ev := range evs {
			checkLedgerIdentity(t, ev)
			cleared += ev.GetLines()[0].GetReceivedValue().GetMinorUnits()
		}
		ev := evs[1]
		l := ev.GetLines()[0]
		if ev.GetSupplierBill() != "supplierBills/"+b2.ID || ev.GetPurchaseOrder() != "purchaseOrders/"+po.ID || ev.GetSupplier() != "suppliers/ACME" ||
			l.GetItem() != "items/W-1" || l.GetWarehouse() != "warehouses/WH1" || l.GetQuantity().GetValue() != "7" ||
			l.GetBilledAmount().GetMinorUnits() != 2100 || l.GetReceivedValue().GetMinorUnits() != 2101 || ev.GetTotal().GetMinorUnits() != 3430 {
			t.Errorf("event %v", ev)
		}
		got, _ := svc.GetPurchaseOrder(ctx, po.ID)
		if pl := got.Lines[0]; cleared != 3001 || pl.BilledQty != 10_000_000 || pl.BilledValue != 3001 || pl.OpenGRNI() != 0 {
			t.Errorf("cleared %d; line billed %s value %d open %d", cleared, pl.BilledQty, pl.BilledValue, pl.OpenGRNI())
		}
		// Nothing left to bill: a third bill is a quantity variance, held.
		b3, err := svc.RecordBill(ctx, "b4", po.ID, billInput("INV-3", 0, bl(1, "1", "", "3.00")))
		if err != nil || b3.State != orders.BillOnHold || b3.Match != orders.MatchQuantityVariance {
			t.Fatalf("third bill: %+v %v", b3, err)
		}
		if n := len(approvedEvents(t, db)); n != 2 {
			t.Errorf("a held bill emitted: %d events", n)
		}
	})
}

func TestHeldBillIsAcceptedOrRejected(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		po := releasedPO(t, ctx, svc, "ACME", "3.00")
		deliver(t, svc, valuedReceipt(t, "m1", po.ID, 1, "10", 3000, "EUR", false))
		over := billInput("P-1", 0, bl(1, "5", "", "3.10"))
		over.PriceTolerancePercent = "2"
		held, err := svc.RecordBill(ctx, "", po.ID, over)
		if err != nil || held.State != orders.BillOnHold || held.Match != orders.MatchPriceVariance {
			t.Fatalf("price over: %+v %v", held, err)
		}
		within := billInput("P-2", 0, bl(1, "5", "", "3.05"))
		within.PriceTolerancePercent = "2"
		ok, err := svc.RecordBill(ctx, "", po.ID, within)
		if err != nil || ok.State != orders.BillApproved || ok.Match != orders.MatchMatched {
			t.Fatalf("price within tolerance: %+v %v", ok, err)
		}
		if _, err := svc.AcceptBill(ctx, "", held.ID, " "); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Errorf("accept without a reason: %v", err)
		}
		acc, err := svc.AcceptBill(ctx, "a1", held.ID, "agreed price rise")
		if err != nil || acc.State != orders.BillApproved || acc.Reason != "agreed price rise" || acc.ApprovedAt.IsZero() {
			t.Fatalf("accept: %+v %v", acc, err)
		}
		if again, err := svc.AcceptBill(ctx, "a1", held.ID, "agreed price rise"); err != nil || again.Version != acc.Version {
			t.Fatalf("retried accept: %v", err)
		}
		evs := approvedEvents(t, db)
		if len(evs) != 2 {
			t.Fatalf("%d approvals, want 2", len(evs))
		}
		for _, ev := range evs {
			checkLedgerIdentity(t, ev)
		}
		// Everything is billed now; an extra bill is held and rejected.
		extra, err := svc.RecordBill(ctx, "", po.ID, billInput("P-3", 0, bl(1, "1", "", "3.00")))
		if err != nil || extra.Match != orders.MatchQuantityVariance {
			t.Fatalf("extra: %+v %v", extra, err)
		}
		rej, err := svc.RejectBill(ctx, "", extra.ID, "not ours")
		if err != nil || rej.State != orders.BillRejected {
			t.Fatalf("reject: %+v %v", rej, err)
		}
		got, _ := svc.GetPurchaseOrder(ctx, po.ID)
		if got.Lines[0].BilledQty != 10_000_000 || got.Lines[0].BilledValue != 3000 {
			t.Errorf("after reject billed %s %d", got.Lines[0].BilledQty, got.Lines[0].BilledValue)
		}
		for _, f := range []func() error{
			func() error { _, err := svc.AcceptBill(ctx, "", extra.ID, "x"); return err },
			func() error { _, err := svc.RejectBill(ctx, "", acc.ID, "x"); return err },
		} {
			var e *apperr.Error
			if err := f(); !errors.Is(err, orders.ErrBillState) || !errors.As(err, &e) || e.Metadata["state"] == "" {
				t.Errorf("refused transition: %v", err)
			}
		}
		if n := len(approvedEvents(t, db)); n != 2 {
			t.Errorf("%d approvals after reject, want 2", n)
		}
	})
}

func TestBillingAnUnreleasedOrderIsRefusedWithItsState(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		d, err := svc.CreatePurchaseOrder(ctx, "", draft("ACME", wline("10", "", "3")))
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.RecordBill(ctx, "", d.ID, billInput("D-1", 0, bl(1, "1", "", "3")))
		wantPOState(t, err, orders.StateDraft)
		if _, err := svc.CancelPurchaseOrder(ctx, "", d.ID); err != nil {
			t.Fatal(err)
		}
		_, err = svc.RecordBill(ctx, "", d.ID, billInput("D-1", 0, bl(1, "1", "", "3")))
		wantPOState(t, err, orders.StateCancelled)
		_, err = svc.RecordBill(ctx, "", "nope", billInput("D-1", 0, bl(1, "1", "", "3")))
		wantKind(t, err, apperr.KindNotFound)
	})
}

func TestPartnerSeesAndChangesOnlyItsOwnBills(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		pa := caller.NewContext(ctx, caller.Partner("partner-a"))
		pb := caller.NewContext(ctx, caller.Partner("partner-b"))
		po := releasedPO(t, pa, svc, "ACME", "3.00")
		deliver(t, svc, valuedReceipt(t, "m1", po.ID, 1, "10", 3000, "EUR", false))
		if _, err := svc.RecordBill(pb, "", po.ID, billInput("X-1", 0, bl(1, "1", "", "3"))); apperr.KindOf(err) != apperr.KindNotFound {
			t.Errorf("b bills a's order: %v", err)
		}
		held, err := svc.RecordBill(pa, "", po.ID, billInput("A-1", 0, bl(1, "10", "", "4")))
		if err != nil || held.Partner != "partner-a" || held.State != orders.BillOnHold {
			t.Fatalf("a's bill: %+v %v", held, err)
		}
		for name, f := range map[string]func() error{
			"get":    func() error { _, err := svc.GetBill(pb, held.ID); return err },
			"accept": func() error { _, err := svc.AcceptBill(pb, "", held.ID, "x"); return err },
			"reject": func() error { _, err := svc.RejectBill(pb, "", held.ID, "x"); return err },
		} {
			if err := f(); apperr.KindOf(err) != apperr.KindNotFound {
				t.Errorf("%s as another partner: %v, want NotFound", name, err)
			}
		}
		all := paging.Page{Limit: 10}
		if bs, err := svc.ListBills(pb, app.BillFilter{}, all); err != nil || len(bs) != 0 {
			t.Errorf("b lists %d bills (%v)", len(bs), err)
		}
		a := "partner-a"
		if bs, err := svc.ListBills(pb, app.BillFilter{Partner: &a}, all); err != nil || len(bs) != 0 {
			t.Errorf("b lists a's bills by filter: %d (%v)", len(bs), err)
		}
		if bs, err := svc.ListBills(pa, app.BillFilter{}, all); err != nil || len(bs) != 1 {
			t.Errorf("a lists %d bills (%v)", len(bs), err)
		}
		if _, err := svc.GetBill(pa, held.ID); err != nil {
			t.Errorf("a gets its bill: %v", err)
		}
		if _, err := svc.AcceptBill(pa, "", held.ID, "ok"); err != nil {
			t.Errorf("a accepts its bill: %v", err)
		}
		// internal callers see every bill, and filter
		other := releasedPO(t, ctx, svc, "ACME", "3.00")
		deliver(t, svc, valuedReceipt(t, "m2", other.ID, 1, "10", 3000, "EUR", false))
		if _, err := svc.RecordBill(ctx, "", other.ID, billInput("I-1", 0, bl(1, "2", "", "3"))); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RecordBill(ctx, "", other.ID, billInput("I-2", 0, bl(1, "9", "", "3"))); err != nil {
			t.Fatal(err)
		}
		for name, tt := range map[string]struct {
			f    app.BillFilter
			want int
		}{
			"all":      {app.BillFilter{}, 3},
			"order":    {app.BillFilter{PurchaseOrder: other.ID}, 2},
			"held":     {app.BillFilter{State: orders.BillOnHold}, 1},
			"approved": {app.BillFilter{State: orders.BillApproved}, 2},
			"supplier": {app.BillFilter{Supplier: "NIPPON"}, 0},
			"partner":  {app.BillFilter{Partner: &a}, 1},
		} {
			if bs, err := svc.ListBills(ctx, tt.f, all); err != nil || len(bs) != tt.want {
				t.Errorf("%s: %d bills (%v), want %d", name, len(bs), err, tt.want)
			}
		}
		first, _ := svc.ListBills(ctx, app.BillFilter{}, paging.Page{Limit: 2})
		rest, _ := svc.ListBills(ctx, app.BillFilter{}, paging.Page{Limit: 2, After: first[1].ID})
		if len(first) != 2 || len(rest) != 1 {
			t.Errorf("pages %d + %d", len(first), len(rest))
		}
	})
}

func TestJPYBillIsInWholeYen(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		po := releasedPO(t, ctx, svc, "NIPPON", "333.5")
		if po.Currency != "JPY" || po.Total() != 3335 {
			t.Fatalf("order %s %d", po.Currency, po.Total())
		}
		deliver(t, svc, valuedReceipt(t, "m1", po.ID, 1, "3", 1000, "JPY", false))
		b, err := svc.RecordBill(ctx, "", po.ID, billInput("J-1", 100, bl(1, "3", "", "333.5")))
		if err != nil {
			t.Fatal(err)
		}
		if b.Currency != "JPY" || b.Match != orders.MatchMatched || b.NetTotal() != 1000 || b.GRNICleared() != 1000 || b.Total() != 1100 {
			t.Fatalf("bill %s %s net %d grni %d total %d", b.Currency, b.Match, b.NetTotal(), b.GRNICleared(), b.Total())
		}
		evs := approvedEvents(t, db)
		if len(evs) != 1 || evs[0].GetCurrencyCode() != "JPY" {
			t.Fatalf("events %v", evs)
		}
		checkLedgerIdentity(t, evs[0])
	})
}
