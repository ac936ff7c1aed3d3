package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
)

// clients are the suite's gRPC APIs, as the company's own apps call them.
type clients struct {
	inv   inventoryv1.InventoryServiceClient
	ord   ordersv1.OrdersServiceClient
	ful   fulfillmentv1.FulfillmentServiceClient
	cnt   fulfillmentv1.CountServiceClient
	led   ledgerv1.LedgerServiceClient
	recon ledgerv1.ReconciliationServiceClient
}

func newClients(conn grpc.ClientConnInterface) clients {
	return clients{
		inv: inventoryv1.NewInventoryServiceClient(conn), ord: ordersv1.NewOrdersServiceClient(conn),
		ful: fulfillmentv1.NewFulfillmentServiceClient(conn), cnt: fulfillmentv1.NewCountServiceClient(conn),
		led: ledgerv1.NewLedgerServiceClient(conn), recon: ledgerv1.NewReconciliationServiceClient(conn),
	}
}

// partner calls the REST gateway as one partner, with its API key.
type partner struct {
	base string
	key  string
	http *http.Client
}

// restError is a non-2xx answer of the gateway.
type restError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *restError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// call sends body (a proto message as JSON, or nil for none) with the
// Idempotency-Key key, and decodes a 2xx answer into out. A 429 is waited
// out (Retry-After) and sent again with the same key, which is safe: the
// gateway answers a replay with the first response.
func (p partner) call(ctx context.Context, method, path, idempotencyKey string, body, out proto.Message) error {
	var payload []byte
	if body != nil {
		b, err := protojson.Marshal(body)
		if err != nil {
			return err
		}
		payload = b
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, p.base+path, bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+p.key)
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if idempotencyKey != "" {
			req.Header.Set("Idempotency-Key", idempotencyKey)
		}
		resp, err := p.http.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		if resp.StatusCode == http.StatusTooManyRequests && attempt < 100 {
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			select {
			case <-time.After(wait):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if resp.StatusCode/100 != 2 {
			var e struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(b, &e)
			return &restError{Method: method, Path: path, Status: resp.StatusCode, Message: strings.TrimSpace(e.Message)}
		}
		if out != nil {
			if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, out); err != nil {
				return fmt.Errorf("%s %s: decode: %w", method, path, err)
			}
		}
		return nil
	}
}

// poll calls cond every 25 ms until it is true, fails, or timeout passes.
func poll(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
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
		case <-time.After(25 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
