package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/grpcserver"
)

// Stock commands through the public surfaces: precise errors with details over
// gRPC, the matching HTTP status and JSON through the gateway.
func TestStockOverGRPCAndREST(t *testing.T) {
	st, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	inv := inventoryv1.NewInventoryServiceClient(conn)
	ship := &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_SHIPMENT, Id: "SH-1"}

	// The demo seed received stock: 10 CS of WIDGET-100 at 18.00 per CS.
	val, err := inv.GetValuation(ctx, &inventoryv1.GetValuationRequest{Warehouse: "warehouses/MAIN", Item: "items/WIDGET-100"})
	if err != nil || len(val.GetLines()) != 1 || val.GetLines()[0].GetQuantity() != "120" || val.GetLines()[0].GetValue().GetMinorUnits() != 18000 {
		t.Fatalf("valuation = %v, %v", val, err)
	}

	// A fraction of a whole-unit item: InvalidArgument with the field named.
	_, err = inv.IssueStock(ctx, &inventoryv1.IssueStockRequest{RequestId: "g1", Item: "items/WIDGET-100",
		Location: "warehouses/MAIN/locations/A-01-01", Quantity: &typev1.Quantity{Value: "0.5", Uom: "EA"}, Source: ship})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !hasFieldViolation(st, "quantity.value") {
		t.Fatalf("fractional issue: %v", err)
	}
	// Too much: FailedPrecondition with the shortfall, and the client maps it back.
	_, err = inv.IssueStock(ctx, &inventoryv1.IssueStockRequest{RequestId: "g2", Item: "items/WIDGET-100",
		Location: "warehouses/MAIN/locations/A-01-01", Quantity: &typev1.Quantity{Value: "11", Uom: "CS"}, Source: ship})
	var e *apperr.Error
	if !errors.As(grpcserver.FromStatus(err), &e) || e.Kind != apperr.KindFailedPrecondition || e.Metadata["shortfall"] != "12" {
		t.Fatalf("over-issue: %v", err)
	}
	// A good issue reports its exact cost.
	m, err := inv.IssueStock(ctx, &inventoryv1.IssueStockRequest{RequestId: "g3", Item: "items/WIDGET-100",
		Location: "warehouses/MAIN/locations/A-01-01", Quantity: &typev1.Quantity{Value: "1", Uom: "CS"}, Source: ship})
	if err != nil || m.GetValue().GetMinorUnits() != -1800 || m.GetBaseQuantity() != "-12" {
		t.Fatalf("issue = %v, %v", m, err)
	}

	base := "http://" + st.HTTPAddr
	code, body := httpDo(t, "GET", base+"/v1/warehouses/MAIN/stock?item=items/WIDGET-100", testKey, "")
	if code != http.StatusOK || !strings.Contains(body, `"onHand":"108"`) {
		t.Fatalf("list stock = %d %s", code, body)
	}
}

func hasFieldViolation(st *status.Status, field string) bool {
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetField() == field {
					return true
				}
			}
		}
	}
	return false
}
