package natsx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Message is one delivery handed to a Handler.
type Message struct {
	// Subject the event was published on, e.g. "inventory.v1.ItemCreated".
	Subject string
	// EventID is the stable event id (HeaderEventID, else Nats-Msg-Id): the inbox key.
	EventID string
	// Type is the protobuf message name of Data (HeaderEventType).
	Type string
	// Data is the protobuf-encoded event.
	Data []byte
	// Headers are all headers as published, including the trace context.
	Headers nats.Header
	// NumDelivered counts deliveries of this message to this consumer, from 1.
	NumDelivered uint64
	// Stream and StreamSeq locate the message in JetStream, for logs and drill-down.
	Stream    string
	StreamSeq uint64
}

// Handler processes one message. Returning nil acknowledges it; an error schedules a
// retry, or dead-letters it once retries are exhausted or the error is Permanent.
// Handlers must be idempotent (deliveries are at-least-once): record EventID in the
// service's inbox in the same transaction as the effect.
type Handler func(ctx context.Context, msg *Message) error

// ErrPermanent marks a failure that no retry can fix (an undecodable payload, an
// event that violates an invariant); errors.Is(err, ErrPermanent) reports it.
var ErrPermanent = errors.New("permanent failure")

// Permanent marks err as permanent: the message goes to the dead-letter stream at
// once instead of being retried. The error text is kept unchanged. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }

// Consumer defaults, applied to zero fields of ConsumerConfig.
const (
	// DefaultMaxDeliver: five tries ride out a dependency restart without letting a
	// poison message block a partition of work for long.
	DefaultMaxDeliver = 5
	// DefaultAckWait is how long a dead process may hold a message before another
	// replica gets it.
	DefaultAckWait = 30 * time.Second
	// DefaultConcurrency processes one message at a time, in delivery order.
	DefaultConcurrency = 1
)

// DefaultBackoff is the delay before redelivery after the 1st, 2nd, ... failed
// attempt; the last entry repeats.
var DefaultBackoff = []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second, 5 * time.Second}

// ConsumerConfig configures a durable pull consumer. Zero values take the defaults.
type ConsumerConfig struct {
	// Stream to read from. Required.
	Stream string
	// Durable is the consumer name, shared by every replica of a service so they
	// split the work. Required; no dots, spaces or wildcards (it is also a subject token
	// of the dead-letter subject).
	Durable string
	// FilterSubjects restricts the consumer to these subjects; empty means all.
	FilterSubjects []string
	// MaxDeliver is how many deliveries a message gets before it is dead-lettered
	// (default 5). The server itself never gives up on a message: only this runner
	// ends redelivery, by acknowledging or dead-lettering, so nothing vanishes silently.
	MaxDeliver int
	// Backoff is the redelivery delay after each failed attempt (default DefaultBackoff).
	Backoff []time.Duration
	// AckWait is how long the server waits for an outcome before redelivering
	// (default 30s). A running handler keeps extending it, so long work is not
	// delivered twice; it only fires when a process dies mid-message.
	AckWait time.Duration
	// HandlerTimeout bounds one handler call (default 1 minute): a handler stuck
	// on a call without a deadline fails and is retried instead of holding the
	// message, and with Concurrency 1 the whole consumer, for ever.
	HandlerTimeout time.Duration
	// MaxAckPending caps unacknowledged messages across all replicas (0: server default).
	// Set it to 1 for strict ordering: otherwise a message waiting for a retry is
	// overtaken by later ones.
	MaxAckPending int
	// Concurrency is how many handlers run at once in this process (default 1, which
	// processes messages one at a time in delivery order).
	Concurrency int
	// Logger receives failures (default slog.Default()).
	Logger *slog.Logger
}

