package events

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/resname"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/fulfillment/internal/fulfillment"
	"trueup.dev/services/fulfillment/internal/protoconv"
)

// WithCounts encodes the cycle count events and hands every other event to
// next (Encode). Events carry what inventory expected: they are for systems
// and reviewers, not for the counter.
func WithCounts(next storetx.Encoder) storetx.Encoder {
	return func(ctx context.Context, event any) (outbox.Message, error) {
		id := protoevent.NewID()
		switch e := event.(type) {
		case fulfillment.CountRecorded:
			at := e.Count.UpdatedAt
			ev := &fulfillmentv1.CountRecorded{EventId: id, OccurredAt: timestamppb.New(at),
				AggregateId: resname.Format(protoconv.CountPattern, e.Count.ID), AggregateVersion: e.Count.Version,
				Warehouse: e.Count.Warehouse, Task: resname.Format(protoconv.TaskPattern, e.Task), Partner: e.Count.Partner}
			if k := e.Count.Task(e.Task); k != nil {
				ev.Location = protoconv.LocationName(e.Count.Warehouse, k.Location)
			}
			for _, l := range e.Lines {
				ev.Lines = append(ev.Lines, protoconv.CountLineToProto(e.Count.Warehouse, l, true))
			}
			return protoevent.Message(id, ev, at)
		case fulfillment.CountApprovalRequired:
			at := e.Count.UpdatedAt
			return protoevent.Message(id, &fulfillmentv1.CountApprovalRequired{EventId: id, OccurredAt: timestamppb.New(at),
				AggregateId: resname.Format(protoconv.CountPattern, e.Count.ID), AggregateVersion: e.Count.Version,
				Warehouse: e.Count.Warehouse, Line: protoconv.CountLineToProto(e.Count.Warehouse, e.Line, true), Partner: e.Count.Partner}, at)
		case fulfillment.CountDifferenceBooked:
			at := bookedAt(e.Line, e.Count.UpdatedAt)
			return protoevent.Message(id, &fulfillmentv1.CountDifferenceBooked{EventId: id, OccurredAt: timestamppb.New(at),
				AggregateId: resname.Format(protoconv.CountPattern, e.Count.ID), AggregateVersion: e.Count.Version,
				Warehouse: e.Count.Warehouse, Line: protoconv.CountLineToProto(e.Count.Warehouse, e.Line, true), Partner: e.Count.Partner}, at)
		}
		return next(ctx, event)
	}
}

func bookedAt(l fulfillment.CountLine, fallback time.Time) time.Time {
	if l.BookedAt.IsZero() {
		return fallback
	}
	return l.BookedAt
}
