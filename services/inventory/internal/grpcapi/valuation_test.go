package grpcapi_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
)

// A follower of the journal always gets a token to continue from, also at
// the end; start_after_seq and the time range narrow the list; and the
// valuation pages by item and says which journal sequence it is complete
// through (SQLite; the store tests cover the late commits of PostgreSQL).
func TestAFollowerOfTheJournalNeverRunsOutOfTokens(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateWarehouse(ctx, &inventoryv1.CreateWarehouseRequest{Warehouse: &inventoryv1.Warehouse{Code: "W1", DisplayName: "Main"}}))
	must(s.CreateLocation(ctx, &inventoryv1.CreateLocationRequest{Parent: "warehouses/W1", Location: &inventoryv1.Location{Code: "A1", Type: inventoryv1.LocationType_LOCATION_TYPE_STORAGE}}))
	for _, sku := range []string{"W-1", "W-2"} {
		must(s.CreateItem(ctx, &inventoryv1.CreateItemRequest{Item: &inventoryv1.Item{Sku: sku, Description: "Widget", BaseUom: "EA"}}))
	}
	po := &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: "PO-1"}
	receive := func(id, sku, q, cost string) {
		t.Helper()
		must(s.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: id, Item: "items/" + sku, Location: "warehouses/W1/locations/A1",
			Quantity: &typev1.Quantity{Value: q, Uom: "EA"}, UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: cost}, Source: po}))
	}
	receive("r1", "W-1", "10", "2.50")
	receive("r2", "W-2", "4", "1.00")
	must(s.IssueStock(ctx, &inventoryv1.IssueStockRequest{RequestId: "i1", Item: "items/W-1", Location: "warehouses/W1/locations/A1",
		Quantity: &typev1.Quantity{Value: "3", Uom: "EA"}, Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_SHIPMENT, Id: "SH-1"}}))

	list := func(req *inventoryv1.ListMovementsRequest) *inventoryv1.ListMovementsResponse {
		t.Helper()
		resp, err := s.ListMovements(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetNextPageToken() == "" {
			t.Fatalf("ListMovements(%v) gave no next_page_token: a follower could not continue", req)
		}
		return resp
	}
	first := list(&inventoryv1.ListMovementsRequest{PageSize: 2})
	second := list(&inventoryv1.ListMovementsRequest{PageSize: 2, PageToken: first.GetNextPageToken()})
	end := list(&inventoryv1.ListMovementsRequest{PageSize: 2, PageToken: second.GetNextPageToken()})
	if len(first.GetMovements()) != 2 || len(second.GetMovements()) != 1 || len(end.GetMovements()) != 0 || end.GetCompleteThroughSeq() != 3 {
		t.Fatalf("pages of %d, %d, %d movements, complete through %d; want 2, 1, 0 through 3",
			len(first.GetMovements()), len(second.GetMovements()), len(end.GetMovements()), end.GetCompleteThroughSeq())
	}
	receive("r3", "W-2", "1", "1.00")
	next := list(&inventoryv1.ListMovementsRequest{PageSize: 2, PageToken: end.GetNextPageToken()})
	if len(next.GetMovements()) != 1 || next.GetMovements()[0].GetBaseQuantity() != "1" || next.GetCompleteThroughSeq() != 4 {
		t.Fatalf("polling from the end token gave %v through %d; want the new receipt, through 4", next.GetMovements(), next.GetCompleteThroughSeq())
	}
	if after := list(&inventoryv1.ListMovementsRequest{StartAfterSeq: 2}); len(after.GetMovements()) != 2 || after.GetMovements()[0].GetName() != second.GetMovements()[0].GetName() {
		t.Fatalf("start_after_seq 2 gave %v; want the issue (seq 3) and the new receipt", after.GetMovements())
	}
	clock := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) // the server's
	for _, c := range []struct {
		name       string
		start, end time.Time
		want       int
	}{
		{"from the time of the movements", clock, time.Time{}, 4},
		{"after it", clock.Add(time.Microsecond), time.Time{}, 0},
		{"before it", time.Time{}, clock, 0},
		{"around it", clock.Add(-time.Hour), clock.Add(time.Hour), 4},
	} {
		req := &inventoryv1.ListMovementsRequest{}
		if !c.start.IsZero() {
			req.StartTime = timestamppb.New(c.start)
		}
		if !c.end.IsZero() {
			req.EndTime = timestamppb.New(c.end)
		}
		if got := list(req); len(got.GetMovements()) != c.want {
			t.Errorf("%s: %d movements, want %d", c.name, len(got.GetMovements()), c.want)
		}
	}
	if _, err := s.ListMovements(ctx, &inventoryv1.ListMovementsRequest{StartTime: timestamppb.New(clock), EndTime: timestamppb.New(clock)}); !hasViolation(err, "end_time") {
		t.Errorf("an empty time range: %v, want INVALID_ARGUMENT on end_time", err)
	}

	v1, err := s.GetValuation(ctx, &inventoryv1.GetValuationRequest{Warehouse: "warehouses/W1", PageSize: 1})
	if err != nil || len(v1.GetLines()) != 1 || v1.GetLines()[0].GetValue().GetMinorUnits() != 1750 || v1.GetNextPageToken() == "" || v1.GetCompleteThroughSeq() != 4 {
		t.Fatalf("valuation page 1 = %v, %v; want W-1 at 17.50, a token, complete through 4", v1, err)
	}
	v2, err := s.GetValuation(ctx, &inventoryv1.GetValuationRequest{Warehouse: "warehouses/W1", PageSize: 1, PageToken: v1.GetNextPageToken()})
	if err != nil || len(v2.GetLines()) != 1 || v2.GetLines()[0].GetItem() != "items/W-2" || v2.GetLines()[0].GetValue().GetMinorUnits() != 500 {
		t.Fatalf("valuation page 2 = %v, %v; want W-2 at 5.00", v2, err)
	}
	if _, err := s.GetValuation(ctx, &inventoryv1.GetValuationRequest{Warehouse: "warehouses/W1", PageSize: 1, PageToken: v1.GetNextPageToken(), ByLot: true}); !hasViolation(err, "page_token") {
		t.Errorf("a token used with another filter: %v, want INVALID_ARGUMENT on page_token", err)
	}
}
