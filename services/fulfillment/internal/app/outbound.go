package app

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"strconv"
	"strings"
	"sync"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// SalesOrdersConsumer names the consumer of orders' SalesOrderConfirmed and
// SalesOrderCancelled: its inbox scope and durable name on the bus.
const SalesOrdersConsumer = "fulfillment-sales-orders"

// OutboundInventory is what outbound work asks of the inventory service;
// every call is made once per request id.
type OutboundInventory interface {
	// Allocate reserves base units of an item for an outbound order line,
	// as much as is available (FEFO, then FIFO).
	Allocate(ctx context.Context, requestID string, a Allocate) (fulfillment.Reserved, error)
	// ConfirmPick moves picked stock of an allocation to staging; with
	// releaseRemaining the rest of the allocation is released.
	ConfirmPick(ctx context.Context, requestID string, p InventoryPick) error
	// ReleaseAllocation releases an allocation; picked stock goes back to
	// the bins it came from.
	ReleaseAllocation(ctx context.Context, requestID, allocation string) error
	// ConfirmShipment issues staged stock of an allocation for a shipment
	// and returns, per line asked, the movement and cost.
	ConfirmShipment(ctx context.Context, requestID, warehouse, allocation, shipment string, lines []fulfillment.ShipmentLine) ([]fulfillment.ShipmentLine, error)
}

// Allocate is a reservation asked of inventory.
type Allocate struct {
	SKU, Warehouse, Order string
	Line                  int
	Qty                   qty.Qty
}

// InventoryPick is a pick confirmed to inventory.
type InventoryPick struct {
	Warehouse                        string
	Allocation, From, To, Lot, Order string
	Line                             int
	Qty                              qty.Qty
	BaseUoM                          string
	ReleaseRemaining                 bool
}

// OutboundFilter narrows ListOutboundOrders.
type OutboundFilter struct {
	State   fulfillment.OutboundState
	Partner *string
}

// Confirmation is a confirmed sales order as its event tells it.
type Confirmation struct {
	EventID  string
	Order    string
	Customer string
	Partner  string
	Lines    []fulfillment.ConfirmedLine
}

// Cancellation is a sales order cancellation as its event tells it: the
// lines cancelled and, per line, how much is cancelled in all.
type Cancellation struct {
	EventID   string
	Order     string
	Lines     []int
	Cancelled map[int]qty.Qty
}

// SetLogger sets where background outbound work logs what it cannot do.
func (s *Service) SetLogger(l *slog.Logger) { s.log = l }

func (s *Service) logger() *slog.Logger {
	if s.log != nil {
		return s.log
	}
	return slog.Default()
}

// ApplyConfirmations opens the outbound orders of confirmed sales orders,
// one inbox transaction per batch, each event once. Allocation follows
// (Work), outside the inbox transaction.
func (s *Service) ApplyConfirmations(ctx context.Context, cs []Confirmation) []error {
	batch := make([]Delivery, len(cs))
	for i, c := range cs {
		batch[i] = Delivery{EventID: c.EventID, Apply: func(tx Tx) error {
			o, err := fulfillment.NewOutboundOrder(c.Order, c.Customer, c.Partner, c.Lines, s.now())
			if err != nil {
				return err
			}
			_, err = tx.InsertOutboundOrder(ctx, o)
			return err
		}}
	}
	return s.inboxErrors(ctx, SalesOrdersConsumer, batch)
}

// ApplyCancellations takes what is not shipped of cancelled lines off their
// outbound orders and cancels their open pick tasks; releasing the
// allocations follows (Work). A cancellation of an order fulfillment never
// saw changes nothing.
func (s *Service) ApplyCancellations(ctx context.Context, cs []Cancellation) []error {
	batch := make([]Delivery, len(cs))
	for i, c := range cs {
		batch[i] = Delivery{EventID: c.EventID, Apply: func(tx Tx) error {
			o, err := tx.LockOutboundOrder(ctx, c.Order)
			if apperr.KindOf(err) == apperr.KindNotFound {
				return nil
			}
			if err != nil {
				return err
			}
			prev := o.Version
			changed := o.Cancel(c.Lines, c.Cancelled, s.now())
			if len(changed) == 0 {
				return nil
			}
			if err := tx.SaveOutboundOrder(ctx, o, prev); err != nil {
				return err
			}
			return s.cancelPicks(ctx, tx, o.ID, changed)
		}}
	}
	return s.inboxErrors(ctx, SalesOrdersConsumer, batch)
}

