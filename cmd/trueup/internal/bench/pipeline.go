package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
)

// The ledger rules whose entries end an order's journey.
const (
	ruleCOGS    = "issue/SHIPMENT"
	ruleInvoice = "invoice_issued"
)

// Pipeline is the outbound flow's figures: a ramp of closed-loop workers
// to find the maximum rate, then open-loop load at half of it.
type Pipeline struct {
	Ramp []Phase `json:"ramp"`
	// MaxOrdersPerSec is the best completed rate of the ramp.
	MaxOrdersPerSec float64 `json:"maxOrdersPerSec"`
	// OpenLoop is the run at half the maximum, orders started on a clock
	// whatever the answers' speed, so queueing shows in the latencies.
	OpenLoop *Phase `json:"openLoop,omitempty"`
}

// Phase is one load level's outcome. An order is complete when its cost of
// goods sold and its invoice are both in the ledger.
type Phase struct {
	Workers int `json:"workers,omitempty"`
	// TargetPerSec is the open loop's start rate.
	TargetPerSec float64 `json:"targetPerSec,omitempty"`
	Started      int     `json:"started"`
	Completed    int     `json:"completed"`
	Failed       int     `json:"failed"`
	FirstError   string  `json:"firstError,omitempty"`
	// OrdersPerSec is completed orders over the time from the phase's start
	// to the last ledger entry of its orders.
	OrdersPerSec float64 `json:"ordersPerSec"`
	// RatioToCommitCeiling is OrdersPerSec over the database ceiling.
	RatioToCommitCeiling float64 `json:"ratioToCommitCeiling,omitempty"`
	// Floor is one order's floor work through the APIs: create, confirm,
	// wait for its reservation, pick, pack, ship.
	Floor Latency `json:"floorMs"`
	// Steps is the floor's latency step by step: create, confirm,
	// reserved (from confirm until fulfillment has reserved the stock),
	// pick, pack, ship.
	Steps map[string]Latency `json:"steps"`
	// ShipToCOGS, ShipToInvoice and ShipToLedger run from the shipment's
	// ship time to the entries' post times (server clocks, one machine);
	// ShipToLedger is to the later of the two.
	ShipToCOGS    Latency `json:"shipToCogs"`
	ShipToInvoice Latency `json:"shipToInvoiceEntry"`
	ShipToLedger  Latency `json:"shipToLedger"`
	// ConfirmToInvoice runs from the confirm call's answer to the invoice's
	// journal entry.
	ConfirmToInvoice Latency `json:"confirmToInvoiceEntry"`
	// Per order, where Stats is known: CPU seconds of the suite (the
	// benchmark's own client included in-process), durable database
	// commits and the transactions they carried.
	CPUSecondsPerOrder     float64 `json:"cpuSecondsPerOrder,omitempty"`
	DBCommitsPerOrder      float64 `json:"dbCommitsPerOrder,omitempty"`
	DBTransactionsPerOrder float64 `json:"dbTransactionsPerOrder,omitempty"`
	// RSS at the end of the phase, per process.
	Processes []Process `json:"processes,omitempty"`
}

// shipped is an order the floor has shipped.
type shipped struct {
	id        string
	confirmAt time.Time
	shipAt    time.Time
	floor     time.Duration
	steps     [len(stepNames)]time.Duration
}

var stepNames = [...]string{"create", "confirm", "reserved", "pick", "pack", "ship"}

// posted is when an order's two entries were posted.
type posted struct{ cogs, invoice time.Time }

func (b *run) pipeline(ctx context.Context, ceil *Ceilings) (*Pipeline, error) {
	p := &Pipeline{}
	for _, w := range b.cfg.Ramp {
		b.progress(fmt.Sprintf("pipeline: %d workers, closed loop", w))
		ph, err := b.phase(ctx, fmt.Sprintf("w%d", w), ceil, func(ctx context.Context, start func(int) bool) {
			var wg sync.WaitGroup
			var n atomic.Int64
			for range w {
				wg.Go(func() {
					for start(int(n.Add(1))) {
					}
				})
			}
			wg.Wait()
		})
		ph.Workers = w
		p.Ramp = append(p.Ramp, *ph)
		if err != nil {
			return p, err
		}
		p.MaxOrdersPerSec = max(p.MaxOrdersPerSec, ph.OrdersPerSec)
	}
	if p.MaxOrdersPerSec <= 0 {
		return p, errors.New("no order completed in the ramp")
	}
	target := p.MaxOrdersPerSec / 2
	b.progress(fmt.Sprintf("pipeline: open loop at %.0f orders/s for %s", target, b.cfg.OpenLoop))
	ph, err := b.phase(ctx, "open", ceil, func(ctx context.Context, start func(int) bool) {
		interval := time.Duration(float64(time.Second) / target)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		var wg sync.WaitGroup
		for i := 1; ; i++ {
			wg.Go(func() { start(i) })
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
		}
		wg.Wait()
	})
	ph.TargetPerSec = round1(target)
	p.OpenLoop = ph
	return p, err
}

