package inventory

import (
	"fmt"
	"math/big"
	"slices"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
)

// Costing rules, in one place. The functions here are pure: the app loads an
// item's Book in a warehouse (its layers, locked), calls Receive or Issue, and
// stores the layers they return.
//
//   - A receipt (or any stock coming in at a value) opens a cost layer holding
//     the quantity and its value: quantity x unit cost, computed exactly and
//     rounded once, half to even, to the minor unit. A FIFO item gets a layer
//     per receipt, and the layer knows its lot. A moving-average item has one
//     pooled layer per warehouse (and currency) that receipts add to.
//   - An issue of a FIFO item takes the layers of its lot oldest first; stock
//     of another lot never pays for it. A moving-average issue takes the pool.
//   - The cumulative rule: a layer's value is taken from its ORIGINAL quantity
//     Q and value V (QtyIn, ValueIn), not from what remains. Units k..m of the
//     layer are worth round(V*m/Q) - round(V*(k-1)/Q) (half to even), so the
//     value that leaves tracks the quantity that leaves to within half a minor
//     unit at every point, and the last unit takes the residue: the value out
//     is exactly the value in. A layer of 1,000,000 EA worth 10.00 issued one
//     unit at a time gives one cent every 1,000 units, not 0 for the first
//     998,001 and everything at the end. The pool's Q and V are the quantity
//     and value its current average was struck at, by the last stock in.
//   - Current cost: stock found (an upward adjustment or count without a cost
//     of its own) and stock issued ahead of a receipt are valued at the average
//     of the lot's open layers (the pool's, for moving average), else at the
//     cost of the newest layer that received stock (Book.Last): for a pool,
//     the last average cost, even after the pool emptied.
//   - Negative stock (items that allow it): what an issue cannot take from the
//     layers is valued at the current cost and kept as a negative layer of its
//     own (FIFO, one per issue, in the issue's lot) or as the pool going below
//     zero. Stock coming in fills negative layers of its lot first, oldest
//     first, at the provisional value the issue used; the difference to the
//     value the incoming stock actually has is a value-only correction.
//   - Currency: the stock of an item in a warehouse is valued in one currency
//     while any layer holds quantity or value; stock in another currency is
//     refused (convert first). Once everything is at zero a new currency may
//     start, with layers (a pool) of its own.
//   - Limits: one movement is worth at most MaxMovementValue; a level, and the
//     stock of an item in a warehouse, hold at most MaxStockQty either way; the
//     book value of an item in a warehouse stays within MaxBookValue. All sums
//     are checked, so a movement beyond a limit is refused, never wrapped.

// Limits that keep every sum of quantities and values (levels, layers, the
// journal's sums per item and warehouse, the valuation's totals) far from
// int64 overflow.
const (
	// MaxMovementValue is the largest value of one movement, in minor units
	// of its currency (10^15: USD 10 trillion, JPY 1,000 trillion).
	MaxMovementValue int64 = 1_000_000_000_000_000
	// MaxBookValue is the largest book value, positive or negative, of one
	// item in one warehouse, in minor units.
	MaxBookValue int64 = 1_000_000_000_000_000
	// MaxStockQty is the largest quantity, positive or negative, of one stock
	// level and of one item in one warehouse: 10^11 base units. One movement
	// is at most 10^9 base units (the quantity grammar's range).
	MaxStockQty Qty = 100_000_000_000 * qtyOne
)

// Layer is a cost layer: stock that came in at one cost. For a FIFO receipt
// layer QtyIn and ValueIn are what the receipt brought; for a moving-average
// pool they are the quantity and value its current average was struck at;
// a negative layer (stock issued ahead of a receipt) has QtyIn = 0.
type Layer struct {
	ID             string
	Seq            int64
	SKU, Warehouse string
	Lot            string
	Currency       string
	QtyIn          Qty
	ValueIn        int64
	QtyRemaining   Qty
	ValueRemaining int64
	ReceivedAt     time.Time
	MovementID     string
}

