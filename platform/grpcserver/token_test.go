package grpcserver

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
)

const testToken = "internal-service-token-0123456789"

// startTokenServer serves the test service requiring testToken, with a spy on
// what reaches the handler, and a client that sends no token of its own.
func startTokenServer(t *testing.T, opts Options) (*harness, *callerSpy) {
	t.Helper()
	spy := &callerSpy{}
	opts.ServiceToken = testToken
	opts.UnaryInterceptors = []grpc.UnaryServerInterceptor{func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		spy.record(ctx)
		if md, _ := metadata.FromIncomingContext(ctx); len(md.Get(AuthorizationMetadataKey)) != 0 {
			return nil, errors.New("the token reached the handler")
		}
		return handler(ctx, req)
	}}
	opts.StreamInterceptors = []grpc.StreamServerInterceptor{func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		spy.record(ss.Context())
		return handler(srv, ss)
	}}
	return startServer(t, opts), spy
}

func withAuth(ctx context.Context, kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

// Without the right token no RPC reaches a handler, unary or stream, and the
// refusal is Unauthenticated whatever else the call claims.
func TestCallWithoutServiceTokenIsUnauthenticated(t *testing.T) {
	h, spy := startTokenServer(t, Options{})
	ctx := testContext(t)
	cases := []struct {
		name string
		md   []string
	}{
		{"no token", nil},
		{"wrong token", []string{AuthorizationMetadataKey, "Bearer not-the-token"}},
		{"token prefix", []string{AuthorizationMetadataKey, "Bearer " + testToken[:10]}},
		{"token without scheme", []string{AuthorizationMetadataKey, testToken}},
		{"other scheme", []string{AuthorizationMetadataKey, "Basic " + testToken}},
		{"two values", []string{AuthorizationMetadataKey, "Bearer " + testToken, AuthorizationMetadataKey, "Bearer x"}},
		// Claiming a partner does not stand in for the token: no impersonation.
		{"partner id without token", []string{caller.PartnerMetadataKey, "acme"}},
		{"internal caller without token", []string{caller.InternalMetadataKey, "ledger"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.call(withAuth(ctx, c.md...), "ok")
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("unary call = %v, want Unauthenticated", err)
			}
			if err := h.stream(withAuth(ctx, c.md...), "ok"); status.Code(err) != codes.Unauthenticated {
				t.Errorf("stream = %v, want Unauthenticated", err)
			}
			if strings.Contains(status.Convert(err).Message(), "not-the-token") {
				t.Errorf("the refusal echoes the value sent: %v", err)
			}
		})
	}
	if n := spy.count(); n != 0 {
		t.Errorf("%d refused calls reached the handler", n)
	}
	var ae *apperr.Error
	_, err := h.call(ctx, "ok")
	if !errors.As(FromStatus(err), &ae) || ae.Reason != "SERVICE_TOKEN_REQUIRED" {
		t.Errorf("missing token = %v, want reason SERVICE_TOKEN_REQUIRED", err)
	}
}

// With the token, calls run, and the partner id in metadata is the caller:
// the token is what makes the gateway's partner metadata trustworthy.
func TestCallWithServiceTokenRuns(t *testing.T) {
	h, spy := startTokenServer(t, Options{})
	ctx := testContext(t)
	auth := withAuth(ctx, AuthorizationMetadataKey, "Bearer "+testToken)
	if out, err := h.call(auth, "ok"); err != nil || out.GetValue() != "done: ok" {
		t.Fatalf("call with token = %v, %v", out, err)
	}
	if err := h.stream(auth, "ok"); err != nil {
		t.Fatalf("stream with token = %v", err)
	}
	// The scheme is case-insensitive, like HTTP's.
	if _, err := h.call(withAuth(ctx, AuthorizationMetadataKey, "bearer "+testToken), "ok"); err != nil {
		t.Errorf("lower-case scheme: %v", err)
	}
	if _, err := h.call(withAuth(auth, caller.PartnerMetadataKey, "acme"), "ok"); err != nil {
		t.Fatal(err)
	}
	if got := spy.last(t); got != caller.Partner("acme") {
		t.Errorf("caller = %v, want partner acme", got)
	}
}

// The kubelet's gRPC probes send no metadata: health answers without the token.
func TestHealthNeedsNoServiceToken(t *testing.T) {
	h, _ := startTokenServer(t, Options{})
	resp, err := healthpb.NewHealthClient(h.conn).Check(testContext(t), &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check without token = %v, %v; want SERVING", resp, err)
	}
}

// Reflection lists the API: it needs the token like the API itself.
func TestReflectionNeedsServiceToken(t *testing.T) {
	h, _ := startTokenServer(t, Options{Reflection: true})
	ctx := testContext(t)
	if _, err := listServices(ctx, h.conn); status.Code(err) != codes.Unauthenticated {
		t.Errorf("reflection without token = %v, want Unauthenticated", err)
	}
	if _, err := listServices(withAuth(ctx, AuthorizationMetadataKey, "Bearer "+testToken), h.conn); err != nil {
		t.Errorf("reflection with token = %v", err)
	}
}

// Dial with WithServiceToken sends the token on every call, over plaintext.
func TestDialSendsServiceToken(t *testing.T) {
	h, _ := startTokenServer(t, Options{})
	target := h.conn.Target()
	for _, tc := range []struct {
		name string
		opts []grpc.DialOption
		want codes.Code
	}{
		{"with token", []grpc.DialOption{WithServiceToken(testToken)}, codes.OK},
		{"empty token sends none", []grpc.DialOption{WithServiceToken("")}, codes.Unauthenticated},
		{"without option", nil, codes.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := Dial(target, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			err = conn.Invoke(testContext(t), callMethod, wrapperspb.String("ok"), new(wrapperspb.StringValue))
			// Dial's connection returns *apperr.Error values.
			got := codes.OK
			var ae *apperr.Error
			if errors.As(err, &ae) && ae.Kind == apperr.KindUnauthenticated {
				got = codes.Unauthenticated
			} else if err != nil {
				got = codes.Unknown
			}
			if got != tc.want {
				t.Errorf("call = %v, want %v", err, tc.want)
			}
		})
	}
}

// A server without a token admits every caller (tests, --insecure-internal).
func TestNoServiceTokenAdmitsAll(t *testing.T) {
	h := startServer(t, Options{})
	if _, err := h.call(testContext(t), "ok"); err != nil {
		t.Fatal(err)
	}
}
