package natsx

import (
	"cmp"
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
	"go.opentelemetry.io/otel/metric"
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
	// NumDelivered counts deliveries of this message to this consumer, from 1 (of
	// the replay, for a replay), transient failures included.
	NumDelivered uint64
	// Stream and StreamSeq locate the event in its original stream, for logs and
	// drill-down; a replayed dead letter keeps its original location.
	Stream    string
	StreamSeq uint64
	// Replay is true when this delivery is an operator's replay of a dead letter
	// (ReplayDeadLetters), which reaches only the durable that gave up on it.
	Replay bool

	// span is this delivery's "process" span, the parent of what handling it
	// does (see Context).
	span trace.SpanContext
}

// Context returns ctx with this delivery's "process" span as the current
// span. A Handler's ctx already has it; a BatchHandler's ctx is the batch's,
// so it uses msg.Context(ctx) for the work it does on one message's behalf —
// the events that message makes it write to the outbox, the calls it makes —
// and they continue that message's trace instead of starting new ones.
func (m *Message) Context(ctx context.Context) context.Context {
	if !m.span.IsValid() {
		return ctx
	}
	return trace.ContextWithSpanContext(ctx, m.span)
}

// SpanContext is this delivery's "process" span (see Context), for a handler
// that hands the message's work to code taking one context for many.
func (m *Message) SpanContext() trace.SpanContext { return m.span }

// Handler processes one message. Returning nil acknowledges it; an error schedules a
// retry. A transient error (IsTransient: a dependency down, a lost connection, the
// handler's deadline) is retried without limit and does not count as a failure of
// the message; any other error counts, and the message is dead-lettered after
// MaxDeliver of them, or at once if the error is Permanent.
// Handlers must be idempotent (deliveries are at-least-once): record EventID in the
// service's inbox in the same transaction as the effect. Handlers must also be
// commutative or version-gated: order per aggregate is not guaranteed, since a
// message waiting for a retry is overtaken by later ones, replicas and
// Concurrency run messages side by side, and a replay comes whenever an operator
// sends it. An effect that depends on order checks the aggregate version the
// event carries and ignores what is older than what it has applied.
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
	// DefaultMaxDeliver: five handler-logic failures give a race with another
	// service's state (an event arriving before the one it depends on) time to
	// settle, without letting a poison message block a partition of work for long.
	// Dependency outages do not count (see Handler).
	DefaultMaxDeliver = 5
	// DefaultAckWait is how long a dead process may hold a message before another
	// replica gets it.
	DefaultAckWait = 30 * time.Second
	// DefaultConcurrency processes one message at a time, in delivery order.
	DefaultConcurrency = 1
	// DefaultTransientBackoff is the first delay after a transient failure; it
	// doubles with each consecutive one up to DefaultMaxTransientBackoff.
	DefaultTransientBackoff = 250 * time.Millisecond
	// DefaultMaxTransientBackoff caps the delay between retries while a dependency
	// is down: a PostgreSQL failover (about a minute) costs a handful of
	// deliveries, and recovery is noticed within half a minute.
	DefaultMaxTransientBackoff = 30 * time.Second
)

// DefaultBackoff is the delay before redelivery after the 1st, 2nd, ... handler-logic
// failure; the last entry repeats.
var DefaultBackoff = []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second, 5 * time.Second}

