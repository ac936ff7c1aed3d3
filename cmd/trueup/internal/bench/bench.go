// Package bench measures a running suite through its public APIs: the
// ceilings of its storage and broker, gRPC against REST for the same read
// and write, and the whole pipeline — sales orders from confirmation to
// their cost of goods sold and invoice in the ledger, receipts to GRNI —
// under a ramp to find the maximum and then open-loop load at half of it.
// Every figure is reported beside the ceiling measured in the same run,
// since these machines are noisy. Nothing here asserts a timing.
package bench

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
)

// Scenarios, in the order they run.
const (
	ScenarioCeiling  = "ceiling"
	ScenarioAPI      = "api"
	ScenarioPipeline = "pipeline"
	ScenarioInbound  = "inbound"
)

// AllScenarios is every scenario, in running order.
var AllScenarios = []string{ScenarioCeiling, ScenarioAPI, ScenarioPipeline, ScenarioInbound}

// The benchmark's fixtures: the demo data's main warehouse, storage bin and
// customer (`trueup dev` and demodata create them), and an item of its own.
const (
	warehouse = "MAIN"
	bin       = "A-01-01"
	customer  = "NORTHWIND"
)

// Usage is what the stack's processes have used so far; Stats reports it.
type Usage struct {
	// CPU is user plus system time of the suite's processes.
	CPU time.Duration
	// DBCommits is durable database commits; DBTransactions the
	// transactions (WithTx calls) they carried — SQLite commits several
	// writers' transactions at once (group commit).
	DBCommits, DBTransactions int64
	// Processes is each process's memory.
	Processes []Process
}

// Process is one process's memory.
type Process struct {
	Name    string  `json:"name"`
	RSSMiB  float64 `json:"rssMiB"`
	PeakMiB float64 `json:"peakRssMiB"`
}

// Config says what to measure and where.
type Config struct {
	// Conn reaches the services' gRPC APIs with the service token.
	Conn grpc.ClientConnInterface
	// GatewayURL and APIKey reach the REST gateway as a partner allowed
	// every scope.
	GatewayURL, APIKey string
	// NATSURL is the broker's (empty: no broker ceiling).
	NATSURL string
	// DatabaseURL is the services' database for the commit ceiling; empty
	// measures SQLite in CeilingDir (the dev stack's disk).
	DatabaseURL, CeilingDir string
	// Mode describes the stack ("dev stack, in-process", …) for the report.
	Mode string
	// Scenarios to run (nil: all).
	Scenarios []string
	// Duration of each measurement (default 5 s).
	Duration time.Duration
	// Concurrency of the api and inbound scenarios (default 16).
	Concurrency int
	// Ramp is the pipeline's closed-loop worker counts (default 4, 16, 64).
	Ramp []int
	// OpenLoop is how long the pipeline's open-loop run lasts at half the
	// maximum rate (default Duration; make it 10 minutes for a soak).
	OpenLoop time.Duration
	// RunID makes this run's request ids and item its own (default: now).
	RunID string
	// Stats, when set, reports the suite's resource use (in-process runs
	// and runs given the services' process ids).
	Stats func() Usage
	// Progress, when set, is told what runs now.
	Progress func(string)
	// Commit is the suite's git commit, for the report.
	Commit string
	// Profile, when set, is called as the pipeline scenario starts; the
	// function it returns, as it ends (e.g. a CPU profile of just the
	// pipeline).
	Profile func() (stop func())
}

// Result is one run's figures.
type Result struct {
	Started  time.Time `json:"started"`
	Commit   string    `json:"commit"`
	Machine  Machine   `json:"machine"`
	Settings Settings  `json:"settings"`
	Ceilings *Ceilings `json:"ceilings,omitempty"`
	API      []Call    `json:"api,omitempty"`
	Pipeline *Pipeline `json:"pipeline,omitempty"`
	Inbound  *Inbound  `json:"inbound,omitempty"`
	// Processes is each process's memory at the end.
	Processes []Process `json:"processes,omitempty"`
	Seconds   float64   `json:"seconds"`
}

// Settings are the run's parameters.
type Settings struct {
	Mode        string   `json:"mode"`
	Scenarios   []string `json:"scenarios"`
	DurationSec float64  `json:"durationSec"`
	Concurrency int      `json:"concurrency"`
	Ramp        []int    `json:"ramp"`
	OpenLoopSec float64  `json:"openLoopSec"`
	RunID       string   `json:"runId"`
}

type clients struct {
	inv inventoryv1.InventoryServiceClient
	ord ordersv1.OrdersServiceClient
	ful fulfillmentv1.FulfillmentServiceClient
	led ledgerv1.LedgerServiceClient
}

// run is one benchmark run's state.
type run struct {
	cfg  Config
	c    clients
	rest rest
	sku  string
}

