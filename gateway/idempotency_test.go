package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"trueup.dev/api/openapi"
	"trueup.dev/platform/logging"
)

// idemBackend is a real gRPC server for every service that keeps request-id
// claims as platform/idempotency does: per partner (from the metadata the
// gateway sets) and RPC; a replay gets the first response, a reused id with a
// different request InvalidArgument with reason REQUEST_ID_REUSED. Each new
// claim creates a resource named "things/<n>".
type idemBackend struct {
	mu     sync.Mutex
	n      int
	claims map[string]idemClaim
	// last request_id seen per RPC (full method).
	seen map[string]string
}

type idemClaim struct {
	fingerprint string
	name        string
}

func (b *idemBackend) handle(_ any, ss grpc.ServerStream) error {
	full, _ := grpc.MethodFromServerStream(ss)
	name := protoreflect.FullName(strings.ReplaceAll(strings.TrimPrefix(full, "/"), "/", "."))
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		return status.Errorf(codes.Unimplemented, "no method %s", full)
	}
	md := d.(protoreflect.MethodDescriptor)
	req := dynamicpb.NewMessage(md.Input())
	if err := ss.RecvMsg(req); err != nil {
		return err
	}
	var rid string
	if f := md.Input().Fields().ByName("request_id"); f != nil {
		rid = req.Get(f).String()
		req.Clear(f)
	}
	fp, _ := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	partner := ""
	if in, ok := metadata.FromIncomingContext(ss.Context()); ok && len(in.Get(PartnerMetadataKey)) == 1 {
		partner = in.Get(PartnerMetadataKey)[0]
	}
	b.mu.Lock()
	b.seen[full] = rid
	var c idemClaim
	claimed := false
	if rid != "" {
		c, claimed = b.claims[partner+"/"+full+"/"+rid]
	}
	if claimed && c.fingerprint != string(fp) {
		b.mu.Unlock()
		st, _ := status.New(codes.InvalidArgument, "request_id was already used for a different request").WithDetails(
			&errdetails.ErrorInfo{Reason: requestIDReused, Domain: "trueup.dev"},
			fieldViolation("request_id", "already used for a different request; use a new request_id"))
		return st.Err()
	}
	if !claimed {
		b.n++
		c = idemClaim{fingerprint: string(fp), name: fmt.Sprintf("things/%d", b.n)}
		if rid != "" {
			b.claims[partner+"/"+full+"/"+rid] = c
		}
	}
	b.mu.Unlock()
	resp := dynamicpb.NewMessage(md.Output())
	if f := md.Output().Fields().ByName("name"); f != nil && f.Kind() == protoreflect.StringKind {
		resp.Set(f, protoreflect.ValueOfString(c.name))
	}
	return ss.SendMsg(resp)
}

func (b *idemBackend) lastRequestID(method string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seen[method]
}

