package fulfillment

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ReceiptState is where an expected receipt is.
type ReceiptState int

// The states. Receiving (issue 10, next) moves an OPEN receipt on.
const (
	ReceiptOpen ReceiptState = iota + 1
)

// String is the state's name as the API spells it.
func (s ReceiptState) String() string {
	if s == ReceiptOpen {
		return "OPEN"
	}
	return fmt.Sprintf("ReceiptState(%d)", int(s))
}

// ParseReceiptState reads a state stored by String.
func ParseReceiptState(s string) (ReceiptState, bool) {
	if s == "OPEN" {
		return ReceiptOpen, true
	}
	return 0, false
}

// ExpectedReceipt is what a warehouse expects of one purchase order.
type ExpectedReceipt struct {
	ID            string // "{purchase order id}-{WAREHOUSE}"
	PurchaseOrder string
	Supplier      string
	Warehouse     string
	Partner       string
	State         ReceiptState
	Lines         []ExpectedLine
	CreatedAt     time.Time
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
}

// ReleasedLine is a released purchase order line as orders' event carries it.
type ReleasedLine struct {
	Warehouse string
	ExpectedLine
}

// ReleasedOrder is a released purchase order.
type ReleasedOrder struct {
	ID, Supplier, Partner string
	Lines                 []ReleasedLine
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
				Partner: po.Partner, State: ReceiptOpen, CreatedAt: now.UTC(), Version: 1}
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
