package grpcserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/logging"
	"trueup.dev/platform/telemetry/telemetrytest"
)

// A hand-written service, so these tests need no generated code: Call and
// Stream take a command string and act on it (see testService.act).
const (
	testServiceName = "trueup.test.v1.Test"
	callMethod      = "/" + testServiceName + "/Call"
	streamMethod    = "/" + testServiceName + "/Stream"
)

type testServer interface {
	Call(context.Context, *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
	Stream(*wrapperspb.StringValue, grpc.ServerStream) error
}

var testServiceDesc = grpc.ServiceDesc{
	ServiceName: testServiceName,
	HandlerType: (*testServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Call",
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, req any) (any, error) {
				return srv.(testServer).Call(ctx, req.(*wrapperspb.StringValue))
			}
			if interceptor == nil {
				return call(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: callMethod}, call)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Stream",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			in := new(wrapperspb.StringValue)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			return srv.(testServer).Stream(in, stream)
		},
	}},
	Metadata: "trueup/test/v1/test.proto",
}

// testService does what the request says: "ok" echoes, "panic" panics,
// "invalid" fails validation, "internal" fails with a secret-bearing error, and
// "slow" signals started and waits for release (or its context).
type testService struct {
	started chan struct{}
	release chan struct{}
}

func newTestService() *testService {
	return &testService{started: make(chan struct{}, 1), release: make(chan struct{})}
}

const (
	panicText    = "nil pointer in ledger.post for account 1200"
	internalText = "dial tcp 10.0.0.7:5432: password authentication failed for user trueup"
)

func (s *testService) act(ctx context.Context, cmd string) error {
	switch cmd {
	case "ok":
		return nil
	case "panic":
		panic(panicText)
	case "invalid":
		return apperr.Invalid(apperr.Field("sku", "is required"))
	case "internal":
		return errors.New(internalText)
	case "slow":
		s.started <- struct{}{}
		select {
		case <-s.release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return apperr.New(apperr.KindInvalidArgument, "UNKNOWN_COMMAND", "unknown command %q", cmd)
}

func (s *testService) Call(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	if err := s.act(ctx, in.GetValue()); err != nil {
		return nil, err
	}
	return wrapperspb.String("done: " + in.GetValue()), nil
}

func (s *testService) Stream(in *wrapperspb.StringValue, stream grpc.ServerStream) error {
	if err := stream.SendMsg(wrapperspb.String("first")); err != nil {
		return err
	}
	return s.act(stream.Context(), in.GetValue())
}

// syncBuffer is a log sink safe for the server's goroutines and the test's.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records parses the JSON log lines written so far.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		out = append(out, m)
	}
	return out
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// findRecord returns the first log record whose msg and method match.
func findRecord(records []map[string]any, msg, method string) map[string]any {
	for _, r := range records {
		if r["msg"] == msg && (method == "" || r["method"] == method) {
			return r
		}
	}
	return nil
}

// harness is a running server and a client connected to it.
type harness struct {
	srv    *Server
	svc    *testService
	conn   *grpc.ClientConn
	logs   *syncBuffer
	stop   context.CancelFunc
	served chan error
}

func startServer(t *testing.T, opts Options, dialOpts ...grpc.DialOption) *harness {
	t.Helper()
	return startServerDesc(t, &testServiceDesc, opts, dialOpts...)
}

// startServerWith serves the test service under desc (a guarded copy, say).
func startServerWith(t *testing.T, desc *grpc.ServiceDesc) *harness {
	t.Helper()
	return startServerDesc(t, desc, Options{})
}

func startServerDesc(t *testing.T, desc *grpc.ServiceDesc, opts Options, dialOpts ...grpc.DialOption) *harness {
	t.Helper()
	h := &harness{svc: newTestService(), logs: &syncBuffer{}, served: make(chan error, 1)}
	if opts.Logger == nil {
		opts.Logger = logging.New(h.logs, slog.LevelDebug, "test")
	}
	h.srv = New(opts)
	h.srv.GRPC().RegisterService(desc, h.svc)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	go func() { h.served <- h.srv.Serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.served:
		case <-time.After(30 * time.Second):
			t.Error("Serve did not return within 30s of cancel")
		}
	})

	dialOpts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, dialOpts...)
	h.conn, err = grpc.NewClient(lis.Addr().String(), dialOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.conn.Close() })
	return h
}

func (h *harness) call(ctx context.Context, cmd string) (*wrapperspb.StringValue, error) {
	out := new(wrapperspb.StringValue)
	err := h.conn.Invoke(ctx, callMethod, wrapperspb.String(cmd), out)
	return out, err
}

