package grpcserver

import (
	"context"

	"google.golang.org/grpc"
)

// UnaryClientInterceptor applies FromStatus to every error a unary call returns,
// so a service calling another service gets *apperr.Error values back:
//
//	grpc.NewClient(addr, grpc.WithChainUnaryInterceptor(grpcserver.UnaryClientInterceptor()), …)
func UnaryClientInterceptor() grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return FromStatus(invoker(ctx, method, req, reply, cc, opts...))
	}
}
