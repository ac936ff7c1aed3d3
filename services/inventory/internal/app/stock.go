package app

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/inventory/internal/inventory"
)

// Quantity is a quantity as a client entered it.
type Quantity struct{ Value, UoM string }

// UnitCost is a price for one unit, as entered.
type UnitCost struct{ Currency, Amount, UoM string }

// Receive records stock coming in.
type Receive struct {
	RequestID, SKU, Warehouse, Location string
	Quantity                            Quantity
	Lot, ExpiryDate                     string
	Cost                                UnitCost
	Source                              inventory.SourceDoc
}

// Move moves stock between two locations of a warehouse.
type Move struct {
	RequestID, SKU, Warehouse, From, To string
	Quantity                            Quantity
	Lot                                 string
	Source                              inventory.SourceDoc
}

// Issue takes stock out of a location.
type Issue struct {
	RequestID, SKU, Warehouse, Location string
	Quantity                            Quantity
	Lot                                 string
	Source                              inventory.SourceDoc
}

// Adjust corrects stock by a signed quantity.
type Adjust struct {
	RequestID, SKU, Warehouse, Location string
	Quantity                            Quantity
	Lot, ExpiryDate, Reason             string
	Source                              inventory.SourceDoc
	// Cost values found stock of an item with no cost in the warehouse yet,
	// or whose stock there is at zero (an opening balance, possibly in a new
	// currency); otherwise found stock is valued at the current cost, and a
	// Cost in another currency than the stock's is refused.
	Cost UnitCost
}

// Count sets stock to a counted quantity.
type Count struct {
	RequestID, SKU, Warehouse, Location string
	Counted                             Quantity
	Lot, ExpiryDate                     string
	Source                              inventory.SourceDoc
	// Cost values found stock of an item with no cost in the warehouse yet,
	// or whose stock there is at zero (an opening balance, possibly in a new
	// currency); otherwise found stock is valued at the current cost, and a
	// Cost in another currency than the stock's is refused.
	Cost UnitCost
}

// Allocate reserves stock for an outbound order line.
type Allocate struct {
	RequestID, SKU, Warehouse string
	Quantity                  Quantity
	Order                     inventory.SourceDoc
	AllowPartial              bool
}

// ConfirmPick issues stock an allocation reserved.
type ConfirmPick struct {
	RequestID, AllocationID, Warehouse, Location, Lot string
	Quantity                                          Quantity
	Source                                            inventory.SourceDoc
}

