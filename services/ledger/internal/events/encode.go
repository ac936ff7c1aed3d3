// Package events turns ledger domain events into the protobuf events of
// trueup.ledger.v1, ready for the outbox.
package events

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/resname"
	"trueup.dev/services/ledger/internal/ledger"
	"trueup.dev/services/ledger/internal/protoconv"
)

// Context is the bounded context whose stream carries these events.
const Context = "ledger"

// Encode maps one domain event to an outbox message with a fresh event id. The
// event's time is when the fact happened (the resource's create time), not when
// it was encoded.
func Encode(_ context.Context, event any) (outbox.Message, error) {
	id := protoevent.NewID()
	switch e := event.(type) {
	case ledger.AccountCreated:
		return protoevent.Message(id, &ledgerv1.AccountCreated{
			EventId:          id,
			OccurredAt:       timestamppb.New(e.Account.CreatedAt),
			AggregateId:      resname.Format(protoconv.AccountPattern, e.Account.Code),
			AggregateVersion: 1,
			Account:          protoconv.AccountToProto(&e.Account),
		}, e.Account.CreatedAt)
	}
	return outbox.Message{}, fmt.Errorf("ledger events: no encoding for %T", event)
}