// stream opens the server stream and returns every error after the first message.
func (h *harness) stream(ctx context.Context, cmd string) error {
	st, err := h.conn.NewStream(ctx, &testServiceDesc.Streams[0], streamMethod)
	if err != nil {
		return err
	}
	if err := st.SendMsg(wrapperspb.String(cmd)); err != nil {
		return err
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	for {
		if err := st.RecvMsg(new(wrapperspb.StringValue)); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestHealth(t *testing.T) {
	h := startServer(t, Options{})
	ctx := testContext(t)
	client := healthpb.NewHealthClient(h.conn)

	resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check = %v, %v; want SERVING", resp, err)
	}

	h.srv.Health().SetServingStatus(testServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	resp, err = client.Check(ctx, &healthpb.HealthCheckRequest{Service: testServiceName})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("Check(%s) = %v, %v; want NOT_SERVING", testServiceName, resp, err)
	}

	// Probes hit health every few seconds: successful checks log at debug only.
	if r := findRecord(h.logs.records(t), "grpc request", "/grpc.health.v1.Health/Check"); r == nil || r["level"] != "DEBUG" {
		t.Errorf("health check log record = %v, want one at DEBUG", r)
	}
}

func listServices(ctx context.Context, conn *grpc.ClientConn) ([]string, error) {
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = stream.CloseSend() }()
	// A Send that fails because the server ended the stream returns io.EOF; the
	// stream's status (e.g. Unimplemented) then comes from Recv.
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names, nil
}

func TestReflection(t *testing.T) {
	t.Run("on", func(t *testing.T) {
		h := startServer(t, Options{Reflection: true})
		names, err := listServices(testContext(t), h.conn)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{testServiceName, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
			if !slices.Contains(names, want) {
				t.Errorf("reflection lists %v, want %s among them", names, want)
			}
		}
	})
	t.Run("off by default", func(t *testing.T) {
		h := startServer(t, Options{})
		if _, err := listServices(testContext(t), h.conn); status.Code(err) != codes.Unimplemented {
			t.Errorf("ListServices error = %v, want Unimplemented", err)
		}
	})
}

func TestPanicIsRecovered(t *testing.T) {
	h := startServer(t, Options{})
	ctx := testContext(t)

	tests := []struct {
		name string
		do   func() error
	}{
		{"unary", func() error { _, err := h.call(ctx, "panic"); return err }},
		{"stream", func() error { return h.stream(ctx, "panic") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			st := status.Convert(err)
			if st.Code() != codes.Internal || st.Message() != "internal error" || len(st.Details()) != 0 {
				t.Errorf("status = %v %q %v, want Internal \"internal error\" without details", st.Code(), st.Message(), st.Details())
			}
			if strings.Contains(err.Error(), "nil pointer") {
				t.Errorf("panic text leaked to the client: %v", err)
			}
			// The server is still there.
			if out, err := h.call(ctx, "ok"); err != nil || out.GetValue() != "done: ok" {
				t.Errorf("call after panic = %v, %v; want done: ok", out, err)
			}
		})
	}

	logs := h.logs.String()
	if !strings.Contains(logs, panicText) || !strings.Contains(logs, "goroutine") {
		t.Errorf("the panic and its stack were not logged:\n%s", logs)
	}
	r := findRecord(h.logs.records(t), "grpc handler panicked", callMethod)
	if r == nil || r["level"] != "ERROR" {
		t.Errorf("panic log record = %v, want one at ERROR for %s", r, callMethod)
	}
}

func TestInvalidArgumentArrivesWithDetails(t *testing.T) {
	h := startServer(t, Options{})
	ctx := testContext(t)

	check := func(t *testing.T, err error) {
		t.Helper()
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument || st.Message() != "invalid sku: is required" {
			t.Fatalf("status = %v %q, want InvalidArgument", st.Code(), st.Message())
		}
		var br *errdetails.BadRequest
		var info *errdetails.ErrorInfo
		for _, d := range st.Details() {
			switch d := d.(type) {
			case *errdetails.BadRequest:
				br = d
			case *errdetails.ErrorInfo:
				info = d
			}
		}
		if len(br.GetFieldViolations()) != 1 || br.GetFieldViolations()[0].GetField() != "sku" {
			t.Errorf("BadRequest = %v, want one violation on sku", br)
		}
		if info.GetReason() != "INVALID_ARGUMENT" || info.GetDomain() != ErrorDomain {
			t.Errorf("ErrorInfo = %v", info)
		}
		back := FromStatus(err)
		if !errors.Is(back, apperr.ErrInvalidArgument) {
			t.Errorf("FromStatus = %v, want an invalid-argument apperr", back)
		}
	}
	t.Run("unary", func(t *testing.T) {
		_, err := h.call(ctx, "invalid")
		check(t, err)
	})
	t.Run("stream", func(t *testing.T) { check(t, h.stream(ctx, "invalid")) })

	r := findRecord(h.logs.records(t), "grpc request", callMethod)
	if r == nil || r["level"] != "INFO" || r["code"] != "InvalidArgument" || r["peer"] == nil || r["duration"] == nil {
		t.Errorf("request log record = %v, want INFO with code, peer and duration", r)
	}
}

func TestClientInterceptorReturnsAppErrors(t *testing.T) {
	h := startServer(t, Options{}, grpc.WithChainUnaryInterceptor(UnaryClientInterceptor()))
	_, err := h.call(testContext(t), "invalid")
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind != apperr.KindInvalidArgument || len(ae.Violations) != 1 || ae.Violations[0].Field != "sku" {
		t.Errorf("client got %#v, want an *apperr.Error with the sku violation", err)
	}
}

func TestInternalErrorIsNotSent(t *testing.T) {
	h := startServer(t, Options{})
	_, err := h.call(testContext(t), "internal")
	st := status.Convert(err)
	if st.Code() != codes.Internal || st.Message() != "internal error" {
		t.Errorf("status = %v %q, want Internal \"internal error\"", st.Code(), st.Message())
	}
	if strings.Contains(err.Error(), "10.0.0.7") {
		t.Errorf("internal error leaked: %v", err)
	}
	r := findRecord(h.logs.records(t), "grpc request", callMethod)
	if r == nil || r["level"] != "ERROR" || r["code"] != "Internal" || r["error"] != internalText {
		t.Errorf("log record = %v, want ERROR with the real error", r)
	}
}

func TestShutdownDrainsInFlightCall(t *testing.T) {
	h := startServer(t, Options{DrainTimeout: 10 * time.Second})
	ctx := testContext(t)

	type result struct {
		out *wrapperspb.StringValue
		err error
	}
	slow := make(chan result, 1)
	go func() {
		out, err := h.call(ctx, "slow")
		slow <- result{out, err}
	}()
	<-h.svc.started

	h.stop()
	// Serve reacts: health goes NOT_SERVING first, then the drain begins.
	waitFor(t, "health NOT_SERVING", func() bool {
		resp, err := h.srv.Health().Check(ctx, &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING
	})
	select {
	case err := <-h.served:
		t.Fatalf("Serve returned (%v) while a call was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}

	close(h.svc.release)
	r := <-slow
	if r.err != nil || r.out.GetValue() != "done: slow" {
		t.Fatalf("in-flight call = %v, %v; want it to complete OK", r.out, r.err)
	}
	select {
	case err := <-h.served:
		if err != nil {
			t.Errorf("Serve = %v, want nil after a clean drain", err)
		}
		h.served <- err // for the cleanup
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the drain")
	}

	callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := h.call(callCtx, "ok"); err == nil {
		t.Error("a call after shutdown succeeded")
	}
}

func TestDrainTimeoutCutsOff(t *testing.T) {
	h := startServer(t, Options{DrainTimeout: 100 * time.Millisecond})
	ctx := testContext(t)

	slow := make(chan error, 1)
	go func() {
		_, err := h.call(ctx, "slow")
		slow <- err
	}()
	<-h.svc.started
	h.stop()

	select {
	case err := <-h.served:
		if !errors.Is(err, ErrDrainTimeout) {
			t.Errorf("Serve = %v, want ErrDrainTimeout", err)
		}
		h.served <- err
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the drain timeout")
	}
	if err := <-slow; err == nil {
		t.Error("the cut-off call succeeded")
	}
}

func TestServeReturnsEarly(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(lis net.Listener) context.Context
		wantErr bool
	}{
		{
			name: "context already done",
			prepare: func(net.Listener) context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			},
		},
		{
			name: "listener fails",
			prepare: func(lis net.Listener) context.Context {
				_ = lis.Close()
				return context.Background()
			},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := New(Options{Logger: slog.New(slog.DiscardHandler)})
			ctx := tt.prepare(lis)
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx, lis) }()
			select {
			case err := <-done:
				if (err != nil) != tt.wantErr {
					t.Errorf("Serve = %v, wantErr %v", err, tt.wantErr)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return")
			}
		})
	}
}

