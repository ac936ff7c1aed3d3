package grpcapi_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
)

func TestPartnerMayNotSetAPartysOutputOnlyFields(t *testing.T) {
	ctx := caller.NewContext(context.Background(), caller.Partner("partner-a"))
	api := newAPI(t)
	_, err := api.CreateCustomer(ctx, &ordersv1.CreateCustomerRequest{Customer: &ordersv1.Customer{
		Code: "C1", DisplayName: "C", CurrencyCode: "EUR", Partner: "partner-b", CreateTime: timestamppb.Now()}})
	e, ok := err.(*apperr.Error)
	if !ok || len(e.Violations) != 2 || e.Violations[0].Field != "customer.create_time" || e.Violations[1].Field != "customer.partner" {
		t.Fatalf("err = %v, want violations on customer.create_time and customer.partner", err)
	}
	_, err = api.CreateSupplier(ctx, &ordersv1.CreateSupplierRequest{Supplier: &ordersv1.Supplier{Code: "S1", DisplayName: "S", CurrencyCode: "EUR", Name: "suppliers/X"}})
	wantField(t, err, "supplier.name")
	c, err := api.CreateCustomer(ctx, &ordersv1.CreateCustomerRequest{Customer: &ordersv1.Customer{Code: "C1", DisplayName: "C", CurrencyCode: "EUR",
		CreditLimit: &typev1.Money{CurrencyCode: "EUR", MinorUnits: 5000}}})
	if err != nil || c.GetPartner() != "partner-a" || c.GetPaymentTermsDays() != 30 || c.GetCreditLimit().GetMinorUnits() != 5000 {
		t.Fatalf("created %v, %v", c, err)
	}
	_, err = api.CreateCustomer(ctx, &ordersv1.CreateCustomerRequest{Customer: &ordersv1.Customer{Code: "C2", DisplayName: "C", CurrencyCode: "EUR",
		CreditLimit: &typev1.Money{CurrencyCode: "USD", MinorUnits: 5000}}})
	wantField(t, err, "customer.credit_limit.currency_code")
}

func TestSalesListsCheckTheirFilters(t *testing.T) {
	ctx := context.Background()
	api := newAPI(t)
	now := time.Now()
	later, earlier := timestamppb.New(now), timestamppb.New(now.Add(-time.Hour))
	_, err := api.ListCustomers(ctx, &ordersv1.ListCustomersRequest{CreateTimeStart: later, CreateTimeEnd: earlier})
	wantField(t, err, "create_time_end")
	_, err = api.ListPayments(ctx, &ordersv1.ListPaymentsRequest{ReceiveTimeStart: later, ReceiveTimeEnd: earlier})
	wantField(t, err, "receive_time_end")
	_, err = api.ListSupplierBills(ctx, &ordersv1.ListSupplierBillsRequest{CreateTimeStart: later, CreateTimeEnd: earlier})
	wantField(t, err, "create_time_end")
	_, err = api.ListSalesOrders(ctx, &ordersv1.ListSalesOrdersRequest{State: ordersv1.SalesOrderState(99)})
	wantField(t, err, "state")
	_, err = api.ListInvoices(ctx, &ordersv1.ListInvoicesRequest{SalesOrder: "purchaseOrders/x"})
	wantField(t, err, "sales_order")
	_, err = api.ListReceivablesAgeing(ctx, &ordersv1.ListReceivablesAgeingRequest{Customer: "suppliers/x"})
	wantField(t, err, "customer")
	_, err = api.GetOrderToCashTimings(ctx, &ordersv1.GetOrderToCashTimingsRequest{StartTime: later, EndTime: earlier})
	wantField(t, err, "end_time")
	first, err := api.ListSuppliers(ctx, &ordersv1.ListSuppliersRequest{PageSize: 1})
	if err != nil || len(first.GetSuppliers()) != 1 {
		t.Fatalf("suppliers: %v %v", first, err)
	}
	_, err = api.ListSuppliers(ctx, &ordersv1.ListSuppliersRequest{PageSize: 1, Partner: "p", PageToken: "x"})
	wantField(t, err, "page_token")
	_, err = api.GetSalesOrder(ctx, &ordersv1.GetSalesOrderRequest{Name: "purchaseOrders/x"})
	wantField(t, err, "name")
	_, err = api.RecordPayment(ctx, &ordersv1.RecordPaymentRequest{Payment: &ordersv1.Payment{Customer: "customers/X"}})
	wantField(t, err, "payment.amount")
}
