package store_test

import (
	"context"
	"reflect"
	"testing"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

// A reason code is retired by UpdateReasonCode: stock commands refuse it
// then, and take it again once it is reactivated; the code and category
// never change, and a retry answers the first answer.
func TestUpdateReasonCodeRetiresACode(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := stockFixture(t, db)
		receive(t, svc, "WIDGET", "A1", "5", "", "1.00", "", "")
		adjust := func() error {
			_, err := svc.AdjustStock(ctx, app.Adjust{RequestID: rid("adj"), SKU: "WIDGET", Warehouse: "W1", Location: "A1", Quantity: app.Quantity{Value: "-1"}, Reason: "damaged"})
			return err
		}
		before, err := svc.GetReasonCode(ctx, "DAMAGED")
		if err != nil {
			t.Fatal(err)
		}
		cmd := app.ReasonCodeUpdate{Fields: []string{"active", "description"}, Values: inventory.ReasonCode{Description: "  Damaged in handling ", Active: false}}
		id := rid("rc")
		retired, err := svc.UpdateReasonCode(ctx, id, "damaged", cmd)
		if err != nil {
			t.Fatal(err)
		}
		want := *before
		want.Active, want.Description = false, "Damaged in handling"
		if !reflect.DeepEqual(*retired, want) {
			t.Fatalf("retired = %+v, want %+v", retired, want)
		}
		if again, err := svc.UpdateReasonCode(ctx, id, "damaged", cmd); err != nil || !reflect.DeepEqual(again, retired) {
			t.Fatalf("retry = %+v, %v", again, err)
		}
		if got, err := svc.GetReasonCode(ctx, "DAMAGED"); err != nil || !reflect.DeepEqual(got, retired) {
			t.Fatalf("get = %+v, %v", got, err)
		}
		wantKind(t, adjust(), apperr.KindInvalidArgument, "reason_code")

		// Only the named fields change.
		back, err := svc.UpdateReasonCode(ctx, rid("rc"), "DAMAGED", app.ReasonCodeUpdate{Fields: []string{"active"}, Values: inventory.ReasonCode{Active: true, Description: "ignored"}})
		if err != nil || !back.Active || back.Description != "Damaged in handling" {
			t.Fatalf("reactivated = %+v, %v", back, err)
		}
		if err := adjust(); err != nil {
			t.Fatalf("adjust with the reactivated code: %v", err)
		}

		for name, u := range map[string]app.ReasonCodeUpdate{
			"no mask":        {},
			"category":       {Fields: []string{"category"}, Values: inventory.ReasonCode{Category: inventory.ReasonScrap}},
			"code":           {Fields: []string{"code"}, Values: inventory.ReasonCode{Code: "OTHER"}},
			"unknown field":  {Fields: []string{"colour"}},
			"no description": {Fields: []string{"description"}, Values: inventory.ReasonCode{Description: " "}},
		} {
			if _, err := svc.UpdateReasonCode(ctx, rid("rc"), "DAMAGED", u); apperr.KindOf(err) != apperr.KindInvalidArgument {
				t.Errorf("%s: err = %v, want InvalidArgument", name, err)
			}
		}
		if _, err := svc.UpdateReasonCode(ctx, rid("rc"), "NO_SUCH", app.ReasonCodeUpdate{Fields: []string{"active"}}); apperr.KindOf(err) != apperr.KindNotFound {
			t.Errorf("unknown code: err = %v, want NotFound", err)
		}
	})
}
