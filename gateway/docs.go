package gateway

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"

	rpccode "google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/grpc/codes"
)

// The gateway serves two views of one document: /openapi.json, the generated
// OpenAPI v2 document (api/openapi/trueup.swagger.json) with what the gateway
// itself adds to every route (the Idempotency-Key header where it is accepted
// and the error responses), and /docs, a human-readable reference rendered
// from it once, at start: plain HTML, no script, no asset from elsewhere.

// errorResponses are the statuses every /v1 route may answer besides 200, all
// with the one error shape (google.rpc.Status).
var errorResponses = []struct {
	status int
	text   string
}{
	{400, "Invalid request: a malformed path, query or body, an unknown field, invalid UTF-8, trailing data after the JSON value, or a field violation (INVALID_ARGUMENT)."},
	{401, "No credential, or one that is unknown, revoked or expired (UNAUTHENTICATED); with WWW-Authenticate."},
	{403, "The credential lacks the route's scope (PERMISSION_DENIED)."},
	{404, "No such resource, or one that belongs to another partner (NOT_FOUND)."},
	{409, "Already exists, or a concurrent update (ALREADY_EXISTS, ABORTED); an ABORTED call is safe to retry."},
	{422, "The Idempotency-Key (requestId) was used before for a different request."},
	{429, "Rate or concurrency limit reached (RESOURCE_EXHAUSTED); with Retry-After."},
}

// idempotencyParam is the header parameter added to the routes that take it.
func idempotencyParam() map[string]any {
	return map[string]any{
		"name": IdempotencyKeyHeader,
		"in":   "header",
		"description": fmt.Sprintf("An optional client-chosen key (1 to %d printable ASCII characters; a UUID is recommended) "+
			"that makes the call safe to retry: it becomes the request's requestId, scoped to your partner. A retry with the "+
			"same key and the same request returns the first response; the same key with a different request is answered 422. "+
			"Keys are honoured for at least 24 hours.", MaxIdempotencyKeyLen),
		"required":  false,
		"type":      "string",
		"maxLength": MaxIdempotencyKeyLen,
	}
}

var httpMethods = []string{"get", "put", "post", "delete", "patch"}

// opKey names an operation as "<HTTP method> <operationId>", the way both the
// OpenAPI document and the descriptors' route table can spell it.
func opKey(method, operationID string) string { return strings.ToUpper(method) + " " + operationID }

// keyedOperations is the set of operations (opKey) that accept the
// Idempotency-Key header: the same table idempotencyKeys uses.
func keyedOperations(routes map[string]keyedRoute) map[string]bool {
	out := map[string]bool{}
	for k, r := range routes {
		if !r.hasRequest {
			continue
		}
		parts := strings.Split(r.method, ".")
		if len(parts) < 2 {
			continue
		}
		out[opKey(strings.Fields(k)[0], parts[len(parts)-2]+"_"+parts[len(parts)-1])] = true
	}
	return out
}

// servedSpec is the generated document with the gateway's additions: the
// Idempotency-Key header parameter on exactly the keyed operations, and the
// error responses with the error schema. The generated file is not changed.
func servedSpec(spec []byte, keyed map[string]bool) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("gateway: OpenAPI document: %w", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, item := range paths {
		ops, _ := item.(map[string]any)
		for _, m := range httpMethods {
			op, ok := ops[m].(map[string]any)
			if !ok {
				continue
			}
			id, _ := op["operationId"].(string)
			if keyed[opKey(m, id)] {
				params, _ := op["parameters"].([]any)
				op["parameters"] = append(params, idempotencyParam())
			}
			resp, _ := op["responses"].(map[string]any)
			if resp == nil {
				resp = map[string]any{}
				op["responses"] = resp
			}
			for _, e := range errorResponses {
				code := fmt.Sprint(e.status)
				if e.status == 422 && !keyed[opKey(m, id)] {
					continue
				}
				if _, ok := resp[code]; !ok {
					resp[code] = map[string]any{"description": e.text,
						"schema": map[string]any{"$ref": "#/definitions/google.rpc.Status"}}
				}
			}
		}
	}
	return json.Marshal(doc)
}