func requireRequestID(id string) error {
	if strings.TrimSpace(id) == "" {
		return apperr.Invalid(apperr.Field("request_id", "is required for stock commands, so a retry is applied once"))
	}
	return nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// itemForStock loads an item that may move.
func itemForStock(ctx context.Context, tx Tx, sku string) (*inventory.Item, error) {
	sku = inventory.NormalizeSKU(sku)
	if err := tx.LockItem(ctx, sku); err != nil {
		return nil, err
	}
	it, err := tx.GetItem(ctx, sku)
	if err != nil {
		return nil, err
	}
	if it.Status == inventory.ItemBlocked {
		return nil, inventory.Refuse(inventory.ErrItemBlocked, fmt.Sprintf("item %s is blocked", it.SKU),
			apperr.Violation{Type: inventory.ReasonItemBlocked, Subject: "items/" + it.SKU, Description: "unblock the item before moving its stock"})
	}
	return it, nil
}

// locationFor loads a location; stock may not come into a blocked one.
func locationFor(ctx context.Context, tx Tx, warehouse, code string, incoming bool) (*inventory.Location, error) {
	l, err := tx.GetLocation(ctx, inventory.NormalizeCode(warehouse), inventory.NormalizeCode(code))
	if err != nil {
		return nil, err
	}
	if incoming && l.Blocked {
		subject := "warehouses/" + l.Warehouse + "/locations/" + l.Code
		return nil, inventory.Refuse(inventory.ErrLocationBlocked, "location "+subject+" is blocked and takes no stock",
			apperr.Violation{Type: inventory.ReasonLocationBlocked, Subject: subject, Description: "choose another location or unblock this one"})
	}
	return l, nil
}

// baseQty converts an entered quantity, naming field on failure.
func baseQty(it *inventory.Item, q Quantity, field string, v *apperr.Violations) inventory.Qty {
	n, err := it.ToBase(q.Value, q.UoM)
	if err != nil {
		if _, known := it.Factor(q.UoM); !known {
			v.Add(field+".uom", err.Error())
		} else {
			v.Add(field+".value", err.Error())
		}
	}
	return n
}

func enteredUoM(it *inventory.Item, uom string) string {
	if u := inventory.NormalizeUoM(uom); u != "" {
		return u
	}
	return it.BaseUoM
}

// lotFor validates the lot of a movement; lots of outgoing stock must exist.
func lotFor(ctx context.Context, tx Tx, it *inventory.Item, lot, expiry string, incoming bool, v *apperr.Violations) (string, string, error) {
	norm := strings.ToUpper(strings.TrimSpace(lot))
	known, err := tx.GetLot(ctx, it.SKU, norm)
	if err != nil {
		return "", "", err
	}
	if !incoming && known == nil && it.Tracking != inventory.TrackingNone && norm != "" {
		return "", "", apperr.NotFound("lot", it.SKU+"/"+norm)
	}
	lot, expiry, problems := it.CheckLot(lot, expiry, known)
	for _, p := range problems {
		field, desc, _ := strings.Cut(p, ": ")
		v.Add(field, desc)
	}
	if len(problems) == 0 && !incoming && known == nil && it.Tracking != inventory.TrackingNone {
		return "", "", apperr.NotFound("lot", it.SKU+"/"+lot)
	}
	return lot, expiry, nil
}

// checkSerialIn refuses stock of a serial-tracked item coming in as anything
// but one unit of a serial number that has no stock anywhere.
func checkSerialIn(ctx context.Context, tx Tx, it *inventory.Item, lot string, q inventory.Qty, v *apperr.Violations) error {
	if it.Tracking != inventory.TrackingSerial || q <= 0 {
		return nil
	}
	if q.String() != "1" {
		v.Add("quantity.value", "a serial-tracked item moves one unit per serial number")
		return nil
	}
	held, err := tx.LotOnHand(ctx, it.SKU, lot)
	if err != nil {
		return err
	}
	if held > 0 {
		return inventory.Refuse(inventory.ErrSerialInStock, fmt.Sprintf("serial number %s of item %s is already in stock", lot, it.SKU),
			apperr.Violation{Type: inventory.ReasonSerialInStock, Subject: "items/" + it.SKU + "/lots/" + lot, Description: "a serial number is one unit"})
	}
	return nil
}

// requireSource checks the business document behind a movement; one of the
// allowed types is required, and an id.
func requireSource(d inventory.SourceDoc, v *apperr.Violations, allowed ...inventory.SourceType) {
	ok := false
	for _, t := range allowed {
		ok = ok || d.Type == t
	}
	if !ok {
		v.Add("source.type", "is required: the document behind the movement, so the ledger can post it and drill down to it")
	}
	if strings.TrimSpace(d.ID) == "" {
		v.Add("source.id", "is required: the document's id, e.g. PO-1001")
	}
}

// defaultSource names the command itself when a manual movement has no
// document of its own.
func defaultSource(d inventory.SourceDoc, t inventory.SourceType, requestID string) inventory.SourceDoc {
	if d.Type == 0 && d.ID == "" {
		return inventory.SourceDoc{Type: t, ID: requestID}
	}
	return d
}

func insufficient(level *inventory.Level, need inventory.Qty) error {
	subject := levelSubject(level)
	short := need - level.Available()
	e := inventory.Refuse(inventory.ErrInsufficientStock,
		fmt.Sprintf("not enough available stock of %s in %s: need %s, available %s, short %s", level.SKU, level.Location, need, level.Available(), short),
		apperr.Violation{Type: inventory.ReasonInsufficientStock, Subject: subject, Description: "short " + short.String()})
	e.Metadata = map[string]string{"shortfall": short.String(), "available": level.Available().String(), "requested": need.String()}
	return e
}

// replayMovement answers a retried movement command with the movement it
// recorded (the result key of every movement command is the movement id).
func replayMovement(ctx context.Context) func(Tx, string) (*inventory.Movement, error) {
	return func(tx Tx, id string) (*inventory.Movement, error) { return tx.GetMovement(ctx, id) }
}

// replayAllocation answers a retried allocation command with the allocation
// it created or changed.
func replayAllocation(ctx context.Context) func(Tx, string) (*inventory.Allocation, error) {
	return func(tx Tx, id string) (*inventory.Allocation, error) { return tx.GetAllocation(ctx, id) }
}

// ReceiveStock records a receipt at its unit cost and opens a cost layer.
func (s *Service) ReceiveStock(ctx context.Context, c Receive) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ReceiveStock", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			it, err := itemForStock(ctx, tx, c.SKU)
			if err != nil {
				return nil, "", err
			}
			loc, err := locationFor(ctx, tx, c.Warehouse, c.Location, true)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q <= 0 && len(v) == 0 {
				v.Add("quantity.value", "must be greater than zero")
			}
			lot, expiry, err := lotFor(ctx, tx, it, c.Lot, c.ExpiryDate, true, &v)
			if err != nil {
				return nil, "", err
			}
			requireSource(c.Source, &v, inventory.SourcePurchaseOrder, inventory.SourceReceipt, inventory.SourceReturn, inventory.SourceTransfer)
			if err := checkSerialIn(ctx, tx, it, lot, q, &v); err != nil {
				return nil, "", err
			}
			perBase, currency := parseCost(it, c.Cost, c.Quantity.UoM, &v)
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			book, err := lockBook(ctx, tx, it, loc.Warehouse)
			if err != nil {
				return nil, "", err
			}
			if err := book.CheckCurrency(currency); err != nil {
				return nil, "", err
			}
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveReceipt, SKU: it.SKU, Warehouse: loc.Warehouse, ToLocation: loc.Code,
				Lot: lot, ExpiryDate: expiry, EnteredQty: strings.TrimSpace(c.Quantity.Value), EnteredUoM: enteredUoM(it, c.Quantity.UoM),
				BaseQty: q, Currency: currency, Source: c.Source, CreatedAt: s.stockTime(),
			}
			if m.Value, err = inventory.Value(q, perBase, "quantity.value"); err != nil {
				return nil, "", err
			}
			fix, err := stockIn(ctx, tx, it, m, book)
			if err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockReceived{Movement: *m}); err != nil {
				return nil, "", err
			}
			if err := emitCorrection(ctx, tx, fix); err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}

