// Package app holds the orders use cases. It declares the storage port it needs
// (Store) and knows nothing of SQL, gRPC or NATS.
package app

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/trace"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/inbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/orders/internal/orders"
)

// CatalogConsumer names the catalog read model's consumer: the inbox scope in
// which inventory events are recorded as handled (and the durable consumer name
// on the bus, so both say the same thing).
const CatalogConsumer = "orders-catalog"

// Store is the persistence port. Reads outside a transaction see committed state.
type Store interface {
	// InTx runs fn in one transaction: all its writes and events commit together or not at all.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// InInbox runs fn in one transaction that also records eventID as handled by
	// consumer, and reports whether it ran: when the event was handled before, fn
	// does not run and applied is false.
	InInbox(ctx context.Context, consumer, eventID string, fn func(tx Tx) error) (applied bool, err error)
	// InInboxBatch applies many events in one transaction, each once per event
	// id (see inbox.ProcessBatch); an effect's failure is its own Outcome.
	InInboxBatch(ctx context.Context, consumer string, batch []Delivery) ([]inbox.Outcome, error)
	Reader
}

// Reader answers queries. Get* return apperr NotFound for an unknown key; List*
// return up to page.Limit rows with a key after page.After, in key order.
type Reader interface {
	GetSupplier(ctx context.Context, code string) (*orders.Supplier, error)
	ListSuppliers(ctx context.Context, f PartyFilter, page paging.Page) ([]*orders.Supplier, error)
	GetCustomer(ctx context.Context, code string) (*orders.Customer, error)
	ListCustomers(ctx context.Context, f PartyFilter, page paging.Page) ([]*orders.Customer, error)
	GetCatalogItem(ctx context.Context, sku string) (*orders.CatalogItem, error)
	ListCatalogItems(ctx context.Context, page paging.Page) ([]*orders.CatalogItem, error)
	// ResolveItemCode returns the SKU a cross-reference names (see
	// orders.ItemCode); NotFound when none does.
	ResolveItemCode(ctx context.Context, namespace, partner, code string) (string, error)
	GetPurchaseOrder(ctx context.Context, id string) (*orders.PurchaseOrder, error)
	ListPurchaseOrders(ctx context.Context, f POFilter, page paging.Page) ([]*orders.PurchaseOrder, error)
	GetBill(ctx context.Context, id string) (*orders.Bill, error)
	ListBills(ctx context.Context, f BillFilter, page paging.Page) ([]*orders.Bill, error)
	GetSalesOrder(ctx context.Context, id string) (*orders.SalesOrder, error)
	ListSalesOrders(ctx context.Context, f SOFilter, page paging.Page) ([]*orders.SalesOrder, error)
	GetInvoice(ctx context.Context, id string) (*orders.Invoice, error)
	// InvoiceForShipment is the invoice of a shipment; NotFound when none.
	InvoiceForShipment(ctx context.Context, shipment string) (*orders.Invoice, error)
	ListInvoices(ctx context.Context, f InvoiceFilter, page paging.Page) ([]*orders.Invoice, error)
	GetPayment(ctx context.Context, id string) (*orders.Payment, error)
	ListPayments(ctx context.Context, f PaymentFilter, page paging.Page) ([]*orders.Payment, error)
	// ReceivablesAgeing pages through customer|currency rows of open
	// invoices and unapplied payments, aged at f.AsOf.
	ReceivablesAgeing(ctx context.Context, f AgeingFilter, page paging.Page) ([]*orders.Receivables, error)
	GetSupplierPayment(ctx context.Context, id string) (*orders.SupplierPayment, error)
	ListSupplierPayments(ctx context.Context, f SupplierPaymentFilter, page paging.Page) ([]*orders.SupplierPayment, error)
	// SalesOrderStages returns the order-to-cash stage times (in the order of
	// orders.OrderToCashStages) of the sales orders confirmed in [from, to),
	// a partner's only when partner is set.
	SalesOrderStages(ctx context.Context, partner *string, from, to time.Time) ([][]time.Time, error)
	// PurchaseOrderStages does the same for purchase orders released in
	// [from, to) (orders.ProcureToPayStages).
	PurchaseOrderStages(ctx context.Context, partner *string, from, to time.Time) ([][]time.Time, error)
}

// BillsPayment is how far a purchase order's bills are paid.
type BillsPayment struct {
	Approved, Open, Held int
	LastPaid             time.Time
}

// OrderPayment is how far a sales order's invoices are paid.
type OrderPayment struct {
	Invoices, Open int
	LastPaid       time.Time
}

// PartyFilter narrows ListSuppliers and ListCustomers. VisibleTo set lists
// only the parties that partner may see (orders.Supplier.VisibleTo: its own
// and the company's); Partner set only that partner's ("" the company's).
type PartyFilter struct {
	VisibleTo     *string
	Partner       *string
	CreatedFrom   time.Time // inclusive
	CreatedBefore time.Time // exclusive
}

