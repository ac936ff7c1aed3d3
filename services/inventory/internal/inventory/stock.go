package inventory

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// MovementType says what a movement did to stock.
type MovementType int

// Movement types.
const (
	MoveReceipt MovementType = iota + 1
	MoveTransfer
	MoveIssue
	MoveAdjustment
	MoveCount
	// MoveCostCorrection is a value-only true-up of negative stock: its fill
	// was worth another cost than the issues it fills were valued at.
	MoveCostCorrection
	// MoveTransferOut is stock leaving its warehouse into transit (a
	// transfer); it consumes cost layers like an issue.
	MoveTransferOut
	// MoveTransferIn is stock of a transfer arriving: one per carried layer,
	// at exactly its value.
	MoveTransferIn
	// MoveReversal takes a wrong receipt back out at exactly its layer.
	MoveReversal
	// MoveReturn is stock a customer returned, valued at the cost of the
	// issue it was shipped by.
	MoveReturn
)

// SourceType is the kind of business document behind a movement.
type SourceType int

// Source document types (as in the API).
const (
	SourcePurchaseOrder SourceType = iota + 1
	SourceReceipt
	SourceOutboundOrder
	SourceShipment
	SourceCount
	SourceAdjustment
	SourceTransfer
	SourceReturn
)

// SourceDoc names the document a movement belongs to, for the ledger's drill-down.
type SourceDoc struct {
	Type SourceType
	ID   string
	Line string
}

// Lot is a lot of an item. Lot "" stands for stock of an item not tracked by lot.
type Lot struct {
	SKU             string
	Lot             string
	ExpiryDate      string // YYYY-MM-DD or ""
	FirstReceivedAt time.Time
}

// Level is the stock of one item in one location and lot.
type Level struct {
	Warehouse, Location, SKU, Lot string
	ExpiryDate                    string
	OnHand, Allocated             Qty
	// ReceivedAt is when stock first came into this level: the FIFO key.
	ReceivedAt time.Time
}

// Available is what may still be allocated, moved or issued.
func (l *Level) Available() Qty { return l.OnHand - l.Allocated }

// Movement is one entry of the append-only journal.
type Movement struct {
	ID           string
	Seq          int64
	Type         MovementType
	SKU          string
	Warehouse    string
	FromLocation string
	ToLocation   string
	Lot          string
	ExpiryDate   string
	EnteredQty   string
	EnteredUoM   string
	// BaseQty is the signed change of stock in base units (a transfer carries the
	// moved quantity, and changes no warehouse total).
	BaseQty Qty
	// Value is the signed change of stock value in minor units of Currency.
	Value    int64
	Currency string
	// Counted is the counted quantity, for counts.
	Counted    *Qty
	Layers     []Take
	Source     SourceDoc
	ReasonCode string
	// ReasonCategory is ReasonCode's category, when there is a reason.
	ReasonCategory ReasonCategory
	AllocationID   string
	// CreatedAt is when the movement was recorded; EffectiveAt when it
	// happened, as the command said (CreatedAt when it said nothing).
	CreatedAt   time.Time
	EffectiveAt time.Time
	// CostAmount and CostUoM are the unit cost the command entered (in
	// Currency), when stock came in at a given cost; "" otherwise.
	CostAmount, CostUoM string
	// Corrects names the issue movements a cost correction corrects.
	Corrects []string
	// Reverses names the movement a reversal reverses.
	Reverses string
	// TransferID names the transfer of a TRANSFER_OUT or TRANSFER_IN.
	TransferID string
	// Returns names the issue a customer return came from.
	Returns string
	// Order is the outbound order (its id) stock was shipped for: set on a
	// shipment's issue (the allocation's order) and on a return of it, so
	// the ledger books COGS under the order its invoice names.
	Order string
}

var (
	lotPattern    = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._/-]{0,63}$`)
	reasonPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)
)

// CheckLot validates and normalises the lot and expiry of a movement into stock
// for item. known is the stored lot, if any. field prefixes violation fields.
func (it *Item) CheckLot(lot, expiry string, known *Lot) (string, string, []string) {
	lot = strings.ToUpper(strings.TrimSpace(lot))
	expiry = strings.TrimSpace(expiry)
	var problems []string
	switch it.Tracking {
	case TrackingNone:
		if lot != "" {
			problems = append(problems, "lot: item "+it.SKU+" is not tracked by lot; leave lot empty")
		}
		if expiry != "" {
			problems = append(problems, "expiry_date: item "+it.SKU+" is not tracked by lot; leave expiry_date empty")
		}
		return "", "", problems
	case TrackingLot, TrackingSerial:
		if !lotPattern.MatchString(lot) {
			problems = append(problems, "lot: is required for item "+it.SKU+": 1-64 characters of A-Z, 0-9, '.', '_', '/' or '-'")
		}
	}
	if expiry != "" {
		if _, err := time.Parse(time.DateOnly, expiry); err != nil {
			problems = append(problems, "expiry_date: must be a date YYYY-MM-DD")
		}
	}
	if known != nil {
		if expiry == "" {
			expiry = known.ExpiryDate
		} else if known.ExpiryDate != "" && expiry != known.ExpiryDate {
			problems = append(problems, fmt.Sprintf("expiry_date: lot %s expires %s, not %s", lot, known.ExpiryDate, expiry))
		}
	}
	if it.ExpiryRequired && expiry == "" {
		problems = append(problems, "expiry_date: is required for item "+it.SKU)
	}
	return lot, expiry, problems
}

// NormalizeReason checks an adjustment reason code such as "DAMAGED".
func NormalizeReason(code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if !reasonPattern.MatchString(c) {
		return "", fmt.Errorf("is required: 1-32 characters A-Z, 0-9 or '_', e.g. DAMAGED")
	}
	return c, nil
}

// Takeable says whether a location type may hold stock that is allocated and
// picked: quarantine and receiving docks hold stock that is not yet (or no
// longer) sellable.
func (t LocationType) Takeable() bool {
	switch t {
	case LocationStorage, LocationPickFace, LocationStaging:
		return true
	}
	return false
}