// stockTime is the record time of a stock command, at the precision the
// journal stores (microseconds), so that the first answer and a retry's
// replay, read back from the journal, carry the same time.
func (s *Service) stockTime() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// lockBook loads and locks the cost layers of it in warehouse.
func lockBook(ctx context.Context, tx Tx, it *inventory.Item, warehouse string) (*inventory.Book, error) {
	open, last, err := tx.LockLayers(ctx, warehouse, it.SKU)
	if err != nil {
		return nil, err
	}
	return &inventory.Book{Method: it.CostMethod, Open: open, Last: last}, nil
}

// saveLayers stores the layers a costing step changed.
func saveLayers(ctx context.Context, tx Tx, layers []*inventory.Layer) error {
	for _, l := range layers {
		if err := tx.SaveLayer(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

// maxUnitCost bounds a unit price (in major units); inventory.Value bounds
// what a movement is worth.
var maxUnitCost = big.NewRat(1_000_000_000, 1)

// parseCost validates a unit cost and returns it per base unit, in minor units
// of its currency (an ISO 4217 currency, with its own number of decimals).
// defaultUoM is the unit the cost is for when it names none.
func parseCost(it *inventory.Item, c UnitCost, defaultUoM string, v *apperr.Violations) (*big.Rat, string) {
	currency, err := inventory.NormalizeCurrency(c.Currency)
	if err != nil {
		v.Add("unit_cost.currency_code", err.Error())
	}
	amount, err := money.ParseAmount(c.Amount, currency)
	if err != nil {
		v.Add("unit_cost.amount", err.Error())
	} else if major, _ := money.ParseAmount(c.Amount, "JPY"); major.Cmp(maxUnitCost) > 0 {
		v.Add("unit_cost.amount", "is out of range")
		amount = nil
	}
	uom := c.UoM
	if strings.TrimSpace(uom) == "" {
		uom = defaultUoM
	}
	factor, known := it.Factor(uom)
	if !known {
		v.Add("unit_cost.uom", fmt.Sprintf("unit %q is not known for item %s", uom, it.SKU))
	}
	if amount == nil || !known {
		return nil, currency
	}
	return new(big.Rat).Quo(amount, factor), currency
}

// addToLevel changes a level's on hand by delta (and its allocation by
// allocated), refusing a level beyond inventory.MaxStockQty.
func addToLevel(ctx context.Context, tx Tx, warehouse, location, sku, lot string, delta, allocated inventory.Qty, at time.Time) error {
	if delta != 0 {
		level, err := tx.LockLevel(ctx, warehouse, location, sku, lot)
		if err != nil {
			return err
		}
		if err := inventory.CheckLevel(level.OnHand, delta, levelSubject(level)); err != nil {
			return err
		}
	}
	return tx.AddToLevel(ctx, warehouse, location, sku, lot, delta, allocated, at)
}

func levelSubject(level *inventory.Level) string {
	subject := "warehouses/" + level.Warehouse + "/locations/" + level.Location + "/items/" + level.SKU
	if level.Lot != "" {
		subject += "/lots/" + level.Lot
	}
	return subject
}

// stockIn books m (positive BaseQty into m.ToLocation, value and currency
// already set) into the lot, the level, the journal and the cost layers of
// book (see inventory.Book.Receive). Stock issued before it was received
// (negative layers of m's lot, items that allow negative stock) is filled
// first: that part of the receipt is valued at the provisional cost the issue
// used, and the difference to the receipt's actual cost is journalled as a
// value-only correction, which stockIn returns (nil when there is none).
func stockIn(ctx context.Context, tx Tx, it *inventory.Item, m *inventory.Movement, book *inventory.Book) (*inventory.Movement, error) {
	if err := tx.EnsureLot(ctx, &inventory.Lot{SKU: it.SKU, Lot: m.Lot, ExpiryDate: m.ExpiryDate, FirstReceivedAt: m.CreatedAt}); err != nil {
		return nil, err
	}
	if err := addToLevel(ctx, tx, m.Warehouse, m.ToLocation, it.SKU, m.Lot, m.BaseQty, 0, m.CreatedAt); err != nil {
		return nil, err
	}
	if err := tx.InsertMovement(ctx, m); err != nil {
		return nil, err
	}
	in, err := book.Receive(inventory.Layer{
		ID: m.ID, Seq: m.Seq, SKU: it.SKU, Warehouse: m.Warehouse, Lot: m.Lot, Currency: m.Currency,
		QtyIn: m.BaseQty, ValueIn: m.Value, ReceivedAt: m.CreatedAt, MovementID: m.ID,
	})
	if err != nil {
		return nil, err
	}
	if err := saveLayers(ctx, tx, in.Changed); err != nil {
		return nil, err
	}
	if in.Correction == 0 {
		return nil, nil
	}
	fix := &inventory.Movement{
		ID: newID(), Type: inventory.MoveAdjustment, SKU: it.SKU, Warehouse: m.Warehouse, ToLocation: m.ToLocation,
		Lot: m.Lot, ExpiryDate: m.ExpiryDate, EnteredQty: "0", EnteredUoM: it.BaseUoM, Value: in.Correction, Currency: m.Currency,
		ReasonCode: "NEGATIVE_STOCK_COST", Source: m.Source, CreatedAt: m.CreatedAt,
	}
	if err := tx.InsertMovement(ctx, fix); err != nil {
		return nil, err
	}
	return fix, nil
}

// emitCorrection publishes the cost correction stockIn may have journalled.
func emitCorrection(ctx context.Context, tx Tx, fix *inventory.Movement) error {
	if fix == nil {
		return nil
	}
	return tx.Emit(ctx, inventory.StockAdjusted{Movement: *fix})
}

// stockOut takes -m.BaseQty out of m.FromLocation: costs it from book (m.Value,
// m.Currency and m.Layers are set here; see inventory.Book.Issue), lowers the
// level (and its allocation by fromAllocated) and journals m. For an item that
// allows negative stock, what the layers cannot cover is valued at the
// current cost and kept as a negative layer, which stock coming in fills
// (see stockIn).
func stockOut(ctx context.Context, tx Tx, it *inventory.Item, m *inventory.Movement, book *inventory.Book, fromAllocated inventory.Qty) error {
	m.Currency = book.DefaultCurrency()
	out, err := book.Issue(m.Lot, -m.BaseQty, it.AllowNegative, inventory.Layer{
		ID: m.ID + "-negative", SKU: it.SKU, Warehouse: m.Warehouse, ReceivedAt: m.CreatedAt, MovementID: m.ID,
	})
	if err != nil {
		return err
	}
	m.Layers, m.Value = out.Takes, -out.Value
	if err := addToLevel(ctx, tx, m.Warehouse, m.FromLocation, it.SKU, m.Lot, m.BaseQty, -fromAllocated, m.CreatedAt); err != nil {
		return err
	}
	if err := tx.InsertMovement(ctx, m); err != nil {
		return err
	}
	if out.Negative != nil {
		out.Negative.Seq = m.Seq
	}
	return saveLayers(ctx, tx, out.Changed)
}

// checkAvailable refuses taking q out of level unless it is available, or the
// item allows negative stock and nothing in the level is allocated.
func checkAvailable(it *inventory.Item, level *inventory.Level, q inventory.Qty) error {
	if level.Available() >= q || (it.AllowNegative && level.Allocated == 0) {
		return nil
	}
	return insufficient(level, q)
}

// MoveStock moves available stock between two locations of one warehouse.
func (s *Service) MoveStock(ctx context.Context, c Move) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "MoveStock", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			it, err := itemForStock(ctx, tx, c.SKU)
			if err != nil {
				return nil, "", err
			}
			from, err := locationFor(ctx, tx, c.Warehouse, c.From, false)
			if err != nil {
				return nil, "", err
			}
			to, err := locationFor(ctx, tx, c.Warehouse, c.To, true)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			if from.Code == to.Code {
				v.Add("to_location", "must differ from from_location")
			}
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q <= 0 && len(v) == 0 {
				v.Add("quantity.value", "must be greater than zero")
			}
			lot, expiry, err := lotFor(ctx, tx, it, c.Lot, "", false, &v)
			if err != nil {
				return nil, "", err
			}
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			level, err := tx.LockLevel(ctx, from.Warehouse, from.Code, it.SKU, lot)
			if err != nil {
				return nil, "", err
			}
			if level.Available() < q {
				return nil, "", insufficient(level, q)
			}
			now := s.stockTime()
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveTransfer, SKU: it.SKU, Warehouse: from.Warehouse, FromLocation: from.Code, ToLocation: to.Code,
				Lot: lot, ExpiryDate: expiry, EnteredQty: strings.TrimSpace(c.Quantity.Value), EnteredUoM: enteredUoM(it, c.Quantity.UoM),
				BaseQty: q, Source: c.Source, CreatedAt: now,
			}
			if err := tx.AddToLevel(ctx, from.Warehouse, from.Code, it.SKU, lot, -q, 0, now); err != nil {
				return nil, "", err
			}
			// The moved stock keeps its age, so FIFO still sees it as old stock.
			if err := addToLevel(ctx, tx, to.Warehouse, to.Code, it.SKU, lot, q, 0, level.ReceivedAt); err != nil {
				return nil, "", err
			}
			if err := tx.InsertMovement(ctx, m); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockMoved{Movement: *m}); err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}

