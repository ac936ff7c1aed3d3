package inventory

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Severity says how serious an audit finding is.
type Severity int

// Severities, least serious first.
const (
	// SeverityInfo is worth a look.
	SeverityInfo Severity = iota + 1
	// SeverityWarning will cause reconciliation pain if left.
	SeverityWarning
	// SeverityError breaks a flow now: stock cannot be valued, mapped or converted.
	SeverityError
)

// String names the severity as the API does, without its prefix ("ERROR").
func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "INFO"
	case SeverityWarning:
		return "WARNING"
	case SeverityError:
		return "ERROR"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Finding codes: stable, for clients to switch on.
const (
	// FindingDuplicateItem: items with the same normalised description and base unit.
	FindingDuplicateItem = "DUPLICATE_ITEM"
	// FindingSharedCode: one code (after normalisation) maps to several items.
	FindingSharedCode = "SHARED_CODE"
	// FindingMissingField: a required field is empty.
	FindingMissingField = "MISSING_FIELD"
	// FindingInvalidField: a field breaks the item rules (legacy or imported data).
	FindingInvalidField = "INVALID_FIELD"
	// FindingExpiryWithoutLot: expiry is required but the item is not lot-tracked.
	FindingExpiryWithoutLot = "EXPIRY_WITHOUT_LOT"
	// FindingUoMWithoutConversion: a unit used by allocations or movements is
	// neither the base unit nor one of the item's conversions.
	FindingUoMWithoutConversion = "UOM_WITHOUT_CONVERSION"
	// FindingUnmappedERPCode: the item has no ERP item code.
	FindingUnmappedERPCode = "UNMAPPED_ERP_CODE"
	// FindingUnmappedWMSCode: the item has no WMS item code.
	FindingUnmappedWMSCode = "UNMAPPED_WMS_CODE"
	// FindingStockWithoutCost: stock on hand in a warehouse whose cost layers hold no value.
	FindingStockWithoutCost = "STOCK_WITHOUT_COST"
	// FindingStockInBlockedLocation: stock left in a location that takes none.
	FindingStockInBlockedLocation = "STOCK_IN_BLOCKED_LOCATION"
)

// Finding is one data-quality problem of the item master.
type Finding struct {
	Code     string
	Severity Severity
	// Items are the SKUs involved, sorted.
	Items        []string
	Message      string
	SuggestedFix string
}

// Involves reports whether the finding names any of skus.
func (f Finding) Involves(skus map[string]bool) bool {
	for _, s := range f.Items {
		if skus[s] {
			return true
		}
	}
	return false
}

// UoMUse counts the documents of an item entered in one unit of measure.
type UoMUse struct {
	SKU, UoM string
	// OpenAllocations are active allocations requested in the unit: open
	// documents that still convert with it.
	OpenAllocations int
	// Movements are journal entries entered in the unit: history.
	Movements int
}

// StockValue is an item's stock in one warehouse against the value its cost
// layers there still hold, in minor currency units.
type StockValue struct {
	SKU, Warehouse string
	OnHand         Qty
	Value          int64
}

// BlockedStock is stock, not zero, in a blocked location.
type BlockedStock struct {
	SKU, Warehouse, Location string
	OnHand                   Qty
}

// StockFacts are what the audit needs to know of stock and documents besides
// the item master itself.
type StockFacts struct {
	UoMUses []UoMUse
	Values  []StockValue
	Blocked []BlockedStock
}

// Audit checks the item master, and the stock facts given, and returns every
// finding, most severe first, in an order that depends only on the data. It
// never changes the items it is given.
func Audit(items []*Item, facts StockFacts) []Finding {
	var out []Finding
	bySKU := make(map[string]*Item, len(items))
	for _, it := range items {
		bySKU[it.SKU] = it
	}
	out = append(out, auditFields(items)...)
	out = append(out, auditDuplicates(items)...)
	out = append(out, auditSharedCodes(items)...)
	out = append(out, auditUnmapped(items)...)
	out = append(out, auditUoMUses(bySKU, facts.UoMUses)...)
	out = append(out, auditStock(bySKU, facts)...)
	SortFindings(out)
	return out
}

// SortFindings orders findings most severe first, then by code and first
// item, then by a digest of the items and message: the order of FindingKey,
// which pages of the audit resume from.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int { return CompareFindingKeys(KeyOf(a), KeyOf(b)) })
}

var codeFieldIndex = regexp.MustCompile(`^item\.codes\[\d+\]`)