func newIdemEnv(t *testing.T) (*env, *idemBackend) {
	t.Helper()
	be := &idemBackend{claims: map[string]idemClaim{}, seen: map[string]string{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(be.handle))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	keys, err := ParseKeys(strings.NewReader("acme " + key + " *\nglobex " + otherKey + " *\n"))
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	logs := &syncBuffer{}
	g, err := New(context.Background(), Config{Targets: Targets{addr, addr, addr, addr}, Keys: keys,
		Logger: logging.New(logs, slog.LevelDebug, "gateway-test"), Limits: Limits{RequestsPerSecond: -1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	hs := httptest.NewServer(g.Handler())
	t.Cleanup(hs.Close)
	return &env{url: hs.URL, logs: logs}, be
}

func nameOf(t *testing.T, r response) string {
	t.Helper()
	var m struct {
		Name string `json:"name"`
	}
	if r.code != http.StatusOK || json.Unmarshal([]byte(r.body), &m) != nil || m.Name == "" {
		t.Fatalf("status %d %s", r.code, r.body)
	}
	return m.Name
}

const (
	createPO  = "/trueup.orders.v1.OrdersService/CreatePurchaseOrder"
	releasePO = "/trueup.orders.v1.OrdersService/ReleasePurchaseOrder"
	poBody    = `{"supplier":"suppliers/ACME","lines":[{"item":"WIDGET-100","quantity":{"value":"3","uom":"EA"},"unitPrice":"1.75","warehouse":"MAIN"}]}`
)

// On a route whose body is one field (POST /v1/purchaseOrders, body
// "purchase_order") the key becomes the requestId query parameter; a replay
// gets the first response, another partner's same key its own resource, and
// the same key with another body 422 in the one error shape. (Keys are
// honoured for at least 24 hours: the services keep a claim for
// idempotency.Retention, 30 days; cmd/trueup's TestIdempotencyKeyHeader
// asserts it is at least 24h.)
func TestIdempotencyKeyOnAFieldBodyRoute(t *testing.T) {
	e, be := newIdemEnv(t)
	a := nameOf(t, e.send(t, "POST", "/v1/purchaseOrders", poBody, "Idempotency-Key", "po-7"))
	if got := be.lastRequestID(createPO); got != "po-7" {
		t.Fatalf("service saw request_id %q, want po-7", got)
	}
	if got := nameOf(t, e.send(t, "POST", "/v1/purchaseOrders", poBody, "Idempotency-Key", "po-7")); got != a {
		t.Errorf("replay = %s, want the first response %s", got, a)
	}
	b := nameOf(t, e.send(t, "POST", "/v1/purchaseOrders", poBody, "Idempotency-Key", "po-7", "X-Api-Key", otherKey))
	if b == a {
		t.Errorf("partner globex with acme's key got acme's %s", a)
	}
	if got := nameOf(t, e.send(t, "POST", "/v1/purchaseOrders", poBody, "Idempotency-Key", "po-7")); got != a {
		t.Errorf("acme's replay after globex = %s, want %s", got, a)
	}
	// The header and the query parameter are the same request id.
	if got := nameOf(t, e.send(t, "POST", "/v1/purchaseOrders?requestId=po-7", poBody, "Idempotency-Key", "po-7")); got != a {
		t.Errorf("header and equal query = %s, want %s", got, a)
	}
	if got := nameOf(t, e.send(t, "POST", "/v1/purchaseOrders?requestId=po-7", poBody)); got != a {
		t.Errorf("query alone = %s, want %s", got, a)
	}
	for _, q := range []string{"?requestId=other", "?request_id=other"} {
		r := e.send(t, "POST", "/v1/purchaseOrders"+q, poBody, "Idempotency-Key", "po-7")
		checkShape(t, r)
		if r.code != http.StatusBadRequest || !strings.Contains(r.status.Message, "disagree") {
			t.Errorf("%s: %d %s, want 400 saying they disagree", q, r.code, r.body)
		}
	}
	other := strings.Replace(poBody, `"3"`, `"4"`, 1)
	r := e.send(t, "POST", "/v1/purchaseOrders", other, "Idempotency-Key", "po-7")
	checkShape(t, r)
	if r.code != http.StatusUnprocessableEntity || r.status.Code != int(codes.InvalidArgument) ||
		!strings.Contains(r.body, requestIDReused) {
		t.Errorf("same key, other body: %d %s, want 422 REQUEST_ID_REUSED", r.code, r.body)
	}
}

// On a body "*" route (POST /v1/{name=purchaseOrders/*}:release) the key goes
// into the JSON body's requestId, whatever the body holds.
func TestIdempotencyKeyOnAWholeBodyRoute(t *testing.T) {
	e, be := newIdemEnv(t)
	const path = "/v1/purchaseOrders/PO-1:release"
	a := nameOf(t, e.send(t, "POST", path, `{}`, "Idempotency-Key", "rel-1"))
	if got := be.lastRequestID(releasePO); got != "rel-1" {
		t.Fatalf("service saw request_id %q, want rel-1", got)
	}
	for _, body := range []string{``, ` { } `, `{"requestId":"rel-1"}`, `{"request_id":"rel-1"}`} {
		if got := nameOf(t, e.send(t, "POST", path, body, "Idempotency-Key", "rel-1")); got != a {
			t.Errorf("body %q: replay = %s, want %s", body, got, a)
		}
	}
	b := nameOf(t, e.send(t, "POST", path, `{}`, "Idempotency-Key", "rel-1", "X-Api-Key", otherKey))
	if b == a {
		t.Errorf("partner globex got acme's %s", a)
	}
	for _, body := range []string{`{"requestId":"other"}`, `{"request_id":"other"}`, `{"requestId":7}`} {
		r := e.send(t, "POST", path, body, "Idempotency-Key", "rel-1")
		checkShape(t, r)
		if r.code != http.StatusBadRequest || !strings.Contains(r.status.Message, "disagree") {
			t.Errorf("body %s: %d %s, want 400 saying they disagree", body, r.code, r.body)
		}
	}
	// The body is still judged by the strict decoder.
	r := e.send(t, "POST", path, `{"bogus":1}`, "Idempotency-Key", "rel-2")
	if r.code != http.StatusBadRequest || !strings.Contains(r.body, "bogus") {
		t.Errorf("unknown field: %d %s", r.code, r.body)
	}
	r = e.send(t, "POST", path, `[1]`, "Idempotency-Key", "rel-2")
	if r.code != http.StatusBadRequest {
		t.Errorf("array body: %d %s", r.code, r.body)
	}
}

func TestIdempotencyKeyRefused(t *testing.T) {
	e, _ := newIdemEnv(t)
	cases := []struct {
		method, path, body, key, want string
	}{
		{"POST", "/v1/purchaseOrders", poBody, "", "printable ASCII"},
		{"POST", "/v1/purchaseOrders", poBody, strings.Repeat("k", 201), "printable ASCII"},
		{"POST", "/v1/purchaseOrders", poBody, "caf\u00e9", "printable ASCII"},
		{"POST", "/v1/purchaseOrders", poBody, "a\tb", "printable ASCII"},
		{"GET", "/v1/purchaseOrders", "", "k-1", "not idempotent by key"},
		{"GET", "/v1/purchaseOrders/PO-1", "", "k-1", "not idempotent by key"},
	}
	for _, c := range cases {
		r := e.send(t, c.method, c.path, c.body, "Idempotency-Key", c.key)
		if c.key == "" { // send drops an empty header: set it raw
			req, _ := http.NewRequest(c.method, e.url+c.path, strings.NewReader(c.body))
			req.Header.Set("X-Api-Key", key)
			req.Header["Idempotency-Key"] = []string{""}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("empty key: %d", resp.StatusCode)
			}
			continue
		}
		checkShape(t, r)
		if r.code != http.StatusBadRequest || !strings.Contains(r.status.Message, c.want) || !strings.Contains(r.body, IdempotencyKeyHeader) {
			t.Errorf("%s %s key %q: %d %s, want 400 naming %s and %q", c.method, c.path, c.key, r.code, r.body, IdempotencyKeyHeader, c.want)
		}
	}
	if r := e.send(t, "POST", "/v1/purchaseOrders", poBody, "Idempotency-Key", strings.Repeat("k", 200)); r.code != http.StatusOK {
		t.Errorf("200-character key: %d %s", r.code, r.body)
	}
}

// canonicalTemplate spells templates as runtime.Pattern.String does, which
// the middleware's lookup depends on; every route of the table is reached
// through the gateway and treated as its kind says.
func TestEveryRouteTakesOrRefusesTheKey(t *testing.T) {
	e, be := newIdemEnv(t)
	routes, err := keyedRoutes(servedServices)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 50 {
		t.Fatalf("only %d routes read from the descriptors", len(routes))
	}
	variable := regexp.MustCompile(`\{[^=}]+=([^}]*)\}`)
	keyed := 0
	for k, route := range routes {
		method, tmpl, _ := strings.Cut(k, " ")
		path := variable.ReplaceAllStringFunc(tmpl, func(v string) string {
			segs := variable.FindStringSubmatch(v)[1]
			return strings.NewReplacer("**", "x", "*", "x").Replace(segs)
		})
		body := ""
		if method != "GET" && method != "DELETE" {
			body = "{}"
		}
		full := "/" + route.method[:strings.LastIndex(route.method, ".")] + "/" + route.method[strings.LastIndex(route.method, ".")+1:]
		id := "every-" + strings.ToLower(strings.ReplaceAll(full, "/", "-"))
		r := e.send(t, method, path, body, "Idempotency-Key", id)
		if route.hasRequest {
			keyed++
			if r.code != http.StatusOK || be.lastRequestID(full) != id {
				t.Errorf("%s %s (%s): %d %s; service saw %q", method, path, route.method, r.code, r.body, be.lastRequestID(full))
			}
		} else if r.code != http.StatusBadRequest || !strings.Contains(r.status.Message, "not idempotent by key") {
			t.Errorf("%s %s (%s) has no request_id: %d %s, want 400", method, path, route.method, r.code, r.body)
		}
	}
	if keyed == 0 {
		t.Fatal("no route takes a key")
	}
}

// The table read from the descriptors agrees with the OpenAPI document the
// gateway serves: a body parameter named "body" is the whole request, and the
// request has requestId (in that body's schema, or as a query parameter).
func TestKeyedRoutesAgreeWithOpenAPI(t *testing.T) {
	routes, err := keyedRoutes(servedServices)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Parameters  []struct {
				Name   string         `json:"name"`
				In     string         `json:"in"`
				Schema map[string]any `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
		Definitions map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(openapi.Spec, &doc); err != nil {
		t.Fatal(err)
	}
	byOp := map[string]keyedRoute{}
	for k, r := range routes {
		parts := strings.Split(r.method, ".")
		byOp[strings.Fields(k)[0]+" "+parts[len(parts)-2]+"_"+parts[len(parts)-1]] = r
	}
	n := 0
	for _, ops := range doc.Paths {
		for m, op := range ops {
			r, ok := byOp[strings.ToUpper(m)+" "+op.OperationID]
			if !ok {
				t.Errorf("%s %s: not in the descriptors' table", m, op.OperationID)
				continue
			}
			n++
			whole, has := false, false
			for _, p := range op.Parameters {
				switch {
				case p.In == "query" && p.Name == "requestId":
					has = true
				case p.In == "body" && p.Name == "body":
					whole = true
					if ref, _ := p.Schema["$ref"].(string); ref != "" {
						_, has = doc.Definitions[strings.TrimPrefix(ref, "#/definitions/")].Properties["requestId"]
					} else if props, ok := p.Schema["properties"].(map[string]any); ok {
						_, has = props["requestId"]
					}
				}
			}
			if whole != r.wholeBody || has != r.hasRequest {
				t.Errorf("%s %s: OpenAPI says whole body %v, requestId %v; descriptors %v, %v", m, op.OperationID, whole, has, r.wholeBody, r.hasRequest)
			}
		}
	}
	if n == 0 {
		t.Fatal("no OpenAPI operation checked")
	}
}
