package gateway

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"

	"trueup.dev/api/openapi"
)

// The reference page is checked here as HTML, parsed with golang.org/x/net/html,
// route by route. How a browser renders it (offline, no console error, the
// contents links, a screenshot) is checked in headless Chromium by
// cmd/trueup/docs_browser_test.go.

type servedOp struct {
	OperationID string `json:"operationId"`
	Parameters  []struct {
		Name      string `json:"name"`
		In        string `json:"in"`
		Type      string `json:"type"`
		MaxLength int    `json:"maxLength"`
	} `json:"parameters"`
	Responses map[string]struct {
		Schema struct {
			Ref string `json:"$ref"`
		} `json:"schema"`
	} `json:"responses"`
}

type servedOperation struct {
	method, path string
	op           servedOp
}

// fetch GETs path from the gateway without a credential (both pages are public).
func fetch(t *testing.T, srv *httptest.Server, path string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	// A transport of its own, so that it does not gunzip behind our back.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func servedOperations(t *testing.T, spec []byte) []servedOperation {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]servedOp `json:"paths"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		t.Fatal(err)
	}
	var out []servedOperation
	for p, ops := range doc.Paths {
		for m, op := range ops {
			out = append(out, servedOperation{strings.ToUpper(m), p, op})
		}
	}
	if len(out) < 100 {
		t.Fatalf("only %d operations in /openapi.json", len(out))
	}
	return out
}

func testKeyed(t *testing.T) map[string]bool {
	t.Helper()
	routes, err := keyedRoutes(servedServices)
	if err != nil {
		t.Fatal(err)
	}
	return keyedOperations(routes)
}

// text is the concatenated text under n.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, c string) bool {
	for _, f := range strings.Fields(attr(n, "class")) {
		if f == c {
			return true
		}
	}
	return false
}

// find returns every element under n for which ok is true.
func find(n *html.Node, ok func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && ok(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

// checkPage parses page and checks what every page must hold: no script, every
// in-page link resolves, every section has an id.
func checkPage(t *testing.T, page []byte) *html.Node {
	t.Helper()
	if !utf8.Valid(page) {
		t.Fatal("page is not valid UTF-8")
	}
	root, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		t.Fatal(err)
	}
	if s := find(root, func(n *html.Node) bool { return n.Data == "script" || n.Data == "iframe" || n.Data == "object" }); len(s) > 0 {
		t.Fatalf("page has %d <%s> elements", len(s), s[0].Data)
	}
	for _, n := range find(root, func(*html.Node) bool { return true }) {
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") || strings.Contains(strings.ToLower(a.Val), "javascript:") {
				t.Fatalf("<%s %s=%q>", n.Data, a.Key, a.Val)
			}
			if (a.Key == "href" || a.Key == "src") && strings.Contains(a.Val, "//") {
				t.Fatalf("<%s> refers outside the gateway: %s", n.Data, a.Val)
			}
		}
	}
	ids := map[string]bool{}
	for _, n := range find(root, func(n *html.Node) bool { return attr(n, "id") != "" }) {
		if ids[attr(n, "id")] {
			t.Errorf("id %q used twice", attr(n, "id"))
		}
		ids[attr(n, "id")] = true
	}
	for _, n := range find(root, func(n *html.Node) bool { return n.Data == "section" }) {
		if attr(n, "id") == "" {
			t.Errorf("a section without an anchor: %.80s", text(n))
		}
	}
	for _, a := range find(root, func(n *html.Node) bool { return n.Data == "a" }) {
		if h := attr(a, "href"); strings.HasPrefix(h, "#") && !ids[h[1:]] {
			t.Errorf("link %s goes nowhere", h)
		}
	}
	return root
}