func (c ConsumerConfig) withDefaults() (ConsumerConfig, error) {
	if c.Stream == "" {
		return c, errors.New("consumer config: Stream is required")
	}
	if c.Durable == "" {
		return c, errors.New("consumer config: Durable is required")
	}
	if strings.ContainsAny(c.Durable, ".*> \t\r\n") {
		return c, fmt.Errorf("consumer config: Durable %q must not contain '.', '*', '>' or whitespace", c.Durable)
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if len(c.Backoff) == 0 {
		c.Backoff = slices.Clone(DefaultBackoff)
	}
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = time.Minute
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// backoff is the delay after the given failed attempt (1-based).
func (c ConsumerConfig) backoff(attempt uint64) time.Duration {
	i := int(min(attempt, uint64(len(c.Backoff)))) - 1
	return c.Backoff[max(i, 0)]
}

// Consumer runs a Handler over a durable pull consumer until Stop.
type Consumer struct {
	cfg  ConsumerConfig
	js   jetstream.JetStream
	h    Handler
	iter jetstream.MessagesContext
	log  *slog.Logger

	// work is the context handlers run in: it keeps the values of Consume's ctx but
	// not its cancellation, so a shutdown lets in-flight handlers finish. It is
	// cancelled only when Stop's own deadline runs out.
	work       context.Context
	cancelWork context.CancelFunc

	stopOnce sync.Once
	stopping chan struct{} // closed when no new message may start
	done     chan struct{} // closed when every worker has returned
	inFlight atomic.Int64
}

// Consume creates or updates the durable consumer (explicit ack, deliver all),
// makes sure the dead-letter stream exists, and starts cfg.Concurrency workers.
// Cancelling ctx stops fetching like Stop does (in-flight handlers still finish);
// call Stop to wait for them.
func Consume(ctx context.Context, js jetstream.JetStream, cfg ConsumerConfig, h Handler) (*Consumer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("consume: nil handler")
	}
	if err := ensureDLQ(ctx, js); err != nil {
		return nil, fmt.Errorf("consume %s/%s: %w", cfg.Stream, cfg.Durable, err)
	}
	jc := jetstream.ConsumerConfig{
		Durable:        cfg.Durable,
		AckPolicy:      jetstream.AckExplicitPolicy,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckWait:        cfg.AckWait,
		MaxDeliver:     -1, // see ConsumerConfig.MaxDeliver
		MaxAckPending:  cfg.MaxAckPending,
		FilterSubjects: cfg.FilterSubjects,
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, cfg.Stream, jc)
	if err != nil {
		return nil, fmt.Errorf("consume %s/%s: create consumer: %w", cfg.Stream, cfg.Durable, err)
	}
	// A small prefetch: messages sitting in the client buffer are already delivered,
	// so their AckWait runs and on Stop they must be handed back.
	iter, err := cons.Messages(jetstream.PullMaxMessages(2 * cfg.Concurrency))
	if err != nil {
		return nil, fmt.Errorf("consume %s/%s: start fetching: %w", cfg.Stream, cfg.Durable, err)
	}
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	c := &Consumer{
		cfg:        cfg,
		js:         js,
		h:          h,
		iter:       iter,
		log:        cfg.Logger.With("stream", cfg.Stream, "durable", cfg.Durable),
		work:       work,
		cancelWork: cancelWork,
		stopping:   make(chan struct{}),
		done:       make(chan struct{}),
	}
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(c.run)
	}
	go func() {
		wg.Wait()
		c.cancelWork()
		close(c.done)
	}()
	go func() {
		select {
		case <-ctx.Done():
			c.beginStop()
		case <-c.stopping:
		case <-c.done: // the connection closed under us
		}
	}()
	return c, nil
}

// Done is closed once the consumer has stopped and no handler is running.
func (c *Consumer) Done() <-chan struct{} { return c.done }

// Stop stops fetching, hands back messages that were fetched but not started, and
// waits for running handlers to finish. If ctx ends first, it cancels the handlers'
// context and returns ctx's error; their messages will be redelivered. Stop may be
// called any number of times.
func (c *Consumer) Stop(ctx context.Context) error {
	c.beginStop()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		c.cancelWork()
		return fmt.Errorf("stop consumer %s/%s with %d handlers running: %w",
			c.cfg.Stream, c.cfg.Durable, c.inFlight.Load(), ctx.Err())
	}
}

func (c *Consumer) beginStop() {
	c.stopOnce.Do(func() {
		close(c.stopping)
		// Drain rather than Stop the iterator: buffered messages still come out of
		// Next, and run Naks them so another replica gets them now, not after AckWait.
		c.iter.Drain()
	})
}

