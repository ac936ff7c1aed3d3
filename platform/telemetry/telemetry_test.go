package telemetry

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	collmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// restoreGlobals puts back the otel globals that Setup replaces.
func restoreGlobals(t *testing.T) {
	t.Helper()
	tp, mp, prop := otel.GetTracerProvider(), otel.GetMeterProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() {
		otel.SetTracerProvider(tp)
		otel.SetMeterProvider(mp)
		otel.SetTextMapPropagator(prop)
	})
}

func TestSetupRequiresServiceName(t *testing.T) {
	restoreGlobals(t)
	if _, err := Setup(context.Background(), Config{}); err == nil {
		t.Fatal("Setup without a service name succeeded")
	}
}

func TestSetupWithoutEndpoint(t *testing.T) {
	restoreGlobals(t)
	mpBefore := otel.GetMeterProvider()

	shutdown, err := Setup(context.Background(), Config{ServiceName: "ledger", ServiceVersion: "v0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})

	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); !ok {
		t.Errorf("tracer provider = %T, want the SDK's", otel.GetTracerProvider())
	}
	if _, ok := otel.GetMeterProvider().(*sdkmetric.MeterProvider); ok || otel.GetMeterProvider() != mpBefore {
		t.Errorf("meter provider changed to %T, want it left alone", otel.GetMeterProvider())
	}

	ctx, span := otel.Tracer("test").Start(context.Background(), "op")
	defer span.End()
	if !span.SpanContext().IsValid() || !span.SpanContext().IsSampled() {
		t.Fatalf("span context %v: want a valid, sampled one", span.SpanContext())
	}
	carrier := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, carrier)
	if carrier.Get("traceparent") == "" {
		t.Errorf("propagator injected %v, want a traceparent", carrier)
	}
	if fields := otel.GetTextMapPropagator().Fields(); len(fields) != 3 { // traceparent, tracestate, baggage
		t.Errorf("propagator fields = %v, want TraceContext and Baggage", fields)
	}
}

// collector is a fake OTLP/gRPC endpoint that remembers what it received.
type collector struct {
	colltracepb.UnimplementedTraceServiceServer

	mu      sync.Mutex
	spans   map[string]string // span name → service.name of its resource
	metrics map[string]bool
}

func (c *collector) Export(_ context.Context, req *colltracepb.ExportTraceServiceRequest) (*colltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		var service string
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans[s.GetName()] = service
			}
		}
	}
	return &colltracepb.ExportTraceServiceResponse{}, nil
}

// metricsService adapts collector to the metrics service, whose Export method
// has the same name as the trace service's.
type metricsService struct {
	collmetricpb.UnimplementedMetricsServiceServer
	c *collector
}

func (m metricsService) Export(_ context.Context, req *collmetricpb.ExportMetricsServiceRequest) (*collmetricpb.ExportMetricsServiceResponse, error) {
	m.c.mu.Lock()
	defer m.c.mu.Unlock()
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, mt := range sm.GetMetrics() {
				m.c.metrics[mt.GetName()] = true
			}
		}
	}
	return &collmetricpb.ExportMetricsServiceResponse{}, nil
}

func startCollector(t *testing.T) (*collector, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{spans: map[string]string{}, metrics: map[string]bool{}}
	srv := grpc.NewServer()
	colltracepb.RegisterTraceServiceServer(srv, c)
	collmetricpb.RegisterMetricsServiceServer(srv, metricsService{c: c})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return c, lis.Addr().String()
}

func TestSetupExportsOverOTLP(t *testing.T) {
	tests := []struct {
		name     string
		endpoint func(addr string) string
		insecure bool
	}{
		{name: "host:port", endpoint: func(a string) string { return a }, insecure: true},
		{name: "url", endpoint: func(a string) string { return "http://" + a }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			restoreGlobals(t)
			coll, addr := startCollector(t)
			shutdown, err := Setup(context.Background(), Config{
				ServiceName:  "inventory",
				OTLPEndpoint: tt.endpoint(addr),
				OTLPInsecure: tt.insecure,
			})
			if err != nil {
				t.Fatal(err)
			}

			_, span := otel.Tracer("test").Start(context.Background(), "receive-goods")
			span.End()
			counter, err := otel.Meter("test").Int64Counter("receipts_total")
			if err != nil {
				t.Fatal(err)
			}
			counter.Add(context.Background(), 1)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := shutdown(ctx); err != nil { // flushes both pipelines
				t.Fatalf("shutdown: %v", err)
			}

			coll.mu.Lock()
			defer coll.mu.Unlock()
			if got := coll.spans["receive-goods"]; got != "inventory" {
				t.Errorf("collector spans = %v, want receive-goods from service inventory", coll.spans)
			}
			if !coll.metrics["receipts_total"] {
				t.Errorf("collector metrics = %v, want receipts_total", coll.metrics)
			}
		})
	}
}
