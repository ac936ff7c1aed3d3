package natsx

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Event headers. Every event published by Trueup carries them; consumers read the
// event id (their inbox key) and type from here rather than decoding the payload.
const (
	// HeaderEventID is the event's stable id (UUIDv7), the key of every consumer's inbox.
	HeaderEventID = "Trueup-Event-Id"
	// HeaderEventType is the full protobuf message name of the payload.
	HeaderEventType = "Trueup-Event-Type"
	// HeaderOccurredAt is when the fact happened, RFC 3339 with nanoseconds, UTC.
	HeaderOccurredAt = "Trueup-Occurred-At"
	// HeaderMsgID is JetStream's de-duplication header; we set it to the event id.
	HeaderMsgID = nats.MsgIdHdr
	// HeaderContentType names the payload encoding.
	HeaderContentType = "Content-Type"
	// ContentTypeProtobuf is the only payload encoding we publish.
	ContentTypeProtobuf = "application/protobuf"
)

// Stream defaults. Duplicates is JetStream's de-duplication window: a re-publish of
// the same event id inside it is dropped by the broker (the outbox relay re-publishes
// after a crash between publish and mark-sent). Beyond it, consumers' inboxes dedupe.
const (
	// DefaultDuplicates is the de-duplication window (JetStream's own default, made explicit).
	DefaultDuplicates = 2 * time.Minute
	// DefaultMaxAge is how long events stay in a stream: 30 days. A consumer that is
	// down longer than that, or a new consumer reading from the start, will not see
	// older events; services needing a full history keep it in their own database.
	DefaultMaxAge = 30 * 24 * time.Hour
)

// StreamConfig returns Trueup's defaults for an event stream: file storage, limits
// retention (events are a log that several consumers read, not a work queue),
// a 2-minute duplicate window, 30-day retention and one replica. Callers running a
// cluster raise Replicas (3 in production); other fields may be adjusted likewise.
func StreamConfig(name string, subjects []string) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:       name,
		Subjects:   subjects,
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		Discard:    jetstream.DiscardOld,
		Duplicates: DefaultDuplicates,
		MaxAge:     DefaultMaxAge,
		Replicas:   1,
	}
}

// EnsureStream creates the stream or updates it to cfg. It is idempotent, so every
// service can declare the streams it publishes to at start-up.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	// Never lower what an operator raised: a service restart must not scale a
	// stream scaled to 3 replicas back to 1.
	if existing, err := js.Stream(ctx, cfg.Name); err == nil {
		if info, err := existing.Info(ctx); err == nil && info.Config.Replicas > cfg.Replicas {
			cfg.Replicas = info.Config.Replicas
		}
	}
	st, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensure stream %s: %w", cfg.Name, err)
	}
	return st, nil
}