// ConsumerConfig configures a durable pull consumer. Zero values take the defaults.
type ConsumerConfig struct {
	// Stream to read from. Required.
	Stream string
	// Durable is the consumer name, shared by every replica of a service so they
	// split the work. Required; no dots, spaces or wildcards (it is also a subject token
	// of the dead-letter and replay subjects). Its replays are read by a second
	// durable, "<Stream>_<Durable>", on ReplayStream.
	Durable string
	// FilterSubjects restricts the consumer to these subjects; empty means all.
	FilterSubjects []string
	// MaxDeliver is how many handler-logic failures a message may have before it is
	// dead-lettered (default 5). Transient failures do not count (see Handler). The
	// server itself never gives up on a message: only this runner ends redelivery,
	// by acknowledging or dead-lettering, so nothing vanishes silently.
	MaxDeliver int
	// Backoff is the redelivery delay after each handler-logic failure (default
	// DefaultBackoff); the last entry repeats.
	Backoff []time.Duration
	// TransientBackoff is the delay after a first transient failure (default
	// DefaultTransientBackoff); it doubles with each consecutive transient failure
	// of the message, up to MaxTransientBackoff (default DefaultMaxTransientBackoff).
	// After a transient failure the whole consumer pauses for that delay before
	// starting another handler, so an outage costs one delivery per pause rather than
	// one per message in flight.
	TransientBackoff    time.Duration
	MaxTransientBackoff time.Duration
	// AckWait is how long the server waits for an outcome before redelivering
	// (default 30s). A running handler keeps extending it, so long work is not
	// delivered twice; it only fires when a process dies mid-message.
	AckWait time.Duration
	// HandlerTimeout bounds one handler call (default 1 minute) through its context:
	// the deadline error is transient, so the message is retried. A handler that
	// ignores its context cannot be stopped; once it runs past the deadline the
	// consumer logs an error and counts it in MetricStuckHandlers until it returns.
	HandlerTimeout time.Duration
	// MaxAckPending caps unacknowledged messages across all replicas (0: server default).
	// Set it to 1 for strict ordering: otherwise a message waiting for a retry is
	// overtaken by later ones.
	MaxAckPending int
	// Concurrency is how many handlers run at once in this process (default 1, which
	// processes messages one at a time in delivery order). One more worker runs
	// replays (see ReplayDeadLetters), which may overlap a regular message: a replay
	// is out of order by nature.
	Concurrency int
	// BatchSize and BatchLinger apply to ConsumeBatch only: the most messages
	// handed to one BatchHandler call (default DefaultBatchSize), and how long a
	// worker holding one message waits for more (default DefaultBatchLinger).
	BatchSize   int
	BatchLinger time.Duration
	// Logger receives failures (default slog.Default()).
	Logger *slog.Logger
	// MeterProvider receives the consumer's metrics (default: the global one).
	MeterProvider metric.MeterProvider
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
	if c.TransientBackoff <= 0 {
		c.TransientBackoff = DefaultTransientBackoff
	}
	if c.MaxTransientBackoff <= 0 {
		c.MaxTransientBackoff = DefaultMaxTransientBackoff
	}
	c.MaxTransientBackoff = max(c.MaxTransientBackoff, c.TransientBackoff)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MeterProvider == nil {
		c.MeterProvider = otel.GetMeterProvider()
	}
	return c, nil
}

// backoff is the delay after the given failed attempt (1-based).
func (c ConsumerConfig) backoff(attempt uint64) time.Duration {
	i := int(min(attempt, uint64(len(c.Backoff)))) - 1
	return c.Backoff[max(i, 0)]
}

// transientBackoff is the delay after the n-th consecutive transient failure
// (1-based): TransientBackoff doubled n-1 times, capped at MaxTransientBackoff.
func (c ConsumerConfig) transientBackoff(n int) time.Duration {
	d := c.TransientBackoff
	for i := 1; i < n && d < c.MaxTransientBackoff; i++ {
		d *= 2
	}
	return min(d, c.MaxTransientBackoff)
}

// Consumer runs a Handler over a durable pull consumer until Stop.
type Consumer struct {
	cfg     ConsumerConfig
	js      jetstream.JetStream
	h       Handler
	bh      BatchHandler              // set by ConsumeBatch: the main stream's workers hand it batches
	iter    jetstream.MessagesContext // the durable on cfg.Stream
	replays jetstream.MessagesContext // its replay durable on ReplayStream
	log     *slog.Logger
	metrics *consumerMetrics

	// work is the context handlers run in: it keeps the values of Consume's ctx but
	// not its cancellation, so a shutdown lets in-flight handlers finish. It is
	// cancelled only when Stop's own deadline runs out.
	work       context.Context
	cancelWork context.CancelFunc

	stopOnce sync.Once
	stopping chan struct{} // closed when no new message may start
	done     chan struct{} // closed when every worker has returned
	inFlight atomic.Int64

	// pausedUntil (Unix nanoseconds) holds back new handler calls after a
	// transient failure: the dependency is likely down for every message.
	pausedUntil atomic.Int64
	// lastTransient (Unix nanoseconds) is when a handler last failed transiently.
	lastTransient atomic.Int64

	mu      sync.Mutex
	history map[delivery]*history
}

