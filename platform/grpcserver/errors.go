package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"trueup.dev/platform/apperr"
)

// ErrorDomain is the ErrorInfo domain of every error a Trueup service sends.
const ErrorDomain = "trueup.dev"

// internalMessage is all a client learns about a fault of ours.
const internalMessage = "internal error"

// kindCodes is THE mapping between apperr kinds and gRPC codes, read in both
// directions by ToStatus and FromStatus. KindInternal is deliberately absent:
// it becomes codes.Internal with no detail, and codes.Internal never becomes an
// *apperr.Error.
var kindCodes = []struct {
	kind apperr.Kind
	code codes.Code
}{
	{apperr.KindNotFound, codes.NotFound},
	{apperr.KindInvalidArgument, codes.InvalidArgument},
	{apperr.KindFailedPrecondition, codes.FailedPrecondition},
	{apperr.KindAlreadyExists, codes.AlreadyExists},
	{apperr.KindConflict, codes.Aborted},
	{apperr.KindUnauthenticated, codes.Unauthenticated},
	{apperr.KindPermissionDenied, codes.PermissionDenied},
	{apperr.KindResourceExhausted, codes.ResourceExhausted},
	{apperr.KindUnavailable, codes.Unavailable},
}

func codeOf(k apperr.Kind) (codes.Code, bool) {
	for _, kc := range kindCodes {
		if kc.kind == k {
			return kc.code, true
		}
	}
	return codes.Internal, false
}

func kindOf(c codes.Code) (apperr.Kind, bool) {
	for _, kc := range kindCodes {
		if kc.code == c {
			return kc.kind, true
		}
	}
	return apperr.KindInternal, false
}

// defaultReason names a kind in UPPER_SNAKE ("NOT_FOUND") for errors that carry
// no reason of their own, so that ErrorInfo.Reason is never empty.
func defaultReason(k apperr.Kind) string {
	return strings.ToUpper(strings.ReplaceAll(k.String(), " ", "_"))
}

// ToStatus turns an error returned by a handler into the status sent to the
// client. It looks down err's chain for the first *apperr.Error or error
// received from another service, whichever is outermost:
//   - an *apperr.Error maps by kind (see kindCodes) with its Message, an
//     ErrorInfo{Reason, Domain: ErrorDomain, Metadata}, and its Violations as
//     BadRequest (InvalidArgument) or PreconditionFailure (FailedPrecondition)
//     details; the cause stays on the server;
//   - an error from a call to another service (one FromStatus made, or a raw
//     gRPC status) is NOT passed on: its code describes the dependency, not this
//     service (a NotFound for a dependency's resource is not a NotFound of
//     ours), and its message and details are the dependency's internals. See
//     downstreamStatus for what it becomes. A service that means to pass a
//     dependency's answer on re-raises it as its own *apperr.Error: returns
//     the one errors.As finds in the chain, or a new one wrapping it;
//   - context.Canceled and context.DeadlineExceeded map to Canceled and
//     DeadlineExceeded;
//   - anything else, and apperr.KindInternal, is Internal "internal error": the
//     real error is for the server's log only.
//
// ToStatus(nil) is an OK status.
func ToStatus(err error) *status.Status {
	if err == nil {
		return status.New(codes.OK, "")
	}
	ae, downstream, found := firstClassified(err)
	switch {
	case found && ae != nil:
		return appErrStatus(ae)
	case found:
		return downstreamStatus(downstream)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, context.Canceled.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, context.DeadlineExceeded.Error())
	}
	return status.New(codes.Internal, internalMessage)
}

// unavailableMessage is what a client learns when a dependency is down or slow.
const unavailableMessage = "temporarily unavailable; retry later"

// downstreamStatus is the status our client gets for a failed call to another
// service, by the code that service answered. A transient failure stays
// retryable (Unavailable: the same request may succeed later), a Canceled
// stays Canceled (our own caller went away, so the call was cut short), and
// everything else is a fault of ours: Internal, with no message or detail of
// the dependency's.
func downstreamStatus(c codes.Code) *status.Status {
	switch c {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted:
		return status.New(codes.Unavailable, unavailableMessage)
	case codes.Canceled:
		return status.New(codes.Canceled, context.Canceled.Error())
	}
	return status.New(codes.Internal, internalMessage)
}

// firstClassified walks err's chain depth first, as errors.As does, and stops
// at the first *apperr.Error (ae set) or error received from another service
// (downstream set to the code it answered); found is false if there is neither.
// Order matters: an *apperr.Error wrapping a remote error is the service
// re-raising it, and a remote error wrapping an *apperr.Error is the remote
// error as FromStatus made it.
func firstClassified(err error) (ae *apperr.Error, downstream codes.Code, found bool) {
	switch e := err.(type) {
	case *apperr.Error:
		return e, codes.OK, true
	case *remoteError:
		return nil, e.code, true
	case interface{ GRPCStatus() *status.Status }:
		// A raw status: our handlers return *apperr.Error values, so a status is
		// one a gRPC client returned without UnaryClientInterceptor.
		if st := e.GRPCStatus(); st != nil && st.Code() != codes.OK {
			return nil, st.Code(), true
		}
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if next := u.Unwrap(); next != nil {
			return firstClassified(next)
		}
	case interface{ Unwrap() []error }:
		for _, next := range u.Unwrap() {
			if next == nil {
				continue
			}
			if ae, c, ok := firstClassified(next); ok {
				return ae, c, true
			}
		}
	}
	return nil, codes.OK, false
}

