package e2e

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/cmd/trueup/internal/demodata"
	"trueup.dev/cmd/trueup/internal/suite"
	"trueup.dev/gateway"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/logging"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/testkit/pgtest"
)

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

const (
	serviceToken = "e2e-service-token-0123456789abcdef"
	// partnerKey is the API key of the partner "e2e-partner" (every scope).
	partnerKey = "e2e-partner-key-0123456789abcdef"
)

// env is one running suite and its clients: gRPC as the company's apps,
// REST as the partner.
type env struct {
	st   *suite.Stack
	conn *grpc.ClientConn
	base string // http://host:port of the gateway
	js   jetstream.JetStream

	inv   inventoryv1.InventoryServiceClient
	ord   ordersv1.OrdersServiceClient
	ful   fulfillmentv1.FulfillmentServiceClient
	cnt   fulfillmentv1.CountServiceClient
	led   ledgerv1.LedgerServiceClient
	recon ledgerv1.ReconciliationServiceClient

	// stop shuts the suite down (idempotent); the test's cleanup calls it too.
	stop func() error
	// timeout bounds waitFor and settle (zero: 20 s and 30 s).
	timeout time.Duration
}

// dialects runs fn on a suite on SQLite and on one on PostgreSQL (a fresh
// database per service; skipped without PostgreSQL binaries unless CI=true).
func dialects(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, start(t, nil)) })
	t.Run("postgres", func(t *testing.T) {
		urls := map[string]string{}
		for _, name := range suite.Names() {
			urls[name] = pgtest.NewDSN(t)
		}
		fn(t, start(t, urls))
	})
}

// start runs the whole suite on free loopback ports, loads the demo master
// data through the gRPC APIs, and waits until orders' catalog has it.
func start(t *testing.T, databaseURLs map[string]string) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	keys, err := gateway.ParseKeys(strings.NewReader("e2e-partner " + partnerKey + " *\n"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	st, err := suite.Start(ctx, suite.Config{DataDir: t.TempDir(), GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", NATSPort: -1,
		Keys: keys, ServiceToken: serviceToken, DatabaseURLs: databaseURLs}, logging.New(io.Discard, 0, "e2e"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	conn, err := grpc.NewClient(st.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpcserver.WithServiceToken(serviceToken))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(st.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	var stopErr error
	e := &env{st: st, conn: conn, base: "http://" + st.HTTPAddr, js: js,
		inv: inventoryv1.NewInventoryServiceClient(conn), ord: ordersv1.NewOrdersServiceClient(conn),
		ful: fulfillmentv1.NewFulfillmentServiceClient(conn), cnt: fulfillmentv1.NewCountServiceClient(conn),
		led: ledgerv1.NewLedgerServiceClient(conn), recon: ledgerv1.NewReconciliationServiceClient(conn)}
	e.stop = func() error {
		if stopped {
			return stopErr
		}
		stopped = true
		nc.Close()
		conn.Close()
		cancel()
		select {
		case stopErr = <-done:
		case <-time.After(30 * time.Second):
			stopErr = errors.New("the suite did not stop within 30s")
		}
		return stopErr
	}
	t.Cleanup(func() {
		if err := e.stop(); err != nil {
			t.Errorf("suite stopped with error: %v", err)
		}
	})
	if err := demodata.Load(ctx, conn); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "the demo items in orders' catalog", func() bool {
		_, err1 := e.ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/WIDGET-100"})
		_, err2 := e.ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/COFFEE-BEANS"})
		_, err3 := e.ord.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/BOLT-M8"})
		return err1 == nil && err2 == nil && err3 == nil
	})
	return e
}

// waitFor polls cond until it holds, failing the test after 20 s.
func (e *env) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(cmp.Or(e.timeout, 20*time.Second))
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rest calls the gateway as the partner. out, when not nil, receives the
// response body (protojson, unknown fields discarded) on a 2xx. It returns
// the status and the raw body.
func (e *env) rest(t *testing.T, method, path, idempotencyKey, body string, out proto.Message) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+partnerKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return resp.StatusCode, string(b)
}

// mustREST is rest that fails the test unless the status is 200.
func (e *env) mustREST(t *testing.T, method, path, idempotencyKey, body string, out proto.Message) {
	t.Helper()
	if code, b := e.rest(t, method, path, idempotencyKey, body, out); code != http.StatusOK {
		t.Fatalf("%s %s = %d %s", method, path, code, b)
	}
}

// settle waits until every event published so far has been delivered to
// and acknowledged by every durable consumer, twice in a row with nothing
// new in between (a handler's outbox may publish more).
func (e *env) settle(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	quiet := 0
	var last string
	wait := max(e.timeout, 30*time.Second)
	deadline := time.Now().Add(wait)
	for quiet < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the suite did not settle within %s: %s", wait, last)
		}
		time.Sleep(30 * time.Millisecond)
		state, busy := e.backlog(ctx, t)
		if busy || state != last {
			quiet, last = 0, state
			continue
		}
		quiet++
	}
}

