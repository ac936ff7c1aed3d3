package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"trueup.dev/platform/logging"
)

const otherKey = "key-globex-0123456789abcdefghij"

// backend is a real gRPC server standing in for every service: it answers
// each call with err (or an empty message), records what the call carried and
// can hold calls until released.
type backend struct {
	mu       sync.Mutex
	md       metadata.MD
	deadline time.Time
	hasDL    bool
	err      error
	calls    atomic.Int64
	hold     chan struct{} // when set, the next call waits for it to close
	entered  chan struct{}
}

func (b *backend) handle(_ any, ss grpc.ServerStream) error {
	b.calls.Add(1)
	md, _ := metadata.FromIncomingContext(ss.Context())
	dl, ok := ss.Context().Deadline()
	b.mu.Lock()
	b.md, b.deadline, b.hasDL = md.Copy(), dl, ok
	err, hold, entered := b.err, b.hold, b.entered
	b.hold = nil // only the first call after set waits
	b.mu.Unlock()
	if hold != nil {
		if entered != nil {
			entered <- struct{}{}
		}
		<-hold
	}
	if err != nil {
		return err
	}
	return ss.SendMsg(&emptypb.Empty{})
}

func (b *backend) set(f func(b *backend)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f(b)
}

func (b *backend) last() (metadata.MD, time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.md, b.deadline, b.hasDL
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lines are the JSON log records written so far.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %.300s", l)
		}
		out = append(out, m)
	}
	return out
}

type env struct {
	url     string
	backend *backend
	logs    *syncBuffer
}

// newEnv starts a real gRPC backend and the gateway in front of it, on
// loopback, with two partners (acme with key, globex with otherKey).
func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	be := &backend{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(be.handle))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	keys, err := ParseKeys(strings.NewReader("acme " + key + " *\nglobex " + otherKey + " *\n"))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	addr := lis.Addr().String()
	cfg.Targets = Targets{addr, addr, addr, addr}
	cfg.Keys = keys
	cfg.Logger = logging.New(logs, slog.LevelDebug, "gateway-test")
	g, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	hs := httptest.NewServer(g.Handler())
	t.Cleanup(hs.Close)
	return &env{url: hs.URL, backend: be, logs: logs}
}

type response struct {
	code   int
	header http.Header
	body   string
	status struct {
		Code    int              `json:"code"`
		Message string           `json:"message"`
		Details []map[string]any `json:"details"`
	}
}

// send does one request with acme's key unless headers set another.
func (e *env) send(t testing.TB, method, path, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Api-Key", key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header[headers[i]] = []string{headers[i+1]} // as given, not canonicalised
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{code: resp.StatusCode, header: resp.Header, body: string(b)}
	_ = json.Unmarshal(b, &r.status)
	return r
}

// checkShape fails unless the body is the one error shape: code, message and
// details, nothing else.
func checkShape(t *testing.T, r response) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("error body is not JSON: %.300s", r.body)
	}
	for _, k := range []string{"code", "message", "details"} {
		if _, ok := m[k]; !ok {
			t.Errorf("error body lacks %q: %s", k, r.body)
		}
	}
	if len(m) != 3 {
		t.Errorf("error body has other keys than code, message, details: %s", r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q", ct)
	}
}

// A partner's Grpc-Timeout (any spelling) never reaches the service: the call
// carries the gateway's own deadline, which a partner cannot raise.
func TestPartnerCannotSetTheUpstreamDeadline(t *testing.T) {
	e := newEnv(t, Config{Limits: Limits{UpstreamTimeout: 3 * time.Second}})
	for _, h := range []string{"Grpc-Timeout", "grpc-timeout"} {
		start := time.Now()
		if r := e.send(t, "GET", "/v1/carriers", "", h, "86400S"); r.code != http.StatusOK {
			t.Fatalf("%s: status %d %s", h, r.code, r.body)
		}
		md, dl, ok := e.backend.last()
		if !ok || dl.Sub(start) > 3*time.Second+time.Second {
			t.Errorf("%s: service deadline %v (set %v), want within the gateway's 3s", h, dl.Sub(start), ok)
		}
		if len(md.Get("grpc-timeout")) != 0 || len(md.Get("grpcgateway-grpc-timeout")) != 0 {
			t.Errorf("%s forwarded as metadata: %v", h, md)
		}
	}
	// Without a configured timeout, the default holds.
	e = newEnv(t, Config{})
	start := time.Now()
	e.send(t, "GET", "/v1/carriers", "", "Grpc-Timeout", "86400S")
	if _, dl, ok := e.backend.last(); !ok || dl.Sub(start) > DefaultUpstreamTimeout+time.Second {
		t.Errorf("default deadline %v (set %v), want %v", dl.Sub(start), ok, DefaultUpstreamTimeout)
	}
}