// Take is what one movement took from (or, for a fill, gave to) one layer.
type Take struct {
	LayerID string
	Qty     Qty
	Value   int64
}

// Cumulative is the value of the first n units of a layer of q units worth v:
// round(v*n/q), half to even, with Cumulative(v, q, q) = v. Units k..m of the
// layer are worth Cumulative(v, m, q) - Cumulative(v, k-1, q).
func Cumulative(v int64, n, q Qty) int64 {
	if n == q {
		return v
	}
	if q == 0 {
		return 0
	}
	r := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(v), big.NewInt(int64(n))), big.NewInt(int64(q)))
	out, _ := money.RoundHalfEven(r) // |v*n/q| <= |v| while 0 <= n <= q
	return out
}

// cumulativeBasis says whether l's remaining stock and value are the rest of
// its basis (QtyIn, ValueIn) by the cumulative rule, so the rule applies. It
// holds for every layer this package writes; a layer written before the rule
// (a pool that summed every receipt) is taken in proportion to what remains.
func (l *Layer) cumulativeBasis() bool {
	return l.QtyIn > 0 && l.QtyRemaining > 0 && l.QtyRemaining <= l.QtyIn &&
		l.ValueRemaining == l.ValueIn-Cumulative(l.ValueIn, l.QtyIn-l.QtyRemaining, l.QtyIn)
}

// take takes n (0 < n <= QtyRemaining) from l by the cumulative rule and
// returns the value taken.
func (l *Layer) take(n Qty) int64 {
	var v int64
	if l.cumulativeBasis() {
		v = l.ValueRemaining - (l.ValueIn - Cumulative(l.ValueIn, l.QtyIn-(l.QtyRemaining-n), l.QtyIn))
	} else {
		v = money.Share(l.ValueRemaining, int64(n), int64(l.QtyRemaining))
	}
	l.QtyRemaining -= n
	l.ValueRemaining -= v
	return v
}

// Book is the cost state of one item in one warehouse, as loaded (locked) for
// a stock command.
type Book struct {
	Method CostMethod
	// Open are the layers that hold quantity, in Seq order: all of them, or,
	// when Rest is set, those loaded so far.
	Open []*Layer
	// Last is the newest layer that received stock at a cost (QtyIn > 0), open
	// or not; nil if the item never had a cost in the warehouse.
	Last *Layer
	// Rest, when set, is the part of the book not loaded yet: the open layers
	// that are not in Open. Receive and Issue load what they reach of it, so
	// a command costs what it touches, not what the book has seen. The
	// results are the same as with every open layer in Open.
	Rest *Rest
}

// Rest is what a partly loaded Book has not loaded: the book's other open
// layers (QtyRemaining != 0), counted and summed, and how to load them. The
// Book keeps the counts and sums up to date as it loads layers.
type Rest struct {
	// Layers, Qty and Value count and sum the layers not loaded.
	Layers int
	Qty    Qty
	Value  int64
	// Currency is theirs: a book's open layers share one currency (see
	// CheckCurrency), so any of them tells it.
	Currency string
	// Lot returns what of the layers not loaded (nor handed out by Load)
	// belongs to lot.
	Lot func(lot string) (LotRest, error)
	// Load returns, oldest first, up to q.Limit more layers that it has not
	// handed out before (nor the layers the book was loaded with), locked.
	Load func(q LoadQuery) ([]*Layer, error)

	lots map[string]*LotRest
	err  error
}

// LotRest is what of a Rest belongs to one lot: the quantity and value of
// its layers that hold stock (QtyRemaining > 0), and how many of its layers
// are negative.
type LotRest struct {
	StockQty   Qty
	StockValue int64
	Negatives  int
}

