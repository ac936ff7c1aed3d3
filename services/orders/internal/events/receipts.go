package events

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/protoevent"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
	"trueup.dev/services/orders/internal/protoconv"
)

// StockReceivedSubject, StockReversedSubject and StockIssuedSubject are the
// subjects the receipts consumer reads: a receipt adds to a purchase order
// line, a reversal of one takes it back out, and an issue against a line is
// goods sent back to the supplier, which takes them out too.
var (
	StockReceivedSubject = protoevent.Subject(&inventoryv1.StockReceived{})
	StockReversedSubject = protoevent.Subject(&inventoryv1.StockReversed{})
	StockIssuedSubject   = protoevent.Subject(&inventoryv1.StockIssued{})
	// ReceiptSubjects is the receipts consumer's filter.
	ReceiptSubjects = []string{StockReceivedSubject, StockReversedSubject, StockIssuedSubject}
)

// movementEvent is what the receipts consumer needs of a movement event.
type movementEvent interface {
	GetEventId() string
	GetMovement() *inventoryv1.Movement
}

// ReceiptsHandler applies inventory's StockReceived, StockReversed and
// StockIssued events to the purchase order lines they name (source document
// type PURCHASE_ORDER, id the order's id or name, line its number), a batch
// per transaction, each event once however often it is delivered. Movements
// naming no purchase order (every shipment's issue, for one) are
// acknowledged and otherwise ignored. A reversal is recognised by its
// REVERSAL movement, which carries the reversed receipt's source document
// and a negative quantity (taken as the magnitude, subtracted). An issue is
// goods returned to the supplier (a RETURN resolution's, or one made in
// inventory directly): its magnitude is subtracted, once per movement. The
// movement's value (minor units; its magnitude, subtracted for a reversal or
// an issue) is added to the line's received value: what its receipts
// credited to GRNI, which bills clear. A receipt's location and lot are
// remembered as a later RETURN's default.
//
// An undecodable event, or one naming a purchase order line that is not a
// positive number or a base quantity that does not parse, is natsx.Permanent.
func ReceiptsHandler(a *app.Service) natsx.BatchHandler {
	return func(ctx context.Context, msgs []*natsx.Message) []error {
		errs := make([]error, len(msgs))
		var receipts []app.Receipt
		var at []int // index in msgs of each receipt
		for i, msg := range msgs {
			r, ok, err := receiptOf(msg)
			if err != nil {
				errs[i] = err
				continue
			}
			if ok {
				receipts = append(receipts, r)
				at = append(at, i)
			}
		}
		if len(receipts) == 0 {
			return errs
		}
		for j, err := range a.ApplyReceipts(ctx, receipts) {
			errs[at[j]] = err
		}
		return errs
	}
}

func receiptOf(msg *natsx.Message) (app.Receipt, bool, error) {
	typ := msg.Type
	if typ == "" {
		switch msg.Subject {
		case StockReceivedSubject:
			typ = typeName(&inventoryv1.StockReceived{})
		case StockReversedSubject:
			typ = typeName(&inventoryv1.StockReversed{})
		case StockIssuedSubject:
			typ = typeName(&inventoryv1.StockIssued{})
		}
	}
	var ev movementEvent
	reversal, issue := false, false
	switch typ {
	case typeName(&inventoryv1.StockReceived{}):
		var e inventoryv1.StockReceived
		if err := protoevent.Decode(msg, &e); err != nil {
			return app.Receipt{}, false, err
		}
		ev = &e
	case typeName(&inventoryv1.StockReversed{}):
		var e inventoryv1.StockReversed
		if err := protoevent.Decode(msg, &e); err != nil {
			return app.Receipt{}, false, err
		}
		ev, reversal = &e, true
	case typeName(&inventoryv1.StockIssued{}):
		var e inventoryv1.StockIssued
		if err := protoevent.Decode(msg, &e); err != nil {
			return app.Receipt{}, false, err
		}
		ev, issue = &e, true
	default:
		return app.Receipt{}, false, natsx.Permanent(fmt.Errorf("event %s: type %q on %s is not a movement the receipts consumer follows", msg.EventID, msg.Type, msg.Subject))
	}
	m := ev.GetMovement()
	src := m.GetSource()
	if src.GetType() != inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER {
		return app.Receipt{}, false, nil
	}
	id := msg.EventID
	if id == "" {
		id = ev.GetEventId()
	}
	// A movement whose source names no line number (inventory accepts any
	// line text) names no line of an order here: like an unknown line, it is
	// recorded and otherwise ignored (ApplyReceipts), never dead-lettered.
	line, err := strconv.Atoi(strings.TrimSpace(src.GetLine()))
	if err != nil || line < 1 {
		line = 0
	}
	qty, err := orders.ParseQty(m.GetBaseQuantity())
	if err != nil {
		return app.Receipt{}, false, natsx.Permanent(fmt.Errorf("event %s: base quantity %q %v", id, m.GetBaseQuantity(), err))
	}
	if qty < 0 {
		qty = -qty
	}
	value := m.GetValue().GetMinorUnits()
	if value < 0 {
		value = -value
	}
	if reversal || issue {
		qty, value = -qty, -value
	}
	order := strings.TrimPrefix(strings.TrimSpace(src.GetId()), strings.TrimSuffix(protoconv.PurchaseOrderPattern, "*"))
	r := app.Receipt{EventID: id, Order: order, Line: line, Qty: qty,
		Value: value, Currency: m.GetValue().GetCurrencyCode(), Return: issue, Movement: m.GetName(),
		Warehouse: strings.TrimPrefix(m.GetWarehouse(), "warehouses/"), Lot: m.GetLot()}
	if _, code, ok := strings.Cut(m.GetToLocation(), "/locations/"); ok {
		r.Location = code
	}
	if issue && r.Movement == "" {
		return app.Receipt{}, false, natsx.Permanent(fmt.Errorf("event %s: an issue against purchase order %s names no movement", id, order))
	}
	if t := m.GetEffectiveTime(); t != nil {
		r.At = t.AsTime()
	}
	return r, true, nil
}
