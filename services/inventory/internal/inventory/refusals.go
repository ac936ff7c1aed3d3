package inventory

import "trueup.dev/platform/apperr"

// Reasons a stock command is refused: the stable ErrorInfo reasons clients
// switch on, one per rule.
const (
	ReasonInsufficientStock       = "INSUFFICIENT_STOCK"
	ReasonNoCost                  = "NO_COST"
	ReasonNoCostForNegativeStock  = "NO_COST_FOR_NEGATIVE_STOCK"
	ReasonCurrencyMismatch        = "CURRENCY_MISMATCH"
	ReasonStockLimit              = "STOCK_LIMIT"
	ReasonMovementTooLarge        = "MOVEMENT_TOO_LARGE"
	ReasonCountBelowAllocated     = "COUNT_BELOW_ALLOCATED"
	ReasonCountSuperseded         = "COUNT_SUPERSEDED"
	ReasonLocationBlocked         = "LOCATION_BLOCKED"
	ReasonItemBlocked             = "ITEM_BLOCKED"
	ReasonSerialInStock           = "SERIAL_IN_STOCK"
	ReasonPickExceedsAllocation   = "PICK_EXCEEDS_ALLOCATION"
	ReasonAllocationNotActive     = "ALLOCATION_NOT_ACTIVE"
	ReasonAllocationPicked        = "ALLOCATION_PICKED"
	ReasonAllocationShipped       = "ALLOCATION_SHIPPED"
	ReasonShipExceedsPicked       = "SHIP_EXCEEDS_PICKED"
	ReasonValuationTooLarge       = "VALUATION_TOO_LARGE"
	reasonLayersDisagreeWithStock = "COST_LAYERS_DISAGREE"
)

// Sentinels for errors.Is: an *apperr.Error matches one of these when it has
// the same kind and reason (apperr.Error.Is), so
// errors.Is(err, inventory.ErrInsufficientStock) holds for every refusal of
// that rule, whatever its message and violations. platform/grpcserver maps
// the kind to the gRPC code, as for every apperr error.
var (
	// ErrInsufficientStock: less is available than the command takes.
	ErrInsufficientStock = sentinel(apperr.KindFailedPrecondition, ReasonInsufficientStock)
	// ErrNoCost: stock found (an upward adjustment or count) of an item that
	// never had a cost in the warehouse, sent without a unit cost.
	ErrNoCost = sentinel(apperr.KindFailedPrecondition, ReasonNoCost)
	// ErrNoCostForNegativeStock: an issue ahead of any receipt of the item in
	// the warehouse, so there is no cost to value the negative stock at.
	ErrNoCostForNegativeStock = sentinel(apperr.KindFailedPrecondition, ReasonNoCostForNegativeStock)
	// ErrCurrencyMismatch: a value in another currency than the one the item's
	// stock in the warehouse is valued in, while it holds stock or value.
	ErrCurrencyMismatch = sentinel(apperr.KindFailedPrecondition, ReasonCurrencyMismatch)
	// ErrStockLimit: the movement would take a level's quantity or an item's
	// book value in a warehouse beyond MaxStockQty or MaxBookValue.
	ErrStockLimit = sentinel(apperr.KindFailedPrecondition, ReasonStockLimit)
	// ErrMovementTooLarge: one movement's value is beyond MaxMovementValue.
	ErrMovementTooLarge = sentinel(apperr.KindInvalidArgument, ReasonMovementTooLarge)
	// ErrCountBelowAllocated: a count under what is allocated in the location.
	ErrCountBelowAllocated = sentinel(apperr.KindFailedPrecondition, ReasonCountBelowAllocated)
	// ErrCountSuperseded: a count taken at a time after which the level was
	// counted again (a later count already set it).
	ErrCountSuperseded = sentinel(apperr.KindFailedPrecondition, ReasonCountSuperseded)
	// ErrLocationBlocked: stock coming into a blocked location.
	ErrLocationBlocked = sentinel(apperr.KindFailedPrecondition, ReasonLocationBlocked)
	// ErrItemBlocked: stock of a blocked item moving.
	ErrItemBlocked = sentinel(apperr.KindFailedPrecondition, ReasonItemBlocked)
	// ErrSerialInStock: a serial number received while it is in stock.
	ErrSerialInStock = sentinel(apperr.KindFailedPrecondition, ReasonSerialInStock)
	// ErrPickExceedsAllocation: a pick of more than the line still reserves.
	ErrPickExceedsAllocation = sentinel(apperr.KindFailedPrecondition, ReasonPickExceedsAllocation)
	// ErrAllocationNotActive: a pick from a released or fully picked allocation.
	ErrAllocationNotActive = sentinel(apperr.KindFailedPrecondition, ReasonAllocationNotActive)
	// ErrAllocationPicked was the refusal to release a fully picked
	// allocation. Deprecated: picked stock now waits in staging and a release
	// puts it back (see Allocation.Release); no command returns it any more.
	ErrAllocationPicked = sentinel(apperr.KindFailedPrecondition, ReasonAllocationPicked)
	// ErrAllocationShipped: a release of an allocation whose stock shipped.
	ErrAllocationShipped = sentinel(apperr.KindFailedPrecondition, ReasonAllocationShipped)
	// ErrShipExceedsPicked: a shipment of more than an allocation has waiting
	// in a staging location.
	ErrShipExceedsPicked = sentinel(apperr.KindFailedPrecondition, ReasonShipExceedsPicked)
	// ErrValuationTooLarge: a valuation total does not fit in int64 minor units.
	ErrValuationTooLarge = sentinel(apperr.KindFailedPrecondition, ReasonValuationTooLarge)
	// ErrLayersDisagreeWithStock: the cost layers hold less than the stock an
	// item that does not allow negative stock issues. Levels and layers are
	// changed in the same transaction, so this is a fault of ours (Internal).
	ErrLayersDisagreeWithStock = sentinel(apperr.KindInternal, reasonLayersDisagreeWithStock)
)

func sentinel(kind apperr.Kind, reason string) *apperr.Error {
	return &apperr.Error{Kind: kind, Reason: reason}
}

// Refuse builds a refusal of rule, one of this package's sentinels, with a
// message for people and the violations that say what to do: every refusal of
// one rule carries the same kind and reason.
func Refuse(rule *apperr.Error, message string, v ...apperr.Violation) *apperr.Error {
	return &apperr.Error{Kind: rule.Kind, Reason: rule.Reason, Message: message, Violations: v}
}