// Tx is the write side of one transaction.
type Tx interface {
	Reader
	// Claimer makes a command idempotent by its request id: use cases run
	// through storetx.RunCommand, which claims, replays and completes.
	storetx.Claimer
	// InsertSupplier and InsertCustomer return AlreadyExists when the code is taken.
	InsertSupplier(ctx context.Context, s *orders.Supplier) error
	InsertCustomer(ctx context.Context, c *orders.Customer) error
	// PutCatalogItem inserts or replaces the copy of an item, unless the stored copy
	// has the same or a higher source version (a concurrent newer write wins).
	PutCatalogItem(ctx context.Context, it *orders.CatalogItem) error
	// InsertPurchaseOrder writes a new order with its lines.
	InsertPurchaseOrder(ctx context.Context, po *orders.PurchaseOrder) error
	// LockPurchaseOrder loads an order for a change, holding it until the
	// transaction ends; NotFound when there is none.
	LockPurchaseOrder(ctx context.Context, id string) (*orders.PurchaseOrder, error)
	// SavePurchaseOrder writes a changed order; Conflict when its stored version
	// is no longer loadedVersion.
	SavePurchaseOrder(ctx context.Context, po *orders.PurchaseOrder, loadedVersion int64) error
	// InsertBill writes a new supplier bill with its lines; AlreadyExists when
	// the supplier already has a bill with its number.
	InsertBill(ctx context.Context, b *orders.Bill) error
	// LockBill loads a bill for a change; NotFound when there is none.
	LockBill(ctx context.Context, id string) (*orders.Bill, error)
	// SaveBill writes a changed bill's state; Conflict when its stored version
	// is no longer loadedVersion.
	SaveBill(ctx context.Context, b *orders.Bill, loadedVersion int64) error
	// LockCustomer loads a customer, holding it until the transaction ends
	// (credit checks of one customer queue).
	LockCustomer(ctx context.Context, code string) (*orders.Customer, error)
	// CreditExposure is the customer's open invoices plus confirmed orders
	// not yet invoiced, less unapplied payments, in a currency.
	CreditExposure(ctx context.Context, customer, currency string) (int64, error)
	InsertSalesOrder(ctx context.Context, so *orders.SalesOrder) error
	// LockSalesOrder loads an order for a change; NotFound when there is none.
	LockSalesOrder(ctx context.Context, id string) (*orders.SalesOrder, error)
	// SaveSalesOrder writes a changed order; Conflict when its stored version
	// is no longer loadedVersion.
	SaveSalesOrder(ctx context.Context, so *orders.SalesOrder, loadedVersion int64) error
	// InsertInvoice writes a new invoice; AlreadyExists when its shipment
	// has one.
	InsertInvoice(ctx context.Context, inv *orders.Invoice) error
	LockInvoice(ctx context.Context, id string) (*orders.Invoice, error)
	// LockOpenInvoices loads and locks a customer's open invoices in a
	// currency, earliest due first, at most limit.
	LockOpenInvoices(ctx context.Context, customer, currency string, limit int) ([]*orders.Invoice, error)
	SaveInvoice(ctx context.Context, inv *orders.Invoice, loadedVersion int64) error
	InsertPayment(ctx context.Context, p *orders.Payment) error
	// LockPayableBills loads and locks a supplier's approved bills in a
	// currency not paid in full, earliest due first, at most limit.
	LockPayableBills(ctx context.Context, supplier, currency string, limit int) ([]*orders.Bill, error)
	// PurchaseOrderPayment counts a purchase order's approved, open and held
	// bills, with the last time one was paid in full.
	PurchaseOrderPayment(ctx context.Context, order string) (BillsPayment, error)
	InsertSupplierPayment(ctx context.Context, p *orders.SupplierPayment) error
	// SalesOrderPayment counts a sales order's invoices and the open ones,
	// with the last time one was paid in full.
	SalesOrderPayment(ctx context.Context, salesOrder string) (OrderPayment, error)
	// RecordReturnMovement remembers that inventory movement (an issue
	// against line of order, qty base units worth value) is applied to the
	// order, and reports whether it is new; false when it was applied before
	// (by the issue event or by the RETURN that made it), so nothing applies
	// it twice.
	RecordReturnMovement(ctx context.Context, order string, line int, movement string, qty orders.Qty, value int64, at time.Time) (fresh bool, err error)
	// Emit records domain events in the transactional outbox.
	Emit(ctx context.Context, events ...any) error
}

// Service is the orders application.
type Service struct {
	store Store
	now   func() time.Time
	// inventory issues the stock a RETURN sends back; nil when this service
	// has no inventory to call (RETURN then answers Unavailable).
	inventory Inventory
}

// SetInventory connects the service to inventory, which RETURN resolutions
// call.
func (s *Service) SetInventory(inv Inventory) { s.inventory = inv }

// New builds the service. now may be nil (wall clock). Times are taken to
// the microsecond, the precision the store keeps, so a command's first answer
// and its replay from the store say the same.
func New(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: func() time.Time { return now().Truncate(time.Microsecond) }}
}

