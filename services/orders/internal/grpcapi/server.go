// Package grpcapi is the orders gRPC API: it maps requests to use cases and
// results back to protobuf. Errors go back unchanged; the platform's interceptor
// maps them to status codes.
package grpcapi

import (
	"context"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
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

// ListSuppliers pages through suppliers in code order.
func (s *Server) ListSuppliers(ctx context.Context, req *ordersv1.ListSuppliersRequest) (*ordersv1.ListSuppliersResponse, error) {
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "suppliers")
	if err != nil {
		return nil, err
	}
	sups, err := s.app.ListSuppliers(ctx, page)
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
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "customers")
	if err != nil {
		return nil, err
	}
	cs, err := s.app.ListCustomers(ctx, page)
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
