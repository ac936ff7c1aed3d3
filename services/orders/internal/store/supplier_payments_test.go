package store_test

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
)

func TestSupplierPaymentsSettleApprovedBills(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := poFixture(t, db)
		po := releasedPO(t, ctx, svc, "ACME", "3.00")
		deliver(t, svc, valuedReceipt(t, "m1", po.ID, 1, "10", 3000, "EUR", false))
		approved, err := svc.RecordBill(ctx, "", po.ID, billInput("A-1", 0, bl(1, "4", "", "3")))
		if err != nil || approved.State != orders.BillApproved || approved.DueDate != "2026-11-30" {
			t.Fatalf("approved bill = %+v, %v (the fixture supplier has no payment terms: due on its date)", approved, err)
		}
		held, err := svc.RecordBill(ctx, "", po.ID, billInput("A-2", 0, bl(1, "6", "", "3.50")))
		if err != nil || held.State != orders.BillOnHold {
			t.Fatalf("held bill = %+v, %v", held, err)
		}
		for name, in := range map[string]orders.SupplierPaymentInput{
			"a held bill":    {Supplier: "ACME", Amount: 100, Method: orders.MethodCash, Applications: []orders.Application{{Invoice: held.ID, Amount: 100}}},
			"more than open": {Supplier: "ACME", Amount: 5000, Method: orders.MethodCash, Applications: []orders.Application{{Invoice: approved.ID, Amount: 1201}}},
			"more than paid": {Supplier: "ACME", Amount: 100, Method: orders.MethodCash, Applications: []orders.Application{{Invoice: approved.ID, Amount: 200}}},
			"other supplier": {Supplier: "NIPPON", Amount: 100, Method: orders.MethodCash, Applications: []orders.Application{{Invoice: approved.ID, Amount: 100}}},
			"no method":      {Supplier: "ACME", Amount: 100},
			"no supplier":    {Supplier: "GHOST", Amount: 100, Method: orders.MethodCash},
		} {
			if _, err := svc.RecordSupplierPayment(ctx, "", in); apperr.KindOf(err) != apperr.KindInvalidArgument {
				t.Errorf("%s: %v, want InvalidArgument", name, err)
			}
		}
		// 1500 without applications: the approved bill's 1200, 300 prepaid;
		// the held bill is not payable until accepted
		p, err := svc.RecordSupplierPayment(ctx, "sp-1", orders.SupplierPaymentInput{Supplier: "acme", Amount: 1500, Method: orders.MethodBankTransfer, Reference: "WIRE-9"})
		if err != nil || len(p.Applications) != 1 || p.Applications[0].Invoice != approved.ID || p.Unapplied() != 300 {
			t.Fatalf("payment = %+v, %v", p, err)
		}
		if again, err := svc.RecordSupplierPayment(ctx, "sp-1", orders.SupplierPaymentInput{Supplier: "acme", Amount: 1500, Method: orders.MethodBankTransfer, Reference: "WIRE-9"}); err != nil || again.ID != p.ID {
			t.Fatalf("retry = %v, %v", again, err)
		}
		if b, _ := svc.GetBill(ctx, approved.ID); b.Open() != 0 || b.Paid != 1200 || b.PaidAt.IsZero() {
			t.Fatalf("bill after payment = %+v", b)
		}
		if got, _ := svc.GetPurchaseOrder(ctx, po.ID); !got.PaidAt.IsZero() {
			t.Fatal("the order is paid while a bill is on hold")
		}
		var evs []*ordersv1.SupplierPaymentMade
		for _, r := range outboxRows(t, db) {
			if r.typ == "trueup.orders.v1.SupplierPaymentMade" {
				var ev ordersv1.SupplierPaymentMade
				if err := proto.Unmarshal(r.payload, &ev); err != nil {
					t.Fatal(err)
				}
				evs = append(evs, &ev)
			}
		}
		if len(evs) != 1 || evs[0].GetAmount().GetMinorUnits() != 1500 || len(evs[0].GetApplications()) != 1 ||
			evs[0].GetApplications()[0].GetAmount().GetMinorUnits() != 1200 || evs[0].GetSupplier() != "suppliers/ACME" {
			t.Fatalf("events = %v", evs)
		}
		// accepted and paid, the order is paid
		if _, err := svc.AcceptBill(ctx, "", held.ID, "agreed price rise"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RecordSupplierPayment(ctx, "", orders.SupplierPaymentInput{Supplier: "ACME", Amount: 2100, Method: orders.MethodBankTransfer,
			Applications: []orders.Application{{Invoice: held.ID, Amount: 2100}}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := svc.GetPurchaseOrder(ctx, po.ID); got.PaidAt.IsZero() {
			t.Fatalf("order after both bills paid = %+v", got)
		}
		pb := caller.NewContext(ctx, caller.Partner("partner-b"))
		if _, err := svc.GetSupplierPayment(pb, p.ID); apperr.KindOf(err) != apperr.KindNotFound {
			t.Errorf("another partner gets the payment: %v", err)
		}
		if _, err := svc.RecordSupplierPayment(pb, "", orders.SupplierPaymentInput{Supplier: "ACME", Amount: 10, Method: orders.MethodCash,
			Applications: []orders.Application{{Invoice: approved.ID, Amount: 10}}}); apperr.KindOf(err) != apperr.KindNotFound {
			t.Errorf("another partner pays the company's bill: %v", err)
		}
		if ps, _ := svc.ListSupplierPayments(pb, app.SupplierPaymentFilter{}, paging.Page{Limit: 10}); len(ps) != 0 {
			t.Errorf("another partner lists %d payments", len(ps))
		}
		if ps, _ := svc.ListSupplierPayments(ctx, app.SupplierPaymentFilter{Supplier: "ACME"}, paging.Page{Limit: 10}); len(ps) != 2 || ps[0].Reference != "WIRE-9" {
			t.Errorf("payments = %+v", ps)
		}
	})
}
