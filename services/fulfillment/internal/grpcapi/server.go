// Package grpcapi is the fulfillment gRPC API: it maps requests to use cases and
// results back to protobuf. Errors go back unchanged; the platform's interceptor
// maps them to status codes.
package grpcapi

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

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

// now is the service's clock, by which claims are shown lapsed or held.
func (s *Server) now() time.Time { return s.app.Now() }

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
	if st, ok := protoconv.ReceiptStateFromProto(req.GetState()); ok {
		f.State = st
	} else {
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

// CreateBlindReceipt opens a receipt for goods with no order or notice.
func (s *Server) CreateBlindReceipt(ctx context.Context, req *fulfillmentv1.CreateBlindReceiptRequest) (*fulfillmentv1.ExpectedReceipt, error) {
	r, err := s.app.CreateBlindReceipt(ctx, req.GetRequestId(), fulfillment.Blind{Warehouse: req.GetWarehouse(),
		Supplier: strings.TrimPrefix(strings.TrimSpace(req.GetSupplier()), "suppliers/"), Reference: req.GetReference()})
	if err != nil {
		return nil, err
	}
	return protoconv.ExpectedReceiptToProto(r), nil
}

// RecordReceiptLine records one scanned line.
func (s *Server) RecordReceiptLine(ctx context.Context, req *fulfillmentv1.RecordReceiptLineRequest) (*fulfillmentv1.RecordReceiptLineResponse, error) {
	ids, err := resname.Parse("receipt", req.GetReceipt(), protoconv.ExpectedReceiptPattern)
	if err != nil {
		return nil, err
	}
	scan := fulfillment.Scan{Code: req.GetItem(), Quantity: req.GetQuantity().GetValue(), UoM: req.GetQuantity().GetUom(),
		Lot: req.GetLot(), Expiry: strings.TrimSpace(req.GetExpiryDate()), Location: req.GetLocation(),
		UnitCost: protoconv.UnitCostFromProto(req.GetUnitCost())}
	switch req.GetCondition() {
	case fulfillmentv1.Condition_CONDITION_GOOD:
		scan.Condition = fulfillment.ConditionGood
	case fulfillmentv1.Condition_CONDITION_DAMAGED:
		scan.Condition = fulfillment.ConditionDamaged
	}
	res, err := s.app.RecordReceiptLine(ctx, req.GetRequestId(), ids[0], scan)
	if err != nil {
		return nil, err
	}
	out := &fulfillmentv1.RecordReceiptLineResponse{Receipt: protoconv.ExpectedReceiptToProto(res.Receipt),
		Line: protoconv.ReceivedLineToProto(res.Receipt, res.Line)}
	for _, d := range res.Discrepancies {
		out.Discrepancies = append(out.Discrepancies, protoconv.DiscrepancyToProto(d, res.Receipt.PurchaseOrder))
	}
	return out, nil
}

// CloseReceipt closes a receipt.
func (s *Server) CloseReceipt(ctx context.Context, req *fulfillmentv1.CloseReceiptRequest) (*fulfillmentv1.CloseReceiptResponse, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.ExpectedReceiptPattern)
	if err != nil {
		return nil, err
	}
	r, flagged, err := s.app.CloseReceipt(ctx, req.GetRequestId(), ids[0])
	if err != nil {
		return nil, err
	}
	out := &fulfillmentv1.CloseReceiptResponse{Receipt: protoconv.ExpectedReceiptToProto(r)}
	for _, d := range flagged {
		out.Discrepancies = append(out.Discrepancies, protoconv.DiscrepancyToProto(d, r.PurchaseOrder))
	}
	return out, nil
}

// discrepancyPattern is the resource name pattern of receipt discrepancies.
const discrepancyPattern = "expectedReceipts/*/discrepancies/*"

