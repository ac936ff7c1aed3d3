package grpcapi

import (
	"context"
	"strings"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/protoconv"
)

// CreateReasonCode adds a reason code.
func (s *Server) CreateReasonCode(ctx context.Context, req *inventoryv1.CreateReasonCodeRequest) (*inventoryv1.ReasonCode, error) {
	rc, err := s.app.CreateReasonCode(ctx, req.GetRequestId(), protoconv.ReasonCodeFromProto(req.GetReasonCode()))
	if err != nil {
		return nil, err
	}
	return protoconv.ReasonCodeToProto(rc), nil
}

// UpdateReasonCode changes the fields of a reason code that update_mask names.
func (s *Server) UpdateReasonCode(ctx context.Context, req *inventoryv1.UpdateReasonCodeRequest) (*inventoryv1.ReasonCode, error) {
	ids, err := resname.Parse("reason_code.name", req.GetReasonCode().GetName(), protoconv.ReasonCodePattern)
	if err != nil {
		return nil, err
	}
	in := protoconv.ReasonCodeFromProto(req.GetReasonCode())
	if in.Code != "" && !strings.EqualFold(strings.TrimSpace(in.Code), ids[0]) {
		return nil, apperr.Invalid(apperr.Field("reason_code.code", "cannot change: the code identifies the reason; leave it empty or equal to the name's"))
	}
	rc, err := s.app.UpdateReasonCode(ctx, req.GetRequestId(), ids[0], app.ReasonCodeUpdate{Fields: req.GetUpdateMask().GetPaths(), Values: in})
	if err != nil {
		return nil, err
	}
	return protoconv.ReasonCodeToProto(rc), nil
}

// GetReasonCode returns a reason code by name ("reasonCodes/{code}").
func (s *Server) GetReasonCode(ctx context.Context, req *inventoryv1.GetReasonCodeRequest) (*inventoryv1.ReasonCode, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.ReasonCodePattern)
	if err != nil {
		return nil, err
	}
	rc, err := s.app.GetReasonCode(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.ReasonCodeToProto(rc), nil
}

// ListReasonCodes pages through reason codes in code order.
func (s *Server) ListReasonCodes(ctx context.Context, req *inventoryv1.ListReasonCodesRequest) (*inventoryv1.ListReasonCodesResponse, error) {
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "reasonCodes")
	if err != nil {
		return nil, err
	}
	rcs, err := s.app.ListReasonCodes(ctx, page)
	if err != nil {
		return nil, err
	}
	resp := &inventoryv1.ListReasonCodesResponse{}
	for _, rc := range rcs {
		resp.ReasonCodes = append(resp.ReasonCodes, protoconv.ReasonCodeToProto(rc))
	}
	if n := len(rcs); n > 0 {
		resp.NextPageToken = page.Next(n, rcs[n-1].Code)
	}
	return resp, nil
}
