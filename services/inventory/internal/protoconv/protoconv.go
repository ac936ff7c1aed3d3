// Package protoconv maps between the inventory domain and its protobuf contract,
// for the gRPC API and for the events alike.
package protoconv

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/resname"
	"trueup.dev/services/inventory/internal/inventory"
)

// Resource name patterns.
const (
	ItemPattern      = "items/*"
	WarehousePattern = "warehouses/*"
	LocationPattern  = "warehouses/*/locations/*"
)

var (
	trackingToProto = map[inventory.Tracking]inventoryv1.Tracking{
		inventory.TrackingNone:   inventoryv1.Tracking_TRACKING_NONE,
		inventory.TrackingLot:    inventoryv1.Tracking_TRACKING_LOT,
		inventory.TrackingSerial: inventoryv1.Tracking_TRACKING_SERIAL,
	}
	costToProto = map[inventory.CostMethod]inventoryv1.CostMethod{
		inventory.CostFIFO:          inventoryv1.CostMethod_COST_METHOD_FIFO,
		inventory.CostMovingAverage: inventoryv1.CostMethod_COST_METHOD_MOVING_AVERAGE,
	}
	statusToProto = map[inventory.ItemStatus]inventoryv1.ItemStatus{
		inventory.ItemActive:  inventoryv1.ItemStatus_ITEM_STATUS_ACTIVE,
		inventory.ItemBlocked: inventoryv1.ItemStatus_ITEM_STATUS_BLOCKED,
	}
	namespaceToProto = map[inventory.CodeNamespace]inventoryv1.CodeNamespace{
		inventory.CodeERP:      inventoryv1.CodeNamespace_CODE_NAMESPACE_ERP,
		inventory.CodeWMS:      inventoryv1.CodeNamespace_CODE_NAMESPACE_WMS,
		inventory.CodeSupplier: inventoryv1.CodeNamespace_CODE_NAMESPACE_SUPPLIER,
		inventory.CodeCustomer: inventoryv1.CodeNamespace_CODE_NAMESPACE_CUSTOMER,
		inventory.CodeBarcode:  inventoryv1.CodeNamespace_CODE_NAMESPACE_BARCODE,
	}
	locationTypeToProto = map[inventory.LocationType]inventoryv1.LocationType{
		inventory.LocationReceivingDock: inventoryv1.LocationType_LOCATION_TYPE_RECEIVING_DOCK,
		inventory.LocationStorage:       inventoryv1.LocationType_LOCATION_TYPE_STORAGE,
		inventory.LocationPickFace:      inventoryv1.LocationType_LOCATION_TYPE_PICK_FACE,
		inventory.LocationStaging:       inventoryv1.LocationType_LOCATION_TYPE_STAGING,
		inventory.LocationShippingDock:  inventoryv1.LocationType_LOCATION_TYPE_SHIPPING_DOCK,
		inventory.LocationQuarantine:    inventoryv1.LocationType_LOCATION_TYPE_QUARANTINE,
	}
	trackingFromProto     = invert(trackingToProto)
	costFromProto         = invert(costToProto)
	statusFromProto       = invert(statusToProto)
	namespaceFromProto    = invert(namespaceToProto)
	locationTypeFromProto = invert(locationTypeToProto)
)

