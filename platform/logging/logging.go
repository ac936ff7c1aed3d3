// Package logging builds the one kind of logger every Trueup process uses: JSON
// lines on a writer, each naming the service and, when logged with a context
// that carries an OpenTelemetry span, the trace and span ids, so that a log line
// leads to its trace and back.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// Attribute keys added by this package; log queries and dashboards rely on them.
const (
	KeyService = "service"
	KeyTraceID = "trace_id"
	KeySpanID  = "span_id"
)

// New returns a JSON logger writing to w at level and above, with a "service"
// attribute on every record and "trace_id"/"span_id" on every record logged with
// a context (InfoContext, ErrorContext…) that holds a valid span.
func New(w io.Writer, level slog.Level, service string) *slog.Logger {
	base := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}).
		WithAttrs([]slog.Attr{slog.String(KeyService, service)})
	return slog.New(&traceHandler{pre: base, cur: base})
}

// ParseLevel parses "debug", "info", "warn" (or "warning") and "error", in any
// case, optionally with an offset as slog accepts it ("info+2").
func ParseLevel(s string) (slog.Level, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "warning") {
		return slog.LevelWarn, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("parse log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// traceHandler adds the span's ids to each record. The ids must stay top-level
// even under logger.WithGroup, where attributes added to the record would land
// inside the group; so the handler remembers the WithAttrs/WithGroup calls made
// since the first group and, only in that case, replays them on a handler that
// already holds the ids.
type traceHandler struct {
	// pre is the JSON handler (with "service") plus the WithAttrs calls made
	// before the first WithGroup.
	pre slog.Handler
	// ops are the calls made from the first WithGroup on; empty means no group.
	ops []func(slog.Handler) slog.Handler
	// cur is pre with ops applied: the handler records go to.
	cur slog.Handler
}

func (h *traceHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.cur.Enabled(ctx, l)
}

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return h.cur.Handle(ctx, r)
	}
	ids := []slog.Attr{
		slog.String(KeyTraceID, sc.TraceID().String()),
		slog.String(KeySpanID, sc.SpanID().String()),
	}
	if len(h.ops) == 0 {
		r = r.Clone()
		r.AddAttrs(ids...)
		return h.cur.Handle(ctx, r)
	}
	hh := h.pre.WithAttrs(ids)
	for _, op := range h.ops {
		hh = op(hh)
	}
	return hh.Handle(ctx, r)
}

func (h *traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	c := h.clone()
	c.cur = h.cur.WithAttrs(attrs)
	if len(h.ops) == 0 {
		c.pre = c.cur
	} else {
		c.ops = append(c.ops, func(x slog.Handler) slog.Handler { return x.WithAttrs(attrs) })
	}
	return c
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := h.clone()
	if len(h.ops) == 0 {
		c.pre = h.cur
	}
	c.cur = h.cur.WithGroup(name)
	c.ops = append(c.ops, func(x slog.Handler) slog.Handler { return x.WithGroup(name) })
	return c
}

// clone copies h with its own ops slice, so sibling loggers never share appends.
func (h *traceHandler) clone() *traceHandler {
	c := *h
	c.ops = append([]func(slog.Handler) slog.Handler(nil), h.ops...)
	return &c
}
