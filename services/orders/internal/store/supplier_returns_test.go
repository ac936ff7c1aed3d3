package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/events"
	"trueup.dev/services/orders/internal/orders"
)

// fakeInventory stands in for the inventory service's IssueStock, with its
// idempotency rule: the same request id and request answer the first
// movement, the same id with another request is refused. Issues are valued
// at 1.50 EUR a base unit.
type fakeInventory struct {
	mu     sync.Mutex
	issued map[string]fakeIssue
	calls  int
	// refuse, when set, refuses an issue before it happens.
	refuse func(app.StockIssue) error
	// loseAnswer makes the next issue happen and its answer get lost.
	loseAnswer bool
}

type fakeIssue struct {
	req app.StockIssue
	out app.IssuedStock
}

func (f *fakeInventory) IssueStock(_ context.Context, is app.StockIssue) (app.IssuedStock, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.issued == nil {
		f.issued = map[string]fakeIssue{}
	}
	if prior, ok := f.issued[is.RequestID]; ok {
		if prior.req != is {
			return app.IssuedStock{}, &apperr.Error{Kind: apperr.KindInvalidArgument, Reason: "REQUEST_ID_REUSED",
				Message: "request_id was already used for a different request", Violations: []apperr.Violation{apperr.Field("request_id", "reused")}}
		}
		return prior.out, nil
	}
	if f.refuse != nil {
		if err := f.refuse(is); err != nil {
			return app.IssuedStock{}, err
		}
	}
	out := app.IssuedStock{Movement: fmt.Sprintf("movements/iss-%d", len(f.issued)+1), Qty: is.Qty,
		Value: int64(is.Qty) * 150 / 1_000_000, Currency: "EUR", At: t0}
	f.issued[is.RequestID] = fakeIssue{req: is, out: out}
	if f.loseAnswer {
		f.loseAnswer = false
		return app.IssuedStock{}, apperr.New(apperr.KindUnavailable, "UNAVAILABLE", "connection reset")
	}
	return out, nil
}

func (f *fakeInventory) requests() []app.StockIssue {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []app.StockIssue
	for _, i := range f.issued {
		out = append(out, i.req)
	}
	return out
}

// stockMsg is an encoded inventory event of a movement against purchase
// order po line line: a StockReceived into loc (lot), or with issue a
// StockIssued of movement out of it. base and value are magnitudes.
func stockMsg(t *testing.T, id, po string, line int, base string, value int64, loc, lot, movement string, issue bool) *natsx.Message {
	t.Helper()
	mv := &inventoryv1.Movement{
		Name: movement, Type: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, Item: "items/W-1", Warehouse: "warehouses/WH1",
		ToLocation: "warehouses/WH1/locations/" + loc, Lot: lot,
		Quantity: &typev1.Quantity{Value: base, Uom: "EA"}, BaseQuantity: base, Value: &typev1.Money{CurrencyCode: "EUR", MinorUnits: value},
		Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: po, Line: fmt.Sprint(line)},
	}
	if !issue {
		m := &inventoryv1.StockReceived{EventId: id, OccurredAt: timestamppb.New(t0), AggregateId: "items/W-1", Movement: mv}
		return &natsx.Message{EventID: id, Type: string(m.ProtoReflect().Descriptor().FullName()), Subject: events.StockReceivedSubject, Data: payload(t, m)}
	}
	mv.Type, mv.ToLocation, mv.FromLocation = inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE, "", "warehouses/WH1/locations/"+loc
	mv.BaseQuantity, mv.Value.MinorUnits = "-"+base, -value
	m := &inventoryv1.StockIssued{EventId: id, OccurredAt: timestamppb.New(t0), AggregateId: "items/W-1", Movement: mv}
	return &natsx.Message{EventID: id, Type: string(m.ProtoReflect().Descriptor().FullName()), Subject: events.StockIssuedSubject, Data: payload(t, m)}
}