// /docs, fetched from a real gateway over loopback, documents every operation
// of the /openapi.json it serves: method, path, scope and whether it takes
// Idempotency-Key (as the gateway's own table says), each under an anchor the
// table of contents links to.
func TestDocsPage(t *testing.T) {
	srv := newTestGateway(t)
	resp, spec := fetch(t, srv, "/openapi.json", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/openapi.json: %d", resp.StatusCode)
	}
	resp, page := fetch(t, srv, "/docs", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/docs: %d %.200s", resp.StatusCode, page)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type = %q", ct)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("Content-Security-Policy = %q", csp)
	}
	if len(page) > 2<<20 {
		t.Fatalf("page is %d bytes", len(page))
	}
	root := checkPage(t, page)
	toc := map[string]bool{}
	for _, nav := range find(root, func(n *html.Node) bool { return n.Data == "nav" }) {
		for _, a := range find(nav, func(n *html.Node) bool { return n.Data == "a" }) {
			toc[attr(a, "href")] = true
		}
	}
	sections := map[string]*html.Node{}
	for _, n := range find(root, func(n *html.Node) bool { return n.Data == "section" && hasClass(n, "op") }) {
		sections[attr(n, "id")] = n
	}
	ops := servedOperations(t, spec)
	if len(sections) != len(ops) {
		t.Errorf("%d operation sections, %d operations in /openapi.json", len(sections), len(ops))
	}
	keyed := testKeyed(t)
	for _, o := range ops {
		id := "op-" + o.op.OperationID
		s, ok := sections[id]
		if !ok {
			t.Errorf("%s %s (%s): no section", o.method, o.path, o.op.OperationID)
			continue
		}
		if !toc["#"+id] {
			t.Errorf("%s %s: not in the table of contents", o.method, o.path)
		}
		h := find(s, func(n *html.Node) bool { return n.Data == "h3" })
		if len(h) != 1 || text(h[0]) != o.method+" "+o.path {
			t.Errorf("%s: heading %q, want %q", id, text(h[0]), o.method+" "+o.path)
		}
		scope := find(s, func(n *html.Node) bool { return hasClass(n, "scope") })
		want := requiredScope(httptest.NewRequest(o.method, strings.NewReplacer("{", "", "}", "").Replace(o.path), nil))
		if len(scope) != 1 || text(scope[0]) != want || want == "*" {
			t.Errorf("%s: scope cell, want %q", id, want)
		}
		idem := find(s, func(n *html.Node) bool { return hasClass(n, "idempotency") })
		if len(idem) != 1 {
			t.Errorf("%s: no Idempotency-Key cell", id)
		} else if got := text(idem[0]) == "accepted"; got != keyed[opKey(o.method, o.op.OperationID)] {
			t.Errorf("%s: Idempotency-Key %q, table says %v", id, text(idem[0]), !got)
		}
	}
	for _, want := range []string{`id="errors"`, "fieldViolations", "<td>429</td>", "<td>RESOURCE_EXHAUSTED</td><td>429</td>"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// The same page, gzipped for a client that asks.
	resp, zipped := fetch(t, srv, "/docs", http.Header{"Accept-Encoding": {"gzip"}})
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(strings.NewReader(string(zipped)))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); string(b) != string(page) {
		t.Fatal("gzipped page differs")
	}
}

// Descriptions come from proto comments: whatever they hold is text on the
// page, never markup.
func TestDocsEscapeDescriptions(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openapi.Spec, &doc); err != nil {
		t.Fatal(err)
	}
	const evil = `</p><script>alert("x")</script><img src=x onerror=alert(1)>`
	doc["info"].(map[string]any)["title"] = evil
	doc["tags"].([]any)[0].(map[string]any)["description"] = evil
	n := 0
	for _, item := range doc["paths"].(map[string]any) {
		for _, op := range item.(map[string]any) {
			op := op.(map[string]any)
			op["summary"], op["description"] = evil, evil
			for _, p := range op["parameters"].([]any) {
				p.(map[string]any)["description"] = evil
			}
			n++
		}
	}
	for _, d := range doc["definitions"].(map[string]any) {
		if props, ok := d.(map[string]any)["properties"].(map[string]any); ok {
			for _, p := range props {
				p.(map[string]any)["description"] = evil
			}
		}
	}
	spec, _ := json.Marshal(doc)
	page, err := renderDocs(spec, testKeyed(t))
	if err != nil {
		t.Fatal(err)
	}
	checkPage(t, page)
	if strings.Contains(string(page), "<script") || strings.Contains(string(page), "<img") {
		t.Fatal("a description's markup reached the page unescaped")
	}
	if c := strings.Count(string(page), "&lt;script&gt;"); c < 3*n {
		t.Fatalf("escaped description appears %d times, want at least %d", c, 3*n)
	}
}

