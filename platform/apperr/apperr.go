// Package apperr is the vocabulary of failures that domain and application code
// return. It knows nothing of gRPC or HTTP: platform/grpcserver holds the one table
// that turns a Kind into a status code, so every service answers the same way.
package apperr

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies a failure by what the caller can do about it.
type Kind int

// The kinds. Keep this list short: each one is a distinct answer to a client.
const (
	// KindInternal is a fault of ours; the client can only retry later.
	KindInternal Kind = iota
	// KindNotFound: the named resource does not exist (or the caller may not see it).
	KindNotFound
	// KindInvalidArgument: the request itself is wrong; Violations say which fields.
	KindInvalidArgument
	// KindFailedPrecondition: the request is valid but the system is not in a state
	// that allows it (not enough stock, period closed); Violations say what is missing.
	KindFailedPrecondition
	// KindAlreadyExists: a create collided with an existing resource.
	KindAlreadyExists
	// KindConflict: a concurrent update won; the same request is safe to retry.
	KindConflict
	// KindUnauthenticated: no or bad credentials.
	KindUnauthenticated
	// KindPermissionDenied: credentials are fine but do not allow this.
	KindPermissionDenied
	// KindResourceExhausted: a rate limit or quota was hit.
	KindResourceExhausted
	// KindUnavailable: a dependency is down; retry with backoff.
	KindUnavailable
)

var kindNames = map[Kind]string{
	KindInternal:           "internal",
	KindNotFound:           "not found",
	KindInvalidArgument:    "invalid argument",
	KindFailedPrecondition: "failed precondition",
	KindAlreadyExists:      "already exists",
	KindConflict:           "conflict",
	KindUnauthenticated:    "unauthenticated",
	KindPermissionDenied:   "permission denied",
	KindResourceExhausted:  "resource exhausted",
	KindUnavailable:        "unavailable",
}

// String names the kind for logs.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Violation names one thing wrong with a request: a field (for InvalidArgument) or
// a subject such as "sku:ABC-1" with a type such as "STOCK" (for FailedPrecondition).
type Violation struct {
	// Field is the request field path in snake_case, e.g. "lines[2].quantity".
	Field string
	// Type is a short machine-readable category, e.g. "INSUFFICIENT_STOCK".
	Type string
	// Subject names the thing the violation is about, e.g. "item/ABC-1".
	Subject string
	// Description is for a human.
	Description string
}

// Error is a classified failure. Reason is a stable, UPPER_SNAKE machine-readable
// code that clients may switch on (e.g. "ITEM_NOT_FOUND").
type Error struct {
	Kind       Kind
	Reason     string
	Message    string
	Violations []Violation
	// Metadata carries extra facts for the client (e.g. "holder": "item/ABC-1").
	Metadata map[string]string
	cause    error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Message + ": " + e.cause.Error()
	}
	return e.Message
}

// Unwrap gives errors.Is and errors.As the cause.
func (e *Error) Unwrap() error { return e.cause }

// Is makes errors.Is(err, apperr.NotFound) style checks work on kinds: an *Error
// matches a target *Error with the same Kind and, if the target has one, the same Reason.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Kind == e.Kind && (t.Reason == "" || t.Reason == e.Reason) && t.Message == ""
}

// Sentinels for errors.Is checks by kind alone.
var (
	ErrNotFound           = &Error{Kind: KindNotFound}
	ErrInvalidArgument    = &Error{Kind: KindInvalidArgument}
	ErrFailedPrecondition = &Error{Kind: KindFailedPrecondition}
	ErrAlreadyExists      = &Error{Kind: KindAlreadyExists}
	ErrConflict           = &Error{Kind: KindConflict}
	ErrUnauthenticated    = &Error{Kind: KindUnauthenticated}
	ErrPermissionDenied   = &Error{Kind: KindPermissionDenied}
	ErrResourceExhausted  = &Error{Kind: KindResourceExhausted}
	ErrUnavailable        = &Error{Kind: KindUnavailable}
)

// New builds an error of a kind with a reason and a formatted message.
func New(kind Kind, reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that a resource (e.g. "item", "ABC-1") does not exist.
func NotFound(resource, id string) *Error {
	return &Error{
		Kind:     KindNotFound,
		Reason:   upper(resource) + "_NOT_FOUND",
		Message:  fmt.Sprintf("%s %q not found", resource, id),
		Metadata: map[string]string{"resource": resource, "id": id},
	}
}

// AlreadyExists reports a collision with an existing resource, naming its holder.
func AlreadyExists(resource, id, holder string) *Error {
	e := &Error{
		Kind:     KindAlreadyExists,
		Reason:   upper(resource) + "_ALREADY_EXISTS",
		Message:  fmt.Sprintf("%s %q already exists", resource, id),
		Metadata: map[string]string{"resource": resource, "id": id},
	}
	if holder != "" {
		e.Message += " (held by " + holder + ")"
		e.Metadata["holder"] = holder
	}
	return e
}

// Invalid reports an invalid request with one violation per bad field.
func Invalid(violations ...Violation) *Error {
	msg := "invalid request"
	if len(violations) == 1 {
		msg = fmt.Sprintf("invalid %s: %s", violations[0].Field, violations[0].Description)
	} else if len(violations) > 1 {
		msg = fmt.Sprintf("invalid request: %d field violations", len(violations))
	}
	return &Error{Kind: KindInvalidArgument, Reason: "INVALID_ARGUMENT", Message: msg, Violations: violations}
}

// Field is shorthand for a field violation.
func Field(field, description string) Violation {
	return Violation{Field: field, Description: description}
}

// Precondition reports that the system state does not allow the request.
func Precondition(reason, message string, violations ...Violation) *Error {
	return &Error{Kind: KindFailedPrecondition, Reason: reason, Message: message, Violations: violations}
}

// Conflict reports that a concurrent update won; retrying the request is safe.
func Conflict(message string, cause error) *Error {
	return &Error{Kind: KindConflict, Reason: "CONCURRENT_UPDATE", Message: message, cause: cause}
}

// Wrap attaches a cause to a classified error (kept for logs, not shown to clients
// beyond Message).
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// KindOf returns the kind of the first *Error in err's chain, or KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Violations collects field violations and turns them into one error at the end,
// so a request with three bad fields gets all three back at once.
type Violations []Violation

// Add records a violation.
func (v *Violations) Add(field, description string) { *v = append(*v, Field(field, description)) }

// Err returns nil when nothing was recorded, else an InvalidArgument error.
func (v Violations) Err() error {
	if len(v) == 0 {
		return nil
	}
	return Invalid(v...)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c == ' ' || c == '-' || c == '.':
			b[i] = '_'
		}
	}
	return string(b)
}

// WithFieldPrefix returns err with prefix (e.g. "journal_entry.") put before
// the field path of each of its violations, for a use case that checks a
// nested message without knowing where the request holds it. Any other error
// is returned as it is.
func WithFieldPrefix(err error, prefix string) error {
	var e *Error
	if !errors.As(err, &e) || len(e.Violations) == 0 {
		return err
	}
	out := *e
	out.Violations = make([]Violation, len(e.Violations))
	for i, v := range e.Violations {
		v.Field = prefix + v.Field
		out.Violations[i] = v
	}
	if old := "invalid " + e.Violations[0].Field + ":"; strings.HasPrefix(out.Message, old) {
		out.Message = "invalid " + out.Violations[0].Field + ":" + strings.TrimPrefix(out.Message, old)
	}
	return &out
}
