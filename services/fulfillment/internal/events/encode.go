// Package events turns fulfillment domain events into the protobuf events of
// trueup.fulfillment.v1, ready for the outbox.
package events

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/resname"
	"trueup.dev/services/fulfillment/internal/fulfillment"
	"trueup.dev/services/fulfillment/internal/protoconv"
)

// Context is the bounded context whose stream carries these events.
const Context = "fulfillment"

// Encode maps one domain event to an outbox message with a fresh event id. The
// event's time is when the fact happened (the resource's create time), not when
// it was encoded.
func Encode(_ context.Context, event any) (outbox.Message, error) {
	id := protoevent.NewID()
	switch e := event.(type) {
	case fulfillment.CarrierCreated:
		return protoevent.Message(id, &fulfillmentv1.CarrierCreated{
			EventId:          id,
			OccurredAt:       timestamppb.New(e.Carrier.CreatedAt),
			AggregateId:      resname.Format(protoconv.CarrierPattern, e.Carrier.Code),
			AggregateVersion: 1,
			Carrier:          protoconv.CarrierToProto(&e.Carrier),
		}, e.Carrier.CreatedAt)
	}
	return outbox.Message{}, fmt.Errorf("fulfillment events: no encoding for %T", event)
}
