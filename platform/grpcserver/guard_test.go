package grpcserver

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"trueup.dev/platform/caller"
)

// A guarded service refuses partners on the methods it does not name, unary
// and stream, and lets internal callers through; a named method is open to
// partners.
func TestPartnerGuard(t *testing.T) {
	guarded := PartnerGuard(&testServiceDesc)
	h := startServer(t, Options{})
	// startServer registered the plain service; serve the guarded copy under
	// the same name on a second server.
	g := startServerWith(t, guarded)
	partner := metadata.AppendToOutgoingContext(testContext(t), caller.PartnerMetadataKey, "acme")

	if _, err := g.call(partner, "ok"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("partner on a guarded method: %v", err)
	}
	if err := g.stream(partner, "ok"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("partner on a guarded stream: %v", err)
	}
	if _, err := g.call(testContext(t), "ok"); err != nil {
		t.Fatalf("internal caller: %v", err)
	}
	if _, err := h.call(partner, "ok"); err != nil {
		t.Fatalf("unguarded service: %v", err)
	}
	open := startServerWith(t, PartnerGuard(&testServiceDesc, "Call"))
	if _, err := open.call(partner, "ok"); err != nil {
		t.Fatalf("partner on a method the service opens: %v", err)
	}
	if err := open.stream(partner, "ok"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("partner on the stream it does not open: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a method name the service lacks did not panic")
		}
	}()
	PartnerGuard(&testServiceDesc, "Cal")
}
