package protoconv

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/resname"
	"trueup.dev/services/inventory/internal/inventory"
)

// Resource name patterns of stock resources.
const (
	MovementPattern   = "movements/*"
	AllocationPattern = "allocations/*"
	TransferPattern   = "transfers/*"
)

var (
	movementTypeToProto = map[inventory.MovementType]inventoryv1.MovementType{
		inventory.MoveReceipt:    inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT,
		inventory.MoveTransfer:   inventoryv1.MovementType_MOVEMENT_TYPE_MOVE,
		inventory.MoveIssue:      inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE,
		inventory.MoveAdjustment: inventoryv1.MovementType_MOVEMENT_TYPE_ADJUSTMENT,
		inventory.MoveCount:      inventoryv1.MovementType_MOVEMENT_TYPE_COUNT,

		inventory.MoveCostCorrection: inventoryv1.MovementType_MOVEMENT_TYPE_COST_CORRECTION,
		inventory.MoveTransferOut:    inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_OUT,
		inventory.MoveTransferIn:     inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_IN,
		inventory.MoveReversal:       inventoryv1.MovementType_MOVEMENT_TYPE_REVERSAL,
		inventory.MoveReturn:         inventoryv1.MovementType_MOVEMENT_TYPE_RETURN,
	}
	sourceTypeToProto = map[inventory.SourceType]inventoryv1.SourceDocumentType{
		inventory.SourcePurchaseOrder: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER,
		inventory.SourceReceipt:       inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_RECEIPT,
		inventory.SourceOutboundOrder: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_OUTBOUND_ORDER,
		inventory.SourceShipment:      inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_SHIPMENT,
		inventory.SourceCount:         inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_COUNT,
		inventory.SourceAdjustment:    inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_ADJUSTMENT,
		inventory.SourceTransfer:      inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_TRANSFER,
		inventory.SourceReturn:        inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_RETURN,
	}
	sourceTypeFromProto    = invert(sourceTypeToProto)
	allocationStateToProto = map[inventory.AllocationState]inventoryv1.AllocationState{
		inventory.AllocActive:   inventoryv1.AllocationState_ALLOCATION_STATE_ACTIVE,
		inventory.AllocPicked:   inventoryv1.AllocationState_ALLOCATION_STATE_PICKED,
		inventory.AllocReleased: inventoryv1.AllocationState_ALLOCATION_STATE_RELEASED,
		inventory.AllocShipped:  inventoryv1.AllocationState_ALLOCATION_STATE_SHIPPED,
	}
	reasonCategoryToProto = map[inventory.ReasonCategory]inventoryv1.ReasonCategory{
		inventory.ReasonShrinkage:       inventoryv1.ReasonCategory_REASON_CATEGORY_SHRINKAGE,
		inventory.ReasonDamage:          inventoryv1.ReasonCategory_REASON_CATEGORY_DAMAGE,
		inventory.ReasonFound:           inventoryv1.ReasonCategory_REASON_CATEGORY_FOUND,
		inventory.ReasonScrap:           inventoryv1.ReasonCategory_REASON_CATEGORY_SCRAP,
		inventory.ReasonSample:          inventoryv1.ReasonCategory_REASON_CATEGORY_SAMPLE,
		inventory.ReasonWriteDown:       inventoryv1.ReasonCategory_REASON_CATEGORY_WRITE_DOWN,
		inventory.ReasonOpeningBalance:  inventoryv1.ReasonCategory_REASON_CATEGORY_OPENING_BALANCE,
		inventory.ReasonCountDifference: inventoryv1.ReasonCategory_REASON_CATEGORY_COUNT_DIFFERENCE,
	}
	reasonCategoryFromProto = invert(reasonCategoryToProto)
)

// ReasonCodePattern is the resource name pattern of reason codes.
const ReasonCodePattern = "reasonCodes/*"

// ReasonCodeToProto maps a reason code.
func ReasonCodeToProto(r *inventory.ReasonCode) *inventoryv1.ReasonCode {
	return &inventoryv1.ReasonCode{
		Name: resname.Format(ReasonCodePattern, r.Code), Code: r.Code, Description: r.Description,
		Category: reasonCategoryToProto[r.Category], Active: r.Active, CreateTime: timestamppb.New(r.CreatedAt),
	}
}

