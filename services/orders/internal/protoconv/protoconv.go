// Package protoconv maps between the orders domain and its protobuf contract,
// for the gRPC API and for the events alike, and reads the inventory events the
// catalog follows.
package protoconv

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/resname"
	"trueup.dev/services/orders/internal/orders"
)

// Resource name patterns.
const (
	SupplierPattern    = "suppliers/*"
	CustomerPattern    = "customers/*"
	CatalogItemPattern = "catalogItems/*"
)

// SupplierToProto maps a domain supplier to the API resource.
func SupplierToProto(s *orders.Supplier) *ordersv1.Supplier {
	terms := int32(s.PaymentTermsDays)
	return &ordersv1.Supplier{
		Name:             resname.Format(SupplierPattern, s.Code),
		Code:             s.Code,
		DisplayName:      s.DisplayName,
		CurrencyCode:     s.CurrencyCode,
		CreateTime:       timestamppb.New(s.CreatedAt),
		Partner:          s.Partner,
		PaymentTermsDays: &terms,
		TaxId:            s.TaxID,
	}
}

// SupplierFromProto maps the client-settable fields of a supplier; unset
// payment terms are orders.DefaultPaymentTermsDays.
func SupplierFromProto(p *ordersv1.Supplier) orders.Supplier {
	return orders.Supplier{Code: p.GetCode(), DisplayName: p.GetDisplayName(), CurrencyCode: p.GetCurrencyCode(),
		PaymentTermsDays: termsDays(p.PaymentTermsDays), TaxID: p.GetTaxId()}
}

func termsDays(p *int32) int {
	if p == nil {
		return orders.DefaultPaymentTermsDays
	}
	return int(*p)
}

// CustomerToProto maps a domain customer to the API resource.
func CustomerToProto(c *orders.Customer) *ordersv1.Customer {
	terms := int32(c.PaymentTermsDays)
	out := &ordersv1.Customer{
		Name:                  resname.Format(CustomerPattern, c.Code),
		Code:                  c.Code,
		DisplayName:           c.DisplayName,
		CurrencyCode:          c.CurrencyCode,
		CreateTime:            timestamppb.New(c.CreatedAt),
		Partner:               c.Partner,
		PaymentTermsDays:      &terms,
		TaxExempt:             c.TaxExempt,
		DefaultTaxRatePercent: c.DefaultTaxRate,
		TaxId:                 c.TaxID,
	}
	if c.CreditLimit != nil {
		out.CreditLimit = minor(c.CurrencyCode, *c.CreditLimit)
	}
	return out
}

// CustomerFromProto maps the client-settable fields of a customer. A credit
// limit in another currency than the customer's is refused.
func CustomerFromProto(p *ordersv1.Customer) (orders.Customer, error) {
	c := orders.Customer{Code: p.GetCode(), DisplayName: p.GetDisplayName(), CurrencyCode: p.GetCurrencyCode(),
		PaymentTermsDays: termsDays(p.PaymentTermsDays), TaxExempt: p.GetTaxExempt(),
		DefaultTaxRate: p.GetDefaultTaxRatePercent(), TaxID: p.GetTaxId()}
	if l := p.GetCreditLimit(); l != nil {
		if cur := orders.NormalizeCurrency(l.GetCurrencyCode()); cur != "" && cur != orders.NormalizeCurrency(c.CurrencyCode) {
			return orders.Customer{}, apperr.Invalid(apperr.Field("customer.credit_limit.currency_code",
				"must be the customer's currency (or empty)"))
		}
		v := l.GetMinorUnits()
		c.CreditLimit = &v
	}
	return c, nil
}

// CatalogItemToProto maps a catalog item to the API resource.
func CatalogItemToProto(it *orders.CatalogItem) *ordersv1.CatalogItem {
	return &ordersv1.CatalogItem{
		Name:          resname.Format(CatalogItemPattern, it.SKU),
		Sku:           it.SKU,
		Description:   it.Description,
		BaseUom:       it.BaseUoM,
		SourceVersion: it.SourceVersion,
		UpdateTime:    timestamppb.New(it.UpdatedAt),
	}
}

// CatalogItemFromItemCreated takes the catalog's view of an item from an
// inventory ItemCreated event (see catalogItem for the version).
func CatalogItemFromItemCreated(ev *inventoryv1.ItemCreated) orders.CatalogItem {
	return catalogItem(ev.GetAggregateVersion(), ev.GetItem())
}

// CatalogItemFromItemUpdated takes the catalog's view of an item from an
// inventory ItemUpdated event, which carries the whole item as changed, so the
// copy is replaced, not patched (see catalogItem for the version).
func CatalogItemFromItemUpdated(ev *inventoryv1.ItemUpdated) orders.CatalogItem {
	return catalogItem(ev.GetAggregateVersion(), ev.GetItem())
}

// catalogItem maps an item event's item. The version is the event's
// aggregate_version, which the producer sets to the item's version after the
// change; the item's own version field stands in when an older producer left
// it zero. The version is what orders the copies: ItemCreated is version 1 and
// every ItemUpdated a higher one, so the two kinds need no rule of their own.
func catalogItem(aggregateVersion int64, it *inventoryv1.Item) orders.CatalogItem {
	version := aggregateVersion
	if version == 0 {
		version = it.GetVersion()
	}
	c := orders.CatalogItem{
		SKU:           it.GetSku(),
		Description:   it.GetDescription(),
		BaseUoM:       orders.NormalizeUoM(it.GetBaseUom()),
		SourceVersion: version,
	}
	c.WholeUnitsOnly = it.GetWholeUnitsOnly() || it.GetTracking() == inventoryv1.Tracking_TRACKING_SERIAL
	for _, code := range it.GetCodes() {
		ns, ok := codeNamespaces[code.GetNamespace()]
		if !ok || code.GetCode() == "" {
			continue
		}
		c.Codes = append(c.Codes, orders.ItemCode{Namespace: ns, Partner: orders.NormalizeCode(code.GetPartner()), Code: orders.NormalizeItemCode(code.GetCode())})
	}
	for _, u := range it.GetUoms() {
		c.UoMs = append(c.UoMs, orders.UoMFactor{UoM: orders.NormalizeUoM(u.GetUom()), Factor: u.GetFactor()})
	}
	return c
}

// codeNamespaces names inventory's code namespaces in the catalog.
var codeNamespaces = map[inventoryv1.CodeNamespace]string{
	inventoryv1.CodeNamespace_CODE_NAMESPACE_ERP:      orders.CodeERP,
	inventoryv1.CodeNamespace_CODE_NAMESPACE_WMS:      orders.CodeWMS,
	inventoryv1.CodeNamespace_CODE_NAMESPACE_SUPPLIER: orders.CodeSupplier,
	inventoryv1.CodeNamespace_CODE_NAMESPACE_CUSTOMER: orders.CodeCustomer,
}