// LoadQuery says which layers a Rest.Load returns: those of Lot (of every
// other lot, with OtherLots) that hold stock, or, with Negative, that are
// negative.
type LoadQuery struct {
	Lot       string
	OtherLots bool
	Negative  bool
	Limit     int
}

// A partly loaded book asks for firstBatch layers at a time, then twice as
// many each time, up to maxBatch: most commands need one or two.
const (
	firstBatch = 2
	maxBatch   = 64
)

// lotRest is what of b.Rest belongs to lot (nil when b is fully loaded). A
// failure to read it spoils the book: it is kept, and the next Receive or
// Issue returns it.
func (b *Book) lotRest(lot string) *LotRest {
	r := b.Rest
	if r == nil {
		return nil
	}
	if lr, ok := r.lots[lot]; ok {
		return lr
	}
	lr, err := r.Lot(lot)
	if err != nil {
		r.err = fmt.Errorf("read cost layers of lot %q: %w", lot, err)
		lr = LotRest{}
	}
	if r.lots == nil {
		r.lots = map[string]*LotRest{}
	}
	r.lots[lot] = &lr
	return &lr
}

// load moves what r.Load returns for q from the rest into Open, in Seq
// order, and returns it.
func (b *Book) load(q LoadQuery) ([]*Layer, error) {
	r := b.Rest
	got, err := r.Load(q)
	if err != nil {
		return nil, fmt.Errorf("load cost layers: %w", err)
	}
	for _, l := range got {
		r.Layers--
		r.Qty -= l.QtyRemaining
		r.Value -= l.ValueRemaining
		if lr, ok := r.lots[l.Lot]; ok {
			if l.QtyRemaining > 0 {
				lr.StockQty -= l.QtyRemaining
				lr.StockValue -= l.ValueRemaining
			} else {
				lr.Negatives--
			}
		}
		i := len(b.Open)
		for i > 0 && b.Open[i-1].Seq > l.Seq {
			i--
		}
		b.Open = slices.Insert(b.Open, i, l)
	}
	return got, nil
}

// loadUntil loads layers for q, oldest first, until the loaded layers that
// match, up to the newest one loaded, hold at least need (in absolute
// quantity), or until there is nothing left to load (more says whether the
// rest may still hold some). Then a pass over Open in Seq order that stops
// after need meets the same layers, in the same order, as a pass over every
// layer of the book. A layer the book was loaded with beyond that point (Last)
// does not count: older layers may come before it.
func (b *Book) loadUntil(q LoadQuery, need Qty, match func(*Layer) bool, more func() bool) error {
	if b.Rest == nil {
		return nil
	}
	if b.Rest.err != nil {
		return b.Rest.err
	}
	frontier, loaded := int64(0), false
	if !more() {
		return nil // every layer that matches is loaded
	}
	q.Limit = firstBatch
	for ; ; q.Limit = min(2*q.Limit, maxBatch) {
		if loaded {
			var have Qty
			for _, l := range b.Open {
				if l.Seq <= frontier && match(l) {
					have += max(l.QtyRemaining, -l.QtyRemaining)
				}
			}
			if have >= need {
				return nil
			}
		}
		got, err := b.load(q)
		if err != nil {
			return err
		}
		loaded = true
		if len(got) < q.Limit || !more() {
			return nil // the rest holds no more of them
		}
		frontier = got[len(got)-1].Seq
	}
}

// Currency is the currency the book's stock is valued in while any layer
// holds quantity or value; "" when everything is at zero and a new currency
// may start.
func (b *Book) Currency() string {
	for _, l := range b.Open {
		if l.QtyRemaining != 0 || l.ValueRemaining != 0 {
			return l.Currency
		}
	}
	if b.Rest != nil && b.Rest.Layers > 0 {
		return b.Rest.Currency
	}
	return ""
}

// DefaultCurrency is the currency stock without a cost of its own is valued
// in: the book's, else that of the newest cost; "" if there never was one.
func (b *Book) DefaultCurrency() string {
	if c := b.Currency(); c != "" {
		return c
	}
	if b.Last != nil {
		return b.Last.Currency
	}
	return ""
}

