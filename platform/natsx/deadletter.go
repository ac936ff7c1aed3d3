package natsx

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Dead letters: messages a consumer gave up on, kept with the error for an operator
// to inspect and replay.
const (
	// DLQStream is the stream holding every consumer's dead letters.
	DLQStream = "DLQ"
	// DLQSubjectPrefix prefixes a dead letter's subject, DeadLetterSubject: consumer
	// "ledger" of stream INVENTORY dead-letters to "dlq.INVENTORY.ledger". Dead
	// letters written before the stream was part of the subject are on
	// "dlq.<durable>"; they are still listed and replayed.
	DLQSubjectPrefix = "dlq."
)

// DLQMaxAge is how long the dead-letter stream keeps a dead letter: one day less
// than inbox.Retention. Replaying an event that consumers' inboxes have forgotten
// could apply it twice, so a dead letter must be replayed while every inbox still
// remembers what it did with it; past that it needs an operator's judgement (and
// ReplayOptions.Force), not a replay. The day of margin covers clock skew and an
// inbox purge running ahead. Alert on MetricDeadLettered: 44 days is for fixing the
// cause, not for noticing it.
// The value is written out rather than computed from inbox.Retention so that
// natsx does not depend on the inbox's SQL; TestDLQMaxAgeIsShorterThanTheInbox
// keeps the two in step.
const DLQMaxAge = 44 * 24 * time.Hour

// Headers added to a dead letter, next to the original message's headers.
const (
	HeaderDLQError     = "Trueup-Dlq-Error"      // the handler's error text
	HeaderDLQSubject   = "Trueup-Dlq-Subject"    // the original subject
	HeaderDLQStream    = "Trueup-Dlq-Stream"     // the original stream
	HeaderDLQStreamSeq = "Trueup-Dlq-Stream-Seq" // the original stream sequence
	HeaderDLQDurable   = "Trueup-Dlq-Durable"    // the consumer that gave up
	HeaderDLQDelivered = "Trueup-Dlq-Delivered"  // deliveries before giving up
	HeaderDLQAt        = "Trueup-Dlq-At"         // when it was dead-lettered, RFC 3339 UTC
)

// DeadLetterSubject is the DLQ subject of the dead letters of durable on stream.
// Both names are in it, because two streams may well have consumers of the same
// name (a ledger reading INVENTORY and ORDERS).
func DeadLetterSubject(stream, durable string) string {
	return DLQSubjectPrefix + stream + "." + durable
}

// DLQStreamConfig is the dead-letter stream's configuration: our defaults with a
// MaxAge of DLQMaxAge. Consume creates it when missing; a composition root that
// wants more replicas calls EnsureStream with this config and Replicas raised.
// A DLQ created before DLQMaxAge existed keeps no age limit until an operator sets
// one (EnsureStream never changes an existing stream's MaxAge).
func DLQStreamConfig() jetstream.StreamConfig {
	cfg := StreamConfig(DLQStream, []string{DLQSubjectPrefix + ">"})
	cfg.MaxAge = DLQMaxAge
	cfg.Description = "Trueup dead letters: messages consumers gave up on, with the error"
	return cfg
}

// ensureDLQ creates the dead-letter and replay streams if they do not exist. It
// deliberately does not update existing ones, so that every consumer starting
// with defaults cannot undo an operator's settings (e.g. replicas).
func ensureDLQ(ctx context.Context, js jetstream.JetStream) error {
	for _, cfg := range []jetstream.StreamConfig{DLQStreamConfig(), ReplayStreamConfig()} {
		_, err := js.Stream(ctx, cfg.Name)
		if err == nil {
			continue
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("look up stream %s: %w", cfg.Name, err)
		}
		if _, err := js.CreateStream(ctx, cfg); err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("create stream %s: %w", cfg.Name, err)
		}
	}
	return nil
}

// DeadLetter is one message in the dead-letter stream.
type DeadLetter struct {
	// Seq is the dead letter's sequence in the DLQ stream: its id for ReplayDeadLetter.
	Seq uint64
	// Durable is the consumer that gave up.
	Durable string
	// Subject, EventID and Type describe the original event.
	Subject, EventID, Type string
	// Error is the handler's last error.
	Error string
	// Delivered is how many deliveries were attempted.
	Delivered int
	// At is when the message was dead-lettered.
	At time.Time
	// Stream and StreamSeq locate the original message.
	Stream    string
	StreamSeq uint64
	// Data is the original payload.
	Data []byte
	// Headers are the dead letter's headers: the original ones plus Trueup-Dlq-*.
	Headers nats.Header
}