// run is one worker: it takes messages until the iterator closes.
func (c *Consumer) run() {
	for {
		m, err := c.iter.Next(jetstream.NextContext(c.work))
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || c.work.Err() != nil {
				return
			}
			c.log.Warn("fetch next message", "error", err)
			select {
			case <-time.After(100 * time.Millisecond):
			case <-c.work.Done():
				return
			}
			continue
		}
		select {
		case <-c.stopping:
			if err := m.Nak(); err != nil {
				c.log.Warn("hand back message on stop", "error", err, "subject", m.Subject())
			}
			continue
		default:
		}
		c.inFlight.Add(1)
		c.process(m)
		c.inFlight.Add(-1)
	}
}

// process runs the handler on one message and settles it: ack, retry or dead-letter.
func (c *Consumer) process(m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		// Not a JetStream delivery; nothing to settle.
		c.log.Error("message without JetStream metadata", "error", err, "subject", m.Subject())
		return
	}
	hdr := m.Headers()
	msg := &Message{
		Subject:      m.Subject(),
		EventID:      hdr.Get(HeaderEventID),
		Type:         hdr.Get(HeaderEventType),
		Data:         m.Data(),
		Headers:      hdr,
		NumDelivered: meta.NumDelivered,
		Stream:       meta.Stream,
		StreamSeq:    meta.Sequence.Stream,
	}
	if msg.EventID == "" {
		msg.EventID = hdr.Get(nats.MsgIdHdr)
	}

	// Start from an empty span context: a message without a traceparent must begin
	// a new trace, not hang under whatever span was current when Consume was called.
	base := trace.ContextWithSpanContext(c.work, trace.SpanContext{})
	parent := otel.GetTextMapPropagator().Extract(base, headerCarrier(hdr))
	ctx, span := otel.Tracer(tracerName).Start(parent, msg.Subject+" process",
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			messagingSystem,
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingOperationName("process"),
			semconv.MessagingDestinationName(msg.Subject),
			semconv.MessagingMessageID(msg.EventID),
			semconv.MessagingConsumerGroupName(c.cfg.Durable),
			semconv.MessagingMessageBodySize(len(msg.Data)),
			attribute.Int64("messaging.nats.num_delivered", int64(msg.NumDelivered)),
			attribute.Int64("messaging.nats.stream_sequence", int64(msg.StreamSeq)),
		))
	defer span.End()

	// Far more deliveries than MaxDeliver means earlier attempts never reported
	// an outcome: the process handling it died (a crash, an OOM kill). Park the
	// message instead of running it again, so it cannot crash-loop every
	// replica. The slack (twice MaxDeliver) leaves room for the deliveries a
	// graceful Stop hands back, which the server counts too.
	if msg.NumDelivered > 2*uint64(c.cfg.MaxDeliver) {
		err := fmt.Errorf("delivered %d times without an outcome: the process handling it may have crashed", msg.NumDelivered)
		c.log.ErrorContext(ctx, "event redelivered past max_deliver, dead-lettering without running it",
			"subject", msg.Subject, "event_id", msg.EventID, "attempt", msg.NumDelivered, "max_deliver", c.cfg.MaxDeliver)
		span.SetStatus(codes.Error, err.Error())
		c.deadLetter(ctx, m, msg, err)
		return
	}

	stopKeepAlive := c.keepAlive(m)
	hctx, cancel := context.WithTimeout(ctx, c.cfg.HandlerTimeout)
	err = c.call(hctx, msg)
	cancel()
	stopKeepAlive()

	if err == nil {
		// DoubleAck waits for the server to confirm, which narrows (not closes) the
		// window for a redelivery; the handler's inbox makes one harmless anyway.
		if ackErr := m.DoubleAck(ctx); ackErr != nil {
			c.log.WarnContext(ctx, "ack message", "error", ackErr, "subject", msg.Subject, "event_id", msg.EventID)
		}
		return
	}

	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
	permanent := errors.Is(err, ErrPermanent)
	if permanent || msg.NumDelivered >= uint64(c.cfg.MaxDeliver) {
		c.log.ErrorContext(ctx, "event handler failed, dead-lettering",
			"error", err, "subject", msg.Subject, "event_id", msg.EventID, "type", msg.Type,
			"attempt", msg.NumDelivered, "max_deliver", c.cfg.MaxDeliver, "permanent", permanent)
		c.deadLetter(ctx, m, msg, err)
		return
	}
	delay := c.cfg.backoff(msg.NumDelivered)
	c.log.WarnContext(ctx, "event handler failed, will retry",
		"error", err, "subject", msg.Subject, "event_id", msg.EventID, "type", msg.Type,
		"attempt", msg.NumDelivered, "max_deliver", c.cfg.MaxDeliver, "retry_in", delay)
	if nakErr := m.NakWithDelay(delay); nakErr != nil {
		c.log.WarnContext(ctx, "nak message", "error", nakErr, "subject", msg.Subject, "event_id", msg.EventID)
	}
}