// The subset of OpenAPI v2 the page shows.
type docSchema struct {
	Ref         string     `json:"$ref"`
	Type        string     `json:"type"`
	Format      string     `json:"format"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Enum        []any      `json:"enum"`
	Items       *docSchema `json:"items"`
	Properties  docProps   `json:"properties"`
	ReadOnly    bool       `json:"readOnly"`
	Additional  any        `json:"additionalProperties"`
}

type docProp struct {
	Name   string
	Schema *docSchema
}

// docProps keeps the properties in the document's (the proto's) order.
type docProps []docProp

func (p *docProps) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		var s docSchema
		if err := dec.Decode(&s); err != nil {
			return err
		}
		*p = append(*p, docProp{Name: name, Schema: &s})
	}
	return nil
}

type docParam struct {
	Name        string     `json:"name"`
	In          string     `json:"in"`
	Description string     `json:"description"`
	Required    bool       `json:"required"`
	Type        string     `json:"type"`
	Format      string     `json:"format"`
	Items       *docSchema `json:"items"`
	Enum        []any      `json:"enum"`
	Schema      *docSchema `json:"schema"`
}

type docOp struct {
	OperationID string              `json:"operationId"`
	Summary     string              `json:"summary"`
	Description string              `json:"description"`
	Tags        []string            `json:"tags"`
	Parameters  []docParam          `json:"parameters"`
	Responses   map[string]docParam `json:"responses"`
}

type docSpec struct {
	Info struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	} `json:"info"`
	Tags []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tags"`
	Paths       map[string]map[string]docOp `json:"paths"`
	Definitions map[string]*docSchema       `json:"definitions"`
}

// Page model.
type pageField struct {
	Name, Type, Description string
	Fields                  []pageField // one level further, for an object field
}

type pageParam struct {
	Name, In, Type, Description string
	Required                    bool
}

type pageOp struct {
	Anchor, Method, Path, Summary, Description, Scope string
	Idempotent                                        bool
	Params                                            []pageParam
	Body                                              *pageSchema
	Response                                          *pageSchema
}

type pageSchema struct {
	Type   string
	Fields []pageField
}

type pageTag struct {
	Name, Anchor, Description string
	Ops                       []pageOp
}

type pageStatus struct {
	Status int
	Text   string
}

type pageData struct {
	Title, Version string
	Tags           []pageTag
	Errors         []pageStatus
	Codes          []pageCode
	IdempotencyMax int
}

type pageCode struct {
	Code   int
	Name   string
	Status int
}

// renderDocs renders the reference page for spec (the served document);
// keyed says which operations take Idempotency-Key.
func renderDocs(spec []byte, keyed map[string]bool) ([]byte, error) {
	var doc docSpec
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("gateway: OpenAPI document: %w", err)
	}
	r := docRenderer{defs: doc.Definitions}
	byTag := map[string]*pageTag{}
	var tags []*pageTag
	for _, t := range doc.Tags {
		pt := &pageTag{Name: t.Name, Anchor: "tag-" + t.Name, Description: t.Description}
		byTag[t.Name] = pt
		tags = append(tags, pt)
	}
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for _, m := range httpMethods {
			op, ok := doc.Paths[p][m]
			if !ok {
				continue
			}
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			pt, ok := byTag[tag]
			if !ok {
				pt = &pageTag{Name: tag, Anchor: "tag-" + tag}
				byTag[tag] = pt
				tags = append(tags, pt)
			}
			po := pageOp{
				Anchor: "op-" + op.OperationID, Method: strings.ToUpper(m), Path: p,
				Summary: op.Summary, Description: op.Description,
				Scope:      requiredScope(&http.Request{Method: strings.ToUpper(m), URL: &url.URL{Path: p}}),
				Idempotent: keyed[opKey(m, op.OperationID)],
			}
			for _, prm := range op.Parameters {
				if prm.In == "body" {
					po.Body = r.requestSchema(prm.Schema)
					continue
				}
				if prm.In == "header" && prm.Name == IdempotencyKeyHeader {
					continue // its own column
				}
				po.Params = append(po.Params, pageParam{Name: prm.Name, In: prm.In, Required: prm.Required,
					Type: r.typeName(&docSchema{Type: prm.Type, Format: prm.Format, Items: prm.Items, Enum: prm.Enum}), Description: prm.Description})
			}
			if ok200, ok := op.Responses["200"]; ok && ok200.Schema != nil {
				po.Response = r.schema(ok200.Schema)
			}
			pt.Ops = append(pt.Ops, po)
		}
	}
	data := pageData{Title: doc.Info.Title, Version: doc.Info.Version, IdempotencyMax: MaxIdempotencyKeyLen}
	for _, t := range tags {
		if len(t.Ops) > 0 {
			data.Tags = append(data.Tags, *t)
		}
	}
	for _, e := range errorResponses {
		data.Errors = append(data.Errors, pageStatus{e.status, e.text})
	}
	for c := codes.OK + 1; c <= codes.Unauthenticated; c++ {
		data.Codes = append(data.Codes, pageCode{int(c), rpccode.Code(c).String(), httpStatusFor(c)})
	}
	var buf bytes.Buffer
	if err := docsTemplate.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("gateway: render /docs: %w", err)
	}
	return buf.Bytes(), nil
}

