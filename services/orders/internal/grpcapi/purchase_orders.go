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

// CreatePurchaseOrder creates a draft purchase order.
func (s *Server) CreatePurchaseOrder(ctx context.Context, req *ordersv1.CreatePurchaseOrderRequest) (*ordersv1.PurchaseOrder, error) {
	in, err := protoconv.POInputFromProto(req.GetPurchaseOrder(), caller.From(ctx).IsPartner())
	if err != nil {
		return nil, err
	}
	po, err := s.app.CreatePurchaseOrder(ctx, req.GetRequestId(), in)
	if err != nil {
		return nil, err
	}
	return protoconv.PurchaseOrderToProto(po), nil
}

func parsePOName(name string) (string, error) {
	ids, err := resname.Parse("name", name, protoconv.PurchaseOrderPattern)
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// GetPurchaseOrder returns a purchase order by name ("purchaseOrders/{id}").
func (s *Server) GetPurchaseOrder(ctx context.Context, req *ordersv1.GetPurchaseOrderRequest) (*ordersv1.PurchaseOrder, error) {
	id, err := parsePOName(req.GetName())
	if err != nil {
		return nil, err
	}
	po, err := s.app.GetPurchaseOrder(ctx, id)
	if err != nil {
		return nil, err
	}
	return protoconv.PurchaseOrderToProto(po), nil
}

// ListPurchaseOrders pages through purchase orders in id order, filtered.
func (s *Server) ListPurchaseOrders(ctx context.Context, req *ordersv1.ListPurchaseOrdersRequest) (*ordersv1.ListPurchaseOrdersResponse, error) {
	var v apperr.Violations
	var f app.POFilter
	state, ok := protoconv.POStateFromProto(req.GetState())
	if !ok {
		v.Add("state", "is not a purchase order state")
	}
	f.State = state
	if req.GetSupplier() != "" {
		ids, err := resname.Parse("supplier", req.GetSupplier(), protoconv.SupplierPattern)
		if err != nil {
			v.Add("supplier", "must be a supplier's name, \"suppliers/{code}\"")
		} else {
			f.Supplier = orders.NormalizeCode(ids[0])
		}
	}
	if p := req.GetPartner(); p != "" {
		f.Partner = &p
	}
	if t := req.GetCreateTimeStart(); t != nil {
		f.CreatedFrom = t.AsTime()
	}
	if t := req.GetCreateTimeEnd(); t != nil {
		f.CreatedBefore = t.AsTime()
	}
	if !f.CreatedFrom.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedBefore.After(f.CreatedFrom) {
		v.Add("create_time_end", "must be after create_time_start")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// The token is bound to the filters, so a page of one list is not taken
	// for a page of another.
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), fmt.Sprintf("purchaseOrders|%d|%s|%s|%d|%d",
		f.State, f.Supplier, req.GetPartner(), req.GetCreateTimeStart().AsTime().UnixMicro(), req.GetCreateTimeEnd().AsTime().UnixMicro()))
	if err != nil {
		return nil, err
	}
	pos, err := s.app.ListPurchaseOrders(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &ordersv1.ListPurchaseOrdersResponse{}
	for _, po := range pos {
		resp.PurchaseOrders = append(resp.PurchaseOrders, protoconv.PurchaseOrderToProto(po))
	}
	if n := len(pos); n > 0 {
		resp.NextPageToken = page.Next(n, pos[n-1].ID)
	}
	return resp, nil
}

// ReleasePurchaseOrder releases a draft.
func (s *Server) ReleasePurchaseOrder(ctx context.Context, req *ordersv1.ReleasePurchaseOrderRequest) (*ordersv1.PurchaseOrder, error) {
	return s.changePO(ctx, req.GetName(), func(id string) (*orders.PurchaseOrder, error) {
		return s.app.ReleasePurchaseOrder(ctx, req.GetRequestId(), id)
	})
}

// CancelPurchaseOrder cancels what is not yet received.
func (s *Server) CancelPurchaseOrder(ctx context.Context, req *ordersv1.CancelPurchaseOrderRequest) (*ordersv1.PurchaseOrder, error) {
	return s.changePO(ctx, req.GetName(), func(id string) (*orders.PurchaseOrder, error) {
		return s.app.CancelPurchaseOrder(ctx, req.GetRequestId(), id)
	})
}

// ClosePurchaseOrder closes a received or partially received order.
func (s *Server) ClosePurchaseOrder(ctx context.Context, req *ordersv1.ClosePurchaseOrderRequest) (*ordersv1.PurchaseOrder, error) {
	return s.changePO(ctx, req.GetName(), func(id string) (*orders.PurchaseOrder, error) {
		return s.app.ClosePurchaseOrder(ctx, req.GetRequestId(), id)
	})
}

// ResolveReceiptDiscrepancy resolves a line's open over-receipt.
func (s *Server) ResolveReceiptDiscrepancy(ctx context.Context, req *ordersv1.ResolveReceiptDiscrepancyRequest) (*ordersv1.PurchaseOrder, error) {
	how := protoconv.ResolutionFromProto(req.GetResolution())
	if how == 0 {
		return nil, apperr.Invalid(apperr.Field("resolution", "is required: ACCEPT, AMEND or RETURN"))
	}
	from := orders.ReturnFrom{Location: req.GetLocation(), Lot: req.GetLot()}
	return s.changePO(ctx, req.GetName(), func(id string) (*orders.PurchaseOrder, error) {
		return s.app.ResolveReceiptDiscrepancy(ctx, req.GetRequestId(), id, int(req.GetLineNumber()), how, from)
	})
}

func (s *Server) changePO(_ context.Context, name string, do func(id string) (*orders.PurchaseOrder, error)) (*ordersv1.PurchaseOrder, error) {
	id, err := parsePOName(name)
	if err != nil {
		return nil, err
	}
	po, err := do(id)
	if err != nil {
		return nil, err
	}
	return protoconv.PurchaseOrderToProto(po), nil
}