// ReasonCodeFromProto maps a reason code to create; an unknown category maps to 0.
func ReasonCodeFromProto(p *inventoryv1.ReasonCode) inventory.ReasonCode {
	return inventory.ReasonCode{Code: p.GetCode(), Description: p.GetDescription(), Category: reasonCategoryFromProto[p.GetCategory()], Active: p.GetActive()}
}

func locationName(warehouse, code string) string {
	if code == "" {
		return ""
	}
	return resname.Format(LocationPattern, warehouse, code)
}

// SourceToProto maps a source document.
func SourceToProto(d inventory.SourceDoc) *inventoryv1.SourceDocument {
	if d == (inventory.SourceDoc{}) {
		return nil
	}
	return &inventoryv1.SourceDocument{Type: sourceTypeToProto[d.Type], Id: d.ID, Line: d.Line}
}

// SourceFromProto maps a source document; an unknown type maps to 0.
func SourceFromProto(p *inventoryv1.SourceDocument) inventory.SourceDoc {
	return inventory.SourceDoc{Type: sourceTypeFromProto[p.GetType()], ID: p.GetId(), Line: p.GetLine()}
}

// MovementToProto maps a journal entry.
func MovementToProto(m *inventory.Movement) *inventoryv1.Movement {
	out := &inventoryv1.Movement{
		Name:         resname.Format(MovementPattern, m.ID),
		Type:         movementTypeToProto[m.Type],
		Item:         resname.Format(ItemPattern, m.SKU),
		Warehouse:    resname.Format(WarehousePattern, m.Warehouse),
		FromLocation: locationName(m.Warehouse, m.FromLocation),
		ToLocation:   locationName(m.Warehouse, m.ToLocation),
		Lot:          m.Lot,
		ExpiryDate:   m.ExpiryDate,
		Quantity:     &typev1.Quantity{Value: m.EnteredQty, Uom: m.EnteredUoM},
		BaseQuantity: m.BaseQty.String(),
		Source:       SourceToProto(m.Source),
		ReasonCode:   m.ReasonCode,
		CreateTime:   timestamppb.New(m.CreatedAt),
		Seq:          m.Seq,

		ReasonCategory: reasonCategoryToProto[m.ReasonCategory],
		EffectiveTime:  timestamppb.New(m.CreatedAt),
	}
	if !m.EffectiveAt.IsZero() {
		out.EffectiveTime = timestamppb.New(m.EffectiveAt)
	}
	if m.CostAmount != "" {
		out.UnitCost = &inventoryv1.UnitCost{CurrencyCode: m.Currency, Amount: m.CostAmount, Uom: m.CostUoM}
	}
	if m.Reverses != "" {
		out.ReversedMovement = resname.Format(MovementPattern, m.Reverses)
	}
	if m.Returns != "" {
		out.ReturnedMovement = resname.Format(MovementPattern, m.Returns)
	}
	out.OutboundOrder = m.Order
	if m.TransferID != "" {
		out.Transfer = resname.Format(TransferPattern, m.TransferID)
	}
	for _, id := range m.Corrects {
		out.CorrectedMovements = append(out.CorrectedMovements, resname.Format(MovementPattern, id))
	}
	if m.Currency != "" {
		out.Value = &typev1.Money{CurrencyCode: m.Currency, MinorUnits: m.Value}
	}
	if m.AllocationID != "" {
		out.Allocation = resname.Format(AllocationPattern, m.AllocationID)
	}
	if m.Counted != nil {
		out.CountedQuantity = m.Counted.String()
	}
	for _, t := range m.Layers {
		out.Layers = append(out.Layers, &inventoryv1.LayerConsumption{
			LayerId: t.LayerID, Quantity: t.Qty.String(), Value: &typev1.Money{CurrencyCode: m.Currency, MinorUnits: t.Value},
		})
	}
	return out
}

