package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// spanContext starts a real SDK span and returns a context holding it.
func spanContext(t *testing.T) (context.Context, trace.SpanContext) {
	t.Helper()
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, span := tp.Tracer("logging_test").Start(context.Background(), "op")
	t.Cleanup(func() { span.End() })
	return ctx, span.SpanContext()
}

// decode parses the single JSON line in buf.
func decode(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1: %q", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("log line is not JSON: %v: %s", err, lines[0])
	}
	return m
}

func TestNewAddsServiceAndTrace(t *testing.T) {
	spanCtx, sc := spanContext(t)
	wantTrace, wantSpan := sc.TraceID().String(), sc.SpanID().String()

	tests := []struct {
		name      string
		log       func(l *slog.Logger)
		wantTrace bool
		check     func(t *testing.T, m map[string]any)
	}{
		{
			name: "no context",
			log:  func(l *slog.Logger) { l.Info("hello", "k", "v") },
		},
		{
			name: "context without span",
			log:  func(l *slog.Logger) { l.InfoContext(context.Background(), "hello", "k", "v") },
		},
		{
			name:      "context with span",
			log:       func(l *slog.Logger) { l.InfoContext(spanCtx, "hello", "k", "v") },
			wantTrace: true,
		},
		{
			name:      "with attrs",
			log:       func(l *slog.Logger) { l.With("component", "relay").WarnContext(spanCtx, "hello", "k", "v") },
			wantTrace: true,
			check: func(t *testing.T, m map[string]any) {
				if m["component"] != "relay" {
					t.Errorf("component = %v, want relay", m["component"])
				}
			},
		},
		{
			name: "with group keeps the ids top-level",
			log: func(l *slog.Logger) {
				l.With("a", 1).WithGroup("req").With("b", 2).ErrorContext(spanCtx, "hello", "k", "v")
			},
			wantTrace: true,
			check: func(t *testing.T, m map[string]any) {
				if m["a"] != 1.0 {
					t.Errorf("a = %v, want 1 at top level", m["a"])
				}
				req, _ := m["req"].(map[string]any)
				if req["b"] != 2.0 || req["k"] != "v" {
					t.Errorf("req group = %v, want b=2 and k=v inside", m["req"])
				}
				if _, ok := req[KeyTraceID]; ok {
					t.Errorf("trace_id landed inside the group: %v", req)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(New(&buf, slog.LevelDebug, "ledger"))
			m := decode(t, &buf)
			if m[KeyService] != "ledger" {
				t.Errorf("service = %v, want ledger", m[KeyService])
			}
			if m["msg"] != "hello" {
				t.Errorf("msg = %v, want hello", m["msg"])
			}
			if tt.wantTrace {
				if m[KeyTraceID] != wantTrace || m[KeySpanID] != wantSpan {
					t.Errorf("ids = %v/%v, want %s/%s", m[KeyTraceID], m[KeySpanID], wantTrace, wantSpan)
				}
			} else if _, ok := m[KeyTraceID]; ok {
				t.Errorf("trace_id present without a span: %v", m)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

func TestNewHonoursLevel(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, slog.LevelWarn, "orders")
	l.Info("dropped")
	l.Debug("dropped")
	l.Warn("kept")
	if got := decode(t, &buf)["msg"]; got != "kept" {
		t.Errorf("msg = %v, want kept", got)
	}
}

func TestSiblingLoggersDoNotShareGroups(t *testing.T) {
	spanCtx, _ := spanContext(t)
	var buf bytes.Buffer
	parent := New(&buf, slog.LevelInfo, "svc").WithGroup("g")
	a := parent.With("a", 1)
	b := parent.With("b", 2)
	a.InfoContext(spanCtx, "x")
	buf.Reset()
	b.InfoContext(spanCtx, "x")
	g, _ := decode(t, &buf)["g"].(map[string]any)
	if _, ok := g["a"]; ok || g["b"] != 2.0 {
		t.Errorf("group of b = %v, want only b=2", g)
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{in: "debug", want: slog.LevelDebug},
		{in: "INFO", want: slog.LevelInfo},
		{in: " warn ", want: slog.LevelWarn},
		{in: "warning", want: slog.LevelWarn},
		{in: "Error", want: slog.LevelError},
		{in: "info+2", want: slog.LevelInfo + 2},
		{in: "", wantErr: true},
		{in: "verbose", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLevel(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseLevel(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("ParseLevel(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