// DeadLetterFilter selects dead letters. Every set field must match; the zero
// filter selects all.
type DeadLetterFilter struct {
	// Seqs selects these DLQ sequence numbers.
	Seqs []uint64
	// Stream and Durable select the consumer that gave up.
	Stream, Durable string
	// Subject and EventID select the original event.
	Subject, EventID string
	// Since and Until bound when the message was dead-lettered: Since <= At < Until.
	Since, Until time.Time
}

// Match reports whether d passes the filter.
func (f DeadLetterFilter) Match(d DeadLetter) bool {
	switch {
	case len(f.Seqs) > 0 && !slices.Contains(f.Seqs, d.Seq),
		f.Stream != "" && d.Stream != f.Stream,
		f.Durable != "" && d.Durable != f.Durable,
		f.Subject != "" && d.Subject != f.Subject,
		f.EventID != "" && d.EventID != f.EventID,
		!f.Since.IsZero() && d.At.Before(f.Since),
		!f.Until.IsZero() && !d.At.Before(f.Until):
		return false
	}
	return true
}

// ListDeadLetters returns the dead letters of one durable consumer (on any stream),
// or of all when durable is empty, oldest first.
func ListDeadLetters(ctx context.Context, js jetstream.JetStream, durable string) ([]DeadLetter, error) {
	return FindDeadLetters(ctx, js, DeadLetterFilter{Durable: durable})
}

// FindDeadLetters returns the dead letters that pass f, oldest first. It reads them
// one request each: the DLQ is meant to be short, and a long one is an incident.
func FindDeadLetters(ctx context.Context, js jetstream.JetStream, f DeadLetterFilter) ([]DeadLetter, error) {
	st, err := js.Stream(ctx, DLQStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	// Filtered here, not by subject on the server: old "dlq.<durable>" subjects
	// carry the stream only in a header.
	filter := DLQSubjectPrefix + ">"
	var out []DeadLetter
	seq := max(st.CachedInfo().State.FirstSeq, 1)
	if len(f.Seqs) > 0 {
		seq = max(seq, slices.Min(f.Seqs))
	}
	for {
		raw, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list dead letters: read from seq %d: %w", seq, err)
		}
		if d := toDeadLetter(raw); f.Match(d) {
			out = append(out, d)
		}
		seq = raw.Sequence + 1
		if len(f.Seqs) > 0 && seq > slices.Max(f.Seqs) {
			return out, nil
		}
	}
}

func toDeadLetter(raw *jetstream.RawStreamMsg) DeadLetter {
	h := raw.Header
	d := DeadLetter{
		Seq:     raw.Sequence,
		Durable: h.Get(HeaderDLQDurable),
		Subject: h.Get(HeaderDLQSubject),
		EventID: h.Get(HeaderEventID),
		Type:    h.Get(HeaderEventType),
		Error:   h.Get(HeaderDLQError),
		Stream:  h.Get(HeaderDLQStream),
		Data:    raw.Data,
		Headers: h,
	}
	// The subject is the authority where the headers are missing: "dlq.S.D", or
	// "dlq.D" from before streams were part of it.
	rest := strings.TrimPrefix(raw.Subject, DLQSubjectPrefix)
	if stream, durable, ok := strings.Cut(rest, "."); ok {
		d.Stream, d.Durable = cmp.Or(d.Stream, stream), cmp.Or(d.Durable, durable)
	} else {
		d.Durable = cmp.Or(d.Durable, rest)
	}
	// Malformed numbers (a hand-published dead letter) read as zero rather than
	// hiding the whole list.
	d.Delivered, _ = strconv.Atoi(h.Get(HeaderDLQDelivered))
	d.StreamSeq, _ = strconv.ParseUint(h.Get(HeaderDLQStreamSeq), 10, 64)
	d.At, _ = time.Parse(time.RFC3339Nano, h.Get(HeaderDLQAt))
	return d
}