type docRenderer struct{ defs map[string]*docSchema }

func (r docRenderer) resolve(s *docSchema) *docSchema {
	for i := 0; s != nil && s.Ref != "" && i < 8; i++ {
		d, ok := r.defs[strings.TrimPrefix(s.Ref, "#/definitions/")]
		if !ok {
			return s
		}
		if s.Description != "" && d.Description == "" {
			c := *d
			c.Description = s.Description
			d = &c
		}
		s = d
	}
	return s
}

func shortRef(ref string) string {
	ref = strings.TrimPrefix(ref, "#/definitions/")
	return ref[strings.LastIndexByte(ref, '.')+1:]
}

func (r docRenderer) typeName(s *docSchema) string {
	switch {
	case s == nil:
		return ""
	case s.Ref != "":
		d := r.resolve(s)
		if d != nil && len(d.Enum) > 0 {
			return r.typeName(&docSchema{Type: d.Type, Enum: d.Enum})
		}
		return shortRef(s.Ref)
	case s.Type == "array":
		return "array of " + r.typeName(s.Items)
	case len(s.Enum) > 0:
		vals := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			vals[i] = fmt.Sprint(v)
		}
		return "enum: " + strings.Join(vals, " | ")
	case s.Format != "":
		return s.Type + " (" + s.Format + ")"
	case s.Type == "object" && s.Additional != nil:
		return "map"
	}
	return s.Type
}

func (r docRenderer) schema(s *docSchema) *pageSchema {
	if s == nil {
		return nil
	}
	return &pageSchema{Type: r.typeName(s), Fields: r.fields(s, 2, false)}
}

// requestSchema is schema without the output-only fields, which a request
// need not (and through the gateway may not) set.
func (r docRenderer) requestSchema(s *docSchema) *pageSchema {
	if s == nil {
		return nil
	}
	return &pageSchema{Type: r.typeName(s), Fields: r.fields(s, 2, true)}
}

// firstSentence shortens a nested field's description, to keep the page small.
// "Output only." stays in front of the sentence; "e.g." and the like do not
// end one.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	prefix := ""
	if rest, ok := strings.CutPrefix(s, "Output only. "); ok {
		prefix, s = "Output only. ", rest
	}
	for from := 0; ; {
		i := strings.Index(s[from:], ". ")
		if i < 0 {
			return prefix + s
		}
		end := from + i + 1
		word := s[strings.LastIndexByte(s[:end], ' ')+1 : end]
		switch word {
		case "e.g.", "i.e.", "etc.", "vs.", "(e.g.", "(i.e.":
			from = end
			continue
		}
		return prefix + s[:end]
	}
}

