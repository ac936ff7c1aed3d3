package inventory

import (
	"fmt"
	"time"

	"trueup.dev/platform/apperr"
)

// Transfers between warehouses, and reversals of wrong receipts.
//
//   - A transfer issues stock from a location of the source warehouse (a
//     TRANSFER_OUT movement that consumes the source's cost layers like an
//     issue, FIFO or the pool) into transit. The transfer carries each part
//     of a layer it consumed as is: quantity, exact value and the layer's
//     receipt time (its age). While in transit its value is the transfer's
//     (GetTransfer), in neither warehouse's valuation.
//   - Receiving it books one TRANSFER_IN movement per carried layer into the
//     destination, each at exactly the value it left with, so nothing is
//     re-priced or rounded on the way: 30,000 EA worth 10,000.00 arrive worth
//     10,000.00. A FIFO destination gets one layer per carried layer (with its
//     receipt time); a moving-average one adds them to its pool. The
//     destination must value the item in the transfer's currency or hold
//     none of it (Book.CheckCurrency), as for a receipt.
//   - A reversal takes a wrong receipt back out at exactly its layer: the
//     whole layer, which must be untouched (nothing issued from it), once.
//     A moving-average receipt has no layer of its own, only its share of
//     the pool: it is reversed while it is the pool's last change (nothing
//     issued, received, adjusted or counted in that warehouse since), so
//     taking its quantity and value back out puts the pool exactly where it
//     was before it; the average is struck again from what remains (with
//     nothing left, the item has no cost until its next receipt).
//   - A customer return comes back at the cost of the issue it was shipped
//     by, not at current cost: units k..m returned of an issue of Q units
//     worth V are worth Cumulative(V, m, Q) - Cumulative(V, k-1, Q), so the
//     returns of a whole issue add up to exactly its value (the last unit
//     takes the residue). At most Q comes back, across all its returns.

// TransferState says where a transfer is.
type TransferState int

// Transfer states.
const (
	TransferInTransit TransferState = iota + 1
	TransferReceived
)

// CarriedLayer is the part of a source cost layer a transfer carries.
type CarriedLayer struct {
	SourceLayerID string
	Qty           Qty
	Value         int64
	ReceivedAt    time.Time
	// InMovementID is the TRANSFER_IN movement that booked it into the
	// destination, once received; for a FIFO item also the id of the layer
	// it became there.
	InMovementID string
}

// Transfer is stock sent from a location of one warehouse to another
// warehouse.
type Transfer struct {
	ID                          string
	SKU                         string
	FromWarehouse, FromLocation string
	ToWarehouse, ToLocation     string
	Lot, ExpiryDate             string
	Qty                         Qty
	Value                       int64
	Currency                    string
	State                       TransferState
	Layers                      []CarriedLayer
	OutMovementID               string
	Source                      SourceDoc
	CreatedAt, ReceivedAt       time.Time
}

// InMovementIDs are the TRANSFER_IN movements of a received transfer.
func (t *Transfer) InMovementIDs() []string {
	var out []string
	for _, l := range t.Layers {
		if l.InMovementID != "" {
			out = append(out, l.InMovementID)
		}
	}
	return out
}

// Reasons and sentinels of transfers, reversals and returns.
const (
	ReasonNotReturnable      = "MOVEMENT_NOT_RETURNABLE"
	ReasonReturnExceedsIssue = "RETURN_EXCEEDS_ISSUE"
	ReasonTransferReceived   = "TRANSFER_ALREADY_RECEIVED"
	ReasonNotReversible      = "MOVEMENT_NOT_REVERSIBLE"
	ReasonAlreadyReversed    = "MOVEMENT_ALREADY_REVERSED"
	ReasonReceiptConsumed    = "RECEIPT_ALREADY_ISSUED"
	ReasonTransferSameOrigin = "TRANSFER_WITHIN_WAREHOUSE"
)