// /openapi.json documents the Idempotency-Key header on exactly the routes
// where the gateway accepts it: each route is called with the header (path
// variables filled, an empty JSON body) against services that are down, so a
// route that accepts it gets past the header to the service (503), and one
// that does not is refused by the gateway with 400 naming the header. Every
// operation also lists the error responses with the error schema.
func TestOpenAPIIdempotencyKeyHeader(t *testing.T) {
	keys, err := ParseKeys(strings.NewReader("acme " + key + " *\n"))
	if err != nil {
		t.Fatal(err)
	}
	down := "127.0.0.1:1"
	g, err := New(context.Background(), Config{Targets: Targets{down, down, down, down}, Keys: keys,
		Limits: Limits{RequestsPerSecond: -1, MaxConcurrent: -1},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	_, spec := fetch(t, srv, "/openapi.json", nil)
	if !strings.Contains(string(openapi.Spec), `"swagger"`) || strings.Contains(string(openapi.Spec), IdempotencyKeyHeader) {
		t.Fatal("the generated document is expected without the header; the gateway adds it")
	}
	vars := regexp.MustCompile(`\{[^}]*\}`)
	documented := 0
	for _, o := range servedOperations(t, spec) {
		header := false
		for _, p := range o.op.Parameters {
			if p.In == "header" && p.Name == IdempotencyKeyHeader {
				if header || p.Type != "string" || p.MaxLength != MaxIdempotencyKeyLen {
					t.Errorf("%s %s: header parameter %+v", o.method, o.path, p)
				}
				header = true
			}
		}
		if header {
			documented++
		}
		for _, code := range []string{"401", "403", "404", "409", "429"} {
			if r, ok := o.op.Responses[code]; !ok || r.Schema.Ref != "#/definitions/google.rpc.Status" {
				t.Errorf("%s %s: no %s response with the error schema", o.method, o.path, code)
			}
		}
		if _, ok := o.op.Responses["422"]; ok != header {
			t.Errorf("%s %s: 422 documented %v, header %v", o.method, o.path, ok, header)
		}
		var body io.Reader
		if o.method != "GET" && o.method != "DELETE" {
			body = strings.NewReader("{}")
		}
		req, _ := http.NewRequest(o.method, srv.URL+vars.ReplaceAllString(o.path, "x1"), body)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set(IdempotencyKeyHeader, "k-"+o.op.OperationID)
		code, resp := do(t, req)
		refused := code == http.StatusBadRequest && strings.Contains(resp, IdempotencyKeyHeader)
		switch {
		case header && refused:
			t.Errorf("%s %s: documented, but the gateway refuses the header: %s", o.method, o.path, resp)
		case !header && !refused:
			t.Errorf("%s %s: not documented, but the gateway took the header (%d %.200s)", o.method, o.path, code, resp)
		case header && code != http.StatusServiceUnavailable:
			t.Errorf("%s %s: with the header: %d %.200s, want 503 from the down service", o.method, o.path, code, resp)
		}
	}
	if documented == 0 {
		t.Fatal("no operation documents Idempotency-Key")
	}
}

func TestFirstSentence(t *testing.T) {
	for in, want := range map[string]string{
		"The code, e.g. \"1200\". More.":        "The code, e.g. \"1200\".",
		"Output only. When it was made. Later.": "Output only. When it was made.",
		"Output only.":                          "Output only.",
		"No full stop":                          "No full stop",
		"One (i.e. two) lines.\nThen more.":     "One (i.e. two) lines.",
	} {
		if got := firstSentence(in); got != want {
			t.Errorf("firstSentence(%q) = %q, want %q", in, got, want)
		}
	}
}
