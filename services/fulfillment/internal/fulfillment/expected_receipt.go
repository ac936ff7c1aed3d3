package fulfillment

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"trueup.dev/platform/qty"
)

// ReceiptState is where an expected receipt is.
type ReceiptState int

// The states: OPEN until the first line is recorded, RECEIVING while lines
// come in, CLOSED once closed (nothing more is recorded against it).
const (
	ReceiptOpen ReceiptState = iota + 1
	ReceiptReceiving
	ReceiptClosed
)

var receiptStates = map[ReceiptState]string{ReceiptOpen: "OPEN", ReceiptReceiving: "RECEIVING", ReceiptClosed: "CLOSED"}

// String is the state's name as the API spells it.
func (s ReceiptState) String() string {
	if n, ok := receiptStates[s]; ok {
		return n
	}
	return fmt.Sprintf("ReceiptState(%d)", int(s))
}

// ParseReceiptState reads a state stored by String.
func ParseReceiptState(s string) (ReceiptState, bool) {
	for st, n := range receiptStates {
		if n == s {
			return st, true
		}
	}
	return 0, false
}

// ExpectedReceipt is what a warehouse expects of one purchase order, and
// what was received against it: a blind receipt (goods that came without a
// purchase order or notice) has no purchase order and no expected lines.
type ExpectedReceipt struct {
	ID            string // "{purchase order id}-{WAREHOUSE}", or "BLIND-..." for a blind receipt
	PurchaseOrder string // "" for a blind receipt
	Supplier      string
	Warehouse     string
	Partner       string
	Blind         bool
	Reference     string // a blind receipt's or notice's delivery note or carrier reference
	Cartons       int    // how many cartons a shipping notice announced
	Currency      string // the purchase order's; "" for a blind receipt
	TolerancePct  string // the order's over-receipt tolerance, percent; "" is 0
	State         ReceiptState
	Lines         []ExpectedLine
	Received      []ReceivedLine
	Discrepancies []Discrepancy
	CreatedAt     time.Time
	UpdatedAt     time.Time
	ClosedAt      time.Time
	Version       int64
}

// ExpectedLine is one purchase order line expected at the warehouse.
type ExpectedLine struct {
	POLine       int
	SKU          string
	Quantity     string // as the order entered it
	UoM          string
	BaseQty      string // exact decimal in BaseUoM
	BaseUoM      string
	ExpectedDate string // "YYYY-MM-DD" or ""
	UnitPrice    string // per PriceUoM, in the receipt's currency, as the order gave it
	PriceUoM     string // the unit UnitPrice is for; "" is UoM
	TolerancePct string // the line's over-receipt tolerance; "" takes the order's
	Lot, Expiry  string // the lot a shipping notice announced, if any
	// ReceivedQty and DamagedQty are what was received against the line
	// (damaged included), in base units.
	ReceivedQty qty.Qty
	DamagedQty  qty.Qty
}

// ReleasedLine is a released purchase order line as orders' event carries it.
type ReleasedLine struct {
	Warehouse string
	ExpectedLine
}

// ReleasedOrder is a released purchase order.
type ReleasedOrder struct {
	ID, Supplier, Partner  string
	Currency, TolerancePct string
	Lines                  []ReleasedLine
}

// document names what a receipt expects against, for messages.
func (r *ExpectedReceipt) document() string {
	switch {
	case r.PurchaseOrder != "":
		return "purchase order " + r.PurchaseOrder
	case r.Blind:
		return "blind receipt " + r.ID
	}
	return "shipping notice " + r.ID
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ReceiptID is the expected receipt of an order at a warehouse: derived, so
// the same release always opens the same receipts.
func ReceiptID(order, warehouse string) string { return order + "-" + strings.ToUpper(warehouse) }

// ExpectedReceipts opens one expected receipt per warehouse the order's lines
// name, in warehouse order.
func ExpectedReceipts(po ReleasedOrder, now time.Time) ([]*ExpectedReceipt, error) {
	if po.ID == "" {
		return nil, fmt.Errorf("the released purchase order has no id")
	}
	byWarehouse := map[string]*ExpectedReceipt{}
	for _, l := range po.Lines {
		wh := strings.ToUpper(strings.TrimSpace(l.Warehouse))
		if wh == "" {
			return nil, fmt.Errorf("purchase order %s line %d names no warehouse", po.ID, l.POLine)
		}
		r := byWarehouse[wh]
		if r == nil {
			r = &ExpectedReceipt{ID: ReceiptID(po.ID, wh), PurchaseOrder: po.ID, Supplier: po.Supplier, Warehouse: wh,
				Partner: po.Partner, Currency: po.Currency, TolerancePct: po.TolerancePct, State: ReceiptOpen,
				CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Version: 1}
			byWarehouse[wh] = r
		}
		r.Lines = append(r.Lines, l.ExpectedLine)
	}
	if len(byWarehouse) == 0 {
		return nil, fmt.Errorf("purchase order %s has no lines", po.ID)
	}
	out := make([]*ExpectedReceipt, 0, len(byWarehouse))
	for _, r := range byWarehouse {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Warehouse < out[j].Warehouse })
	return out, nil
}

// ExpectedDate is the earliest expected date of the lines; "" when none has one.
func (r *ExpectedReceipt) ExpectedDate() string {
	d := ""
	for _, l := range r.Lines {
		if l.ExpectedDate != "" && (d == "" || l.ExpectedDate < d) {
			d = l.ExpectedDate
		}
	}
	return d
}

// VisibleTo reports whether a caller sees the receipt: internal callers see
// every one, a partner those of its own purchase orders.
func (r *ExpectedReceipt) VisibleTo(partner string) bool {
	return partner == "" || r.Partner == partner
}
