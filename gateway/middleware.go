package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// withTracing starts a server span per request (continuing a caller's W3C trace),
// so one trace follows a REST call into the services and on through NATS.
func withTracing(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "gateway",
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Path }))
}

// requestInfo is what the inner handlers learn about a request for its access
// log line (the trace id comes from the context, added by the
// platform logger): the authenticated partner and the route pattern that matched.
type requestInfo struct {
	partner, route string
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(infoKey{}).(*requestInfo)
	return info
}

// routeOf is the route pattern of r when the mux matched one, else its path
// for the gateway's own endpoints, else "unmatched".
func routeOf(r *http.Request) string {
	if info := infoFrom(r.Context()); info != nil && info.route != "" {
		return info.route
	}
	switch r.URL.Path {
	case "/healthz", "/readyz", "/openapi.json":
		return r.URL.Path
	}
	return "unmatched"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Flush lets grpc-gateway stream through the recorder.
func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// withAccessLog logs one line per request: partner, route pattern (not the raw
// path, which holds ids), status, latency and trace id. Only 5xx are ERROR;
// refusals of a partner's request (429, 413, 431) are WARN, the rest INFO. The
// query string is logged with secrets redacted and bounded.
func withAccessLog(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		level := slog.LevelInfo
		switch {
		case rec.status >= 500:
			level = slog.LevelError
		case rec.status == http.StatusTooManyRequests || rec.status == http.StatusRequestEntityTooLarge ||
			rec.status == http.StatusRequestHeaderFieldsTooLarge:
			level = slog.LevelWarn
		}
		attrs := []any{"method", boundedText(r.Method), "route", routeOf(r), "status", rec.status,
			"duration", time.Since(start), "partner", info.partner}
		if r.URL.RawQuery != "" {
			attrs = append(attrs, "query", boundedText(redactSecrets(r.URL.RawQuery)))
		}
		log.Log(r.Context(), level, "http request", attrs...)
	})
}