// IssueStock takes available stock out of a location and reports its cost.
func (s *Service) IssueStock(ctx context.Context, c Issue) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "IssueStock", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			it, err := itemForStock(ctx, tx, c.SKU)
			if err != nil {
				return nil, "", err
			}
			from, err := locationFor(ctx, tx, c.Warehouse, c.Location, false)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q <= 0 && len(v) == 0 {
				v.Add("quantity.value", "must be greater than zero")
			}
			requireSource(c.Source, &v, inventory.SourceShipment, inventory.SourceOutboundOrder, inventory.SourceAdjustment, inventory.SourceTransfer, inventory.SourceReturn)
			lot, expiry, err := lotFor(ctx, tx, it, c.Lot, "", false, &v)
			if err != nil {
				return nil, "", err
			}
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			level, err := tx.LockLevel(ctx, from.Warehouse, from.Code, it.SKU, lot)
			if err != nil {
				return nil, "", err
			}
			if err := checkAvailable(it, level, q); err != nil {
				return nil, "", err
			}
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveIssue, SKU: it.SKU, Warehouse: from.Warehouse, FromLocation: from.Code,
				Lot: lot, ExpiryDate: expiry, EnteredQty: strings.TrimSpace(c.Quantity.Value), EnteredUoM: enteredUoM(it, c.Quantity.UoM),
				BaseQty: -q, Source: c.Source, CreatedAt: s.stockTime(),
			}
			book, err := lockBook(ctx, tx, it, m.Warehouse)
			if err != nil {
				return nil, "", err
			}
			if err := stockOut(ctx, tx, it, m, book, 0); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockIssued{Movement: *m}); err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}

