package grpcapi

import (
	"context"
	"testing"

	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/services/ledger/internal/app"
)

// The ageing reports refuse a bad date, filter, page size or page token
// before reaching the app; a token from one report does not page the other.
func TestAgeingRequestsReportTransportViolations(t *testing.T) {
	ctx := context.Background()
	s := NewReconciliation(app.New(nil, nil), nil)
	badTime := &timestamppb.Timestamp{Seconds: 1, Nanos: -5}
	_, err := s.GetGrniAgeing(ctx, &ledgerv1.GetGrniAgeingRequest{AsOfTime: badTime, Warehouse: "sites/MAIN", Supplier: "suppliers/A/B"})
	wantFields(t, err, "as_of_time", "warehouse", "supplier")
	_, err = s.GetGrniAgeing(ctx, &ledgerv1.GetGrniAgeingRequest{PageSize: -1})
	wantFields(t, err, "page_size")
	_, err = s.ListShippedNotInvoiced(ctx, &ledgerv1.ListShippedNotInvoicedRequest{AsOfTime: badTime, Customer: "x/y"})
	wantFields(t, err, "as_of_time", "customer")
	_, err = s.ListShippedNotInvoiced(ctx, &ledgerv1.ListShippedNotInvoicedRequest{PageToken: "garbage!"})
	wantFields(t, err, "page_token")
	_, page, err := ageingQuery("grniAgeing", nil, "warehouses/main", "supplier", "suppliers", "ACME", 3, "")
	if err != nil || page.Limit != 3 {
		t.Fatalf("ageingQuery = %+v, %v", page, err)
	}
	token := page.Next(3, "PO-1")
	_, err = s.ListShippedNotInvoiced(ctx, &ledgerv1.ListShippedNotInvoicedRequest{Warehouse: "MAIN", Customer: "ACME", PageToken: token})
	wantFields(t, err, "page_token")
}