// delivery identifies a message as delivered: its stream (cfg.Stream or
// ReplayStream) and sequence there.
type delivery struct {
	stream string
	seq    uint64
}

// history is what this process knows about the earlier deliveries of a message.
// JetStream's NumDelivered counts every delivery, including transient failures and
// messages handed back on Stop, so it cannot tell a poison message from an outage;
// this can, for the deliveries this process saw. It is lost on restart and not
// shared between replicas: a message then gets up to MaxDeliver more logic
// failures per process, which bounds it all the same.
type history struct {
	logic     int    // handler-logic failures
	transient int    // consecutive transient failures, for the backoff
	outcomes  uint64 // deliveries that ended here with a known outcome (a retry or a hand-back)
	// parkCause is set when dead-lettering failed: the next delivery retries the
	// dead letter instead of running the handler again.
	parkCause error
}

// maxHistory bounds the per-message history: beyond it an arbitrary entry is
// forgotten (its message just gets a fresh count), so a flood of failing
// messages cannot grow memory without bound.
const maxHistory = 10_000

// Consume creates or updates the durable consumer (explicit ack, deliver all), and
// its replay durable on ReplayStream, makes sure the dead-letter and replay
// streams exist, and starts cfg.Concurrency workers, plus one for replays.
// Cancelling ctx stops fetching like Stop does (in-flight handlers still finish);
// call Stop to wait for them.
func Consume(ctx context.Context, js jetstream.JetStream, cfg ConsumerConfig, h Handler) (*Consumer, error) {
	if h == nil {
		return nil, errors.New("consume: nil handler")
	}
	return consume(ctx, js, cfg, h, nil)
}

// consume starts a consumer whose main-stream workers run bh over batches when
// bh is set, and h over single messages otherwise; replays always go to h.
func consume(ctx context.Context, js jetstream.JetStream, cfg ConsumerConfig, h Handler, bh BatchHandler) (*Consumer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
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
	rc := jc
	rc.Durable = replayDurable(cfg.Stream, cfg.Durable)
	rc.FilterSubjects = []string{ReplaySubject(cfg.Stream, cfg.Durable)}
	// "A_B"+"c" and "A"+"B_c" share a replay durable name: refuse the second
	// rather than silently re-point the first one's replays.
	if existing, err := js.Consumer(ctx, ReplayStream, rc.Durable); err == nil {
		if f := existing.CachedInfo().Config.FilterSubjects; len(f) > 0 && !slices.Equal(f, rc.FilterSubjects) {
			return nil, fmt.Errorf("consume %s/%s: replay consumer %s already reads %v: rename the durable",
				cfg.Stream, cfg.Durable, rc.Durable, f)
		}
	}
	replayCons, err := js.CreateOrUpdateConsumer(ctx, ReplayStream, rc)
	if err != nil {
		return nil, fmt.Errorf("consume %s/%s: create replay consumer: %w", cfg.Stream, cfg.Durable, err)
	}
	// A small prefetch: messages sitting in the client buffer are already delivered,
	// so their AckWait runs and on Stop they must be handed back.
	prefetch := 2 * cfg.Concurrency
	if bh != nil {
		prefetch = 2 * cfg.Concurrency * cfg.BatchSize
	}
	iter, err := cons.Messages(jetstream.PullMaxMessages(prefetch))
	if err != nil {
		return nil, fmt.Errorf("consume %s/%s: start fetching: %w", cfg.Stream, cfg.Durable, err)
	}
	replays, err := replayCons.Messages(jetstream.PullMaxMessages(1))
	if err != nil {
		iter.Stop()
		return nil, fmt.Errorf("consume %s/%s: start fetching replays: %w", cfg.Stream, cfg.Durable, err)
	}
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	log := cfg.Logger.With("stream", cfg.Stream, "durable", cfg.Durable)
	c := &Consumer{
		cfg:        cfg,
		js:         js,
		h:          h,
		bh:         bh,
		iter:       iter,
		replays:    replays,
		log:        log,
		metrics:    newConsumerMetrics(cfg.MeterProvider, cfg.Stream, cfg.Durable, log),
		work:       work,
		cancelWork: cancelWork,
		stopping:   make(chan struct{}),
		done:       make(chan struct{}),
		history:    make(map[delivery]*history),
	}
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		if bh != nil {
			wg.Go(func() { c.runBatch(c.iter) })
		} else {
			wg.Go(func() { c.run(c.iter) })
		}
	}
	// Replays are rare operator actions: one worker, beside the others, so a
	// replay is not stuck behind a backlog (order is lost for it anyway).
	wg.Go(func() { c.run(c.replays) })
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
		// Drain rather than Stop the iterators: buffered messages still come out of
		// Next, and run Naks them so another replica gets them now, not after AckWait.
		c.iter.Drain()
		c.replays.Drain()
	})
}

