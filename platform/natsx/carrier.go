package natsx

import (
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
)

// tracerName is the instrumentation scope of every span this package starts.
const tracerName = "trueup.dev/platform/natsx"

// headerCarrier lets a propagator read and write NATS headers. NATS headers are
// case-sensitive, unlike http.Header, and the outbox writes "traceparent" in lower
// case (as the W3C spec spells it), so propagation.HeaderCarrier, which canonicalises
// keys to "Traceparent", would not find it. Get falls back to a case-insensitive
// match for headers written by other clients.
type headerCarrier nats.Header

var _ propagation.TextMapCarrier = headerCarrier(nil)

func (c headerCarrier) Get(key string) string {
	if v := c[key]; len(v) > 0 {
		return v[0]
	}
	for k, v := range c {
		if len(v) > 0 && strings.EqualFold(k, key) {
			return v[0]
		}
	}
	return ""
}

func (c headerCarrier) Set(key, value string) { c[key] = []string{value} }

func (c headerCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
