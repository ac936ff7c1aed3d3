package orders

import (
	"math/big"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
)

// CatalogItem is the orders service's read-only copy of an inventory item: what
// order lines may refer to. The inventory service owns the item; this copy
// follows its events and may briefly lag it.
type CatalogItem struct {
	SKU         string
	Description string
	BaseUoM     string
	// UoMs are the item's other units with their factors, as the item master
	// defines them. A copy taken before the catalog kept units has none until
	// the item's next change.
	UoMs []UoMFactor
	// WholeUnitsOnly: quantities must be whole base units (inventory's
	// whole-units rule, or serial tracking).
	WholeUnitsOnly bool
	// Codes are the item's cross-references (ERP, WMS, supplier and customer
	// codes) by which an order line may name it. The store writes them with
	// the copy; reads leave them empty (Reader.ResolveItemCode looks them up).
	Codes []ItemCode
	// SourceVersion is the inventory item's version this copy reflects. A copy
	// only ever moves to a higher version, so replays and out-of-order deliveries
	// never roll it back.
	SourceVersion int64
	// UpdatedAt is when this copy last changed (our clock, not the source's).
	UpdatedAt time.Time
}

// NormalizeSKU trims and upper-cases a SKU the way the item master does.
func NormalizeSKU(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// NewCatalogItem checks a copy taken from an inventory event. The inventory
// service validated the item already; this only refuses what would corrupt the
// read model (no SKU, no version), naming the event's fields.
func NewCatalogItem(c CatalogItem, now time.Time) (*CatalogItem, error) {
	var v apperr.Violations
	c.SKU = NormalizeSKU(c.SKU)
	if c.SKU == "" {
		v.Add("item.sku", "is required")
	}
	if c.SourceVersion < 1 {
		v.Add("aggregate_version", "must be at least 1")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	c.UpdatedAt = now.UTC()
	return &c, nil
}

// Supersedes reports whether c should replace held, the copy stored so far (nil
// when there is none): only a strictly newer source version does.
func (c *CatalogItem) Supersedes(held *CatalogItem) bool {
	return held == nil || c.SourceVersion > held.SourceVersion
}

// UoMFactor is a unit of measure an item knows besides its base unit, and how
// many base units one of it holds (an exact decimal, canonical).
type UoMFactor struct {
	UoM    string
	Factor string
}

// NormalizeUoM trims and upper-cases a unit of measure.
func NormalizeUoM(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// Factor returns the unit uom resolves to and the exact number of base units
// in one of it: "" or the base unit is the base unit, factor 1. ok is false
// for a unit the item does not know.
func (c *CatalogItem) Factor(uom string) (unit string, factor *big.Rat, ok bool) {
	uom = NormalizeUoM(uom)
	if uom == "" || uom == c.BaseUoM {
		return c.BaseUoM, big.NewRat(1, 1), true
	}
	for _, u := range c.UoMs {
		if u.UoM == uom {
			r, ok := new(big.Rat).SetString(u.Factor)
			if !ok || r.Sign() <= 0 {
				return "", nil, false
			}
			return uom, r, true
		}
	}
	return "", nil, false
}

// Units lists the units an item knows, base first.
func (c *CatalogItem) Units() []string {
	out := []string{c.BaseUoM}
	for _, u := range c.UoMs {
		out = append(out, u.UoM)
	}
	return out
}

// Code namespaces of item cross-references, as inventory names them.
const (
	CodeERP      = "ERP"
	CodeWMS      = "WMS"
	CodeSupplier = "SUPPLIER"
	CodeCustomer = "CUSTOMER"
)

// ItemCode is one cross-reference of an item: a code in a namespace, with the
// supplier or customer code whose part number it is (empty for ERP and WMS).
type ItemCode struct {
	Namespace string
	Partner   string
	Code      string
}

// NormalizeItemCode trims and upper-cases an item code as the item master does.
func NormalizeItemCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }
