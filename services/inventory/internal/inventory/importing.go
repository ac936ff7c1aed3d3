package inventory

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
)

// Import limits. They keep one import to one bounded transaction and one
// bounded response.
const (
	// MaxImportBytes caps the content of one import (10 MiB).
	MaxImportBytes = 10 << 20
	// MaxImportRecords caps the items of one import.
	MaxImportRecords = 50_000
	// MaxImportErrors caps the errors reported; past it the import stops
	// reporting and says so.
	MaxImportErrors = 1000
	// ImportChunkSize is how many items one import transaction writes: a
	// large import commits chunk by chunk, so no transaction holds SQLite's
	// write lock (or PostgreSQL's row locks) for long.
	ImportChunkSize = 500
	// MaxImportReport caps the errors and the findings an import's response
	// lists (it counts them all), so the response stays small however large
	// the import.
	MaxImportReport = 100
)

// ImportRecord is one item read from an import, with the line it started on.
type ImportRecord struct {
	// Line is the 1-based line of the content the record starts on.
	Line int
	Item Item
	// CodeFields names, for each of Item.Codes, the input field it came from
	// (a CSV column such as "supplier_codes"), so an error on a code points at
	// what the user wrote. Empty means the item's own path, item.codes[i].
	CodeFields []string
}

// ImportError is a problem with one record (Line > 0) or with the content as a
// whole (Line 0).
type ImportError struct {
	Line        int
	Field       string
	Description string
}

// ImportBatch is the parsed content of an import: the records that could be
// read, and the problems met reading them.
type ImportBatch struct {
	Records []ImportRecord
	Errors  []ImportError
}

// CheckImportSize refuses content over MaxImportBytes with InvalidArgument.
func CheckImportSize(content string) error {
	if len(content) > MaxImportBytes {
		return apperr.Invalid(apperr.Field("content", fmt.Sprintf("is %d bytes; an import takes at most %d (10 MiB): split the file", len(content), MaxImportBytes)))
	}
	return nil
}

func tooManyRecords() error {
	return apperr.Invalid(apperr.Field("content", fmt.Sprintf("has more than %d items; split the file", MaxImportRecords)))
}

// AddError records a problem unless MaxImportErrors were already recorded; the
// first error past the cap is replaced by one saying the report stops there.
func (b *ImportBatch) AddError(e ImportError) {
	switch {
	case len(b.Errors) < MaxImportErrors:
		b.Errors = append(b.Errors, e)
	case len(b.Errors) == MaxImportErrors:
		b.Errors = append(b.Errors, ImportError{Field: "content",
			Description: fmt.Sprintf("more than %d errors: the report stops here; fix these and import again", MaxImportErrors)})
	}
}

// The CSV columns. Only sku, description and base_uom are required.
const (
	colSKU            = "sku"
	colDescription    = "description"
	colBaseUoM        = "base_uom"
	colUoMs           = "uoms"
	colWholeUnitsOnly = "whole_units_only"
	colTracking       = "tracking"
	colExpiryRequired = "expiry_required"
	colCostMethod     = "cost_method"
	colStatus         = "status"
	colERPCode        = "erp_code"
	colWMSCode        = "wms_code"
	colSupplierCodes  = "supplier_codes"
	colCustomerCodes  = "customer_codes"
	colBarcodes       = "barcodes"
	colAllowNegative  = "allow_negative"
)

var csvColumns = []string{
	colSKU, colDescription, colBaseUoM, colUoMs, colWholeUnitsOnly, colTracking, colExpiryRequired,
	colCostMethod, colStatus, colERPCode, colWMSCode, colSupplierCodes, colCustomerCodes, colBarcodes, colAllowNegative,
}

