package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/cmd/trueup/internal/demodata"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/natsx"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// trueupBinary builds cmd/trueup once per test binary (removed by TestMain).
func trueupBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "trueup-e2e-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "trueup")
		out, err := exec.Command("go", "build", "-o", binPath, "trueup.dev/cmd/trueup").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is one `trueup serve` process, restarted with the same arguments.
type proc struct {
	name, addr string
	args       []string
	log        *os.File
	cmd        *exec.Cmd
	done       chan struct{}
}

func (p *proc) start(t *testing.T, bin string) {
	t.Helper()
	p.cmd = exec.Command(bin, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(p.cmd, p.done)
}

// kill is kill -9: no drain, no graceful anything.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.kill()
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// retry calls f until it succeeds, through the errors a caller sees while a
// service restarts (Unavailable, deadlines); each try has 10 s. Every call
// it retries carries a request id, so a try whose answer was lost is
// answered again, not done twice.
func retry[T any](t *testing.T, what string, f func(context.Context) (T, error)) T {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		v, err := f(ctx)
		cancel()
		if err == nil {
			return v
		}
		switch status.Code(err) {
		case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Aborted:
		default:
			t.Fatalf("%s: %v", what, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after 90s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestOutboundSurvivesEachServiceKilled runs the services as separate
// `trueup serve` processes on SQLite files, with a NATS server the test
// starts, and plays the outbound flow in four rounds: in each, one service
// in turn (inventory, orders, fulfillment, ledger) is killed with SIGKILL
// right after the round's sales orders are confirmed and again right after
// they ship, and started again at once. Clients retry with their request
// ids. Once the flow settles: every order shipped once and invoiced once,
// every payment applied, COGS equal to what the shipments cost, the trial
// balance zero, the books reconciled, nothing parked or dead-lettered, and
// every event delivered again changes nothing.
func TestOutboundSurvivesEachServiceKilled(t *testing.T) {
	bin := trueupBinary(t)
	dir := t.TempDir()
	ns, err := natsx.StartEmbedded(natsx.EmbeddedOptions{StoreDir: filepath.Join(dir, "nats"), Port: -1, ServerName: "e2e-faults"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)

	names := []string{"inventory", "orders", "fulfillment", "ledger"}
	procs := map[string]*proc{}
	for _, n := range names {
		procs[n] = &proc{name: n, addr: freeAddr(t)}
	}
	for _, n := range names {
		p := procs[n]
		log, err := os.Create(filepath.Join(dir, n+".log"))
		if err != nil {
			t.Fatal(err)
		}
		p.log = log
		p.args = []string{"serve", n, "--database-url", "sqlite://" + filepath.Join(dir, n+".db"), "--nats-url", ns.ClientURL(),
			"--grpc-addr", p.addr, "--service-token", serviceToken, "--stream-replicas", "1", "--single-node",
			"--inventory-addr", procs["inventory"].addr, "--log-level", "warn"}
		p.start(t, bin)
	}
	t.Cleanup(func() {
		for _, n := range names {
			procs[n].stop()
			procs[n].log.Close()
		}
		if t.Failed() {
			for _, n := range names {
				b, _ := os.ReadFile(filepath.Join(dir, n+".log"))
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("--- %s log (tail) ---\n%s", n, b)
			}
		}
	})

	conns := map[string]*grpc.ClientConn{}
	for _, n := range names {
		c, err := grpc.NewClient(procs[n].addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpcserver.WithServiceToken(serviceToken))
		if err != nil {
			t.Fatal(err)
		}
		conns[n] = c
		t.Cleanup(func() { c.Close() })
	}
	healthy := func(n string) {
		t.Helper()
		retry(t, n+" serving", func(ctx context.Context) (bool, error) {
			r, err := healthpb.NewHealthClient(conns[n]).Check(ctx, &healthpb.HealthCheckRequest{})
			if err == nil && r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				err = status.Error(codes.Unavailable, "not serving yet")
			}
			return true, err
		})
	}
	for _, n := range names {
		healthy(n)
	}
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{conn: conns["inventory"], js: js,
		inv: inventoryv1.NewInventoryServiceClient(conns["inventory"]), ord: ordersv1.NewOrdersServiceClient(conns["orders"]),
		ful: fulfillmentv1.NewFulfillmentServiceClient(conns["fulfillment"]), cnt: fulfillmentv1.NewCountServiceClient(conns["fulfillment"]),
		led: ledgerv1.NewLedgerServiceClient(conns["ledger"]), recon: ledgerv1.NewReconciliationServiceClient(conns["ledger"]),
		timeout: 2 * time.Minute}
	ctx := context.Background()
	retry(t, "the demo data", func(ctx context.Context) (bool, error) {
		return true, demodata.LoadInto(ctx, conns["inventory"], conns["orders"], conns["fulfillment"])
	})
	e.waitFor(t, "the demo items in orders' catalog", func() bool {
		_, err1 := e.ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/WIDGET-100"})
		_, err2 := e.ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/COFFEE-BEANS"})
		return err1 == nil && err2 == nil
	})
	e.checkBooks(t)
	before := map[string]int64{}
	for _, a := range []string{"1400", "1200", "4000", "5000", "1000"} {
		before[a] = e.balance(t, a, "")
	}

	restart := func(n string) {
		procs[n].kill()
		procs[n].start(t, bin)
	}
	type order struct {
		name, id string
		total    int64
	}
	var all []order
	var cogs int64
	for round, victim := range names {
		var orders []order
		for i := range 3 {
			req := fmt.Sprintf("f-so-%d-%d", round, i)
			lines := []*ordersv1.SalesOrderLine{{Item: "WIDGET-100", Quantity: &typev1.Quantity{Value: "2", Uom: "EA"}, UnitPrice: "2.50", TaxRatePercent: "10", Warehouse: "MAIN"}}
			if i%2 == 1 {
				lines = append(lines, &ordersv1.SalesOrderLine{Item: "COFFEE-BEANS", Quantity: &typev1.Quantity{Value: "1", Uom: "KG"}, UnitPrice: "20.00", TaxRatePercent: "10", Warehouse: "MAIN"})
			}
			so := retry(t, "create "+req, func(ctx context.Context) (*ordersv1.SalesOrder, error) {
				return e.ord.CreateSalesOrder(ctx, &ordersv1.CreateSalesOrderRequest{RequestId: req, SalesOrder: &ordersv1.SalesOrder{Customer: "customers/NORTHWIND", Lines: lines}})
			})
			retry(t, "confirm "+req, func(ctx context.Context) (*ordersv1.SalesOrder, error) {
				return e.ord.ConfirmSalesOrder(ctx, &ordersv1.ConfirmSalesOrderRequest{Name: so.GetName(), RequestId: req + "-confirm"})
			})
			orders = append(orders, order{name: so.GetName(), id: strings.TrimPrefix(so.GetName(), "salesOrders/"), total: so.GetTotal().GetMinorUnits()})
		}
		restart(victim) // the confirmations are on their way to fulfillment, the allocations to inventory

		for _, o := range orders {
			e.waitFor(t, o.name+" released with its picks", func() bool {
				ob, err := e.ful.GetOutboundOrder(ctx, &fulfillmentv1.GetOutboundOrderRequest{Name: "outboundOrders/" + o.id})
				return err == nil && ob.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_RELEASED &&
					len(e.picksRetrying(t, o.id)) > 0
			})
			for _, k := range e.picksRetrying(t, o.id) {
				retry(t, "pick "+k.GetName(), func(ctx context.Context) (*fulfillmentv1.ConfirmPickResponse, error) {
					return e.ful.ConfirmPick(ctx, &fulfillmentv1.ConfirmPickRequest{RequestId: "f-pick-" + k.GetName(), Name: k.GetName(), Quantity: &typev1.Quantity{Value: k.GetBaseQuantity()}})
				})
			}
			e.waitFor(t, o.name+" picked", func() bool {
				ob, err := e.ful.GetOutboundOrder(ctx, &fulfillmentv1.GetOutboundOrderRequest{Name: "outboundOrders/" + o.id})
				return err == nil && ob.GetState() == fulfillmentv1.OutboundOrderState_OUTBOUND_ORDER_STATE_PICKED
			})
			packed := retry(t, "pack "+o.id, func(ctx context.Context) (*fulfillmentv1.Shipment, error) {
				return e.ful.PackShipment(ctx, &fulfillmentv1.PackShipmentRequest{RequestId: "f-pack-" + o.id, OutboundOrder: "outboundOrders/" + o.id, Warehouse: "MAIN"})
			})
			shipped := retry(t, "ship "+o.id, func(ctx context.Context) (*fulfillmentv1.Shipment, error) {
				return e.ful.ShipShipment(ctx, &fulfillmentv1.ShipShipmentRequest{RequestId: "f-ship-" + o.id, Name: packed.GetName(), Carrier: "carriers/UPS", TrackingNumber: "1ZF" + o.id[len(o.id)-8:]})
			})
			for _, l := range shipped.GetLines() {
				cogs += l.GetCost().GetMinorUnits()
			}
		}
		restart(victim) // the shipments are on their way to orders (invoices) and the ledger (COGS)
		all = append(all, orders...)
	}
	for _, n := range names {
		healthy(n)
	}

	// Every order invoiced exactly once, and paid.
	var billed, net int64
	for i, o := range all {
		var invs []*ordersv1.Invoice
		e.waitFor(t, "the invoice of "+o.name, func() bool {
			resp, err := e.ord.ListInvoices(ctx, &ordersv1.ListInvoicesRequest{SalesOrder: o.name})
			invs = resp.GetInvoices()
			return err == nil && len(invs) >= 1
		})
		if len(invs) != 1 || invs[0].GetTotal().GetMinorUnits() != o.total {
			t.Fatalf("invoices of %s = %v, want one of %d", o.name, invs, o.total)
		}
		billed += o.total
		net += invs[0].GetNetTotal().GetMinorUnits()
		retry(t, "pay "+o.name, func(ctx context.Context) (*ordersv1.Payment, error) {
			return e.ord.RecordPayment(ctx, &ordersv1.RecordPaymentRequest{RequestId: "f-pay-" + strconv.Itoa(i), Payment: &ordersv1.Payment{
				Customer: "customers/NORTHWIND", Amount: &typev1.Money{CurrencyCode: "USD", MinorUnits: o.total},
				Method: ordersv1.PaymentMethod_PAYMENT_METHOD_BANK_TRANSFER, Reference: "F-" + strconv.Itoa(i)}})
		})
	}
	e.waitFor(t, "the receivable cleared", func() bool { return e.balance(t, "1200", "") == before["1200"] })
	books := e.checkBooks(t)
	for a, want := range map[string]int64{"1400": -cogs, "5000": cogs, "1200": 0, "4000": -net, "1000": billed} {
		if got := e.balance(t, a, "") - before[a]; got != want {
			t.Errorf("account %s moved %d, want %d", a, got, want)
		}
	}
	if stock := e.stockByBin(t, "MAIN"); stock["WIDGET-100@A-01-01#"] != "96" {
		t.Errorf("widgets left at A-01-01 = %q, want 120 - 12 orders × 2", stock["WIDGET-100@A-01-01#"])
	}
	t.Logf("%d orders shipped, invoiced and paid across 8 kills; COGS %d, billed %d", len(all), cogs, billed)
	e.redeliverAll(t, books)
	var logs bytes.Buffer
	for _, n := range names {
		b, _ := os.ReadFile(filepath.Join(dir, n+".log"))
		if bytes.Contains(b, []byte("panic")) {
			fmt.Fprintf(&logs, "%s panicked:\n%s\n", n, b)
		}
	}
	if logs.Len() > 0 {
		t.Fatal(logs.String())
	}
}

// picksRetrying is picks, treating a fulfillment that is down as no tasks yet.
func (e *env) picksRetrying(t *testing.T, salesOrder string) []*fulfillmentv1.Task {
	t.Helper()
	resp, err := e.ful.ListTasks(context.Background(), &fulfillmentv1.ListTasksRequest{Type: fulfillmentv1.TaskType_TASK_TYPE_PICK,
		State: fulfillmentv1.TaskState_TASK_STATE_OPEN, PageSize: 1000})
	if err != nil {
		return nil
	}
	var out []*fulfillmentv1.Task
	for _, k := range resp.GetTasks() {
		if strings.HasPrefix(k.GetName(), "tasks/PICK-"+salesOrder+"-") {
			out = append(out, k)
		}
	}
	return out
}
