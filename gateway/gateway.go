// Package gateway is the partners' REST/JSON front door: grpc-gateway handlers in
// front of each service's gRPC API, API-key authentication, health endpoints and
// the OpenAPI document.
package gateway

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/api/openapi"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/grpcserver"
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
	// Limits bound requests and partners (zero fields take the defaults).
	Limits Limits
	// InternalToken, when set, lets an operator's probe or tool see each
	// backend's address and health on /readyz by sending it in the
	// X-Trueup-Internal-Token header. Without it /readyz says only whether
	// the gateway is ready: reaching the gateway (even from loopback) is not
	// proof of being internal. Empty: nobody sees the details.
	InternalToken string
	// KeysReloadInterval is how often the gateway checks whether the keys
	// file (Keys from LoadKeysFile) changed and re-reads it (default 2s), so
	// a created or revoked key takes effect without a restart.
	KeysReloadInterval time.Duration
	// ServiceToken is the services' shared internal credential, sent on
	// every upstream call (grpcserver.WithServiceToken); empty sends none.
	ServiceToken string
}

// InternalTokenHeader carries Config.InternalToken.
const InternalTokenHeader = "X-Trueup-Internal-Token"

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

// servedServices are the gRPC services whose handlers New registers; their
// google.api.http rules tell the Idempotency-Key middleware each route's kind.
var servedServices = []protoreflect.FullName{
	protoreflect.FullName(inventoryv1.InventoryService_ServiceDesc.ServiceName),
	protoreflect.FullName(ordersv1.OrdersService_ServiceDesc.ServiceName),
	protoreflect.FullName(fulfillmentv1.FulfillmentService_ServiceDesc.ServiceName),
	protoreflect.FullName(fulfillmentv1.CountService_ServiceDesc.ServiceName),
	protoreflect.FullName(ledgerv1.LedgerService_ServiceDesc.ServiceName),
	protoreflect.FullName(ledgerv1.ReconciliationService_ServiceDesc.ServiceName),
	protoreflect.FullName(ledgerv1.PeriodService_ServiceDesc.ServiceName),
	protoreflect.FullName(ledgerv1.ExportService_ServiceDesc.ServiceName),
}

// Gateway is the REST/JSON gateway.
type Gateway struct {
	handler http.Handler
	log     *slog.Logger
	token   string
	conns   []*grpc.ClientConn
	health  []healthpb.HealthClient
	targets []string
	stop    chan struct{}
	done    chan struct{}
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
	limits := cfg.Limits.withDefaults()
	g := &Gateway{log: cfg.Logger, token: cfg.InternalToken}
	routes, err := keyedRoutes(servedServices)
	if err != nil {
		return nil, err
	}
	// /openapi.json and /docs are built once, from the same route table the
	// Idempotency-Key middleware uses.
	keyed := keyedOperations(routes)
	spec, err := servedSpec(openapi.Spec, keyed)
	if err != nil {
		return nil, err
	}
	page, err := renderDocs(spec, keyed)
	if err != nil {
		return nil, err
	}
	var mux *runtime.ServeMux
	mux = runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, jsonBody{&runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}}),
		runtime.WithErrorHandler(g.errorHandler),
		runtime.WithRoutingErrorHandler(func(ctx context.Context, m *runtime.ServeMux, ma runtime.Marshaler, w http.ResponseWriter, r *http.Request, code int) {
			g.routingErrorHandler(mux)(ctx, m, ma, w, r, code)
		}),
		runtime.WithMiddlewares(probeMiddleware, idempotencyKeys(routes)),
		// A form-encoded POST must not turn into a GET, nor a header change
		// the method: a route takes what its rule says and nothing else.
		runtime.WithDisablePathLengthFallback(),
		runtime.WithDisableHTTPMethodOverride(),
		runtime.WithIncomingHeaderMatcher(incomingHeaders(runtime.DefaultHeaderMatcher)),
		runtime.WithMetadata(partnerMetadata),
	)
	register := []struct {
		target string
		reg    func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error
	}{
		{cfg.Targets.Inventory, inventoryv1.RegisterInventoryServiceHandler},
		{cfg.Targets.Orders, ordersv1.RegisterOrdersServiceHandler},
		{cfg.Targets.Fulfillment, fulfillmentv1.RegisterFulfillmentServiceHandler},
		{cfg.Targets.Fulfillment, fulfillmentv1.RegisterCountServiceHandler},
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
				grpcserver.WithServiceToken(cfg.ServiceToken),
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
	root.HandleFunc("GET /openapi.json", serveSpec(spec))
	root.HandleFunc("GET /docs", serveDocs(page))
	// Order: a malformed request line is refused before the key is checked;
	// then authentication and scope, the partner's rate and concurrency, the
	// body's type and size; the credential and Grpc-Timeout never reach the mux.
	root.Handle("/v1/", checkRequestLine(cfg.Keys.middleware(newFailureThrottle(limits.AuthFailures, time.Minute), newPartnerLimiter(limits).middleware(
		checkBody(upstreamRequest(limits.UpstreamTimeout, mux))))))
	g.handler = withTracing(withAccessLog(cfg.Logger, limitHeaders(limits.MaxHeaderBytes, root)))
	if cfg.Keys.path != "" {
		interval := cfg.KeysReloadInterval
		if interval <= 0 {
			interval = DefaultKeysReloadInterval
		}
		g.stop, g.done = make(chan struct{}), make(chan struct{})
		go func() {
			defer close(g.done)
			cfg.Keys.watch(g.stop, interval, cfg.Logger)
		}()
	}
	return g, nil
}

// Handler is the gateway's HTTP handler.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Close stops watching the keys file (recording last-used times) and closes
// the connections to the services.
func (g *Gateway) Close() {
	if g.stop != nil {
		close(g.stop)
		<-g.done
		g.stop = nil
	}
	for _, c := range g.conns {
		_ = c.Close()
	}
}

// ready reports whether the gateway can take traffic. It answers 200 while the
// gateway itself is up, even when a service behind it is down: one unhealthy
// service must not take every partner route out of the load balancer. Only a
// caller holding the internal token (see Config.InternalToken) gets each
// backend's address and health; anyone else gets the status alone.
func (g *Gateway) ready(w http.ResponseWriter, r *http.Request) {
	got := r.Header.Get(InternalTokenHeader)
	if g.token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(g.token)) != 1 {
		writeJSON(w, http.StatusOK, `{"status":"ready"}`)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	backends := map[string]string{}
	for i, h := range g.health {
		state := "SERVING"
		resp, err := h.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			state = "UNREACHABLE"
		} else if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			state = resp.GetStatus().String()
		}
		backends[redactSecrets(g.targets[i])] = state
	}
	body, _ := json.Marshal(map[string]any{"status": "ready", "backends": backends})
	writeJSON(w, http.StatusOK, string(body))
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
