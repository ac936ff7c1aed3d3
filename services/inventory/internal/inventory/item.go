// Package inventory is the inventory domain: items and their units of measure,
// warehouses and their locations. It knows nothing of gRPC, SQL or JSON.
package inventory

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Tracking says how units of an item are told apart in stock.
type Tracking int

// Tracking modes.
const (
	TrackingNone Tracking = iota + 1
	TrackingLot
	TrackingSerial
)

// CostMethod decides how an issue of stock is valued.
type CostMethod int

// Cost methods. FIFO is the default.
const (
	CostFIFO CostMethod = iota + 1
	CostMovingAverage
)

// ItemStatus says whether an item may move.
type ItemStatus int

// Item statuses.
const (
	ItemActive ItemStatus = iota + 1
	ItemBlocked
)

// CodeNamespace is the system an item code belongs to. A code maps to exactly one
// item within its namespace (and partner, for supplier and customer codes).
type CodeNamespace int

// Code namespaces.
const (
	CodeERP CodeNamespace = iota + 1
	CodeWMS
	CodeSupplier
	CodeCustomer
	// CodeBarcode is a barcode printed on the item or its packaging (a GTIN,
	// EAN, UPC or an in-house label). It has no partner; its UoM says which
	// packaging it is printed on.
	CodeBarcode
)

func (n CodeNamespace) String() string {
	switch n {
	case CodeERP:
		return "ERP"
	case CodeWMS:
		return "WMS"
	case CodeSupplier:
		return "SUPPLIER"
	case CodeCustomer:
		return "CUSTOMER"
	case CodeBarcode:
		return "BARCODE"
	}
	return fmt.Sprintf("namespace(%d)", int(n))
}

// ItemCode is a cross-reference from another system's code to an item, and to
// the unit one scan (or mention) of the code counts.
type ItemCode struct {
	Namespace CodeNamespace
	// Partner is the supplier or customer code for those namespaces, empty otherwise.
	Partner string
	Code    string
	// UoM is the unit the code stands for: the base unit or one of the item's
	// conversions ("CS" for the barcode on a case). Empty means the base unit,
	// which is also how a valid item holds the base unit named explicitly. It
	// is not part of the code's identity (see Key).
	UoM string
}

// CodeKey is what identifies an item code: its namespace, partner and code,
// without the unit. Two codes with one key are one code, whatever units they
// name, so one code can never stand for two units.
type CodeKey struct {
	Namespace CodeNamespace
	Partner   string
	Code      string
}

// Key returns the code's identity, as stored uniquely and looked up by.
func (c ItemCode) Key() CodeKey {
	return CodeKey{Namespace: c.Namespace, Partner: c.Partner, Code: c.Code}
}

// UoMConversion says how many base units one UoM holds, exactly. Factor is a
// canonical decimal string ("12", "0.5"): at most FactorScale decimal places.
type UoMConversion struct {
	UoM    string
	Factor string
}

// FactorScale is the most decimal places a conversion factor may have. It is
// the quantity scale: a factor finer than a base quantity could hold would let
// the unit be declared but almost never used (10 LB at 0.45359237 KG is 4.5359237
// KG, which no 6-place quantity holds), so such a factor is refused up front.
const FactorScale = QtyScale

// Item is an entry of the item master.
type Item struct {
	SKU            string
	Description    string
	BaseUoM        string
	Conversions    []UoMConversion
	WholeUnitsOnly bool
	Tracking       Tracking
	ExpiryRequired bool
	CostMethod     CostMethod
	Status         ItemStatus
	Codes          []ItemCode
	// AllowNegative lets an issue exceed the stock on hand; see the costing rule
	// in cost.go.
	AllowNegative bool
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

var (
	skuPattern  = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._-]{0,63}$`)
	uomPattern  = regexp.MustCompile(`^[A-Z][A-Z0-9]{0,9}$`)
	codePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._/-]{0,63}$`)
)

// NormalizeSKU trims and upper-cases a SKU, so "abc-1 " and "ABC-1" are one item.
func NormalizeSKU(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// NormalizeUoM trims and upper-cases a unit of measure.
func NormalizeUoM(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// NewItem validates and normalises a new item at version 1. Every violation is
// reported at once, each on its field.
func NewItem(it Item, now time.Time) (*Item, error) {
	if err := normalizeItem(&it).Err(); err != nil {
		return nil, err
	}
	it.Version = 1
	// Stored as unix microseconds: a finer time would make the returned item
	// and its event differ from what a read gives back.
	it.CreatedAt = now.UTC().Truncate(time.Microsecond)
	it.UpdatedAt = it.CreatedAt
	return &it, nil
}

// CanonicalFactor parses a positive exact decimal with at most FactorScale places
// and returns it without trailing zeros ("12.50" -> "12.5"). Floats never enter:
// the string is checked against a plain decimal pattern and parsed exactly.
func CanonicalFactor(s string) (string, error) {
	r, err := parseDecimal(s, FactorScale)
	if err != nil {
		return "", err
	}
	if r.Sign() <= 0 {
		return "", fmt.Errorf("must be greater than zero")
	}
	q, err := ratToQty(r)
	if err != nil {
		return "", err
	}
	return q.String(), nil
}
