package grpcapi_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/events"
	"trueup.dev/services/orders/internal/grpcapi"
	"trueup.dev/services/orders/internal/orders"
	"trueup.dev/services/orders/internal/store"
)

func newAPI(t *testing.T) *grpcapi.Server {
	t.Helper()
	ctx := context.Background()
	db := pgtest.OpenSQLite(t)
	if err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	a := app.New(store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode), nil)
	if _, err := a.CreateSupplier(ctx, "", orders.Supplier{Code: "ACME", DisplayName: "Acme", CurrencyCode: "EUR"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SyncCatalogItem(ctx, "i1", orders.CatalogItem{SKU: "W-1", BaseUoM: "EA", SourceVersion: 1}); err != nil {
		t.Fatal(err)
	}
	return grpcapi.New(a)
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	e, ok := err.(*apperr.Error)
	if !ok || e.Kind != apperr.KindInvalidArgument || len(e.Violations) == 0 || e.Violations[0].Field != field {
		t.Fatalf("err = %v, want a violation on %s", err, field)
	}
}

func TestListPurchaseOrdersPagesWithTokensBoundToTheFilter(t *testing.T) {
	ctx := context.Background()
	api := newAPI(t)
	for range 3 {
		_, err := api.CreatePurchaseOrder(ctx, &ordersv1.CreatePurchaseOrderRequest{PurchaseOrder: &ordersv1.PurchaseOrder{
			Supplier: "suppliers/acme",
			Lines:    []*ordersv1.PurchaseOrderLine{{Item: "W-1", Quantity: &typev1.Quantity{Value: "1"}, UnitPrice: "1", Warehouse: "WH1"}},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	first, err := api.ListPurchaseOrders(ctx, &ordersv1.ListPurchaseOrdersRequest{PageSize: 2, Supplier: "suppliers/ACME"})
	if err != nil || len(first.GetPurchaseOrders()) != 2 || first.GetNextPageToken() == "" {
		t.Fatalf("first page: %v %v", first, err)
	}
	second, err := api.ListPurchaseOrders(ctx, &ordersv1.ListPurchaseOrdersRequest{PageSize: 2, Supplier: "suppliers/ACME", PageToken: first.GetNextPageToken()})
	if err != nil || len(second.GetPurchaseOrders()) != 1 || second.GetNextPageToken() != "" {
		t.Fatalf("second page: %v %v", second, err)
	}
	_, err = api.ListPurchaseOrders(ctx, &ordersv1.ListPurchaseOrdersRequest{PageSize: 2, PageToken: first.GetNextPageToken()})
	wantField(t, err, "page_token")
	now := time.Now()
	_, err = api.ListPurchaseOrders(ctx, &ordersv1.ListPurchaseOrdersRequest{CreateTimeStart: timestamppb.New(now), CreateTimeEnd: timestamppb.New(now.Add(-time.Hour))})
	wantField(t, err, "create_time_end")
	_, err = api.ListPurchaseOrders(ctx, &ordersv1.ListPurchaseOrdersRequest{State: ordersv1.PurchaseOrderState(99)})
	wantField(t, err, "state")
	_, err = api.ListPurchaseOrders(ctx, &ordersv1.ListPurchaseOrdersRequest{Supplier: "customers/X"})
	wantField(t, err, "supplier")
}

func TestPurchaseOrderRequestsAreChecked(t *testing.T) {
	ctx := context.Background()
	api := newAPI(t)
	_, err := api.CreatePurchaseOrder(ctx, &ordersv1.CreatePurchaseOrderRequest{PurchaseOrder: &ordersv1.PurchaseOrder{}})
	wantField(t, err, "purchase_order.supplier")
	_, err = api.ReleasePurchaseOrder(ctx, &ordersv1.ReleasePurchaseOrderRequest{Name: "purchaseOrders"})
	wantField(t, err, "name")
	_, err = api.ResolveReceiptDiscrepancy(ctx, &ordersv1.ResolveReceiptDiscrepancyRequest{Name: "purchaseOrders/x", LineNumber: 1})
	wantField(t, err, "resolution")
	_, err = api.CancelPurchaseOrder(ctx, &ordersv1.CancelPurchaseOrderRequest{Name: "purchaseOrders/none"})
	if apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("cancel unknown: %v", err)
	}
}
