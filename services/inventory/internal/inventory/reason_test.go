package inventory

import (
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

func TestReasonCodeNeedsCodeDescriptionAndCategory(t *testing.T) {
	_, err := NewReasonCode(ReasonCode{Code: "bad code", Category: 99}, time.Now())
	for _, f := range []string{"reason_code.code", "reason_code.description", "reason_code.category"} {
		if !hasField(err, f) {
			t.Errorf("err = %v, want a violation on %s", err, f)
		}
	}
	r, err := NewReasonCode(ReasonCode{Code: " water_damage ", Description: "Wet", Category: ReasonDamage, Active: true}, time.Now())
	if err != nil || r.Code != "WATER_DAMAGE" {
		t.Fatalf("NewReasonCode = %+v, %v", r, err)
	}
}

func TestUnknownOrInactiveReasonIsRefused(t *testing.T) {
	for name, r := range map[string]*ReasonCode{"unknown": nil, "inactive": {Code: "OLD", Category: ReasonScrap}} {
		var v apperr.Violations
		CheckUsable("OLD", r, "reason_code", &v)
		if !hasField(v.Err(), "reason_code") {
			t.Errorf("%s: violations = %v", name, v)
		}
	}
	var v apperr.Violations
	CheckUsable("SCRAP", &ReasonCode{Code: "SCRAP", Category: ReasonScrap, Active: true}, "reason_code", &v)
	if v.Err() != nil {
		t.Errorf("active code refused: %v", v)
	}
}

func TestEffectiveTimeIsNeverInTheFuture(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		given   time.Time
		want    time.Time
		refused bool
	}{
		{"empty means now", time.Time{}, now, false},
		{"the past is kept", now.Add(-48 * time.Hour), now.Add(-48 * time.Hour), false},
		{"clock skew is tolerated", now.Add(MaxClockSkew), now.Add(MaxClockSkew), false},
		{"beyond the skew is refused", now.Add(MaxClockSkew + time.Second), now, true},
	}
	for _, c := range cases {
		var v apperr.Violations
		got := EffectiveTime(c.given, now, &v)
		if !got.Equal(c.want) || (v.Err() != nil) != c.refused {
			t.Errorf("%s: got %v, %v", c.name, got, v)
		}
	}
}

func hasField(err error, field string) bool {
	e, ok := err.(*apperr.Error)
	if !ok {
		return false
	}
	for _, v := range e.Violations {
		if v.Field == field {
			return true
		}
	}
	return false
}