// run is one worker: it takes messages until the iterator closes.
func (c *Consumer) run(iter jetstream.MessagesContext) {
	for {
		m, err := iter.Next(jetstream.NextContext(c.work))
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
		if c.isStopping() {
			c.handBack(m)
			continue
		}
		c.inFlight.Add(1)
		c.process(m)
		c.inFlight.Add(-1)
	}
}

func (c *Consumer) isStopping() bool {
	select {
	case <-c.stopping:
		return true
	default:
		return false
	}
}

// handBack returns a message that will not be run here to the server at once.
func (c *Consumer) handBack(m jetstream.Msg) {
	if meta, err := m.Metadata(); err == nil {
		c.update(delivery{meta.Stream, meta.Sequence.Stream}, func(h *history) { h.outcomes++ })
	}
	if err := m.Nak(); err != nil {
		c.log.Warn("hand back message on stop", "error", err, "subject", m.Subject())
	}
}

// known returns a copy of what this process knows about a delivered message.
func (c *Consumer) known(d delivery) history {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.history[d]; h != nil {
		return *h
	}
	return history{}
}

// update changes a message's history, creating it (and evicting another entry if
// the map is full) when needed.
func (c *Consumer) update(d delivery, fn func(*history)) history {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.history[d]
	if h == nil {
		if len(c.history) >= maxHistory {
			for k := range c.history {
				delete(c.history, k)
				break
			}
		}
		h = &history{}
		c.history[d] = h
	}
	fn(h)
	return *h
}

// forget drops a settled message's history.
func (c *Consumer) forget(d delivery) {
	c.mu.Lock()
	delete(c.history, d)
	c.mu.Unlock()
}

// recentTransient reports whether a handler failed transiently lately: then
// deliveries this process did not see are more likely other replicas' transient
// failures than crashes.
func (c *Consumer) recentTransient() bool {
	last := c.lastTransient.Load()
	return last != 0 && time.Since(time.Unix(0, last)) < 2*c.cfg.MaxTransientBackoff
}

