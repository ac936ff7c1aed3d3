package grpcserver

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
)

// ReasonInternalOnly is the reason of a partner's call to an internal method.
const ReasonInternalOnly = "INTERNAL_ONLY"

// PartnerGuard returns a copy of a service's descriptor whose methods refuse
// partner callers (PermissionDenied, INTERNAL_ONLY) unless they are named in
// partnerMethods (bare method names, "GetItem"). A service registers the copy
// instead of its generated descriptor to say which of its methods partners may
// call at all: those must then check ownership themselves (a partner sees and
// changes only its own resources); every other method is the company's own
// (its stock journal, its books) and internal callers only reach it. The check
// runs after the server's interceptors, so the caller is known and the refusal
// is mapped and logged like any error. A name that is not a method of the
// service panics at start: a typo must not silently close a route.
func PartnerGuard(desc *grpc.ServiceDesc, partnerMethods ...string) *grpc.ServiceDesc {
	allowed := map[string]bool{}
	known := map[string]bool{}
	for _, m := range desc.Methods {
		known[m.MethodName] = true
	}
	for _, s := range desc.Streams {
		known[s.StreamName] = true
	}
	for _, m := range partnerMethods {
		if !known[m] {
			panic(fmt.Sprintf("grpcserver: PartnerGuard: %s has no method %q", desc.ServiceName, m))
		}
		allowed[m] = true
	}
	out := *desc
	out.Methods = make([]grpc.MethodDesc, len(desc.Methods))
	for i, m := range desc.Methods {
		out.Methods[i] = m
		if allowed[m.MethodName] {
			continue
		}
		name, orig := m.MethodName, m.Handler
		out.Methods[i].Handler = func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			return orig(srv, ctx, dec, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
				guarded := func(ctx context.Context, req any) (any, error) {
					if err := internalOnly(ctx, desc.ServiceName, name); err != nil {
						return nil, err
					}
					return handler(ctx, req)
				}
				if interceptor == nil {
					return guarded(ctx, req)
				}
				return interceptor(ctx, req, info, guarded)
			})
		}
	}
	out.Streams = make([]grpc.StreamDesc, len(desc.Streams))
	for i, s := range desc.Streams {
		out.Streams[i] = s
		if allowed[s.StreamName] {
			continue
		}
		name, orig := s.StreamName, s.Handler
		// A stream's handler runs inside the stream interceptors already.
		out.Streams[i].Handler = func(srv any, stream grpc.ServerStream) error {
			if err := internalOnly(stream.Context(), desc.ServiceName, name); err != nil {
				return err
			}
			return orig(srv, stream)
		}
	}
	return &out
}

func internalOnly(ctx context.Context, service, method string) error {
	if c := caller.From(ctx); c.IsPartner() {
		return apperr.New(apperr.KindPermissionDenied, ReasonInternalOnly,
			"%s.%s is internal: partners reach it through the orders and fulfillment APIs", service, method)
	}
	return nil
}
