package grpcapi

import (
	"context"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
	"trueup.dev/services/ledger/internal/protoconv"
)

// Periods implements ledgerv1.PeriodServiceServer.
type Periods struct {
	ledgerv1.UnimplementedPeriodServiceServer
	app    *app.Service
	decode app.Decoder
}

// NewPeriods builds the fiscal period API; decode reads parked events for
// the reconciliation a close runs.
func NewPeriods(a *app.Service, decode app.Decoder) *Periods { return &Periods{app: a, decode: decode} }

// periodID parses "periods/{yyyy-mm}".
func periodID(name string) (string, error) {
	ids, err := resname.Parse("name", name, protoconv.PeriodPattern)
	if err != nil {
		return "", apperr.Invalid(apperr.Field("name", "must be a period name, periods/{yyyy-mm}, e.g. periods/2026-11"))
	}
	return ids[0], nil
}

func (s *Periods) period(p *ledger.Period, err error) (*ledgerv1.Period, error) {
	if err != nil {
		return nil, err
	}
	return protoconv.PeriodToProto(p, s.app.TimeZone()), nil
}

// ListPeriods pages through the periods, oldest first.
func (s *Periods) ListPeriods(ctx context.Context, req *ledgerv1.ListPeriodsRequest) (*ledgerv1.ListPeriodsResponse, error) {
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "periods")
	if err != nil {
		return nil, err
	}
	ps, err := s.app.ListPeriods(ctx, page)
	if err != nil {
		return nil, err
	}
	resp := &ledgerv1.ListPeriodsResponse{}
	for _, p := range ps {
		resp.Periods = append(resp.Periods, protoconv.PeriodToProto(p, s.app.TimeZone()))
	}
	if n := len(ps); n > 0 {
		resp.NextPageToken = page.Next(n, ps[n-1].ID)
	}
	return resp, nil
}

// GetPeriod returns one period.
func (s *Periods) GetPeriod(ctx context.Context, req *ledgerv1.GetPeriodRequest) (*ledgerv1.Period, error) {
	id, err := periodID(req.GetName())
	if err != nil {
		return nil, err
	}
	return s.period(s.app.GetPeriod(ctx, id))
}

// ClosePeriod closes a period, after a reconciliation.
func (s *Periods) ClosePeriod(ctx context.Context, req *ledgerv1.ClosePeriodRequest) (*ledgerv1.Period, error) {
	id, err := periodID(req.GetName())
	if err != nil {
		return nil, err
	}
	return s.period(s.app.ClosePeriod(ctx, req.GetRequestId(), id, req.GetForce(), req.GetReason(), s.decode))
}

// LockPeriod locks a closed period for good.
func (s *Periods) LockPeriod(ctx context.Context, req *ledgerv1.LockPeriodRequest) (*ledgerv1.Period, error) {
	id, err := periodID(req.GetName())
	if err != nil {
		return nil, err
	}
	return s.period(s.app.LockPeriod(ctx, req.GetRequestId(), id, req.GetReason()))
}

// ReopenPeriod reopens a closed period.
func (s *Periods) ReopenPeriod(ctx context.Context, req *ledgerv1.ReopenPeriodRequest) (*ledgerv1.Period, error) {
	id, err := periodID(req.GetName())
	if err != nil {
		return nil, err
	}
	return s.period(s.app.ReopenPeriod(ctx, req.GetRequestId(), id, req.GetReason()))
}
