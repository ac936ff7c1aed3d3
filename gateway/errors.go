package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/protoadapt"
)

// Every error the gateway answers, its own or a service's, has one JSON shape:
// a google.rpc.Status, {"code": <gRPC code>, "message": "...", "details": [...]},
// with the HTTP status that fits the code (or the transport failure).

// writeStatus writes st as the JSON error body with the given HTTP status.
func writeStatus(w http.ResponseWriter, httpStatus int, st *status.Status) {
	body, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(st.Proto())
	if err != nil {
		// A Status always marshals; keep the shape even if it did not.
		body = []byte(`{"code":13,"message":"internal error","details":[]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(httpStatus)
	_, _ = w.Write(body)
}

// writeError writes a gateway-made error: code and message, and optional details.
func writeError(w http.ResponseWriter, httpStatus int, code codes.Code, msg string, details ...protoadapt.MessageV1) {
	st := status.New(code, msg)
	if len(details) > 0 {
		if withDetails, err := st.WithDetails(details...); err == nil {
			st = withDetails
		}
	}
	writeStatus(w, httpStatus, st)
}

// fieldViolation is a BadRequest detail naming one field, as spelt in the JSON.
func fieldViolation(field, description string) *errdetails.BadRequest {
	return &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: description}}}
}

// newCorrelationID names one internal failure so a partner can quote it and an
// operator can find it in the logs.
func newCorrelationID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// httpStatusFor maps a gRPC code to its HTTP status (grpc-gateway's table,
// which follows google.rpc.Code's own documentation).
func httpStatusFor(code codes.Code) int {
	if code > codes.Unauthenticated { // not a code grpc-gateway knows
		return http.StatusInternalServerError
	}
	return runtime.HTTPStatusFromCode(code)
}

// errorHandler writes a failed call as the one JSON error shape. It never lets a
// transport or internal detail (addresses, dial errors, SQL, stacks, decoder
// messages) reach a partner: an internal error becomes a generic message with a
// correlation id (and the trace id) that the ERROR log line carries too.
func (g *Gateway) errorHandler(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	if rb, ok := r.Body.(*requestBody); ok && rb.failure != nil {
		rb.failure.write(w)
		return
	}
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) {
		writeBodyTooLarge(w)
		return
	}
	var httpErr *runtime.HTTPStatusError
	if errors.As(err, &httpErr) {
		// Routing failures grpc-gateway detects itself, such as a malformed
		// escape in a path parameter.
		code := codes.InvalidArgument
		if httpErr.HTTPStatus != http.StatusBadRequest {
			code = codes.Unknown
		}
		writeError(w, httpErr.HTTPStatus, code, http.StatusText(httpErr.HTTPStatus))
		return
	}
	st := status.Convert(err)
	if st.Code() == codes.InvalidArgument && len(st.Details()) == 0 {
		// grpc-gateway's own query and path parsing errors carry strconv's
		// text and the proto field name: name the field as the JSON does.
		if m := paramErrorRE.FindStringSubmatch(st.Message()); m != nil {
			field := lowerCamel(m[1] + m[2])
			writeError(w, http.StatusBadRequest, codes.InvalidArgument, fmt.Sprintf("parameter %s has an invalid value", field),
				fieldViolation(field, "invalid value"))
			return
		}
	}
	if isRequestIDReused(st) {
		// The same request id (or Idempotency-Key) with a different request.
		writeStatus(w, http.StatusUnprocessableEntity, st)
		return
	}
	switch st.Code() {
	case codes.Unavailable:
		g.log.WarnContext(ctx, "service unavailable", "route", routeOf(r), "error", boundedText(redactSecrets(st.Message())))
		writeError(w, http.StatusServiceUnavailable, codes.Unavailable, "service temporarily unavailable; retry later"+traceSuffix(r))
		return
	case codes.DeadlineExceeded:
		writeError(w, http.StatusGatewayTimeout, codes.DeadlineExceeded, "the service did not answer in time"+traceSuffix(r))
		return
	case codes.Unimplemented:
		// grpc's own text names the service and method it lacks.
		writeError(w, http.StatusNotImplemented, codes.Unimplemented, "not implemented")
		return
	case codes.Canceled:
		writeError(w, 499, codes.Canceled, "request cancelled")
		return
	case codes.Internal, codes.Unknown, codes.DataLoss:
		g.internalError(ctx, w, r, st)
		return
	}
	if httpStatusFor(st.Code()) == http.StatusInternalServerError {
		g.internalError(ctx, w, r, st)
		return
	}
	writeStatus(w, httpStatusFor(st.Code()), st)
}

// internalError logs st with a fresh correlation id and answers a 500 naming
// only that id (and the trace id): the service's message may hold anything.
func (g *Gateway) internalError(ctx context.Context, w http.ResponseWriter, r *http.Request, st *status.Status) {
	id := newCorrelationID()
	g.log.ErrorContext(ctx, "internal error", "correlation_id", id, "route", routeOf(r), "grpc_code", st.Code().String(),
		"error", boundedText(redactSecrets(st.Message())))
	writeError(w, http.StatusInternalServerError, codes.Internal,
		"internal error; quote correlation id "+id+traceSuffix(r), &errdetails.RequestInfo{RequestId: id})
}

var paramErrorRE = regexp.MustCompile(`^(?:parsing (?:field|list) "([^"]+)"|type mismatch, parameter: ([^,\s]+),)`)

// lowerCamel turns a proto field name (page_size) into its JSON name (pageSize).
func lowerCamel(s string) string {
	var b strings.Builder
	up := false
	for _, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func traceSuffix(r *http.Request) string {
	if sc := trace.SpanContextFromContext(r.Context()); sc.HasTraceID() {
		return " (trace " + sc.TraceID().String() + ")"
	}
	return ""
}

// routingErrorHandler answers requests no route takes: 404 for an unknown path,
// 405 with Allow for a known path and another method, 400 for a malformed path.
func (g *Gateway) routingErrorHandler(mux *runtime.ServeMux) runtime.RoutingErrorHandlerFunc {
	return func(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
		if isProbe(ctx) {
			return
		}
		switch httpStatus {
		case http.StatusMethodNotAllowed:
			allow := allowedMethods(mux, r)
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, codes.Unimplemented, fmt.Sprintf("method %s is not allowed here; allowed: %s", r.Method, allow))
		case http.StatusNotFound:
			writeError(w, http.StatusNotFound, codes.NotFound, "no such route")
		case http.StatusBadRequest:
			writeError(w, http.StatusBadRequest, codes.InvalidArgument, "malformed request path")
		default:
			writeError(w, httpStatus, codes.Unknown, http.StatusText(httpStatus))
		}
	}
}

type probeKey struct{}

func isProbe(ctx context.Context) bool { return ctx.Value(probeKey{}) != nil }

// probeMiddleware runs inside the mux, once a route matched: a probe request
// (see allowedMethods) records the match and stops there, so no service is
// called; a real request records its route pattern for the access log.
func probeMiddleware(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if hit, ok := r.Context().Value(probeKey{}).(*bool); ok {
			*hit = true
			return
		}
		if info := infoFrom(r.Context()); info != nil {
			if p, ok := runtime.HTTPPattern(r.Context()); ok {
				info.route = p.String()
			}
		}
		next(w, r, params)
	}
}

// allowedMethods lists the methods some route takes for r's path, by asking
// the mux with probe requests that stop at the match.
func allowedMethods(mux *runtime.ServeMux, r *http.Request) string {
	allow := ""
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		hit := false
		probe := r.Clone(context.WithValue(r.Context(), probeKey{}, &hit))
		probe.Method = m
		probe.Body = http.NoBody
		mux.ServeHTTP(discardWriter{}, probe)
		if hit {
			if allow != "" {
				allow += ", "
			}
			allow += m
		}
	}
	return allow
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}

// retryAfter sets Retry-After to whole seconds, at least one.
func retryAfter(w http.ResponseWriter, seconds float64) {
	s := max(int(seconds+0.999), 1)
	w.Header().Set("Retry-After", strconv.Itoa(s))
}
