package inventory

import (
	"fmt"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
)

// ReasonCategory is what kind of reason a reason code gives: the ledger maps
// each category to an account.
type ReasonCategory int

// Reason categories (as in the API).
const (
	ReasonShrinkage ReasonCategory = iota + 1
	ReasonDamage
	ReasonFound
	ReasonScrap
	ReasonSample
	ReasonWriteDown
	ReasonOpeningBalance
	ReasonCountDifference
)

// Valid says whether c is one of the categories.
func (c ReasonCategory) Valid() bool { return c >= ReasonShrinkage && c <= ReasonCountDifference }

// ReasonCode is master data: why stock was adjusted, counted off or scrapped.
type ReasonCode struct {
	Code        string
	Description string
	Category    ReasonCategory
	Active      bool
	CreatedAt   time.Time
}

// CountDifferenceCode is the reason a count gives when it names none.
const CountDifferenceCode = "COUNT_DIFFERENCE"

// DefaultReasonCodes are the codes every database starts with (migration
// 0005 inserts them), one per category and a few common synonyms.
var DefaultReasonCodes = []ReasonCode{
	{Code: "SHRINKAGE", Description: "Stock lost without a known cause", Category: ReasonShrinkage, Active: true},
	{Code: "DAMAGED", Description: "Stock damaged", Category: ReasonDamage, Active: true},
	{Code: "FOUND", Description: "Stock found that was not on record", Category: ReasonFound, Active: true},
	{Code: "SCRAP", Description: "Stock scrapped", Category: ReasonScrap, Active: true},
	{Code: "SAMPLE", Description: "Stock given away as a sample", Category: ReasonSample, Active: true},
	{Code: "WRITE_DOWN", Description: "Stock written down or off", Category: ReasonWriteDown, Active: true},
	{Code: "OPENING_BALANCE", Description: "Stock on hand at go-live", Category: ReasonOpeningBalance, Active: true},
	{Code: CountDifferenceCode, Description: "Difference found by a count", Category: ReasonCountDifference, Active: true},
}

// NewReasonCode validates and normalises a new reason code.
func NewReasonCode(r ReasonCode, now time.Time) (*ReasonCode, error) {
	var v apperr.Violations
	code, err := NormalizeReason(r.Code)
	if err != nil {
		v.Add("reason_code.code", err.Error())
	}
	r.Code = code
	r.Description = strings.TrimSpace(r.Description)
	if r.Description == "" || len(r.Description) > 200 {
		v.Add("reason_code.description", "is required, at most 200 characters")
	}
	if !r.Category.Valid() {
		v.Add("reason_code.category", "is required: the ledger maps the category to an account")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	r.CreatedAt = now.UTC().Truncate(time.Microsecond)
	return &r, nil
}

// CheckUsable refuses a reason code that is unknown (r nil) or inactive, as
// a violation on field.
func CheckUsable(code string, r *ReasonCode, field string, v *apperr.Violations) {
	switch {
	case r == nil:
		v.Add(field, fmt.Sprintf("unknown reason code %q: use one of ListReasonCodes, or create it", code))
	case !r.Active:
		v.Add(field, fmt.Sprintf("reason code %s is inactive", r.Code))
	}
}

// MaxClockSkew is how far into the future an effective time may lie: the
// caller's clock may run a little ahead of ours.
const MaxClockSkew = 5 * time.Minute

// EffectiveTime is when a stock command says it happened: given (zero means
// now), at the journal's precision, never beyond now + MaxClockSkew.
func EffectiveTime(given, now time.Time, v *apperr.Violations) time.Time {
	if given.IsZero() {
		return now
	}
	if given.After(now.Add(MaxClockSkew)) {
		v.Add("effective_time", fmt.Sprintf("is in the future (%s, now %s): stock movements are recorded when they happened", given.UTC().Format(time.RFC3339), now.Format(time.RFC3339)))
		return now
	}
	return given.UTC().Truncate(time.Microsecond)
}

// UpdateReasonCode returns r with the fields named (update_mask paths:
// "description", "active") set from values. The code and the category
// never change: the movements that used the code, and the ledger's account
// mapping, keep them.
func UpdateReasonCode(r ReasonCode, fields []string, values ReasonCode) (*ReasonCode, error) {
	var v apperr.Violations
	if len(fields) == 0 {
		v.Add("update_mask", "is required: description, active")
	}
	for _, f := range fields {
		switch f {
		case "description":
			r.Description = strings.TrimSpace(values.Description)
			if r.Description == "" || len(r.Description) > 200 {
				v.Add("reason_code.description", "is required, at most 200 characters")
			}
		case "active":
			r.Active = values.Active
		case "code", "category":
			v.Add("update_mask", fmt.Sprintf("%q cannot change: create another code and retire this one", f))
		default:
			v.Add("update_mask", fmt.Sprintf("unknown field %q: description, active", f))
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return &r, nil
}
