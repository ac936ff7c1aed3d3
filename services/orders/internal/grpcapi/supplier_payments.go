package grpcapi

import (
	"context"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
	"trueup.dev/services/orders/internal/protoconv"
)

// RecordSupplierPayment records a payment to a supplier.
func (s *Server) RecordSupplierPayment(ctx context.Context, req *ordersv1.RecordSupplierPaymentRequest) (*ordersv1.SupplierPayment, error) {
	in, err := protoconv.SupplierPaymentInputFromProto(req.GetSupplierPayment(), caller.From(ctx).IsPartner())
	if err != nil {
		return nil, err
	}
	p, err := s.app.RecordSupplierPayment(ctx, req.GetRequestId(), in)
	if err != nil {
		return nil, err
	}
	return protoconv.SupplierPaymentToProto(p), nil
}

// GetSupplierPayment returns a supplier payment by name.
func (s *Server) GetSupplierPayment(ctx context.Context, req *ordersv1.GetSupplierPaymentRequest) (*ordersv1.SupplierPayment, error) {
	id, err := parseName("name", req.GetName(), protoconv.SupplierPaymentPattern)
	if err != nil {
		return nil, err
	}
	p, err := s.app.GetSupplierPayment(ctx, id)
	if err != nil {
		return nil, err
	}
	return protoconv.SupplierPaymentToProto(p), nil
}

// ListSupplierPayments pages through supplier payments in id order, filtered.
func (s *Server) ListSupplierPayments(ctx context.Context, req *ordersv1.ListSupplierPaymentsRequest) (*ordersv1.ListSupplierPaymentsResponse, error) {
	var v apperr.Violations
	var f app.SupplierPaymentFilter
	if n := req.GetSupplier(); n != "" {
		if ids, err := resname.Parse("supplier", n, protoconv.SupplierPattern); err != nil {
			v.Add("supplier", "must be a supplier's name, \"suppliers/{code}\"")
		} else {
			f.Supplier = orders.NormalizeCode(ids[0])
		}
	}
	if p := req.GetPartner(); p != "" {
		f.Partner = &p
	}
	f.PaidFrom, f.PaidBefore = timeRange(&v, req.GetPayTimeStart(), req.GetPayTimeEnd(), "pay_time")
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "supplierPayments|"+f.Supplier+"|"+req.GetPartner()+"|"+
		rangeKey(req.GetPayTimeStart(), req.GetPayTimeEnd()))
	if err != nil {
		return nil, err
	}
	ps, err := s.app.ListSupplierPayments(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &ordersv1.ListSupplierPaymentsResponse{}
	for _, p := range ps {
		resp.SupplierPayments = append(resp.SupplierPayments, protoconv.SupplierPaymentToProto(p))
	}
	if n := len(ps); n > 0 {
		resp.NextPageToken = page.Next(n, ps[n-1].ID)
	}
	return resp, nil
}
