// Package outboxtest holds stand-ins for the broker behind an outbox, for
// tests: Discard for a test that only adds rows (its relay never runs), and
// Recorder for a test of what the relay publishes, including a broker that is
// down or refuses some messages.
package outboxtest

import (
	"context"
	"sync"

	"trueup.dev/platform/outbox"
)

// Discard is an outbox.Publisher that acknowledges every message and keeps
// none. A store's tests build their outbox on it: they read the rows the
// store added, and a relay is never started.
type Discard struct{}

// Publish acknowledges every message.
func (Discard) Publish(_ context.Context, msgs []outbox.Message) ([]error, error) {
	return make([]error, len(msgs)), nil
}

// Recorder is an in-memory outbox.Publisher that remembers, in order, every
// message it acknowledged. The zero value acknowledges everything; its hooks
// make it a broker that fails. It is safe for concurrent use, since a relay
// publishes from its own goroutine while the test reads.
type Recorder struct {
	// Down, when set, is asked first on every call (counted from 1) and, by
	// returning an error, fails the whole call: the broker unreachable.
	Down func(call int) error
	// Refuse, when set, is asked for each message m at index i of a call and,
	// by returning an error, refuses it: that message is not recorded and the
	// outbox sees its error, while the rest of the batch goes through.
	Refuse func(call, i int, m outbox.Message) error

	mu    sync.Mutex
	calls int
	msgs  []outbox.Message
}

// Publish records msgs, minus those Refuse refuses, unless Down fails the call.
func (r *Recorder) Publish(_ context.Context, msgs []outbox.Message) ([]error, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.Down != nil {
		if err := r.Down(r.calls); err != nil {
			return nil, err
		}
	}
	results := make([]error, len(msgs))
	for i, m := range msgs {
		if r.Refuse != nil {
			results[i] = r.Refuse(r.calls, i, m)
		}
		if results[i] == nil {
			r.msgs = append(r.msgs, m)
		}
	}
	return results, nil
}

// Published returns a copy of the messages acknowledged so far, in the order
// they were published.
func (r *Recorder) Published() []outbox.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]outbox.Message(nil), r.msgs...)
}

// Has reports whether a message with this id has been acknowledged.
func (r *Recorder) Has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if m.ID == id {
			return true
		}
	}
	return false
}
