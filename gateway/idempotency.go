package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// IdempotencyKeyHeader carries a partner's idempotency key. On a route whose
// request has a request_id field the gateway puts the key there, so the
// service's request-id claim (scoped per caller, hence per partner, and kept
// for idempotency.Retention, 30 days) makes a retry return the first response;
// the same key with a different request is answered 422. On any other route
// the header is refused with 400 rather than silently ignored.
const IdempotencyKeyHeader = "Idempotency-Key"

// MaxIdempotencyKeyLen is the longest key: the services' request_id bound.
const MaxIdempotencyKeyLen = 200

// requestIDReused is the ErrorInfo reason the services give a request_id
// already used for a different request (platform/idempotency); the gateway
// answers it 422 Unprocessable Content.
const requestIDReused = "REQUEST_ID_REUSED"

// requestIDField is the request message field the key maps to.
const requestIDField = "request_id"

// keyedRoute is what the gateway knows of one HTTP rule for the key: whether
// the HTTP body is the whole request (body: "*"), so request_id goes in the
// JSON body, or one field of it, so request_id goes in the query.
type keyedRoute struct {
	method     string // the RPC, for tests and messages
	wholeBody  bool
	hasRequest bool // the request message has request_id
}

// keyedRoutes maps "<HTTP method> <pattern>" (the pattern spelt as
// runtime.Pattern.String spells the matched route) to its rule, for every
// google.api.http binding of services. They are read from the same compiled
// descriptors the grpc-gateway handlers and the OpenAPI document were
// generated from, so a new RPC is covered without a list to keep in step.
func keyedRoutes(services []protoreflect.FullName) (map[string]keyedRoute, error) {
	xt, err := protoregistry.GlobalTypes.FindExtensionByName("google.api.http")
	if err != nil {
		return nil, fmt.Errorf("gateway: google.api.http annotations not linked: %w", err)
	}
	out := map[string]keyedRoute{}
	for _, name := range services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
		if err != nil {
			return nil, fmt.Errorf("gateway: service %s: %w", name, err)
		}
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			return nil, fmt.Errorf("gateway: %s is not a service", name)
		}
		for i := 0; i < sd.Methods().Len(); i++ {
			md := sd.Methods().Get(i)
			opts := md.Options()
			if opts == nil || !proto.HasExtension(opts, xt) {
				continue
			}
			rule, ok := proto.GetExtension(opts, xt).(proto.Message)
			if !ok {
				continue
			}
			f := md.Input().Fields().ByName(requestIDField)
			has := f != nil && f.Kind() == protoreflect.StringKind && f.Cardinality() != protoreflect.Repeated
			addRule(out, rule.ProtoReflect(), string(md.FullName()), has)
		}
	}
	return out, nil
}

// addRule adds an HttpRule and its additional bindings (read by reflection:
// the fields of google.api.HttpRule).
func addRule(out map[string]keyedRoute, rule protoreflect.Message, method string, has bool) {
	fields := rule.Descriptor().Fields()
	body := rule.Get(fields.ByName("body")).String()
	for _, verb := range []string{"get", "put", "post", "delete", "patch"} {
		if fd := fields.ByName(protoreflect.Name(verb)); rule.Has(fd) {
			key := strings.ToUpper(verb) + " " + canonicalTemplate(rule.Get(fd).String())
			out[key] = keyedRoute{method: method, wholeBody: body == "*", hasRequest: has}
		}
	}
	if fd := fields.ByName("custom"); rule.Has(fd) {
		c := rule.Get(fd).Message()
		cf := c.Descriptor().Fields()
		key := c.Get(cf.ByName("kind")).String() + " " + canonicalTemplate(c.Get(cf.ByName("path")).String())
		out[key] = keyedRoute{method: method, wholeBody: body == "*", hasRequest: has}
	}
	if fd := fields.ByName("additional_bindings"); fd != nil {
		list := rule.Get(fd).List()
		for i := 0; i < list.Len(); i++ {
			addRule(out, list.Get(i).Message(), method, has)
		}
	}
}

// canonicalTemplate spells a path template as runtime.Pattern.String does:
// every variable as {name=segments}, a bare {name} being {name=*}.
func canonicalTemplate(t string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(t)
			return b.String()
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			b.WriteString(t)
			return b.String()
		}
		v := t[i+1 : i+j]
		if !strings.Contains(v, "=") {
			v += "=*"
		}
		b.WriteString(t[:i] + "{" + v + "}")
		t = t[i+j+1:]
	}
}

// validIdempotencyKey: 1 to MaxIdempotencyKeyLen printable ASCII characters.
func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > MaxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

func writeKeyError(w http.ResponseWriter, httpStatus int, msg, description string) {
	writeError(w, httpStatus, codes.InvalidArgument, msg, fieldViolation(IdempotencyKeyHeader, description))
}

