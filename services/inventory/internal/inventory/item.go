// Package inventory is the inventory domain: items and their units of measure,
// warehouses and their locations. It knows nothing of gRPC, SQL or JSON.
package inventory

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
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
	}
	return fmt.Sprintf("namespace(%d)", int(n))
}

// ItemCode is a cross-reference from another system's code to an item.
type ItemCode struct {
	Namespace CodeNamespace
	// Partner is the supplier or customer code for those namespaces, empty otherwise.
	Partner string
	Code    string
}

// UoMConversion says how many base units one UoM holds, exactly. Factor is a
// canonical decimal string ("12", "0.5"): at most FactorScale decimal places.
type UoMConversion struct {
	UoM    string
	Factor string
}

// FactorScale is the most decimal places a conversion factor may have.
const FactorScale = 9

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
	var v apperr.Violations
	it.SKU = NormalizeSKU(it.SKU)
	if !skuPattern.MatchString(it.SKU) {
		v.Add("item.sku", "must be 1-64 characters of A-Z, 0-9, '.', '_' or '-', starting with a letter or digit")
	}
	it.Description = strings.TrimSpace(it.Description)
	if it.Description == "" || len(it.Description) > 200 {
		v.Add("item.description", "is required, at most 200 characters")
	}
	it.BaseUoM = NormalizeUoM(it.BaseUoM)
	if !uomPattern.MatchString(it.BaseUoM) {
		v.Add("item.base_uom", "is required: 1-10 characters A-Z, 0-9, starting with a letter")
	}
	seen := map[string]bool{it.BaseUoM: true}
	for i := range it.Conversions {
		c := &it.Conversions[i]
		field := fmt.Sprintf("item.uoms[%d]", i)
		c.UoM = NormalizeUoM(c.UoM)
		switch {
		case !uomPattern.MatchString(c.UoM):
			v.Add(field+".uom", "must be 1-10 characters A-Z, 0-9, starting with a letter")
		case seen[c.UoM]:
			v.Add(field+".uom", fmt.Sprintf("%s is listed twice or is the base unit", c.UoM))
		}
		seen[c.UoM] = true
		f, err := CanonicalFactor(c.Factor)
		if err != nil {
			v.Add(field+".factor", err.Error())
		}
		c.Factor = f
	}
	if it.Tracking == 0 {
		it.Tracking = TrackingNone
	}
	if it.Tracking < TrackingNone || it.Tracking > TrackingSerial {
		v.Add("item.tracking", "unknown tracking mode")
	}
	if it.Tracking == TrackingSerial && !it.WholeUnitsOnly {
		it.WholeUnitsOnly = true // a serial number names one whole unit
	}
	if it.CostMethod == 0 {
		it.CostMethod = CostFIFO
	}
	if it.CostMethod < CostFIFO || it.CostMethod > CostMovingAverage {
		v.Add("item.cost_method", "unknown cost method")
	}
	if it.Status == 0 {
		it.Status = ItemActive
	}
	if it.Status < ItemActive || it.Status > ItemBlocked {
		v.Add("item.status", "unknown status")
	}
	codes := map[ItemCode]bool{}
	for i := range it.Codes {
		c := &it.Codes[i]
		field := fmt.Sprintf("item.codes[%d]", i)
		c.Code = strings.ToUpper(strings.TrimSpace(c.Code))
		c.Partner = strings.ToUpper(strings.TrimSpace(c.Partner))
		if !codePattern.MatchString(c.Code) {
			v.Add(field+".code", "must be 1-64 characters of A-Z, 0-9, '.', '_', '/' or '-'")
		}
		switch c.Namespace {
		case CodeERP, CodeWMS:
			if c.Partner != "" {
				v.Add(field+".partner", "must be empty for ERP and WMS codes")
			}
		case CodeSupplier, CodeCustomer:
			if c.Partner == "" {
				v.Add(field+".partner", "is required for supplier and customer codes")
			}
		default:
			v.Add(field+".namespace", "is required: ERP, WMS, SUPPLIER or CUSTOMER")
		}
		if codes[*c] {
			v.Add(field+".code", "is listed twice")
		}
		codes[*c] = true
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	it.Version = 1
	it.CreatedAt = now.UTC()
	it.UpdatedAt = it.CreatedAt
	return &it, nil
}

// CanonicalFactor parses a positive exact decimal with at most FactorScale places
// and returns it without trailing zeros ("12.50" -> "12.5"). Floats never enter:
// the string is parsed as a rational number.
func CanonicalFactor(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("is required: base units in one of this unit, e.g. \"12\"")
	}
	if strings.ContainsAny(s, "eE/") {
		return "", fmt.Errorf("must be a plain decimal such as \"12\" or \"0.5\"")
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > FactorScale {
		return "", fmt.Errorf("must have at most %d decimal places", FactorScale)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return "", fmt.Errorf("must be a plain decimal such as \"12\" or \"0.5\"")
	}
	if r.Sign() <= 0 {
		return "", fmt.Errorf("must be greater than zero")
	}
	out := r.FloatString(FactorScale)
	out = strings.TrimRight(out, "0")
	out = strings.TrimSuffix(out, ".")
	return out, nil
}
