package protoconv

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/resname"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// CountPattern is the count resource name pattern.
const CountPattern = "counts/*"

var countStates = map[fulfillment.CountState]fulfillmentv1.CountState{
	fulfillment.CountOpen:      fulfillmentv1.CountState_COUNT_STATE_OPEN,
	fulfillment.CountInReview:  fulfillmentv1.CountState_COUNT_STATE_IN_REVIEW,
	fulfillment.CountCompleted: fulfillmentv1.CountState_COUNT_STATE_COMPLETED,
}

var countLineStates = map[fulfillment.CountLineState]fulfillmentv1.CountLineState{
	fulfillment.CountLinePending:    fulfillmentv1.CountLineState_COUNT_LINE_STATE_PENDING_APPROVAL,
	fulfillment.CountLineApproved:   fulfillmentv1.CountLineState_COUNT_LINE_STATE_APPROVED,
	fulfillment.CountLineBooked:     fulfillmentv1.CountLineState_COUNT_LINE_STATE_BOOKED,
	fulfillment.CountLineRejected:   fulfillmentv1.CountLineState_COUNT_LINE_STATE_REJECTED,
	fulfillment.CountLineSuperseded: fulfillmentv1.CountLineState_COUNT_LINE_STATE_SUPERSEDED,
}

// CountStateFromProto maps a filter's state; unspecified is 0 (any).
func CountStateFromProto(s fulfillmentv1.CountState) (fulfillment.CountState, bool) {
	if s == fulfillmentv1.CountState_COUNT_STATE_UNSPECIFIED {
		return 0, true
	}
	for d, p := range countStates {
		if p == s {
			return d, true
		}
	}
	return 0, false
}

// Reveal says whether a line's expected quantity, difference and value may
// be shown.
type Reveal func(fulfillment.CountLine) bool

// Blind reveals no line: the answer to a counter.
func Blind(fulfillment.CountLine) bool { return false }

// CountToProto maps a count to the API resource, its lines shown as reveal
// allows (a reviewer's view: c.Reveals).
func CountToProto(c *fulfillment.Count, reveal Reveal) *fulfillmentv1.Count {
	out := &fulfillmentv1.Count{
		Name: resname.Format(CountPattern, c.ID), Warehouse: c.Warehouse, Locations: c.Locations, Items: c.Items,
		ReasonCode: c.ReasonCode, Thresholds: CountThresholdsToProto(c.Thresholds), State: countStates[c.State],
		PendingApprovalCount: int32(c.PendingLines()), Partner: c.Partner, CreatedBy: c.CreatedBy,
		CreateTime: timestamppb.New(c.CreatedAt), UpdateTime: optionalTime(c.UpdatedAt), CompleteTime: optionalTime(c.CompletedAt),
		Version: c.Version,
	}
	for _, k := range c.Tasks {
		out.Tasks = append(out.Tasks, &fulfillmentv1.CountTask{Task: resname.Format(TaskPattern, k.ID),
			Location: LocationName(c.Warehouse, k.Location), Item: k.SKU, RecountOfLine: int32(k.Recounts), Done: k.Done})
	}
	for _, l := range c.Lines {
		out.Lines = append(out.Lines, CountLineToProto(c.Warehouse, l, reveal(l)))
	}
	return out
}

// CountThresholdsToProto maps a count's thresholds.
func CountThresholdsToProto(t fulfillment.CountThresholds) *fulfillmentv1.CountThresholds {
	out := &fulfillmentv1.CountThresholds{MaxBaseQuantity: t.MaxQty.String()}
	if t.MaxValue != nil {
		out.MaxValue = &typev1.Money{CurrencyCode: t.MaxValue.Currency, MinorUnits: t.MaxValue.Minor}
	}
	return out
}

// CountThresholdsFromProto reads thresholds a client set; nil for none
// (the default).
func CountThresholdsFromProto(p *fulfillmentv1.CountThresholds) (*fulfillment.CountThresholds, error) {
	if p == nil {
		return nil, nil
	}
	t := fulfillment.DefaultCountThresholds()
	if s := p.GetMaxBaseQuantity(); s != "" {
		q, err := qty.Parse(s)
		if err != nil {
			return nil, apperr.Invalid(apperr.Field("thresholds.max_base_quantity", err.Error()))
		}
		t.MaxQty = q
	}
	if v := p.GetMaxValue(); v != nil {
		t.MaxValue = &money.Money{Currency: v.GetCurrencyCode(), Minor: v.GetMinorUnits()}
	}
	return &t, nil
}

// CountLineToProto maps a line; reveal false withholds what inventory
// expected (the line is blind).
func CountLineToProto(warehouse string, l fulfillment.CountLine, reveal bool) *fulfillmentv1.CountLine {
	out := &fulfillmentv1.CountLine{
		Number: int32(l.Number), Task: resname.Format(TaskPattern, l.Task), Location: LocationName(warehouse, l.Location),
		Item: l.SKU, Lot: l.Lot, BaseUom: l.BaseUoM, CountedBaseQuantity: l.Counted.String(), Uncounted: l.Uncounted,
		State: countLineStates[l.State], ReasonCode: l.ReasonCode, CountedBy: l.CountedBy,
		CountTime: timestamppb.New(l.CountedAt), RecordTime: timestamppb.New(l.RecordedAt), ReviewedBy: l.ReviewedBy,
		ReviewReason: l.ReviewNote, ReviewTime: optionalTime(l.ReviewedAt), BookTime: optionalTime(l.BookedAt),
		Note: l.Note, ExpiryDate: l.Expiry,
	}
	if reveal {
		out.ExpectedBaseQuantity, out.DifferenceBaseQuantity = l.Expected.String(), l.Difference.String()
		if l.Value.Currency != "" {
			out.DifferenceValue = &typev1.Money{CurrencyCode: l.Value.Currency, MinorUnits: l.Value.Minor}
		}
	}
	if l.Movement != "" {
		out.Movement = "movements/" + l.Movement
	}
	if l.Recount != "" {
		out.RecountTask = resname.Format(TaskPattern, l.Recount)
	}
	return out
}