func (s *Service) cancelPicks(ctx context.Context, tx Tx, order string, lines []int) error {
	ks, err := tx.ListTasks(ctx, TaskFilter{Type: fulfillment.TaskPick, Reference: order}, "", 1000)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if !containsLine(lines, k.OrderLine) || k.State == fulfillment.TaskDone || k.State == fulfillment.TaskCancelled {
			continue
		}
		k, err := tx.LockTask(ctx, k.ID)
		if err != nil {
			return err
		}
		prev := k.Version
		k.Cancel(s.now())
		if err := tx.SaveTask(ctx, k, prev); err != nil {
			return err
		}
	}
	return nil
}

func containsLine(lines []int, n int) bool {
	for _, l := range lines {
		if l == n {
			return true
		}
	}
	return false
}

func (s *Service) inboxErrors(ctx context.Context, consumer string, batch []Delivery) []error {
	errs := make([]error, len(batch))
	out, err := s.store.InInboxBatch(ctx, consumer, batch)
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	for i, o := range out {
		errs[i] = o.Err
	}
	return errs
}

// Work does what outbound orders owe inventory: reserving new lines (and
// the rest of partly cancelled ones), releasing cancelled ones. Each call
// has a request id derived from the line, so work repeated after a crash
// is done once. It returns how many orders it worked on; an order whose
// inventory call fails stays owed and is tried again next time.
func (s *Service) Work(ctx context.Context) (int, error) {
	if s.inventory == nil {
		return 0, nil
	}
	ids, err := s.store.OwedOutboundOrders(ctx, 100)
	if err != nil {
		return 0, err
	}
	// Orders are independent (each has its own request ids and
	// transactions), so several are worked at once: one at a time, each
	// order's two inventory calls and commits queued every other order
	// behind them, and reservation latency grew with the rate of orders.
	// Concurrent commits also share SQLite's group commit.
	sem := make(chan struct{}, workConcurrency)
	var wg sync.WaitGroup
	for _, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.workOrder(ctx, id); err != nil {
				s.logger().Warn("outbound order work failed; will retry", "outbound_order", id, "error", err)
			}
		})
	}
	wg.Wait()
	return len(ids), nil
}

// workConcurrency is how many outbound orders Work works on at once.
const workConcurrency = 16

func (s *Service) workOrder(ctx context.Context, id string) error {
	o, err := s.store.GetOutboundOrder(ctx, id)
	if err != nil {
		return err
	}
	for _, l := range o.Lines {
		switch {
		case l.NeedRelease:
			if err := s.inventory.ReleaseAllocation(ctx, "fulfillment:release:"+l.Allocation, l.Allocation); err != nil {
				return fmt.Errorf("release line %d: %w", l.Line, err)
			}
			if err := s.onOrder(ctx, id, func(tx Tx, o *fulfillment.OutboundOrder) ([]any, error) {
				o.Released(l.Line, s.now())
				return nil, nil
			}); err != nil {
				return err
			}
		case l.NeedAllocate:
			if err := s.allocate(ctx, o, l); err != nil {
				return fmt.Errorf("allocate line %d: %w", l.Line, err)
			}
		}
	}
	return nil
}

func (s *Service) allocate(ctx context.Context, o *fulfillment.OutboundOrder, l fulfillment.OutboundLine) error {
	want := l.Open()
	if want <= 0 {
		return s.onOrder(ctx, o.ID, func(tx Tx, o *fulfillment.OutboundOrder) ([]any, error) {
			_, _, err := o.Allocated(l.Line, fulfillment.Reserved{}, "", "", s.now())
			return nil, err
		})
	}
	staging, err := s.staging(ctx, l.Warehouse)
	if err != nil {
		return err
	}
	req := fmt.Sprintf("fulfillment:allocate:%s:%d:g%d", o.ID, l.Line, l.Gen)
	r, err := s.inventory.Allocate(ctx, req, Allocate{SKU: l.SKU, Warehouse: l.Warehouse, Order: o.ID, Line: l.Line, Qty: want})
	if err != nil {
		return err
	}
	wave := fulfillment.WaveOf(l.Warehouse, s.now(), s.cutoffs)
	return s.onOrder(ctx, o.ID, func(tx Tx, o *fulfillment.OutboundOrder) ([]any, error) {
		tasks, short, err := o.Allocated(l.Line, r, staging, wave, s.now())
		if err != nil {
			return nil, err
		}
		for _, k := range tasks {
			if err := tx.InsertTask(ctx, k); err != nil {
				return nil, err
			}
		}
		if short > 0 {
			return []any{fulfillment.ShortPickRecorded{Order: *o, Line: l.Line, Short: short, Reason: "NOT_AVAILABLE"}}, nil
		}
		return nil, nil
	})
}

