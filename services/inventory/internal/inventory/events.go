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
