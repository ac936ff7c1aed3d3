package grpcapi

import (
	"context"
	"fmt"
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

// CountServer implements fulfillmentv1.CountServiceServer.
type CountServer struct {
	fulfillmentv1.UnimplementedCountServiceServer
	app *app.Service
}

// NewCounts builds the cycle count API over the application service.
func NewCounts(a *app.Service) *CountServer { return &CountServer{app: a} }

// reviewed is a reviewer's view of a count: a line shows what inventory
// expected once nothing of the count still counts its location.
func reviewed(c *fulfillment.Count) *fulfillmentv1.Count { return protoconv.CountToProto(c, c.Reveals) }

// CreateCount opens a count.
func (s *CountServer) CreateCount(ctx context.Context, req *fulfillmentv1.CreateCountRequest) (*fulfillmentv1.Count, error) {
	th, err := protoconv.CountThresholdsFromProto(req.GetThresholds())
	if err != nil {
		return nil, err
	}
	locs := make([]string, len(req.GetLocations()))
	for i, l := range req.GetLocations() {
		locs[i] = locationCode(l)
	}
	c, err := s.app.CreateCount(ctx, req.GetRequestId(), fulfillment.CountSpec{Warehouse: req.GetWarehouse(), Locations: locs,
		Items: req.GetItems(), ReasonCode: req.GetReasonCode(), Thresholds: th})
	if err != nil {
		return nil, err
	}
	return reviewed(c), nil
}

// locationCode takes a location's code, or the code of its name
// ("warehouses/{w}/locations/{code}").
func locationCode(s string) string {
	if i := strings.LastIndex(s, "/locations/"); i >= 0 {
		return s[i+len("/locations/"):]
	}
	return s
}

// GetCount returns a count ("counts/{id}").
func (s *CountServer) GetCount(ctx context.Context, req *fulfillmentv1.GetCountRequest) (*fulfillmentv1.Count, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.CountPattern)
	if err != nil {
		return nil, err
	}
	c, err := s.app.GetCount(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return reviewed(c), nil
}

// ListCounts pages through counts in id order, filtered.
func (s *CountServer) ListCounts(ctx context.Context, req *fulfillmentv1.ListCountsRequest) (*fulfillmentv1.ListCountsResponse, error) {
	f := app.CountFilter{Warehouse: strings.ToUpper(strings.TrimSpace(req.GetWarehouse()))}
	var ok bool
	if f.State, ok = protoconv.CountStateFromProto(req.GetState()); !ok {
		return nil, apperr.Invalid(apperr.Field("state", "is not a count state"))
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), fmt.Sprintf("counts|%s|%d", f.Warehouse, f.State))
	if err != nil {
		return nil, err
	}
	cs, err := s.app.ListCounts(ctx, f, page.After, page.Limit)
	if err != nil {
		return nil, err
	}
	resp := &fulfillmentv1.ListCountsResponse{}
	for _, c := range cs {
		resp.Counts = append(resp.Counts, reviewed(c))
	}
	if n := len(cs); n > 0 {
		resp.NextPageToken = page.Next(n, cs[n-1].ID)
	}
	return resp, nil
}

// RecordCount records a count task; the answer is blind.
func (s *CountServer) RecordCount(ctx context.Context, req *fulfillmentv1.RecordCountRequest) (*fulfillmentv1.RecordCountResponse, error) {
	id, err := taskID("task", req.GetTask())
	if err != nil {
		return nil, err
	}
	scans := make([]fulfillment.CountScan, len(req.GetLines()))
	for i, l := range req.GetLines() {
		scans[i] = fulfillment.CountScan{Code: l.GetItem(), Lot: l.GetLot(), Expiry: strings.TrimSpace(l.GetExpiryDate()),
			Quantity: l.GetQuantity().GetValue(), UoM: l.GetQuantity().GetUom()}
	}
	var at time.Time
	if ts := req.GetCountTime(); ts != nil {
		if err := ts.CheckValid(); err != nil {
			return nil, apperr.Invalid(apperr.Field("count_time", err.Error()))
		}
		at = ts.AsTime()
	}
	res, err := s.app.RecordCount(ctx, req.GetRequestId(), id, scans, at)
	if err != nil {
		return nil, err
	}
	resp := &fulfillmentv1.RecordCountResponse{Count: protoconv.CountToProto(res.Count, protoconv.Blind),
		Task: protoconv.TaskToProto(res.Task, time.Now())}
	for _, l := range res.Lines {
		resp.Lines = append(resp.Lines, protoconv.CountLineToProto(res.Count.Warehouse, l, false))
	}
	return resp, nil
}

// ReviewCount applies a reviewer's decisions.
func (s *CountServer) ReviewCount(ctx context.Context, req *fulfillmentv1.ReviewCountRequest) (*fulfillmentv1.Count, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.CountPattern)
	if err != nil {
		return nil, err
	}
	var v apperr.Violations
	ds := make([]fulfillment.CountDecision, len(req.GetDecisions()))
	for i, d := range req.GetDecisions() {
		ds[i] = fulfillment.CountDecision{Line: int(d.GetLine()), Recount: d.GetRecount(), Reason: d.GetReason(), ReasonCode: d.GetReasonCode()}
		switch d.GetDecision() {
		case fulfillmentv1.CountDecision_COUNT_DECISION_APPROVE:
			ds[i].Approve = true
		case fulfillmentv1.CountDecision_COUNT_DECISION_REJECT:
		default:
			v.Add(fmt.Sprintf("decisions[%d].decision", i), "is required: APPROVE or REJECT")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	c, err := s.app.ReviewCount(ctx, req.GetRequestId(), ids[0], ds)
	if err != nil {
		return nil, err
	}
	return reviewed(c), nil
}