// fields lists an object's fields, depth levels deep (object fields of an
// object field are shown by type name only beyond that).
func (r docRenderer) fields(s *docSchema, depth int, request bool) []pageField {
	if depth == 0 {
		return nil
	}
	s = r.resolve(s)
	if s == nil {
		return nil
	}
	if s.Type == "array" {
		return r.fields(s.Items, depth, request)
	}
	var out []pageField
	for _, p := range s.Properties {
		desc := p.Schema.Description
		if desc == "" {
			desc = p.Schema.Title
		}
		if p.Schema.ReadOnly || strings.HasPrefix(desc, "Output only.") {
			if request {
				continue
			}
			if !strings.Contains(desc, "Output only") {
				desc = strings.TrimSpace("Output only. " + desc)
			}
		}
		if depth < 2 {
			desc = firstSentence(desc)
		}
		f := pageField{Name: p.Name, Type: r.typeName(p.Schema), Description: desc}
		if sub := r.resolve(p.Schema); sub != nil && (len(sub.Properties) > 0 || (sub.Type == "array" && sub.Items != nil && sub.Items.Ref != "")) {
			f.Fields = r.fields(p.Schema, depth-1, request)
		}
		out = append(out, f)
	}
	return out
}

// serveDocs serves the rendered page (about 700 KiB, 60 KiB gzipped: it is
// compressed once, here, for the clients that accept gzip). The page needs no
// script and the policy allows none.
func serveDocs(page []byte) http.HandlerFunc {
	var zipped bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestCompression)
	_, _ = zw.Write(page)
	_ = zw.Close()
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
		h.Set("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			_, _ = w.Write(zipped.Bytes())
			return
		}
		_, _ = w.Write(page)
	}
}