// CreateSupplier adds a supplier. A retry with the same requestID returns the
// supplier the first call created.
func (s *Service) CreateSupplier(ctx context.Context, requestID string, in orders.Supplier) (*orders.Supplier, error) {
	in.Partner = partnerOf(ctx)
	sup, err := orders.NewSupplier(in, s.now())
	if err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "CreateSupplier", requestID, in,
		func(tx Tx, code string) (*orders.Supplier, error) { return tx.GetSupplier(ctx, code) },
		func(tx Tx) (*orders.Supplier, string, error) {
			if err := tx.InsertSupplier(ctx, sup); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, orders.SupplierCreated{Supplier: *sup}); err != nil {
				return nil, "", err
			}
			return sup, sup.Code, nil
		})
}

// GetSupplier returns one supplier the caller may see by code (normalised
// first); another partner's answers NotFound.
func (s *Service) GetSupplier(ctx context.Context, code string) (*orders.Supplier, error) {
	code = orders.NormalizeCode(code)
	sup, err := s.store.GetSupplier(ctx, code)
	if err != nil {
		return nil, err
	}
	if !sup.VisibleTo(partnerOf(ctx)) {
		return nil, apperr.NotFound("supplier", code)
	}
	return sup, nil
}

// ListSuppliers pages through the suppliers the caller may see in code order.
func (s *Service) ListSuppliers(ctx context.Context, f PartyFilter, page paging.Page) ([]*orders.Supplier, error) {
	f.VisibleTo = partnerFilter(ctx)
	return s.store.ListSuppliers(ctx, f, page)
}

// CreateCustomer adds a customer. A retry with the same requestID returns the
// customer the first call created.
func (s *Service) CreateCustomer(ctx context.Context, requestID string, in orders.Customer) (*orders.Customer, error) {
	in.Partner = partnerOf(ctx)
	cus, err := orders.NewCustomer(in, s.now())
	if err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "CreateCustomer", requestID, in,
		func(tx Tx, code string) (*orders.Customer, error) { return tx.GetCustomer(ctx, code) },
		func(tx Tx) (*orders.Customer, string, error) {
			if err := tx.InsertCustomer(ctx, cus); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, orders.CustomerCreated{Customer: *cus}); err != nil {
				return nil, "", err
			}
			return cus, cus.Code, nil
		})
}

// GetCustomer returns one customer the caller may see by code (normalised
// first); another partner's answers NotFound.
func (s *Service) GetCustomer(ctx context.Context, code string) (*orders.Customer, error) {
	code = orders.NormalizeCode(code)
	c, err := s.store.GetCustomer(ctx, code)
	if err != nil {
		return nil, err
	}
	if !c.VisibleTo(partnerOf(ctx)) {
		return nil, apperr.NotFound("customer", code)
	}
	return c, nil
}

// ListCustomers pages through the customers the caller may see in code order.
func (s *Service) ListCustomers(ctx context.Context, f PartyFilter, page paging.Page) ([]*orders.Customer, error) {
	f.VisibleTo = partnerFilter(ctx)
	return s.store.ListCustomers(ctx, f, page)
}

// partnerFilter is the caller's partner for a list filter: nil for an
// internal caller (everything).
func partnerFilter(ctx context.Context) *string {
	if p := partnerOf(ctx); p != "" {
		return &p
	}
	return nil
}

// GetCatalogItem returns the copy of one inventory item by SKU (normalised first).
func (s *Service) GetCatalogItem(ctx context.Context, sku string) (*orders.CatalogItem, error) {
	return s.store.GetCatalogItem(ctx, orders.NormalizeSKU(sku))
}

// ListCatalogItems pages through the catalog in SKU order.
func (s *Service) ListCatalogItems(ctx context.Context, page paging.Page) ([]*orders.CatalogItem, error) {
	return s.store.ListCatalogItems(ctx, page)
}

// SyncCatalogItem applies one inventory event's view of an item to the catalog,
// exactly once per eventID: a redelivered event changes nothing (applied is false),
// and neither does an event older than the copy held (events may arrive out of
// order). An invalid item is an InvalidArgument error, which no redelivery will fix.
func (s *Service) SyncCatalogItem(ctx context.Context, eventID string, in orders.CatalogItem) (applied bool, err error) {
	if eventID == "" {
		return false, apperr.Invalid(apperr.Field("event_id", "is required to apply an event exactly once"))
	}
	it, err := orders.NewCatalogItem(in, s.now())
	if err != nil {
		return false, err
	}
	return s.store.InInbox(ctx, CatalogConsumer, eventID, func(tx Tx) error {
		held, err := tx.GetCatalogItem(ctx, it.SKU)
		if err != nil && !errors.Is(err, apperr.ErrNotFound) {
			return err
		}
		if !it.Supersedes(held) {
			return nil
		}
		return tx.PutCatalogItem(ctx, it)
	})
}

// withTrace is ctx with sc as its current span when sc is valid: the work a
// batch of events does for one of them continues that event's trace.
func withTrace(ctx context.Context, sc trace.SpanContext) context.Context {
	if !sc.IsValid() {
		return ctx
	}
	return trace.ContextWithSpanContext(ctx, sc)
}
