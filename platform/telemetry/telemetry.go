// Package telemetry installs the process-wide OpenTelemetry providers. Call
// Setup once, first thing in main, before building anything instrumented:
// otelgrpc and friends capture the global providers when they are constructed.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Config says who we are and where telemetry goes.
type Config struct {
	// ServiceName becomes the resource's service.name; required.
	ServiceName string
	// ServiceVersion becomes service.version (e.g. the build's git describe).
	ServiceVersion string
	// OTLPEndpoint is the OTLP/gRPC collector, as "host:port" or a URL such as
	// "http://otel-collector:4317". Empty means nothing is exported.
	OTLPEndpoint string
	// OTLPInsecure sends OTLP without TLS (a collector sidecar or a dev setup).
	// A URL endpoint's scheme decides this by itself.
	OTLPInsecure bool
}

// Propagator is the W3C TraceContext + Baggage propagator that Setup installs,
// exported so that tests and tools install the very same one.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Setup installs the global propagator (always) and the global TracerProvider
// and MeterProvider. With an OTLPEndpoint, spans are batch-exported and metrics
// periodically exported over OTLP/gRPC. Without one, an SDK TracerProvider with
// no exporter is installed, so trace ids still exist for logs and for
// propagation to other services, and metrics stay no-op: nothing leaves the
// process. The returned shutdown flushes and stops what was started; call it
// with a deadline at the end of main.
func Setup(ctx context.Context, cfg Config) (shutdown func(context.Context) error, err error) {
	if cfg.ServiceName == "" {
		return nil, errors.New("telemetry setup: service name is required")
	}
	otel.SetTextMapPropagator(Propagator())

	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
		// Last, so that the configured name wins over OTEL_SERVICE_NAME.
		resource.WithAttributes(
			semconv.ServiceName(cfg.ServiceName),
			semconv.ServiceVersion(cfg.ServiceVersion),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry setup: build resource: %w", err)
	}

	if cfg.OTLPEndpoint == "" {
		tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res))
		otel.SetTracerProvider(tp)
		return tp.Shutdown, nil
	}

	traceExp, err := otlptracegrpc.New(ctx, traceEndpoint(cfg)...)
	if err != nil {
		return nil, fmt.Errorf("telemetry setup: OTLP trace exporter for %s: %w", cfg.OTLPEndpoint, err)
	}
	metricExp, err := otlpmetricgrpc.New(ctx, metricEndpoint(cfg)...)
	if err != nil {
		_ = traceExp.Shutdown(ctx)
		return nil, fmt.Errorf("telemetry setup: OTLP metric exporter for %s: %w", cfg.OTLPEndpoint, err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(traceExp))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metricExp)))
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)

	return func(ctx context.Context) error {
		// Both, even if the first fails: each flushes its own pending data.
		return errors.Join(tp.Shutdown(ctx), mp.Shutdown(ctx))
	}, nil
}

func isURL(endpoint string) bool { return strings.Contains(endpoint, "://") }

func traceEndpoint(cfg Config) []otlptracegrpc.Option {
	if isURL(cfg.OTLPEndpoint) {
		return []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(cfg.OTLPEndpoint)}
	}
	opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(cfg.OTLPEndpoint)}
	if cfg.OTLPInsecure {
		opts = append(opts, otlptracegrpc.WithInsecure())
	}
	return opts
}

func metricEndpoint(cfg Config) []otlpmetricgrpc.Option {
	if isURL(cfg.OTLPEndpoint) {
		return []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpointURL(cfg.OTLPEndpoint)}
	}
	opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpoint(cfg.OTLPEndpoint)}
	if cfg.OTLPInsecure {
		opts = append(opts, otlpmetricgrpc.WithInsecure())
	}
	return opts
}