// CheckCurrency refuses a value in currency while the book is valued in
// another (ErrCurrencyMismatch).
func (b *Book) CheckCurrency(currency string) error {
	if c := b.Currency(); c != "" && c != currency {
		return Refuse(ErrCurrencyMismatch,
			fmt.Sprintf("item %s is valued in %s in this warehouse; convert the cost to %s, or bring its stock to zero first", b.subject(), c, c),
			apperr.Violation{Type: ReasonCurrencyMismatch, Subject: "unit_cost.currency_code", Description: "must be " + c})
	}
	return nil
}

// CurrentCost is the cost per base unit (minor units, exact) that stock of
// lot without a price of its own is valued at: the average of the lot's open
// layers with stock (a moving-average pool serves every lot), else the cost
// of Last, the newest cost there is. ok is false when the item never had a
// cost in the warehouse.
func (b *Book) CurrentCost(lot string) (perUnit *big.Rat, ok bool) {
	q, v := new(big.Int), new(big.Int)
	for _, l := range b.Open {
		if l.QtyRemaining > 0 && (b.Method == CostMovingAverage || l.Lot == lot) {
			q.Add(q, big.NewInt(int64(l.QtyRemaining)))
			v.Add(v, big.NewInt(l.ValueRemaining))
		}
	}
	if lr := b.lotRest(lot); lr != nil && b.Method != CostMovingAverage {
		q.Add(q, big.NewInt(int64(lr.StockQty)))
		v.Add(v, big.NewInt(lr.StockValue))
	}
	if q.Sign() > 0 {
		return new(big.Rat).SetFrac(v.Mul(v, big.NewInt(int64(qtyOne))), q), true
	}
	if b.Last != nil && b.Last.QtyIn > 0 {
		return new(big.Rat).Quo(big.NewRat(b.Last.ValueIn, 1), b.Last.QtyIn.Rat()), true
	}
	return nil, false
}

// Value values q base units at perUnit minor units each, rounded half to
// even, refusing a value beyond MaxMovementValue (ErrMovementTooLarge, on
// field).
func Value(q Qty, perUnit *big.Rat, field string) (int64, error) {
	v, ok := money.RoundHalfEven(new(big.Rat).Mul(q.Rat(), perUnit))
	if !ok || v > MaxMovementValue || v < -MaxMovementValue {
		return 0, Refuse(ErrMovementTooLarge,
			fmt.Sprintf("%s: quantity x unit cost is beyond the limit of %d minor units per movement", field, MaxMovementValue),
			apperr.Field(field, fmt.Sprintf("quantity x unit cost must be at most %d minor units", MaxMovementValue)))
	}
	return v, nil
}

// Received is what stock coming into a book did to it.
type Received struct {
	// Changed are the layers to store: the new layer (a FIFO receipt's own, or
	// a new pool) and every layer it changed.
	Changed []*Layer
	// Fills are the negative layers it filled: Qty filled, Value the
	// provisional value of that quantity (negative, as held by the layer).
	Fills []Take
	// FillCorrections are, per fill (in Fills' order), the part of
	// Correction that fill makes: what the stock it filled is worth at the
	// incoming cost beyond its provisional value, negative for stock that
	// turned out dearer. They add up to Correction.
	FillCorrections []int64
	// Correction is the value-only change of book value the fills make: the
	// provisional value of the negative stock filled minus what that stock is
	// actually worth at the incoming cost. 0 when nothing was filled or the
	// costs agree.
	Correction int64
}

