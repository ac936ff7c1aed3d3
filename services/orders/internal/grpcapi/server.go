// Package grpcapi is the orders gRPC API: it maps requests to use cases and
// results back to protobuf. Errors go back unchanged; the platform's interceptor
// maps them to status codes.
package grpcapi

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/protoconv"
)

// Server implements ordersv1.OrdersServiceServer.
type Server struct {
	ordersv1.UnimplementedOrdersServiceServer
	app *app.Service
}

// New builds the API over the application service.
func New(a *app.Service) *Server { return &Server{app: a} }

// CreateSupplier adds a supplier.
func (s *Server) CreateSupplier(ctx context.Context, req *ordersv1.CreateSupplierRequest) (*ordersv1.Supplier, error) {
	if caller.From(ctx).IsPartner() {
		p := req.GetSupplier()
		if err := protoconv.RefuseOutputOnly("supplier.", map[string]bool{"name": p.GetName() != "", "partner": p.GetPartner() != "",
			"create_time": p.GetCreateTime() != nil}); err != nil {
			return nil, err
		}
	}
	sup, err := s.app.CreateSupplier(ctx, req.GetRequestId(), protoconv.SupplierFromProto(req.GetSupplier()))
	if err != nil {
		return nil, err
	}
	return protoconv.SupplierToProto(sup), nil
}

// GetSupplier returns a supplier by name ("suppliers/{code}").
func (s *Server) GetSupplier(ctx context.Context, req *ordersv1.GetSupplierRequest) (*ordersv1.Supplier, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.SupplierPattern)
	if err != nil {
		return nil, err
	}
	sup, err := s.app.GetSupplier(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.SupplierToProto(sup), nil
}

// partyFilter reads the filters parties are listed by.
func partyFilter(partner string, start, end *timestamppb.Timestamp) (app.PartyFilter, error) {
	var v apperr.Violations
	var f app.PartyFilter
	if partner != "" {
		f.Partner = &partner
	}
	f.CreatedFrom, f.CreatedBefore = timeRange(&v, start, end, "create_time")
	return f, v.Err()
}

// timeRange reads an optional [start, end) filter named prefix_start and
// prefix_end; end must come after start.
func timeRange(v *apperr.Violations, start, end *timestamppb.Timestamp, prefix string) (from, before time.Time) {
	if start != nil {
		from = start.AsTime()
	}
	if end != nil {
		before = end.AsTime()
	}
	if !from.IsZero() && !before.IsZero() && !before.After(from) {
		v.Add(prefix+"_end", "must be after "+prefix+"_start")
	}
	return from, before
}

// rangeKey is a [start, end) filter in a page token's filter key.
func rangeKey(start, end *timestamppb.Timestamp) string {
	return fmt.Sprintf("%d|%d", start.AsTime().UnixMicro(), end.AsTime().UnixMicro())
}

// ListSuppliers pages through suppliers in code order.
func (s *Server) ListSuppliers(ctx context.Context, req *ordersv1.ListSuppliersRequest) (*ordersv1.ListSuppliersResponse, error) {
	f, err := partyFilter(req.GetPartner(), req.GetCreateTimeStart(), req.GetCreateTimeEnd())
	if err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "suppliers|"+req.GetPartner()+"|"+rangeKey(req.GetCreateTimeStart(), req.GetCreateTimeEnd()))
	if err != nil {
		return nil, err
	}
	sups, err := s.app.ListSuppliers(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &ordersv1.ListSuppliersResponse{}
	for _, sup := range sups {
		resp.Suppliers = append(resp.Suppliers, protoconv.SupplierToProto(sup))
	}
	if n := len(sups); n > 0 {
		resp.NextPageToken = page.Next(n, sups[n-1].Code)
	}
	return resp, nil
}

// CreateCustomer adds a customer.
func (s *Server) CreateCustomer(ctx context.Context, req *ordersv1.CreateCustomerRequest) (*ordersv1.Customer, error) {
	if caller.From(ctx).IsPartner() {
		p := req.GetCustomer()
		if err := protoconv.RefuseOutputOnly("customer.", map[string]bool{"name": p.GetName() != "", "partner": p.GetPartner() != "",
			"create_time": p.GetCreateTime() != nil}); err != nil {
			return nil, err
		}
	}
	in, err := protoconv.CustomerFromProto(req.GetCustomer())
	if err != nil {
		return nil, err
	}
	c, err := s.app.CreateCustomer(ctx, req.GetRequestId(), in)
	if err != nil {
		return nil, err
	}
	return protoconv.CustomerToProto(c), nil
}

// GetCustomer returns a customer by name ("customers/{code}").
func (s *Server) GetCustomer(ctx context.Context, req *ordersv1.GetCustomerRequest) (*ordersv1.Customer, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.CustomerPattern)
	if err != nil {
		return nil, err
	}
	c, err := s.app.GetCustomer(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.CustomerToProto(c), nil
}

// ListCustomers pages through customers in code order.
func (s *Server) ListCustomers(ctx context.Context, req *ordersv1.ListCustomersRequest) (*ordersv1.ListCustomersResponse, error) {
	f, err := partyFilter(req.GetPartner(), req.GetCreateTimeStart(), req.GetCreateTimeEnd())
	if err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "customers|"+req.GetPartner()+"|"+rangeKey(req.GetCreateTimeStart(), req.GetCreateTimeEnd()))
	if err != nil {
		return nil, err
	}
	cs, err := s.app.ListCustomers(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &ordersv1.ListCustomersResponse{}
	for _, c := range cs {
		resp.Customers = append(resp.Customers, protoconv.CustomerToProto(c))
	}
	if n := len(cs); n > 0 {
		resp.NextPageToken = page.Next(n, cs[n-1].Code)
	}
	return resp, nil
}

// GetCatalogItem returns a catalog item by name ("catalogItems/{sku}").
func (s *Server) GetCatalogItem(ctx context.Context, req *ordersv1.GetCatalogItemRequest) (*ordersv1.CatalogItem, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.CatalogItemPattern)
	if err != nil {
		return nil, err
	}
	it, err := s.app.GetCatalogItem(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.CatalogItemToProto(it), nil
}

// ListCatalogItems pages through the catalog in SKU order.
func (s *Server) ListCatalogItems(ctx context.Context, req *ordersv1.ListCatalogItemsRequest) (*ordersv1.ListCatalogItemsResponse, error) {
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "catalogItems")
	if err != nil {
		return nil, err
	}
	items, err := s.app.ListCatalogItems(ctx, page)
	if err != nil {
		return nil, err
	}
	resp := &ordersv1.ListCatalogItemsResponse{}
	for _, it := range items {
		resp.CatalogItems = append(resp.CatalogItems, protoconv.CatalogItemToProto(it))
	}
	if n := len(items); n > 0 {
		resp.NextPageToken = page.Next(n, items[n-1].SKU)
	}
	return resp, nil
}
