package events

import (
	"context"
	"fmt"
	"strings"
	"time"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/protoevent"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
)

// AllocationCreatedSubject and StockPickedSubject are what the stages
// consumer reads: when the outbound order named after a sales order was
// first allocated and first picked.
var (
	AllocationCreatedSubject = protoevent.Subject(&inventoryv1.AllocationCreated{})
	StockPickedSubject       = protoevent.Subject(&inventoryv1.StockPicked{})
	// StageSubjects is the stages consumer's filter.
	StageSubjects = []string{AllocationCreatedSubject, StockPickedSubject}
)

// StagesHandler records the allocation and pick times of sales orders from
// inventory's AllocationCreated (the allocation's order, type
// OUTBOUND_ORDER) and StockPicked (the movement's outbound order, else its
// OUTBOUND_ORDER source document). Events naming no outbound order are
// acknowledged and ignored; an undecodable one is natsx.Permanent.
func StagesHandler(a *app.Service) natsx.BatchHandler {
	return func(ctx context.Context, msgs []*natsx.Message) []error {
		errs := make([]error, len(msgs))
		var evs []app.StageEvent
		var at []int
		for i, msg := range msgs {
			ev, ok, err := stageOf(msg)
			if err != nil {
				errs[i] = err
				continue
			}
			if ok {
				evs = append(evs, ev)
				at = append(at, i)
			}
		}
		if len(evs) == 0 {
			return errs
		}
		for j, err := range a.ApplyStages(ctx, evs) {
			errs[at[j]] = err
		}
		return errs
	}
}

func stageOf(msg *natsx.Message) (app.StageEvent, bool, error) {
	typ := msg.Type
	if typ == "" {
		switch msg.Subject {
		case AllocationCreatedSubject:
			typ = typeName(&inventoryv1.AllocationCreated{})
		case StockPickedSubject:
			typ = typeName(&inventoryv1.StockPicked{})
		}
	}
	ev := app.StageEvent{EventID: msg.EventID}
	var order string
	var occurred time.Time
	switch typ {
	case typeName(&inventoryv1.AllocationCreated{}):
		var e inventoryv1.AllocationCreated
		if err := protoevent.Decode(msg, &e); err != nil {
			return ev, false, err
		}
		if ev.EventID == "" {
			ev.EventID = e.GetEventId()
		}
		if o := e.GetAllocation().GetOrder(); o.GetType() == inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_OUTBOUND_ORDER {
			order = o.GetId()
		}
		ev.Stage, occurred = orders.StageAllocated, e.GetOccurredAt().AsTime()
		if t := e.GetAllocation().GetCreateTime(); t != nil {
			occurred = t.AsTime()
		}
	case typeName(&inventoryv1.StockPicked{}):
		var e inventoryv1.StockPicked
		if err := protoevent.Decode(msg, &e); err != nil {
			return ev, false, err
		}
		if ev.EventID == "" {
			ev.EventID = e.GetEventId()
		}
		m := e.GetMovement()
		order = m.GetOutboundOrder()
		if src := m.GetSource(); order == "" && src.GetType() == inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_OUTBOUND_ORDER {
			order = src.GetId()
		}
		ev.Stage, occurred = orders.StagePicked, e.GetOccurredAt().AsTime()
		if t := m.GetEffectiveTime(); t != nil {
			occurred = t.AsTime()
		}
	default:
		return ev, false, natsx.Permanent(fmt.Errorf("event %s: type %q on %s is not an allocation or pick", msg.EventID, msg.Type, msg.Subject))
	}
	ev.Order = strings.TrimPrefix(strings.TrimSpace(order), "salesOrders/")
	if ev.Order == "" {
		return ev, false, nil
	}
	ev.At = occurred
	return ev, true, nil
}
