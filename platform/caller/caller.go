// Package caller carries who is calling a service through the context: a
// partner authenticated by the gateway, or an internal caller (an ERP screen,
// a scanner, another Trueup service, a CLI).
//
// It exists so that what one caller does cannot be seen or taken over by
// another. The first user is idempotency: a request_id is a client's key, and
// two partners who happen to pick the same key ("r-1", a counter, a UUID one of
// them leaked) must get two independent commands, not each other's result.
// Every request-id claim is therefore namespaced by Scope (see
// idempotency.Claim). Resource ownership will use the same identity.
//
// The caller is put into the context by one gRPC interceptor in grpcserver,
// from the incoming metadata keys defined here; the gateway sets PartnerMetadataKey
// from the API key it authenticated. This package has no dependencies beyond the
// standard library so the gateway and every service can share these definitions.
package caller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PartnerMetadataKey is the gRPC metadata key by which the gateway tells a
// service which partner it authenticated. Only the gateway may set it: the
// gateway refuses to forward it (or any "x-trueup-" key) from a client's HTTP
// headers. Until the internal gRPC ports require a credential, anyone who can
// reach a port can also set it, so those ports must stay private.
const PartnerMetadataKey = "x-trueup-partner"

// InternalMetadataKey is the optional gRPC metadata key by which an internal
// caller names itself ("fulfillment", "erp-ui"), for its own request-id
// namespace and the logs. It is ignored when PartnerMetadataKey is present: a
// partner cannot pass itself off as internal.
const InternalMetadataKey = "x-trueup-caller"

// ReservedMetadataPrefix is the prefix of every metadata key Trueup uses for
// identity. The gateway never forwards a client header that maps to it.
const ReservedMetadataPrefix = "x-trueup-"

// MaxIDLength bounds a partner id or internal caller name, in bytes.
const MaxIDLength = 128

// DefaultInternalID is the ID of an internal caller that did not name itself.
const DefaultInternalID = "internal"

// Kind tells a partner from an internal caller.
type Kind int

const (
	// KindInternal is a caller inside the trust boundary. It is the zero
	// value, so a context without a caller means an internal one.
	KindInternal Kind = iota
	// KindPartner is an external partner authenticated by the gateway.
	KindPartner
)

// String is "internal" or "partner".
func (k Kind) String() string {
	if k == KindPartner {
		return "partner"
	}
	return "internal"
}

// Caller is who is making a request. The zero value is the default internal caller.
type Caller struct {
	// Kind is partner or internal.
	Kind Kind
	// ID is the partner id for a partner; for an internal caller, the name it
	// gave itself, or "" / DefaultInternalID when it gave none.
	ID string
}

// Partner returns the caller for partner id.
func Partner(id string) Caller { return Caller{Kind: KindPartner, ID: id} }

// Internal returns an internal caller named name; "" is the default internal caller.
func Internal(name string) Caller {
	if name == "" {
		name = DefaultInternalID
	}
	return Caller{Kind: KindInternal, ID: name}
}

// IsPartner reports whether c is an external partner.
func (c Caller) IsPartner() bool { return c.Kind == KindPartner }

// Scope is the namespace of what c claims: "partner:<id>" for a partner,
// "internal" for the default internal caller and "internal:<name>" for a named
// one. Two callers never share a scope, and the "partner:" and "internal"
// prefixes keep a partner id from ever producing an internal scope. An
// internal caller must name itself the same way on every retry, since a
// retry under another name is a new command.
func (c Caller) Scope() string {
	if c.Kind == KindPartner {
		return "partner:" + c.ID
	}
	if c.ID == "" || c.ID == DefaultInternalID {
		return DefaultInternalID
	}
	return DefaultInternalID + ":" + c.ID
}

// String is Scope, for logs.
func (c Caller) String() string { return c.Scope() }

// Qualify namespaces a command scope (e.g. "ReceiveStock") by the caller:
// "partner:acme/ReceiveStock". Command scopes are code constants without "/",
// so the last "/" always separates the two and no two callers' results mix.
func (c Caller) Qualify(scope string) string { return c.Scope() + "/" + scope }

type contextKey struct{}

// NewContext returns a copy of ctx carrying c.
func NewContext(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, contextKey{}, c)
}

// FromContext returns the caller in ctx, if one was put there.
func FromContext(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(contextKey{}).(Caller)
	return c, ok
}

// From returns the caller in ctx, or the default internal caller when there is
// none: code that runs outside a gRPC request (event handlers, the CLI, jobs)
// acts as the system itself.
func From(ctx context.Context) Caller {
	if c, ok := FromContext(ctx); ok {
		return c
	}
	return Internal("")
}

// ErrMalformedID is returned (wrapped) by ValidateID.
var ErrMalformedID = errors.New("malformed caller id")

// ValidateID checks a partner id or internal caller name as it arrives in
// metadata: not empty, no surrounding white space (" acme" and "acme" would
// otherwise be two scopes for one partner), at most MaxIDLength bytes, valid
// UTF-8 and printable throughout.
func ValidateID(id string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return fmt.Errorf("%w: empty", ErrMalformedID)
	case strings.TrimSpace(id) != id:
		return fmt.Errorf("%w: leading or trailing white space", ErrMalformedID)
	case len(id) > MaxIDLength:
		return fmt.Errorf("%w: longer than %d bytes", ErrMalformedID, MaxIDLength)
	case !utf8.ValidString(id):
		return fmt.Errorf("%w: not valid UTF-8", ErrMalformedID)
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: non-printable character %U", ErrMalformedID, r)
		}
	}
	return nil
}