// LevelToProto maps a stock level.
func LevelToProto(l *inventory.Level, baseUoM string) *inventoryv1.StockLevel {
	return &inventoryv1.StockLevel{
		Item: resname.Format(ItemPattern, l.SKU), Location: locationName(l.Warehouse, l.Location),
		Lot: l.Lot, ExpiryDate: l.ExpiryDate, OnHand: l.OnHand.String(), Allocated: l.Allocated.String(),
		Available: l.Available().String(), BaseUom: baseUoM,
	}
}

// AllocationToProto maps an allocation.
func AllocationToProto(a *inventory.Allocation) *inventoryv1.Allocation {
	out := &inventoryv1.Allocation{
		Name:       resname.Format(AllocationPattern, a.ID),
		Item:       resname.Format(ItemPattern, a.SKU),
		Warehouse:  resname.Format(WarehousePattern, a.Warehouse),
		Order:      SourceToProto(a.Order),
		Requested:  &typev1.Quantity{Value: a.RequestedQty, Uom: a.RequestedUoM},
		Allocated:  a.Held().String(),
		Shortfall:  a.Shortfall().String(),
		State:      allocationStateToProto[a.State],
		CreateTime: timestamppb.New(a.CreatedAt),
		UpdateTime: timestamppb.New(a.UpdatedAt),
	}
	for _, l := range a.Lines {
		out.Lines = append(out.Lines, &inventoryv1.AllocationLine{
			Location: locationName(a.Warehouse, l.Location), Lot: l.Lot, ExpiryDate: l.ExpiryDate,
			Quantity: l.Qty.String(), Picked: l.Picked.String(),
		})
	}
	for _, st := range a.Staged {
		out.Staged = append(out.Staged, &inventoryv1.StagedStock{
			Location: locationName(a.Warehouse, st.Location), Lot: st.Lot, PickedFrom: locationName(a.Warehouse, st.PickedFrom),
			Quantity: st.Qty.String(), Shipped: st.Shipped.String(), Returned: st.Returned.String(),
		})
	}
	return out
}

var transferStateToProto = map[inventory.TransferState]inventoryv1.TransferState{
	inventory.TransferInTransit: inventoryv1.TransferState_TRANSFER_STATE_IN_TRANSIT,
	inventory.TransferReceived:  inventoryv1.TransferState_TRANSFER_STATE_RECEIVED,
}

// TransferToProto maps a transfer.
func TransferToProto(t *inventory.Transfer) *inventoryv1.Transfer {
	out := &inventoryv1.Transfer{
		Name:         resname.Format(TransferPattern, t.ID),
		Item:         resname.Format(ItemPattern, t.SKU),
		FromLocation: locationName(t.FromWarehouse, t.FromLocation),
		ToWarehouse:  resname.Format(WarehousePattern, t.ToWarehouse),
		ToLocation:   locationName(t.ToWarehouse, t.ToLocation),
		Lot:          t.Lot,
		ExpiryDate:   t.ExpiryDate,
		BaseQuantity: t.Qty.String(),
		Value:        &typev1.Money{CurrencyCode: t.Currency, MinorUnits: t.Value},
		State:        transferStateToProto[t.State],
		OutMovement:  resname.Format(MovementPattern, t.OutMovementID),
		Source:       SourceToProto(t.Source),
		CreateTime:   timestamppb.New(t.CreatedAt),
	}
	if !t.ReceivedAt.IsZero() {
		out.ReceiveTime = timestamppb.New(t.ReceivedAt)
	}
	for _, l := range t.Layers {
		pl := &inventoryv1.TransferLayer{
			SourceLayerId: l.SourceLayerID, Quantity: l.Qty.String(),
			Value: &typev1.Money{CurrencyCode: t.Currency, MinorUnits: l.Value}, ReceiveTime: timestamppb.New(l.ReceivedAt),
		}
		if l.InMovementID != "" {
			pl.InMovement = resname.Format(MovementPattern, l.InMovementID)
			out.InMovements = append(out.InMovements, pl.InMovement)
		}
		out.Layers = append(out.Layers, pl)
	}
	return out
}