// backlog describes every stream's last sequence and whether any durable
// consumer has messages not yet acknowledged.
func (e *env) backlog(ctx context.Context, t *testing.T) (string, bool) {
	var b strings.Builder
	busy := false
	for name := range e.js.StreamNames(ctx).Name() {
		s, err := e.js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s@%d ", name, s.CachedInfo().State.LastSeq)
		for ci := range s.ListConsumers(ctx).Info() {
			if ci.Config.Durable == "" {
				continue
			}
			if ci.NumPending > 0 || ci.NumAckPending > 0 {
				busy = true
				fmt.Fprintf(&b, "%s/%s pending=%d unacked=%d ", name, ci.Name, ci.NumPending, ci.NumAckPending)
			}
		}
	}
	return b.String(), busy
}

// books is what the ledger shows: the trial balance's rows and the number
// of journal entries, compared before and after a redelivery.
type books struct {
	rows    string
	entries int
}

// checkBooks settles the suite and asserts what a controller closing the
// month asserts: the trial balance is balanced and sums to zero in every
// currency, nothing is parked, and the reconciliation at the watermark is
// clean with GL inventory equal to inventory's valuation for every
// warehouse × item. It returns the books for a later comparison.
func (e *env) checkBooks(t *testing.T) books {
	t.Helper()
	ctx := context.Background()
	e.settle(t)
	tb, err := e.led.GetTrialBalance(ctx, &ledgerv1.GetTrialBalanceRequest{})
	if err != nil || !tb.GetBalanced() {
		t.Fatalf("trial balance = %v, %v; want balanced", tb, err)
	}
	for _, tot := range tb.GetTotals() {
		if tot.GetMinorUnits() != 0 {
			t.Errorf("trial balance total %v, want 0", tot)
		}
	}
	if p, err := e.led.ListParkedEvents(ctx, &ledgerv1.ListParkedEventsRequest{}); err != nil || len(p.GetParkedEvents()) != 0 {
		t.Errorf("parked events = %v, %v; want none", p.GetParkedEvents(), err)
	}
	if dlq, err := e.js.Stream(ctx, natsx.DLQStream); err == nil {
		if st := dlq.CachedInfo().State; st.Msgs != 0 {
			var why []string
			for seq := st.FirstSeq; seq <= st.LastSeq; seq++ {
				if m, err := dlq.GetMsg(ctx, seq); err == nil {
					why = append(why, m.Header.Get(natsx.HeaderDLQDurable)+" on "+m.Header.Get(natsx.HeaderDLQSubject)+": "+m.Header.Get(natsx.HeaderDLQError))
				}
			}
			t.Errorf("%d dead letters; want none:\n%s", st.Msgs, strings.Join(why, "\n"))
		}
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatal(err)
	}
	r, err := e.recon.Reconcile(ctx, &ledgerv1.ReconcileRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.GetClean() || len(r.GetPendingMovements()) != 0 {
		t.Fatalf("reconciliation not clean: %v", r)
	}
	val := map[string]int64{}
	for _, wh := range e.warehouses(t) {
		v, err := e.inv.GetValuation(ctx, &inventoryv1.GetValuationRequest{Warehouse: "warehouses/" + wh})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range v.GetLines() {
			if m := l.GetValue().GetMinorUnits(); m != 0 {
				val[wh+"/"+strings.TrimPrefix(l.GetItem(), "items/")] += m
			}
		}
	}
	gl := map[string]int64{}
	for _, row := range r.GetRows() {
		if row.GetDifference().GetMinorUnits() != 0 || row.GetInFlightValue().GetMinorUnits() != 0 {
			t.Errorf("reconciliation row %v: want no difference, nothing in flight", row)
		}
		if m := row.GetGlValue().GetMinorUnits(); m != 0 {
			gl[row.GetWarehouse()+"/"+row.GetItem()] += m
		}
		if row.GetGlValue().GetMinorUnits() != row.GetInventoryValue().GetMinorUnits() {
			t.Errorf("reconciliation row %v: GL != inventory", row)
		}
	}
	if fmt.Sprint(gl) != fmt.Sprint(val) {
		t.Fatalf("GL inventory by warehouse × item\n got %v\nwant %v (inventory's valuation)", gl, val)
	}
	var rows []string
	for _, row := range tb.GetRows() {
		rows = append(rows, fmt.Sprintf("%s %s %d/%d", row.GetAccount(), row.GetCurrencyCode(), row.GetDebit().GetMinorUnits(), row.GetCredit().GetMinorUnits()))
	}
	slices.Sort(rows)
	return books{rows: strings.Join(rows, "\n"), entries: e.countEntries(t)}
}

func (e *env) warehouses(t *testing.T) []string {
	t.Helper()
	resp, err := e.inv.ListWarehouses(context.Background(), &inventoryv1.ListWarehousesRequest{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range resp.GetWarehouses() {
		out = append(out, w.GetCode())
	}
	return out
}

func (e *env) countEntries(t *testing.T) int {
	t.Helper()
	n, token := 0, ""
	for {
		resp, err := e.led.ListJournalEntries(context.Background(), &ledgerv1.ListJournalEntriesRequest{PageSize: 500, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		n += len(resp.GetJournalEntries())
		if token = resp.GetNextPageToken(); token == "" {
			return n
		}
	}
}

// redeliverAll publishes every event of every stream again, newest first,
// with its event id kept and a new Nats-Msg-Id (so JetStream does not drop
// it as a duplicate: the services' inboxes must), waits until the suite has
// consumed them all, and checks that the books did not move: every event is
// posted exactly once however often and in whatever order it arrives.
func (e *env) redeliverAll(t *testing.T, before books) {
	t.Helper()
	ctx := context.Background()
	var msgs []*nats.Msg
	for name := range e.js.StreamNames(ctx).Name() {
		if name == natsx.DLQStream || strings.HasPrefix(name, "KV_") || strings.HasPrefix(name, "OBJ_") {
			continue
		}
		s, err := e.js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
			raw, err := s.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			m := nats.NewMsg(raw.Subject)
			m.Data = raw.Data
			for k, v := range raw.Header {
				m.Header[k] = v
			}
			m.Header.Set(nats.MsgIdHdr, fmt.Sprintf("e2e-redelivery-%s-%d", name, seq))
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 {
		t.Fatal("no events to redeliver")
	}
	slices.Reverse(msgs)
	for _, m := range msgs {
		if _, err := e.js.PublishMsg(ctx, m); err != nil {
			t.Fatalf("redeliver %s: %v", m.Subject, err)
		}
	}
	t.Logf("redelivered %d events, newest first", len(msgs))
	after := e.checkBooks(t)
	if after.entries != before.entries || after.rows != before.rows {
		t.Fatalf("the books moved on redelivery: %d entries -> %d\nbefore:\n%s\nafter:\n%s", before.entries, after.entries, before.rows, after.rows)
	}
}

// balance is an account's debit minus credit in USD, optionally for one
// warehouse.
func (e *env) balance(t *testing.T, account, warehouse string) int64 {
	t.Helper()
	resp, err := e.led.QueryBalances(context.Background(), &ledgerv1.QueryBalancesRequest{Account: "accounts/" + account, CurrencyCode: "USD", Warehouse: warehouse})
	if err != nil {
		t.Fatal(err)
	}
	var b int64
	for _, r := range resp.GetBalances() {
		b += r.GetNet().GetMinorUnits()
	}
	return b
}

// jsonBody formats a JSON request body, for readability at the call sites.
func jsonBody(format string, args ...any) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, format, args...)
	return b.String()
}
