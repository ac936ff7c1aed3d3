package grpcserver

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
)

// The caller interceptors put the caller.Caller of every RPC into its context,
// so that use cases (and idempotency claims through storetx) can scope what
// they do by it without reading metadata themselves.
//
// Trust: the partner id is taken from metadata as given. The gateway sets it
// from the API key it authenticated and never forwards a client's own value.
// What makes the metadata trustworthy is the service token (token.go): with
// Options.ServiceToken set, a call reaches this interceptor only if it carries
// the token, which only the gateway, the services and operators hold; anyone
// else who reaches a port is refused before a partner id (or the absence of
// one, meaning internal) is read. A server without a token (tests, or
// `trueup serve --insecure-internal`) trusts whoever can connect.

func callerUnary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		c, err := callerFromMetadata(ctx)
		if err != nil {
			return nil, err
		}
		return handler(caller.NewContext(ctx, c), req)
	}
}

func callerStream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		c, err := callerFromMetadata(ss.Context())
		if err != nil {
			return err
		}
		return handler(srv, &contextStream{ServerStream: ss, ctx: caller.NewContext(ss.Context(), c)})
	}
}

// callerFromMetadata reads the caller from the incoming metadata: a partner
// when caller.PartnerMetadataKey is present, else an internal caller named by
// caller.InternalMetadataKey, or the default internal caller. More than one
// value, or a malformed one, is Unauthenticated: a request whose identity is
// ambiguous must not run under either.
func callerFromMetadata(ctx context.Context) (caller.Caller, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if ids := md.Get(caller.PartnerMetadataKey); len(ids) > 0 {
		id, err := singleID(caller.PartnerMetadataKey, ids)
		if err != nil {
			return caller.Caller{}, err
		}
		return caller.Partner(id), nil
	}
	names := md.Get(caller.InternalMetadataKey)
	if len(names) == 0 {
		return caller.Internal(""), nil
	}
	name, err := singleID(caller.InternalMetadataKey, names)
	if err != nil {
		return caller.Caller{}, err
	}
	return caller.Internal(name), nil
}

func singleID(key string, vals []string) (string, error) {
	if len(vals) != 1 {
		return "", apperr.New(apperr.KindUnauthenticated, "AMBIGUOUS_CALLER", "metadata %s must have exactly one value, got %d", key, len(vals))
	}
	if err := caller.ValidateID(vals[0]); err != nil {
		// The value itself is not echoed: it may be anything at all.
		return "", apperr.New(apperr.KindUnauthenticated, "MALFORMED_CALLER", "metadata %s is malformed: %v", key, err)
	}
	return vals[0], nil
}

// contextStream is a ServerStream with a replaced context.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }
