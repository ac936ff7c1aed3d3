package natsx

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// TestTracePropagation proves the chain the brief asks for: a span writes an event
// (its traceparent in the outbox headers), the relay's publish span and the
// consumer's process span are both its direct children, and the handler runs inside
// the process span. It changes the global otel providers, so it is not parallel.
func TestTracePropagation(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(prevProp)
		_ = tp.Shutdown(context.Background())
	})

	js := newJS(t)
	handlerSpan := make(chan trace.SpanContext, 2)
	// Consume is called inside a start-up span; messages must not become its children.
	startCtx, startup := tp.Tracer("test").Start(testCtx(t), "startup")
	c, err := Consume(startCtx, js, ConsumerConfig{Stream: testStream, Durable: "worker"}, func(ctx context.Context, m *Message) error {
		handlerSpan <- trace.SpanContextFromContext(ctx)
		return nil
	})
	startup.End()
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop(context.Background()) })

	// What outbox.Add does inside the gRPC handler's span.
	ctx, parent := tp.Tracer("test").Start(t.Context(), "ReceiptService/RecordReceipt")
	m := event("evt-1", "data")
	m.Headers = map[string]string{}
	otel.GetTextMapPropagator().Inject(ctx, propagation.MapCarrier(m.Headers))
	parent.End()
	publish(t, js, m) // the relay publishes later, outside the handler's context

	var inHandler trace.SpanContext
	select {
	case inHandler = <-handlerSpan:
	case <-time.After(10 * time.Second):
		t.Fatal("message not processed")
	}

	var producer, consumer sdktrace.ReadOnlySpan
	eventually(t, "publish and process spans", func() bool {
		for _, s := range rec.Ended() {
			if !hasAttr(s, "messaging.message.id", "evt-1") {
				continue
			}
			switch s.Name() {
			case testSubject + " publish":
				producer = s
			case testSubject + " process":
				consumer = s
			}
		}
		return producer != nil && consumer != nil
	})

	want := parent.SpanContext()
	for _, tt := range []struct {
		span sdktrace.ReadOnlySpan
		kind trace.SpanKind
		op   string
	}{
		{producer, trace.SpanKindProducer, "send"},
		{consumer, trace.SpanKindConsumer, "process"},
	} {
		s := tt.span
		if s.Parent().SpanID() != want.SpanID() || s.SpanContext().TraceID() != want.TraceID() {
			t.Errorf("%s: parent %s/%s, want %s/%s", s.Name(),
				s.Parent().TraceID(), s.Parent().SpanID(), want.TraceID(), want.SpanID())
		}
		if s.SpanKind() != tt.kind {
			t.Errorf("%s: kind %v, want %v", s.Name(), s.SpanKind(), tt.kind)
		}
		attrs := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes() {
			attrs[kv.Key] = kv.Value
		}
		for k, v := range map[attribute.Key]string{
			"messaging.system":           "nats",
			"messaging.destination.name": testSubject,
			"messaging.message.id":       "evt-1",
			"messaging.operation.type":   tt.op,
		} {
			if got := attrs[k].AsString(); got != v {
				t.Errorf("%s: %s = %q, want %q", s.Name(), k, got, v)
			}
		}
	}
	if inHandler.SpanID() != consumer.SpanContext().SpanID() {
		t.Errorf("handler ctx span %s, want the process span %s", inHandler.SpanID(), consumer.SpanContext().SpanID())
	}

	// An event without trace context starts a new trace.
	publish(t, js, event("evt-2", "data"))
	select {
	case <-handlerSpan:
	case <-time.After(10 * time.Second):
		t.Fatal("second message not processed")
	}
	eventually(t, "the second process span", func() bool {
		for _, s := range rec.Ended() {
			if s.Name() == testSubject+" process" && hasAttr(s, "messaging.message.id", "evt-2") {
				if s.Parent().IsValid() {
					t.Errorf("process span of an event without traceparent has parent %s", s.Parent().SpanID())
				}
				return true
			}
		}
		return false
	})
}

func hasAttr(s sdktrace.ReadOnlySpan, key attribute.Key, value string) bool {
	for _, kv := range s.Attributes() {
		if kv.Key == key && kv.Value.AsString() == value {
			return true
		}
	}
	return false
}
