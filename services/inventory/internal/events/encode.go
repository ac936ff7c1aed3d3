// Package events turns inventory domain events into the protobuf events of
// trueup.inventory.v1, ready for the outbox.
package events

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/resname"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/protoconv"
)

// Context is the bounded context whose stream carries these events.
const Context = "inventory"

// Encode maps one domain event to an outbox message with a fresh event id.
func Encode(_ context.Context, event any) (outbox.Message, error) {
	id := protoevent.NewID()
	switch e := event.(type) {
	case inventory.ItemCreated:
		now, ts := stamp(e.Item.CreatedAt)
		return protoevent.Message(id, &inventoryv1.ItemCreated{
			EventId: id, OccurredAt: ts, AggregateId: resname.Format(protoconv.ItemPattern, e.Item.SKU), AggregateVersion: e.Item.Version,
			Item: protoconv.ItemToProto(&e.Item),
		}, now)
	case inventory.ItemUpdated:
		now, ts := stamp(e.Item.UpdatedAt)
		return protoevent.Message(id, &inventoryv1.ItemUpdated{
			EventId: id, OccurredAt: ts, AggregateId: resname.Format(protoconv.ItemPattern, e.Item.SKU), AggregateVersion: e.Item.Version,
			Item: protoconv.ItemToProto(&e.Item),
		}, now)
	case inventory.WarehouseCreated:
		now, ts := stamp(e.Warehouse.CreatedAt)
		return protoevent.Message(id, &inventoryv1.WarehouseCreated{
			EventId: id, OccurredAt: ts, AggregateId: resname.Format(protoconv.WarehousePattern, e.Warehouse.Code), AggregateVersion: 1,
			Warehouse: protoconv.WarehouseToProto(&e.Warehouse),
		}, now)
	case inventory.LocationCreated:
		now, ts := stamp(e.Location.CreatedAt)
		return protoevent.Message(id, &inventoryv1.LocationCreated{
			EventId: id, OccurredAt: ts, AggregateId: resname.Format(protoconv.LocationPattern, e.Location.Warehouse, e.Location.Code), AggregateVersion: 1,
			Location: protoconv.LocationToProto(&e.Location),
		}, now)
	case inventory.LocationUpdated:
		now := time.Now().UTC().Truncate(time.Microsecond)
		return protoevent.Message(id, &inventoryv1.LocationUpdated{
			EventId: id, OccurredAt: timestamppb.New(now), AggregateId: resname.Format(protoconv.LocationPattern, e.Location.Warehouse, e.Location.Code),
			Location: protoconv.LocationToProto(&e.Location),
		}, now)
	case inventory.StockReceived:
		return movementEvent(id, &e.Movement, func(h header, m *inventoryv1.Movement) proto.Message {
			return &inventoryv1.StockReceived{EventId: h.id, OccurredAt: h.ts, AggregateId: h.agg, AggregateVersion: h.version, Movement: m}
		})
	case inventory.StockMoved:
		return movementEvent(id, &e.Movement, func(h header, m *inventoryv1.Movement) proto.Message {
			return &inventoryv1.StockMoved{EventId: h.id, OccurredAt: h.ts, AggregateId: h.agg, AggregateVersion: h.version, Movement: m}
		})
	case inventory.StockIssued:
		return movementEvent(id, &e.Movement, func(h header, m *inventoryv1.Movement) proto.Message {
			return &inventoryv1.StockIssued{EventId: h.id, OccurredAt: h.ts, AggregateId: h.agg, AggregateVersion: h.version, Movement: m}
		})
	case inventory.StockAdjusted:
		return movementEvent(id, &e.Movement, func(h header, m *inventoryv1.Movement) proto.Message {
			return &inventoryv1.StockAdjusted{EventId: h.id, OccurredAt: h.ts, AggregateId: h.agg, AggregateVersion: h.version, Movement: m}
		})
	case inventory.StockCounted:
		return movementEvent(id, &e.Movement, func(h header, m *inventoryv1.Movement) proto.Message {
			return &inventoryv1.StockCounted{EventId: h.id, OccurredAt: h.ts, AggregateId: h.agg, AggregateVersion: h.version, Movement: m}
		})
	case inventory.StockPicked:
		return movementEvent(id, &e.Movement, func(h header, m *inventoryv1.Movement) proto.Message {
			return &inventoryv1.StockPicked{EventId: h.id, OccurredAt: h.ts, AggregateId: h.agg, AggregateVersion: h.version, Movement: m}
		})
	case inventory.StockCostCorrected:
		return movementEvent(id, &e.Movement, func(h header, m *inventoryv1.Movement) proto.Message {
			return &inventoryv1.StockCostCorrected{EventId: h.id, OccurredAt: h.ts, AggregateId: h.agg, AggregateVersion: h.version, Movement: m}
		})
	case inventory.StockReturned:
		return movementEvent(id, &e.Movement, func(h header, m *inventoryv1.Movement) proto.Message {
			return &inventoryv1.StockReturned{EventId: h.id, OccurredAt: h.ts, AggregateId: h.agg, AggregateVersion: h.version, Movement: m}
		})
	case inventory.StockReversed:
		return movementEvent(id, &e.Movement, func(h header, m *inventoryv1.Movement) proto.Message {
			return &inventoryv1.StockReversed{EventId: h.id, OccurredAt: h.ts, AggregateId: h.agg, AggregateVersion: h.version, Movement: m}
		})
	case inventory.StockTransferredOut:
		return movementEvent(id, &e.Movement, func(h header, m *inventoryv1.Movement) proto.Message {
			return &inventoryv1.StockTransferredOut{EventId: h.id, OccurredAt: h.ts, AggregateId: h.agg, AggregateVersion: h.version,
				Movement: m, Transfer: protoconv.TransferToProto(&e.Transfer)}
		})
	case inventory.StockTransferReceived:
		now, ts := stamp(e.Transfer.ReceivedAt)
		ev := &inventoryv1.StockTransferReceived{EventId: id, OccurredAt: ts, AggregateId: resname.Format(protoconv.ItemPattern, e.Transfer.SKU),
			Transfer: protoconv.TransferToProto(&e.Transfer)}
		for i := range e.Movements {
			ev.Movements = append(ev.Movements, protoconv.MovementToProto(&e.Movements[i]))
			ev.AggregateVersion = max(ev.AggregateVersion, e.Movements[i].Seq)
		}
		return protoevent.Message(id, ev, now)
	case inventory.AllocationCreated:
		now, ts := stamp(e.Allocation.UpdatedAt)
		return protoevent.Message(id, &inventoryv1.AllocationCreated{
			EventId: id, OccurredAt: ts, AggregateId: resname.Format(protoconv.AllocationPattern, e.Allocation.ID), AggregateVersion: 1,
			Allocation: protoconv.AllocationToProto(&e.Allocation),
		}, now)
	case inventory.AllocationReleased:
		now, ts := stamp(e.Allocation.UpdatedAt)
		return protoevent.Message(id, &inventoryv1.AllocationReleased{
			EventId: id, OccurredAt: ts, AggregateId: resname.Format(protoconv.AllocationPattern, e.Allocation.ID), AggregateVersion: 2,
			Allocation: protoconv.AllocationToProto(&e.Allocation),
		}, now)
	}
	return outbox.Message{}, fmt.Errorf("inventory events: no encoding for %T", event)
}

// stamp gives the event time: when the fact happened, which is when the state
// change was made, not when the event was encoded.
func stamp(t time.Time) (time.Time, *timestamppb.Timestamp) {
	t = t.UTC()
	return t, timestamppb.New(t)
}

// header is what every stock event carries besides the movement.
type header struct {
	id, agg string
	version int64
	ts      *timestamppb.Timestamp
}

// movementEvent builds a stock event. Its aggregate is the item; its version is
// the movement's journal sequence, which grows with every stock change.
func movementEvent(id string, m *inventory.Movement, build func(header, *inventoryv1.Movement) proto.Message) (outbox.Message, error) {
	now, ts := stamp(m.CreatedAt)
	h := header{id: id, agg: resname.Format(protoconv.ItemPattern, m.SKU), version: m.Seq, ts: ts}
	return protoevent.Message(id, build(h, protoconv.MovementToProto(m)), now)
}
