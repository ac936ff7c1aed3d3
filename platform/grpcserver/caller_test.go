package grpcserver

import (
	"context"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"trueup.dev/platform/caller"
)

// callerSpy records caller.FromContext as user interceptors see it, which is
// the context the handler gets.
type callerSpy struct {
	mu   sync.Mutex
	seen []caller.Caller
	ok   []bool
}

func (s *callerSpy) record(ctx context.Context) {
	c, ok := caller.FromContext(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen, s.ok = append(s.seen, c), append(s.ok, ok)
}

func (s *callerSpy) last(t *testing.T) caller.Caller {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		t.Fatal("no RPC reached the handler")
	}
	if !s.ok[len(s.ok)-1] {
		t.Fatal("no caller in the handler's context")
	}
	return s.seen[len(s.seen)-1]
}

func (s *callerSpy) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

func startCallerServer(t *testing.T) (*harness, *callerSpy) {
	spy := &callerSpy{}
	h := startServer(t, Options{
		UnaryInterceptors: []grpc.UnaryServerInterceptor{func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			spy.record(ctx)
			return handler(ctx, req)
		}},
		StreamInterceptors: []grpc.StreamServerInterceptor{func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			spy.record(ss.Context())
			return handler(srv, ss)
		}},
	})
	return h, spy
}

// The server the platform builds puts the caller into every RPC's context,
// unary and stream: the partner the gateway forwarded, else the internal
// caller, named or not.
func TestCallerIsInTheContext(t *testing.T) {
	h, spy := startCallerServer(t)
	tests := []struct {
		name string
		md   []string
		want caller.Caller
	}{
		{name: "no identity is the default internal caller", want: caller.Internal("")},
		{name: "partner from the gateway", md: []string{caller.PartnerMetadataKey, "acme"}, want: caller.Partner("acme")},
		{name: "named internal caller", md: []string{caller.InternalMetadataKey, "fulfillment"}, want: caller.Internal("fulfillment")},
		{name: "a partner cannot also be internal", md: []string{caller.PartnerMetadataKey, "acme", caller.InternalMetadataKey, "fulfillment"}, want: caller.Partner("acme")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := metadata.AppendToOutgoingContext(testContext(t), tt.md...)
			if _, err := h.call(ctx, "ok"); err != nil {
				t.Fatal(err)
			}
			if got := spy.last(t); got != tt.want {
				t.Errorf("unary caller = %+v, want %+v", got, tt.want)
			}
			if err := h.stream(ctx, "ok"); err != nil {
				t.Fatal(err)
			}
			if got := spy.last(t); got != tt.want {
				t.Errorf("stream caller = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// An identity that is malformed or ambiguous is refused before any handler
// runs: the request must not run as some other caller, or as internal.
func TestMalformedCallerIsUnauthenticated(t *testing.T) {
	h, spy := startCallerServer(t)
	tests := []struct {
		name string
		md   []string
	}{
		{"empty partner", []string{caller.PartnerMetadataKey, ""}},
		{"blank partner", []string{caller.PartnerMetadataKey, "   "}},
		{"padded partner", []string{caller.PartnerMetadataKey, " acme"}},
		{"too long partner", []string{caller.PartnerMetadataKey, strings.Repeat("a", caller.MaxIDLength+1)}},
		{"two partners", []string{caller.PartnerMetadataKey, "acme", caller.PartnerMetadataKey, "globex"}},
		{"empty internal name", []string{caller.InternalMetadataKey, ""}},
		{"two internal names", []string{caller.InternalMetadataKey, "a", caller.InternalMetadataKey, "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := spy.count()
			ctx := metadata.AppendToOutgoingContext(testContext(t), tt.md...)
			_, err := h.call(ctx, "ok")
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("unary = %v, want Unauthenticated", err)
			}
			if err := h.stream(ctx, "ok"); status.Code(err) != codes.Unauthenticated {
				t.Errorf("stream = %v, want Unauthenticated", err)
			}
			if spy.count() != before {
				t.Error("a refused request reached the handler")
			}
		})
	}
}

// Values a grpc-go client refuses to send but another client might: checked on
// the interceptor's own input.
func TestNonPrintableCallerIsUnauthenticated(t *testing.T) {
	for _, id := range []string{"ac\x7fme", "ac\u200bme", "\xff"} {
		for _, key := range []string{caller.PartnerMetadataKey, caller.InternalMetadataKey} {
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(key, id))
			if _, err := callerFromMetadata(ctx); ToStatus(err).Code() != codes.Unauthenticated {
				t.Errorf("%s %q: %v, want Unauthenticated", key, id, err)
			}
		}
	}
}

// grpc-go's own services speak in status codes (health answers NotFound for a
// service it does not know); ToStatus must not take those for a dependency's.
func TestGRPCOwnedServicesKeepTheirCodes(t *testing.T) {
	h := startServer(t, Options{})
	_, err := healthpb.NewHealthClient(h.conn).Check(testContext(t), &healthpb.HealthCheckRequest{Service: "no.such.Service"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("Check(unknown service) = %v, want NotFound", err)
	}
}
