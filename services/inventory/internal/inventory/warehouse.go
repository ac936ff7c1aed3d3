package inventory

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
)

// LocationType says what a bin location is used for.
type LocationType int

// Location types.
const (
	LocationReceivingDock LocationType = iota + 1
	LocationStorage
	LocationPickFace
	LocationStaging
	LocationShippingDock
	LocationQuarantine
)

// Warehouse is a site that holds stock.
type Warehouse struct {
	Code        string
	DisplayName string
	// TimeZone is an IANA zone name; counts and cut-offs are local to it.
	TimeZone  string
	CreatedAt time.Time
}

// Location is a bin inside a warehouse. A blocked location takes no stock.
type Location struct {
	Warehouse string
	Code      string
	Type      LocationType
	Blocked   bool
	CreatedAt time.Time
}

var siteCodePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,31}$`)

// NormalizeCode trims and upper-cases a warehouse or location code.
func NormalizeCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// NewWarehouse validates and normalises a new warehouse.
func NewWarehouse(w Warehouse, now time.Time) (*Warehouse, error) {
	var v apperr.Violations
	w.Code = NormalizeCode(w.Code)
	if !siteCodePattern.MatchString(w.Code) {
		v.Add("warehouse.code", "must be 1-32 characters of A-Z, 0-9, '_' or '-'")
	}
	w.DisplayName = strings.TrimSpace(w.DisplayName)
	if w.DisplayName == "" || len(w.DisplayName) > 100 {
		v.Add("warehouse.display_name", "is required, at most 100 characters")
	}
	if w.TimeZone == "" {
		w.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(w.TimeZone); err != nil {
		v.Add("warehouse.time_zone", fmt.Sprintf("unknown IANA time zone %q", w.TimeZone))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	w.CreatedAt = now.UTC()
	return &w, nil
}

// Location returns the warehouse's time zone (UTC if it cannot be loaded).
func (w *Warehouse) Location() *time.Location {
	if loc, err := time.LoadLocation(w.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// NewLocation validates and normalises a new bin location in warehouse.
func NewLocation(warehouse string, l Location, now time.Time) (*Location, error) {
	var v apperr.Violations
	l.Warehouse = NormalizeCode(warehouse)
	l.Code = NormalizeCode(l.Code)
	if !siteCodePattern.MatchString(l.Code) {
		v.Add("location.code", "must be 1-32 characters of A-Z, 0-9, '_' or '-'")
	}
	if l.Type < LocationReceivingDock || l.Type > LocationQuarantine {
		v.Add("location.type", "is required: RECEIVING_DOCK, STORAGE, PICK_FACE, STAGING, SHIPPING_DOCK or QUARANTINE")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	l.CreatedAt = now.UTC()
	return &l, nil
}

// ApplyUpdate changes the fields named in mask ("blocked", "type") to those of
// in. Names of fields the client cannot change but sent unchanged (as a REST
// PATCH does) are ignored; a change to one is refused.
func (l *Location) ApplyUpdate(mask []string, in Location) error {
	var v apperr.Violations
	if len(mask) == 0 {
		v.Add("update_mask", "name the fields to change: blocked, type")
	}
	for _, f := range mask {
		switch f {
		case "blocked":
			l.Blocked = in.Blocked
		case "type":
			if in.Type < LocationReceivingDock || in.Type > LocationQuarantine {
				v.Add("location.type", "must be RECEIVING_DOCK, STORAGE, PICK_FACE, STAGING, SHIPPING_DOCK or QUARANTINE")
			}
			l.Type = in.Type
		case "name", "create_time":
		case "code":
			if NormalizeCode(in.Code) != l.Code {
				v.Add("location.code", "cannot change; create a new location instead")
			}
		default:
			v.Add("update_mask", fmt.Sprintf("field %q cannot be changed (only blocked, type)", f))
		}
	}
	return v.Err()
}