// acceptsGzip reports whether an Accept-Encoding value lists gzip with a
// non-zero weight.
func acceptsGzip(v string) bool {
	for _, part := range strings.Split(v, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// serveSpec serves the served OpenAPI document.
func serveSpec(spec []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(spec)
	}
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — API reference</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:72rem;margin:0 auto;padding:1rem 1.5rem;color:#1b1f24}
code,.path{font-family:ui-monospace,monospace;font-size:.92em}
h2{border-bottom:2px solid #ccd;padding-bottom:.2rem;margin-top:2.5rem}
section.op{border:1px solid #dde;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.m{display:inline-block;min-width:4.2rem;font-weight:700;font-family:ui-monospace,monospace}
.GET{color:#05698a}.POST{color:#1a7f37}.PATCH{color:#8a5a00}.DELETE{color:#b42318}.PUT{color:#6f42c1}
table{border-collapse:collapse;margin:.4rem 0;width:100%}
th,td{text-align:left;vertical-align:top;border-bottom:1px solid #eef;padding:.2rem .5rem}
td.sub{padding-left:1.8rem}
.desc{white-space:pre-line}
nav>ul{columns:2}
nav .path{overflow-wrap:anywhere}
</style>
</head>
<body>
<h1>{{.Title}} — partner REST API reference</h1>
<p>Version {{.Version}}. Every route is under <code>/v1</code>, takes and returns JSON in lowerCamelCase and needs an API key
(<code>Authorization: Bearer &lt;key&gt;</code> or <code>X-Api-Key</code>) holding the scope shown.
The machine-readable document is <a href="/openapi.json">/openapi.json</a> (OpenAPI v2).
Lists are paginated with <code>pageSize</code> and <code>pageToken</code>. See <a href="#errors">Errors</a> and <a href="#idempotency">Idempotency</a>.</p>
<nav id="toc"><h2>Contents</h2>
<ul>
{{range .Tags}}<li><a href="#{{.Anchor}}">{{.Name}}</a> ({{len .Ops}})
<ul>{{range .Ops}}<li><a href="#{{.Anchor}}"><span class="m {{.Method}}">{{.Method}}</span> <span class="path">{{.Path}}</span></a></li>{{end}}</ul></li>
{{end}}<li><a href="#idempotency">Idempotency</a></li>
<li><a href="#errors">Errors</a></li>
</ul></nav>
{{range .Tags}}
<section class="tag" id="{{.Anchor}}">
<h2>{{.Name}}</h2>
{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
{{range .Ops}}
<section class="op" id="{{.Anchor}}">
<h3><span class="m {{.Method}}">{{.Method}}</span> <span class="path">{{.Path}}</span></h3>
{{if .Summary}}<p class="desc">{{.Summary}}</p>{{end}}
{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
<table class="meta">
<tr><th>Scope</th><td><code class="scope">{{.Scope}}</code></td></tr>
<tr><th>Idempotency-Key</th><td class="idempotency">{{if .Idempotent}}accepted{{else}}not accepted (400){{end}}</td></tr>
</table>
{{if .Params}}<h4>Parameters</h4>
<table class="params"><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code>{{if .Required}} (required){{end}}</td><td>{{.In}}</td><td>{{.Type}}</td><td class="desc">{{.Description}}</td></tr>
{{end}}</table>{{end}}
{{with .Body}}<h4>Request body: {{.Type}}</h4><p>Output-only fields are left out.</p>{{template "fields" .Fields}}{{end}}
{{with .Response}}<h4>Response: {{.Type}}</h4>{{template "fields" .Fields}}{{end}}
</section>
{{end}}
</section>
{{end}}
<section id="idempotency">
<h2>Idempotency</h2>
<p>Routes marked “Idempotency-Key: accepted” take an optional <code>Idempotency-Key</code> header (1 to {{.IdempotencyMax}} printable ASCII characters, a UUID is recommended).
It becomes the request's <code>requestId</code>, scoped to your partner: a retry with the same key and the same request returns the first response;
the same key with a different request is answered 422. Keys are honoured for at least 24 hours. Other routes refuse the header with 400.</p>
</section>
<section id="errors">
<h2>Errors</h2>
<p>Every error has one JSON shape, a <code>google.rpc.Status</code>:</p>
<pre><code>{"code": 3, "message": "invalid purchase order", "details": [
  {"@type": "type.googleapis.com/google.rpc.BadRequest",
   "fieldViolations": [{"field": "lines[0].quantity", "description": "must be positive"}]}]}</code></pre>
<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>
<tr><td><code>code</code></td><td>integer</td><td>The gRPC status code (below).</td></tr>
<tr><td><code>message</code></td><td>string</td><td>A message for a developer, in English.</td></tr>
<tr><td><code>details</code></td><td>array of Any</td><td>Typed details, each with <code>@type</code>: BadRequest (field violations, field paths in lowerCamelCase as in the JSON), PreconditionFailure, ErrorInfo, RetryInfo.</td></tr>
</table>
<h3>HTTP statuses</h3>
<table class="statuses"><tr><th>Status</th><th>Meaning</th></tr>
{{range .Errors}}<tr><td>{{.Status}}</td><td>{{.Text}}</td></tr>
{{end}}<tr><td>405</td><td>Method not allowed on this path; with Allow.</td></tr>
<tr><td>413</td><td>Request body too large.</td></tr>
<tr><td>415</td><td>Content-Type is not application/json.</td></tr>
<tr><td>431</td><td>Request headers too large.</td></tr>
<tr><td>500</td><td>Internal error; the message carries a correlation id to quote.</td></tr>
<tr><td>503</td><td>A service is temporarily unavailable; retry later.</td></tr>
<tr><td>504</td><td>The service did not answer within the gateway's deadline.</td></tr>
</table>
<h3>gRPC code to HTTP status</h3>
<table class="codes"><tr><th>code</th><th>Name</th><th>HTTP status</th></tr>
{{range .Codes}}<tr><td>{{.Code}}</td><td>{{.Name}}</td><td>{{.Status}}</td></tr>
{{end}}</table>
</section>
</body>
</html>
{{define "fields"}}{{if .}}<table class="fields"><tr><th>Field</th><th>Type</th><th>Description</th></tr>
{{range .}}<tr><td><code>{{.Name}}</code></td><td>{{.Type}}</td><td class="desc">{{.Description}}</td></tr>
{{range .Fields}}<tr><td class="sub"><code>{{.Name}}</code></td><td>{{.Type}}</td><td class="desc">{{.Description}}</td></tr>
{{end}}{{end}}</table>{{end}}{{end}}
`))
