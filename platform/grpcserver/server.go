// Package grpcserver builds the gRPC server every Trueup service runs: tracing
// through otelgrpc, panic recovery, one log line per RPC, domain errors mapped
// to status codes by one table (ToStatus and FromStatus), the caller's identity
// (caller.From) in every RPC's context, an optional shared service token that
// every RPC but health must carry (token.go), the standard health service,
// optional reflection, and a graceful, bounded shutdown.
//
// Install the global OpenTelemetry providers (telemetry.Setup, or
// telemetrytest.NewRecorder in tests) before calling New: the stats handler
// captures them when it is built.
package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
)

// DefaultDrainTimeout is how long Serve lets in-flight RPCs finish at shutdown
// when Options.DrainTimeout is zero. It fits inside Kubernetes' default 30s
// termination grace period, leaving time for the rest of the shutdown.
const DefaultDrainTimeout = 20 * time.Second

// ErrDrainTimeout is returned (wrapped) by Serve when in-flight RPCs outlived the
// drain timeout and were cut off.
var ErrDrainTimeout = errors.New("grpcserver: drain timeout exceeded, in-flight RPCs cancelled")

// Options configure New. The zero value is a working server.
type Options struct {
	// Logger receives one line per RPC, recovered panics and internal errors.
	// Nil means slog.Default().
	Logger *slog.Logger
	// Reflection registers the server reflection service (for grpcurl and the
	// like). Leave off in production unless the API is public anyway. With a
	// ServiceToken, reflection needs the token too.
	Reflection bool
	// ServiceToken, when not empty, is the shared internal credential: every
	// RPC except the grpc.health.v1 service (the kubelet's probes send no
	// metadata) must carry "authorization: Bearer <ServiceToken>", or it is
	// refused with Unauthenticated before any handler or caller identity is
	// looked at. Empty admits any caller: only for tests and explicitly
	// insecure installs. Clients send it with WithServiceToken.
	ServiceToken string
	// UnaryInterceptors run after the built-in ones (recovery, logging, error
	// mapping, caller identity), so their panics are recovered, their errors
	// mapped and caller.From works in them. Like handlers, they return
	// *apperr.Error values: a raw gRPC status is taken for a dependency's
	// answer and not passed on (see ToStatus).
	UnaryInterceptors []grpc.UnaryServerInterceptor
	// StreamInterceptors run after the built-in ones, like UnaryInterceptors.
	StreamInterceptors []grpc.StreamServerInterceptor
	// ServerOptions are passed to grpc.NewServer after the built-in ones
	// (credentials, keepalive…). Put interceptors in the fields above instead:
	// one given here as grpc.UnaryInterceptor would run outside panic recovery.
	ServerOptions []grpc.ServerOption
	// MaxRecvMsgSize caps a received message in bytes; zero keeps gRPC's 4 MiB.
	MaxRecvMsgSize int
	// DrainTimeout bounds how long Serve waits for in-flight RPCs at shutdown
	// before cutting them off; zero means DefaultDrainTimeout.
	DrainTimeout time.Duration
}

// Server is a *grpc.Server with its health service and shutdown policy.
type Server struct {
	grpc   *grpc.Server
	health *health.Server
	log    *slog.Logger
	drain  time.Duration
}

// New builds the server. Register services on GRPC(), set their health with
// Health(), then call Serve.
func New(opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	drain := opts.DrainTimeout
	if drain <= 0 {
		drain = DefaultDrainTimeout
	}

	tokens := newTokenCheck(opts.ServiceToken)
	unary := append([]grpc.UnaryServerInterceptor{
		recoverUnary(log), logUnary(log), tokenUnary(tokens), mapErrorsUnary(), callerUnary(),
	}, opts.UnaryInterceptors...)
	stream := append([]grpc.StreamServerInterceptor{
		recoverStream(log), logStream(log), tokenStream(tokens), mapErrorsStream(), callerStream(),
	}, opts.StreamInterceptors...)

	serverOpts := []grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		// Close connections after a while so clients re-resolve and spread over
		// pods added since they connected (a headless Service behind dns:///).
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 5 * time.Minute, MaxConnectionAgeGrace: 30 * time.Second}),
	}
	if opts.MaxRecvMsgSize > 0 {
		serverOpts = append(serverOpts, grpc.MaxRecvMsgSize(opts.MaxRecvMsgSize))
	}
	serverOpts = append(serverOpts, opts.ServerOptions...)

	s := &Server{
		grpc:   grpc.NewServer(serverOpts...),
		health: health.NewServer(),
		log:    log,
		drain:  drain,
	}
	healthpb.RegisterHealthServer(s.grpc, s.health)
	if opts.Reflection {
		reflection.Register(s.grpc)
	}
	return s
}

// GRPC returns the underlying server, to register services on.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Health returns the health service, so a service can report per-service status
// (SetServingStatus("trueup.ledger.v1.LedgerService", …)). The overall status ""
// starts as SERVING; Serve turns everything NOT_SERVING when shutting down.
func (s *Server) Health() *health.Server { return s.health }

// Serve accepts connections on lis until ctx is done, then shuts down: health
// turns NOT_SERVING, new connections are refused, and in-flight RPCs get up to
// the drain timeout to finish before they are cut off. It returns nil after a
// clean shutdown, an error wrapping ErrDrainTimeout if RPCs had to be cut off,
// or the error that made serving fail. lis is closed when Serve returns.
//
// Long-lived streams (a health Watch, a server stream that never ends) hold the
// drain open; they are what the timeout is for.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- s.grpc.Serve(lis) }()

	select {
	case err := <-served:
		// Serving stopped on its own: the listener failed. Stop the rest too.
		s.health.Shutdown()
		s.grpc.Stop()
		return fmt.Errorf("grpc serve on %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}

	s.log.InfoContext(ctx, "grpc server shutting down", "addr", lis.Addr().String(), "drain_timeout", s.drain)
	s.health.Shutdown()

	drained := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(drained)
	}()
	timer := time.NewTimer(s.drain)
	defer timer.Stop()

	var result error
	select {
	case <-drained:
	case <-timer.C:
		s.log.WarnContext(ctx, "grpc drain timeout exceeded, cutting off in-flight RPCs", "drain_timeout", s.drain)
		s.grpc.Stop() // makes GracefulStop return too
		<-drained
		result = fmt.Errorf("grpc shutdown after %s: %w", s.drain, ErrDrainTimeout)
	}
	// After Stop or GracefulStop, grpc.Serve returns nil, or ErrServerStopped if
	// ctx was done so early that it had not started yet.
	if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) && result == nil {
		result = fmt.Errorf("grpc serve on %s: %w", lis.Addr(), err)
	}
	return result
}
