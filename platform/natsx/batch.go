package natsx

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// BatchHandler processes several messages at once, typically in one database
// transaction (inbox.ProcessBatch), and returns one result per message, in
// order: nil acknowledges that message, an error is settled exactly as a
// Handler's error for it (retried, transient or not, or dead-lettered). A
// result slice of the wrong length fails every message of the batch.
//
// Order per aggregate is not guaranteed across batches, retries and replicas:
// a batch handler's effects must be commutative or version-gated, like a
// Handler's. A message that fails is retried alone or in a later batch, after
// messages that followed it were applied.
type BatchHandler func(ctx context.Context, msgs []*Message) []error

// Batch defaults.
const (
	// DefaultBatchSize is the most messages handed to one BatchHandler call.
	DefaultBatchSize = 100
	// DefaultBatchLinger is how long a worker waits for more messages once it
	// has one, before handling what it has: the latency a trickle pays so that
	// a burst shares one commit.
	DefaultBatchLinger = 2 * time.Millisecond
)

// ConsumeBatch is Consume with a BatchHandler: each worker takes the messages
// that are ready (up to cfg.BatchSize, waiting at most cfg.BatchLinger for more
// once it has one), hands them to h in one call, and settles each by its
// result. Successes are acknowledged without waiting for the server's
// confirmation — the handler's inbox makes a lost ack harmless — so a batch
// costs one handler call and one round of acks, not a round trip per message.
// Replays of dead letters (one at a time) go to h as batches of one.
func ConsumeBatch(ctx context.Context, js jetstream.JetStream, cfg ConsumerConfig, h BatchHandler) (*Consumer, error) {
	if h == nil {
		return nil, errors.New("consume batch: nil handler")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.BatchLinger <= 0 {
		cfg.BatchLinger = DefaultBatchLinger
	}
	one := func(ctx context.Context, msg *Message) error {
		results := h(ctx, []*Message{msg})
		if len(results) != 1 {
			return fmt.Errorf("batch handler returned %d results for 1 message", len(results))
		}
		return results[0]
	}
	return consume(ctx, js, cfg, one, h)
}

// runBatch is one batch worker: it gathers ready messages and handles them
// together until the iterator closes.
func (c *Consumer) runBatch(iter jetstream.MessagesContext) {
	buf := make([]jetstream.Msg, 0, c.cfg.BatchSize)
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
		buf = append(buf[:0], m)
		linger, cancel := context.WithTimeout(c.work, c.cfg.BatchLinger)
		for len(buf) < c.cfg.BatchSize {
			more, err := iter.Next(jetstream.NextContext(linger))
			if err != nil {
				break // nothing more ready (or closing: the next Next says so)
			}
			buf = append(buf, more)
		}
		cancel()
		if c.isStopping() {
			for _, m := range buf {
				c.handBack(m)
			}
			continue
		}
		c.inFlight.Add(int64(len(buf)))
		c.processBatch(buf)
		c.inFlight.Add(-int64(len(buf)))
	}
}

// processBatch runs the batch handler over the messages that need it and
// settles each by its result.
func (c *Consumer) processBatch(ms []jetstream.Msg) {
	batch := make([]*prepared, 0, len(ms))
	for _, m := range ms {
		if p := c.prepare(m); p != nil {
			batch = append(batch, p)
		}
	}
	if len(batch) == 0 {
		return
	}
	defer func() {
		for _, p := range batch {
			p.span.End()
		}
	}()
	stopKeepAlive := c.keepAliveAll(batch)
	if !c.waitPause() {
		stopKeepAlive()
		for _, p := range batch {
			c.handBack(p.m)
		}
		return
	}
	msgs := make([]*Message, len(batch))
	for i, p := range batch {
		msgs[i] = p.msg
	}
	hctx, cancel := context.WithTimeout(c.work, c.cfg.HandlerTimeout)
	var results []error
	err := c.callWatched(hctx, fmt.Sprintf("%d messages from %s", len(msgs), msgs[0].Subject), msgs[0].EventID,
		func(ctx context.Context) error {
			results = c.callBatch(ctx, msgs)
			return nil
		})
	cancel()
	stopKeepAlive()
	if err == nil && len(results) != len(msgs) {
		err = fmt.Errorf("batch handler returned %d results for %d messages", len(results), len(msgs))
	}
	for i, p := range batch {
		r := err
		if r == nil {
			r = results[i]
		}
		c.settle(p, r, true)
	}
}

// callBatch runs the batch handler, turning a panic into an error for every
// message, like call does for one.
func (c *Consumer) callBatch(ctx context.Context, msgs []*Message) (results []error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.ErrorContext(ctx, "batch handler panicked", "panic", r, "messages", len(msgs),
				"first_event_id", msgs[0].EventID, "stack", string(debug.Stack()))
			err := fmt.Errorf("batch handler panicked: %v", r)
			results = make([]error, len(msgs))
			for i := range results {
				results[i] = err
			}
		}
	}()
	return c.bh(ctx, msgs)
}

// keepAliveAll is keepAlive for a batch: one ticker extends every message's
// ack wait while the batch handler runs.
func (c *Consumer) keepAliveAll(batch []*prepared) (stop func()) {
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(max(c.cfg.AckWait/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-t.C:
				for _, p := range batch {
					if err := p.m.InProgress(); err != nil {
						c.log.Warn("extend ack wait", "error", err, "subject", p.m.Subject())
					}
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
