package natsx

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"trueup.dev/platform/apperr"
)

// Dead letters: messages a consumer gave up on, kept with the error for an operator
// to inspect and replay.
const (
	// DLQStream is the stream holding every consumer's dead letters.
	DLQStream = "DLQ"
	// DLQSubjectPrefix prefixes the durable name: consumer "ledger" dead-letters to "dlq.ledger".
	DLQSubjectPrefix = "dlq."
)

// Headers added to a dead letter, next to the original message's headers.
const (
	HeaderDLQError     = "Trueup-Dlq-Error"      // the handler's error text
	HeaderDLQSubject   = "Trueup-Dlq-Subject"    // the original subject (replay target)
	HeaderDLQStream    = "Trueup-Dlq-Stream"     // the original stream
	HeaderDLQStreamSeq = "Trueup-Dlq-Stream-Seq" // the original stream sequence
	HeaderDLQDelivered = "Trueup-Dlq-Delivered"  // deliveries before giving up
	HeaderDLQAt        = "Trueup-Dlq-At"         // when it was dead-lettered, RFC 3339 UTC
)

// DLQStreamConfig is the dead-letter stream's configuration: our defaults without an
// age limit, since a dead letter is an unposted fact that must wait for an operator,
// not expire. Consume creates it when missing; a composition root that wants more
// replicas calls EnsureStream with this config and Replicas raised.
func DLQStreamConfig() jetstream.StreamConfig {
	cfg := StreamConfig(DLQStream, []string{DLQSubjectPrefix + ">"})
	cfg.MaxAge = 0
	cfg.Description = "Trueup dead letters: messages consumers gave up on, with the error"
	return cfg
}

// ensureDLQ creates the dead-letter stream if it does not exist. It deliberately
// does not update an existing one, so that every consumer starting with defaults
// cannot undo an operator's settings (e.g. replicas).
func ensureDLQ(ctx context.Context, js jetstream.JetStream) error {
	_, err := js.Stream(ctx, DLQStream)
	if err == nil {
		return nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("look up dead-letter stream: %w", err)
	}
	if _, err := js.CreateStream(ctx, DLQStreamConfig()); err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("create dead-letter stream: %w", err)
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

// ListDeadLetters returns the dead letters of one durable consumer, or of all when
// durable is empty, oldest first. It reads them one request each: the DLQ is meant
// to be short, and a long one is an incident.
func ListDeadLetters(ctx context.Context, js jetstream.JetStream, durable string) ([]DeadLetter, error) {
	st, err := js.Stream(ctx, DLQStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	filter := DLQSubjectPrefix + ">"
	if durable != "" {
		filter = DLQSubjectPrefix + durable
	}
	var out []DeadLetter
	seq := max(st.CachedInfo().State.FirstSeq, 1)
	for {
		raw, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list dead letters: read from seq %d: %w", seq, err)
		}
		out = append(out, toDeadLetter(raw))
		seq = raw.Sequence + 1
	}
}

func toDeadLetter(raw *jetstream.RawStreamMsg) DeadLetter {
	h := raw.Header
	d := DeadLetter{
		Seq:     raw.Sequence,
		Durable: strings.TrimPrefix(raw.Subject, DLQSubjectPrefix),
		Subject: h.Get(HeaderDLQSubject),
		EventID: h.Get(HeaderEventID),
		Type:    h.Get(HeaderEventType),
		Error:   h.Get(HeaderDLQError),
		Stream:  h.Get(HeaderDLQStream),
		Data:    raw.Data,
		Headers: h,
	}
	// Malformed numbers (a hand-published dead letter) read as zero rather than
	// hiding the whole list.
	d.Delivered, _ = strconv.Atoi(h.Get(HeaderDLQDelivered))
	d.StreamSeq, _ = strconv.ParseUint(h.Get(HeaderDLQStreamSeq), 10, 64)
	d.At, _ = time.Parse(time.RFC3339Nano, h.Get(HeaderDLQAt))
	return d
}

// ReplayDeadLetter republishes dead letter seq to its original subject and then
// deletes it from the DLQ. The copy keeps the event id and trace headers (consumers'
// inboxes key on the event id, so consumers of the same stream that already
// processed it skip it) but gets a fresh Nats-Msg-Id, so JetStream's duplicate window
// does not swallow it. The original stream stores it as a new message, which the
// durable consumer then receives. If the delete fails after the publish, a retry
// replays it again; the inbox makes that harmless. An unknown seq is apperr.NotFound.
func ReplayDeadLetter(ctx context.Context, js jetstream.JetStream, seq uint64) error {
	id := strconv.FormatUint(seq, 10)
	st, err := js.Stream(ctx, DLQStream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return apperr.NotFound("dead letter", id)
	}
	if err != nil {
		return fmt.Errorf("replay dead letter %d: %w", seq, err)
	}
	raw, err := st.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return apperr.NotFound("dead letter", id)
	}
	if err != nil {
		return fmt.Errorf("replay dead letter %d: %w", seq, err)
	}
	subject := raw.Header.Get(HeaderDLQSubject)
	if subject == "" {
		return apperr.Precondition("NOT_A_DEAD_LETTER",
			fmt.Sprintf("DLQ message %d has no %s header: not written by a natsx consumer", seq, HeaderDLQSubject))
	}
	m := nats.NewMsg(subject)
	m.Data = raw.Data
	for k, v := range raw.Header {
		if isNATSHeader(k) || strings.HasPrefix(k, "Trueup-Dlq-") {
			continue
		}
		m.Header[k] = append([]string(nil), v...)
	}
	m.Header.Set(nats.MsgIdHdr, fmt.Sprintf("%s-replay-%d-%d", raw.Header.Get(HeaderEventID), seq, time.Now().UnixNano()))
	if _, err := js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("replay dead letter %d to %s: %w", seq, subject, err)
	}
	if err := st.DeleteMsg(ctx, seq); err != nil {
		return fmt.Errorf("replay dead letter %d: replayed to %s but not deleted: %w", seq, subject, err)
	}
	return nil
}
