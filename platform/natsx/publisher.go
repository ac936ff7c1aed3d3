package natsx

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"trueup.dev/platform/outbox"
)

// messagingSystem is the semconv value of messaging.system for NATS (not in the
// semconv enum, which lists only brokers with their own conventions).
var messagingSystem = semconv.MessagingSystemKey.String("nats")

// Publisher publishes outbox messages to JetStream. It implements outbox.Publisher.
type Publisher struct {
	js jetstream.JetStream
}

var _ outbox.Publisher = (*Publisher)(nil)

// NewPublisher returns a Publisher over js. The streams holding the subjects must
// exist (EnsureStream); a subject no stream captures fails that message's slot.
func NewPublisher(js jetstream.JetStream) *Publisher {
	return &Publisher{js: js}
}

// DefaultPublishTimeout bounds the wait for acknowledgements when Publish's ctx has
// no deadline.
const DefaultPublishTimeout = 30 * time.Second

// Publish sends the batch asynchronously and waits for every acknowledgement. The
// result has one slot per message: nil means JetStream persisted it (a duplicate
// inside the de-duplication window counts: it was persisted earlier). The error
// return is non-nil only when nothing was attempted because ctx was already done.
//
// Once sent, acknowledgements are awaited until ctx's deadline (or
// DefaultPublishTimeout if it has none) even if ctx is cancelled: a shutdown
// cancelling the relay must not abandon acks that are about to arrive, which would
// leave persisted events marked unsent and publish them again on the next start.
//
// Each message gets a producer span whose parent is the trace context in its
// headers, i.e. the span that wrote the event. The traceparent header itself is sent
// unchanged, so the consumer's span is a sibling of this one, both children of the
// writer's span; rewriting it would push the consumer under the relay's publish.
func (p *Publisher) Publish(ctx context.Context, msgs []outbox.Message) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("publish %d events: %w", len(msgs), err)
	}
	wait, cancel := ackContext(ctx)
	defer cancel()
	tracer := otel.Tracer(tracerName)
	errs := make([]error, len(msgs))
	futures := make([]jetstream.PubAckFuture, len(msgs))
	spans := make([]trace.Span, len(msgs))
	for i, m := range msgs {
		nm := eventMsg(m)
		parent := otel.GetTextMapPropagator().Extract(ctx, headerCarrier(nm.Header))
		_, spans[i] = tracer.Start(parent, m.Subject+" publish",
			trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(
				messagingSystem,
				semconv.MessagingOperationTypeSend,
				semconv.MessagingOperationName("publish"),
				semconv.MessagingDestinationName(m.Subject),
				semconv.MessagingMessageID(m.ID),
				semconv.MessagingMessageBodySize(len(m.Payload)),
			))
		fut, err := p.js.PublishMsgAsync(nm)
		if err != nil {
			errs[i] = fmt.Errorf("publish event %s to %s: %w", m.ID, m.Subject, err)
			endSpan(spans[i], errs[i])
			continue
		}
		futures[i] = fut
	}
	for i, fut := range futures {
		if fut == nil {
			continue
		}
		select {
		case ack := <-fut.Ok():
			spans[i].SetAttributes(
				attribute.String("messaging.nats.stream", ack.Stream),
				attribute.Int64("messaging.nats.stream_sequence", int64(ack.Sequence)),
				attribute.Bool("messaging.nats.duplicate", ack.Duplicate),
			)
		case err := <-fut.Err():
			errs[i] = fmt.Errorf("publish event %s to %s: %w", msgs[i].ID, msgs[i].Subject, err)
		case <-wait.Done():
			errs[i] = fmt.Errorf("publish event %s to %s: waiting for ack: %w", msgs[i].ID, msgs[i].Subject, wait.Err())
		}
		endSpan(spans[i], errs[i])
	}
	return errs, nil
}

// ackContext is ctx without its cancellation but with its deadline, or
// DefaultPublishTimeout from now if it has none.
func ackContext(ctx context.Context) (context.Context, context.CancelFunc) {
	wait := context.WithoutCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(wait, deadline)
	}
	return context.WithTimeout(wait, DefaultPublishTimeout)
}

// eventMsg builds the NATS message for an outbox message. The outbox's own headers
// (trace context) are copied verbatim first, so the event headers below win if a
// caller ever put one of them there by mistake.
func eventMsg(m outbox.Message) *nats.Msg {
	nm := nats.NewMsg(m.Subject)
	nm.Data = m.Payload
	for k, v := range m.Headers {
		nm.Header[k] = []string{v}
	}
	nm.Header.Set(nats.MsgIdHdr, m.ID)
	nm.Header.Set(HeaderEventID, m.ID)
	nm.Header.Set(HeaderEventType, m.Type)
	if !m.OccurredAt.IsZero() {
		nm.Header.Set(HeaderOccurredAt, m.OccurredAt.UTC().Format(time.RFC3339Nano))
	}
	nm.Header.Set(HeaderContentType, ContentTypeProtobuf)
	return nm
}

// endSpan records err (if any) on span and ends it.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