// overReceived is an order for 10 EA of W-1 at 1.50 EUR, 0 % tolerance,
// released, of which 12 arrived at RCV-01: 2 EA beyond the order.
func overReceived(t *testing.T, svc *app.Service) *orders.PurchaseOrder {
	t.Helper()
	ctx := context.Background()
	po, err := svc.CreatePurchaseOrder(ctx, "", draft("ACME", wline("10", "", "1.50")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ReleasePurchaseOrder(ctx, "", po.ID); err != nil {
		t.Fatal(err)
	}
	deliver(t, svc, stockMsg(t, "rcv-"+po.ID, po.ID, 1, "12", 1800, "RCV-01", "", "movements/rcv-"+po.ID, false))
	got, _ := svc.GetPurchaseOrder(ctx, po.ID)
	if l := got.Lines[0]; l.Received != 12_000_000 || got.OpenDiscrepancy(&l) != 2_000_000 || l.ReceiptLocation != "RCV-01" {
		t.Fatalf("over-received line %+v", l)
	}
	return got
}

func TestReturnIssuesTheExcessOnceAndTakesItOutOfReceived(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		inv := &fakeInventory{}
		svc.SetInventory(inv)
		po := overReceived(t, svc)

		// Another partner does not see the order.
		_, err := svc.ResolveReceiptDiscrepancy(caller.NewContext(ctx, caller.Partner("p-b")), "", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{})
		if apperr.KindOf(err) != apperr.KindNotFound || inv.calls != 0 {
			t.Fatalf("another partner's return: %v (%d calls)", err, inv.calls)
		}

		first, err := svc.ResolveReceiptDiscrepancy(ctx, "ret-1", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{})
		if err != nil {
			t.Fatal(err)
		}
		want := app.StockIssue{RequestID: "po-return/" + po.ID + "/1/1", SKU: "W-1", Warehouse: "WH1", Location: "RCV-01",
			Qty: 2_000_000, UoM: "EA", Order: po.ID, Line: 1}
		if reqs := inv.requests(); len(reqs) != 1 || reqs[0] != want {
			t.Fatalf("inventory asked %+v, want %+v", reqs, want)
		}
		l := first.Lines[0]
		if l.Received != 10_000_000 || l.Returned != 2_000_000 || l.ReceivedValue != 1500 || l.Return != nil || first.HasOpenDiscrepancy() ||
			len(l.Resolutions) != 1 || l.Resolutions[0].How != orders.ResolveReturn || l.Resolutions[0].Movement != "movements/iss-1" ||
			l.Resolutions[0].Qty != 2_000_000 || l.Resolutions[0].Number != 1 {
			t.Fatalf("after the return %+v", l)
		}
		// A retry answers exactly the first answer, without a second issue.
		again, err := svc.ResolveReceiptDiscrepancy(ctx, "ret-1", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{})
		if err != nil || !reflect.DeepEqual(again, first) {
			t.Fatalf("retry = %+v, %v;\nwant %+v", again, err, first)
		}
		if inv.calls != 1 {
			t.Errorf("inventory called %d times, want 1", inv.calls)
		}
		// The same request id for another request is refused.
		if _, err := svc.ResolveReceiptDiscrepancy(ctx, "ret-1", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{Location: "A-1"}); apperr.KindOf(err) != apperr.KindInvalidArgument {
			t.Errorf("request id reused: %v", err)
		}
		// Nothing is left to return.
		if _, err := svc.ResolveReceiptDiscrepancy(ctx, "", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{}); !errors.Is(err, orders.ErrNoDiscrepancy) {
			t.Errorf("second return: %v", err)
		}

		// Inventory's StockIssued of that movement, delivered twice, takes
		// nothing out again; the order is as the first answer left it.
		iss := stockMsg(t, "iss-ev-1", po.ID, 1, "2", 300, "RCV-01", "", "movements/iss-1", true)
		deliver(t, svc, iss, iss)
		if got, _ := svc.GetPurchaseOrder(ctx, po.ID); !reflect.DeepEqual(got, first) {
			t.Fatalf("after the issue event %+v;\nwant %+v", got, first)
		}

		// The bill for the 10 kept matches three ways and clears their GRNI.
		b, err := svc.RecordBill(ctx, "bill-1", po.ID, billInput("INV-R1", 0, bl(1, "10", "", "1.50")))
		if err != nil || b.Match != orders.MatchMatched || b.State != orders.BillApproved || b.GRNICleared() != 1500 || b.PPV() != 0 {
			t.Fatalf("bill = %+v, %v", b, err)
		}
		closed, err := svc.ClosePurchaseOrder(ctx, "", po.ID)
		if err != nil || closed.State != orders.StateClosed || closed.Lines[0].OpenGRNI() != 0 {
			t.Fatalf("close = %+v, %v", closed, err)
		}
	})
}