// onOrder changes an outbound order in a transaction of its own and emits
// what change returns.
func (s *Service) onOrder(ctx context.Context, id string, change func(Tx, *fulfillment.OutboundOrder) ([]any, error)) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		o, err := tx.LockOutboundOrder(ctx, id)
		if err != nil {
			return err
		}
		prev := o.Version
		events, err := change(tx, o)
		if err != nil {
			return err
		}
		if o.Version == prev {
			return nil
		}
		if err := tx.SaveOutboundOrder(ctx, o, prev); err != nil {
			return err
		}
		return tx.Emit(ctx, events...)
	})
}

// staging is the warehouse's first unblocked STAGING location.
func (s *Service) staging(ctx context.Context, warehouse string) (string, error) {
	locs, err := s.inventory.Locations(ctx, warehouse)
	if err != nil {
		return "", err
	}
	best := ""
	for _, l := range locs {
		if l.Type == fulfillment.LocationStaging && !l.Blocked && (best == "" || l.Code < best) {
			best = l.Code
		}
	}
	if best == "" {
		return "", apperr.Precondition(fulfillment.ReasonNoStaging, fmt.Sprintf("warehouse %s has no STAGING location for picked stock: create one in inventory", warehouse))
	}
	return best, nil
}

// RetryBackorder reserves the short part of an outbound order's lines again
// (lines with picks still out are left alone) and returns the order; the
// worker does the reservation, as for a new order.
func (s *Service) RetryBackorder(ctx context.Context, id string) (*fulfillment.OutboundOrder, error) {
	var out *fulfillment.OutboundOrder
	err := s.store.InTx(ctx, func(tx Tx) error {
		o, err := tx.LockOutboundOrder(ctx, id)
		if err != nil {
			return err
		}
		if !o.VisibleTo(partnerOf(ctx)) {
			return apperr.NotFound("outbound order", id)
		}
		ks, err := tx.ListTasks(ctx, TaskFilter{Type: fulfillment.TaskPick, Reference: id}, "", 1000)
		if err != nil {
			return err
		}
		busy := map[int]bool{}
		for _, k := range ks {
			if k.State != fulfillment.TaskDone && k.State != fulfillment.TaskCancelled {
				busy[k.OrderLine] = true
			}
		}
		prev := o.Version
		if len(o.RetryBackorder(busy, s.now())) > 0 {
			if err := tx.SaveOutboundOrder(ctx, o, prev); err != nil {
				return err
			}
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetOutboundOrder returns an order the caller may see.
func (s *Service) GetOutboundOrder(ctx context.Context, id string) (*fulfillment.OutboundOrder, error) {
	o, err := s.store.GetOutboundOrder(ctx, id)
	if err != nil {
		return nil, err
	}
	if !o.VisibleTo(partnerOf(ctx)) {
		return nil, apperr.NotFound("outbound order", id)
	}
	return o, nil
}

// ListOutboundOrders pages in id order.
func (s *Service) ListOutboundOrders(ctx context.Context, f OutboundFilter, after string, limit int) ([]*fulfillment.OutboundOrder, error) {
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	return s.store.ListOutboundOrders(ctx, f, after, limit)
}

// confirmPickCmd is what ConfirmPick's request id fingerprints.
type confirmPickCmd struct {
	Task     string
	Quantity string
	UoM      string
	From     string
	Lot      string
	To       string
}

// ConfirmPick confirms a pick task by scan: inventory moves what was picked
// to staging (still reserved). A short pick tries another bin with enough
// available stock (a new task), and otherwise is short: ShortPickRecorded,
// the sales order's backorder.
func (s *Service) ConfirmPick(ctx context.Context, requestID, id string, p fulfillment.Pick) (*fulfillment.Task, *fulfillment.PickOutcome, error) {
	cmd := confirmPickCmd{Task: id, Quantity: p.Quantity, UoM: p.UoM, From: p.From, Lot: p.Lot, To: p.To}
	type answer struct {
		k   *fulfillment.Task
		out *fulfillment.PickOutcome
	}
	// The stored result is the short quantity, in millionths.
	replay := func(r Reader, res string) (answer, error) {
		k, err := r.GetTask(ctx, id)
		if err != nil {
			return answer{}, err
		}
		out := &fulfillment.PickOutcome{}
		if n, err := strconv.ParseInt(res, 10, 64); err == nil {
			out.Short = qty.Qty(n)
		}
		if retry, err := r.GetTask(ctx, id+"-R"); err == nil {
			out.Retry = retry
		}
		return answer{k: k, out: out}, nil
	}
	if res, done, err := storetx.Lookup(ctx, s.store.Querier(), "ConfirmPick", requestID, cmd); err != nil {
		return nil, nil, err
	} else if done {
		a, err := replay(s.store, res)
		return a.k, a.out, err
	}
	if s.inventory == nil {
		return nil, nil, ErrNoInventory
	}
	k, err := s.GetTask(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := k.CheckComplete(worker(ctx), fulfillment.TaskPick, s.now()); err != nil {
		return nil, nil, err
	}
	it, err := s.inventory.ResolveItem(ctx, k.SKU, "")
	if err != nil {
		return nil, nil, err
	}
	uom := strings.ToUpper(strings.TrimSpace(p.UoM))
	if uom == "" {
		uom = it.BaseUoM
	}
	entered, err := qty.ParseDecimal(strings.TrimSpace(p.Quantity), qty.Scale)
	if err != nil {
		return nil, nil, apperr.Invalid(apperr.Field("quantity.value", err.Error()))
	}
	f, ok := it.Factors[uom]
	if !ok {
		return nil, nil, apperr.Invalid(apperr.Field("quantity.uom", fmt.Sprintf("unit %q is not known for item %s", uom, it.SKU)))
	}
	if p.Base, err = qty.FromRat(new(big.Rat).Mul(entered, f)); err != nil || p.Base < 0 {
		return nil, nil, apperr.Invalid(apperr.Field("quantity.value", "must be a quantity of base units of at most 6 places, not negative"))
	}
	for _, loc := range []*string{&p.From, &p.To} {
		if *loc == "" {
			continue
		}
		sc := fulfillment.Scan{Location: *loc}
		if err := s.checkLocation(ctx, k.Warehouse, &sc); err != nil {
			return nil, nil, err
		}
		*loc = sc.Location
	}
	p.Lot = strings.ToUpper(strings.TrimSpace(p.Lot))
	from, to, lot := or(p.From, k.From), or(p.To, k.To), or(p.Lot, k.Lot)
	short := k.Qty - p.Base
	retryFrom := ""
	if short > 0 && !strings.HasSuffix(k.ID, "-R") {
		if retryFrom, err = s.otherBin(ctx, k.Warehouse, k.SKU, from, short); err != nil {
			return nil, nil, err
		}
	}
	if p.Base > 0 || (short > 0 && retryFrom == "") {
		last, err := s.lastOpenPick(ctx, k)
		if err != nil {
			return nil, nil, err
		}
		release := short > 0 && retryFrom == "" && last
		switch {
		case p.Base > 0:
			err = s.inventory.ConfirmPick(ctx, "fulfillment:pick:"+k.ID, InventoryPick{Warehouse: k.Warehouse, Allocation: k.Allocation, From: from, To: to, Lot: lot,
				Order: k.Reference, Line: k.OrderLine, Qty: p.Base, BaseUoM: k.BaseUoM, ReleaseRemaining: release})
		case release:
			// Nothing found and nothing else to pick: what the allocation
			// still reserves is released once nothing of it was staged.
			o, gerr := s.store.GetOutboundOrder(ctx, k.Reference)
			if gerr != nil {
				return nil, nil, gerr
			}
			if l := o.Line(k.OrderLine); l != nil && l.Picked == l.Shipped {
				err = s.inventory.ReleaseAllocation(ctx, "fulfillment:release:"+k.Allocation, k.Allocation)
			}
		}
		if err != nil {
			return nil, nil, err
		}
	}
	a, err := storetx.RunCommand(ctx, s.store.InTx, "ConfirmPick", requestID, cmd,
		func(tx Tx, res string) (answer, error) { return replay(tx, res) },
		func(tx Tx) (answer, string, error) {
			k, err := tx.LockTask(ctx, id)
			if err != nil {
				return answer{}, "", err
			}
			now := s.now()
			if err := k.CheckComplete(worker(ctx), fulfillment.TaskPick, now); err != nil {
				return answer{}, "", err
			}
			o, err := tx.LockOutboundOrder(ctx, k.Reference)
			if err != nil {
				return answer{}, "", err
			}
			oprev, kprev := o.Version, k.Version
			out, err := o.Picked(k, fulfillment.Pick{Base: p.Base, From: from, Lot: lot, To: to}, retryFrom, now)
			if err != nil {
				return answer{}, "", err
			}
			k.Complete(worker(ctx), to, "", now)
			if err := tx.SaveTask(ctx, k, kprev); err != nil {
				return answer{}, "", err
			}
			if out.Retry != nil {
				if err := tx.InsertTask(ctx, out.Retry); err != nil {
					return answer{}, "", err
				}
			}
			if err := tx.SaveOutboundOrder(ctx, o, oprev); err != nil {
				return answer{}, "", err
			}
			if out.Short > 0 {
				if err := tx.Emit(ctx, fulfillment.ShortPickRecorded{Order: *o, Line: k.OrderLine, Short: out.Short, Reason: "NOT_FOUND_IN_BIN"}); err != nil {
					return answer{}, "", err
				}
			}
			return answer{k: k, out: out}, strconv.FormatInt(int64(out.Short), 10), nil
		})
	if err != nil {
		return nil, nil, err
	}
	return a.k, a.out, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// otherBin is a storage or pick-face bin other than from with at least
// short available of the item; "" when none.
func (s *Service) otherBin(ctx context.Context, warehouse, sku, from string, short qty.Qty) (string, error) {
	locs, err := s.inventory.Locations(ctx, warehouse)
	if err != nil {
		return "", err
	}
	pickable := map[string]bool{}
	for _, l := range locs {
		if !l.Blocked && (l.Type == fulfillment.LocationStorage || l.Type == fulfillment.LocationPickFace) {
			pickable[l.Code] = true
		}
	}
	held, err := s.inventory.StockOf(ctx, warehouse, sku)
	if err != nil {
		return "", err
	}
	best := ""
	for _, h := range held {
		if h.Location != from && pickable[h.Location] && h.Available >= short && (best == "" || h.Location < best) {
			best = h.Location
		}
	}
	return best, nil
}

// lastOpenPick reports whether k is the only unfinished pick task of its
// allocation.
func (s *Service) lastOpenPick(ctx context.Context, k *fulfillment.Task) (bool, error) {
	ks, err := s.store.ListTasks(ctx, TaskFilter{Type: fulfillment.TaskPick, Reference: k.Reference}, "", 1000)
	if err != nil {
		return false, err
	}
	for _, o := range ks {
		if o.ID != k.ID && o.Allocation == k.Allocation && o.State != fulfillment.TaskDone && o.State != fulfillment.TaskCancelled {
			return false, nil
		}
	}
	return true, nil
}

// packCmd is what PackShipment's request id fingerprints.
type packCmd struct {
	Order, Warehouse string
	Lines            []fulfillment.PackLine
	Cartons          []fulfillment.Carton
}

// PackShipment packs staged stock of an outbound order into a shipment.
func (s *Service) PackShipment(ctx context.Context, requestID, order, warehouse string, lines []fulfillment.PackLine, cartons []fulfillment.Carton) (*fulfillment.Shipment, error) {
	return storetx.RunCommand(ctx, s.store.InTx, "PackShipment", requestID, packCmd{order, warehouse, lines, cartons},
		func(tx Tx, id string) (*fulfillment.Shipment, error) { return tx.GetShipment(ctx, id) },
		func(tx Tx) (*fulfillment.Shipment, string, error) {
			o, err := tx.LockOutboundOrder(ctx, order)
			if err != nil {
				return nil, "", err
			}
			if !o.VisibleTo(partnerOf(ctx)) {
				return nil, "", apperr.NotFound("outbound order", order)
			}
			prev := o.Version
			sh, err := o.Pack(warehouse, lines, append([]fulfillment.Carton(nil), cartons...), s.now())
			if err != nil {
				return nil, "", err
			}
			if err := tx.SaveOutboundOrder(ctx, o, prev); err != nil {
				return nil, "", err
			}
			if err := tx.InsertShipment(ctx, sh); err != nil {
				return nil, "", err
			}
			return sh, sh.ID, nil
		})
}

// shipCmd is what ShipShipment's request id fingerprints.
type shipCmd struct {
	Shipment, Carrier, Service, Tracking string
}

// ShipShipment hands a packed shipment to its carrier: inventory issues the
// staged stock of each allocation (once per shipment and allocation) and
// reports its cost; ShipmentConfirmed carries lines, lots, quantities,
// costs, carrier and tracking.
func (s *Service) ShipShipment(ctx context.Context, requestID, id, carrier, service, tracking string) (*fulfillment.Shipment, error) {
	carrier = strings.ToUpper(strings.TrimPrefix(strings.TrimSpace(carrier), "carriers/"))
	cmd := shipCmd{id, carrier, service, tracking}
	if _, done, err := storetx.Lookup(ctx, s.store.Querier(), "ShipShipment", requestID, cmd); err != nil {
		return nil, err
	} else if done {
		return s.store.GetShipment(ctx, id)
	}
	sh, err := s.store.GetShipment(ctx, id)
	if err != nil {
		return nil, err
	}
	if partner := partnerOf(ctx); partner != "" && sh.Partner != partner {
		return nil, apperr.NotFound("shipment", id)
	}
	o, err := s.store.GetOutboundOrder(ctx, sh.OutboundOrder)
	if err != nil {
		return nil, err
	}
	if err := o.CanShip(sh); err != nil {
		return nil, err
	}
	if carrier != "" {
		if _, err := s.store.GetCarrier(ctx, carrier); err != nil {
			return nil, apperr.WithFieldPrefix(err, "carrier")
		}
	}
	if s.inventory == nil {
		return nil, ErrNoInventory
	}
	costs := make([]fulfillment.ShipmentLine, len(sh.Lines))
	byAlloc := map[string][]int{}
	var allocs []string
	for i, l := range sh.Lines {
		if _, ok := byAlloc[l.Allocation]; !ok {
			allocs = append(allocs, l.Allocation)
		}
		byAlloc[l.Allocation] = append(byAlloc[l.Allocation], i)
	}
	for _, a := range allocs {
		var lines []fulfillment.ShipmentLine
		for _, i := range byAlloc[a] {
			lines = append(lines, sh.Lines[i])
		}
		got, err := s.inventory.ConfirmShipment(ctx, "fulfillment:ship:"+sh.ID+":"+a, sh.Warehouse, a, sh.ID, lines)
		if err != nil {
			return nil, err
		}
		for j, i := range byAlloc[a] {
			if j < len(got) {
				costs[i] = got[j]
			}
		}
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ShipShipment", requestID, cmd,
		func(tx Tx, _ string) (*fulfillment.Shipment, error) { return tx.GetShipment(ctx, id) },
		func(tx Tx) (*fulfillment.Shipment, string, error) {
			sh, err := tx.LockShipment(ctx, id)
			if err != nil {
				return nil, "", err
			}
			o, err := tx.LockOutboundOrder(ctx, sh.OutboundOrder)
			if err != nil {
				return nil, "", err
			}
			sprev, oprev := sh.Version, o.Version
			if err := o.Ship(sh, carrier, strings.TrimSpace(service), strings.TrimSpace(tracking), costs, s.now()); err != nil {
				return nil, "", err
			}
			if err := tx.SaveShipment(ctx, sh, sprev); err != nil {
				return nil, "", err
			}
			if err := tx.SaveOutboundOrder(ctx, o, oprev); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, fulfillment.ShipmentConfirmedEvent{Order: *o, Shipment: *sh}); err != nil {
				return nil, "", err
			}
			return sh, sh.ID, nil
		})
}

// GetShipment returns a shipment the caller may see.
func (s *Service) GetShipment(ctx context.Context, id string) (*fulfillment.Shipment, error) {
	sh, err := s.store.GetShipment(ctx, id)
	if err != nil {
		return nil, err
	}
	if p := partnerOf(ctx); p != "" && sh.Partner != p {
		return nil, apperr.NotFound("shipment", id)
	}
	return sh, nil
}

// ListShipments pages through shipments, of one order if named.
func (s *Service) ListShipments(ctx context.Context, order, after string, limit int) ([]*fulfillment.Shipment, error) {
	var partner *string
	if p := partnerOf(ctx); p != "" {
		partner = &p
	}
	return s.store.ListShipments(ctx, order, partner, after, limit)
}
