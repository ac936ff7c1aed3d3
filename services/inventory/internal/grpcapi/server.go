// Package grpcapi is the inventory gRPC API: it maps requests to use cases and
// results back to protobuf. Errors go back unchanged; the platform's interceptor
// maps them to status codes.
package grpcapi

import (
	"context"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/protoconv"
)

// Server implements inventoryv1.InventoryServiceServer.
type Server struct {
	inventoryv1.UnimplementedInventoryServiceServer
	app *app.Service
}

// New builds the API over the application service.
func New(a *app.Service) *Server { return &Server{app: a} }

// CreateItem adds an item to the item master.
func (s *Server) CreateItem(ctx context.Context, req *inventoryv1.CreateItemRequest) (*inventoryv1.Item, error) {
	it, err := s.app.CreateItem(ctx, req.GetRequestId(), protoconv.ItemFromProto(req.GetItem()))
	if err != nil {
		return nil, err
	}
	return protoconv.ItemToProto(it), nil
}

// GetItem returns an item by name ("items/{sku}").
func (s *Server) GetItem(ctx context.Context, req *inventoryv1.GetItemRequest) (*inventoryv1.Item, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.ItemPattern)
	if err != nil {
		return nil, err
	}
	it, err := s.app.GetItem(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.ItemToProto(it), nil
}

// ListItems pages through items in SKU order.
func (s *Server) ListItems(ctx context.Context, req *inventoryv1.ListItemsRequest) (*inventoryv1.ListItemsResponse, error) {
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "items")
	if err != nil {
		return nil, err
	}
	items, err := s.app.ListItems(ctx, page)
	if err != nil {
		return nil, err
	}
	resp := &inventoryv1.ListItemsResponse{}
	for _, it := range items {
		resp.Items = append(resp.Items, protoconv.ItemToProto(it))
	}
	if n := len(items); n > 0 {
		resp.NextPageToken = page.Next(n, items[n-1].SKU)
	}
	return resp, nil
}

// CreateWarehouse sets up a warehouse.
func (s *Server) CreateWarehouse(ctx context.Context, req *inventoryv1.CreateWarehouseRequest) (*inventoryv1.Warehouse, error) {
	w, err := s.app.CreateWarehouse(ctx, req.GetRequestId(), protoconv.WarehouseFromProto(req.GetWarehouse()))
	if err != nil {
		return nil, err
	}
	return protoconv.WarehouseToProto(w), nil
}

// GetWarehouse returns a warehouse by name ("warehouses/{code}").
func (s *Server) GetWarehouse(ctx context.Context, req *inventoryv1.GetWarehouseRequest) (*inventoryv1.Warehouse, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.WarehousePattern)
	if err != nil {
		return nil, err
	}
	w, err := s.app.GetWarehouse(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.WarehouseToProto(w), nil
}

// ListWarehouses pages through warehouses in code order.
func (s *Server) ListWarehouses(ctx context.Context, req *inventoryv1.ListWarehousesRequest) (*inventoryv1.ListWarehousesResponse, error) {
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "warehouses")
	if err != nil {
		return nil, err
	}
	ws, err := s.app.ListWarehouses(ctx, page)
	if err != nil {
		return nil, err
	}
	resp := &inventoryv1.ListWarehousesResponse{}
	for _, w := range ws {
		resp.Warehouses = append(resp.Warehouses, protoconv.WarehouseToProto(w))
	}
	if n := len(ws); n > 0 {
		resp.NextPageToken = page.Next(n, ws[n-1].Code)
	}
	return resp, nil
}

// CreateLocation sets up a bin in a warehouse ("warehouses/{code}").
func (s *Server) CreateLocation(ctx context.Context, req *inventoryv1.CreateLocationRequest) (*inventoryv1.Location, error) {
	ids, err := resname.Parse("parent", req.GetParent(), protoconv.WarehousePattern)
	if err != nil {
		return nil, err
	}
	l, err := s.app.CreateLocation(ctx, req.GetRequestId(), ids[0], protoconv.LocationFromProto(req.GetLocation()))
	if err != nil {
		return nil, err
	}
	return protoconv.LocationToProto(l), nil
}

// GetLocation returns a bin by name ("warehouses/{code}/locations/{code}").
func (s *Server) GetLocation(ctx context.Context, req *inventoryv1.GetLocationRequest) (*inventoryv1.Location, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.LocationPattern)
	if err != nil {
		return nil, err
	}
	l, err := s.app.GetLocation(ctx, ids[0], ids[1])
	if err != nil {
		return nil, err
	}
	return protoconv.LocationToProto(l), nil
}

// ListLocations pages through a warehouse's bins.
func (s *Server) ListLocations(ctx context.Context, req *inventoryv1.ListLocationsRequest) (*inventoryv1.ListLocationsResponse, error) {
	ids, err := resname.Parse("parent", req.GetParent(), protoconv.WarehousePattern)
	if err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), req.GetParent())
	if err != nil {
		return nil, err
	}
	ls, err := s.app.ListLocations(ctx, ids[0], page)
	if err != nil {
		return nil, err
	}
	resp := &inventoryv1.ListLocationsResponse{}
	for _, l := range ls {
		resp.Locations = append(resp.Locations, protoconv.LocationToProto(l))
	}
	if n := len(ls); n > 0 {
		resp.NextPageToken = page.Next(n, ls[n-1].Code)
	}
	return resp, nil
}

// UpdateLocation blocks, unblocks or retypes a location.
func (s *Server) UpdateLocation(ctx context.Context, req *inventoryv1.UpdateLocationRequest) (*inventoryv1.Location, error) {
	ids, err := resname.Parse("location.name", req.GetLocation().GetName(), protoconv.LocationPattern)
	if err != nil {
		return nil, err
	}
	l, err := s.app.UpdateLocation(ctx, req.GetRequestId(), ids[0], ids[1], req.GetUpdateMask().GetPaths(), protoconv.LocationFromProto(req.GetLocation()))
	if err != nil {
		return nil, err
	}
	return protoconv.LocationToProto(l), nil
}