// An issue made in inventory against the order line, not through RETURN,
// is goods returned all the same: once per movement, however often the
// event comes.
func TestAnIssueAgainstTheLineIsAReturnAppliedOnce(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		po := overReceived(t, svc)
		iss := stockMsg(t, "iss-ev-9", po.ID, 1, "2", 310, "RCV-01", "", "movements/iss-9", true)
		deliver(t, svc, iss)
		deliver(t, svc, iss)
		// The same movement under another event id (a replay from another
		// stream) is still one return.
		dup := stockMsg(t, "iss-ev-9b", po.ID, 1, "2", 310, "RCV-01", "", "movements/iss-9", true)
		deliver(t, svc, dup)
		got, _ := svc.GetPurchaseOrder(ctx, po.ID)
		if l := got.Lines[0]; l.Received != 10_000_000 || l.Returned != 2_000_000 || l.ReceivedValue != 1490 || got.HasOpenDiscrepancy() {
			t.Fatalf("line %+v", l)
		}
		if _, err := svc.ClosePurchaseOrder(ctx, "", po.ID); err != nil {
			t.Errorf("close: %v", err)
		}
	})
}

// A crash (or a lost answer) between inventory's issue and orders' commit
// leaves the return in progress; the issue event may arrive meanwhile; a
// retry, with another request id, resumes the same return: inventory
// answers the same movement and nothing is taken out twice.
func TestReturnInterruptedAfterTheIssueIsCompletedByARetry(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		inv := &fakeInventory{loseAnswer: true}
		svc.SetInventory(inv)
		po := overReceived(t, svc)
		_, err := svc.ResolveReceiptDiscrepancy(ctx, "ret-a", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{Location: "rcv-01"})
		if apperr.KindOf(err) != apperr.KindUnavailable {
			t.Fatalf("lost answer: %v, want Unavailable", err)
		}
		got, _ := svc.GetPurchaseOrder(ctx, po.ID)
		if l := got.Lines[0]; l.Returning() != 2_000_000 || l.Received != 12_000_000 || len(l.Resolutions) != 0 {
			t.Fatalf("in progress %+v", l)
		}
		if _, err := svc.ClosePurchaseOrder(ctx, "", po.ID); !errors.Is(err, orders.ErrOpenDiscrepancy) {
			t.Errorf("close during the return: %v", err)
		}
		if _, err := svc.ResolveReceiptDiscrepancy(ctx, "", po.ID, 1, orders.ResolveAccept, orders.ReturnFrom{}); !errors.Is(err, orders.ErrReturnInProgress) {
			t.Errorf("accept during the return: %v", err)
		}
		// The issue event arrives before the retry.
		deliver(t, svc, stockMsg(t, "iss-ev-1", po.ID, 1, "2", 300, "RCV-01", "", "movements/iss-1", true))
		got, _ = svc.GetPurchaseOrder(ctx, po.ID)
		if l := got.Lines[0]; l.Received != 10_000_000 || l.Returning() != 2_000_000 {
			t.Fatalf("after the event %+v", l)
		}
		done, err := svc.ResolveReceiptDiscrepancy(ctx, "ret-b", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{})
		if err != nil {
			t.Fatal(err)
		}
		if l := done.Lines[0]; l.Received != 10_000_000 || l.Returned != 2_000_000 || l.ReceivedValue != 1500 || l.Return != nil ||
			len(l.Resolutions) != 1 || l.Resolutions[0].Movement != "movements/iss-1" {
			t.Fatalf("completed %+v", l)
		}
		if reqs := inv.requests(); len(reqs) != 1 || inv.calls != 2 {
			t.Errorf("inventory issued %d times in %d calls, want 1 in 2", len(reqs), inv.calls)
		}
		// The first request id now answers the order too.
		if again, err := svc.ResolveReceiptDiscrepancy(ctx, "ret-a", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{Location: "rcv-01"}); err != nil || !reflect.DeepEqual(again, done) {
			t.Errorf("retry of the first = %+v, %v", again, err)
		}
	})
}

