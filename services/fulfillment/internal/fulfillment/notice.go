package fulfillment

import (
	"fmt"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/qty"
)

// Notice is an advance shipping notice a partner or a supplier sends: goods
// on their way to a warehouse. Naming a purchase order ties its lines to
// the order's lines (and its receipts to the order, its prices and
// tolerance); without one, each line may carry its unit cost (goods of a
// partner's own, in a warehouse that stores them).
type Notice struct {
	Warehouse     string
	PurchaseOrder string
	Supplier      string
	Reference     string
	ExpectedDate  string
	Cartons       int
	Lines         []NoticeLine
}

// NoticeLine is one line of a notice, its item resolved by the caller.
type NoticeLine struct {
	POLine   int
	SKU      string
	BaseUoM  string
	Quantity string
	UoM      string
	BaseQty  qty.Qty
	Lot      string
	Expiry   string
	UnitCost UnitCost
}

// NewNoticeReceipt is the expected receipt of notice n, with id; po is the
// purchase order's expected receipt at the warehouse when the notice names
// one (nil otherwise).
func NewNoticeReceipt(id string, n Notice, po *ExpectedReceipt, partner string, now time.Time) (*ExpectedReceipt, error) {
	var v apperr.Violations
	wh := strings.ToUpper(strings.TrimSpace(n.Warehouse))
	if wh == "" {
		v.Add("warehouse", "is required: the warehouse code the goods are sent to")
	}
	if n.ExpectedDate != "" {
		if _, err := time.Parse(time.DateOnly, n.ExpectedDate); err != nil {
			v.Add("expected_date", "must be a date, \"YYYY-MM-DD\"")
		}
	}
	if n.Cartons < 0 {
		v.Add("carton_count", "must not be negative")
	}
	if len(n.Reference) > 200 {
		v.Add("reference", "must be at most 200 characters")
	}
	if len(n.Lines) == 0 {
		v.Add("lines", "must name at least one line")
	}
	r := &ExpectedReceipt{ID: id, Supplier: strings.ToUpper(strings.TrimSpace(n.Supplier)), Warehouse: wh, Partner: partner,
		Reference: strings.TrimSpace(n.Reference), Cartons: n.Cartons, State: ReceiptOpen, CreatedAt: now.UTC(), UpdatedAt: now.UTC(), Version: 1}
	if po != nil {
		r.PurchaseOrder, r.Currency, r.TolerancePct = po.PurchaseOrder, po.Currency, po.TolerancePct
		if r.Supplier == "" {
			r.Supplier = po.Supplier
		}
	}
	seen := map[int]bool{}
	for i, nl := range n.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		if nl.BaseQty <= 0 {
			v.Add(f+".quantity.value", "must be greater than zero")
		}
		if nl.Expiry != "" {
			if _, err := time.Parse(time.DateOnly, nl.Expiry); err != nil {
				v.Add(f+".expiry_date", "must be a date, \"YYYY-MM-DD\"")
			}
		}
		el := ExpectedLine{POLine: i + 1, SKU: nl.SKU, Quantity: nl.Quantity, UoM: nl.UoM, BaseQty: nl.BaseQty.String(),
			BaseUoM: nl.BaseUoM, ExpectedDate: n.ExpectedDate, Lot: strings.ToUpper(strings.TrimSpace(nl.Lot)), Expiry: nl.Expiry}
		if po != nil {
			var pl *ExpectedLine
			for j := range po.Lines {
				if po.Lines[j].POLine == nl.POLine {
					pl = &po.Lines[j]
				}
			}
			switch {
			case pl == nil:
				v.Add(f+".purchase_order_line", fmt.Sprintf("is not a line of purchase order %s at %s", po.PurchaseOrder, po.Warehouse))
			case pl.SKU != nl.SKU:
				v.Add(f+".item", fmt.Sprintf("is %s; purchase order line %d is for %s", nl.SKU, nl.POLine, pl.SKU))
			case seen[nl.POLine]:
				v.Add(f+".purchase_order_line", "names a line another line of the notice names: one line per order line")
			default:
				el.POLine, el.UnitPrice, el.PriceUoM, el.TolerancePct = pl.POLine, pl.UnitPrice, pl.UoM, pl.TolerancePct
				seen[nl.POLine] = true
			}
		} else if !nl.UnitCost.IsZero() {
			if _, err := qty.ParseDecimal(nl.UnitCost.Amount, 6); err != nil {
				v.Add(f+".unit_cost.amount", err.Error())
			}
			c := strings.ToUpper(strings.TrimSpace(nl.UnitCost.Currency))
			switch {
			case c == "":
				v.Add(f+".unit_cost.currency_code", "is required with an amount")
			case r.Currency == "":
				r.Currency = c
			case r.Currency != c:
				v.Add(f+".unit_cost.currency_code", "must be "+r.Currency+", as the notice's other lines: one currency per notice")
			}
			el.UnitPrice, el.PriceUoM = nl.UnitCost.Amount, strings.ToUpper(strings.TrimSpace(nl.UnitCost.UoM))
		}
		r.Lines = append(r.Lines, el)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return r, nil
}
