package app

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
	"trueup.dev/platform/paging"
	"trueup.dev/services/inventory/internal/inventory"
)

// Quantity is a quantity as a client entered it.
type Quantity struct{ Value, UoM string }

// UnitCost is a price for one unit, as entered.
type UnitCost struct{ Currency, Amount, UoM string }

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
	requireDoc(d, "source", v, allowed...)
}

// requireDoc checks a business document named by field (source, order).
func requireDoc(d inventory.SourceDoc, field string, v *apperr.Violations, allowed ...inventory.SourceType) {
	ok := false
	for _, t := range allowed {
		ok = ok || d.Type == t
	}
	if !ok {
		names := make([]string, 0, len(allowed))
		for _, t := range allowed {
			names = append(names, sourceTypeNames[t])
		}
		v.Add(field+".type", "is required, one of "+strings.Join(names, ", ")+": the document behind the movement, so the ledger can post it and drill down to it")
	}
	if strings.TrimSpace(d.ID) == "" {
		v.Add(field+".id", "is required: the document's id, e.g. PO-1001")
	}
}

// sourceTypeNames are the API's names of the source document types, for messages.
var sourceTypeNames = map[inventory.SourceType]string{
	inventory.SourcePurchaseOrder: "PURCHASE_ORDER", inventory.SourceReceipt: "RECEIPT",
	inventory.SourceOutboundOrder: "OUTBOUND_ORDER", inventory.SourceShipment: "SHIPMENT",
	inventory.SourceCount: "COUNT", inventory.SourceAdjustment: "ADJUSTMENT",
	inventory.SourceTransfer: "TRANSFER", inventory.SourceReturn: "RETURN",
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

// stockTime is the record time of a stock command, at the precision the
// journal stores (microseconds), so that the first answer and a retry's
// replay, read back from the journal, carry the same time.
func (s *Service) stockTime() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// lockBook loads and locks the cost book of it in warehouse, as much of it
// as the command reaches (see StockTx.LockBook).
func lockBook(ctx context.Context, tx Tx, it *inventory.Item, warehouse string) (*inventory.Book, error) {
	return tx.LockBook(ctx, warehouse, it.SKU, it.CostMethod)
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

// addToLevel locks a level the command has not locked yet and changes it (see
// addToLocked).
func addToLevel(ctx context.Context, tx Tx, warehouse, location, sku, lot string, delta, allocated inventory.Qty, at time.Time) error {
	if delta == 0 {
		return tx.AddToLevel(ctx, warehouse, location, sku, lot, delta, allocated, at)
	}
	level, err := tx.LockLevel(ctx, warehouse, location, sku, lot)
	if err != nil {
		return err
	}
	return addToLocked(ctx, tx, level, delta, allocated, at)
}

// addToLocked changes level, as the command locked it with tx.LockLevel, by
// delta on hand (and allocated), refusing a level beyond inventory.MaxStockQty.
// The level is not locked or read again: its on hand and allocation follow
// the change, so the command may change it again (its ReceivedAt does not).
func addToLocked(ctx context.Context, tx Tx, level *inventory.Level, delta, allocated inventory.Qty, at time.Time) error {
	if delta != 0 {
		if err := inventory.CheckLevel(level.OnHand, delta, levelSubject(level)); err != nil {
			return err
		}
	}
	if err := tx.AddToLevel(ctx, level.Warehouse, level.Location, level.SKU, level.Lot, delta, allocated, at); err != nil {
		return err
	}
	level.OnHand += delta
	level.Allocated += allocated
	return nil
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
// value-only correction naming the issues it corrects, which stockIn returns
// (nil when there is none).
//
// level is m's level (m.ToLocation, m.Lot) as the command already locked it,
// or nil for stockIn to lock it.
func stockIn(ctx context.Context, tx Tx, it *inventory.Item, m *inventory.Movement, book *inventory.Book, level *inventory.Level) (*inventory.Movement, error) {
	return stockInAt(ctx, tx, it, m, book, level, m.CreatedAt)
}

// stockInAt is stockIn for stock first received at receivedAt (its age, which
// the new layer and level keep): a transfer's stock arriving.
func stockInAt(ctx context.Context, tx Tx, it *inventory.Item, m *inventory.Movement, book *inventory.Book, level *inventory.Level, receivedAt time.Time) (*inventory.Movement, error) {
	if err := tx.EnsureLot(ctx, &inventory.Lot{SKU: it.SKU, Lot: m.Lot, ExpiryDate: m.ExpiryDate, FirstReceivedAt: receivedAt}); err != nil {
		return nil, err
	}
	if level == nil {
		var err error
		if level, err = tx.LockLevel(ctx, m.Warehouse, m.ToLocation, it.SKU, m.Lot); err != nil {
			return nil, err
		}
	}
	if err := addToLocked(ctx, tx, level, m.BaseQty, 0, receivedAt); err != nil {
		return nil, err
	}
	if err := tx.InsertMovement(ctx, m); err != nil {
		return nil, err
	}
	// A negative layer (QtyIn 0) was opened by the issue it holds; a
	// moving-average pool below zero was taken by many, and names none.
	issuedBy := map[string]string{}
	for _, l := range book.Open {
		if l.QtyRemaining < 0 && l.QtyIn == 0 {
			issuedBy[l.ID] = l.MovementID
		}
	}
	in, err := book.Receive(inventory.Layer{
		ID: m.ID, Seq: m.Seq, SKU: it.SKU, Warehouse: m.Warehouse, Lot: m.Lot, Currency: m.Currency,
		QtyIn: m.BaseQty, ValueIn: m.Value, ReceivedAt: receivedAt, MovementID: m.ID,
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
		ID: newID(), Type: inventory.MoveCostCorrection, SKU: it.SKU, Warehouse: m.Warehouse, ToLocation: m.ToLocation,
		Lot: m.Lot, ExpiryDate: m.ExpiryDate, EnteredQty: "0", EnteredUoM: it.BaseUoM, Value: in.Correction, Currency: m.Currency,
		Source: m.Source, CreatedAt: m.CreatedAt, EffectiveAt: m.EffectiveAt,
	}
	byIssue := map[string]int64{}
	for i, f := range in.Fills {
		id := issuedBy[f.LayerID]
		if id == "" {
			continue
		}
		if !slices.Contains(fix.Corrects, id) {
			fix.Corrects = append(fix.Corrects, id)
		}
		byIssue[id] += in.FillCorrections[i] // each at most the correction's size: no overflow
	}
	if err := tx.InsertMovement(ctx, fix); err != nil {
		return nil, err
	}
	// A return of a corrected issue comes back at its corrected cost.
	if err := tx.InsertIssueCorrections(ctx, fix.ID, byIssue); err != nil {
		return nil, err
	}
	return fix, nil
}

// emitCorrection publishes the cost correction stockIn may have journalled.
func emitCorrection(ctx context.Context, tx Tx, fix *inventory.Movement) error {
	if fix == nil {
		return nil
	}
	return tx.Emit(ctx, inventory.StockCostCorrected{Movement: *fix})
}

// stockOut takes -m.BaseQty out of m.FromLocation: costs it from book (m.Value,
// m.Currency and m.Layers are set here; see inventory.Book.Issue), lowers the
// level (and its allocation by fromAllocated) and journals m. For an item that
// allows negative stock, what the layers cannot cover is valued at the
// current cost and kept as a negative layer, which stock coming in fills
// (see stockIn). level is m's level (m.FromLocation, m.Lot) as the command
// locked it (and checked what it may take from it).
func stockOut(ctx context.Context, tx Tx, it *inventory.Item, m *inventory.Movement, book *inventory.Book, level *inventory.Level, fromAllocated inventory.Qty) error {
	m.Currency = book.DefaultCurrency()
	out, err := book.Issue(m.Lot, -m.BaseQty, it.AllowNegative, inventory.Layer{
		ID: m.ID + "-negative", SKU: it.SKU, Warehouse: m.Warehouse, ReceivedAt: m.CreatedAt, MovementID: m.ID,
	})
	if err != nil {
		return err
	}
	m.Layers, m.Value = out.Takes, -out.Value
	if err := addToLocked(ctx, tx, level, m.BaseQty, -fromAllocated, m.CreatedAt); err != nil {
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
