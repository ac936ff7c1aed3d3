package inventory

// ItemCreated is the fact that an item entered the item master.
type ItemCreated struct{ Item Item }

// WarehouseCreated is the fact that a warehouse was set up.
type WarehouseCreated struct{ Warehouse Warehouse }

// LocationCreated is the fact that a bin location was set up.
type LocationCreated struct{ Location Location }

// ItemUpdated is the fact that an item of the item master changed; Item is the
// new state.
type ItemUpdated struct{ Item Item }

// StockReceived is the fact that stock came in at a cost.
type StockReceived struct{ Movement Movement }

// StockMoved is the fact that stock moved between two locations.
type StockMoved struct{ Movement Movement }

// StockIssued is the fact that stock left, with the exact cost consumed.
type StockIssued struct{ Movement Movement }

// StockAdjusted is the fact that stock was corrected for a reason.
type StockAdjusted struct{ Movement Movement }

// StockCounted is the fact that a count set the stock to the counted quantity.
type StockCounted struct{ Movement Movement }

// StockPicked is the fact that reserved stock moved from its bin to staging,
// still reserved for its order; no value changed.
type StockPicked struct{ Movement Movement }

// StockCostCorrected is the fact that negative stock was filled at another
// cost than it was issued at: a value-only correction of the issues it names.
type StockCostCorrected struct{ Movement Movement }

// AllocationCreated is the fact that stock was reserved for an order line.
type AllocationCreated struct{ Allocation Allocation }

// AllocationReleased is the fact that reserved stock was given back.
type AllocationReleased struct{ Allocation Allocation }

// LocationUpdated is the fact that a location was blocked, unblocked or retyped.
type LocationUpdated struct{ Location Location }

// StockTransferredOut is the fact that stock left a warehouse on a transfer
// and is in transit, carrying its layers' values.
type StockTransferredOut struct {
	Movement Movement
	Transfer Transfer
}

// StockTransferReceived is the fact that a transfer arrived: one movement per
// carried layer, each at exactly its value.
type StockTransferReceived struct {
	Movements []Movement
	Transfer  Transfer
}

// StockReversed is the fact that a wrong receipt was taken back out at its
// layer's value.
type StockReversed struct{ Movement Movement }

// StockReturned is the fact that a customer returned stock of a shipped
// issue, valued at that cost.
type StockReturned struct{ Movement Movement }
