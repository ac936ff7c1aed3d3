// Package demodata is the demo master data `trueup dev` loads on a new data
// directory, and the end-to-end tests start from.
package demodata

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
)

// Load loads the demo master data through the public gRPC APIs: the MAIN
// warehouse and its bins, three items, a supplier, a customer, a carrier and
// opening stock. Every create carries a fixed request_id and an existing
// record is not an error, so loading twice changes nothing.
func Load(ctx context.Context, conn grpc.ClientConnInterface) error {
	return LoadInto(ctx, conn, conn, conn)
}

// LoadInto is Load with each service on its own connection (services run as
// separate processes).
func LoadInto(ctx context.Context, inventory, orders, fulfillment grpc.ClientConnInterface) error {
	inv := inventoryv1.NewInventoryServiceClient(inventory)
	ord := ordersv1.NewOrdersServiceClient(orders)
	ful := fulfillmentv1.NewFulfillmentServiceClient(fulfillment)

	steps := []func() error{
		func() error {
			_, err := inv.CreateWarehouse(ctx, &inventoryv1.CreateWarehouseRequest{RequestId: "demo-seed-warehouse-main",
				Warehouse: &inventoryv1.Warehouse{Code: "MAIN", DisplayName: "Main distribution centre", TimeZone: "America/Chicago"}})
			return err
		},
	}
	bins := []struct {
		code string
		typ  inventoryv1.LocationType
	}{
		{"RCV-01", inventoryv1.LocationType_LOCATION_TYPE_RECEIVING_DOCK},
		{"A-01-01", inventoryv1.LocationType_LOCATION_TYPE_STORAGE},
		{"A-01-02", inventoryv1.LocationType_LOCATION_TYPE_STORAGE},
		{"PF-01", inventoryv1.LocationType_LOCATION_TYPE_PICK_FACE},
		{"STG-01", inventoryv1.LocationType_LOCATION_TYPE_STAGING},
		{"SHP-01", inventoryv1.LocationType_LOCATION_TYPE_SHIPPING_DOCK},
		{"QC-01", inventoryv1.LocationType_LOCATION_TYPE_QUARANTINE},
	}
	for _, b := range bins {
		steps = append(steps, func() error {
			_, err := inv.CreateLocation(ctx, &inventoryv1.CreateLocationRequest{RequestId: "demo-seed-location-" + b.code,
				Parent: "warehouses/MAIN", Location: &inventoryv1.Location{Code: b.code, Type: b.typ}})
			return err
		})
	}
	items := []*inventoryv1.Item{
		{
			Sku: "WIDGET-100", Description: "Steel widget, 10 mm", BaseUom: "EA", WholeUnitsOnly: true,
			Uoms: []*inventoryv1.UomConversion{{Uom: "CS", Factor: "12"}, {Uom: "PLT", Factor: "480"}},
			Codes: []*inventoryv1.ItemCode{
				{Namespace: inventoryv1.CodeNamespace_CODE_NAMESPACE_ERP, Code: "100-2001"},
				{Namespace: inventoryv1.CodeNamespace_CODE_NAMESPACE_WMS, Code: "W100"},
				{Namespace: inventoryv1.CodeNamespace_CODE_NAMESPACE_SUPPLIER, Partner: "ACME", Code: "AC-W100"},
				// The case's barcode: one scan counts a case of twelve.
				{Namespace: inventoryv1.CodeNamespace_CODE_NAMESPACE_BARCODE, Code: "10012345000017", Uom: "CS"},
			},
		},
		{
			Sku: "BOLT-M8", Description: "Hex bolt M8 x 40, zinc plated", BaseUom: "EA", WholeUnitsOnly: true,
			Uoms:  []*inventoryv1.UomConversion{{Uom: "BX", Factor: "100"}},
			Codes: []*inventoryv1.ItemCode{{Namespace: inventoryv1.CodeNamespace_CODE_NAMESPACE_ERP, Code: "100-3008"}},
		},
		{
			Sku: "COFFEE-BEANS", Description: "Roasted coffee beans", BaseUom: "KG",
			Uoms:     []*inventoryv1.UomConversion{{Uom: "BAG", Factor: "0.25"}, {Uom: "CS", Factor: "6"}},
			Tracking: inventoryv1.Tracking_TRACKING_LOT, ExpiryRequired: true,
			CostMethod: inventoryv1.CostMethod_COST_METHOD_MOVING_AVERAGE,
			Codes:      []*inventoryv1.ItemCode{{Namespace: inventoryv1.CodeNamespace_CODE_NAMESPACE_CUSTOMER, Partner: "NORTHWIND", Code: "NW-COF-1"}},
		},
	}
	for _, it := range items {
		steps = append(steps, func() error {
			_, err := inv.CreateItem(ctx, &inventoryv1.CreateItemRequest{RequestId: "demo-seed-item-" + it.Sku, Item: it})
			return err
		})
	}
	steps = append(steps,
		func() error {
			_, err := ord.CreateSupplier(ctx, &ordersv1.CreateSupplierRequest{RequestId: "demo-seed-supplier-acme",
				Supplier: &ordersv1.Supplier{Code: "ACME", DisplayName: "Acme Industrial Supply", CurrencyCode: "USD"}})
			return err
		},
		func() error {
			_, err := ord.CreateCustomer(ctx, &ordersv1.CreateCustomerRequest{RequestId: "demo-seed-customer-northwind",
				Customer: &ordersv1.Customer{Code: "NORTHWIND", DisplayName: "Northwind Traders", CurrencyCode: "USD"}})
			return err
		},
		func() error {
			_, err := ful.CreateCarrier(ctx, &fulfillmentv1.CreateCarrierRequest{RequestId: "demo-seed-carrier-ups",
				Carrier: &fulfillmentv1.Carrier{Code: "UPS", DisplayName: "UPS", TrackingUrlTemplate: "https://www.ups.com/track?tracknum={tracking_number}"}})
			return err
		},
	)
	// The ledger seeds its default chart of accounts itself, at start.
	// Opening stock, so the stock and valuation screens show something.
	receipts := []*inventoryv1.ReceiveStockRequest{
		{RequestId: "demo-seed-receipt-widget", Item: "items/WIDGET-100", Location: "warehouses/MAIN/locations/A-01-01",
			Quantity: &typev1.Quantity{Value: "10", Uom: "CS"}, UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "18.00"},
			Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: "PO-DEMO-1", Line: "1"}},
		{RequestId: "demo-seed-receipt-coffee", Item: "items/COFFEE-BEANS", Location: "warehouses/MAIN/locations/A-01-02",
			Quantity: &typev1.Quantity{Value: "4", Uom: "CS"}, UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "9.80", Uom: "KG"},
			Lot: "L2611", ExpiryDate: "2027-05-31",
			Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: "PO-DEMO-1", Line: "2"}},
	}
	for _, r := range receipts {
		steps = append(steps, func() error {
			_, err := inv.ReceiveStock(ctx, r)
			return err
		})
	}
	var errs []error
	for _, step := range steps {
		if err := step(); err != nil && status.Code(err) != codes.AlreadyExists {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	return nil
}
