package orders

import (
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
