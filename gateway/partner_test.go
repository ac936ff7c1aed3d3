package gateway

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"trueup.dev/platform/caller"
)

// mdRecorder is a gRPC backend that answers every call NotFound and keeps the
// incoming metadata of the last one.
type mdRecorder struct {
	mu sync.Mutex
	md metadata.MD
}

func (r *mdRecorder) handle(_ any, ss grpc.ServerStream) error {
	md, _ := metadata.FromIncomingContext(ss.Context())
	r.mu.Lock()
	r.md = md.Copy()
	r.mu.Unlock()
	return status.Error(codes.NotFound, "nothing here")
}

func (r *mdRecorder) last() metadata.MD {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.md
}

// The service sees exactly one partner, the authenticated one, whatever
// identity headers the client adds: Grpc-Metadata-X-Trueup-Partner (the
// prefix grpc-gateway used to forward), a bare X-Trueup-Partner, or an
// attempt to pass as an internal caller.
func TestClientCannotChooseItsPartner(t *testing.T) {
	rec := &mdRecorder{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := grpc.NewServer(grpc.UnknownServiceHandler(rec.handle))
	go func() { _ = backend.Serve(lis) }()
	t.Cleanup(backend.Stop)

	keys, err := ParseKeys(strings.NewReader("acme " + key + " *\nglobex key-globex-0123456789abcdefghij *\n"))
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	g, err := New(context.Background(), Config{Targets: Targets{addr, addr, addr, addr}, Keys: keys,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)

	req, _ := http.NewRequest("GET", srv.URL+"/v1/carriers", nil)
	req.Header.Add("Grpc-Metadata-X-Trueup-Partner", "globex")
	req.Header.Add("Grpc-Metadata-x-trueup-partner", "globex2")
	req.Header.Set("X-Trueup-Partner", "globex")
	req.Header.Set("Grpc-Metadata-X-Trueup-Caller", "ledger")
	req.Header.Set("X-Trueup-Caller", "ledger")
	if code, body := do(t, req); code != http.StatusNotFound {
		t.Fatalf("status = %d %s, want the backend's 404", code, body)
	}
	md := rec.last()
	if got := md.Get(caller.PartnerMetadataKey); len(got) != 1 || got[0] != "acme" {
		t.Errorf("backend saw %s = %q, want exactly [acme]", caller.PartnerMetadataKey, got)
	}
	for k := range md {
		if k != caller.PartnerMetadataKey && strings.HasPrefix(k, caller.ReservedMetadataPrefix) {
			t.Errorf("backend saw client-chosen identity metadata %s = %q", k, md.Get(k))
		}
	}
}

// The filter holds whatever the base matcher forwards: with grpc-gateway's
// legacy matcher, which forwards every Grpc-Metadata- header, the identity
// keys are still dropped and other keys still pass.
func TestIncomingHeadersDropIdentityKeys(t *testing.T) {
	m := incomingHeaders(runtime.LegacyHeaderMatcher)
	for _, h := range []string{"Grpc-Metadata-X-Trueup-Partner", "grpc-metadata-x-trueup-partner", "Grpc-Metadata-X-Trueup-Caller", "Grpc-Metadata-X-Trueup-Anything"} {
		if md, ok := m(h); ok {
			t.Errorf("header %s forwarded as %q", h, md)
		}
	}
	if md, ok := m("Grpc-Metadata-X-Request-Tag"); !ok || md != "X-Request-Tag" {
		t.Errorf("an unrelated header was dropped: %q %v", md, ok)
	}
	if md, ok := incomingHeaders(runtime.DefaultHeaderMatcher)("Accept"); !ok || md != runtime.MetadataPrefix+"Accept" {
		t.Errorf("permanent header Accept = %q %v", md, ok)
	}
}

// A partner id the services would refuse is refused when the keys are loaded.
func TestParseKeysRefusesMalformedPartnerID(t *testing.T) {
	_, err := ParseKeys(strings.NewReader(strings.Repeat("p", caller.MaxIDLength+1) + " " + key + " *\n"))
	if err == nil || !strings.Contains(err.Error(), "partner id") {
		t.Fatalf("ParseKeys = %v, want a partner id error", err)
	}
}