func TestReturnRefusedByInventoryLeavesTheDiscrepancyOpen(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		inv := &fakeInventory{refuse: func(is app.StockIssue) error {
			switch is.Location {
			case "EMPTY":
				e := apperr.Precondition("INSUFFICIENT_STOCK", "not enough stock of W-1 at warehouses/WH1/locations/EMPTY: 0 on hand, 2 wanted",
					apperr.Violation{Type: "INSUFFICIENT_STOCK", Subject: "warehouses/WH1/locations/EMPTY", Description: "0 available"})
				e.Metadata = map[string]string{"available": "0"}
				return e
			case "NOPE":
				return apperr.NotFound("location", "WH1/NOPE")
			}
			return nil
		}}
		svc.SetInventory(inv)
		po := overReceived(t, svc)

		_, err := svc.ResolveReceiptDiscrepancy(ctx, "ret-1", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{Location: "EMPTY"})
		var e *apperr.Error
		if !errors.As(err, &e) || e.Kind != apperr.KindFailedPrecondition || e.Reason != "INSUFFICIENT_STOCK" || e.Metadata["available"] != "0" ||
			!strings.Contains(e.Message, "cannot be returned from EMPTY") || !strings.Contains(e.Message, "not enough stock") || len(e.Violations) != 1 {
			t.Fatalf("not enough stock: %#v", err)
		}
		got, _ := svc.GetPurchaseOrder(ctx, po.ID)
		if l := got.Lines[0]; l.Return != nil || got.OpenDiscrepancy(&l) != 2_000_000 || l.Received != 12_000_000 {
			t.Fatalf("after the refusal %+v", l)
		}
		_, err = svc.ResolveReceiptDiscrepancy(ctx, "", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{Location: "nope"})
		if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument || len(e.Violations) != 1 || e.Violations[0].Field != "location" {
			t.Fatalf("unknown location: %v", err)
		}
		// A retry of the refused request runs it again (and is refused again).
		if _, err := svc.ResolveReceiptDiscrepancy(ctx, "ret-1", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{Location: "EMPTY"}); !errors.As(err, &e) || e.Reason != "INSUFFICIENT_STOCK" {
			t.Fatalf("retry of the refused return: %v", err)
		}
		// The discrepancy is open for any resolution.
		acc, err := svc.ResolveReceiptDiscrepancy(ctx, "", po.ID, 1, orders.ResolveAccept, orders.ReturnFrom{})
		if err != nil || acc.HasOpenDiscrepancy() || len(acc.Lines[0].Resolutions) != 1 || acc.Lines[0].Resolutions[0].How != orders.ResolveAccept {
			t.Fatalf("accept after the refusals: %+v, %v", acc, err)
		}
		if len(inv.requests()) != 0 {
			t.Errorf("inventory issued %+v", inv.requests())
		}
	})
}

// Without a receipt location and without one in the request, a RETURN
// cannot know where the excess is.
func TestReturnNeedsALocation(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		svc.SetInventory(&fakeInventory{})
		po, _ := svc.CreatePurchaseOrder(ctx, "", draft("ACME", wline("10", "", "1.50")))
		_, _ = svc.ReleasePurchaseOrder(ctx, "", po.ID)
		deliver(t, svc, receiptMsg(t, "r1", po.ID, 1, "12", false)) // names no location
		_, err := svc.ResolveReceiptDiscrepancy(ctx, "", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{})
		var e *apperr.Error
		if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument || len(e.Violations) != 1 || e.Violations[0].Field != "location" {
			t.Fatalf("no location: %v", err)
		}
		done, err := svc.ResolveReceiptDiscrepancy(ctx, "", po.ID, 1, orders.ResolveReturn, orders.ReturnFrom{Location: "warehouses/WH1/locations/A-01"})
		if err != nil || done.Lines[0].Received != 10_000_000 {
			t.Fatalf("with a location: %+v, %v", done, err)
		}
	})
}