// AdjustStock corrects stock by a signed quantity for a reason, at current cost.
func (s *Service) AdjustStock(ctx context.Context, c Adjust) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "AdjustStock", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			it, err := itemForStock(ctx, tx, c.SKU)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q == 0 && len(v) == 0 {
				v.Add("quantity.value", "must not be zero: a signed change such as \"-2\" or \"5\"")
			}
			reason, err := inventory.NormalizeReason(c.Reason)
			if err != nil {
				v.Add("reason_code", err.Error())
			}
			loc, err := locationFor(ctx, tx, c.Warehouse, c.Location, q > 0)
			if err != nil {
				return nil, "", err
			}
			lot, expiry, err := lotFor(ctx, tx, it, c.Lot, c.ExpiryDate, q > 0, &v)
			if err != nil {
				return nil, "", err
			}
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			if err := checkSerialIn(ctx, tx, it, lot, q, &v); err != nil {
				return nil, "", err
			}
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveAdjustment, SKU: it.SKU, Warehouse: loc.Warehouse,
				Lot: lot, ExpiryDate: expiry, EnteredQty: strings.TrimSpace(c.Quantity.Value), EnteredUoM: enteredUoM(it, c.Quantity.UoM),
				BaseQty: q, ReasonCode: reason, Source: defaultSource(c.Source, inventory.SourceAdjustment, c.RequestID), CreatedAt: s.stockTime(),
			}
			if err := s.applyDelta(ctx, tx, it, loc, m, c.Cost); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockAdjusted{Movement: *m}); err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}

// applyDelta books a signed change m.BaseQty at loc: down like an issue (only
// available stock), up at the current cost (inventory.Book.CurrentCost). cost
// values the stock found when the item has no cost in the warehouse yet, or
// its stock there is at zero (an opening balance, which may start a new
// currency); otherwise the current cost applies, and a cost in another
// currency than the stock's is refused. A zero change is journalled at loc.
func (s *Service) applyDelta(ctx context.Context, tx Tx, it *inventory.Item, loc *inventory.Location, m *inventory.Movement, cost UnitCost) error {
	book, err := lockBook(ctx, tx, it, loc.Warehouse)
	if err != nil {
		return err
	}
	given := strings.TrimSpace(cost.Amount) != "" || strings.TrimSpace(cost.Currency) != ""
	var perGiven *big.Rat
	var givenCurrency string
	if given {
		var v apperr.Violations
		perGiven, givenCurrency = parseCost(it, cost, m.EnteredUoM, &v)
		if err := v.Err(); err != nil {
			return err
		}
	}
	switch {
	case m.BaseQty < 0:
		level, err := tx.LockLevel(ctx, loc.Warehouse, loc.Code, it.SKU, m.Lot)
		if err != nil {
			return err
		}
		if err := checkAvailable(it, level, -m.BaseQty); err != nil {
			return err
		}
		m.FromLocation = loc.Code
		return stockOut(ctx, tx, it, m, book, 0)
	case m.BaseQty == 0:
		// Nothing moves; the journal records where the count was taken.
		m.FromLocation, m.ToLocation, m.Currency = loc.Code, loc.Code, book.DefaultCurrency()
		return tx.InsertMovement(ctx, m)
	}
	m.ToLocation = loc.Code
	if given {
		if err := book.CheckCurrency(givenCurrency); err != nil {
			return err
		}
	}
	perUnit, ok := book.CurrentCost(m.Lot)
	m.Currency = book.DefaultCurrency()
	if given && (!ok || book.Currency() == "") {
		perUnit, m.Currency, ok = perGiven, givenCurrency, true
	}
	if !ok {
		return inventory.Refuse(inventory.ErrNoCost,
			fmt.Sprintf("item %s has no cost in warehouse %s yet: give unit_cost for the stock found (an opening balance)", it.SKU, m.Warehouse),
			apperr.Violation{Type: inventory.ReasonNoCost, Subject: "items/" + it.SKU, Description: "send unit_cost, or receive the item first"})
	}
	if m.Value, err = inventory.Value(m.BaseQty, perUnit, "quantity.value"); err != nil {
		return err
	}
	fix, err := stockIn(ctx, tx, it, m, book)
	if err != nil {
		return err
	}
	return emitCorrection(ctx, tx, fix)
}

