// Package protoconv maps between the fulfillment domain and its protobuf
// contract, for the gRPC API and for the events alike.
package protoconv

import (
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/resname"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// CarrierPattern is the carrier resource name pattern.
const CarrierPattern = "carriers/*"

// CarrierToProto maps a domain carrier to the API resource.
func CarrierToProto(c *fulfillment.Carrier) *fulfillmentv1.Carrier {
	return &fulfillmentv1.Carrier{
		Name:                resname.Format(CarrierPattern, c.Code),
		Code:                c.Code,
		DisplayName:         c.DisplayName,
		TrackingUrlTemplate: c.TrackingURLTemplate,
		CreateTime:          timestamppb.New(c.CreatedAt),
	}
}

// CarrierFromProto maps the client-settable fields of a carrier.
func CarrierFromProto(p *fulfillmentv1.Carrier) fulfillment.Carrier {
	return fulfillment.Carrier{
		Code:                p.GetCode(),
		DisplayName:         p.GetDisplayName(),
		TrackingURLTemplate: p.GetTrackingUrlTemplate(),
	}
}

// ExpectedReceiptPattern is the resource name pattern of expected receipts.
const ExpectedReceiptPattern = "expectedReceipts/*"

// ExpectedReceiptToProto maps an expected receipt to the API resource.
func ExpectedReceiptToProto(r *fulfillment.ExpectedReceipt) *fulfillmentv1.ExpectedReceipt {
	out := &fulfillmentv1.ExpectedReceipt{
		Name:                        resname.Format(ExpectedReceiptPattern, r.ID),
		Warehouse:                   r.Warehouse,
		State:                       ReceiptStateToProto(r.State),
		ExpectedDate:                r.ExpectedDate(),
		Partner:                     r.Partner,
		CreateTime:                  timestamppb.New(r.CreatedAt),
		Version:                     r.Version,
		Blind:                       r.Blind,
		Reference:                   r.Reference,
		CurrencyCode:                r.Currency,
		OverReceiptTolerancePercent: r.TolerancePct,
		UpdateTime:                  optionalTime(r.UpdatedAt),
		CloseTime:                   optionalTime(r.ClosedAt),
		OpenDiscrepancyCount:        int32(r.Totals().OpenDiscrepancies),
		CartonCount:                 int32(r.Cartons),
	}
	if r.PurchaseOrder != "" {
		out.PurchaseOrder = "purchaseOrders/" + r.PurchaseOrder
	}
	if r.Supplier != "" {
		out.Supplier = "suppliers/" + r.Supplier
	}
	for _, l := range r.Lines {
		out.Lines = append(out.Lines, &fulfillmentv1.ExpectedReceiptLine{PurchaseOrderLine: int32(l.POLine), Item: l.SKU,
			Quantity: &typev1.Quantity{Value: l.Quantity, Uom: l.UoM}, BaseQuantity: l.BaseQty, BaseUom: l.BaseUoM, ExpectedDate: l.ExpectedDate,
			UnitPrice: l.UnitPrice, OverReceiptTolerancePercent: l.TolerancePct,
			ReceivedBaseQuantity: l.ReceivedQty.String(), DamagedBaseQuantity: l.DamagedQty.String(),
			Lot: l.Lot, ExpiryDate: l.Expiry, UnitPriceUom: l.PriceUoM})
	}
	for _, l := range r.Received {
		out.ReceivedLines = append(out.ReceivedLines, ReceivedLineToProto(r, l))
	}
	return out
}

func optionalTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// ReceiptStateToProto maps a receipt state.
func ReceiptStateToProto(s fulfillment.ReceiptState) fulfillmentv1.ExpectedReceiptState {
	switch s {
	case fulfillment.ReceiptOpen:
		return fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_OPEN
	case fulfillment.ReceiptReceiving:
		return fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_RECEIVING
	case fulfillment.ReceiptClosed:
		return fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_CLOSED
	}
	return fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_UNSPECIFIED
}

// ReceiptStateFromProto maps a receipt state filter; ok=false for an
// unknown value, 0 for unspecified.
func ReceiptStateFromProto(s fulfillmentv1.ExpectedReceiptState) (fulfillment.ReceiptState, bool) {
	switch s {
	case fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_UNSPECIFIED:
		return 0, true
	case fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_OPEN:
		return fulfillment.ReceiptOpen, true
	case fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_RECEIVING:
		return fulfillment.ReceiptReceiving, true
	case fulfillmentv1.ExpectedReceiptState_EXPECTED_RECEIPT_STATE_CLOSED:
		return fulfillment.ReceiptClosed, true
	}
	return 0, false
}

// LocationName is an inventory location's resource name.
func LocationName(warehouse, code string) string {
	return "warehouses/" + warehouse + "/locations/" + code
}

// ReceivedLineToProto maps a scanned line of receipt r.
func ReceivedLineToProto(r *fulfillment.ExpectedReceipt, l fulfillment.ReceivedLine) *fulfillmentv1.ReceivedLine {
	out := &fulfillmentv1.ReceivedLine{
		LineNumber: int32(l.Number), PurchaseOrderLine: int32(l.POLine), Item: l.SKU, ScannedCode: l.Code,
		Quantity: &typev1.Quantity{Value: l.Quantity, Uom: l.UoM}, Lot: l.Lot, ExpiryDate: l.Expiry,
		Location: LocationName(r.Warehouse, l.Location), RecordTime: timestamppb.New(l.RecordedAt), RecordedBy: l.RecordedBy,
	}
	if l.State != fulfillment.LineHeld || l.BaseQty != 0 {
		out.BaseQuantity = l.BaseQty.String()
	}
	switch l.Condition {
	case fulfillment.ConditionGood:
		out.Condition = fulfillmentv1.Condition_CONDITION_GOOD
	case fulfillment.ConditionDamaged:
		out.Condition = fulfillmentv1.Condition_CONDITION_DAMAGED
	}
	switch l.State {
	case fulfillment.LineBooked:
		out.State = fulfillmentv1.ReceivedLineState_RECEIVED_LINE_STATE_BOOKED
	case fulfillment.LineHeld:
		out.State = fulfillmentv1.ReceivedLineState_RECEIVED_LINE_STATE_HELD
	case fulfillment.LineRejected:
		out.State = fulfillmentv1.ReceivedLineState_RECEIVED_LINE_STATE_REJECTED
	}
	if l.Movement != "" {
		out.Movement = "movements/" + l.Movement
	}
	if !l.UnitCost.IsZero() {
		out.UnitCost = &fulfillmentv1.ReceivedUnitCost{Amount: l.UnitCost.Amount, CurrencyCode: l.UnitCost.Currency, Uom: l.UnitCost.UoM}
	}
	return out
}

// UnitCostFromProto maps a unit cost (nil is none).
func UnitCostFromProto(c *fulfillmentv1.ReceivedUnitCost) fulfillment.UnitCost {
	return fulfillment.UnitCost{Amount: strings.TrimSpace(c.GetAmount()), Currency: c.GetCurrencyCode(), UoM: c.GetUom()}
}

// DiscrepancyName is a discrepancy's resource name.
func DiscrepancyName(receipt string, number int) string {
	return resname.Format(ExpectedReceiptPattern, receipt) + "/discrepancies/" + strconv.Itoa(number)
}

var discrepancyKinds = map[fulfillment.DiscrepancyKind]fulfillmentv1.DiscrepancyKind{
	fulfillment.DiscrepancyShort:             fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_SHORT,
	fulfillment.DiscrepancyOver:              fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_OVER,
	fulfillment.DiscrepancyUnexpectedItem:    fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_UNEXPECTED_ITEM,
	fulfillment.DiscrepancyDamaged:           fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_DAMAGED,
	fulfillment.DiscrepancyLotMissing:        fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_LOT_MISSING,
	fulfillment.DiscrepancyLotExpired:        fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_LOT_EXPIRED,
	fulfillment.DiscrepancyUoMNotConvertible: fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_UOM_NOT_CONVERTIBLE,
	fulfillment.DiscrepancyNoCost:            fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_NO_COST,
	fulfillment.DiscrepancyBlind:             fulfillmentv1.DiscrepancyKind_DISCREPANCY_KIND_BLIND_RECEIPT,
}

// DiscrepancyToProto maps a discrepancy; purchaseOrder is its receipt's
// order id, used when the discrepancy does not carry it.
func DiscrepancyToProto(d fulfillment.Discrepancy, purchaseOrder string) *fulfillmentv1.ReceiptDiscrepancy {
	if d.PurchaseOrder != "" {
		purchaseOrder = d.PurchaseOrder
	}
	out := &fulfillmentv1.ReceiptDiscrepancy{
		Name: DiscrepancyName(d.Receipt, d.Number), Kind: discrepancyKinds[d.Kind], LineNumber: int32(d.Line),
		PurchaseOrderLine: int32(d.POLine), Item: d.SKU, ActualBaseQuantity: d.Actual.String(), Description: d.Detail,
		State: fulfillmentv1.DiscrepancyState_DISCREPANCY_STATE_OPEN, ResolutionNote: d.Note, ResolvedBy: d.ResolvedBy,
		CreateTime: timestamppb.New(d.CreatedAt), ResolveTime: optionalTime(d.ResolvedAt), Warehouse: d.Warehouse,
	}
	if d.Kind == fulfillment.DiscrepancyShort || d.Kind == fulfillment.DiscrepancyOver {
		out.ExpectedBaseQuantity = d.Expected.String()
	}
	if d.Kind == fulfillment.DiscrepancyBlind || d.Kind == fulfillment.DiscrepancyUoMNotConvertible {
		out.ActualBaseQuantity = ""
	}
	if purchaseOrder != "" {
		out.PurchaseOrder = "purchaseOrders/" + purchaseOrder
	}
	switch d.Resolution {
	case fulfillment.ResolutionAccept:
		out.Resolution = fulfillmentv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_ACCEPT
	case fulfillment.ResolutionReject:
		out.Resolution = fulfillmentv1.DiscrepancyResolution_DISCREPANCY_RESOLUTION_REJECT
	}
	if !d.Open() {
		out.State = fulfillmentv1.DiscrepancyState_DISCREPANCY_STATE_RESOLVED
	}
	return out
}

// TaskPattern is the resource name pattern of tasks.
const TaskPattern = "tasks/*"

var taskTypes = map[fulfillment.TaskType]fulfillmentv1.TaskType{
	fulfillment.TaskPutaway: fulfillmentv1.TaskType_TASK_TYPE_PUTAWAY,
	fulfillment.TaskPick:    fulfillmentv1.TaskType_TASK_TYPE_PICK,
	fulfillment.TaskCount:   fulfillmentv1.TaskType_TASK_TYPE_COUNT,
}

var taskStates = map[fulfillment.TaskState]fulfillmentv1.TaskState{
	fulfillment.TaskOpen:      fulfillmentv1.TaskState_TASK_STATE_OPEN,
	fulfillment.TaskClaimed:   fulfillmentv1.TaskState_TASK_STATE_CLAIMED,
	fulfillment.TaskDone:      fulfillmentv1.TaskState_TASK_STATE_DONE,
	fulfillment.TaskCancelled: fulfillmentv1.TaskState_TASK_STATE_CANCELLED,
}

// TaskTypeFromProto maps a type filter; ok=false for an unknown value.
func TaskTypeFromProto(t fulfillmentv1.TaskType) (fulfillment.TaskType, bool) {
	if t == fulfillmentv1.TaskType_TASK_TYPE_UNSPECIFIED {
		return 0, true
	}
	for d, p := range taskTypes {
		if p == t {
			return d, true
		}
	}
	return 0, false
}

// TaskStateFromProto maps a state filter; ok=false for an unknown value.
func TaskStateFromProto(s fulfillmentv1.TaskState) (fulfillment.TaskState, bool) {
	if s == fulfillmentv1.TaskState_TASK_STATE_UNSPECIFIED {
		return 0, true
	}
	for d, p := range taskStates {
		if p == s {
			return d, true
		}
	}
	return 0, false
}

// TaskToProto maps a task as it is at now: a lapsed claim shows as OPEN.
func TaskToProto(k *fulfillment.Task, now time.Time) *fulfillmentv1.Task {
	out := &fulfillmentv1.Task{
		Name: resname.Format(TaskPattern, k.ID), Type: taskTypes[k.Type], Warehouse: k.Warehouse, Zone: k.Zone,
		State: taskStates[k.State], Item: k.SKU, Lot: k.Lot, BaseQuantity: k.Qty.String(), BaseUom: k.BaseUoM,
		DoneBy: k.DoneBy, CreateTime: timestamppb.New(k.CreatedAt), UpdateTime: optionalTime(k.UpdatedAt),
		DoneTime: optionalTime(k.DoneAt), Version: k.Version, Partner: k.Partner, ReceiptLine: int32(k.ReceiptLine),
	}
	if k.From != "" {
		out.FromLocation = LocationName(k.Warehouse, k.From)
	}
	if k.To != "" {
		out.ToLocation = LocationName(k.Warehouse, k.To)
	}
	if k.DoneTo != "" {
		out.DoneLocation = LocationName(k.Warehouse, k.DoneTo)
	}
	if k.Receipt != "" {
		out.Receipt = resname.Format(ExpectedReceiptPattern, k.Receipt)
	}
	if k.Movement != "" {
		out.Movement = "movements/" + k.Movement
	}
	if k.Type == fulfillment.TaskPick {
		out.Wave, out.OutboundOrder, out.SalesOrderLine = k.Wave, resname.Format(OutboundOrderPattern, k.Reference), int32(k.OrderLine)
		if k.Allocation != "" {
			out.Allocation = "allocations/" + k.Allocation
		}
	}
	if k.State == fulfillment.TaskClaimed {
		if k.Available(now) {
			out.State = fulfillmentv1.TaskState_TASK_STATE_OPEN
		} else {
			out.ClaimedBy, out.ClaimExpireTime = k.ClaimedBy, timestamppb.New(k.ClaimExpires)
		}
	}
	return out
}
