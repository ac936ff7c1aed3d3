package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
)

// MaxBodyBytes caps a request body: an item import of up to 10 MiB fits.
const MaxBodyBytes = 11 << 20

// requestBody is a request's body as the mux sees it: bounded, and able to
// carry why decoding failed. grpc-gateway's generated handlers flatten a
// decoder error into InvalidArgument text; the error handler reads the failure
// kept here instead, so a partner gets a precise status and detail and never
// the decoder's own message.
type requestBody struct {
	io.ReadCloser
	failure *bodyFailure
}

// bodyFailure is a body the gateway refused while decoding it.
type bodyFailure struct {
	tooLarge bool
	// field names an unknown field, as spelt in the JSON.
	field   string
	message string
}

func (f *bodyFailure) write(w http.ResponseWriter) {
	switch {
	case f.tooLarge:
		writeBodyTooLarge(w)
	case f.field != "":
		writeError(w, http.StatusBadRequest, codes.InvalidArgument, f.message, fieldViolation(f.field, "unknown field"))
	default:
		writeError(w, http.StatusBadRequest, codes.InvalidArgument, f.message)
	}
}

func writeBodyTooLarge(w http.ResponseWriter) {
	writeError(w, http.StatusRequestEntityTooLarge, codes.InvalidArgument, fmt.Sprintf("request body over %d bytes", MaxBodyBytes))
}

// jsonBody is the gateway's JSON marshaler: protojson in lowerCamelCase, with a
// strict decoder. A body must hold exactly one JSON value (`{...} <script>` is
// refused, where json.Decoder would stop after the object and ignore the rest)
// and no field the message lacks.
type jsonBody struct {
	*runtime.JSONPb
}

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]+)"`)

// NewDecoder reads the whole (bounded) body, checks it is one JSON value, then
// unmarshals it.
func (j jsonBody) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		rb, _ := r.(*requestBody)
		fail := func(f *bodyFailure) error {
			if rb != nil {
				rb.failure = f
			}
			return errors.New(f.message)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			var maxBytes *http.MaxBytesError
			if errors.As(err, &maxBytes) {
				return fail(&bodyFailure{tooLarge: true, message: "request body too large"})
			}
			return fail(&bodyFailure{message: "request body could not be read"})
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return io.EOF // no body: the generated handlers take that as an empty message
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		var first json.RawMessage
		if err := dec.Decode(&first); err != nil {
			return fail(&bodyFailure{message: "request body is not valid JSON"})
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return fail(&bodyFailure{message: "request body has data after the JSON value"})
		}
		if err := j.JSONPb.Unmarshal(data, v); err != nil {
			if m := unknownFieldRE.FindStringSubmatch(err.Error()); m != nil {
				return fail(&bodyFailure{field: m[1], message: fmt.Sprintf("unknown field %q in the request body", m[1])})
			}
			return fail(&bodyFailure{message: "request body does not match the request's fields and types"})
		}
		return nil
	})
}

// checkBody refuses a body that is not JSON (415) or declares more than
// MaxBodyBytes (413), and bounds what the mux may read of the rest.
func checkBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxBodyBytes {
			writeBodyTooLarge(w)
			return
		}
		if hasBody(r) {
			if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
				writeError(w, http.StatusUnsupportedMediaType, codes.InvalidArgument, "request body must be application/json")
				return
			}
		}
		r.Body = &requestBody{ReadCloser: http.MaxBytesReader(w, r.Body, MaxBodyBytes)}
		next.ServeHTTP(w, r)
	})
}

func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// isJSON accepts application/json and application/*+json, in UTF-8.
func isJSON(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}
