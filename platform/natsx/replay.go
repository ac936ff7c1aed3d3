package natsx

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"trueup.dev/platform/apperr"
)

// Replays: a dead letter is replayed to the one durable that gave up on it, not to
// its original subject, which every consumer of the stream would see again. Each
// Consume also runs a second durable on ReplayStream, filtered to
// ReplaySubject(stream, durable), that hands its messages to the same handler with
// the original subject, stream and sequence restored (Message.Replay is set).
const (
	// ReplayStream holds replayed dead letters until their durable processes them.
	ReplayStream = "REPLAY"
	// ReplaySubjectPrefix prefixes ReplaySubject.
	ReplaySubjectPrefix = "replay."
)

// Headers of a replayed dead letter, next to the original message's headers.
const (
	HeaderReplaySubject   = "Trueup-Replay-Subject"    // the original subject
	HeaderReplayStream    = "Trueup-Replay-Stream"     // the original stream
	HeaderReplayStreamSeq = "Trueup-Replay-Stream-Seq" // the original stream sequence
	HeaderReplayOf        = "Trueup-Replay-Of"         // the dead letter's DLQ sequence
	replayHeaderPrefix    = "Trueup-Replay-"
)

// ReplaySubject is the subject only durable of stream consumes replays on.
func ReplaySubject(stream, durable string) string {
	return ReplaySubjectPrefix + stream + "." + durable
}

// replayDurable names durable's consumer on ReplayStream. Consumer names cannot
// contain dots; an underscore joins them instead.
func replayDurable(stream, durable string) string {
	return stream + "_" + durable
}

// ReplayStreamConfig is the replay stream's configuration: a work queue (each
// replay subject has exactly one durable, and a processed replay is removed, so a
// durable recreated later does not see it again), kept no longer than dead letters.
func ReplayStreamConfig() jetstream.StreamConfig {
	cfg := StreamConfig(ReplayStream, []string{ReplaySubjectPrefix + ">"})
	cfg.Retention = jetstream.WorkQueuePolicy
	cfg.MaxAge = DLQMaxAge
	cfg.Description = "Trueup replayed dead letters, one subject per consumer"
	return cfg
}

// ReplayMaxAge is the oldest dead letter ReplayDeadLetters replays without Force:
// DLQMaxAge, so within a day of inbox.Retention every consumer's inbox still
// remembers the event.
const ReplayMaxAge = DLQMaxAge

// ReplayOptions adjust ReplayDeadLetters.
type ReplayOptions struct {
	// Force replays dead letters older than ReplayMaxAge (or of unknown age). The
	// durable's inbox may have forgotten the event by then: if the handler had in
	// fact applied it (a dead letter parked after a crash, a replay whose delete
	// failed), it is applied twice. Check by hand first.
	Force bool
	// Now is the clock for the age check (default time.Now).
	Now func() time.Time
}

// ReplayDeadLetter replays one dead letter (see ReplayDeadLetters). An unknown seq
// is apperr.NotFound; one older than ReplayMaxAge is refused.
func ReplayDeadLetter(ctx context.Context, js jetstream.JetStream, seq uint64) error {
	_, err := ReplayDeadLetters(ctx, js, DeadLetterFilter{Seqs: []uint64{seq}}, ReplayOptions{})
	return err
}

// ReplayDeadLetters replays every dead letter passing f to the durable that gave up
// on it, through ReplaySubject, and deletes it from the DLQ; the zero filter
// replays all. It returns the replayed dead letters' sequences, oldest first.
//
// Nothing is replayed if any selected sequence in f.Seqs does not exist
// (apperr.NotFound) or, without opts.Force, if any selected dead letter is older
// than ReplayMaxAge (apperr precondition DEAD_LETTER_TOO_OLD, naming them). The
// copy keeps the event id and trace headers and gets Nats-Msg-Id
// "<event id>-replay-<dlq seq>", so retrying a replay whose delete failed is
// dropped by the duplicate window, and later by the durable's inbox.
func ReplayDeadLetters(ctx context.Context, js jetstream.JetStream, f DeadLetterFilter, opts ReplayOptions) ([]uint64, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	letters, err := FindDeadLetters(ctx, js, f)
	if err != nil {
		return nil, fmt.Errorf("replay dead letters: %w", err)
	}
	for _, seq := range f.Seqs {
		if !slices.ContainsFunc(letters, func(d DeadLetter) bool { return d.Seq == seq }) {
			return nil, apperr.NotFound("dead letter", strconv.FormatUint(seq, 10))
		}
	}
	var old []string
	for _, d := range letters {
		if d.Subject == "" || d.Stream == "" || d.Durable == "" {
			return nil, apperr.Precondition("NOT_A_DEAD_LETTER", fmt.Sprintf(
				"DLQ message %d lacks its original subject, stream or durable: not written by a natsx consumer", d.Seq))
		}
		if d.At.IsZero() || now().Sub(d.At) > ReplayMaxAge {
			old = append(old, fmt.Sprintf("%d (dead-lettered %s)", d.Seq, d.At.Format(time.DateOnly)))
		}
	}
	if len(old) > 0 && !opts.Force {
		return nil, apperr.Precondition("DEAD_LETTER_TOO_OLD", fmt.Sprintf(
			"%d dead letters are older than %s and consumers' inboxes may have forgotten them, so a replay could apply them twice: %s; check by hand, then force or narrow the selection",
			len(old), ReplayMaxAge, strings.Join(old, ", ")))
	}
	if len(letters) == 0 {
		return nil, nil
	}
	// A DLQ written before replays had their own stream has none yet; consumers
	// running this version pick replays up from it once they start.
	if err := ensureDLQ(ctx, js); err != nil {
		return nil, fmt.Errorf("replay dead letters: %w", err)
	}
	st, err := js.Stream(ctx, DLQStream)
	if err != nil {
		return nil, fmt.Errorf("replay dead letters: %w", err)
	}
	var done []uint64
	for _, d := range letters {
		if err := replay(ctx, js, st, d); err != nil {
			return done, err
		}
		done = append(done, d.Seq)
	}
	return done, nil
}

func replay(ctx context.Context, js jetstream.JetStream, st jetstream.Stream, d DeadLetter) error {
	subject := ReplaySubject(d.Stream, d.Durable)
	m := nats.NewMsg(subject)
	m.Data = d.Data
	for k, v := range d.Headers {
		if isNATSHeader(k) || hasPrefixFold(k, "Trueup-Dlq-") || hasPrefixFold(k, replayHeaderPrefix) {
			continue
		}
		m.Header[k] = append([]string(nil), v...)
	}
	m.Header.Set(nats.MsgIdHdr, fmt.Sprintf("%s-replay-%d", d.EventID, d.Seq))
	m.Header.Set(HeaderReplaySubject, d.Subject)
	m.Header.Set(HeaderReplayStream, d.Stream)
	m.Header.Set(HeaderReplayStreamSeq, strconv.FormatUint(d.StreamSeq, 10))
	m.Header.Set(HeaderReplayOf, strconv.FormatUint(d.Seq, 10))
	if _, err := js.PublishMsg(ctx, m, jetstream.WithExpectStream(ReplayStream)); err != nil {
		return fmt.Errorf("replay dead letter %d to %s: %w", d.Seq, subject, err)
	}
	if err := st.DeleteMsg(ctx, d.Seq); err != nil {
		return fmt.Errorf("replay dead letter %d: replayed to %s but not deleted: %w", d.Seq, subject, err)
	}
	return nil
}