// ParseItemsCSV reads items from CSV with a header row naming the columns (in
// any order; unknown columns are refused):
//
//	sku, description, base_uom      required
//	uoms                            "CS=12;PLT=480"
//	whole_units_only, expiry_required, allow_negative
//	                                true/false, yes/no, 1/0 or empty (false)
//	tracking                        NONE, LOT or SERIAL (empty: NONE)
//	cost_method                     FIFO or MOVING_AVERAGE (empty: FIFO)
//	status                          ACTIVE or BLOCKED (empty: ACTIVE)
//	erp_code, wms_code              one code each
//	supplier_codes, customer_codes  "ACME:AC-1;GLOBEX:G-9" (partner:code)
//	barcodes                        "0123456789012@CS;0123456789005"
//
// Any code may end in "@UOM", the unit one scan or mention of it counts (the
// base unit or one of uoms): "0123456789012@CS" is the barcode printed on a
// case, "ACME:AC-1C@CS" a supplier's part number for the case. Without it a
// code counts the base unit.
//
// Every record that can be read is returned, with an error for each problem met
// reading it; validation against the item rules comes later (PlanImport). The
// error return is for content that cannot be imported at all: too large, too
// many records, no usable header.
func ParseItemsCSV(content string) (ImportBatch, error) {
	if err := CheckImportSize(content); err != nil {
		return ImportBatch{}, err
	}
	content = strings.TrimPrefix(content, "\uFEFF") // a byte order mark from spreadsheet exports
	r := csv.NewReader(strings.NewReader(content))
	r.FieldsPerRecord = -1 // checked against the header below, to keep reading past a bad row
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return ImportBatch{}, apperr.Invalid(apperr.Field("content", "is empty: want a header row and one row per item"))
	}
	if err != nil {
		return ImportBatch{}, apperr.Invalid(apperr.Field("content", "header row: "+err.Error()))
	}
	col := map[string]int{}
	var v apperr.Violations
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case !slices.Contains(csvColumns, h):
			v.Add("content", fmt.Sprintf("header: unknown column %q (columns: %s)", h, strings.Join(csvColumns, ", ")))
		case col[h] != 0:
			v.Add("content", fmt.Sprintf("header: column %q appears twice", h))
		}
		col[h] = i + 1 // 0 means absent
	}
	for _, req := range []string{colSKU, colDescription, colBaseUoM} {
		if col[req] == 0 {
			v.Add("content", fmt.Sprintf("header: column %q is required", req))
		}
	}
	if err := v.Err(); err != nil {
		return ImportBatch{}, err
	}

	var b ImportBatch
	lastBad := -1
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) || pe.StartLine == lastBad {
				// Not a syntax error, or no progress past one: nothing more can be read.
				b.AddError(ImportError{Field: "content", Description: "not valid CSV: " + err.Error()})
				break
			}
			lastBad = pe.StartLine
			b.AddError(ImportError{Line: pe.StartLine, Field: "content", Description: "not valid CSV: " + pe.Err.Error()})
			continue
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			b.AddError(ImportError{Line: line, Field: "content",
				Description: fmt.Sprintf("has %d fields; the header has %d", len(rec), len(header))})
			continue
		}
		if len(b.Records) == MaxImportRecords {
			return ImportBatch{}, tooManyRecords()
		}
		b.Records = append(b.Records, csvRecord(&b, line, rec, col))
	}
	return b, nil
}

