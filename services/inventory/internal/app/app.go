// Package app holds the inventory use cases. It declares the storage port it needs
// (Store) and knows nothing of SQL, gRPC or NATS.
package app

import (
	"context"
	"time"

	"trueup.dev/platform/paging"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/inventory/internal/inventory"
)

// Service is the inventory application.
type Service struct {
	store Store
	now   func() time.Time
}

// New builds the service. now may be nil (wall clock).
func New(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// CreateItem adds an item to the item master. A retry with the same requestID
// returns the item the first call created.
func (s *Service) CreateItem(ctx context.Context, requestID string, in inventory.Item) (*inventory.Item, error) {
	it, err := inventory.NewItem(in, s.now())
	if err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "CreateItem", requestID, in,
		func(tx Tx, sku string) (*inventory.Item, error) { return tx.GetItem(ctx, sku) },
		func(tx Tx) (*inventory.Item, string, error) {
			if err := tx.InsertItem(ctx, it); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.ItemCreated{Item: *it}); err != nil {
				return nil, "", err
			}
			return it, it.SKU, nil
		})
}

// GetItem returns one item by SKU (normalised first).
func (s *Service) GetItem(ctx context.Context, sku string) (*inventory.Item, error) {
	return s.store.GetItem(ctx, inventory.NormalizeSKU(sku))
}

// ListItems pages through the item master in SKU order.
func (s *Service) ListItems(ctx context.Context, page paging.Page) ([]*inventory.Item, error) {
	return s.store.ListItems(ctx, page)
}

// CreateWarehouse sets up a warehouse.
func (s *Service) CreateWarehouse(ctx context.Context, requestID string, in inventory.Warehouse) (*inventory.Warehouse, error) {
	w, err := inventory.NewWarehouse(in, s.now())
	if err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "CreateWarehouse", requestID, in,
		func(tx Tx, code string) (*inventory.Warehouse, error) { return tx.GetWarehouse(ctx, code) },
		func(tx Tx) (*inventory.Warehouse, string, error) {
			if err := tx.InsertWarehouse(ctx, w); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.WarehouseCreated{Warehouse: *w}); err != nil {
				return nil, "", err
			}
			return w, w.Code, nil
		})
}

// GetWarehouse returns one warehouse by code.
func (s *Service) GetWarehouse(ctx context.Context, code string) (*inventory.Warehouse, error) {
	return s.store.GetWarehouse(ctx, inventory.NormalizeCode(code))
}

// ListWarehouses pages through warehouses in code order.
func (s *Service) ListWarehouses(ctx context.Context, page paging.Page) ([]*inventory.Warehouse, error) {
	return s.store.ListWarehouses(ctx, page)
}

// CreateLocation sets up a bin in an existing warehouse.
func (s *Service) CreateLocation(ctx context.Context, requestID, warehouse string, in inventory.Location) (*inventory.Location, error) {
	l, err := inventory.NewLocation(warehouse, in, s.now())
	if err != nil {
		return nil, err
	}
	cmd := struct {
		Warehouse string
		Location  inventory.Location
	}{warehouse, in}
	return storetx.RunCommand(ctx, s.store.InTx, "CreateLocation", requestID, cmd,
		func(tx Tx, code string) (*inventory.Location, error) { return tx.GetLocation(ctx, l.Warehouse, code) },
		func(tx Tx) (*inventory.Location, string, error) {
			if _, err := tx.GetWarehouse(ctx, l.Warehouse); err != nil {
				return nil, "", err
			}
			if err := tx.InsertLocation(ctx, l); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.LocationCreated{Location: *l}); err != nil {
				return nil, "", err
			}
			return l, l.Code, nil
		})
}

// GetLocation returns one bin.
func (s *Service) GetLocation(ctx context.Context, warehouse, code string) (*inventory.Location, error) {
	return s.store.GetLocation(ctx, inventory.NormalizeCode(warehouse), inventory.NormalizeCode(code))
}

// ListLocations pages through a warehouse's bins in code order.
func (s *Service) ListLocations(ctx context.Context, warehouse string, page paging.Page) ([]*inventory.Location, error) {
	warehouse = inventory.NormalizeCode(warehouse)
	if _, err := s.store.GetWarehouse(ctx, warehouse); err != nil {
		return nil, err
	}
	return s.store.ListLocations(ctx, warehouse, page)
}

// UpdateLocation blocks, unblocks or retypes a location.
func (s *Service) UpdateLocation(ctx context.Context, requestID, warehouse, code string, mask []string, in inventory.Location) (*inventory.Location, error) {
	warehouse, code = inventory.NormalizeCode(warehouse), inventory.NormalizeCode(code)
	cmd := struct {
		Warehouse, Code string
		Mask            []string
		Location        inventory.Location
	}{warehouse, code, mask, in}
	return storetx.RunCommand(ctx, s.store.InTx, "UpdateLocation", requestID, cmd,
		// A retry answers with the location as it is now: the key is the location itself.
		func(tx Tx, _ string) (*inventory.Location, error) { return tx.GetLocation(ctx, warehouse, code) },
		func(tx Tx) (*inventory.Location, string, error) {
			l, err := tx.GetLocation(ctx, warehouse, code)
			if err != nil {
				return nil, "", err
			}
			if err := l.ApplyUpdate(mask, in); err != nil {
				return nil, "", err
			}
			if err := tx.UpdateLocation(ctx, l); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.LocationUpdated{Location: *l}); err != nil {
				return nil, "", err
			}
			return l, l.Code, nil
		})
}