// auditFields holds each stored item to the rules a new item must meet, so
// legacy rows and direct database edits show up; and flags values stored
// unnormalised, which lookups (that normalise what they are given) cannot find.
func auditFields(items []*Item) []Finding {
	var out []Finding
	for _, it := range items {
		c := it.clone()
		for _, v := range normalizeItem(&c) {
			f := Finding{Code: FindingInvalidField, Severity: SeverityError, Items: []string{it.SKU},
				Message:      fmt.Sprintf("items/%s: %s %s", it.SKU, v.Field, v.Description),
				SuggestedFix: "correct the field with UpdateItem"}
			switch {
			case v.Field == "item.description" && strings.TrimSpace(it.Description) == "":
				f.Code, f.Message = FindingMissingField, fmt.Sprintf("items/%s has no description", it.SKU)
				f.SuggestedFix = "give the item a description with UpdateItem (update_mask: description)"
			case v.Field == "item.base_uom" && strings.TrimSpace(it.BaseUoM) == "":
				f.Code, f.Message = FindingMissingField, fmt.Sprintf("items/%s has no base unit of measure", it.SKU)
				f.SuggestedFix = "the base unit cannot be set by an update: create a correct item, move the stock to it and block this one"
			case v.Field == "item.base_uom":
				f.SuggestedFix = "the base unit cannot be changed by an update: create a correct item, move the stock to it and block this one"
			case v.Field == "item.expiry_required":
				f.Code = FindingExpiryWithoutLot
				f.Message = fmt.Sprintf("items/%s requires an expiry date but is not tracked by lot: there is no lot to record the expiry on, so it cannot be received", it.SKU)
				f.SuggestedFix = "set tracking to TRACKING_LOT while the item has no stock, or clear expiry_required"
			case v.Field == "item.sku":
				f.SuggestedFix = "the sku cannot change: create a correct item, move the stock to it and block this one"
			case codeFieldIndex.MatchString(v.Field):
				f.SuggestedFix = "correct or remove the code with UpdateItem (update_mask: codes)"
			}
			out = append(out, f)
		}
		if c.SKU != it.SKU && skuPattern.MatchString(c.SKU) {
			out = append(out, Finding{Code: FindingInvalidField, Severity: SeverityError, Items: []string{it.SKU},
				Message:      fmt.Sprintf("items/%s: the sku is stored unnormalised (as %q): it cannot be found by its sku", it.SKU, it.SKU),
				SuggestedFix: "create the item as " + c.SKU + ", move the stock to it and block this one"})
		}
		for i, code := range it.Codes {
			// The unit is left out: a unit stored in lower case is still found by
			// the code, and normalizeItem reports a unit the item lacks.
			if n := NormalizeItemCode(code); n.Key() != code.Key() && codePattern.MatchString(n.Code) {
				out = append(out, Finding{Code: FindingInvalidField, Severity: SeverityWarning, Items: []string{it.SKU},
					Message: fmt.Sprintf("items/%s: code %q (item.codes[%d]) is stored unnormalised: a lookup for %s finds nothing",
						it.SKU, codeLabel(code.Key()), i, codeLabel(n.Key())),
					SuggestedFix: "set the item's codes again with UpdateItem (update_mask: codes), which stores them normalised"})
			}
		}
	}
	return out
}

