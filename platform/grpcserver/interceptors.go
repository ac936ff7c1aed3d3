package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// The built-in interceptors, outermost first: recovery catches panics from
// everything inside it (including user interceptors); logging sees the final
// status (a refused service token included); the token check (token.go) refuses
// a call without the service token before anything else looks at it; error
// mapping turns whatever the handler returned into that status;
// the caller interceptor (caller.go) puts the caller into the context, inside
// error mapping so that its Unauthenticated is mapped like any other error.

func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				logPanic(ctx, log, info.FullMethod, r)
				resp, err = nil, status.Error(codes.Internal, internalMessage)
			}
		}()
		return handler(ctx, req)
	}
}

func recoverStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				logPanic(ss.Context(), log, info.FullMethod, r)
				err = status.Error(codes.Internal, internalMessage)
			}
		}()
		return handler(srv, ss)
	}
}

// logPanic logs what the client must never see: the panic value and the stack.
func logPanic(ctx context.Context, log *slog.Logger, method string, r any) {
	log.ErrorContext(ctx, "grpc handler panicked",
		slog.String("method", method),
		slog.String("panic", fmt.Sprint(r)),
		slog.String("stack", string(debug.Stack())),
	)
}

func logUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		logRPC(ctx, log, info.FullMethod, start, err)
		return resp, err
	}
}

func logStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		logRPC(ss.Context(), log, info.FullMethod, start, err)
		return err
	}
}

// logRPC writes the one line per RPC: at error for faults of ours, at info
// otherwise, and at debug for successful health checks, which probes make
// every few seconds.
func logRPC(ctx context.Context, log *slog.Logger, method string, start time.Time, err error) {
	code := status.Code(err)
	level := slog.LevelInfo
	switch {
	case serverFault(code):
		level = slog.LevelError
	case code == codes.OK && strings.HasPrefix(method, "/grpc.health.v1.Health/"):
		level = slog.LevelDebug
	}
	if !log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("code", code.String()),
		slog.Duration("duration", time.Since(start)),
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		attrs = append(attrs, slog.String("peer", p.Addr.String()))
	}
	if err != nil {
		// The handler's own error, not the sanitised status the client got.
		cause := err
		var me *mappedError
		if errors.As(err, &me) {
			cause = me.cause
		}
		attrs = append(attrs, slog.String("error", cause.Error()))
	}
	log.LogAttrs(ctx, level, "grpc request", attrs...)
}

// serverFault reports codes that mean we failed, not the client.
func serverFault(c codes.Code) bool {
	switch c {
	case codes.Unknown, codes.Internal, codes.DataLoss, codes.Unimplemented, codes.Unavailable:
		return true
	}
	return false
}

func mapErrorsUnary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err != nil {
			if grpcOwned(info.FullMethod) {
				return nil, err
			}
			return nil, mapError(err)
		}
		return resp, nil
	}
}

func mapErrorsStream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := handler(srv, ss); err != nil {
			if grpcOwned(info.FullMethod) {
				return err
			}
			return mapError(err)
		}
		return nil
	}
}

// grpcOwned reports methods of grpc-go's own services (health, reflection),
// whose status codes are their protocol (Check answers NotFound for an unknown
// service): ToStatus would take those raw statuses for a dependency's.
func grpcOwned(method string) bool { return strings.HasPrefix(method, "/grpc.") }

func mapError(err error) error {
	return &mappedError{st: ToStatus(err), cause: err}
}

// mappedError is the status the client gets, still holding the handler's error
// for the log line. gRPC sends st because mappedError itself implements
// GRPCStatus; it deliberately has no Unwrap, so nothing downstream can find the
// cause and put it on the wire.
type mappedError struct {
	st    *status.Status
	cause error
}

func (e *mappedError) Error() string              { return e.st.Err().Error() }
func (e *mappedError) GRPCStatus() *status.Status { return e.st }