// phase runs load for the duration of its kind (the ramp's Duration, the
// open loop's OpenLoop): load calls start(i) for each order it begins,
// which runs it on the floor and says whether to begin another. Then it
// waits for the ledger to post every shipped order and measures.
func (b *run) phase(ctx context.Context, name string, ceil *Ceilings, load func(ctx context.Context, start func(int) bool)) (*Phase, error) {
	d := b.cfg.Duration
	if name == "open" {
		d = b.cfg.OpenLoop
	}
	var before Usage
	if b.cfg.Stats != nil {
		before = b.cfg.Stats()
	}
	ph := &Phase{}
	var (
		mu   sync.Mutex
		done []shipped
	)
	begun := time.Now()
	loadCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	load(loadCtx, func(i int) bool {
		if loadCtx.Err() != nil {
			return false
		}
		s, err := b.order(ctx, fmt.Sprintf("%s-%d", name, i))
		mu.Lock()
		defer mu.Unlock()
		ph.Started++
		if err != nil {
			ph.Failed++
			if ph.FirstError == "" {
				ph.FirstError = err.Error()
			}
			return ctx.Err() == nil
		}
		done = append(done, s)
		return true
	})
	if err := ctx.Err(); err != nil {
		return ph, err
	}
	got, err := b.waitPosted(ctx, begun, done)
	if err != nil {
		return ph, err
	}
	var floor, cogs, inv, both, c2i []time.Duration
	steps := make([][]time.Duration, len(stepNames))
	var last time.Time
	for _, s := range done {
		floor = append(floor, s.floor)
		for i, d := range s.steps {
			steps[i] = append(steps[i], d)
		}
		p, ok := got[s.id]
		if !ok {
			continue
		}
		ph.Completed++
		end := p.cogs
		if p.invoice.After(end) {
			end = p.invoice
		}
		if end.After(last) {
			last = end
		}
		cogs = append(cogs, p.cogs.Sub(s.shipAt))
		inv = append(inv, p.invoice.Sub(s.shipAt))
		both = append(both, end.Sub(s.shipAt))
		c2i = append(c2i, p.invoice.Sub(s.confirmAt))
	}
	ph.Steps = map[string]Latency{}
	for i, name := range stepNames {
		ph.Steps[name] = latencyOf(steps[i])
	}
	if ph.Completed > 0 {
		ph.OrdersPerSec = round1(float64(ph.Completed) / last.Sub(begun).Seconds())
	}
	if ceil != nil {
		ph.RatioToCommitCeiling = ratio(ph.OrdersPerSec, ceil.DatabaseCommitsPerSec)
	}
	ph.Floor, ph.ShipToCOGS, ph.ShipToInvoice, ph.ShipToLedger, ph.ConfirmToInvoice =
		latencyOf(floor), latencyOf(cogs), latencyOf(inv), latencyOf(both), latencyOf(c2i)
	if b.cfg.Stats != nil && ph.Completed > 0 {
		after := b.cfg.Stats()
		n := float64(ph.Completed)
		ph.CPUSecondsPerOrder = float64((after.CPU - before.CPU).Microseconds()) / 1e6 / n
		ph.DBCommitsPerOrder = round1(float64(after.DBCommits-before.DBCommits) / n)
		ph.DBTransactionsPerOrder = round1(float64(after.DBTransactions-before.DBTransactions) / n)
		ph.Processes = after.Processes
	}
	return ph, nil
}

