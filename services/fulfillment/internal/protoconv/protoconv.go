// Package protoconv maps between the fulfillment domain and its protobuf
// contract, for the gRPC API and for the events alike.
package protoconv

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
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