// The partner's credential stays at the gateway: the service sees the
// authenticated partner id and no key, under any metadata name.
func TestTheAPIKeyIsNeverForwarded(t *testing.T) {
	e := newEnv(t, Config{})
	for _, hdr := range [][]string{{"X-Api-Key", "", "Authorization", "Bearer " + key}, {"X-Api-Key", key}} {
		if r := e.send(t, "GET", "/v1/carriers", "", hdr...); r.code != http.StatusOK {
			t.Fatalf("status %d %s", r.code, r.body)
		}
		md, _, _ := e.backend.last()
		for k, vs := range md {
			for _, v := range vs {
				if strings.Contains(v, key) {
					t.Errorf("service received the API key in metadata %s", k)
				}
			}
		}
		if got := md.Get("authorization"); len(got) != 0 {
			t.Errorf("service received authorization metadata %q", got)
		}
		if got := md.Get(PartnerMetadataKey); len(got) != 1 || got[0] != "acme" {
			t.Errorf("%s = %q, want [acme]", PartnerMetadataKey, got)
		}
	}
}

// A known path with a method no route takes is 405 with Allow, logged below ERROR.
func TestUnsupportedMethodIs405WithAllow(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.send(t, "PUT", "/v1/carriers", `{}`)
	if r.code != http.StatusMethodNotAllowed {
		t.Fatalf("status %d %s, want 405", r.code, r.body)
	}
	checkShape(t, r)
	if got := r.header.Get("Allow"); got != "GET, POST" {
		t.Errorf("Allow = %q, want \"GET, POST\"", got)
	}
	if e.backend.calls.Load() != 0 {
		t.Errorf("a 405 called the service %d times", e.backend.calls.Load())
	}
	for _, l := range e.logs.lines(t) {
		if l["level"] == "ERROR" {
			t.Errorf("405 logged at ERROR: %v", l)
		}
	}
	// An unknown path is still 404.
	if r := e.send(t, "GET", "/v1/nothingHere", ""); r.code != http.StatusNotFound {
		t.Errorf("unknown path: %d %s", r.code, r.body)
	}
}

// Invalid UTF-8 in a path or query is the partner's error: 400, not 500.
func TestInvalidUTF8InPathIs400(t *testing.T) {
	e := newEnv(t, Config{})
	for _, p := range []string{"/v1/items/%ff%fe", "/v1/carriers/ok%c3", "/v1/carriers?filter=%ff"} {
		r := e.send(t, "GET", p, "")
		if r.code != http.StatusBadRequest {
			t.Errorf("%s: status %d %s, want 400", p, r.code, r.body)
			continue
		}
		checkShape(t, r)
	}
	if e.backend.calls.Load() != 0 {
		t.Errorf("invalid UTF-8 reached the service")
	}
}

// Data after the JSON value is refused and nothing is written.
func TestTrailingDataAfterJSONIs400(t *testing.T) {
	e := newEnv(t, Config{})
	for _, body := range []string{`{"sku":"A1","baseUom":"EA"} <script>`, `{"sku":"A1"}{"sku":"A2"}`, `{"sku":"A1"} x`} {
		r := e.send(t, "POST", "/v1/items", body)
		if r.code != http.StatusBadRequest {
			t.Errorf("%q: status %d %s, want 400", body, r.code, r.body)
			continue
		}
		checkShape(t, r)
	}
	if n := e.backend.calls.Load(); n != 0 {
		t.Errorf("the service was called %d times: a refused body wrote something", n)
	}
	// Trailing white space is not data.
	if r := e.send(t, "POST", "/v1/items", "{\"sku\":\"A1\"}\n \t"); r.code != http.StatusOK {
		t.Errorf("trailing white space: %d %s", r.code, r.body)
	}
}