// CountStock records a count: the level becomes the counted quantity and the
// difference is booked like an adjustment. A count below what is allocated in
// the location is refused: release or re-allocate first.
func (s *Service) CountStock(ctx context.Context, c Count) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "CountStock", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			it, err := itemForStock(ctx, tx, c.SKU)
			if err != nil {
				return nil, "", err
			}
			loc, err := locationFor(ctx, tx, c.Warehouse, c.Location, false)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			counted := baseQty(it, c.Counted, "counted_quantity", &v)
			if counted < 0 {
				v.Add("counted_quantity.value", "must not be negative")
			}
			lot, expiry, err := lotFor(ctx, tx, it, c.Lot, c.ExpiryDate, true, &v)
			if err != nil {
				return nil, "", err
			}
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			level, err := tx.LockLevel(ctx, loc.Warehouse, loc.Code, it.SKU, lot)
			if err != nil {
				return nil, "", err
			}
			if counted < level.Allocated {
				return nil, "", inventory.Refuse(inventory.ErrCountBelowAllocated,
					fmt.Sprintf("counted %s but %s is allocated in %s: release or re-allocate first", counted, level.Allocated, loc.Code),
					apperr.Violation{Type: inventory.ReasonCountBelowAllocated, Subject: "warehouses/" + loc.Warehouse + "/locations/" + loc.Code, Description: "allocated " + level.Allocated.String()})
			}
			if counted > level.OnHand && loc.Blocked {
				return nil, "", inventory.Refuse(inventory.ErrLocationBlocked, "location "+loc.Code+" is blocked and takes no stock",
					apperr.Violation{Type: inventory.ReasonLocationBlocked, Subject: "warehouses/" + loc.Warehouse + "/locations/" + loc.Code, Description: "count it after unblocking, or move the stock out"})
			}
			if it.Tracking == inventory.TrackingSerial && counted > level.OnHand {
				var sv apperr.Violations
				if err := checkSerialIn(ctx, tx, it, lot, counted-level.OnHand, &sv); err != nil {
					return nil, "", err
				}
				if err := sv.Err(); err != nil {
					return nil, "", apperr.Invalid(apperr.Field("counted_quantity.value", "a serial number is counted as 0 or 1"))
				}
			}
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveCount, SKU: it.SKU, Warehouse: loc.Warehouse,
				Lot: lot, ExpiryDate: expiry, EnteredQty: strings.TrimSpace(c.Counted.Value), EnteredUoM: enteredUoM(it, c.Counted.UoM),
				BaseQty: counted - level.OnHand, Counted: &counted, Source: defaultSource(c.Source, inventory.SourceCount, c.RequestID), CreatedAt: s.stockTime(),
			}
			if m.BaseQty > 0 {
				if err := tx.EnsureLot(ctx, &inventory.Lot{SKU: it.SKU, Lot: lot, ExpiryDate: expiry, FirstReceivedAt: m.CreatedAt}); err != nil {
					return nil, "", err
				}
			}
			if err := s.applyDelta(ctx, tx, it, loc, m, c.Cost); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockCounted{Movement: *m}); err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}

// AllocateStock reserves stock for an outbound order line (FEFO, then FIFO).
func (s *Service) AllocateStock(ctx context.Context, c Allocate) (*inventory.Allocation, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "AllocateStock", c.RequestID, c, replayAllocation(ctx),
		func(tx Tx) (*inventory.Allocation, string, error) {
			it, err := itemForStock(ctx, tx, c.SKU)
			if err != nil {
				return nil, "", err
			}
			w, err := tx.GetWarehouse(ctx, inventory.NormalizeCode(c.Warehouse))
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q <= 0 && len(v) == 0 {
				v.Add("quantity.value", "must be greater than zero")
			}
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			// Expired lots are never allocated; "today" is the warehouse's local date.
			today := s.now().In(w.Location()).Format(time.DateOnly)
			levels, err := tx.LockCandidates(ctx, w.Code, it.SKU, today)
			if err != nil {
				return nil, "", err
			}
			inventory.SortForAllocation(levels)
			lines, short := inventory.PlanAllocation(levels, q)
			if short > 0 && (!c.AllowPartial || short == q) {
				e := inventory.Refuse(inventory.ErrInsufficientStock,
					fmt.Sprintf("not enough available stock of %s in %s: need %s, short %s", it.SKU, w.Code, q, short),
					apperr.Violation{Type: inventory.ReasonInsufficientStock, Subject: "warehouses/" + w.Code + "/items/" + it.SKU, Description: "short " + short.String()})
				e.Metadata = map[string]string{"shortfall": short.String(), "requested": q.String(), "available": (q - short).String()}
				return nil, "", e
			}
			now := s.stockTime()
			a := &inventory.Allocation{
				ID: newID(), SKU: it.SKU, Warehouse: w.Code, Order: c.Order,
				RequestedQty: strings.TrimSpace(c.Quantity.Value), RequestedUoM: enteredUoM(it, c.Quantity.UoM), Requested: q,
				Lines: lines, State: inventory.AllocActive, CreatedAt: now, UpdatedAt: now,
			}
			for _, l := range lines {
				if err := tx.AddToLevel(ctx, w.Code, l.Location, it.SKU, l.Lot, 0, l.Qty, now); err != nil {
					return nil, "", err
				}
			}
			if err := tx.InsertAllocation(ctx, a); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.AllocationCreated{Allocation: *a}); err != nil {
				return nil, "", err
			}
			return a, a.ID, nil
		})
}

