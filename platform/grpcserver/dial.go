package grpcserver

import (
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Dial opens a lazy client connection from one service to another's gRPC
// API (the ledger reading inventory's valuation, fulfillment booking a
// receipt), traced: the callee's server span is a child of the caller's.
// Errors come back as *apperr.Error values (UnaryClientInterceptor), so the
// callee's NotFound or FailedPrecondition, with its reason and violations,
// reaches the caller's client as such instead of as an internal error.
// Plaintext, like the services' listeners; pass WithServiceToken(token) so
// the callee admits the call (see Options.ServiceToken). opts come after the
// built-in options.
func Dial(target string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	return grpc.NewClient(target, append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithChainUnaryInterceptor(UnaryClientInterceptor()),
	}, opts...)...)
}
