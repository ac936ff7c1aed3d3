package natsx

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Consumer metric names. Every point carries the stream and durable.
const (
	// MetricProcessed counts messages a handler processed successfully.
	MetricProcessed = "trueup.consumer.processed"
	// MetricFailed counts failed handler calls, by kind: "transient" (retried without
	// limit), "logic" (counts towards MaxDeliver) or "permanent".
	MetricFailed = "trueup.consumer.failed"
	// MetricDeadLettered counts messages moved to the dead-letter stream.
	MetricDeadLettered = "trueup.consumer.dead_lettered"
	// MetricStuckHandlers is the number of handler calls running past their
	// deadline: a handler that ignores its context holds its message (and, with
	// Concurrency 1, the whole consumer) until it returns. Alert on it above zero.
	MetricStuckHandlers = "trueup.consumer.stuck_handlers"
)

// consumerMetrics are one consumer's instruments and the attributes they carry.
type consumerMetrics struct {
	attrs        metric.MeasurementOption
	processed    metric.Int64Counter
	failed       metric.Int64Counter
	deadLettered metric.Int64Counter
	stuck        metric.Int64UpDownCounter
}

func newConsumerMetrics(mp metric.MeterProvider, stream, durable string, log *slog.Logger) *consumerMetrics {
	meter := mp.Meter(tracerName)
	m := &consumerMetrics{attrs: metric.WithAttributes(
		attribute.String("messaging.nats.stream", stream),
		attribute.String("messaging.consumer.group.name", durable),
	)}
	var err error
	// A failed registration returns a working no-op instrument: log it and go on,
	// since metrics must never stop a consumer.
	report := func(name string) {
		if err != nil {
			log.Warn("register metric", "metric", name, "error", err)
		}
	}
	m.processed, err = meter.Int64Counter(MetricProcessed, metric.WithDescription("Messages processed successfully."))
	report(MetricProcessed)
	m.failed, err = meter.Int64Counter(MetricFailed, metric.WithDescription("Failed handler calls, by kind (transient, logic, permanent)."))
	report(MetricFailed)
	m.deadLettered, err = meter.Int64Counter(MetricDeadLettered, metric.WithDescription("Messages moved to the dead-letter stream."))
	report(MetricDeadLettered)
	m.stuck, err = meter.Int64UpDownCounter(MetricStuckHandlers, metric.WithDescription("Handler calls still running past their deadline."))
	report(MetricStuckHandlers)
	return m
}

func (m *consumerMetrics) fail(ctx context.Context, kind string) {
	m.failed.Add(ctx, 1, m.attrs, metric.WithAttributes(attribute.String("kind", kind)))
}
