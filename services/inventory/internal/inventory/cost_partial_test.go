package inventory

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// reload is b as the next command finds it: its open layers and Last, copied.
func reload(b *Book) (open []*Layer, last *Layer) {
	for _, l := range b.Open {
		if l.QtyRemaining != 0 {
			c := *l
			open = append(open, &c)
			if b.Last == l {
				last = &c
			}
		}
	}
	if b.Last != nil && last == nil {
		c := *b.Last
		last = &c
	}
	return open, last
}

// partly is the book the store loads for a command: the oldest open layer
// and Last in Open, the others behind a Rest that hands them out oldest
// first, as the store's queries do.
func partly(method CostMethod, open []*Layer, last *Layer) *Book {
	b := &Book{Method: method, Last: last}
	handed := map[string]bool{}
	if len(open) > 0 {
		b.Open, handed[open[0].ID] = []*Layer{open[0]}, true
	}
	if last != nil && last.QtyRemaining != 0 && !handed[last.ID] {
		b.Open, handed[last.ID] = append(b.Open, last), true
	}
	r := &Rest{}
	for _, l := range open {
		if !handed[l.ID] {
			r.Layers, r.Qty, r.Value, r.Currency = r.Layers+1, r.Qty+l.QtyRemaining, r.Value+l.ValueRemaining, l.Currency
		}
	}
	r.Lot = func(lot string) (LotRest, error) {
		var lr LotRest
		for _, l := range open {
			switch {
			case handed[l.ID] || l.Lot != lot:
			case l.QtyRemaining > 0:
				lr.StockQty, lr.StockValue = lr.StockQty+l.QtyRemaining, lr.StockValue+l.ValueRemaining
			default:
				lr.Negatives++
			}
		}
		return lr, nil
	}
	r.Load = func(q LoadQuery) ([]*Layer, error) {
		var out []*Layer
		for _, l := range open {
			match := l.QtyRemaining > 0 && (l.Lot == q.Lot) != q.OtherLots
			if q.Negative {
				match = l.QtyRemaining < 0 && l.Lot == q.Lot
			}
			if len(out) < q.Limit && match && !handed[l.ID] {
				handed[l.ID] = true
				out = append(out, l)
			}
		}
		return out, nil
	}
	b.Rest = r
	return b
}

func snapshot(ls []*Layer) []Layer {
	out := make([]Layer, len(ls))
	for i, l := range ls {
		out[i] = *l
	}
	return out
}

// A book loaded in part (what a command reaches, the rest summed) costs
// every receipt and issue exactly as the whole book does: the same takes,
// fills, corrections, refusals and layers to store, over random sequences
// of FIFO receipts and issues in three lots, with negative stock, and
// issues that reach past the first batch of layers loaded.
func TestAPartlyLoadedBookCostsLikeTheWholeBook(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		var open []*Layer
		var last *Layer
		lots := []string{"", "L1", "L2"}
		for step := 1; step <= 300; step++ {
			wo, wl := reload(&Book{Open: open, Last: last})
			po, pl := reload(&Book{Open: open, Last: last})
			whole := &Book{Method: CostFIFO, Open: wo, Last: wl}
			part := partly(CostFIFO, po, pl)
			lot := lots[rng.IntN(len(lots))]
			id := fmt.Sprintf("m%d", step)
			var got, want any
			var gotErr, wantErr error
			if rng.IntN(4) < 3 {
				in := Layer{ID: id, Seq: int64(step), SKU: "SKU", Warehouse: "W1", Lot: lot, Currency: "USD",
					QtyIn: units(rng.Int64N(8) + 1), ValueIn: rng.Int64N(5000) + 1, MovementID: id}
				w, err := whole.Receive(in)
				want, wantErr = []any{w.Fills, w.Correction, snapshot(w.Changed)}, err
				g, err := part.Receive(in)
				got, gotErr = []any{g.Fills, g.Correction, snapshot(g.Changed)}, err
			} else {
				q, neg := units(rng.Int64N(12)+1), rng.IntN(2) == 0
				if rng.IntN(4) == 0 { // reaches past the first batch of layers
					q = units(rng.Int64N(80) + 20)
				}
				tmpl := Layer{ID: id + "-negative", SKU: "SKU", Warehouse: "W1", MovementID: id}
				w, err := whole.Issue(lot, q, neg, tmpl)
				if w.Negative != nil {
					w.Negative.Seq = int64(step)
				}
				want, wantErr = []any{w.Takes, w.Value, snapshot(w.Changed)}, err
				g, err := part.Issue(lot, q, neg, tmpl)
				if g.Negative != nil {
					g.Negative.Seq = int64(step)
				}
				got, gotErr = []any{g.Takes, g.Value, snapshot(g.Changed)}, err
			}
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || (wantErr == nil && !reflect.DeepEqual(got, want)) {
				t.Fatalf("seed %d step %d: partly loaded %v, %v; whole %v, %v", seed, step, got, gotErr, want, wantErr)
			}
			if wantErr == nil { // the command commits: the whole book is the next state
				open, last = whole.Open, whole.Last
			}
		}
	}
}
