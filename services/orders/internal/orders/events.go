package orders

// SupplierCreated is the fact that a supplier was added.
type SupplierCreated struct{ Supplier Supplier }

// CustomerCreated is the fact that a customer was added.
type CustomerCreated struct{ Customer Customer }
