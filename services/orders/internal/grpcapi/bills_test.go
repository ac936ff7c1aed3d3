package grpcapi_test

import (
	"context"
	"testing"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
)

func TestRecordSupplierBillRefusesOutputOnlyFieldsFromAPartner(t *testing.T) {
	ctx := caller.NewContext(context.Background(), caller.Partner("p1"))
	api := newAPI(t)
	_, err := api.RecordSupplierBill(ctx, &ordersv1.RecordSupplierBillRequest{SupplierBill: &ordersv1.SupplierBill{
		State: ordersv1.SupplierBillState_SUPPLIER_BILL_STATE_APPROVED, PurchaseOrder: "purchaseOrders/x", BillNumber: "B-1", BillDate: "2026-12-01",
		Lines: []*ordersv1.BillLine{{PurchaseOrderLine: 1, Quantity: &typev1.Quantity{Value: "1"}, UnitPrice: "1"}},
	}})
	wantField(t, err, "supplier_bill.state")
}

func TestSupplierBillThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	api := newAPI(t)
	po, err := api.CreatePurchaseOrder(ctx, &ordersv1.CreatePurchaseOrderRequest{PurchaseOrder: &ordersv1.PurchaseOrder{
		Supplier: "suppliers/acme",
		Lines:    []*ordersv1.PurchaseOrderLine{{Item: "W-1", Quantity: &typev1.Quantity{Value: "2"}, UnitPrice: "1", Warehouse: "WH1"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	req := &ordersv1.RecordSupplierBillRequest{SupplierBill: &ordersv1.SupplierBill{PurchaseOrder: po.GetName(), BillNumber: "B-1", BillDate: "2026-12-01",
		Lines: []*ordersv1.BillLine{{PurchaseOrderLine: 1, Quantity: &typev1.Quantity{Value: "1"}, UnitPrice: "1"}}}}
	if _, err := api.RecordSupplierBill(ctx, req); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Fatalf("bill a draft: %v", err)
	}
	if _, err := api.ReleasePurchaseOrder(ctx, &ordersv1.ReleasePurchaseOrderRequest{Name: po.GetName()}); err != nil {
		t.Fatal(err)
	}
	b, err := api.RecordSupplierBill(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// nothing received yet: a quantity variance, held
	if b.GetState() != ordersv1.SupplierBillState_SUPPLIER_BILL_STATE_ON_HOLD || b.GetMatch() != ordersv1.BillMatch_BILL_MATCH_QUANTITY_VARIANCE {
		t.Fatalf("bill = %v", b)
	}
	got, err := api.GetSupplierBill(ctx, &ordersv1.GetSupplierBillRequest{Name: b.GetName()})
	if err != nil || got.GetLines()[0].GetBaseQuantity() != "1" || got.GetTotal().GetMinorUnits() != 100 {
		t.Fatalf("get = %v, %v", got, err)
	}
	list, err := api.ListSupplierBills(ctx, &ordersv1.ListSupplierBillsRequest{PurchaseOrder: po.GetName(), State: ordersv1.SupplierBillState_SUPPLIER_BILL_STATE_ON_HOLD})
	if err != nil || len(list.GetSupplierBills()) != 1 {
		t.Fatalf("list = %v, %v", list, err)
	}
	rej, err := api.RejectSupplierBill(ctx, &ordersv1.RejectSupplierBillRequest{Name: b.GetName(), Reason: "not received"})
	if err != nil || rej.GetState() != ordersv1.SupplierBillState_SUPPLIER_BILL_STATE_REJECTED {
		t.Fatalf("reject = %v, %v", rej, err)
	}
	if _, err := api.AcceptSupplierBill(ctx, &ordersv1.AcceptSupplierBillRequest{Name: b.GetName(), Reason: "x"}); apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Errorf("accept a rejected bill: %v", err)
	}
	if _, err := api.GetSupplierBill(ctx, &ordersv1.GetSupplierBillRequest{Name: "purchaseOrders/x"}); apperr.KindOf(err) != apperr.KindInvalidArgument {
		t.Errorf("bad name: %v", err)
	}
}
