package natsx

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"trueup.dev/platform/outbox"
)

// startBatchConsumer is startConsumer for ConsumeBatch.
func startBatchConsumer(t *testing.T, js jetstream.JetStream, cfg ConsumerConfig, h BatchHandler) *Consumer {
	t.Helper()
	if cfg.Stream == "" {
		cfg.Stream = testStream
	}
	if cfg.Durable == "" {
		cfg.Durable = "batcher"
	}
	if cfg.Backoff == nil {
		cfg.Backoff = []time.Duration{10 * time.Millisecond}
	}
	c, err := ConsumeBatch(testCtx(t), js, cfg, h)
	if err != nil {
		t.Fatalf("consume batch: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("stop consumer: %v", err)
		}
	})
	return c
}

func events(n int) []outbox.Message {
	msgs := make([]outbox.Message, n)
	for i := range msgs {
		msgs[i] = event(fmt.Sprintf("evt-%03d", i), fmt.Sprint(i))
	}
	return msgs
}

// batchLog records what a batch handler saw.
type batchLog struct {
	mu      sync.Mutex
	sizes   []int
	applied map[string]int
}

func (l *batchLog) record(msgs []*Message, results []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sizes = append(l.sizes, len(msgs))
	for i, m := range msgs {
		if results[i] == nil {
			l.applied[m.EventID]++
		}
	}
}

func (l *batchLog) snapshot() (sizes []int, applied map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	applied = make(map[string]int, len(l.applied))
	for k, v := range l.applied {
		applied[k] = v
	}
	return append([]int(nil), l.sizes...), applied
}

// A backlog is handed to the handler many messages at a time, and every
// message is applied once.
func TestBatchConsumerHandsABacklogOverInBatches(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	const n = 250
	publish(t, js, events(n)...)
	log := &batchLog{applied: map[string]int{}}
	startBatchConsumer(t, js, ConsumerConfig{BatchSize: 100}, func(_ context.Context, msgs []*Message) []error {
		results := make([]error, len(msgs))
		log.record(msgs, results)
		return results
	})
	eventually(t, "every message acknowledged", func() bool {
		return consumerInfo(t, js, "batcher").AckFloor.Stream == n
	})
	sizes, applied := log.snapshot()
	if len(applied) != n {
		t.Errorf("%d distinct messages applied, want %d", len(applied), n)
	}
	for id, k := range applied {
		if k != 1 {
			t.Errorf("%s applied %d times", id, k)
		}
	}
	largest := 0
	for _, s := range sizes {
		largest = max(largest, s)
		if s > 100 {
			t.Errorf("a batch of %d exceeds BatchSize 100", s)
		}
	}
	if largest < 10 {
		t.Errorf("largest batch %d (sizes %v): a backlog should be handled many at a time", largest, sizes)
	}
}

// A message that fails inside a batch is settled on its own: the others are
// acknowledged, it is retried, and after MaxDeliver logic failures it is
// dead-lettered; a transient failure in a batch is retried without counting.
func TestBatchConsumerSettlesEachMessageByItsResult(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	const n = 30
	publish(t, js, events(n)...)
	log := &batchLog{applied: map[string]int{}}
	var mu sync.Mutex
	transientLeft := 5
	startBatchConsumer(t, js, ConsumerConfig{BatchSize: 10, MaxDeliver: 3, TransientBackoff: time.Millisecond, MaxTransientBackoff: 5 * time.Millisecond},
		func(_ context.Context, msgs []*Message) []error {
			results := make([]error, len(msgs))
			mu.Lock()
			for i, m := range msgs {
				switch m.EventID {
				case "evt-007":
					results[i] = errors.New("no ledger account for this item")
				case "evt-013":
					if transientLeft > 0 {
						transientLeft--
						results[i] = Transient(errors.New("inventory restarting"))
					}
				}
			}
			mu.Unlock()
			log.record(msgs, results)
			return results
		})
	eventually(t, "the poison message dead-lettered", func() bool { return len(deadLetters(t, js, "batcher")) == 1 })
	eventually(t, "every other message applied", func() bool {
		_, applied := log.snapshot()
		return len(applied) == n-1
	})
	_, applied := log.snapshot()
	for id, k := range applied {
		if k != 1 {
			t.Errorf("%s applied %d times", id, k)
		}
	}
	if applied["evt-007"] != 0 {
		t.Error("the poison message was applied")
	}
	if applied["evt-013"] != 1 {
		t.Error("the message that failed transiently was not applied once it could be")
	}
	dl := deadLetters(t, js, "batcher")[0]
	if dl.EventID != "evt-007" || dl.Error != "no ledger account for this item" {
		t.Errorf("dead letter %+v, want evt-007 with its error", dl)
	}
}

// A batch handler that returns the wrong number of results, or panics, fails
// the whole batch: nothing is acknowledged that was not handled.
func TestBatchConsumerRetriesABatchWhoseResultsDoNotMatch(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	publish(t, js, events(5)...)
	var mu sync.Mutex
	calls := 0
	log := &batchLog{applied: map[string]int{}}
	startBatchConsumer(t, js, ConsumerConfig{BatchSize: 10, MaxDeliver: 5}, func(_ context.Context, msgs []*Message) []error {
		mu.Lock()
		calls++
		c := calls
		mu.Unlock()
		switch c {
		case 1:
			return nil // wrong length
		case 2:
			panic("handler bug")
		}
		results := make([]error, len(msgs))
		log.record(msgs, results)
		return results
	})
	eventually(t, "all five applied", func() bool {
		_, applied := log.snapshot()
		return len(applied) == 5
	})
	if dls := deadLetters(t, js, "batcher"); len(dls) != 0 {
		t.Errorf("dead letters %+v, want none", dls)
	}
}
