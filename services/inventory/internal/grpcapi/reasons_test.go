package grpcapi_test

import (
	"context"
	"testing"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
)

// UpdateReasonCode retires a code by name; the body may not name another code.
func TestUpdateReasonCode(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	rc, err := s.UpdateReasonCode(ctx, &inventoryv1.UpdateReasonCodeRequest{
		ReasonCode: &inventoryv1.ReasonCode{Name: "reasonCodes/DAMAGED", Active: false},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"active"}},
		RequestId:  "rc-1",
	})
	if err != nil || rc.GetActive() || rc.GetName() != "reasonCodes/DAMAGED" || rc.GetCode() != "DAMAGED" {
		t.Fatalf("UpdateReasonCode = %v, %v", rc, err)
	}
	for name, req := range map[string]*inventoryv1.UpdateReasonCodeRequest{
		"bad name":   {ReasonCode: &inventoryv1.ReasonCode{Name: "items/DAMAGED"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"active"}}},
		"other code": {ReasonCode: &inventoryv1.ReasonCode{Name: "reasonCodes/DAMAGED", Code: "SCRAP"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"active"}}},
		"no mask":    {ReasonCode: &inventoryv1.ReasonCode{Name: "reasonCodes/DAMAGED"}},
	} {
		if _, err := s.UpdateReasonCode(ctx, req); kind(err) != apperr.KindInvalidArgument {
			t.Errorf("%s: err = %v, want InvalidArgument", name, err)
		}
	}
}
