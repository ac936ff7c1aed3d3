package events

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/protoevent"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
)

// InventoryContext is the bounded context whose stream the ledger posts from.
const InventoryContext = "inventory"

// inventoryEvents are inventory's events that change stock value, each with
// a fresh message to decode into and the movements it carries. StockMoved and
// StockPicked move stock between bins of one warehouse at no change of value:
// the ledger does not follow them.
var inventoryEvents = map[string]func() movementEvent{
	typeName(&inventoryv1.StockReceived{}):         func() movementEvent { return one[*inventoryv1.StockReceived]{&inventoryv1.StockReceived{}} },
	typeName(&inventoryv1.StockIssued{}):           func() movementEvent { return one[*inventoryv1.StockIssued]{&inventoryv1.StockIssued{}} },
	typeName(&inventoryv1.StockAdjusted{}):         func() movementEvent { return one[*inventoryv1.StockAdjusted]{&inventoryv1.StockAdjusted{}} },
	typeName(&inventoryv1.StockCounted{}):          func() movementEvent { return one[*inventoryv1.StockCounted]{&inventoryv1.StockCounted{}} },
	typeName(&inventoryv1.StockCostCorrected{}):    func() movementEvent { return one[*inventoryv1.StockCostCorrected]{&inventoryv1.StockCostCorrected{}} },
	typeName(&inventoryv1.StockTransferredOut{}):   func() movementEvent { return one[*inventoryv1.StockTransferredOut]{&inventoryv1.StockTransferredOut{}} },
	typeName(&inventoryv1.StockReversed{}):         func() movementEvent { return one[*inventoryv1.StockReversed]{&inventoryv1.StockReversed{}} },
	typeName(&inventoryv1.StockReturned{}):         func() movementEvent { return one[*inventoryv1.StockReturned]{&inventoryv1.StockReturned{}} },
	typeName(&inventoryv1.StockTransferReceived{}): func() movementEvent { return many{&inventoryv1.StockTransferReceived{}} },
}

// InventorySubjects are the subjects of the events in inventoryEvents: the
// posting consumer's filter.
var InventorySubjects = func() []string {
	subjects := []string{
		protoevent.Subject(&inventoryv1.StockReceived{}), protoevent.Subject(&inventoryv1.StockIssued{}),
		protoevent.Subject(&inventoryv1.StockAdjusted{}), protoevent.Subject(&inventoryv1.StockCounted{}),
		protoevent.Subject(&inventoryv1.StockCostCorrected{}), protoevent.Subject(&inventoryv1.StockTransferredOut{}),
		protoevent.Subject(&inventoryv1.StockReversed{}), protoevent.Subject(&inventoryv1.StockReturned{}),
		protoevent.Subject(&inventoryv1.StockTransferReceived{}),
	}
	return subjects
}()

func typeName(m proto.Message) string { return string(m.ProtoReflect().Descriptor().FullName()) }

type movementEvent interface {
	message() proto.Message
	movements() []*inventoryv1.Movement
}

type movementGetter interface {
	proto.Message
	GetMovement() *inventoryv1.Movement
}

type one[T movementGetter] struct{ m T }

func (o one[T]) message() proto.Message { return o.m }
func (o one[T]) movements() []*inventoryv1.Movement {
	return []*inventoryv1.Movement{o.m.GetMovement()}
}

type many struct {
	m *inventoryv1.StockTransferReceived
}

func (o many) message() proto.Message             { return o.m }
func (o many) movements() []*inventoryv1.Movement { return o.m.GetMovements() }

// DecodeInventory reads one of inventory's stock events (eventType is its
// protobuf name) into the movements the ledger posts. It is the app's
// Decoder for reposting parked events.
func DecodeInventory(eventType string, payload []byte) ([]ledger.StockMovement, error) {
	mk, ok := inventoryEvents[eventType]
	if !ok {
		return nil, fmt.Errorf("event type %q is not an inventory stock event the ledger posts", eventType)
	}
	ev := mk()
	if err := proto.Unmarshal(payload, ev.message()); err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	var out []ledger.StockMovement
	for i, m := range ev.movements() {
		sm, err := movementFromProto(m)
		if err != nil {
			return nil, fmt.Errorf("%s movement %d: %w", eventType, i, err)
		}
		out = append(out, sm)
	}
	return out, nil
}

// Decode reads any event the ledger posts, by its type's package:
// inventory's stock events (DecodeInventory) and orders' documents
// (DecodeOrders). It is the app's Decoder, for reposting parked events and
// for reconciliation.
func Decode(eventType string, payload []byte) (app.Decoded, error) {
	switch {
	case strings.HasPrefix(eventType, "trueup.inventory."):
		ms, err := DecodeInventory(eventType, payload)
		return app.Decoded{Movements: ms}, err
	case strings.HasPrefix(eventType, "trueup.orders."):
		return DecodeOrders(eventType, payload)
	}
	return app.Decoded{}, fmt.Errorf("event type %q is not an inventory or orders event the ledger posts", eventType)
}