// csvRecord maps one CSV row to an item, recording what cannot be read.
func csvRecord(b *ImportBatch, line int, rec []string, col map[string]int) ImportRecord {
	get := func(name string) string {
		if i := col[name]; i > 0 {
			return strings.TrimSpace(rec[i-1])
		}
		return ""
	}
	bad := func(field, desc string) { b.AddError(ImportError{Line: line, Field: field, Description: desc}) }
	flag := func(name string) bool {
		v, ok := parseFlag(get(name))
		if !ok {
			bad(name, fmt.Sprintf("%q is not a yes/no value (true, false, yes, no, 1, 0)", get(name)))
		}
		return v
	}
	out := ImportRecord{Line: line, Item: Item{
		SKU: get(colSKU), Description: get(colDescription), BaseUoM: get(colBaseUoM),
		WholeUnitsOnly: flag(colWholeUnitsOnly), ExpiryRequired: flag(colExpiryRequired), AllowNegative: flag(colAllowNegative),
	}}
	it := &out.Item
	var ok bool
	if it.Tracking, ok = parseEnum(get(colTracking), "TRACKING_", map[string]Tracking{
		"NONE": TrackingNone, "LOT": TrackingLot, "SERIAL": TrackingSerial}); !ok {
		bad(colTracking, fmt.Sprintf("%q is not NONE, LOT or SERIAL", get(colTracking)))
	}
	if it.CostMethod, ok = parseEnum(get(colCostMethod), "COST_METHOD_", map[string]CostMethod{
		"FIFO": CostFIFO, "MOVING_AVERAGE": CostMovingAverage}); !ok {
		bad(colCostMethod, fmt.Sprintf("%q is not FIFO or MOVING_AVERAGE", get(colCostMethod)))
	}
	if it.Status, ok = parseEnum(get(colStatus), "ITEM_STATUS_", map[string]ItemStatus{
		"ACTIVE": ItemActive, "BLOCKED": ItemBlocked}); !ok {
		bad(colStatus, fmt.Sprintf("%q is not ACTIVE or BLOCKED", get(colStatus)))
	}
	for _, part := range splitList(get(colUoMs)) {
		uom, factor, found := strings.Cut(part, "=")
		if !found {
			bad(colUoMs, fmt.Sprintf("%q is not UOM=FACTOR, e.g. CS=12", part))
			continue
		}
		it.Conversions = append(it.Conversions, UoMConversion{UoM: strings.TrimSpace(uom), Factor: strings.TrimSpace(factor)})
	}
	addCode := func(field string, c ItemCode) {
		it.Codes = append(it.Codes, c)
		out.CodeFields = append(out.CodeFields, field)
	}
	// codeUoM splits "CODE@UOM"; ok is false for an "@" with no unit after it.
	codeUoM := func(column, s string) (code, uom string, ok bool) {
		code, uom, found := strings.Cut(s, "@")
		code, uom = strings.TrimSpace(code), strings.TrimSpace(uom)
		if found && uom == "" {
			bad(column, fmt.Sprintf("%q names no unit after @: write CODE@UOM, e.g. 0123456789012@CS, or the code alone for the base unit", s))
			return "", "", false
		}
		return code, uom, true
	}
	for _, p := range []struct {
		column string
		ns     CodeNamespace
	}{{colERPCode, CodeERP}, {colWMSCode, CodeWMS}} {
		if c := get(p.column); c != "" {
			if code, uom, ok := codeUoM(p.column, c); ok {
				addCode(p.column, ItemCode{Namespace: p.ns, Code: code, UoM: uom})
			}
		}
	}
	for _, p := range []struct {
		column string
		ns     CodeNamespace
	}{{colSupplierCodes, CodeSupplier}, {colCustomerCodes, CodeCustomer}} {
		for _, part := range splitList(get(p.column)) {
			partner, rest, found := strings.Cut(part, ":")
			if !found {
				bad(p.column, fmt.Sprintf("%q is not PARTNER:CODE, e.g. ACME:AC-1", part))
				continue
			}
			if code, uom, ok := codeUoM(p.column, rest); ok {
				addCode(p.column, ItemCode{Namespace: p.ns, Partner: strings.TrimSpace(partner), Code: code, UoM: uom})
			}
		}
	}
	for _, part := range splitList(get(colBarcodes)) {
		if code, uom, ok := codeUoM(colBarcodes, part); ok {
			addCode(colBarcodes, ItemCode{Namespace: CodeBarcode, Code: code, UoM: uom})
		}
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseFlag(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "", "false", "no", "n", "0":
		return false, true
	case "true", "yes", "y", "1":
		return true, true
	}
	return false, false
}

// parseEnum reads a name with or without its proto prefix ("LOT" or
// "TRACKING_LOT"); empty is the zero value (the item's default).
func parseEnum[T ~int](s, prefix string, names map[string]T) (T, bool) {
	s = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), prefix)
	if s == "" {
		return 0, true
	}
	v, ok := names[s]
	return v, ok // unknown: 0, the default, so the item rules do not report it a second time
}

