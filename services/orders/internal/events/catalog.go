package events

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/protoevent"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
	"trueup.dev/services/orders/internal/protoconv"
)

// InventoryContext is the bounded context whose stream the catalog reads.
const InventoryContext = "inventory"

// ItemCreatedSubject is the subject of inventory's ItemCreated events.
var ItemCreatedSubject = protoevent.Subject(&inventoryv1.ItemCreated{})

// ItemUpdatedSubject is the subject of inventory's ItemUpdated events.
var ItemUpdatedSubject = protoevent.Subject(&inventoryv1.ItemUpdated{})

// CatalogSubjects are the subjects of every inventory event the catalog
// follows: the catalog consumer's filter, and what CatalogHandler decodes.
var CatalogSubjects = []string{ItemCreatedSubject, ItemUpdatedSubject}

// itemEvent is what the catalog needs of an inventory item event.
type itemEvent interface {
	proto.Message
	GetEventId() string
}

// catalogEvents maps each followed event's type to a fresh message to decode
// into and the catalog's view of its item.
var catalogEvents = map[string]struct {
	subject string
	decode  func(msg *natsx.Message) (itemEvent, orders.CatalogItem, error)
}{
	typeName(&inventoryv1.ItemCreated{}): {ItemCreatedSubject, func(msg *natsx.Message) (itemEvent, orders.CatalogItem, error) {
		var ev inventoryv1.ItemCreated
		err := protoevent.Decode(msg, &ev)
		return &ev, protoconv.CatalogItemFromItemCreated(&ev), err
	}},
	typeName(&inventoryv1.ItemUpdated{}): {ItemUpdatedSubject, func(msg *natsx.Message) (itemEvent, orders.CatalogItem, error) {
		var ev inventoryv1.ItemUpdated
		err := protoevent.Decode(msg, &ev)
		return &ev, protoconv.CatalogItemFromItemUpdated(&ev), err
	}},
}

func typeName(m proto.Message) string { return string(m.ProtoReflect().Descriptor().FullName()) }

// CatalogHandler applies inventory's ItemCreated and ItemUpdated events to the
// catalog read model. It is safe for at-least-once delivery (the app records
// each event id in the inbox with the change) and for any order of delivery
// (a copy only moves to a higher item version, so a late ItemCreated or an
// older ItemUpdated changes nothing).
//
// Its errors are classified for the consumer: an event that cannot be decoded,
// is of a type the catalog does not follow, or names no item or version is
// natsx.Permanent (dead-lettered at once; no redelivery can fix it). Anything
// else, database errors above all, is returned as it is, for natsx.IsTransient
// to tell a busy or unreachable database (retried without limit) from a
// failure of the handler (dead-lettered after MaxDeliver attempts).
func CatalogHandler(a *app.Service) natsx.Handler {
	return func(ctx context.Context, msg *natsx.Message) error {
		kind, ok := catalogEvents[msg.Type]
		if !ok && msg.Type == "" {
			// A publisher that set no type header: the subject names the event.
			for _, k := range catalogEvents {
				if k.subject == msg.Subject {
					kind, ok = k, true
				}
			}
		}
		if !ok {
			return natsx.Permanent(fmt.Errorf("event %s: type %q on %s is not an item event the catalog follows", msg.EventID, msg.Type, msg.Subject))
		}
		ev, item, err := kind.decode(msg)
		if err != nil {
			return err // protoevent.Decode marks its failures Permanent
		}
		id := msg.EventID
		if id == "" {
			id = ev.GetEventId()
		}
		_, err = a.SyncCatalogItem(ctx, id, item)
		if errors.Is(err, apperr.ErrInvalidArgument) {
			return natsx.Permanent(err)
		}
		return err
	}
}