var kinds = map[inventoryv1.MovementType]ledger.MovementKind{
	inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT:         ledger.KindReceipt,
	inventoryv1.MovementType_MOVEMENT_TYPE_MOVE:            ledger.KindMove,
	inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE:           ledger.KindIssue,
	inventoryv1.MovementType_MOVEMENT_TYPE_ADJUSTMENT:      ledger.KindAdjustment,
	inventoryv1.MovementType_MOVEMENT_TYPE_COUNT:           ledger.KindCount,
	inventoryv1.MovementType_MOVEMENT_TYPE_COST_CORRECTION: ledger.KindCostCorrection,
	inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_OUT:    ledger.KindTransferOut,
	inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_IN:     ledger.KindTransferIn,
	inventoryv1.MovementType_MOVEMENT_TYPE_REVERSAL:        ledger.KindReversal,
	inventoryv1.MovementType_MOVEMENT_TYPE_RETURN:          ledger.KindReturn,
}

func movementFromProto(m *inventoryv1.Movement) (ledger.StockMovement, error) {
	if m == nil {
		return ledger.StockMovement{}, fmt.Errorf("no movement")
	}
	kind, ok := kinds[m.GetType()]
	if !ok {
		return ledger.StockMovement{}, fmt.Errorf("movement %s has type %v, which the ledger does not know", m.GetName(), m.GetType())
	}
	sm := ledger.StockMovement{
		MovementID: last(m.GetName()),
		Seq:        m.GetSeq(),
		Kind:       kind,
		SourceType: strings.TrimPrefix(m.GetSource().GetType().String(), "SOURCE_DOCUMENT_TYPE_"),
		SourceID:   m.GetSource().GetId(),
		Order:      m.GetOutboundOrder(),
		Value:      m.GetValue().GetMinorUnits(),
		Currency:   m.GetValue().GetCurrencyCode(),
		Warehouse:  last(m.GetWarehouse()),
		Item:       last(m.GetItem()),
		Lot:        m.GetLot(),
		Transfer:   last(m.GetTransfer()),
	}
	if c := m.GetReasonCategory(); c != inventoryv1.ReasonCategory_REASON_CATEGORY_UNSPECIFIED {
		sm.ReasonCategory = strings.TrimPrefix(c.String(), "REASON_CATEGORY_")
	}
	if sm.SourceType == "UNSPECIFIED" {
		sm.SourceType = ""
	}
	switch {
	case m.GetEffectiveTime() != nil:
		sm.EffectiveAt = m.GetEffectiveTime().AsTime()
	case m.GetCreateTime() != nil:
		sm.EffectiveAt = m.GetCreateTime().AsTime()
	}
	if sm.Value != 0 && sm.Currency == "" {
		return sm, fmt.Errorf("movement %s has a value and no currency", m.GetName())
	}
	return sm, nil
}

// last is the final segment of a resource name ("items/SKU-1" -> "SKU-1").
func last(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

// PostingHandler posts batches of inventory's stock events or orders'
// documents (Decode reads either). An event it cannot read, or that no rule
// covers, is parked by the app with the reason (and acknowledged: the ledger
// keeps it, listed, to post later); only a database failure fails the
// batch, for redelivery.
func PostingHandler(a *app.Service) natsx.BatchHandler {
	return func(ctx context.Context, msgs []*natsx.Message) []error {
		batch := make([]app.Inbound, len(msgs))
		for i, msg := range msgs {
			headers := map[string]string{}
			for k, v := range msg.Headers {
				if len(v) > 0 {
					headers[k] = v[0]
				}
			}
			in := app.Inbound{EventID: msg.EventID, EventType: msg.Type, Subject: msg.Subject, Payload: msg.Data,
				Headers: headers, TraceID: app.TraceID(headers)}
			if in.EventType == "" {
				in.EventType = typeForSubject(msg.Subject)
			}
			in.Decode(Decode(in.EventType, msg.Data))
			batch[i] = in
		}
		errs := make([]error, len(msgs))
		if _, err := a.PostEvents(ctx, batch); err != nil {
			for i := range errs {
				errs[i] = err
			}
		}
		return errs
	}
}

// typeForSubject names the event type of a subject, for a publisher that set
// no type header.
func typeForSubject(subject string) string {
	for name, mk := range inventoryEvents {
		if protoevent.Subject(mk().message()) == subject {
			return name
		}
	}
	for name := range ordersEvents {
		if protoevent.SubjectOf(name) == subject {
			return name
		}
	}
	return ""
}