// call runs the handler, turning a panic into an error so one bad message cannot
// take the service down; the message is then retried or dead-lettered like any failure.
func (c *Consumer) call(ctx context.Context, msg *Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.ErrorContext(ctx, "event handler panicked", "panic", r,
				"subject", msg.Subject, "event_id", msg.EventID, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return c.h(ctx, msg)
}

// keepAlive tells the server the message is still being worked on every third of
// AckWait, so a slow handler is not redelivered to another replica meanwhile. The
// returned func stops it and waits for it to return.
func (c *Consumer) keepAlive(m jetstream.Msg) (stop func()) {
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(max(c.cfg.AckWait/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if err := m.InProgress(); err != nil {
					c.log.Warn("extend ack wait", "error", err, "subject", m.Subject())
				}
			case <-quit:
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-exited
	}
}

// deadLetter copies the message to the dead-letter stream and then terminates it.
// If the copy fails the message is retried later instead: it is never dropped.
func (c *Consumer) deadLetter(ctx context.Context, m jetstream.Msg, msg *Message, cause error) {
	dm := nats.NewMsg(DLQSubjectPrefix + c.cfg.Durable)
	dm.Data = msg.Data
	for k, v := range msg.Headers {
		if isNATSHeader(k) {
			continue
		}
		dm.Header[k] = append([]string(nil), v...)
	}
	seq := strconv.FormatUint(msg.StreamSeq, 10)
	// Keyed by consumer and stream sequence: if the Term below is lost and the
	// message is dead-lettered again, JetStream drops the second copy.
	dm.Header.Set(nats.MsgIdHdr, "dlq-"+c.cfg.Durable+"-"+seq)
	dm.Header.Set(HeaderDLQError, cause.Error())
	dm.Header.Set(HeaderDLQSubject, msg.Subject)
	dm.Header.Set(HeaderDLQStream, msg.Stream)
	dm.Header.Set(HeaderDLQStreamSeq, seq)
	dm.Header.Set(HeaderDLQDelivered, strconv.FormatUint(msg.NumDelivered, 10))
	dm.Header.Set(HeaderDLQAt, time.Now().UTC().Format(time.RFC3339Nano))

	if _, err := c.js.PublishMsg(ctx, dm); err != nil {
		delay := c.cfg.Backoff[len(c.cfg.Backoff)-1]
		c.log.ErrorContext(ctx, "dead-letter message, will retry", "error", err,
			"subject", msg.Subject, "event_id", msg.EventID, "retry_in", delay)
		if nakErr := m.NakWithDelay(delay); nakErr != nil {
			c.log.WarnContext(ctx, "nak message", "error", nakErr, "subject", msg.Subject, "event_id", msg.EventID)
		}
		return
	}
	if err := m.TermWithReason("dead-lettered"); err != nil {
		c.log.WarnContext(ctx, "terminate dead-lettered message", "error", err,
			"subject", msg.Subject, "event_id", msg.EventID)
	}
}

// isNATSHeader reports protocol headers ("Nats-Msg-Id", "Nats-Expected-Stream", ...)
// that must not be carried over when a message is copied to another subject.
func isNATSHeader(k string) bool {
	return len(k) >= 5 && strings.EqualFold(k[:5], "Nats-")
}