var (
	// ErrNotReturnable: a return against anything but an issue.
	ErrNotReturnable = sentinel(apperr.KindFailedPrecondition, ReasonNotReturnable)
	// ErrReturnExceedsIssue: more returned than the issue took, across its
	// returns.
	ErrReturnExceedsIssue = sentinel(apperr.KindFailedPrecondition, ReasonReturnExceedsIssue)
	// ErrTransferReceived: a transfer that already arrived is received again
	// (under another request id).
	ErrTransferReceived = sentinel(apperr.KindFailedPrecondition, ReasonTransferReceived)
	// ErrNotReversible: a reversal of anything but a receipt (a reversal,
	// an issue…).
	ErrNotReversible = sentinel(apperr.KindFailedPrecondition, ReasonNotReversible)
	// ErrAlreadyReversed: a receipt reversed before.
	ErrAlreadyReversed = sentinel(apperr.KindFailedPrecondition, ReasonAlreadyReversed)
	// ErrReceiptConsumed: a receipt some of whose layer was issued (for a
	// moving-average receipt: the pool changed since).
	ErrReceiptConsumed = sentinel(apperr.KindFailedPrecondition, ReasonReceiptConsumed)
)

// Carry turns what a transfer's issue took from book into the layers it
// carries: each take with the receipt time of its layer. A take from a
// layer the book does not hold, or from negative stock, is a fault of ours.
func Carry(b *Book, out Issued) ([]CarriedLayer, error) {
	byID := map[string]*Layer{}
	for _, l := range b.Open {
		byID[l.ID] = l
	}
	if b.Last != nil {
		byID[b.Last.ID] = b.Last
	}
	carried := make([]CarriedLayer, 0, len(out.Takes))
	for _, tk := range out.Takes {
		l := byID[tk.LayerID]
		if l == nil || l.QtyIn == 0 || out.Negative != nil {
			return nil, fmt.Errorf("transfer took from layer %s, which holds no stock", tk.LayerID)
		}
		carried = append(carried, CarriedLayer{SourceLayerID: tk.LayerID, Qty: tk.Qty, Value: tk.Value, ReceivedAt: l.ReceivedAt})
	}
	return carried, nil
}

// CheckReceivable refuses receiving a transfer that already arrived.
func (t *Transfer) CheckReceivable() error {
	if t.State != TransferInTransit {
		return Refuse(ErrTransferReceived, fmt.Sprintf("transfer %s was already received in %s", t.ID, t.ToWarehouse),
			apperr.Violation{Type: ReasonTransferReceived, Subject: "transfers/" + t.ID, Description: "received at " + t.ToLocation})
	}
	return nil
}

// ReverseReceipt takes receipt orig back out of stock and returns what it
// took: for a FIFO item the whole of its layer l (left at zero); for a
// moving-average item its quantity and value out of the pool l, whose
// average is struck again (changedSince: the warehouse's book of the item
// changed after orig). reversedBy is the id of an earlier reversal of orig,
// "" if none. It refuses a reversal of anything but a receipt
// (ErrNotReversible), a second reversal (ErrAlreadyReversed), and a receipt
// whose layer was issued from, even in part, or whose pool changed since
// (ErrReceiptConsumed, naming how much or what).
func ReverseReceipt(orig *Movement, method CostMethod, l *Layer, reversedBy string, changedSince bool) (Take, error) {
	subject := "movements/" + orig.ID
	switch {
	case orig.Type == MoveReversal:
		return Take{}, Refuse(ErrNotReversible, fmt.Sprintf("movement %s is a reversal; a reversal is not reversed (receive the stock again instead)", orig.ID),
			apperr.Violation{Type: ReasonNotReversible, Subject: subject, Description: "a reversal cannot be reversed"})
	case orig.Type != MoveReceipt:
		return Take{}, Refuse(ErrNotReversible, fmt.Sprintf("movement %s is not a receipt; only a wrong receipt is reversed", orig.ID),
			apperr.Violation{Type: ReasonNotReversible, Subject: subject, Description: "only receipts are reversed"})
	case reversedBy != "":
		return Take{}, Refuse(ErrAlreadyReversed, fmt.Sprintf("receipt %s was already reversed by movement %s", orig.ID, reversedBy),
			apperr.Violation{Type: ReasonAlreadyReversed, Subject: subject, Description: "reversed by movements/" + reversedBy})
	case method == CostMovingAverage:
		return reversePooled(orig, l, changedSince)
	case l == nil:
		return Take{}, fmt.Errorf("receipt %s has no cost layer", orig.ID)
	}
	if l.QtyRemaining != l.QtyIn || l.ValueRemaining != l.ValueIn {
		issued := l.QtyIn - l.QtyRemaining
		e := Refuse(ErrReceiptConsumed, fmt.Sprintf("%s of the %s received by %s were already issued; only an untouched receipt is reversed", issued, l.QtyIn, orig.ID),
			apperr.Violation{Type: ReasonReceiptConsumed, Subject: subject, Description: "issued " + issued.String()})
		e.Metadata = map[string]string{"issued": issued.String(), "received": l.QtyIn.String()}
		return Take{}, e
	}
	tk := Take{LayerID: l.ID, Qty: l.QtyRemaining, Value: l.ValueRemaining}
	l.QtyRemaining, l.ValueRemaining = 0, 0
	return tk, nil
}

