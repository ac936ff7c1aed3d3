package app

import (
	"strings"

	"trueup.dev/platform/apperr"
	"trueup.dev/services/inventory/internal/inventory"
)

// The Check methods are a stock command's field checks that need no stored
// state: the request id, the syntax and sign of quantities, the source
// document. A transport that refuses a request for malformed resource names
// adds them to its own violations, so the client hears of every bad field at
// once; the use cases run the same checks again, with the item's units, once
// the names resolve.

// qtySign is what a quantity must be.
type qtySign int

const (
	positive qtySign = iota
	nonZero
	nonNegative
)

func checkRequestID(id string, v *apperr.Violations) {
	if strings.TrimSpace(id) == "" {
		v.Add("request_id", "is required for stock commands, so a retry is applied once")
	}
}

// checkQty checks an entered quantity's number without the item (its unit
// needs the item, so the use case checks that).
func checkQty(q Quantity, field string, sign qtySign, v *apperr.Violations) {
	n, err := inventory.ParseQty(q.Value)
	switch {
	case err != nil:
		v.Add(field+".value", err.Error())
	case sign == positive && n <= 0:
		v.Add(field+".value", "must be greater than zero")
	case sign == nonZero && n == 0:
		v.Add(field+".value", "must not be zero: a signed change such as \"-2\" or \"5\"")
	case sign == nonNegative && n < 0:
		v.Add(field+".value", "must not be negative")
	}
}

// Check reports the receipt's stateless field violations.
func (c Receive) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	checkQty(c.Quantity, "quantity", positive, &v)
	requireSource(c.Source, &v, inventory.SourcePurchaseOrder, inventory.SourceReceipt, inventory.SourceReturn, inventory.SourceTransfer)
	return v
}

// Check reports the move's stateless field violations.
func (c Move) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	if c.From != "" && c.To != "" && inventory.NormalizeCode(c.From) == inventory.NormalizeCode(c.To) {
		v.Add("to_location", "must differ from from_location")
	}
	checkQty(c.Quantity, "quantity", positive, &v)
	return v
}

// Check reports the issue's stateless field violations.
func (c Issue) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	checkQty(c.Quantity, "quantity", positive, &v)
	requireSource(c.Source, &v, issueSources...)
	if strings.TrimSpace(c.Reason) == "" && c.Source.Type == inventory.SourceAdjustment {
		v.Add("reason_code", "is required for a scrap or write-off (an issue against an adjustment): e.g. SCRAP, DAMAGED, SAMPLE")
	}
	checkReturnToSupplier(c, &v)
	return v
}

// issueSources are the documents stock may be issued against. An issue
// against a PURCHASE_ORDER (its line) is goods returned to the supplier:
// the ledger posts it back out of GRNI, and orders takes it out of the
// line's received quantity.
var issueSources = []inventory.SourceType{inventory.SourceShipment, inventory.SourceOutboundOrder, inventory.SourceAdjustment,
	inventory.SourceTransfer, inventory.SourceReturn, inventory.SourcePurchaseOrder}

// checkReturnToSupplier refuses a reason code on a return to the supplier:
// a reason would post the issue to that reason's account instead of GRNI,
// while orders counts it as returned, and the two would no longer tie.
func checkReturnToSupplier(c Issue, v *apperr.Violations) {
	if c.Source.Type == inventory.SourcePurchaseOrder && strings.TrimSpace(c.Reason) != "" {
		v.Add("reason_code", "is not allowed on an issue against a purchase order, which returns the goods to the supplier (back out of GRNI); a scrap or write-off is an issue against an ADJUSTMENT")
	}
}

// Check reports the adjustment's stateless field violations.
func (c Adjust) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	checkQty(c.Quantity, "quantity", nonZero, &v)
	if _, err := inventory.NormalizeReason(c.Reason); err != nil {
		v.Add("reason_code", err.Error())
	}
	return v
}

// Check reports the count's stateless field violations.
func (c Count) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	checkQty(c.Counted, "counted_quantity", nonNegative, &v)
	return v
}

// Check reports the transfer's stateless field violations.
func (c Transfer) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	if c.Warehouse != "" && c.ToWarehouse != "" && inventory.NormalizeCode(c.Warehouse) == inventory.NormalizeCode(c.ToWarehouse) {
		v.Add("to_warehouse", "must differ from the source warehouse: move stock within a warehouse with MoveStock")
	}
	checkQty(c.Quantity, "quantity", positive, &v)
	requireSource(c.Source, &v, inventory.SourceTransfer)
	return v
}

// Check reports the transfer receipt's stateless field violations.
func (c ReceiveTransfer) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	return v
}

// Check reports the reversal's stateless field violations.
func (c Reverse) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	return v
}

// Check reports the return's stateless field violations.
func (c Return) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	checkQty(c.Quantity, "quantity", positive, &v)
	requireSource(c.Source, &v, inventory.SourceReturn)
	return v
}

// Check reports the allocation's stateless field violations.
func (c Allocate) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	checkQty(c.Quantity, "quantity", positive, &v)
	requireDoc(c.Order, "order", &v, inventory.SourceOutboundOrder)
	return v
}

// Check reports the release's stateless field violations.
func (c Release) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	return v
}

// Check reports the pick's stateless field violations. ConfirmPick runs it
// before it looks at the allocation: a bad request is InvalidArgument
// whatever state the allocation is in.
func (c ConfirmPick) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	checkQty(c.Quantity, "quantity", positive, &v)
	requireSource(c.Source, &v, inventory.SourceOutboundOrder, inventory.SourceShipment)
	if strings.TrimSpace(c.ToLocation) == "" {
		v.Add("to_location", "is required: the staging or shipping-dock location the picked stock goes to")
	}
	return v
}

// Check reports the shipment's stateless field violations.
func (c Ship) Check() apperr.Violations {
	var v apperr.Violations
	checkRequestID(c.RequestID, &v)
	requireSource(c.Source, &v, inventory.SourceShipment)
	return v
}