// ImportPlan is what an import would do: the items it would create, every
// problem that stops it, and the data-quality findings it introduces or meets.
type ImportPlan struct {
	// Items are the valid, normalised new items at version 1, in file order.
	Items []*Item
	// Errors stop the import: nothing is written while there is one.
	Errors []ImportError
	// Findings are audit findings over the item master with the new items
	// added that involve a new item.
	Findings []Finding
}

var codeIndex = regexp.MustCompile(`^item\.codes\[(\d+)\]\.`)

// PlanImport validates a parsed import against the item rules, against itself
// (a SKU or code twice in the file) and against the existing item master (a SKU
// that exists, a code another item holds), and audits the result. It is pure:
// the caller decides whether to write Items.
func PlanImport(batch ImportBatch, existing []*Item, now time.Time) ImportPlan {
	b := ImportBatch{Errors: slices.Clone(batch.Errors)}
	skuLine := map[string]int{}
	codeHolder := map[CodeKey]string{}
	for _, it := range existing {
		skuLine[NormalizeSKU(it.SKU)] = 0 // 0: an existing item
		for _, c := range it.Codes {
			codeHolder[NormalizeItemCode(c).Key()] = it.SKU
		}
	}
	codeLine := map[CodeKey]int{}
	var plan ImportPlan
	for _, rec := range batch.Records {
		bad := func(field, desc string) { b.AddError(ImportError{Line: rec.Line, Field: field, Description: desc}) }
		codeField := func(i int, rest string) string {
			if i < len(rec.CodeFields) && rec.CodeFields[i] != "" {
				return rec.CodeFields[i]
			}
			return fmt.Sprintf("item.codes[%d].%s", i, rest)
		}
		it, err := NewItem(rec.Item, now)
		if err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) {
				bad("item", err.Error())
				continue
			}
			for _, v := range e.Violations {
				field := v.Field
				if m := codeIndex.FindStringSubmatch(field); m != nil {
					i, _ := strconv.Atoi(m[1])
					field = codeField(i, strings.TrimPrefix(field, m[0]))
				}
				bad(field, v.Description)
			}
			continue
		}
		ok := true
		if line, seen := skuLine[it.SKU]; seen {
			ok = false
			if line == 0 {
				bad("item.sku", fmt.Sprintf("items/%s already exists", it.SKU))
			} else {
				bad("item.sku", fmt.Sprintf("sku %s is also on line %d", it.SKU, line))
			}
		} else {
			skuLine[it.SKU] = rec.Line
		}
		for i, c := range it.Codes {
			k := c.Key()
			switch {
			case codeHolder[k] != "":
				ok = false
				bad(codeField(i, "code"), fmt.Sprintf("code %s is already mapped to items/%s", codeLabel(k), codeHolder[k]))
			case codeLine[k] != 0:
				ok = false
				bad(codeField(i, "code"), fmt.Sprintf("code %s is also on line %d", codeLabel(k), codeLine[k]))
			default:
				codeLine[k] = rec.Line
			}
		}
		if ok {
			plan.Items = append(plan.Items, it)
		}
	}
	// By line; errors about the content as a whole (line 0) last.
	slices.SortStableFunc(b.Errors, func(x, y ImportError) int {
		return cmp.Compare(lineKey(x.Line), lineKey(y.Line))
	})
	plan.Errors = b.Errors

	all := slices.Concat(existing, plan.Items)
	added := make(map[string]bool, len(plan.Items))
	for _, it := range plan.Items {
		added[it.SKU] = true
	}
	for _, f := range Audit(all, StockFacts{}) {
		if f.Involves(added) {
			plan.Findings = append(plan.Findings, f)
		}
	}
	return plan
}

func lineKey(line int) int {
	if line == 0 {
		return math.MaxInt
	}
	return line
}