// Run measures the scenarios of cfg in order and returns the figures. It
// stops at the first scenario that fails.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Duration <= 0 {
		cfg.Duration = 5 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if len(cfg.Ramp) == 0 {
		cfg.Ramp = []int{4, 16, 64}
	}
	if cfg.OpenLoop <= 0 {
		cfg.OpenLoop = cfg.Duration
	}
	if len(cfg.Scenarios) == 0 {
		cfg.Scenarios = AllScenarios
	}
	for _, s := range cfg.Scenarios {
		if !slices.Contains(AllScenarios, s) {
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", s, strings.Join(AllScenarios, ", "))
		}
	}
	if cfg.RunID == "" {
		cfg.RunID = time.Now().UTC().Format("20060102T150405")
	}
	if cfg.Progress == nil {
		cfg.Progress = func(string) {}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 256 // one kept-alive connection per worker, as a partner's client pool would
	b := &run{cfg: cfg, sku: "BENCH-" + cfg.RunID,
		c: clients{inv: inventoryv1.NewInventoryServiceClient(cfg.Conn), ord: ordersv1.NewOrdersServiceClient(cfg.Conn),
			ful: fulfillmentv1.NewFulfillmentServiceClient(cfg.Conn), led: ledgerv1.NewLedgerServiceClient(cfg.Conn)},
		rest: rest{base: strings.TrimRight(cfg.GatewayURL, "/"), key: cfg.APIKey, http: &http.Client{Transport: transport, Timeout: time.Minute}}}
	res := &Result{Started: time.Now().UTC(), Commit: cfg.Commit, Machine: machine(), Settings: Settings{
		Mode: cfg.Mode, Scenarios: cfg.Scenarios, DurationSec: cfg.Duration.Seconds(), Concurrency: cfg.Concurrency,
		Ramp: cfg.Ramp, OpenLoopSec: cfg.OpenLoop.Seconds(), RunID: cfg.RunID}}
	started := time.Now()
	defer func() {
		res.Seconds = round1(time.Since(started).Seconds())
		if cfg.Stats != nil {
			res.Processes = cfg.Stats().Processes
		}
	}()
	if b.wants(ScenarioAPI, ScenarioPipeline, ScenarioInbound) {
		b.progress("setting up item " + b.sku)
		if err := b.setup(ctx); err != nil {
			return res, fmt.Errorf("setup: %w", err)
		}
	}
	if b.wants(ScenarioCeiling) {
		c, err := b.ceilings(ctx)
		if err != nil {
			return res, err
		}
		res.Ceilings = c
	}
	if b.wants(ScenarioAPI) {
		calls, err := b.api(ctx)
		res.API = calls
		if err != nil {
			return res, fmt.Errorf("api: %w", err)
		}
	}
	if b.wants(ScenarioPipeline) {
		stop := func() {}
		if cfg.Profile != nil {
			stop = cfg.Profile()
		}
		p, err := b.pipeline(ctx, res.Ceilings)
		stop()
		res.Pipeline = p
		if err != nil {
			return res, fmt.Errorf("pipeline: %w", err)
		}
	}
	if b.wants(ScenarioInbound) {
		in, err := b.inbound(ctx, res.Ceilings)
		res.Inbound = in
		if err != nil {
			return res, fmt.Errorf("inbound: %w", err)
		}
	}
	return res, nil
}

func (b *run) wants(scenarios ...string) bool {
	for _, s := range scenarios {
		if slices.Contains(b.cfg.Scenarios, s) {
			return true
		}
	}
	return false
}

func (b *run) progress(s string) { b.cfg.Progress(s) }

func (b *run) id(parts ...any) string {
	s := "bench-" + b.cfg.RunID
	for _, p := range parts {
		s += "-" + fmt.Sprint(p)
	}
	return s
}

func qty(v, uom string) *typev1.Quantity { return &typev1.Quantity{Value: v, Uom: uom} }

func (b *run) ceilings(ctx context.Context) (*Ceilings, error) {
	b.progress("ceiling: database commits")
	c := &Ceilings{}
	var err error
	c.DatabaseCommitsPerSec, c.Database, err = databaseCeiling(ctx, b.cfg.DatabaseURL, b.cfg.CeilingDir, b.cfg.Duration/2)
	if err != nil {
		return nil, err
	}
	if b.cfg.NATSURL != "" {
		b.progress("ceiling: NATS JetStream publish with ack")
		c.NATSPublishSyncPerSec, c.NATSPublishAsyncPerSec, err = natsCeiling(ctx, b.cfg.NATSURL, b.cfg.RunID, b.cfg.Duration/2)
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

// setup creates the run's item, stocks a million in the main warehouse's
// storage bin (a receipt against a purchase order, so the ledger books it
// to GRNI), and waits for orders' catalog to know it.
func (b *run) setup(ctx context.Context) error {
	if _, err := b.c.inv.CreateItem(ctx, &inventoryv1.CreateItemRequest{RequestId: b.id("item"),
		Item: &inventoryv1.Item{Sku: b.sku, Description: "benchmark item", BaseUom: "EA"}}); err != nil {
		return err
	}
	if _, err := b.c.inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: b.id("stock"),
		Item: "items/" + b.sku, Location: "warehouses/" + warehouse + "/locations/" + bin, Quantity: qty("1000000", "EA"),
		UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "1.20"},
		Source:   &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: b.id("po"), Line: "1"}}); err != nil {
		return err
	}
	return poll(ctx, time.Minute, "the item in orders' catalog", 20*time.Millisecond, func() (bool, error) {
		_, err := b.c.ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/" + b.sku})
		return err == nil, nil
	})
}

// poll calls cond every interval until it is true, fails, or timeout passes.
func poll(ctx context.Context, timeout time.Duration, what string, interval time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s", what, timeout)
		}
		select {
		case <-time.After(interval):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