func invert[K, V comparable](m map[K]V) map[V]K {
	out := make(map[V]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// enumFromProto maps a proto enum; UNSPECIFIED (0) maps to the zero domain value
// (the domain then applies its default), an unknown value to -1 so the domain's
// validation names the field.
func enumFromProto[P comparable, D ~int](m map[P]D, p P, zero P) D {
	if p == zero {
		return 0
	}
	if d, ok := m[p]; ok {
		return d
	}
	return -1
}

// ItemToProto maps a domain item to the API resource.
func ItemToProto(it *inventory.Item) *inventoryv1.Item {
	out := &inventoryv1.Item{
		Name:           resname.Format(ItemPattern, it.SKU),
		Sku:            it.SKU,
		Description:    it.Description,
		BaseUom:        it.BaseUoM,
		WholeUnitsOnly: it.WholeUnitsOnly,
		Tracking:       trackingToProto[it.Tracking],
		ExpiryRequired: it.ExpiryRequired,
		CostMethod:     costToProto[it.CostMethod],
		Status:         statusToProto[it.Status],
		AllowNegative:  it.AllowNegative,
		Version:        it.Version,
		CreateTime:     timestamppb.New(it.CreatedAt),
		UpdateTime:     timestamppb.New(it.UpdatedAt),
	}
	for _, c := range it.Conversions {
		out.Uoms = append(out.Uoms, &inventoryv1.UomConversion{Uom: c.UoM, Factor: c.Factor})
	}
	for _, c := range it.Codes {
		out.Codes = append(out.Codes, &inventoryv1.ItemCode{Namespace: namespaceToProto[c.Namespace], Partner: c.Partner, Code: c.Code, Uom: c.UoM})
	}
	return out
}

// ItemFromProto maps the client-settable fields of an item request.
func ItemFromProto(p *inventoryv1.Item) inventory.Item {
	it := inventory.Item{
		SKU:            p.GetSku(),
		Description:    p.GetDescription(),
		BaseUoM:        p.GetBaseUom(),
		WholeUnitsOnly: p.GetWholeUnitsOnly(),
		Tracking:       enumFromProto(trackingFromProto, p.GetTracking(), inventoryv1.Tracking_TRACKING_UNSPECIFIED),
		ExpiryRequired: p.GetExpiryRequired(),
		CostMethod:     enumFromProto(costFromProto, p.GetCostMethod(), inventoryv1.CostMethod_COST_METHOD_UNSPECIFIED),
		Status:         enumFromProto(statusFromProto, p.GetStatus(), inventoryv1.ItemStatus_ITEM_STATUS_UNSPECIFIED),
		AllowNegative:  p.GetAllowNegative(),
	}
	for _, c := range p.GetUoms() {
		it.Conversions = append(it.Conversions, inventory.UoMConversion{UoM: c.GetUom(), Factor: c.GetFactor()})
	}
	for _, c := range p.GetCodes() {
		it.Codes = append(it.Codes, inventory.ItemCode{
			Namespace: enumFromProto(namespaceFromProto, c.GetNamespace(), inventoryv1.CodeNamespace_CODE_NAMESPACE_UNSPECIFIED),
			Partner:   c.GetPartner(),
			Code:      c.GetCode(),
			UoM:       c.GetUom(),
		})
	}
	return it
}

// WarehouseToProto maps a domain warehouse to the API resource.
func WarehouseToProto(w *inventory.Warehouse) *inventoryv1.Warehouse {
	return &inventoryv1.Warehouse{
		Name:        resname.Format(WarehousePattern, w.Code),
		Code:        w.Code,
		DisplayName: w.DisplayName,
		TimeZone:    w.TimeZone,
		CreateTime:  timestamppb.New(w.CreatedAt),
	}
}

// WarehouseFromProto maps the client-settable fields of a warehouse.
func WarehouseFromProto(p *inventoryv1.Warehouse) inventory.Warehouse {
	return inventory.Warehouse{Code: p.GetCode(), DisplayName: p.GetDisplayName(), TimeZone: p.GetTimeZone()}
}

// LocationToProto maps a domain location to the API resource.
func LocationToProto(l *inventory.Location) *inventoryv1.Location {
	return &inventoryv1.Location{
		Name:       resname.Format(LocationPattern, l.Warehouse, l.Code),
		Code:       l.Code,
		Type:       locationTypeToProto[l.Type],
		Blocked:    l.Blocked,
		CreateTime: timestamppb.New(l.CreatedAt),
	}
}

// LocationFromProto maps the client-settable fields of a location.
func LocationFromProto(p *inventoryv1.Location) inventory.Location {
	return inventory.Location{
		Code:    p.GetCode(),
		Type:    enumFromProto(locationTypeFromProto, p.GetType(), inventoryv1.LocationType_LOCATION_TYPE_UNSPECIFIED),
		Blocked: p.GetBlocked(),
	}
}
