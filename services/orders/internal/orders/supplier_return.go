package orders

import (
	"fmt"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
)

// Returns to the supplier.
//
// A RETURN resolution sends a line's excess back: the received quantity
// beyond what is allowed (OpenDiscrepancy), for an item handled in whole
// units rounded up to a whole unit so that the issue is one inventory can
// make. It needs inventory to issue the stock, so it takes three steps:
//
//  1. StartReturn records the return as in progress on the line
//     (PendingReturn: the discrepancy's number, the quantity, where from),
//     so a retry, or another caller, resumes that very return instead of
//     computing a new one;
//  2. the caller issues the stock in inventory with a request id derived
//     from the order, line and discrepancy number (ReturnRequestID), so
//     however often step 2 runs, inventory issues once;
//  3. CompleteReturn records the resolution with inventory's movement, or
//     AbandonReturn forgets the attempt when inventory refused it.
//
// The received quantity and value drop by what inventory issued, once per
// movement: the inventory issue event (StockIssued, source PURCHASE_ORDER)
// and step 3 both name the movement, and whichever comes first applies it
// (ApplyReturn); the store remembers which movements were applied.

// PendingReturn is a RETURN between its start and its recording.
type PendingReturn struct {
	// Discrepancy is the number the discrepancy gets on its line when it is
	// resolved (len(Resolutions)+1 at the start).
	Discrepancy int
	// Qty is the excess being returned, in base units.
	Qty Qty
	// Location is the location code (in the line's warehouse) and Lot the
	// lot the stock is issued from.
	Location  string
	Lot       string
	StartedAt time.Time
}

// ResolvedDiscrepancy is one resolved over-receipt discrepancy of a line.
type ResolvedDiscrepancy struct {
	// Number is the discrepancy's number on its line, from 1.
	Number int
	How    Resolution
	// Qty is the over-receipt it resolved, in base units.
	Qty Qty
	// Movement is the inventory issue of a RETURN, "movements/{id}"; "" for
	// ACCEPT and AMEND.
	Movement string
	At       time.Time
}

// ReturnFrom is where a RETURN takes the excess from, as the client gives
// it; empty fields take the line's last receipt's.
type ReturnFrom struct {
	// Location is a location code of the line's warehouse, or its resource
	// name "warehouses/{w}/locations/{code}".
	Location string
	Lot      string
}

// ReturnRequestID is the request id of the inventory issue that returns
// discrepancy number n of a line: the same for every attempt at that return,
// and never the same for two returns.
func ReturnRequestID(order string, line, n int) string {
	return fmt.Sprintf("po-return/%s/%d/%d", order, line, n)
}

// NoteReceiptPlace remembers where a receipt of a line put the stock, for a
// later RETURN's default: the location code, when the receipt was into the
// line's warehouse, and the lot.
func (po *PurchaseOrder) NoteReceiptPlace(line int, warehouse, location, lot string) {
	l, ok := po.Line(line)
	if !ok || NormalizeCode(warehouse) != l.Warehouse || strings.TrimSpace(location) == "" {
		return
	}
	l.ReceiptLocation, l.ReceiptLot = NormalizeCode(location), strings.ToUpper(strings.TrimSpace(lot))
}

// StartReturn starts (or resumes) the RETURN of a line's excess and returns
// it. A line with a return in progress resumes that one: from must then be
// empty or name its location and lot (else RETURN_IN_PROGRESS). Otherwise
// the line needs an open discrepancy (else NO_RECEIPT_DISCREPANCY) and a
// location: from's, else the last receipt's (else InvalidArgument on
// location). wholeUnits rounds the excess up to a whole base unit (never
// beyond what was received). The order changes only when a return starts.
func (po *PurchaseOrder) StartReturn(line int, from ReturnFrom, wholeUnits bool, now time.Time) (PendingReturn, error) {
	l, ok := po.Line(line)
	if !ok {
		return PendingReturn{}, apperr.Invalid(apperr.Field("line_number", fmt.Sprintf("purchase order %s has no line %d", po.ID, line)))
	}
	loc, err := l.returnLocation(from.Location)
	if err != nil {
		return PendingReturn{}, err
	}
	lot := strings.ToUpper(strings.TrimSpace(from.Lot))
	if p := l.Return; p != nil {
		if (loc != "" && loc != p.Location) || (lot != "" && lot != p.Lot) {
			return PendingReturn{}, po.returnInProgress(l)
		}
		return *p, nil
	}
	excess := po.OpenDiscrepancy(l)
	if excess == 0 {
		return PendingReturn{}, apperr.Precondition(ReasonNoDiscrepancy, fmt.Sprintf("line %d of purchase order %s has no open receipt discrepancy", line, po.ID))
	}
	if wholeUnits && excess%qtyOne != 0 {
		excess = min(excess+qtyOne-excess%qtyOne, l.Received)
	}
	if loc == "" {
		loc = l.ReceiptLocation
	}
	if lot == "" {
		lot = l.ReceiptLot
	}
	if loc == "" {
		return PendingReturn{}, apperr.Invalid(apperr.Field("location", fmt.Sprintf(
			"is required for RETURN: no receipt of line %d told where the stock went; give the location code in warehouse %s the excess is in", line, l.Warehouse)))
	}
	p := PendingReturn{Discrepancy: len(l.Resolutions) + 1, Qty: excess, Location: loc, Lot: lot, StartedAt: now.UTC()}
	l.Return = &p
	po.touch(now)
	return p, nil
}