// ListReceiptDiscrepancies pages through discrepancies by receipt and number.
func (s *Server) ListReceiptDiscrepancies(ctx context.Context, req *fulfillmentv1.ListReceiptDiscrepanciesRequest) (*fulfillmentv1.ListReceiptDiscrepanciesResponse, error) {
	var v apperr.Violations
	f := app.DiscrepancyFilter{Warehouse: strings.ToUpper(strings.TrimSpace(req.GetWarehouse()))}
	if n := req.GetReceipt(); n != "" {
		if ids, err := resname.Parse("receipt", n, protoconv.ExpectedReceiptPattern); err != nil {
			v.Add("receipt", "must be a receipt's name, \"expectedReceipts/{id}\"")
		} else {
			f.Receipt = ids[0]
		}
	}
	switch req.GetState() {
	case fulfillmentv1.DiscrepancyState_DISCREPANCY_STATE_UNSPECIFIED:
	case fulfillmentv1.DiscrepancyState_DISCREPANCY_STATE_OPEN:
		open := true
		f.Open = &open
	case fulfillmentv1.DiscrepancyState_DISCREPANCY_STATE_RESOLVED:
		open := false
		f.Open = &open
	default:
		v.Add("state", "is not a discrepancy state")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	state := "all"
	if f.Open != nil {
		state = strconv.FormatBool(*f.Open)
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), fmt.Sprintf("receiptDiscrepancies|%s|%s|%s", f.Receipt, f.Warehouse, state))
	if err != nil {
		return nil, err
	}
	var after app.DiscrepancyKey
	if page.After != "" {
		r, n, ok := strings.Cut(page.After, "|")
		num, err := strconv.Atoi(n)
		if !ok || err != nil {
			return nil, apperr.Invalid(apperr.Field("page_token", "is not a token this list gave"))
		}
		after = app.DiscrepancyKey{Receipt: r, Number: num}
	}
	ds, err := s.app.ListReceiptDiscrepancies(ctx, f, after, page.Limit)
	if err != nil {
		return nil, err
	}
	resp := &fulfillmentv1.ListReceiptDiscrepanciesResponse{}
	for _, d := range ds {
		resp.Discrepancies = append(resp.Discrepancies, protoconv.DiscrepancyToProto(d, ""))
	}
	if n := len(ds); n > 0 {
		resp.NextPageToken = page.Next(n, fmt.Sprintf("%s|%d", ds[n-1].Receipt, ds[n-1].Number))
	}
	return resp, nil
}

// ResolveReceiptDiscrepancy settles a discrepancy.
func (s *Server) ResolveReceiptDiscrepancy(ctx context.Context, req *fulfillmentv1.ResolveReceiptDiscrepancyRequest) (*fulfillmentv1.ReceiptDiscrepancy, error) {
	ids, err := resname.Parse("name", req.GetName(), discrepancyPattern)
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(ids[1])
	if err != nil || n < 1 {
		return nil, apperr.Invalid(apperr.Field("name", "must end in a discrepancy number, \"expectedReceipts/{id}/discrepancies/{number}\""))
	}
	in := fulfillment.Resolve{Note: req.GetNote(), Quantity: req.GetQuantity().GetValue(), UoM: req.GetQuantity().GetUom(),
		Lot: req.GetLot(), Expiry: strings.TrimSpace(req.GetExpiryDate()), UnitCost: protoconv.UnitCostFromProto(req.GetUnitCost())}
	switch req.GetResolution() {
	case fulfillmentv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_ACCEPT:
		in.Resolution = fulfillment.ResolutionAccept
	case fulfillmentv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_REJECT:
		in.Resolution = fulfillment.ResolutionReject
	}
	d, err := s.app.ResolveReceiptDiscrepancy(ctx, req.GetRequestId(), ids[0], n, in)
	if err != nil {
		return nil, err
	}
	return protoconv.DiscrepancyToProto(*d, ""), nil
}

// CreateExpectedReceipt records a shipping notice.
func (s *Server) CreateExpectedReceipt(ctx context.Context, req *fulfillmentv1.CreateExpectedReceiptRequest) (*fulfillmentv1.ExpectedReceipt, error) {
	in := app.NoticeInput{Warehouse: req.GetWarehouse(), Supplier: req.GetSupplier(), Reference: req.GetReference(),
		ExpectedDate: req.GetExpectedDate(), Cartons: int(req.GetCartonCount())}
	if n := req.GetPurchaseOrder(); n != "" {
		ids, err := resname.Parse("purchase_order", n, "purchaseOrders/*")
		if err != nil {
			return nil, err
		}
		in.PurchaseOrder = ids[0]
	}
	for _, l := range req.GetLines() {
		in.Lines = append(in.Lines, app.NoticeLineInput{POLine: int(l.GetPurchaseOrderLine()), Item: l.GetItem(),
			Quantity: l.GetQuantity().GetValue(), UoM: l.GetQuantity().GetUom(), Lot: l.GetLot(), Expiry: l.GetExpiryDate(),
			UnitCost: protoconv.UnitCostFromProto(l.GetUnitCost())})
	}
	r, err := s.app.CreateExpectedReceipt(ctx, req.GetRequestId(), in)
	if err != nil {
		return nil, err
	}
	return protoconv.ExpectedReceiptToProto(r), nil
}
