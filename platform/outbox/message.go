package outbox

import (
	"context"
	"time"
)

// Message is one event waiting in (or read from) the outbox table. It is what the
// relay hands to a Publisher.
type Message struct {
	// ID is the event's stable id (a UUIDv7 string). It becomes the Nats-Msg-Id, so
	// JetStream drops a re-publish inside its duplicate window, and it is the key a
	// consumer's inbox records, so a redelivery any time later is a no-op.
	ID string
	// Subject is the NATS subject, e.g. "inventory.v1.ItemCreated".
	Subject string
	// Type is the full protobuf message name of Payload, e.g. "trueup.inventory.v1.ItemCreated".
	Type string
	// Payload is the protobuf-encoded event.
	Payload []byte
	// Headers are extra message headers. Add fills in the W3C trace context
	// ("traceparent", "tracestate") of the context that wrote the event, so the
	// consumer's span becomes a child of the span that produced the event.
	Headers map[string]string
	// OccurredAt is when the fact happened (set by Add when zero).
	OccurredAt time.Time
}

// Publisher delivers messages to the broker. Publish returns one error slot per
// message, in order: nil means the broker acknowledged (persisted) that message.
// The relay marks a row sent only when its slot is nil. The returned slice must
// have len(msgs) entries unless the returned error is non-nil, which means none
// was acknowledged.
type Publisher interface {
	Publish(ctx context.Context, msgs []Message) ([]error, error)
}
