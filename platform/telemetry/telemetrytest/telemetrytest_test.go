package telemetrytest

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

// fakeTB records failures instead of failing the real test, to test the asserts.
type fakeTB struct {
	testing.TB
	errors []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func TestRecorderRecordsAndRestores(t *testing.T) {
	before := otel.GetTracerProvider()
	beforeProp := otel.GetTextMapPropagator()

	t.Run("recording", func(t *testing.T) {
		rec := NewRecorder(t)
		ctx, parent := otel.Tracer("t").Start(context.Background(), "parent")
		_, child := otel.Tracer("t").Start(ctx, "child")
		_, other := otel.Tracer("t").Start(context.Background(), "other")
		child.End()
		other.End()
		parent.End()

		spans := rec.Ended()
		if got := SpanNames(spans); fmt.Sprint(got) != "[child other parent]" {
			t.Fatalf("ended spans = %v", got)
		}
		p, c, o := FindSpan(spans, "parent"), AwaitSpan(t, rec, "child"), FindSpan(spans, "other")
		if FindSpan(spans, "nope") != nil || len(FindSpans(spans, "child")) != 1 {
			t.Error("FindSpan/FindSpans found the wrong spans")
		}
		if !AssertChildOf(t, p, c) || !AssertSameTrace(t, p, c) {
			t.Error("child is not reported as the child of parent")
		}

		tests := []struct {
			name   string
			assert func(tb *fakeTB) bool
		}{
			{"reversed", func(tb *fakeTB) bool { return AssertChildOf(tb, c, p) }},
			{"other trace", func(tb *fakeTB) bool { return AssertChildOf(tb, p, o) }},
			{"nil span", func(tb *fakeTB) bool { return AssertChildOf(tb, p, nil) }},
			{"not same trace", func(tb *fakeTB) bool { return AssertSameTrace(tb, p, o) }},
		}
		for _, tt := range tests {
			tb := &fakeTB{TB: t}
			if tt.assert(tb) || len(tb.errors) == 0 {
				t.Errorf("%s: assertion passed, want a failure", tt.name)
			}
		}

		carrier := propagation.MapCarrier{}
		otel.GetTextMapPropagator().Inject(ctx, carrier)
		if carrier.Get("traceparent") == "" {
			t.Error("no traceparent injected: TraceContext propagator not installed")
		}
	})

	if otel.GetTracerProvider() != before || otel.GetTextMapPropagator() != beforeProp {
		t.Error("globals not restored after the test")
	}
}
