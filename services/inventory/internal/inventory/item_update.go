package inventory

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
)

// normalizeItem normalises every client-settable field of it in place and
// returns every rule it breaks, each on its field ("item.uoms[1].factor").
// Creates, updates, imports and the audit share it, so an item is held to one
// set of rules however it arrives.
func normalizeItem(it *Item) apperr.Violations {
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
	// An expiry date is recorded per lot (or serial number): stock of an
	// untracked item has neither, so it could never be received.
	if it.ExpiryRequired && it.Tracking == TrackingNone {
		v.Add("item.expiry_required", "needs lot or serial tracking: the expiry date is recorded per lot")
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
	codes := map[CodeKey]bool{}
	for i := range it.Codes {
		c := &it.Codes[i]
		*c = NormalizeItemCode(*c)
		prefix := fmt.Sprintf("item.codes[%d].", i)
		checkCode(*c, prefix, &v)
		// The unit must be one the item declares: a scan of the code is
		// converted to base units by that unit's factor. A unit removed by an
		// update while a code still names it lands here too, so the code must
		// change in the same update.
		switch {
		case c.UoM == it.BaseUoM:
			c.UoM = "" // one form for the base unit, as codes stored before units had
		case c.UoM != "" && !seen[c.UoM]:
			v.Add(prefix+"uom", fmt.Sprintf("%s is not a unit of the item: name the base unit (%s) or one of uoms, or leave it empty for the base unit",
				c.UoM, it.BaseUoM))
		}
		if codes[c.Key()] {
			v.Add(prefix+"code", "is listed twice")
		}
		codes[c.Key()] = true
	}
	return v
}

// NormalizeItemCode trims and upper-cases a code, its partner and its unit, so
// "ac-1 " from one system and "AC-1" from another are the same code. Whether
// the unit is one of the item's, and the base unit's canonical empty form, are
// settled with the item (NewItem, Update).
func NormalizeItemCode(c ItemCode) ItemCode {
	c.Code = strings.ToUpper(strings.TrimSpace(c.Code))
	c.Partner = strings.ToUpper(strings.TrimSpace(c.Partner))
	c.UoM = NormalizeUoM(c.UoM)
	return c
}

// checkCode records what is wrong with a normalised code; prefix is the path
// of the code's fields ("item.codes[2]." or "" for a lookup request).
func checkCode(c ItemCode, prefix string, v *apperr.Violations) {
	if !codePattern.MatchString(c.Code) {
		v.Add(prefix+"code", "must be 1-64 characters of A-Z, 0-9, '.', '_', '/' or '-'")
	}
	switch c.Namespace {
	case CodeERP, CodeWMS, CodeBarcode:
		if c.Partner != "" {
			v.Add(prefix+"partner", "must be empty for ERP, WMS and BARCODE codes")
		}
	case CodeSupplier, CodeCustomer:
		if c.Partner == "" {
			v.Add(prefix+"partner", "is required for supplier and customer codes")
		}
	default:
		v.Add(prefix+"namespace", "is required: ERP, WMS, SUPPLIER, CUSTOMER or BARCODE")
	}
}

// LookupCode normalises a code to look an item up by, with the rules of the
// codes themselves; violations name the lookup request's fields (namespace,
// partner, code). A lookup names no unit: the code alone finds the item, and
// the unit is read from the item's matching code.
func LookupCode(c ItemCode) (ItemCode, error) {
	c.UoM = ""
	c = NormalizeItemCode(c)
	var v apperr.Violations
	checkCode(c, "", &v)
	if err := v.Err(); err != nil {
		return ItemCode{}, err
	}
	return c, nil
}

// The update_mask paths an item update may name.
const (
	FieldDescription    = "description"
	FieldUoMs           = "uoms"
	FieldWholeUnitsOnly = "whole_units_only"
	FieldTracking       = "tracking"
	FieldExpiryRequired = "expiry_required"
	FieldCostMethod     = "cost_method"
	FieldStatus         = "status"
	FieldCodes          = "codes"
	FieldAllowNegative  = "allow_negative"
)

// updatable lists the fields an update may change, in the order "*" applies them.
var updatable = []string{
	FieldDescription, FieldUoMs, FieldWholeUnitsOnly, FieldTracking, FieldExpiryRequired,
	FieldCostMethod, FieldStatus, FieldCodes, FieldAllowNegative,
}

// outputOnly fields are ignored in a mask (AIP-203): a client that sends back
// the item it read, or a REST PATCH whose mask the gateway derives from the
// body, names them without meaning to change them. The version is the
// precondition, not a change.
var outputOnly = map[string]bool{"name": true, "version": true, "create_time": true, "update_time": true}

// immutable fields may be named in a mask only with their current value
// (AIP-203); the text says why they are fixed.
var immutable = map[string]string{
	"sku":      "the sku cannot change: it identifies the item everywhere (create a new item instead)",
	"base_uom": "the base unit cannot change: stock, movements and cost layers are held in it (create a new item instead)",
}

// ItemUpdate is a partial change to an item, as an update_mask names it.
type ItemUpdate struct {
	// Fields are the update_mask paths: the fields of Values to apply. "*"
	// applies every updatable field.
	Fields []string
	// Values carries the new values of the named fields; the others are ignored.
	Values Item
	// Version is the version the caller read: the update applies to that
	// version only, so two people editing one item cannot overwrite each other.
	Version int64
}

// Check validates the request itself, before any item is read: the mask names
// known, changeable fields and a version is given.
func (u ItemUpdate) Check() error {
	var v apperr.Violations
	changes := 0
	for _, f := range u.Fields {
		switch {
		case f == "*" || slices.Contains(updatable, f) || immutable[f] != "":
			changes++ // an immutable field is checked against its value in Update
		case outputOnly[f]:
		default:
			v.Add("update_mask", fmt.Sprintf("unknown field %q (updatable: %s)", f, strings.Join(updatable, ", ")))
		}
	}
	if changes == 0 && len(v) == 0 {
		v.Add("update_mask", "names no field that can change: name the fields to change, e.g. \"description,uoms\" (updatable: "+
			strings.Join(updatable, ", ")+")")
	}
	if u.Version <= 0 {
		v.Add("item.version", "is required: the version of the item you read")
	}
	return v.Err()
}

// Update applies u to a copy of the item and returns it validated like a new
// item, at the next version, stamped now. A version other than the item's fails
// with a Conflict: someone else changed the item since the caller read it.
func (it *Item) Update(u ItemUpdate, now time.Time) (*Item, error) {
	if err := u.Check(); err != nil {
		return nil, err
	}
	if u.Version != it.Version {
		return nil, apperr.Conflict(fmt.Sprintf("item %s is at version %d, not %d: read it again and reapply the change",
			it.SKU, it.Version, u.Version), nil)
	}
	var v apperr.Violations
	if slices.Contains(u.Fields, "sku") && NormalizeSKU(u.Values.SKU) != it.SKU {
		v.Add("item.sku", immutable["sku"])
	}
	if slices.Contains(u.Fields, "base_uom") && NormalizeUoM(u.Values.BaseUoM) != it.BaseUoM {
		v.Add("item.base_uom", immutable["base_uom"])
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	next := it.clone()
	fields := u.Fields
	if slices.Contains(fields, "*") {
		fields = updatable
	}
	val := u.Values.clone()
	for _, f := range fields {
		switch f {
		case FieldDescription:
			next.Description = val.Description
		case FieldUoMs:
			next.Conversions = val.Conversions
		case FieldWholeUnitsOnly:
			next.WholeUnitsOnly = val.WholeUnitsOnly
		case FieldTracking:
			next.Tracking = val.Tracking
		case FieldExpiryRequired:
			next.ExpiryRequired = val.ExpiryRequired
		case FieldCostMethod:
			next.CostMethod = val.CostMethod
		case FieldStatus:
			next.Status = val.Status
		case FieldCodes:
			next.Codes = val.Codes
		case FieldAllowNegative:
			next.AllowNegative = val.AllowNegative
		}
	}
	if err := normalizeItem(&next).Err(); err != nil {
		return nil, err
	}
	next.Version = it.Version + 1
	next.UpdatedAt = now.UTC().Truncate(time.Microsecond) // the stored precision
	return &next, nil
}

// clone copies an item deeply enough that normalising the copy leaves the
// original alone.
func (it *Item) clone() Item {
	c := *it
	c.Conversions = slices.Clone(it.Conversions)
	c.Codes = slices.Clone(it.Codes)
	return c
}

// ItemUsage is what the stock and open documents of an item rely on, which an
// update must not pull out from under them.
type ItemUsage struct {
	// OpenAllocationUoMs are the units active allocations were requested in.
	OpenAllocationUoMs []string
	// HasStock: some stock level of the item is not zero.
	HasStock bool
	// HasNegativeStock: some stock level is below zero.
	HasNegativeStock bool
	// HasFractionalStock: some stock level is not a whole number of base units.
	HasFractionalStock bool
}

// CheckUpdate refuses, with FailedPrecondition, an update that would strand the
// item's stock or open documents: removing a unit an open allocation was made
// in, or changing tracking, cost method, whole units or negative stock in a way
// the stock on hand does not fit. Every reason is reported at once.
func CheckUpdate(old, next *Item, use ItemUsage) error {
	var vs []apperr.Violation
	subject := "items/" + old.SKU
	add := func(typ, desc string) {
		vs = append(vs, apperr.Violation{Type: typ, Subject: subject, Description: desc})
	}
	known := map[string]bool{next.BaseUoM: true}
	for _, c := range next.Conversions {
		known[c.UoM] = true
	}
	for _, u := range slices.Sorted(slices.Values(use.OpenAllocationUoMs)) {
		if !known[NormalizeUoM(u)] {
			add("UOM_IN_USE", fmt.Sprintf("unit %s is used by an open allocation: release or pick it before removing the unit", u))
		}
	}
	if use.HasStock && next.Tracking != old.Tracking {
		add("ITEM_HAS_STOCK", "tracking cannot change while the item has stock: its lots would no longer fit; bring the stock to zero first")
	}
	if use.HasStock && next.CostMethod != old.CostMethod {
		add("ITEM_HAS_STOCK", "the cost method cannot change while the item has stock: its cost layers were built for the old method; bring the stock to zero first")
	}
	if use.HasFractionalStock && next.WholeUnitsOnly && !old.WholeUnitsOnly {
		add("FRACTIONAL_STOCK", "whole units only cannot be switched on while some stock is a fraction of a base unit; count it to whole units first")
	}
	if use.HasNegativeStock && !next.AllowNegative && old.AllowNegative {
		add("NEGATIVE_STOCK", "negative stock cannot be switched off while some stock is below zero; receive or count it up first")
	}
	if len(vs) == 0 {
		return nil
	}
	msg := vs[0].Description
	if len(vs) > 1 {
		msg = fmt.Sprintf("item %s is in use: %d reasons the update cannot apply", old.SKU, len(vs))
	}
	return apperr.Precondition("ITEM_IN_USE", msg, vs...)
}