func TestRPCSpan(t *testing.T) {
	rec := telemetrytest.NewRecorder(t) // before New: otelgrpc captures the globals
	h := startServer(t, Options{}, grpc.WithStatsHandler(otelgrpc.NewClientHandler()))

	if _, err := h.call(testContext(t), "ok"); err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(callMethod, "/")
	telemetrytest.AwaitSpan(t, rec, name)
	// The client span may end before or after the server's: wait for both.
	waitFor(t, "client and server spans", func() bool { return len(telemetrytest.FindSpans(rec.Ended(), name)) == 2 })
	var client, server sdktrace.ReadOnlySpan
	for _, s := range telemetrytest.FindSpans(rec.Ended(), name) {
		switch s.SpanKind() {
		case trace.SpanKindClient:
			client = s
		case trace.SpanKindServer:
			server = s
		}
	}
	if client == nil || server == nil {
		t.Fatalf("spans %v: want a client and a server span named %s", telemetrytest.SpanNames(rec.Ended()), name)
	}
	telemetrytest.AssertChildOf(t, client, server)

	// The request log line carries the server span's ids.
	r := findRecord(h.logs.records(t), "grpc request", callMethod)
	if r == nil || r[logging.KeyTraceID] != server.SpanContext().TraceID().String() ||
		r[logging.KeySpanID] != server.SpanContext().SpanID().String() {
		t.Errorf("log record = %v, want the server span's trace and span ids", r)
	}
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