// An unknown field is 400 with a BadRequest field violation naming it as the
// JSON spells it; decoder internals stay out of the body.
func TestUnknownFieldIsNamedInBadRequest(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.send(t, "POST", "/v1/items", `{"sku":"A1","colourCode":"red"}`)
	if r.code != http.StatusBadRequest {
		t.Fatalf("status %d %s, want 400", r.code, r.body)
	}
	checkShape(t, r)
	if len(r.status.Details) != 1 || r.status.Details[0]["@type"] != "type.googleapis.com/google.rpc.BadRequest" {
		t.Fatalf("details = %v, want one BadRequest", r.status.Details)
	}
	fv, _ := r.status.Details[0]["fieldViolations"].([]any)
	if len(fv) != 1 || fv[0].(map[string]any)["field"] != "colourCode" {
		t.Errorf("field violations = %v, want colourCode", fv)
	}
	for _, leak := range []string{"proto:", "line 1", "syntax error", "json:"} {
		if strings.Contains(r.body, leak) {
			t.Errorf("body leaks decoder text %q: %s", leak, r.body)
		}
	}
	if r := e.send(t, "POST", "/v1/items", `{"sku":`); r.code != http.StatusBadRequest || strings.Contains(r.body, "unexpected") {
		t.Errorf("malformed JSON: %d %s", r.code, r.body)
	}
}

// A body that is not JSON is 415.
func TestWrongContentTypeIs415(t *testing.T) {
	e := newEnv(t, Config{})
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1", "multipart/form-data; boundary=x"} {
		r := e.send(t, "POST", "/v1/items", `{"sku":"A1"}`, "Content-Type", ct)
		if r.code != http.StatusUnsupportedMediaType {
			t.Errorf("%s: status %d %s, want 415", ct, r.code, r.body)
			continue
		}
		checkShape(t, r)
	}
	if r := e.send(t, "POST", "/v1/items", `{"sku":"A1"}`, "Content-Type", "application/json; charset=utf-8"); r.code != http.StatusOK {
		t.Errorf("application/json; charset=utf-8: %d %s", r.code, r.body)
	}
}

// A 900 KiB header is 431 and never written whole to the log.
func TestOversizedHeaderIs431AndNotLogged(t *testing.T) {
	e := newEnv(t, Config{})
	huge := "application/" + strings.Repeat("x", 900<<10)
	r := e.send(t, "POST", "/v1/items", `{"sku":"A1"}`, "Content-Type", huge)
	if r.code != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d %.300s, want 431", r.code, r.body)
	}
	checkShape(t, r)
	if n := len(e.logs.String()); n > 8<<10 {
		t.Errorf("the log grew by %d bytes", n)
	}
	if strings.Contains(e.logs.String(), strings.Repeat("x", 2000)) {
		t.Error("the header reached the log")
	}
}

