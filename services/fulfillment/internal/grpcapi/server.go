// Package grpcapi is the fulfillment gRPC API: it maps requests to use cases and
// results back to protobuf. Errors go back unchanged; the platform's interceptor
// maps them to status codes.
package grpcapi

import (
	"context"
	"fmt"
	"strings"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
	"trueup.dev/services/fulfillment/internal/protoconv"
)

// Server implements fulfillmentv1.FulfillmentServiceServer.
type Server struct {
	fulfillmentv1.UnimplementedFulfillmentServiceServer
	app *app.Service
}

// New builds the API over the application service.
func New(a *app.Service) *Server { return &Server{app: a} }

// CreateCarrier adds a carrier.
func (s *Server) CreateCarrier(ctx context.Context, req *fulfillmentv1.CreateCarrierRequest) (*fulfillmentv1.Carrier, error) {
	c, err := s.app.CreateCarrier(ctx, req.GetRequestId(), protoconv.CarrierFromProto(req.GetCarrier()))
	if err != nil {
		return nil, err
	}
	return protoconv.CarrierToProto(c), nil
}

// GetCarrier returns a carrier by name ("carriers/{code}").
func (s *Server) GetCarrier(ctx context.Context, req *fulfillmentv1.GetCarrierRequest) (*fulfillmentv1.Carrier, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.CarrierPattern)
	if err != nil {
		return nil, err
	}
	c, err := s.app.GetCarrier(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.CarrierToProto(c), nil
}

// ListCarriers pages through carriers in code order.
func (s *Server) ListCarriers(ctx context.Context, req *fulfillmentv1.ListCarriersRequest) (*fulfillmentv1.ListCarriersResponse, error) {
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "carriers")
	if err != nil {
		return nil, err
	}
	cs, err := s.app.ListCarriers(ctx, page)
	if err != nil {
		return nil, err
	}
	resp := &fulfillmentv1.ListCarriersResponse{}
	for _, c := range cs {
		resp.Carriers = append(resp.Carriers, protoconv.CarrierToProto(c))
	}
	if n := len(cs); n > 0 {
		resp.NextPageToken = page.Next(n, cs[n-1].Code)
	}
	return resp, nil
}

// GetExpectedReceipt returns an expected receipt by name ("expectedReceipts/{id}").
func (s *Server) GetExpectedReceipt(ctx context.Context, req *fulfillmentv1.GetExpectedReceiptRequest) (*fulfillmentv1.ExpectedReceipt, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.ExpectedReceiptPattern)
	if err != nil {
		return nil, err
	}
	r, err := s.app.GetExpectedReceipt(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.ExpectedReceiptToProto(r), nil
}

// ListExpectedReceipts pages through expected receipts in id order, filtered.
func (s *Server) ListExpectedReceipts(ctx context.Context, req *fulfillmentv1.ListExpectedReceiptsRequest) (*fulfillmentv1.ListExpectedReceiptsResponse, error) {
	var v apperr.Violations
	f := app.ReceiptFilter{Warehouse: strings.ToUpper(strings.TrimSpace(req.GetWarehouse()))}
	if n := req.GetPurchaseOrder(); n != "" {
		if ids, err := resname.Parse("purchase_order", n, "purchaseOrders/*"); err != nil {
			v.Add("purchase_order", "must be a purchase order's name, \"purchaseOrders/{id}\"")
		} else {
			f.PurchaseOrder = ids[0]
		}
	}
	switch req.GetState() {
	case fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_UNSPECIFIED:
	case fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_OPEN:
		f.State = fulfillment.ReceiptOpen
	default:
		v.Add("state", "is not an expected receipt state")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), fmt.Sprintf("expectedReceipts|%s|%s|%d", f.Warehouse, f.PurchaseOrder, f.State))
	if err != nil {
		return nil, err
	}
	rs, err := s.app.ListExpectedReceipts(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &fulfillmentv1.ListExpectedReceiptsResponse{}
	for _, r := range rs {
		resp.ExpectedReceipts = append(resp.ExpectedReceipts, protoconv.ExpectedReceiptToProto(r))
	}
	if n := len(rs); n > 0 {
		resp.NextPageToken = page.Next(n, rs[n-1].ID)
	}
	return resp, nil
}