// NormalizeDescription is the key duplicates are found by: letters and digits
// only, lower case, so "Steel widget, 10 mm" and "STEEL WIDGET 10MM" match.
func NormalizeDescription(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func auditDuplicates(items []*Item) []Finding {
	groups := map[string][]string{}
	for _, it := range items {
		d := NormalizeDescription(it.Description)
		if d == "" {
			continue // a missing description is its own finding
		}
		k := d + "\x00" + NormalizeUoM(it.BaseUoM)
		groups[k] = append(groups[k], it.SKU)
	}
	var out []Finding
	for _, skus := range groups {
		if len(skus) < 2 {
			continue
		}
		slices.Sort(skus)
		out = append(out, Finding{Code: FindingDuplicateItem, Severity: SeverityWarning, Items: skus,
			Message: fmt.Sprintf("%s have the same description and base unit: probably one item entered %d times",
				names(skus), len(skus)),
			SuggestedFix: "keep one item: move the others' codes and stock to it, then block them (status BLOCKED)"})
	}
	return out
}

func auditSharedCodes(items []*Item) []Finding {
	holders := map[CodeKey]map[string]bool{}
	for _, it := range items {
		for _, c := range it.Codes {
			n := NormalizeItemCode(c).Key()
			if holders[n] == nil {
				holders[n] = map[string]bool{}
			}
			holders[n][it.SKU] = true
		}
	}
	var out []Finding
	for code, skus := range holders {
		if len(skus) < 2 {
			continue
		}
		s := slices.Sorted(maps.Keys(skus))
		out = append(out, Finding{Code: FindingSharedCode, Severity: SeverityError, Items: s,
			Message: fmt.Sprintf("code %s maps to %d items (%s): a lookup by it cannot tell them apart",
				codeLabel(code), len(s), names(s)),
			SuggestedFix: "keep the code on the one item it names and remove it from the others (UpdateItem, update_mask: codes)"})
	}
	return out
}

func auditUnmapped(items []*Item) []Finding {
	var out []Finding
	for _, it := range items {
		var erp, wms bool
		for _, c := range it.Codes {
			erp = erp || c.Namespace == CodeERP
			wms = wms || c.Namespace == CodeWMS
		}
		if !erp {
			out = append(out, Finding{Code: FindingUnmappedERPCode, Severity: SeverityWarning, Items: []string{it.SKU},
				Message:      fmt.Sprintf("items/%s has no ERP item code: orders and invoices from the ERP cannot be matched to it", it.SKU),
				SuggestedFix: "add the ERP item code (UpdateItem, update_mask: codes, namespace ERP)"})
		}
		if !wms {
			out = append(out, Finding{Code: FindingUnmappedWMSCode, Severity: SeverityWarning, Items: []string{it.SKU},
				Message:      fmt.Sprintf("items/%s has no WMS item code: warehouse tasks and counts cannot be matched to it", it.SKU),
				SuggestedFix: "add the WMS item code (UpdateItem, update_mask: codes, namespace WMS)"})
		}
	}
	return out
}

func auditUoMUses(bySKU map[string]*Item, uses []UoMUse) []Finding {
	type key struct{ sku, uom string }
	merged := map[key]UoMUse{}
	for _, u := range uses {
		k := key{u.SKU, NormalizeUoM(u.UoM)}
		m := merged[k]
		m.SKU, m.UoM = k.sku, k.uom
		m.OpenAllocations += u.OpenAllocations
		m.Movements += u.Movements
		merged[k] = m
	}
	var out []Finding
	for _, u := range merged {
		it := bySKU[u.SKU]
		if it == nil || knowsUoM(it, u.UoM) {
			continue
		}
		f := Finding{Code: FindingUoMWithoutConversion, Severity: SeverityWarning, Items: []string{u.SKU}}
		var used []string
		if u.OpenAllocations > 0 {
			f.Severity = SeverityError
			used = append(used, plural(u.OpenAllocations, "open allocation"))
		}
		if u.Movements > 0 {
			used = append(used, plural(u.Movements, "movement"))
		}
		f.Message = fmt.Sprintf("items/%s: unit %s is used by %s but the item has no conversion for it (base unit %s)",
			u.SKU, u.UoM, strings.Join(used, " and "), it.BaseUoM)
		f.SuggestedFix = fmt.Sprintf("add the conversion for %s to the item (UpdateItem, update_mask: uoms) with its exact factor in %s", u.UoM, it.BaseUoM)
		out = append(out, f)
	}
	return out
}

func knowsUoM(it *Item, uom string) bool {
	if NormalizeUoM(it.BaseUoM) == uom {
		return true
	}
	for _, c := range it.Conversions {
		if NormalizeUoM(c.UoM) == uom {
			return true
		}
	}
	return false
}

func auditStock(bySKU map[string]*Item, facts StockFacts) []Finding {
	var out []Finding
	base := func(sku string) string {
		if it := bySKU[sku]; it != nil {
			return it.BaseUoM
		}
		return ""
	}
	for _, v := range facts.Values {
		if v.OnHand <= 0 || v.Value > 0 {
			continue
		}
		out = append(out, Finding{Code: FindingStockWithoutCost, Severity: SeverityError, Items: []string{v.SKU},
			Message: fmt.Sprintf("items/%s: %s %s on hand in warehouse %s, but its cost layers there hold no value: the stock cannot be valued",
				v.SKU, v.OnHand, base(v.SKU), v.Warehouse),
			SuggestedFix: "find the receipt that carried no unit cost; book the stock out and in again at its purchase cost (adjustments are valued at current cost), so the valuation and the ledger hold it"})
	}
	for _, b := range facts.Blocked {
		if b.OnHand == 0 {
			continue
		}
		out = append(out, Finding{Code: FindingStockInBlockedLocation, Severity: SeverityWarning, Items: []string{b.SKU},
			Message: fmt.Sprintf("items/%s: %s %s in blocked location %s/%s, which takes no stock: the quantity is stale or stranded",
				b.SKU, b.OnHand, base(b.SKU), b.Warehouse, b.Location),
			SuggestedFix: "count the location, then move the stock to an open location or adjust it out with a reason"})
	}
	return out
}

func codeLabel(c CodeKey) string {
	if c.Partner != "" {
		return c.Namespace.String() + ":" + c.Partner + ":" + c.Code
	}
	return c.Namespace.String() + ":" + c.Code
}

func names(skus []string) string {
	out := make([]string, len(skus))
	for i, s := range skus {
		out[i] = "items/" + s
	}
	return strings.Join(out, ", ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