// Receive books stock coming in: in is the new layer (ID, Seq, SKU,
// Warehouse, Lot, Currency, ReceivedAt, MovementID, and QtyIn > 0 and ValueIn
// the quantity and value coming in). See the rules at the top of this file.
// It refuses another currency than the book's (ErrCurrencyMismatch) and a
// book beyond the limits (ErrStockLimit). On success b holds the result; on
// failure b is spoilt and the command must fail (its transaction rolls back).
func (b *Book) Receive(in Layer) (Received, error) {
	if in.QtyIn <= 0 {
		return Received{}, fmt.Errorf("receive %s of %s: quantity must be positive", in.QtyIn, in.SKU)
	}
	if err := b.CheckCurrency(in.Currency); err != nil {
		return Received{}, err
	}
	if b.Rest != nil && b.Method != CostMovingAverage {
		lr := b.lotRest(in.Lot)
		err := b.loadUntil(LoadQuery{Lot: in.Lot, Negative: true}, in.QtyIn,
			func(l *Layer) bool { return l.QtyRemaining < 0 && l.Lot == in.Lot && l.Currency == in.Currency },
			func() bool { return lr.Negatives > 0 })
		if err != nil {
			return Received{}, err
		}
	}
	in.QtyRemaining, in.ValueRemaining = in.QtyIn, in.ValueIn
	var out Received
	changed := map[*Layer]bool{}
	// Fill negative layers of the lot (a pool fills whatever the lot), oldest first.
	for _, l := range b.Open {
		if l.QtyRemaining >= 0 || in.QtyRemaining == 0 || (b.Method != CostMovingAverage && l.Lot != in.Lot) || l.Currency != in.Currency {
			continue
		}
		n := min(in.QtyRemaining, -l.QtyRemaining)
		provisional := money.Share(l.ValueRemaining, int64(n), int64(-l.QtyRemaining))
		actual := in.take(n)
		l.QtyRemaining += n
		l.ValueRemaining -= provisional
		out.Fills = append(out.Fills, Take{LayerID: l.ID, Qty: n, Value: provisional})
		out.FillCorrections = append(out.FillCorrections, -(actual + provisional))
		out.Correction -= actual + provisional
		changed[l] = true
	}
	var target *Layer
	if b.Method == CostMovingAverage {
		if p := b.pool(in.Currency); p != nil {
			p.QtyRemaining += in.QtyRemaining
			p.ValueRemaining += in.ValueRemaining
			target = p
		} else {
			in.ID = "pool-" + in.MovementID
			target = &in
			b.Open = append(b.Open, target)
		}
		// The average is struck afresh by every stock in; while the pool is
		// still below zero, the incoming cost is the newest cost there is.
		if target.QtyRemaining > 0 {
			target.QtyIn, target.ValueIn = target.QtyRemaining, target.ValueRemaining
		} else {
			target.QtyIn, target.ValueIn = in.QtyIn, in.ValueIn
		}
	} else {
		// The receipt's layer is kept even when fills took all of it: it is
		// the newest cost (Last) for what comes next.
		target = &in
		b.Open = append(b.Open, target)
	}
	changed[target] = true
	b.Last = target
	if err := b.checkLimits(); err != nil {
		return Received{}, err
	}
	for _, l := range b.Open {
		if changed[l] {
			out.Changed = append(out.Changed, l)
		}
	}
	return out, nil
}

// pool is the moving-average pool in currency: the newest cost layer, put
// among the open layers so that what changes it is stored. nil when a new
// pool must start (none yet, or a new currency).
func (b *Book) pool(currency string) *Layer {
	p := b.Last
	if p == nil || p.Currency != currency {
		return nil
	}
	if !slices.Contains(b.Open, p) {
		b.Open = append(b.Open, p)
	}
	return p
}

// Issued is what an issue took from a book.
type Issued struct {
	// Takes are the layers taken from, in the order taken; a moving-average
	// pool taken below zero is one take.
	Takes []Take
	// Value is the value that left (positive for stock at a positive cost).
	Value int64
	// Changed are the layers to store, including a new negative layer.
	Changed []*Layer
	// Negative is the new negative layer, if any (also in Changed): its Seq is
	// the issue's journal sequence, which the caller sets before storing it.
	Negative *Layer
}