// Every gRPC code answers its HTTP status in the one shape; an internal error
// is a 500 naming only a correlation id, which the ERROR log line carries with
// the trace id.
func TestErrorShapeAndStatusPerCode(t *testing.T) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator()) })
	e := newEnv(t, Config{})
	tests := []struct {
		code codes.Code
		want int
	}{
		{codes.InvalidArgument, 400}, {codes.FailedPrecondition, 400}, {codes.OutOfRange, 400},
		{codes.Unauthenticated, 401}, {codes.PermissionDenied, 403}, {codes.NotFound, 404},
		{codes.AlreadyExists, 409}, {codes.Aborted, 409}, {codes.ResourceExhausted, 429},
		{codes.Unimplemented, 501}, {codes.Unavailable, 503}, {codes.DeadlineExceeded, 504},
		{codes.Internal, 500}, {codes.Unknown, 500}, {codes.DataLoss, 500}, {codes.Code(42), 500},
	}
	const secret = `pq: syntax error at or near "SELECT" (SELECT * FROM items) dial tcp 10.0.0.5:5432 goroutine 1 [running]`
	for _, tt := range tests {
		e.backend.set(func(b *backend) { b.err = status.Error(tt.code, secret) })
		r := e.send(t, "GET", "/v1/carriers", "")
		if r.code != tt.want {
			t.Errorf("%v: status %d, want %d", tt.code, r.code, tt.want)
		}
		checkShape(t, r)
		if tt.want >= 500 {
			for _, leak := range []string{"SELECT", "10.0.0.5", "goroutine", "pq:"} {
				if strings.Contains(r.body, leak) {
					t.Errorf("%v: body leaks %q: %s", tt.code, leak, r.body)
				}
			}
		}
	}

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	e.backend.set(func(b *backend) { b.err = status.Error(codes.Internal, secret) })
	r := e.send(t, "GET", "/v1/carriers", "", "Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if r.code != 500 || r.status.Code != int(codes.Internal) {
		t.Fatalf("internal: %d %s", r.code, r.body)
	}
	if len(r.status.Details) != 1 || r.status.Details[0]["@type"] != "type.googleapis.com/google.rpc.RequestInfo" {
		t.Fatalf("details = %v, want a RequestInfo", r.status.Details)
	}
	id, _ := r.status.Details[0]["requestId"].(string)
	if id == "" || !strings.Contains(r.status.Message, id) || !strings.Contains(r.status.Message, traceID) {
		t.Fatalf("message %q should name the correlation id %q and the trace", r.status.Message, id)
	}
	found := false
	for _, l := range e.logs.lines(t) {
		if l["correlation_id"] == id {
			found = true
			if l["level"] != "ERROR" || l["trace_id"] != traceID || !strings.Contains(l["error"].(string), "SELECT") {
				t.Errorf("log line %v: want ERROR, the trace id and the cause", l)
			}
		}
	}
	if !found {
		t.Errorf("no log line carries correlation id %s", id)
	}
}

// grpc-gateway's and grpc's own log lines go to the JSON logger, bounded and
// redacted, and not to stderr as plain text.
func TestGRPCLogsAreJSONAndBounded(t *testing.T) {
	var buf syncBuffer
	l := newGRPCLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	l.Errorf("Failed to parse Content-Type %s: %v", strings.Repeat("x", 900<<10), "bad")
	l.Warningf("dial postgres://app:s3cret@db:5432/x?password=hunter2")
	lines := buf.lines(t)
	if len(lines) != 2 || lines[0]["level"] != "ERROR" || lines[1]["level"] != "WARN" {
		t.Fatalf("lines = %v", lines)
	}
	if n := len(buf.String()); n > 4<<10 {
		t.Errorf("log of a 900 KiB value is %d bytes", n)
	}
	if s := buf.String(); strings.Contains(s, "s3cret") || strings.Contains(s, "hunter2") {
		t.Errorf("secret logged: %s", s)
	}
}

// /healthz and /readyz need no key; /readyz names backends only to a caller
// with the internal token, never to a loopback caller without it.
func TestReadyzHidesBackendsFromPartners(t *testing.T) {
	e := newEnv(t, Config{InternalToken: "internal-token-0123456789"})
	for _, path := range []string{"/healthz", "/readyz"} {
		r := e.send(t, "GET", path, "", "X-Api-Key", "")
		if r.code != http.StatusOK {
			t.Errorf("%s: %d %s", path, r.code, r.body)
		}
		if strings.Contains(r.body, "127.0.0.1") || strings.Contains(r.body, "backends") {
			t.Errorf("%s: public body names backends: %s", path, r.body)
		}
	}
	for _, tok := range []string{"", "wrong-token"} {
		if r := e.send(t, "GET", "/readyz", "", InternalTokenHeader, tok); strings.Contains(r.body, "127.0.0.1") {
			t.Errorf("token %q: body names backends: %s", tok, r.body)
		}
	}
	r := e.send(t, "GET", "/readyz", "", "X-Api-Key", "", InternalTokenHeader, "internal-token-0123456789")
	if r.code != 200 || !strings.Contains(r.body, "127.0.0.1") || !strings.Contains(r.body, `"status":"ready"`) {
		t.Errorf("internal caller: %d %s, want backends and their health", r.code, r.body)
	}
	// No configured token: nobody sees them.
	e = newEnv(t, Config{})
	if r := e.send(t, "GET", "/readyz", "", InternalTokenHeader, ""); strings.Contains(r.body, "127.0.0.1") {
		t.Errorf("no token configured: %s", r.body)
	}
}