// order takes one sales order of one unit from creation to shipment,
// through the APIs as the company's apps do.
func (b *run) order(ctx context.Context, key string) (shipped, error) {
	began := time.Now()
	var s shipped
	lap := began
	step := func(i int) {
		now := time.Now()
		s.steps[i], lap = now.Sub(lap), now
	}
	so, err := b.c.ord.CreateSalesOrder(ctx, &ordersv1.CreateSalesOrderRequest{RequestId: b.id("so", key), SalesOrder: &ordersv1.SalesOrder{
		Customer: "customers/" + customer, Lines: []*ordersv1.SalesOrderLine{{Item: b.sku, Quantity: qty("1", "EA"),
			UnitPrice: "2.50", TaxRatePercent: "8.25", Warehouse: warehouse}}}})
	if err != nil {
		return s, fmt.Errorf("create: %w", err)
	}
	step(0)
	if _, err := b.c.ord.ConfirmSalesOrder(ctx, &ordersv1.ConfirmSalesOrderRequest{RequestId: b.id("confirm", key), Name: so.GetName()}); err != nil {
		return s, fmt.Errorf("confirm: %w", err)
	}
	step(1)
	s.id, s.confirmAt = strings.TrimPrefix(so.GetName(), "salesOrders/"), time.Now()
	ob := "outboundOrders/" + s.id
	task := "tasks/PICK-" + s.id + "-1-1"
	// The pick task appears when fulfillment has reserved the stock. Polled
	// from 2 ms, backing off to 20 ms, so the waiting costs the suite little.
	wait := 2 * time.Millisecond
	for {
		_, err := b.c.ful.GetTask(ctx, &fulfillmentv1.GetTaskRequest{Name: task})
		if err == nil {
			break
		}
		if status.Code(err) != codes.NotFound {
			return s, fmt.Errorf("the pick task of %s: %w", ob, err)
		}
		if time.Since(s.confirmAt) > time.Minute {
			return s, fmt.Errorf("the pick task of %s: not within a minute", ob)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return s, ctx.Err()
		}
		wait = min(wait*3/2, 20*time.Millisecond)
	}
	step(2)
	if _, err := b.c.ful.ConfirmPick(ctx, &fulfillmentv1.ConfirmPickRequest{RequestId: b.id("pick", key), Name: task,
		Quantity: qty("1", "")}); err != nil {
		return s, fmt.Errorf("pick: %w", err)
	}
	step(3)
	packed, err := b.c.ful.PackShipment(ctx, &fulfillmentv1.PackShipmentRequest{RequestId: b.id("pack", key), OutboundOrder: ob, Warehouse: warehouse,
		Cartons: []*fulfillmentv1.Carton{{WeightKg: "0.4", LengthCm: "20", WidthCm: "15", HeightCm: "10"}}})
	if err != nil {
		return s, fmt.Errorf("pack: %w", err)
	}
	step(4)
	sh, err := b.c.ful.ShipShipment(ctx, &fulfillmentv1.ShipShipmentRequest{RequestId: b.id("ship", key), Name: packed.GetName(),
		Carrier: "carriers/UPS", ServiceLevel: "GROUND", TrackingNumber: "1ZBENCH" + strings.ToUpper(key)})
	if err != nil {
		return s, fmt.Errorf("ship: %w", err)
	}
	step(5)
	s.shipAt = sh.GetShipTime().AsTime()
	s.floor = time.Since(began)
	return s, nil
}

// waitPosted waits (up to a minute after the ledger stops making progress)
// until every shipped order has both entries, and returns their post
// times by order id. It reads the journal from since, page by page, as a
// controller's export would.
func (b *run) waitPosted(ctx context.Context, since time.Time, orders []shipped) (map[string]posted, error) {
	want := map[string]bool{}
	for _, o := range orders {
		want[o.id] = true
	}
	got := map[string]posted{}
	lastCount, lastProgress := -1, time.Now()
	for {
		got = map[string]posted{}
		err := b.scanJournal(ctx, since.Add(-time.Minute), func(e *ledgerv1.JournalEntry) {
			// The lines name the order (COGS: all of them; an invoice: its
			// revenue lines), bare or as a resource name.
			doc := ""
			for _, l := range e.GetLines() {
				d := l.GetDimensions().GetDocument()
				if d = d[strings.LastIndexByte(d, '/')+1:]; want[d] {
					doc = d
					break
				}
			}
			if doc == "" {
				return
			}
			p := got[doc]
			switch e.GetRule() {
			case ruleCOGS:
				p.cogs = e.GetPostTime().AsTime()
			case ruleInvoice:
				p.invoice = e.GetPostTime().AsTime()
			}
			got[doc] = p
		})
		if err != nil {
			return nil, err
		}
		complete := 0
		for id, p := range got {
			if p.cogs.IsZero() || p.invoice.IsZero() {
				delete(got, id)
				continue
			}
			complete++
		}
		if complete == len(want) {
			return got, nil
		}
		if complete != lastCount {
			lastCount, lastProgress = complete, time.Now()
		}
		if time.Since(lastProgress) > time.Minute {
			return got, fmt.Errorf("the ledger posted %d of %d orders and made no progress for a minute", complete, len(want))
		}
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// scanJournal calls fn for every journal entry effective from since on.
func (b *run) scanJournal(ctx context.Context, since time.Time, fn func(*ledgerv1.JournalEntry)) error {
	token := ""
	for {
		resp, err := b.c.led.ListJournalEntries(ctx, &ledgerv1.ListJournalEntriesRequest{PageSize: 1000, PageToken: token,
			StartTime: timestamppb.New(since)})
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		for _, e := range resp.GetJournalEntries() {
			fn(e)
		}
		if token = resp.GetNextPageToken(); token == "" {
			return nil
		}
	}
}
