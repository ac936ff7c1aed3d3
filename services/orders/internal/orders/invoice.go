package orders

import (
	"fmt"
	"math/big"
	"time"
)

// InvoiceState is whether an invoice is paid.
type InvoiceState int

// The states: OPEN -> PARTIALLY_PAID -> PAID, as payments are applied.
const (
	InvoiceOpen InvoiceState = iota + 1
	InvoicePartiallyPaid
	InvoicePaid
)

var invoiceStateNames = map[InvoiceState]string{
	InvoiceOpen: "OPEN", InvoicePartiallyPaid: "PARTIALLY_PAID", InvoicePaid: "PAID",
}

// String is the state's name as the API spells it.
func (s InvoiceState) String() string {
	if n, ok := invoiceStateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("InvoiceState(%d)", int(s))
}

// ParseInvoiceState reads a state stored by String.
func ParseInvoiceState(s string) (InvoiceState, bool) {
	for st, n := range invoiceStateNames {
		if n == s {
			return st, true
		}
	}
	return 0, false
}

// Invoice bills one shipment of a sales order to its customer.
type Invoice struct {
	ID         string
	SalesOrder string // sales order id
	Customer   string // customer code
	Shipment   string // shipment id: one invoice per shipment
	Currency   string
	Partner    string // the sales order's partner
	State      InvoiceState
	Lines      []InvoiceLine
	// Paid is what payments applied, minor units.
	Paid      int64
	IssuedAt  time.Time
	DueAt     time.Time
	PaidAt    time.Time // zero until paid in full
	UpdatedAt time.Time
	Version   int64
}

// InvoiceLine is the shipped quantity of one sales order line, priced.
type InvoiceLine struct {
	SOLine    int
	SKU       string
	Warehouse string
	// Quantity and UoM are the shipped quantity in the order line's unit when
	// it is exact there (at most QtyScale places), else in the base unit.
	Quantity  string
	UoM       string
	BaseQty   Qty
	UnitPrice string
	TaxRate   string
	Net       int64
	Tax       int64
}

// NewInvoice prices what a shipment carried of a sales order (see
// SOLine.Price) and records it as invoiced on the order's lines. The invoice
// falls due termsDays after it is issued (at the shipment's time).
func NewInvoice(id, shipment string, so *SalesOrder, shipped []ShippedQty, termsDays int, issuedAt, now time.Time) (*Invoice, error) {
	inv := &Invoice{ID: id, SalesOrder: so.ID, Customer: so.Customer, Shipment: shipment, Currency: so.Currency,
		Partner: so.Partner, State: InvoiceOpen, IssuedAt: issuedAt.UTC(),
		DueAt: issuedAt.UTC().AddDate(0, 0, termsDays), UpdatedAt: now.UTC(), Version: 1}
	for _, s := range shipped {
		l, ok := so.Line(s.Line)
		if !ok {
			return nil, fmt.Errorf("sales order %s line %d: %w", so.ID, s.Line, ErrUnknownSOLine)
		}
		net, tax, err := l.Price(s.Qty, so.Currency)
		if err != nil {
			return nil, fmt.Errorf("invoice sales order %s line %d: %w", so.ID, s.Line, err)
		}
		il := InvoiceLine{SOLine: l.Number, SKU: l.SKU, Warehouse: l.Warehouse, BaseQty: s.Qty,
			Quantity: s.Qty.String(), UoM: l.BaseUoM, UnitPrice: l.UnitPrice, TaxRate: l.TaxRate, Net: net, Tax: tax}
		if factor, ok := new(big.Rat).SetString(l.Factor); ok && factor.Sign() > 0 {
			if q, err := ratToQty(new(big.Rat).Quo(s.Qty.Rat(), factor)); err == nil {
				il.Quantity, il.UoM = q.String(), l.UoM
			}
		}
		inv.Lines = append(inv.Lines, il)
		l.Invoiced += s.Qty
	}
	firstTime(&so.InvoicedAt, inv.IssuedAt)
	if inv.Total() > maxAmount {
		return nil, fmt.Errorf("invoice of shipment %s: the total is out of range", shipment)
	}
	return inv, nil
}

// Name is the invoice's resource name.
func (inv *Invoice) Name() string { return "invoices/" + inv.ID }

// VisibleTo reports whether a caller sees the invoice: internal callers see
// every one, a partner those of its own sales orders.
func (inv *Invoice) VisibleTo(partner string) bool { return partner == "" || inv.Partner == partner }

// NetTotal is the sum of the lines' net amounts.
func (inv *Invoice) NetTotal() int64 {
	var t int64
	for _, l := range inv.Lines {
		t += l.Net
	}
	return t
}

// TaxTotal is the sum of the lines' tax amounts.
func (inv *Invoice) TaxTotal() int64 {
	var t int64
	for _, l := range inv.Lines {
		t += l.Tax
	}
	return t
}

// Total is the amount receivable.
func (inv *Invoice) Total() int64 { return inv.NetTotal() + inv.TaxTotal() }

// Open is what is still to be paid.
func (inv *Invoice) Open() int64 { return inv.Total() - inv.Paid }

func (inv *Invoice) docID() string     { return inv.ID }
func (inv *Invoice) party() string     { return inv.Customer }
func (inv *Invoice) currency() string  { return inv.Currency }
func (inv *Invoice) openAmount() int64 { return inv.Open() }
func (inv *Invoice) dueAt() time.Time  { return inv.DueAt }
func (inv *Invoice) refusal() string   { return "" }

// settle applies amount (0 < amount <= Open) of a payment to the invoice.
func (inv *Invoice) settle(amount int64, at, now time.Time) {
	inv.Paid += amount
	switch {
	case inv.Open() == 0:
		inv.State, inv.PaidAt = InvoicePaid, at.UTC()
	default:
		inv.State = InvoicePartiallyPaid
	}
	inv.UpdatedAt = now.UTC()
	inv.Version++
}

// InvoiceIssued is the fact that an invoice was issued: the ledger books
// the receivable, the revenue and the tax.
type InvoiceIssued struct{ Invoice Invoice }