// remoteError is an error FromStatus made of another service's status: it
// unwraps to the *apperr.Error (or context error) so the calling service can
// match it with errors.Is and errors.As, while telling ToStatus that the error
// is the dependency's, not ours.
type remoteError struct {
	code codes.Code
	err  error
}

func (e *remoteError) Error() string { return e.err.Error() }
func (e *remoteError) Unwrap() error { return e.err }

func appErrStatus(ae *apperr.Error) *status.Status {
	code, ok := codeOf(ae.Kind)
	if !ok {
		return status.New(codes.Internal, internalMessage)
	}
	reason := ae.Reason
	if reason == "" {
		reason = defaultReason(ae.Kind)
	}
	info := &errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain, Metadata: maps.Clone(ae.Metadata)}
	details := []protoadapt.MessageV1{info}
	if len(ae.Violations) > 0 {
		switch ae.Kind {
		case apperr.KindInvalidArgument:
			br := &errdetails.BadRequest{}
			for _, v := range ae.Violations {
				br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
					Field: v.Field, Description: v.Description, Reason: v.Type,
				})
			}
			details = append(details, br)
		case apperr.KindFailedPrecondition:
			pf := &errdetails.PreconditionFailure{}
			for _, v := range ae.Violations {
				pf.Violations = append(pf.Violations, &errdetails.PreconditionFailure_Violation{
					Type: v.Type, Subject: v.Subject, Description: v.Description,
				})
			}
			details = append(details, pf)
		}
	}
	st := status.New(code, ae.Message)
	withDetails, err := st.WithDetails(details...)
	if err != nil {
		// Only a marshalling failure gets here; the code and message still tell
		// the client what happened.
		return st
	}
	return withDetails
}

// FromStatus is ToStatus read backwards, for a client (typically one service
// calling another): a status whose code is in the table becomes an
// *apperr.Error with the same kind, message, ErrorInfo reason and metadata, and
// violations from BadRequest or PreconditionFailure, so errors.Is(err,
// apperr.ErrNotFound) and errors.As(err, &ae) work across the wire. Canceled
// and DeadlineExceeded become errors that wrap context.Canceled and
// context.DeadlineExceeded. Any other error, including Internal and Unknown
// statuses, comes back unchanged.
//
// The error returned is marked as the remote service's: returned as is by a
// handler, ToStatus does not pass it on as this service's own answer (see
// ToStatus); re-raise the *apperr.Error to do that.
//
// Not every field survives: BadRequest has no Subject, PreconditionFailure no
// Field, and the cause never crosses the wire.
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := asStatus(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Canceled:
		return &remoteError{code: st.Code(), err: fmt.Errorf("remote: %s: %w", st.Message(), context.Canceled)}
	case codes.DeadlineExceeded:
		return &remoteError{code: st.Code(), err: fmt.Errorf("remote: %s: %w", st.Message(), context.DeadlineExceeded)}
	}
	kind, ok := kindOf(st.Code())
	if !ok {
		return err
	}
	ae := &apperr.Error{Kind: kind, Reason: defaultReason(kind), Message: st.Message()}
	infoSeen := false
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if infoSeen {
				continue
			}
			infoSeen = true
			if d.GetReason() != "" {
				ae.Reason = d.GetReason()
			}
			if len(d.GetMetadata()) > 0 {
				ae.Metadata = maps.Clone(d.GetMetadata())
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				ae.Violations = append(ae.Violations, apperr.Violation{
					Field: v.GetField(), Type: v.GetReason(), Description: v.GetDescription(),
				})
			}
		case *errdetails.PreconditionFailure:
			for _, v := range d.GetViolations() {
				ae.Violations = append(ae.Violations, apperr.Violation{
					Type: v.GetType(), Subject: v.GetSubject(), Description: v.GetDescription(),
				})
			}
		}
	}
	return &remoteError{code: st.Code(), err: ae}
}

// asStatus finds a gRPC status in err's chain and returns it as it was made:
// unlike status.FromError, it does not prefix the message with the wrapping
// errors' text, which may say more about our internals than a client should see.
func asStatus(err error) (*status.Status, bool) {
	var gs interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &gs) {
		return nil, false
	}
	st := gs.GRPCStatus()
	if st == nil || st.Code() == codes.OK {
		return nil, false
	}
	return st, true
}