// Issue takes q (> 0) of lot out of the book (see the rules at the top of
// this file). neg is the template of the negative layer an item that allows
// negative stock gets for what the layers cannot cover (ID, SKU, Warehouse,
// ReceivedAt, MovementID). It fails with ErrNoCostForNegativeStock when that
// stock has no cost to be valued at, ErrStockLimit beyond the limits, and
// ErrLayersDisagreeWithStock when an item that does not allow negative stock
// has less in its layers than the stock issued. On success b holds the
// result; on failure b is spoilt and the command must fail.
func (b *Book) Issue(lot string, q Qty, allowNegative bool, neg Layer) (Issued, error) {
	if q <= 0 {
		return Issued{}, fmt.Errorf("issue %s of %s: quantity must be positive", q, neg.SKU)
	}
	var out Issued
	changed := map[*Layer]bool{}
	short := q
	take := func(match func(*Layer) bool) {
		for _, l := range b.Open {
			if short == 0 {
				return
			}
			if l.QtyRemaining <= 0 || !match(l) {
				continue
			}
			n := min(short, l.QtyRemaining)
			v := l.take(n)
			out.Takes = addTake(out.Takes, Take{LayerID: l.ID, Qty: n, Value: v})
			out.Value += v
			short -= n
			changed[l] = true
		}
	}
	if b.Method == CostMovingAverage {
		take(func(*Layer) bool { return true })
	} else {
		if b.Rest != nil {
			lr := b.lotRest(lot)
			err := b.loadUntil(LoadQuery{Lot: lot}, q,
				func(l *Layer) bool { return l.QtyRemaining > 0 && l.Lot == lot },
				func() bool { return lr.StockQty > 0 })
			if err != nil {
				return Issued{}, err
			}
		}
		take(func(l *Layer) bool { return l.Lot == lot })
	}
	if short > 0 && !allowNegative && b.Method != CostMovingAverage {
		// Journals written before costing stayed within the lot may have let
		// another lot's issue take this lot's layers: take theirs back.
		err := b.loadUntil(LoadQuery{Lot: lot, OtherLots: true}, short,
			func(l *Layer) bool { return l.QtyRemaining > 0 && l.Lot != lot },
			func() bool { return b.Rest.Layers > 0 })
		if err != nil {
			return Issued{}, err
		}
		take(func(l *Layer) bool { return l.Lot != lot })
	}
	if short > 0 {
		if !allowNegative {
			return Issued{}, Refuse(ErrLayersDisagreeWithStock,
				fmt.Sprintf("cost layers of %s in %s hold %s less than the stock issued", neg.SKU, neg.Warehouse, short))
		}
		perUnit, ok := b.CurrentCost(lot)
		if !ok {
			return Issued{}, Refuse(ErrNoCostForNegativeStock,
				fmt.Sprintf("item %s was never received in %s, so stock issued ahead of a receipt has no cost to be valued at", neg.SKU, neg.Warehouse),
				apperr.Violation{Type: ReasonNoCostForNegativeStock, Subject: "items/" + neg.SKU, Description: "receive the item first"})
		}
		v, err := Value(short, perUnit, "quantity.value")
		if err != nil {
			return Issued{}, err
		}
		var l *Layer
		if b.Method == CostMovingAverage {
			l = b.pool(b.DefaultCurrency())
		}
		if l == nil {
			n := neg
			n.Lot, n.Currency, n.QtyIn, n.ValueIn, n.QtyRemaining, n.ValueRemaining = lot, b.DefaultCurrency(), 0, 0, 0, 0
			if b.Method == CostMovingAverage {
				n.Lot = ""
			}
			l = &n
			out.Negative = l
			b.Open = append(b.Open, l)
		}
		l.QtyRemaining -= short
		l.ValueRemaining -= v
		out.Takes = addTake(out.Takes, Take{LayerID: l.ID, Qty: short, Value: v})
		out.Value += v
		changed[l] = true
		if err := b.checkLimits(); err != nil {
			return Issued{}, err
		}
	}
	for _, l := range b.Open {
		if changed[l] {
			out.Changed = append(out.Changed, l)
		}
	}
	return out, nil
}