// lockAllocation locks an allocation's item, then the allocation: the same
// order as every other stock command.
func lockAllocation(ctx context.Context, tx Tx, id string) (*inventory.Allocation, error) {
	a, err := tx.GetAllocation(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := tx.LockItem(ctx, a.SKU); err != nil {
		return nil, err
	}
	return tx.LockAllocation(ctx, id)
}

// GetAllocation returns an allocation.
func (s *Service) GetAllocation(ctx context.Context, id string) (*inventory.Allocation, error) {
	return s.store.GetAllocation(ctx, id)
}

// ReleaseAllocation gives back what an allocation still reserves. Releasing a
// released allocation returns it unchanged.
func (s *Service) ReleaseAllocation(ctx context.Context, requestID, id string) (*inventory.Allocation, error) {
	if err := requireRequestID(requestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ReleaseAllocation", requestID, id, replayAllocation(ctx),
		func(tx Tx) (*inventory.Allocation, string, error) {
			a, err := lockAllocation(ctx, tx, id)
			if err != nil {
				return nil, "", err
			}
			switch a.State {
			case inventory.AllocReleased:
				return a, a.ID, nil
			case inventory.AllocPicked:
				return nil, "", inventory.Refuse(inventory.ErrAllocationPicked, "allocation "+a.ID+" is fully picked; nothing to release",
					apperr.Violation{Type: inventory.ReasonAllocationPicked, Subject: "allocations/" + a.ID, Description: "already picked"})
			}
			now := s.stockTime()
			for i := range a.Lines {
				l := &a.Lines[i]
				if open := l.Open(); open > 0 {
					if err := tx.AddToLevel(ctx, a.Warehouse, l.Location, a.SKU, l.Lot, 0, -open, now); err != nil {
						return nil, "", err
					}
					l.Released += open
				}
			}
			a.State, a.UpdatedAt = inventory.AllocReleased, now
			if err := tx.UpdateAllocation(ctx, a); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.AllocationReleased{Allocation: *a}); err != nil {
				return nil, "", err
			}
			return a, a.ID, nil
		})
}

// ConfirmPick issues stock an allocation reserved in one location and lot.
func (s *Service) ConfirmPick(ctx context.Context, c ConfirmPick) (*inventory.Movement, error) {
	if err := requireRequestID(c.RequestID); err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ConfirmPick", c.RequestID, c, replayMovement(ctx),
		func(tx Tx) (*inventory.Movement, string, error) {
			a, err := lockAllocation(ctx, tx, c.AllocationID)
			if err != nil {
				return nil, "", err
			}
			if a.State != inventory.AllocActive {
				return nil, "", inventory.Refuse(inventory.ErrAllocationNotActive, "allocation "+a.ID+" is not active",
					apperr.Violation{Type: inventory.ReasonAllocationNotActive, Subject: "allocations/" + a.ID, Description: "only an active allocation can be picked"})
			}
			it, err := itemForStock(ctx, tx, a.SKU)
			if err != nil {
				return nil, "", err
			}
			var v apperr.Violations
			q := baseQty(it, c.Quantity, "quantity", &v)
			if q <= 0 && len(v) == 0 {
				v.Add("quantity.value", "must be greater than zero")
			}
			if c.Warehouse != "" && inventory.NormalizeCode(c.Warehouse) != a.Warehouse {
				v.Add("location", fmt.Sprintf("allocation %s is in warehouse %s", a.ID, a.Warehouse))
			}
			loc, lot := inventory.NormalizeCode(c.Location), strings.ToUpper(strings.TrimSpace(c.Lot))
			var line *inventory.AllocLine
			for i := range a.Lines {
				if a.Lines[i].Location == loc && a.Lines[i].Lot == lot {
					line = &a.Lines[i]
				}
			}
			if line == nil {
				v.Add("location", fmt.Sprintf("allocation %s reserved nothing in location %s lot %q", a.ID, loc, lot))
			}
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			if q > line.Open() {
				return nil, "", inventory.Refuse(inventory.ErrPickExceedsAllocation,
					fmt.Sprintf("pick of %s exceeds the %s still reserved in %s", q, line.Open(), loc),
					apperr.Violation{Type: inventory.ReasonPickExceedsAllocation, Subject: "allocations/" + a.ID, Description: "reserved " + line.Open().String()})
			}
			now := s.stockTime()
			m := &inventory.Movement{
				ID: newID(), Type: inventory.MoveIssue, SKU: a.SKU, Warehouse: a.Warehouse, FromLocation: loc,
				Lot: lot, ExpiryDate: line.ExpiryDate, EnteredQty: strings.TrimSpace(c.Quantity.Value), EnteredUoM: enteredUoM(it, c.Quantity.UoM),
				BaseQty: -q, Source: c.Source, AllocationID: a.ID, CreatedAt: now,
			}
			if m.Source.Type == 0 && m.Source.ID == "" {
				m.Source = a.Order // the pick belongs to the order line the stock was reserved for
			}
			if _, err := tx.LockLevel(ctx, a.Warehouse, loc, a.SKU, lot); err != nil {
				return nil, "", err
			}
			book, err := lockBook(ctx, tx, it, m.Warehouse)
			if err != nil {
				return nil, "", err
			}
			if err := stockOut(ctx, tx, it, m, book, q); err != nil {
				return nil, "", err
			}
			line.Picked += q
			if a.Open() == 0 {
				a.State = inventory.AllocPicked
			}
			a.UpdatedAt = now
			if err := tx.UpdateAllocation(ctx, a); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.StockIssued{Movement: *m}); err != nil {
				return nil, "", err
			}
			return m, m.ID, nil
		})
}