// One access log line per request: partner, route pattern (not the raw path
// with its ids), status, latency and trace id; secrets in the query redacted.
func TestAccessLogLine(t *testing.T) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator()) })
	e := newEnv(t, Config{})
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	e.send(t, "GET", "/v1/carriers/UPS-SECRET-ID?password=hunter2&token=abc", "", "Traceparent", "00-"+traceID+"-b7ad6b7169203331-01")
	var line map[string]any
	for _, l := range e.logs.lines(t) {
		if l["msg"] == "http request" {
			line = l
		}
	}
	if line == nil {
		t.Fatalf("no access log line in %s", e.logs.String())
	}
	if line["partner"] != "acme" || line["status"] != float64(200) || line["trace_id"] != traceID || line["duration"] == nil {
		t.Errorf("access log = %v", line)
	}
	if route, _ := line["route"].(string); !strings.Contains(route, "{") || strings.Contains(route, "UPS-SECRET-ID") {
		t.Errorf("route = %q, want the pattern", route)
	}
	if s := e.logs.String(); strings.Contains(s, "hunter2") || strings.Contains(s, "abc\"") || strings.Contains(s, "token=abc") {
		t.Errorf("secret in the log: %s", s)
	}
}

// A partner over its rate gets 429 with Retry-After; another partner is not
// slowed by it.
func TestRateLimitPerPartner(t *testing.T) {
	e := newEnv(t, Config{Limits: Limits{RequestsPerSecond: 1, Burst: 3}})
	for i := range 3 {
		if r := e.send(t, "GET", "/v1/carriers", ""); r.code != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i, r.code, r.body)
		}
	}
	r := e.send(t, "GET", "/v1/carriers", "")
	if r.code != http.StatusTooManyRequests {
		t.Fatalf("over the burst: %d %s, want 429", r.code, r.body)
	}
	checkShape(t, r)
	if ra := r.header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After = %q, want 1", ra)
	}
	if r := e.send(t, "GET", "/v1/carriers", "", "X-Api-Key", otherKey); r.code != http.StatusOK {
		t.Errorf("the other partner was limited: %d", r.code)
	}
	// The defaults let a flow's burst through.
	e = newEnv(t, Config{})
	for i := range DefaultBurst {
		if r := e.send(t, "GET", "/v1/carriers", ""); r.code != http.StatusOK {
			t.Fatalf("default limits: request %d: %d", i, r.code)
		}
	}
}

// A partner with MaxConcurrent requests in flight gets 429 for one more.
func TestConcurrentRequestsPerPartnerAreCapped(t *testing.T) {
	e := newEnv(t, Config{Limits: Limits{MaxConcurrent: 1}})
	hold, entered := make(chan struct{}), make(chan struct{}, 1)
	e.backend.set(func(b *backend) { b.hold, b.entered = hold, entered })
	done := make(chan response)
	go func() { done <- e.send(t, "GET", "/v1/carriers", "") }()
	<-entered
	r := e.send(t, "GET", "/v1/carriers", "")
	if r.code != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("second concurrent request: %d %v, want 429 with Retry-After", r.code, r.header)
	}
	if r := e.send(t, "GET", "/v1/carriers", "", "X-Api-Key", otherKey); r.code != http.StatusOK {
		t.Errorf("the other partner was capped: %d", r.code)
	}
	close(hold)
	if r := <-done; r.code != http.StatusOK {
		t.Errorf("first request: %d", r.code)
	}
	if r := e.send(t, "GET", "/v1/carriers", ""); r.code != http.StatusOK {
		t.Errorf("after the first finished: %d", r.code)
	}
}

