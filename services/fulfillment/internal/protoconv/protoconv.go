// Package protoconv maps between the fulfillment domain and its protobuf
// contract, for the gRPC API and for the events alike.
package protoconv

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/resname"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// CarrierPattern is the carrier resource name pattern.
const CarrierPattern = "carriers/*"

// CarrierToProto maps a domain carrier to the API resource.
func CarrierToProto(c *fulfillment.Carrier) *fulfillmentv1.Carrier {
	return &fulfillmentv1.Carrier{
		Name:                resname.Format(CarrierPattern, c.Code),
		Code:                c.Code,
		DisplayName:         c.DisplayName,
		TrackingUrlTemplate: c.TrackingURLTemplate,
		CreateTime:          timestamppb.New(c.CreatedAt),
	}
}

// CarrierFromProto maps the client-settable fields of a carrier.
func CarrierFromProto(p *fulfillmentv1.Carrier) fulfillment.Carrier {
	return fulfillment.Carrier{
		Code:                p.GetCode(),
		DisplayName:         p.GetDisplayName(),
		TrackingURLTemplate: p.GetTrackingUrlTemplate(),
	}
}

// ExpectedReceiptPattern is the resource name pattern of expected receipts.
const ExpectedReceiptPattern = "expectedReceipts/*"

// ExpectedReceiptToProto maps an expected receipt to the API resource.
func ExpectedReceiptToProto(r *fulfillment.ExpectedReceipt) *fulfillmentv1.ExpectedReceipt {
	out := &fulfillmentv1.ExpectedReceipt{
		Name:          resname.Format(ExpectedReceiptPattern, r.ID),
		PurchaseOrder: "purchaseOrders/" + r.PurchaseOrder,
		Supplier:      "suppliers/" + r.Supplier,
		Warehouse:     r.Warehouse,
		State:         fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_OPEN,
		ExpectedDate:  r.ExpectedDate(),
		Partner:       r.Partner,
		CreateTime:    timestamppb.New(r.CreatedAt),
		Version:       r.Version,
	}
	for _, l := range r.Lines {
		out.Lines = append(out.Lines, &fulfillmentv1.ExpectedReceiptLine{PurchaseOrderLine: int32(l.POLine), Item: l.SKU,
			Quantity: &typev1.Quantity{Value: l.Quantity, Uom: l.UoM}, BaseQuantity: l.BaseQty, BaseUom: l.BaseUoM, ExpectedDate: l.ExpectedDate})
	}
	return out
}
