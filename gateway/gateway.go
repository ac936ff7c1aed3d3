// Package gateway is the partners' REST/JSON front door: grpc-gateway handlers in
// front of each service's gRPC API, API-key authentication, health endpoints and
// the OpenAPI document.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/api/openapi"
	"trueup.dev/platform/caller"
)

// Targets are the gRPC addresses of the services behind the gateway. In `trueup
// dev` they are all the same address.
type Targets struct {
	Inventory, Orders, Fulfillment, Ledger string
}

// Config configures the gateway.
type Config struct {
	Targets Targets
	// Keys authenticates partners; every /v1/ call needs a valid key.
	Keys   *Keys
	Logger *slog.Logger
}

// PartnerMetadataKey is the gRPC metadata key carrying the authenticated partner
// to the services; it is caller.PartnerMetadataKey, defined there once for the
// gateway and the services' caller interceptor.
const PartnerMetadataKey = caller.PartnerMetadataKey

// incomingHeaders decides which HTTP request headers reach the services as gRPC
// metadata: those base forwards (grpc-gateway's DefaultHeaderMatcher forwards
// only the permanent HTTP headers, as "grpcgateway-<name>"), except any that
// would land on a Trueup identity key. The partner a service sees must be the
// one this gateway authenticated and nothing else: a client sending
// "Grpc-Metadata-X-Trueup-Partner: other" (forwarded by grpc-gateway's legacy
// matcher, and by any future option that turns it back on) must neither
// replace nor add a value. partnerMetadata then sets exactly one value.
func incomingHeaders(base runtime.HeaderMatcherFunc) runtime.HeaderMatcherFunc {
	return func(key string) (string, bool) {
		md, ok := base(key)
		if !ok || strings.HasPrefix(strings.ToLower(md), caller.ReservedMetadataPrefix) {
			return "", false
		}
		return md, true
	}
}

// partnerMetadata is the metadata the gateway itself adds to every call: the
// authenticated partner, so the services' caller interceptor scopes the call
// (request-id claims, and ownership) by it. grpc-gateway lets an annotator's
// keys replace header-derived ones; incomingHeaders makes sure there are none.
func partnerMetadata(ctx context.Context, _ *http.Request) metadata.MD {
	if p, ok := PartnerFrom(ctx); ok {
		return metadata.Pairs(PartnerMetadataKey, p.ID)
	}
	// Unreachable behind Keys.Middleware, which refuses a request without a
	// partner; with no value the service would take the call as internal.
	return nil
}

// Gateway is the REST/JSON gateway.
type Gateway struct {
	handler http.Handler
	conns   []*grpc.ClientConn
	health  []healthpb.HealthClient
	targets []string
}

// New dials the services (lazily: a service that is down yields 503s, not a
// failed start) and builds the HTTP handler.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	if cfg.Keys == nil {
		return nil, errors.New("gateway: no API keys configured")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
		runtime.WithErrorHandler(errorHandler),
		runtime.WithIncomingHeaderMatcher(incomingHeaders(runtime.DefaultHeaderMatcher)),
		runtime.WithMetadata(partnerMetadata),
	)
	g := &Gateway{}
	register := []struct {
		target string
		reg    func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error
	}{
		{cfg.Targets.Inventory, inventoryv1.RegisterInventoryServiceHandler},
		{cfg.Targets.Orders, ordersv1.RegisterOrdersServiceHandler},
		{cfg.Targets.Fulfillment, fulfillmentv1.RegisterFulfillmentServiceHandler},
		{cfg.Targets.Ledger, ledgerv1.RegisterLedgerServiceHandler},
		{cfg.Targets.Ledger, ledgerv1.RegisterReconciliationServiceHandler},
		{cfg.Targets.Ledger, ledgerv1.RegisterPeriodServiceHandler},
		{cfg.Targets.Ledger, ledgerv1.RegisterExportServiceHandler},
	}
	conns := map[string]*grpc.ClientConn{}
	for _, r := range register {
		conn, ok := conns[r.target]
		if !ok {
			var err error
			conn, err = grpc.NewClient(r.target,
				grpc.WithTransportCredentials(insecure.NewCredentials()),
				// Spread calls over every pod behind a headless Service.
				grpc.WithDefaultServiceConfig(`{"loadBalancingConfig":[{"round_robin":{}}]}`),
				grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
				grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxBodyBytes), grpc.MaxCallSendMsgSize(MaxBodyBytes)))
			if err != nil {
				g.Close()
				return nil, fmt.Errorf("gateway: dial %s: %w", r.target, err)
			}
			conns[r.target] = conn
			g.conns = append(g.conns, conn)
			g.health = append(g.health, healthpb.NewHealthClient(conn))
			g.targets = append(g.targets, r.target)
		}
		if err := r.reg(ctx, mux, conn); err != nil {
			g.Close()
			return nil, fmt.Errorf("gateway: register handlers: %w", err)
		}
	}
	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, `{"status":"ok"}`) })
	root.HandleFunc("GET /readyz", g.ready)
	root.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi.Spec)
	})
	root.Handle("/v1/", cfg.Keys.Middleware(limitBody(mux)))
	g.handler = withTracing(withAccessLog(cfg.Logger, root))
	return g, nil
}

// Handler is the gateway's HTTP handler.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Close closes the connections to the services.
func (g *Gateway) Close() {
	for _, c := range g.conns {
		_ = c.Close()
	}
}

// ready reports whether the gateway can take traffic. It answers 200 while the
// gateway itself is up, even when a service behind it is down: one unhealthy
// service must not take every partner route out of the load balancer. The body
// lists each backend's health for the operator.
func (g *Gateway) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	body := `{"status":"ready","backends":{`
	for i, h := range g.health {
		state := "SERVING"
		resp, err := h.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			state = "UNREACHABLE"
		} else if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			state = resp.GetStatus().String()
		}
		if i > 0 {
			body += ","
		}
		body += fmt.Sprintf("%q:%q", g.targets[i], state)
	}
	writeJSON(w, http.StatusOK, body+"}}")
}

// MaxBodyBytes caps a request body: an item import of up to 10 MiB fits.
const MaxBodyBytes = 11 << 20

// limitBody refuses bodies over MaxBodyBytes before they are read into memory.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			writeJSON(w, http.StatusRequestEntityTooLarge, fmt.Sprintf(`{"code":3,"message":"request body over %d bytes","details":[]}`, MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// errorHandler writes gRPC errors as JSON with the matching HTTP status, but
// never lets a transport or internal detail (addresses, dial errors) reach a
// partner: those become a generic message with the trace id to quote.
func errorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	st := status.Convert(err)
	// grpc-gateway turns the body reader's *http.MaxBytesError into an
	// InvalidArgument status; only its text survives.
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) || (st.Code() == codes.InvalidArgument && strings.Contains(st.Message(), "request body too large")) {
		writeJSON(w, http.StatusRequestEntityTooLarge, fmt.Sprintf(`{"code":3,"message":"request body over %d bytes","details":[]}`, MaxBodyBytes))
		return
	}
	switch st.Code() {
	case codes.Unavailable, codes.Internal, codes.Unknown, codes.DataLoss:
		msg := "internal error"
		if st.Code() == codes.Unavailable {
			msg = "service temporarily unavailable; retry later"
		}
		if sc := trace.SpanContextFromContext(r.Context()); sc.HasTraceID() {
			msg += " (trace " + sc.TraceID().String() + ")"
		}
		err = status.Error(st.Code(), msg)
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