// addTake adds t to takes, merging it into a take of the same layer (a
// moving-average pool that an issue empties and then takes below zero).
func addTake(takes []Take, t Take) []Take {
	for i := range takes {
		if takes[i].LayerID == t.LayerID {
			takes[i].Qty += t.Qty
			takes[i].Value += t.Value
			return takes
		}
	}
	return append(takes, t)
}

// checkLimits refuses a book beyond MaxStockQty or MaxBookValue
// (ErrStockLimit). The sums are exact (big), so nothing wraps on the way.
func (b *Book) checkLimits() error {
	q, v := new(big.Int), new(big.Int)
	for _, l := range b.Open {
		q.Add(q, big.NewInt(int64(l.QtyRemaining)))
		v.Add(v, big.NewInt(l.ValueRemaining))
	}
	if b.Rest != nil {
		q.Add(q, big.NewInt(int64(b.Rest.Qty)))
		v.Add(v, big.NewInt(b.Rest.Value))
	}
	maxQ, maxV := big.NewInt(int64(MaxStockQty)), big.NewInt(MaxBookValue)
	if q.CmpAbs(maxQ) > 0 || v.CmpAbs(maxV) > 0 {
		subject := "items/" + b.subject()
		return Refuse(ErrStockLimit,
			fmt.Sprintf("the stock of %s would be beyond the limit of %s base units or %d minor units of value per warehouse", subject, MaxStockQty, MaxBookValue),
			apperr.Violation{Type: ReasonStockLimit, Subject: subject, Description: "split the stock across warehouses or issue some first"})
	}
	return nil
}

func (b *Book) subject() string {
	for _, l := range b.Open {
		return l.SKU
	}
	if b.Last != nil {
		return b.Last.SKU
	}
	return ""
}

// CheckLevel refuses a change of delta to a level holding onHand that would
// take it beyond MaxStockQty either way (ErrStockLimit). subject names the
// level for the violation.
func CheckLevel(onHand, delta Qty, subject string) error {
	sum := new(big.Int).Add(big.NewInt(int64(onHand)), big.NewInt(int64(delta)))
	if sum.CmpAbs(big.NewInt(int64(MaxStockQty))) > 0 {
		return Refuse(ErrStockLimit,
			fmt.Sprintf("%s would hold beyond the limit of %s base units", subject, MaxStockQty),
			apperr.Violation{Type: ReasonStockLimit, Subject: subject, Description: "at most " + MaxStockQty.String() + " base units per level"})
	}
	return nil
}

// ProrateByLot splits the value of moving-average stock over its lots in
// proportion to their quantities, by the cumulative rule (so the parts add up
// to value exactly): all units of a pool cost the same, whatever their lot.
// A lot with no stock gets no value. When the quantities sum to zero the
// whole value goes to no lot (nil, false): there is nothing to pro-rate by.
func ProrateByLot(value int64, qtys []Qty) ([]int64, bool) {
	total := new(big.Int)
	for _, q := range qtys {
		total.Add(total, big.NewInt(int64(q)))
	}
	if total.Sign() == 0 {
		return nil, false
	}
	out := make([]int64, len(qtys))
	cum, prev := new(big.Int), int64(0)
	for i, q := range qtys {
		cum.Add(cum, big.NewInt(int64(q)))
		r := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(value), cum), total)
		next, _ := money.RoundHalfEven(r)
		if i == len(qtys)-1 {
			next = value
		}
		out[i] = next - prev
		prev = next
	}
	return out, true
}