// ListStock pages through stock levels.
func (s *Service) ListStock(ctx context.Context, f LevelFilter, page paging.Page) ([]*inventory.Level, error) {
	f.Warehouse = inventory.NormalizeCode(f.Warehouse)
	if _, err := s.store.GetWarehouse(ctx, f.Warehouse); err != nil {
		return nil, err
	}
	return s.store.ListLevels(ctx, f, page)
}

// BaseUoMs returns the base unit of each item, for listings that show quantities.
func (s *Service) BaseUoMs(ctx context.Context, skus []string) (map[string]string, error) {
	return s.store.BaseUoMs(ctx, skus)
}

// ListMovements pages through the journal.
func (s *Service) ListMovements(ctx context.Context, f MovementFilter, page paging.Page) ([]*inventory.Movement, error) {
	return s.store.ListMovements(ctx, f, page)
}

// Valuation values stock from the journal, now or as of a past time. By lot,
// the value of a moving-average item is pro-rated over its lots by quantity
// (inventory.ProrateByLot): its units all cost the pool's average, so a lot
// that is used up shows no value and the lots add up to the pool exactly. The
// journal's own split by lot would show each lot at the cost of its receipts
// less the average of its issues.
func (s *Service) Valuation(ctx context.Context, q ValuationQuery) ([]ValuationLine, error) {
	if q.AsOf.IsZero() {
		q.AsOf = s.now().UTC()
	}
	lines, err := s.store.Valuation(ctx, q)
	if err != nil {
		return nil, err
	}
	if q.ByLot {
		if lines, err = s.prorateMovingAverage(ctx, lines); err != nil {
			return nil, err
		}
	}
	// A line is at most inventory.MaxBookValue; totals over many items are
	// checked rather than left to wrap in whoever adds them up.
	totals := map[string]*big.Int{}
	for _, l := range lines {
		if totals[l.Currency] == nil {
			totals[l.Currency] = new(big.Int)
		}
		t := totals[l.Currency].Add(totals[l.Currency], big.NewInt(l.Value))
		if !t.IsInt64() {
			return nil, inventory.Refuse(inventory.ErrValuationTooLarge,
				fmt.Sprintf("the total value in %s does not fit in 64-bit minor units: ask per item", l.Currency),
				apperr.Violation{Type: inventory.ReasonValuationTooLarge, Subject: "warehouse", Description: "narrow the valuation to an item"})
		}
	}
	return lines, nil
}

// prorateMovingAverage replaces the journal's split by lot of each
// moving-average item × warehouse × currency with its value pro-rated by lot
// quantity, and drops the lines left at zero.
func (s *Service) prorateMovingAverage(ctx context.Context, lines []ValuationLine) ([]ValuationLine, error) {
	type key struct{ warehouse, sku, currency string }
	groups := map[key][]int{}
	var order []key
	methods := map[string]inventory.CostMethod{}
	for i, l := range lines {
		if l.Lot == "" {
			continue // not tracked by lot: nothing to split
		}
		if _, ok := methods[l.SKU]; !ok {
			it, err := s.store.GetItem(ctx, l.SKU)
			if err != nil {
				return nil, err
			}
			methods[l.SKU] = it.CostMethod
		}
		if methods[l.SKU] != inventory.CostMovingAverage {
			continue
		}
		k := key{l.Warehouse, l.SKU, l.Currency}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		sum := new(big.Int)
		qtys := make([]inventory.Qty, len(idx))
		for j, i := range idx {
			sum.Add(sum, big.NewInt(lines[i].Value))
			qtys[j] = lines[i].Qty
		}
		if !sum.IsInt64() {
			return nil, inventory.Refuse(inventory.ErrValuationTooLarge,
				fmt.Sprintf("the value of %s in %s does not fit in 64-bit minor units", k.sku, k.warehouse))
		}
		shares, ok := inventory.ProrateByLot(sum.Int64(), qtys)
		if !ok {
			continue // the lots' quantities cancel out: keep the journal's split
		}
		for j, i := range idx {
			lines[i].Value = shares[j]
		}
	}
	out := lines[:0]
	for _, l := range lines {
		if l.Qty != 0 || l.Value != 0 {
			out = append(out, l)
		}
	}
	return out, nil
}