// pause holds back new handler calls for d, unless a longer pause is already on.
func (c *Consumer) pause(d time.Duration) {
	until := time.Now().Add(d).UnixNano()
	for {
		cur := c.pausedUntil.Load()
		if cur >= until || c.pausedUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// waitPause waits out a consumer-wide pause before a handler call. It reports
// false if the consumer began stopping meanwhile.
func (c *Consumer) waitPause() bool {
	for {
		wait := time.Until(time.Unix(0, c.pausedUntil.Load()))
		if wait <= 0 {
			return true
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.stopping:
			t.Stop()
			return false
		}
	}
}

// process runs the handler on one message and settles it: ack, retry or dead-letter.
func (c *Consumer) process(m jetstream.Msg) {
	p := c.prepare(m)
	if p == nil {
		return
	}
	defer p.span.End()
	stopKeepAlive := c.keepAlive(m)
	if !c.waitPause() {
		stopKeepAlive()
		c.handBack(m)
		return
	}
	hctx, cancel := context.WithTimeout(p.ctx, c.cfg.HandlerTimeout)
	err := c.callWatched(hctx, p.msg.Subject, p.msg.EventID, func(ctx context.Context) error { return c.call(ctx, p.msg) })
	cancel()
	stopKeepAlive()
	c.settle(p, err, false)
}

// prepared is a delivery ready for its handler: the message, where it was
// delivered from, and the span and context its handling runs in.
type prepared struct {
	m    jetstream.Msg
	msg  *Message
	d    delivery
	ctx  context.Context
	span trace.Span
}

// prepare reads a delivery's metadata and headers and starts its span. It
// returns nil when the delivery was settled without running the handler: not
// a JetStream message, a dead letter to retry, or a crash-looping message
// parked unrun.
func (c *Consumer) prepare(m jetstream.Msg) *prepared {
	meta, err := m.Metadata()
	if err != nil {
		// Not a JetStream delivery; nothing to settle.
		c.log.Error("message without JetStream metadata", "error", err, "subject", m.Subject())
		return nil
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
	if meta.Stream == ReplayStream {
		// Handlers route by subject and log the original location, as on the
		// first delivery.
		msg.Replay = true
		if s := hdr.Get(HeaderReplaySubject); s != "" {
			msg.Subject = s
		}
		// A hand-published replay without the headers still dead-letters under
		// this consumer's stream, never on an empty subject token.
		msg.Stream = cmp.Or(hdr.Get(HeaderReplayStream), c.cfg.Stream)
		msg.StreamSeq, _ = strconv.ParseUint(hdr.Get(HeaderReplayStreamSeq), 10, 64)
	}
	d := delivery{meta.Stream, meta.Sequence.Stream}

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
			attribute.Bool("trueup.replay", msg.Replay),
		))

	known := c.known(d)
	if known.parkCause != nil {
		// Dead-lettering failed last time: retry that, not the handler.
		c.deadLetter(ctx, m, msg, d, known.parkCause)
		span.End()
		return nil
	}
	// Far more deliveries than this process saw end means earlier attempts never
	// reported an outcome: the process handling it died (a crash, an OOM kill).
	// Park the message instead of running it again, so it cannot crash-loop every
	// replica. The slack (twice MaxDeliver) leaves room for deliveries other
	// replicas retried or handed back on Stop; while handlers fail transiently
	// (other replicas are likely riding out the same outage) it does not apply.
	if unexplained := msg.NumDelivered - min(known.outcomes, msg.NumDelivered); unexplained > 2*uint64(c.cfg.MaxDeliver) && !c.recentTransient() {
		err := fmt.Errorf("delivered %d times without an outcome: the process handling it may have crashed", msg.NumDelivered)
		c.log.ErrorContext(ctx, "event redelivered past max_deliver, dead-lettering without running it",
			"subject", msg.Subject, "event_id", msg.EventID, "attempt", msg.NumDelivered,
			"unexplained", unexplained, "max_deliver", c.cfg.MaxDeliver)
		span.SetStatus(codes.Error, err.Error())
		c.deadLetter(ctx, m, msg, d, err)
		span.End()
		return nil
	}
	msg.span = span.SpanContext()
	return &prepared{m: m, msg: msg, d: d, ctx: ctx, span: span}
}

// settle records a handler's outcome for one delivery: ack on success (waiting
// for the server's confirmation unless asyncAck), otherwise a retry after the
// right backoff or a dead letter.
func (c *Consumer) settle(p *prepared, err error, asyncAck bool) {
	m, msg, d, ctx, span := p.m, p.msg, p.d, p.ctx, p.span
	if err == nil {
		c.pausedUntil.Store(0) // a success: whatever was down is back
		c.forget(d)
		c.metrics.processed.Add(ctx, 1, c.metrics.attrs)
		var ackErr error
		if asyncAck {
			ackErr = m.Ack()
		} else {
			// DoubleAck waits for the server to confirm, which narrows (not closes) the
			// window for a redelivery; the handler's inbox makes one harmless anyway.
			ackErr = m.DoubleAck(ctx)
		}
		if ackErr != nil {
			c.log.WarnContext(ctx, "ack message", "error", ackErr, "subject", msg.Subject, "event_id", msg.EventID)
		}
		return
	}
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
	permanent := errors.Is(err, ErrPermanent)
	if !permanent && IsTransient(err) {
		h := c.update(d, func(h *history) { h.transient++; h.outcomes++ })
		delay := c.cfg.transientBackoff(h.transient)
		c.lastTransient.Store(time.Now().UnixNano())
		c.pause(delay)
		c.metrics.fail(ctx, "transient")
		c.log.WarnContext(ctx, "event handler failed transiently, will retry without limit",
			"error", err, "subject", msg.Subject, "event_id", msg.EventID, "type", msg.Type,
			"attempt", msg.NumDelivered, "transient_failures", h.transient, "retry_in", delay)
		if nakErr := m.NakWithDelay(delay); nakErr != nil {
			c.log.WarnContext(ctx, "nak message", "error", nakErr, "subject", msg.Subject, "event_id", msg.EventID)
		}
		return
	}
	h := c.update(d, func(h *history) { h.logic++; h.transient = 0; h.outcomes++ })
	if permanent {
		c.metrics.fail(ctx, "permanent")
	} else {
		c.metrics.fail(ctx, "logic")
	}
	if permanent || h.logic >= c.cfg.MaxDeliver {
		c.log.ErrorContext(ctx, "event handler failed, dead-lettering",
			"error", err, "subject", msg.Subject, "event_id", msg.EventID, "type", msg.Type,
			"attempt", msg.NumDelivered, "failures", h.logic, "max_deliver", c.cfg.MaxDeliver, "permanent", permanent)
		c.deadLetter(ctx, m, msg, d, err)
		return
	}
	delay := c.cfg.backoff(uint64(h.logic))
	c.log.WarnContext(ctx, "event handler failed, will retry",
		"error", err, "subject", msg.Subject, "event_id", msg.EventID, "type", msg.Type,
		"attempt", msg.NumDelivered, "failures", h.logic, "max_deliver", c.cfg.MaxDeliver, "retry_in", delay)
	if nakErr := m.NakWithDelay(delay); nakErr != nil {
		c.log.WarnContext(ctx, "nak message", "error", nakErr, "subject", msg.Subject, "event_id", msg.EventID)
	}
}

// callWatched runs the handler and, if it is still running a grace period after
// its context's deadline (it ignores its context), says so in the log and in
// MetricStuckHandlers until it returns: it cannot be stopped, and with Concurrency
// 1 it holds the whole consumer.
func (c *Consumer) callWatched(ctx context.Context, subject, eventID string, fn func(context.Context) error) error {
	var (
		mu       sync.Mutex
		returned bool
		stuck    bool
	)
	start := time.Now()
	grace := min(c.cfg.HandlerTimeout, time.Second)
	watchdog := time.AfterFunc(c.cfg.HandlerTimeout+grace, func() {
		mu.Lock()
		defer mu.Unlock()
		if returned {
			return
		}
		stuck = true
		c.metrics.stuck.Add(ctx, 1, c.metrics.attrs)
		c.log.ErrorContext(ctx, fmt.Sprintf("handler did not return %s after its deadline", grace),
			"subject", subject, "event_id", eventID, "handler_timeout", c.cfg.HandlerTimeout)
	})
	err := fn(ctx)
	watchdog.Stop()
	mu.Lock()
	returned = true
	wasStuck := stuck
	mu.Unlock()
	if wasStuck {
		c.metrics.stuck.Add(ctx, -1, c.metrics.attrs)
		c.log.WarnContext(ctx, "stuck handler returned", "subject", subject, "event_id", eventID,
			"ran_for", time.Since(start), "handler_timeout", c.cfg.HandlerTimeout, "error", err)
	}
	return err
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
//
// The copy goes to DeadLetterSubject(original stream, durable) with Nats-Msg-Id
// "dlq.<delivering stream>.<durable>.<delivering seq>": dots cannot occur in stream
// or durable names, so no two consumers' ids collide, while a second dead-lettering
// of the same delivery (after a lost Term) is dropped by JetStream's duplicate
// window. A duplicate ack is trusted only after the stored copy is checked to be
// this message; anything else is an id collision, and terminating would lose it.
func (c *Consumer) deadLetter(ctx context.Context, m jetstream.Msg, msg *Message, d delivery, cause error) {
	dm := nats.NewMsg(DeadLetterSubject(msg.Stream, c.cfg.Durable))
	dm.Data = msg.Data
	for k, v := range msg.Headers {
		if isNATSHeader(k) || hasPrefixFold(k, replayHeaderPrefix) {
			continue
		}
		dm.Header[k] = append([]string(nil), v...)
	}
	seq := strconv.FormatUint(msg.StreamSeq, 10)
	dm.Header.Set(nats.MsgIdHdr, DLQSubjectPrefix+d.stream+"."+c.cfg.Durable+"."+strconv.FormatUint(d.seq, 10))
	dm.Header.Set(HeaderDLQError, cause.Error())
	dm.Header.Set(HeaderDLQSubject, msg.Subject)
	dm.Header.Set(HeaderDLQStream, msg.Stream)
	dm.Header.Set(HeaderDLQStreamSeq, seq)
	dm.Header.Set(HeaderDLQDurable, c.cfg.Durable)
	dm.Header.Set(HeaderDLQDelivered, strconv.FormatUint(msg.NumDelivered, 10))
	dm.Header.Set(HeaderDLQAt, time.Now().UTC().Format(time.RFC3339Nano))

	retry := func(reason string, err error) {
		c.update(d, func(h *history) { h.parkCause = cause; h.outcomes++ })
		delay := c.cfg.Backoff[len(c.cfg.Backoff)-1]
		c.log.ErrorContext(ctx, reason+", will retry", "error", err,
			"subject", msg.Subject, "event_id", msg.EventID, "retry_in", delay)
		if nakErr := m.NakWithDelay(delay); nakErr != nil {
			c.log.WarnContext(ctx, "nak message", "error", nakErr, "subject", msg.Subject, "event_id", msg.EventID)
		}
	}
	ack, err := c.js.PublishMsg(ctx, dm)
	if err != nil {
		retry("dead-letter message", err)
		return
	}
	if ack.Duplicate {
		if err := c.sameDeadLetter(ctx, ack.Sequence, dm); err != nil {
			retry("dead-letter message: JetStream reports a duplicate that is not this message", err)
			return
		}
		c.log.InfoContext(ctx, "message was already dead-lettered", "subject", msg.Subject,
			"event_id", msg.EventID, "dlq_seq", ack.Sequence)
	} else {
		c.metrics.deadLettered.Add(ctx, 1, c.metrics.attrs)
	}
	c.forget(d)
	if err := m.TermWithReason("dead-lettered"); err != nil {
		c.log.WarnContext(ctx, "terminate dead-lettered message", "error", err,
			"subject", msg.Subject, "event_id", msg.EventID)
	}
}

// sameDeadLetter checks that DLQ message seq, which JetStream reported as a
// duplicate of dm, is a copy of the same event from the same place for the same
// durable.
func (c *Consumer) sameDeadLetter(ctx context.Context, seq uint64, dm *nats.Msg) error {
	st, err := c.js.Stream(ctx, DLQStream)
	if err != nil {
		return fmt.Errorf("look up dead-letter stream: %w", err)
	}
	stored, err := st.GetMsg(ctx, seq)
	if err != nil {
		return fmt.Errorf("read stored dead letter %d: %w", seq, err)
	}
	if stored.Subject != dm.Subject {
		return fmt.Errorf("stored dead letter %d is on %s, not %s", seq, stored.Subject, dm.Subject)
	}
	for _, k := range []string{HeaderEventID, HeaderDLQStream, HeaderDLQStreamSeq} {
		if got, want := stored.Header.Get(k), dm.Header.Get(k); got != want {
			return fmt.Errorf("stored dead letter %d has %s %q, not %q", seq, k, got, want)
		}
	}
	return nil
}

// isNATSHeader reports protocol headers ("Nats-Msg-Id", "Nats-Expected-Stream", ...)
// that must not be carried over when a message is copied to another subject.
func isNATSHeader(k string) bool {
	return hasPrefixFold(k, "Nats-")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
