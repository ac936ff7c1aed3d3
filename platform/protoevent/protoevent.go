// Package protoevent names, encodes and decodes Trueup's protobuf events, so every
// service puts them on the bus the same way:
//
//   - the subject is the message's full name without the leading "trueup."
//     ("trueup.inventory.v1.ItemCreated" travels on "inventory.v1.ItemCreated");
//   - each bounded context owns one stream, named after it in upper case
//     ("INVENTORY", subjects "inventory.>");
//   - the payload is the binary protobuf encoding, and the type header carries the
//     full name so a consumer can refuse what it does not understand.
package protoevent

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
)

const prefix = "trueup."

// Subject returns the NATS subject an event of m's type travels on.
func Subject(m proto.Message) string {
	return SubjectOf(string(m.ProtoReflect().Descriptor().FullName()))
}

// SubjectOf returns the subject for a full protobuf message name.
func SubjectOf(fullName string) string { return strings.TrimPrefix(fullName, prefix) }

// StreamName returns the JetStream stream owned by a bounded context ("inventory" -> "INVENTORY").
func StreamName(context string) string { return strings.ToUpper(context) }

// StreamSubjects returns the subjects a bounded context's stream captures.
func StreamSubjects(context string) []string { return []string{context + ".>"} }

// NewID returns a new event id: a UUIDv7, so ids sort by creation time.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// Message encodes event as an outbox message with the given id and time.
func Message(id string, event proto.Message, occurredAt time.Time) (outbox.Message, error) {
	payload, err := proto.MarshalOptions{Deterministic: true}.Marshal(event)
	if err != nil {
		return outbox.Message{}, fmt.Errorf("encode %s: %w", event.ProtoReflect().Descriptor().FullName(), err)
	}
	return outbox.Message{
		ID:         id,
		Subject:    Subject(event),
		Type:       string(event.ProtoReflect().Descriptor().FullName()),
		Payload:    payload,
		OccurredAt: occurredAt.UTC(),
	}, nil
}

// Decode unmarshals a delivered message into into, after checking that its type
// header names into's type. A mismatch or a malformed payload is permanent: no
// redelivery will fix it, so the message goes to the dead-letter stream at once.
func Decode(msg *natsx.Message, into proto.Message) error {
	want := string(into.ProtoReflect().Descriptor().FullName())
	if msg.Type != "" && msg.Type != want {
		return natsx.Permanent(fmt.Errorf("event %s: type %q, want %q", msg.EventID, msg.Type, want))
	}
	if err := proto.Unmarshal(msg.Data, into); err != nil {
		return natsx.Permanent(fmt.Errorf("event %s: decode %s: %w", msg.EventID, want, err))
	}
	return nil
}
