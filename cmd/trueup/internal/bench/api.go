package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
)

// Call is one API operation measured at a fixed concurrency.
type Call struct {
	Operation   string  `json:"operation"`
	Transport   string  `json:"transport"` // "grpc" or "rest"
	Concurrency int     `json:"concurrency"`
	Requests    int64   `json:"requests"`
	Errors      int64   `json:"errors"`
	PerSec      float64 `json:"perSec"`
	Latency     Latency `json:"latency"`
	// RatioToGRPC is this REST figure over the same operation's gRPC one.
	RatioToGRPC float64 `json:"ratioToGrpc,omitempty"`
	// FirstError is the first failure's message, if any failed.
	FirstError string `json:"firstError,omitempty"`
}

// closedLoop runs fn on conc workers, each calling again as soon as its call
// returns, for d, and measures each call.
func closedLoop(ctx context.Context, conc int, d time.Duration, fn func(ctx context.Context, n int64) error) Call {
	var (
		next, errs atomic.Int64
		mu         sync.Mutex
		lat        []time.Duration
		firstErr   string
		wg         sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for range conc {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				if err := fn(ctx, next.Add(1)); err != nil {
					if errs.Add(1) == 1 {
						mu.Lock()
						firstErr = err.Error()
						mu.Unlock()
					}
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	return Call{Concurrency: conc, Requests: int64(len(lat)), Errors: errs.Load(), PerSec: round1(float64(len(lat)) / elapsed.Seconds()),
		Latency: latencyOf(lat), FirstError: firstErr}
}

// rest is the gateway as the benchmark's partner.
type rest struct {
	base, key string
	http      *http.Client
}

// do sends body (nil for none) and fails on a non-2xx answer; the body is
// read and dropped, as a client would decode it.
func (r rest) do(ctx context.Context, method, path, idempotencyKey string, body proto.Message) error {
	var payload io.Reader
	if body != nil {
		b, err := protojson.Marshal(body)
		if err != nil {
			return err
		}
		payload = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, payload)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return nil
}

// api measures the same read (an item's availability: its stock levels in
// a warehouse; and the item itself) and the same write (a sales order)
// over gRPC and through the REST gateway, at the same concurrency.
func (b *run) api(ctx context.Context) ([]Call, error) {
	sku := b.sku
	so := func(n int64) *ordersv1.SalesOrder {
		return &ordersv1.SalesOrder{Customer: "customers/" + customer, Lines: []*ordersv1.SalesOrderLine{{Item: sku,
			Quantity: qty("1", "EA"), UnitPrice: "2.50", TaxRatePercent: "8.25", Warehouse: warehouse}}}
	}
	ops := []struct {
		op         string
		grpc, rest func(ctx context.Context, n int64) error
	}{
		{"item availability (ListStock)",
			func(ctx context.Context, _ int64) error {
				_, err := b.c.inv.ListStock(ctx, &inventoryv1.ListStockRequest{Warehouse: "warehouses/" + warehouse, Item: "items/" + sku})
				return err
			},
			func(ctx context.Context, _ int64) error {
				return b.rest.do(ctx, "GET", "/v1/warehouses/"+warehouse+"/stock?item=items/"+sku, "", nil)
			}},
		{"item (GetItem)",
			func(ctx context.Context, _ int64) error {
				_, err := b.c.inv.GetItem(ctx, &inventoryv1.GetItemRequest{Name: "items/" + sku})
				return err
			},
			func(ctx context.Context, _ int64) error { return b.rest.do(ctx, "GET", "/v1/items/"+sku, "", nil) }},
		{"create sales order",
			func(ctx context.Context, n int64) error {
				_, err := b.c.ord.CreateSalesOrder(ctx, &ordersv1.CreateSalesOrderRequest{RequestId: b.id("api-so-grpc", n), SalesOrder: so(n)})
				return err
			},
			func(ctx context.Context, n int64) error {
				return b.rest.do(ctx, "POST", "/v1/salesOrders", b.id("api-so-rest", n), so(n))
			}},
	}
	var out []Call
	for _, o := range ops {
		b.progress("api: " + o.op + " over gRPC")
		g := closedLoop(ctx, b.cfg.Concurrency, b.cfg.Duration, o.grpc)
		g.Operation, g.Transport = o.op, "grpc"
		b.progress("api: " + o.op + " through the REST gateway")
		r := closedLoop(ctx, b.cfg.Concurrency, b.cfg.Duration, o.rest)
		r.Operation, r.Transport = o.op, "rest"
		r.RatioToGRPC = ratio(r.PerSec, g.PerSec)
		out = append(out, g, r)
		if err := ctx.Err(); err != nil {
			return out, err
		}
	}
	return out, nil
}