// returnLocation reads a RETURN's location: a code, or the name of a
// location of the line's warehouse; "" when none is given.
func (l *POLine) returnLocation(given string) (string, error) {
	s := strings.TrimSpace(given)
	if w, code, ok := strings.Cut(strings.TrimPrefix(s, "warehouses/"), "/locations/"); ok && strings.HasPrefix(s, "warehouses/") {
		if NormalizeCode(w) != l.Warehouse {
			return "", apperr.Invalid(apperr.Field("location", fmt.Sprintf("must be a location of the line's warehouse %s", l.Warehouse)))
		}
		s = code
	}
	if strings.Contains(s, "/") {
		return "", apperr.Invalid(apperr.Field("location", "must be a location code (\"RCV-01\") or its name \"warehouses/{w}/locations/{code}\""))
	}
	return NormalizeCode(s), nil
}

func (po *PurchaseOrder) returnInProgress(l *POLine) error {
	r := l.Return
	e := apperr.Precondition(ReasonReturnInProgress, fmt.Sprintf(
		"line %d of purchase order %s has a return of %s %s from %s in progress (discrepancy %d); retry RETURN without a location and lot, or with the same, to complete it",
		l.Number, po.ID, r.Qty, l.BaseUoM, r.Location, r.Discrepancy),
		apperr.Violation{Type: "RETURN_IN_PROGRESS", Subject: fmt.Sprintf("%s/lines/%d", po.Name(), l.Number), Description: "complete the return first"})
	e.Metadata = map[string]string{"location": r.Location, "lot": r.Lot, "quantity": r.Qty.String()}
	return e
}

// Resolved returns the line's resolution of discrepancy n, if there is one.
func (l *POLine) Resolved(n int) (ResolvedDiscrepancy, bool) {
	for _, r := range l.Resolutions {
		if r.Number == n {
			return r, true
		}
	}
	return ResolvedDiscrepancy{}, false
}

// CompleteReturn records the return of discrepancy n as its resolution,
// with the inventory movement that issued qty (base units, positive) at
// value (minor units of currency, positive) at at. applied tells whether the
// movement is yet to be applied to the line (ApplyReturn); false when the
// issue event applied it first. It reports whether the order changed: a
// return recorded already (by a concurrent completion) changes nothing.
func (po *PurchaseOrder) CompleteReturn(line, n int, movement string, qty Qty, value int64, currency string, applied bool, at, now time.Time) (bool, error) {
	l, ok := po.Line(line)
	if !ok {
		return false, fmt.Errorf("purchase order %s line %d: %w", po.ID, line, ErrUnknownLine)
	}
	if l.Return == nil || l.Return.Discrepancy != n {
		if _, done := l.Resolved(n); done {
			return false, nil
		}
		return false, fmt.Errorf("purchase order %s line %d: no return of discrepancy %d in progress", po.ID, line, n)
	}
	if applied {
		l.applyReturn(po, qty, value, currency)
	}
	l.Resolutions = append(l.Resolutions, ResolvedDiscrepancy{Number: n, How: ResolveReturn, Qty: l.Return.Qty, Movement: movement, At: now.UTC()})
	l.Return = nil
	po.settleReceivedState()
	po.touch(now)
	return true, nil
}

// AbandonReturn forgets the return of discrepancy n in progress, after
// inventory refused to issue it: the discrepancy is open again, for any
// resolution. It reports whether the order changed.
func (po *PurchaseOrder) AbandonReturn(line, n int, now time.Time) bool {
	l, ok := po.Line(line)
	if !ok || l.Return == nil || l.Return.Discrepancy != n {
		return false
	}
	l.Return = nil
	po.touch(now)
	return true
}

// ApplyReturn takes goods sent back to the supplier out of a line: qty base
// units (positive) less received, worth value minor units of currency
// (positive; not counted in another currency than the order's, as for
// receipts). Like receipts it is a fact, recorded in every state; the caller
// applies each inventory movement once.
func (po *PurchaseOrder) ApplyReturn(line int, qty Qty, value int64, currency string, now time.Time) error {
	l, ok := po.Line(line)
	if !ok {
		return fmt.Errorf("purchase order %s line %d: %w", po.ID, line, ErrUnknownLine)
	}
	l.applyReturn(po, qty, value, currency)
	po.settleReceivedState()
	po.touch(now)
	return nil
}

func (l *POLine) applyReturn(po *PurchaseOrder, qty Qty, value int64, currency string) {
	l.Received -= qty
	l.Returned += qty
	if currency == po.Currency {
		l.ReceivedValue -= value
	}
}

// Returning is the excess of the line's RETURN in progress; 0 when none.
func (l *POLine) Returning() Qty {
	if l.Return == nil {
		return 0
	}
	return l.Return.Qty
}
