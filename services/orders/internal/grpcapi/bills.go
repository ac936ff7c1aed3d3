package grpcapi

import (
	"context"
	"fmt"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
	"trueup.dev/services/orders/internal/protoconv"
)

// RecordSupplierBill records and matches a supplier bill.
func (s *Server) RecordSupplierBill(ctx context.Context, req *ordersv1.RecordSupplierBillRequest) (*ordersv1.SupplierBill, error) {
	order, in, err := protoconv.BillInputFromProto(req.GetSupplierBill(), caller.From(ctx).IsPartner())
	if err != nil {
		return nil, err
	}
	b, err := s.app.RecordBill(ctx, req.GetRequestId(), order, in)
	if err != nil {
		return nil, err
	}
	return protoconv.SupplierBillToProto(b), nil
}

func parseBillName(name string) (string, error) {
	ids, err := resname.Parse("name", name, protoconv.SupplierBillPattern)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// GetSupplierBill returns a bill by name ("supplierBills/{id}").
func (s *Server) GetSupplierBill(ctx context.Context, req *ordersv1.GetSupplierBillRequest) (*ordersv1.SupplierBill, error) {
	return s.changeBill(req.GetName(), func(id string) (*orders.Bill, error) { return s.app.GetBill(ctx, id) })
}

// ListSupplierBills pages through bills in id order, filtered.
func (s *Server) ListSupplierBills(ctx context.Context, req *ordersv1.ListSupplierBillsRequest) (*ordersv1.ListSupplierBillsResponse, error) {
	var v apperr.Violations
	var f app.BillFilter
	state, ok := protoconv.BillStateFromProto(req.GetState())
	if !ok {
		v.Add("state", "is not a supplier bill state")
	}
	f.State = state
	if req.GetSupplier() != "" {
		if ids, err := resname.Parse("supplier", req.GetSupplier(), protoconv.SupplierPattern); err != nil {
			v.Add("supplier", "must be a supplier's name, \"suppliers/{code}\"")
		} else {
			f.Supplier = orders.NormalizeCode(ids[0])
		}
	}
	if req.GetPurchaseOrder() != "" {
		if ids, err := resname.Parse("purchase_order", req.GetPurchaseOrder(), protoconv.PurchaseOrderPattern); err != nil {
			v.Add("purchase_order", "must be a purchase order's name, \"purchaseOrders/{id}\"")
		} else {
			f.PurchaseOrder = ids[0]
		}
	}
	if p := req.GetPartner(); p != "" {
		f.Partner = &p
	}
	f.CreatedFrom, f.CreatedBefore = timeRange(&v, req.GetCreateTimeStart(), req.GetCreateTimeEnd(), "create_time")
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), fmt.Sprintf("supplierBills|%d|%s|%s|%s|%s",
		f.State, f.Supplier, f.PurchaseOrder, req.GetPartner(), rangeKey(req.GetCreateTimeStart(), req.GetCreateTimeEnd())))
	if err != nil {
		return nil, err
	}
	bs, err := s.app.ListBills(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &ordersv1.ListSupplierBillsResponse{}
	for _, b := range bs {
		resp.SupplierBills = append(resp.SupplierBills, protoconv.SupplierBillToProto(b))
	}
	if n := len(bs); n > 0 {
		resp.NextPageToken = page.Next(n, bs[n-1].ID)
	}
	return resp, nil
}

// AcceptSupplierBill approves a held bill.
func (s *Server) AcceptSupplierBill(ctx context.Context, req *ordersv1.AcceptSupplierBillRequest) (*ordersv1.SupplierBill, error) {
	return s.changeBill(req.GetName(), func(id string) (*orders.Bill, error) {
		return s.app.AcceptBill(ctx, req.GetRequestId(), id, req.GetReason())
	})
}

// RejectSupplierBill rejects a held bill.
func (s *Server) RejectSupplierBill(ctx context.Context, req *ordersv1.RejectSupplierBillRequest) (*ordersv1.SupplierBill, error) {
	return s.changeBill(req.GetName(), func(id string) (*orders.Bill, error) {
		return s.app.RejectBill(ctx, req.GetRequestId(), id, req.GetReason())
	})
}

func (s *Server) changeBill(name string, do func(id string) (*orders.Bill, error)) (*ordersv1.SupplierBill, error) {
	id, err := parseBillName(name)
	if err != nil {
		return nil, err
	}
	b, err := do(id)
	if err != nil {
		return nil, err
	}
	return protoconv.SupplierBillToProto(b), nil
}