// A pageSize over MaxPageSize is refused, naming the field; MaxPageSize passes.
func TestPageSizeOverTheMaximumIsRefused(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.send(t, "GET", "/v1/carriers?pageSize=1001", "")
	if r.code != http.StatusBadRequest {
		t.Fatalf("pageSize=1001: %d %s", r.code, r.body)
	}
	checkShape(t, r)
	if got := violatedFields(r); len(got) != 1 || got[0] != "pageSize" {
		t.Errorf("body = %s, want a field violation on pageSize", r.body)
	}
	r = e.send(t, "GET", "/v1/carriers?pageSize=abc", "")
	if got := violatedFields(r); r.code != http.StatusBadRequest || len(got) != 1 || got[0] != "pageSize" || strings.Contains(r.body, "strconv") {
		t.Errorf("pageSize=abc: %d %s, want 400 naming pageSize without parser text", r.code, r.body)
	}
	if r := e.send(t, "GET", "/v1/carriers?pageSize=1000", ""); r.code != http.StatusOK {
		t.Errorf("pageSize=1000: %d %s", r.code, r.body)
	}
}

// violatedFields are the fields named by the BadRequest details of r.
func violatedFields(r response) []string {
	var out []string
	for _, d := range r.status.Details {
		fvs, _ := d["fieldViolations"].([]any)
		for _, fv := range fvs {
			if m, ok := fv.(map[string]any); ok {
				out = append(out, fmt.Sprint(m["field"]))
			}
		}
	}
	return out
}

func TestRedactSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://app:s3cret@db:5432/trueup":             "postgres://app:REDACTED@db:5432/trueup",
		"dial nats://u:p@nats:4222 failed":                 "dial nats://u:REDACTED@nats:4222 failed",
		"postgres://db/x?sslmode=disable&password=hunter2": "postgres://db/x?sslmode=disable&password=REDACTED",
		"/v1/items?pageSize=10&api_key=k&token=t":          "/v1/items?pageSize=10&api_key=REDACTED&token=REDACTED",
		"host=db user=app password=hunter2 dbname=x":       "host=db user=app password=REDACTED dbname=x",
	} {
		if got := redactSecrets(in); got != want {
			t.Errorf("redactSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}

// No JSON body, however malformed, yields a 5xx, and a refused body never
// reaches the service (so nothing is written). The seed corpus runs with every
// `go test`; `go test -fuzz FuzzJSONBody` explores further.
func FuzzJSONBody(f *testing.F) {
	for _, seed := range []string{
		`{"sku":"A1","baseUom":"EA"}`, `{"sku":"A1"} <script>`, `{"sku":"A1","colourCode":1}`, `{"sku":`, `[]`, `null`, `"x"`,
		`{"uoms":[{"uom":"CS","factor":"12"}]}`, `{"sku":"\ud800"}`, "{\"sku\":\"\xff\"}", `{"tracking":"NOPE"}`, `{"sku":1e999}`, ` `,
	} {
		f.Add([]byte(seed))
	}
	e := newEnv(f, Config{Limits: Limits{RequestsPerSecond: -1, MaxConcurrent: -1}})
	f.Fuzz(func(t *testing.T, body []byte) {
		before := e.backend.calls.Load()
		r := e.send(t, "POST", "/v1/items", string(body))
		if r.code >= 500 {
			t.Fatalf("body %q: status %d %s", body, r.code, r.body)
		}
		if r.code != http.StatusOK && e.backend.calls.Load() != before {
			t.Fatalf("body %q: refused with %d but the service was called", body, r.code)
		}
		if r.code != http.StatusOK {
			checkShape(t, r)
		}
	})
}
