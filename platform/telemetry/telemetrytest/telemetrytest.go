// Package telemetrytest records spans in memory so tests can assert on traces:
// that an RPC made a span, that a consumer's span is the child of the
// publisher's, that one trace runs from the gateway to the ledger.
//
// NewRecorder replaces process-wide globals, so tests that use it must not call
// t.Parallel. Call it before building the code under test: instrumentation such
// as otelgrpc captures the global TracerProvider when it is constructed.
package telemetrytest

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"trueup.dev/platform/telemetry"
)

// Span is a finished span as the recorder holds it.
type Span = sdktrace.ReadOnlySpan

// NewRecorder installs, for the duration of the test, a global TracerProvider
// that samples everything into the returned recorder, and the same global
// propagator as telemetry.Setup. The previous globals come back at t.Cleanup.
func NewRecorder(t testing.TB) *tracetest.SpanRecorder {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(rec),
	)
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(telemetry.Propagator())
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(prevProp)
		_ = tp.Shutdown(context.Background())
	})
	return rec
}

// FindSpan returns the first span named name, or nil.
func FindSpan(spans []sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	for _, s := range spans {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

// FindSpans returns every span named name, in the order they ended.
func FindSpans(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// AwaitSpan waits up to five seconds for a span named name to end and returns
// it, failing the test otherwise. It exists because a server span ends after the
// response reaches the client, so a test that just made a call may look too early.
func AwaitSpan(t testing.TB, rec *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if s := FindSpan(rec.Ended(), name); s != nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no span named %q ended within 5s; ended: %v", name, SpanNames(rec.Ended()))
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// SpanNames lists the spans' names, for failure messages.
func SpanNames(spans []sdktrace.ReadOnlySpan) []string {
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name()
	}
	return names
}

// IsChildOf reports whether child's parent is parent: same trace, and child's
// parent span id is parent's span id. Remote parents (across a process hop, via
// propagation) count.
func IsChildOf(parent, child sdktrace.ReadOnlySpan) bool {
	if parent == nil || child == nil {
		return false
	}
	return child.SpanContext().TraceID() == parent.SpanContext().TraceID() &&
		child.Parent().SpanID() == parent.SpanContext().SpanID()
}

// AssertChildOf fails the test (without stopping it) unless child is a direct
// child of parent, and says how they are related instead.
func AssertChildOf(t testing.TB, parent, child sdktrace.ReadOnlySpan) bool {
	t.Helper()
	switch {
	case parent == nil || child == nil:
		t.Errorf("AssertChildOf: parent %v, child %v: want two spans", parent, child)
		return false
	case IsChildOf(parent, child):
		return true
	case child.SpanContext().TraceID() != parent.SpanContext().TraceID():
		t.Errorf("span %q (trace %s) is not in the trace of %q (trace %s)",
			child.Name(), child.SpanContext().TraceID(), parent.Name(), parent.SpanContext().TraceID())
	default:
		t.Errorf("span %q has parent %s, want %q (%s)",
			child.Name(), child.Parent().SpanID(), parent.Name(), parent.SpanContext().SpanID())
	}
	return false
}

// AssertSameTrace fails the test (without stopping it) unless all spans share
// one trace id.
func AssertSameTrace(t testing.TB, spans ...sdktrace.ReadOnlySpan) bool {
	t.Helper()
	ok := true
	for _, s := range spans {
		if s == nil {
			t.Errorf("AssertSameTrace: nil span among %d", len(spans))
			return false
		}
		if s.SpanContext().TraceID() != spans[0].SpanContext().TraceID() {
			t.Errorf("span %q is in trace %s, want %s (that of %q)",
				s.Name(), s.SpanContext().TraceID(), spans[0].SpanContext().TraceID(), spans[0].Name())
			ok = false
		}
	}
	return ok
}
