package protoconv

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/services/inventory/internal/inventory"
)

func TestItemRoundTrip(t *testing.T) {
	in := &inventoryv1.Item{
		Sku: "A-1", Description: "Thing", BaseUom: "EA", WholeUnitsOnly: true,
		Uoms:           []*inventoryv1.UomConversion{{Uom: "CS", Factor: "12"}},
		Tracking:       inventoryv1.Tracking_TRACKING_SERIAL,
		ExpiryRequired: true,
		CostMethod:     inventoryv1.CostMethod_COST_METHOD_MOVING_AVERAGE,
		Status:         inventoryv1.ItemStatus_ITEM_STATUS_BLOCKED,
		Codes: []*inventoryv1.ItemCode{
			{Namespace: inventoryv1.CodeNamespace_CODE_NAMESPACE_WMS, Code: "W1"},
			{Namespace: inventoryv1.CodeNamespace_CODE_NAMESPACE_CUSTOMER, Partner: "NW", Code: "C1"},
			{Namespace: inventoryv1.CodeNamespace_CODE_NAMESPACE_BARCODE, Code: "0123456789012", Uom: "CS"},
			{Namespace: inventoryv1.CodeNamespace_CODE_NAMESPACE_BARCODE, Code: "0123456789005"},
		},
	}
	it, err := inventory.NewItem(ItemFromProto(in), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	out := ItemToProto(it)
	// Output-only fields aside, what went in comes out.
	out.Name, out.Version, out.CreateTime, out.UpdateTime = "", 0, nil, nil
	if !proto.Equal(in, out) {
		t.Fatalf("round trip:\n in %v\nout %v", in, out)
	}
	if ItemToProto(it).GetName() != "items/A-1" {
		t.Fatalf("name = %q", ItemToProto(it).GetName())
	}
}

func TestUnknownEnumIsAFieldViolation(t *testing.T) {
	_, err := inventory.NewItem(ItemFromProto(&inventoryv1.Item{
		Sku: "A", Description: "x", BaseUom: "EA", Tracking: inventoryv1.Tracking(42),
	}), time.Unix(0, 0))
	var e *apperr.Error
	if !errors.As(err, &e) || len(e.Violations) != 1 || e.Violations[0].Field != "item.tracking" {
		t.Fatalf("err = %v, want one violation on item.tracking", err)
	}
	l := LocationFromProto(&inventoryv1.Location{Code: "A", Type: inventoryv1.LocationType(99)})
	if _, err := inventory.NewLocation("W", l, time.Unix(0, 0)); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Fatalf("unknown location type: err = %v", err)
	}
}
