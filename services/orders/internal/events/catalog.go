package events

import (
	"context"
	"errors"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/protoevent"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/protoconv"
)

// InventoryContext is the bounded context whose stream the catalog reads.
const InventoryContext = "inventory"

// ItemCreatedSubject is the subject of inventory's ItemCreated events.
var ItemCreatedSubject = protoevent.Subject(&inventoryv1.ItemCreated{})

// CatalogHandler applies inventory item events to the catalog read model. It is
// safe for at-least-once delivery: the app records each event id in the inbox
// with the change. An event that cannot be decoded or names no item is
// permanent (dead-lettered at once); anything else is retried.
func CatalogHandler(a *app.Service) natsx.Handler {
	return func(ctx context.Context, msg *natsx.Message) error {
		var ev inventoryv1.ItemCreated
		if err := protoevent.Decode(msg, &ev); err != nil {
			return err
		}
		id := msg.EventID
		if id == "" {
			id = ev.GetEventId()
		}
		_, err := a.SyncCatalogItem(ctx, id, protoconv.CatalogItemFromItemCreated(&ev))
		if errors.Is(err, apperr.ErrInvalidArgument) {
			return natsx.Permanent(err)
		}
		return err
	}
}