// reversePooled takes moving-average receipt orig out of pool p; see
// ReverseReceipt.
func reversePooled(orig *Movement, p *Layer, changedSince bool) (Take, error) {
	subject := "movements/" + orig.ID
	q, v := orig.BaseQty, orig.Value
	// Untouched since orig: nothing else moved the book, and the pool's
	// average was struck by orig's stock in (a receipt that filled stock
	// issued below zero leaves less than it brought, and corrected those
	// issues: that is not undone by taking it out).
	if changedSince || p == nil || p.Currency != orig.Currency || p.QtyRemaining < q ||
		p.QtyRemaining != p.QtyIn || p.ValueRemaining != p.ValueIn || (p.QtyRemaining == q && p.ValueRemaining != v) {
		e := Refuse(ErrReceiptConsumed, fmt.Sprintf("receipt %s went into the moving-average pool, and stock has moved in or out of it since; only the pool's last change is reversed: issue or adjust the stock instead", orig.ID),
			apperr.Violation{Type: ReasonReceiptConsumed, Subject: subject, Description: "the pool changed after this receipt"})
		e.Metadata = map[string]string{"received": q.String()}
		return Take{}, e
	}
	p.QtyRemaining -= q
	p.ValueRemaining -= v
	p.QtyIn, p.ValueIn = p.QtyRemaining, p.ValueRemaining
	return Take{LayerID: p.ID, Qty: q, Value: v}, nil
}

// ReturnValue is the value of n (> 0) base units returned against issue,
// of which returnedBefore came back already: the issue's value pro-rata per
// unit by the cumulative rule (see the top of this file), positive for stock
// issued at a positive cost. It refuses a return against anything but an
// issue (ErrNotReturnable) and more than the issue took less what came back
// before (ErrReturnExceedsIssue, naming what is left).
func ReturnValue(issue *Movement, returnedBefore, n Qty) (int64, error) {
	subject := "movements/" + issue.ID
	if issue.Type != MoveIssue || issue.BaseQty >= 0 {
		return 0, Refuse(ErrNotReturnable, fmt.Sprintf("movement %s is not an issue; a customer return names the issue its stock was shipped by", issue.ID),
			apperr.Violation{Type: ReasonNotReturnable, Subject: subject, Description: "name an issue movement"})
	}
	q, v := -issue.BaseQty, -issue.Value
	if left := q - returnedBefore; n > left {
		e := Refuse(ErrReturnExceedsIssue, fmt.Sprintf("issue %s took %s and %s came back already: at most %s more can be returned against it", issue.ID, q, returnedBefore, left),
			apperr.Violation{Type: ReasonReturnExceedsIssue, Subject: subject, Description: "at most " + left.String()})
		e.Metadata = map[string]string{"issued": q.String(), "returned": returnedBefore.String(), "returnable": left.String()}
		return 0, e
	}
	return Cumulative(v, returnedBefore+n, q) - Cumulative(v, returnedBefore, q), nil
}