// idempotencyKeys is a mux middleware (it runs once a route matched, so it
// knows the route's pattern) that turns an Idempotency-Key header into the
// request's requestId: in the JSON body for a body "*" route, in the query for
// one whose body is a field. A requestId already in the request must be the
// same key (else 400); a route without request_id refuses the header (400).
func idempotencyKeys(routes map[string]keyedRoute) runtime.Middleware {
	return func(next runtime.HandlerFunc) runtime.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
			values, present := r.Header[IdempotencyKeyHeader]
			if !present {
				next(w, r, params)
				return
			}
			if len(values) != 1 {
				writeKeyError(w, http.StatusBadRequest, "send one Idempotency-Key header", "sent more than once")
				return
			}
			k := values[0]
			if !validIdempotencyKey(k) {
				writeKeyError(w, http.StatusBadRequest,
					fmt.Sprintf("Idempotency-Key header must be 1 to %d printable ASCII characters", MaxIdempotencyKeyLen),
					fmt.Sprintf("1 to %d printable ASCII characters", MaxIdempotencyKeyLen))
				return
			}
			route, ok := matchedRoute(r, routes)
			if !ok || !route.hasRequest {
				writeKeyError(w, http.StatusBadRequest,
					"Idempotency-Key header is not accepted: this route is not idempotent by key", "not accepted on this route")
				return
			}
			if route.wholeBody {
				if !keyIntoBody(w, r, k) {
					return
				}
			} else if !keyIntoQuery(w, r, k) {
				return
			}
			next(w, r, params)
		}
	}
}

func matchedRoute(r *http.Request, routes map[string]keyedRoute) (keyedRoute, bool) {
	p, ok := runtime.HTTPPattern(r.Context())
	if !ok {
		return keyedRoute{}, false
	}
	route, ok := routes[r.Method+" "+p.String()]
	return route, ok
}

func writeDisagree(w http.ResponseWriter, where string) {
	writeError(w, http.StatusBadRequest, codes.InvalidArgument,
		"Idempotency-Key header and requestId in the "+where+" disagree; send one, or both the same",
		fieldViolation("requestId", "differs from the Idempotency-Key header"))
}

// keyIntoQuery adds requestId=k to the query, or checks the one there.
func keyIntoQuery(w http.ResponseWriter, r *http.Request, k string) bool {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil { // checkRequestLine refused these already
		writeError(w, http.StatusBadRequest, codes.InvalidArgument, "malformed query string")
		return false
	}
	found := false
	for _, name := range []string{"requestId", requestIDField} {
		for _, v := range q[name] {
			if v != k {
				writeDisagree(w, "query")
				return false
			}
			found = true
		}
	}
	if !found {
		q.Set("requestId", k)
		u := *r.URL // the mux's request is its own; its URL is shared with the access log's
		u.RawQuery = q.Encode()
		r.URL = &u
	}
	return true
}

// keyIntoBody puts "requestId": k first in the JSON object body, or checks the
// one there. The rest of the body is left byte for byte as sent, for the
// gateway's strict decoder to judge; a body that is not a JSON object is left
// alone and refused by it.
func keyIntoBody(w http.ResponseWriter, r *http.Request, k string) bool {
	rb, ok := r.Body.(*requestBody)
	if !ok { // checkBody wraps every /v1/ body
		writeError(w, http.StatusBadRequest, codes.InvalidArgument, "request body could not be read")
		return false
	}
	data, err := io.ReadAll(rb.ReadCloser)
	if err != nil {
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			writeBodyTooLarge(w)
		} else {
			writeError(w, http.StatusBadRequest, codes.InvalidArgument, "request body could not be read")
		}
		return false
	}
	_ = rb.ReadCloser.Close()
	quoted, _ := json.Marshal(k)
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		data = []byte(`{"requestId":` + string(quoted) + `}`)
	case trimmed[0] == '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(trimmed, &obj) == nil {
			found := false
			for _, name := range []string{"requestId", requestIDField} {
				raw, ok := obj[name]
				if !ok {
					continue
				}
				var v string
				if json.Unmarshal(raw, &v) != nil || v != k {
					writeDisagree(w, "body")
					return false
				}
				found = true
			}
			if !found {
				rest := bytes.TrimSpace(trimmed[1:])
				sep := ","
				if len(rest) > 0 && rest[0] == '}' {
					sep = ""
				}
				data = append([]byte(`{"requestId":`+string(quoted)+sep), rest...)
			}
		}
	}
	rb.ReadCloser = io.NopCloser(bytes.NewReader(data))
	return true
}

// isRequestIDReused reports whether st is the services' refusal of a
// request_id used before for a different request.
func isRequestIDReused(st *status.Status) bool {
	if st.Code() != codes.InvalidArgument {
		return false
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetReason() == requestIDReused {
			return true
		}
	}
	return false
}
