package natsx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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

// EnsureStream creates the stream with cfg if it does not exist. On an existing
// stream it only adds the subjects of cfg that are missing and raises Replicas to
// cfg's if that is more (never lowers it): every other setting (MaxAge, MaxBytes,
// Storage, ...) is the operator's once the stream exists, and a service restart
// must not undo a retention raised for an investigation or scale a 3-replica
// stream back to 1. Differences are logged at
// info level, so a wrong setting is visible. It is idempotent, so every service can
// declare the streams it publishes to at start-up.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	st, err := js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err = js.CreateStream(ctx, cfg)
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			if err != nil {
				return nil, fmt.Errorf("ensure stream %s: create: %w", cfg.Name, err)
			}
			return st, nil
		}
		// Another replica created it just now: treat it as existing.
		st, err = js.Stream(ctx, cfg.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("ensure stream %s: %w", cfg.Name, err)
	}
	have := st.CachedInfo().Config
	logStreamDifferences(have, cfg)
	want := have
	for _, s := range cfg.Subjects {
		if !slices.Contains(want.Subjects, s) {
			want.Subjects = append(slices.Clip(want.Subjects), s)
		}
	}
	want.Replicas = max(have.Replicas, cfg.Replicas)
	if len(want.Subjects) == len(have.Subjects) && want.Replicas == have.Replicas {
		return st, nil
	}
	slog.Info("stream: updating", "stream", cfg.Name,
		"added_subjects", want.Subjects[len(have.Subjects):], "replicas", want.Replicas)
	st, err = js.UpdateStream(ctx, want)
	if err != nil {
		return nil, fmt.Errorf("ensure stream %s: update: %w", cfg.Name, err)
	}
	return st, nil
}

// logStreamDifferences logs the settings in which an existing stream differs from
// the configuration a service declared, and that EnsureStream therefore keeps.
func logStreamDifferences(have, want jetstream.StreamConfig) {
	var diffs []any
	add := func(name string, h, w any, differ bool) {
		if differ {
			diffs = append(diffs, slog.Group(name, "kept", h, "declared", w))
		}
	}
	add("max_age", have.MaxAge, want.MaxAge, have.MaxAge != want.MaxAge)
	// Zero and negative both mean "no limit" for the counts.
	add("max_bytes", have.MaxBytes, want.MaxBytes, max(have.MaxBytes, 0) != max(want.MaxBytes, 0))
	add("max_msgs", have.MaxMsgs, want.MaxMsgs, max(have.MaxMsgs, 0) != max(want.MaxMsgs, 0))
	add("replicas", have.Replicas, want.Replicas, have.Replicas > want.Replicas)
	add("storage", have.Storage.String(), want.Storage.String(), have.Storage != want.Storage)
	add("retention", have.Retention.String(), want.Retention.String(), have.Retention != want.Retention)
	add("discard", have.Discard.String(), want.Discard.String(), have.Discard != want.Discard)
	add("duplicates", have.Duplicates, want.Duplicates, want.Duplicates != 0 && have.Duplicates != want.Duplicates)
	if len(diffs) > 0 {
		slog.Info("stream: keeping the existing settings, which differ from the declared ones",
			append([]any{"stream", have.Name}, diffs...)...)
	}
}
