package grpcapi_test

import (
	"context"
	"testing"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
)

// A request with a malformed resource name and bad fields hears of all of them
// in one InvalidArgument, on every stock command.
func TestStockCommandsReportNameAndFieldViolationsTogether(t *testing.T) {
	ctx := context.Background()
	s := newServer(t)
	ea := func(v string) *typev1.Quantity { return &typev1.Quantity{Value: v, Uom: "EA"} }
	const loc = "warehouses/W1/locations/A1"
	for _, c := range []struct {
		name   string
		call   func() error
		fields []string
	}{
		{"ReceiveStock", func() error {
			_, err := s.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: "r", Item: "bad", Location: loc, Quantity: ea("-3")})
			return err
		}, []string{"item", "quantity.value", "source.type", "source.id"}},
		{"MoveStock", func() error {
			_, err := s.MoveStock(ctx, &inventoryv1.MoveStockRequest{RequestId: "m", Item: "items/X", FromLocation: loc, Quantity: ea("0")})
			return err
		}, []string{"to_location", "quantity.value"}},
		{"IssueStock", func() error {
			_, err := s.IssueStock(ctx, &inventoryv1.IssueStockRequest{Item: "items/X", Quantity: ea("1")})
			return err
		}, []string{"location", "request_id", "source.type", "source.id"}},
		{"AdjustStock", func() error {
			_, err := s.AdjustStock(ctx, &inventoryv1.AdjustStockRequest{RequestId: "a", Item: "items/X", Quantity: ea("abc")})
			return err
		}, []string{"location", "quantity.value", "reason_code"}},
		{"CountStock", func() error {
			_, err := s.CountStock(ctx, &inventoryv1.CountStockRequest{RequestId: "c", Location: loc, CountedQuantity: ea("-1")})
			return err
		}, []string{"item", "counted_quantity.value"}},
		{"TransferStock", func() error {
			_, err := s.TransferStock(ctx, &inventoryv1.TransferStockRequest{RequestId: "t", Item: "items/X", FromLocation: loc,
				ToWarehouse: "W2", Quantity: ea("0")})
			return err
		}, []string{"to_warehouse", "quantity.value", "source.type", "source.id"}},
		{"ReturnStock", func() error {
			_, err := s.ReturnStock(ctx, &inventoryv1.ReturnStockRequest{RequestId: "rt", Issue: "movements/x", Quantity: ea("-1")})
			return err
		}, []string{"location", "quantity.value", "source.type", "source.id"}},
		{"ReceiveTransfer", func() error {
			_, err := s.ReceiveTransfer(ctx, &inventoryv1.ReceiveTransferRequest{Name: "transfers/x"})
			return err
		}, []string{"location", "request_id"}},
		{"ReverseMovement", func() error {
			_, err := s.ReverseMovement(ctx, &inventoryv1.ReverseMovementRequest{Name: "bogus"})
			return err
		}, []string{"name", "request_id"}},
		{"AllocateStock", func() error {
			_, err := s.AllocateStock(ctx, &inventoryv1.AllocateStockRequest{RequestId: "al", Item: "items/X", Quantity: ea("0")})
			return err
		}, []string{"warehouse", "quantity.value", "order.type", "order.id"}},
		{"ReleaseAllocation", func() error {
			_, err := s.ReleaseAllocation(ctx, &inventoryv1.ReleaseAllocationRequest{Name: "bogus"})
			return err
		}, []string{"name", "request_id"}},
		{"ConfirmPick", func() error {
			_, err := s.ConfirmPick(ctx, &inventoryv1.ConfirmPickRequest{RequestId: "p", Allocation: "allocations/x", Quantity: ea("0")})
			return err
		}, []string{"location", "quantity.value", "to_location", "source.type", "source.id"}},
		{"ConfirmShipment", func() error {
			_, err := s.ConfirmShipment(ctx, &inventoryv1.ConfirmShipmentRequest{RequestId: "sh", Allocation: "bogus"})
			return err
		}, []string{"allocation", "source.type", "source.id"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if kind(err) != apperr.KindInvalidArgument {
				t.Fatalf("err = %v, want InvalidArgument", err)
			}
			for _, f := range c.fields {
				if !hasViolation(err, f) {
					t.Errorf("no violation of %s in %v", f, err)
				}
			}
		})
	}
}
