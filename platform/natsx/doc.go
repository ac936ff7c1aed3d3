// Package natsx is Trueup's NATS JetStream plumbing: an embedded server for `make run`
// and tests, connections that survive broker restarts, streams with our defaults, a
// Publisher for the outbox relay, and a durable pull-consumer runner with retries, a
// dead-letter stream, replays and trace propagation.
//
// Tracing: every event carries the W3C trace context of the span that wrote it (the
// outbox puts "traceparent" in its headers). The publisher and the consumer both make
// their spans children of that context and never rewrite it, so a consumer's "process"
// span is a direct child of the request handler's span that produced the event.
//
// Retries: a handler error is either transient (IsTransient: a dependency down, a
// lost connection, a busy database, the handler's deadline, or an error marked with
// Transient) or a failure of the message. Transient ones are retried without limit,
// with a backoff doubling up to ConsumerConfig.MaxTransientBackoff, and pause the
// whole consumer for that backoff, so an outage of any length produces no dead
// letter and does not spin. Only the others count towards MaxDeliver; Permanent ones
// dead-letter at once. JetStream counts every delivery, so the consumer keeps its
// own per-message count of failures (in memory, bounded); a message delivered far
// more often than this process saw it fail was probably crashing its handler's
// process, and is parked without being run.
//
// Dead letters go to the DLQ stream on DeadLetterSubject(stream, durable), kept for
// DLQMaxAge (a day less than the inbox retention). A replay
// (ReplayDeadLetters, `trueup dlq replay`) does not republish to the event's
// subject, which every consumer of the stream would see again: it publishes to
// ReplaySubject(stream, durable) on the REPLAY stream, where only the durable that
// gave up has a consumer (Consume creates it beside the main one), and that consumer
// hands the event to the same handler with its original subject, stream and
// sequence, and Message.Replay set. Dead letters older than ReplayMaxAge are
// replayed only when forced: the consumers' inboxes may have forgotten them.
package natsx
