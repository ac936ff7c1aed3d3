package grpcserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	"trueup.dev/platform/apperr"
)

// The internal gRPC credential: one shared service token (from a Kubernetes
// Secret in production, a random file in `trueup dev`) that every caller of a
// service's gRPC port — the gateway, another service, the trueup CLI — sends
// as "authorization: Bearer <token>" metadata. Reaching a pod is then not
// enough to call it, nor to claim a partner id in metadata (caller.go).
//
// The grpc.health.v1 service is exempt: the kubelet's gRPC probes cannot send
// metadata, and health reveals only SERVING or NOT_SERVING. Reflection is not
// exempt.

// AuthorizationMetadataKey is the metadata key carrying the service token.
const AuthorizationMetadataKey = "authorization"

// healthMethodPrefix names the methods callable without the token.
const healthMethodPrefix = "/grpc.health.v1.Health/"

// ServiceToken returns per-RPC credentials that send token as
// "authorization: Bearer <token>" on every call. An empty token sends nothing,
// so a client works unchanged against a server that requires none.
//
// The credentials do not require transport security: the services' listeners
// are plaintext inside the cluster, where NetworkPolicies restrict who can
// connect and the token says who may call.
func ServiceToken(token string) credentials.PerRPCCredentials { return serviceToken(token) }

// WithServiceToken is the dial option attaching ServiceToken(token).
func WithServiceToken(token string) grpc.DialOption {
	return grpc.WithPerRPCCredentials(ServiceToken(token))
}

type serviceToken string

func (t serviceToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	if t == "" {
		return nil, nil
	}
	return map[string]string{AuthorizationMetadataKey: "Bearer " + string(t)}, nil
}

func (serviceToken) RequireTransportSecurity() bool { return false }

// tokenCheck verifies the service token of an incoming call. Its zero value
// (no token configured) admits every call.
type tokenCheck struct {
	// sum is the token's SHA-256: comparing digests keeps the comparison
	// constant-time whatever the lengths of the token and the value sent.
	sum [sha256.Size]byte
	on  bool
}

func newTokenCheck(token string) tokenCheck {
	if token == "" {
		return tokenCheck{}
	}
	return tokenCheck{sum: sha256.Sum256([]byte(token)), on: true}
}

// verify returns ctx without the authorization metadata (so no handler can log
// or forward the token), or an Unauthenticated status error. The error is a
// status already, not an *apperr.Error, because this runs outside error
// mapping: it must also refuse grpc-go's own services (reflection), whose
// errors mapErrors leaves alone.
func (c tokenCheck) verify(ctx context.Context, method string) (context.Context, error) {
	if !c.on || strings.HasPrefix(method, healthMethodPrefix) {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(AuthorizationMetadataKey)
	if len(vals) != 1 {
		return nil, ToStatus(apperr.New(apperr.KindUnauthenticated, "SERVICE_TOKEN_REQUIRED",
			"this internal gRPC API needs exactly one %q metadata value: Bearer and the service token", AuthorizationMetadataKey)).Err()
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	sum := sha256.Sum256([]byte(tok))
	if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], c.sum[:]) != 1 {
		// The value sent is not echoed: it may be a real credential for something else.
		return nil, ToStatus(apperr.New(apperr.KindUnauthenticated, "SERVICE_TOKEN_INVALID", "the service token is not valid")).Err()
	}
	md = md.Copy()
	md.Delete(AuthorizationMetadataKey)
	return metadata.NewIncomingContext(ctx, md), nil
}

func tokenUnary(c tokenCheck) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := c.verify(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func tokenStream(c tokenCheck) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := c.verify(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
	}
}
