package grpcserver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"trueup.dev/platform/apperr"
)

// details splits a status's details by type.
func details(t *testing.T, st *status.Status) (info *errdetails.ErrorInfo, br *errdetails.BadRequest, pf *errdetails.PreconditionFailure) {
	t.Helper()
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			br = d
		case *errdetails.PreconditionFailure:
			pf = d
		default:
			t.Errorf("unexpected detail %T: %v", d, d)
		}
	}
	return info, br, pf
}

// TestKindRoundTrip covers every row of the table, both directions: the apperr
// error becomes the right status with the right details, and the status comes
// back as an *apperr.Error equal in kind, reason, message, violations and
// metadata, matching its kind's sentinel.
func TestKindRoundTrip(t *testing.T) {
	stock := apperr.Violation{Type: "INSUFFICIENT_STOCK", Subject: "item/ABC-1", Description: "have 2, need 5"}
	tests := []struct {
		name     string
		err      *apperr.Error
		sentinel error
		wantCode codes.Code
		// wantBack is what FromStatus should return, when not err itself.
		wantBack *apperr.Error
		check    func(t *testing.T, st *status.Status)
	}{
		{
			name:     "not found",
			err:      apperr.NotFound("item", "ABC-1"),
			sentinel: apperr.ErrNotFound,
			wantCode: codes.NotFound,
		},
		{
			name: "invalid argument with field violations",
			err: apperr.Invalid(
				apperr.Field("sku", "is required"),
				apperr.Violation{Field: "lines[0].quantity", Type: "NOT_POSITIVE", Description: "must be > 0"},
			),
			sentinel: apperr.ErrInvalidArgument,
			wantCode: codes.InvalidArgument,
			check: func(t *testing.T, st *status.Status) {
				_, br, _ := details(t, st)
				if len(br.GetFieldViolations()) != 2 ||
					br.GetFieldViolations()[1].GetField() != "lines[0].quantity" ||
					br.GetFieldViolations()[1].GetReason() != "NOT_POSITIVE" ||
					br.GetFieldViolations()[0].GetDescription() != "is required" {
					t.Errorf("BadRequest = %v", br)
				}
			},
		},
		{
			name:     "failed precondition with violations",
			err:      apperr.Precondition("INSUFFICIENT_STOCK", "not enough stock for 1 line", stock),
			sentinel: apperr.ErrFailedPrecondition,
			wantCode: codes.FailedPrecondition,
			check: func(t *testing.T, st *status.Status) {
				_, _, pf := details(t, st)
				v := pf.GetViolations()
				if len(v) != 1 || v[0].GetType() != stock.Type || v[0].GetSubject() != stock.Subject || v[0].GetDescription() != stock.Description {
					t.Errorf("PreconditionFailure = %v", pf)
				}
			},
		},
		{
			name:     "already exists",
			err:      apperr.AlreadyExists("sales order", "SO-1", "request/r-42"),
			sentinel: apperr.ErrAlreadyExists,
			wantCode: codes.AlreadyExists,
		},
		{
			name:     "conflict is aborted, cause stays home",
			err:      apperr.Conflict("order SO-1 changed concurrently", errors.New("pq: serialization failure at 10.0.0.7")),
			sentinel: apperr.ErrConflict,
			wantCode: codes.Aborted,
			wantBack: &apperr.Error{Kind: apperr.KindConflict, Reason: "CONCURRENT_UPDATE", Message: "order SO-1 changed concurrently"},
			check: func(t *testing.T, st *status.Status) {
				if strings.Contains(fmt.Sprint(st.Proto()), "10.0.0.7") {
					t.Errorf("the cause leaked into the status: %v", st.Proto())
				}
			},
		},
		{
			name:     "unauthenticated",
			err:      apperr.New(apperr.KindUnauthenticated, "TOKEN_EXPIRED", "token expired"),
			sentinel: apperr.ErrUnauthenticated,
			wantCode: codes.Unauthenticated,
		},
		{
			name:     "permission denied",
			err:      apperr.New(apperr.KindPermissionDenied, "SCOPE_MISSING", "scope %s required", "orders.write"),
			sentinel: apperr.ErrPermissionDenied,
			wantCode: codes.PermissionDenied,
		},
		{
			name:     "resource exhausted",
			err:      &apperr.Error{Kind: apperr.KindResourceExhausted, Reason: "RATE_LIMITED", Message: "slow down", Metadata: map[string]string{"retry_after": "2s"}},
			sentinel: apperr.ErrResourceExhausted,
			wantCode: codes.ResourceExhausted,
		},
		{
			name:     "unavailable",
			err:      apperr.New(apperr.KindUnavailable, "INVENTORY_DOWN", "inventory is unavailable"),
			sentinel: apperr.ErrUnavailable,
			wantCode: codes.Unavailable,
		},
		{
			name:     "no reason gets the kind's name",
			err:      &apperr.Error{Kind: apperr.KindNotFound, Message: "gone"},
			sentinel: apperr.ErrNotFound,
			wantCode: codes.NotFound,
			wantBack: &apperr.Error{Kind: apperr.KindNotFound, Reason: "NOT_FOUND", Message: "gone"},
		},
	}
	covered := map[apperr.Kind]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			covered[tt.err.Kind] = true
			// Wrapped, as handlers usually return them: the apperr message is
			// what travels, not the wrapping text.
			st := ToStatus(fmt.Errorf("handler: %w", tt.err))
			if st.Code() != tt.wantCode || st.Message() != tt.err.Message {
				t.Fatalf("ToStatus = %v %q, want %v %q", st.Code(), st.Message(), tt.wantCode, tt.err.Message)
			}
			want := tt.wantBack
			if want == nil {
				want = tt.err
			}
			info, _, _ := details(t, st)
			if info.GetDomain() != ErrorDomain || info.GetReason() != want.Reason || !maps.Equal(info.GetMetadata(), tt.err.Metadata) {
				t.Errorf("ErrorInfo = %v, want reason %q, domain %q, metadata %v", info, want.Reason, ErrorDomain, tt.err.Metadata)
			}
			if tt.check != nil {
				tt.check(t, st)
			}

			back := FromStatus(st.Err())
			var got *apperr.Error
			if !errors.As(back, &got) {
				t.Fatalf("FromStatus = %T %v, want *apperr.Error", back, back)
			}
			if got.Kind != want.Kind || got.Reason != want.Reason || got.Message != want.Message ||
				!reflect.DeepEqual(got.Violations, want.Violations) || !maps.Equal(got.Metadata, want.Metadata) {
				t.Errorf("FromStatus = %+v, want %+v", got, want)
			}
			if !errors.Is(back, tt.sentinel) {
				t.Errorf("errors.Is(FromStatus(...), %v sentinel) = false", tt.sentinel.(*apperr.Error).Kind)
			}
			// Returned as is by the calling service, it is a dependency's
			// answer, not the caller's: not passed on (see TestDownstreamStatus).
			relayed := codes.Internal
			if tt.wantCode == codes.Unavailable || tt.wantCode == codes.Aborted {
				relayed = codes.Unavailable
			}
			if again := ToStatus(fmt.Errorf("call: %w", back)); again.Code() != relayed || len(again.Details()) != 0 {
				t.Errorf("relayed status = %v %q %v, want %v without details", again.Code(), again.Message(), again.Details(), relayed)
			}
			// Re-raised as the service's own, it answers exactly as the
			// service that made it.
			if again := ToStatus(got); again.Code() != tt.wantCode || again.Message() != want.Message {
				t.Errorf("re-raised status = %v %q", again.Code(), again.Message())
			}
		})
	}
	for _, kc := range kindCodes {
		if !covered[kc.kind] {
			t.Errorf("kind %v is in the table but not tested", kc.kind)
		}
	}
}

func TestToStatusOtherErrors(t *testing.T) {
	withDetails, err := status.New(codes.OutOfRange, "page 9 of 3").WithDetails(&errdetails.ErrorInfo{Reason: "PAGE", Domain: "x"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		err      error
		wantCode codes.Code
		wantMsg  string
	}{
		{name: "nil", err: nil, wantCode: codes.OK},
		{name: "plain error is internal", err: errors.New("dial tcp 10.0.0.7:5432: password authentication failed"), wantCode: codes.Internal, wantMsg: "internal error"},
		{name: "apperr internal kind", err: apperr.New(apperr.KindInternal, "BUG", "nil map in %s", "ledger.post"), wantCode: codes.Internal, wantMsg: "internal error"},
		{name: "apperr unknown kind", err: &apperr.Error{Kind: apperr.Kind(99), Message: "?"}, wantCode: codes.Internal, wantMsg: "internal error"},
		{name: "canceled", err: fmt.Errorf("query: %w", context.Canceled), wantCode: codes.Canceled, wantMsg: "context canceled"},
		{name: "deadline", err: fmt.Errorf("query: %w", context.DeadlineExceeded), wantCode: codes.DeadlineExceeded, wantMsg: "context deadline exceeded"},
		{name: "a dependency's status is not passed through", err: status.Error(codes.OutOfRange, "page 9 of 3"), wantCode: codes.Internal, wantMsg: "internal error"},
		{name: "nor when wrapped", err: fmt.Errorf("call inventory at 10.0.0.7: %w", withDetails.Err()), wantCode: codes.Internal, wantMsg: "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ToStatus(tt.err)
			if st.Code() != tt.wantCode || st.Message() != tt.wantMsg {
				t.Errorf("ToStatus = %v %q, want %v %q", st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
			}
			if tt.wantCode == codes.Internal && len(st.Details()) != 0 {
				t.Errorf("internal status has details: %v", st.Details())
			}
		})
	}
	if got := ToStatus(fmt.Errorf("x: %w", withDetails.Err())); len(got.Details()) != 0 {
		t.Errorf("a dependency's details reached the client: %v", got.Details())
	}
}

func TestFromStatusOtherErrors(t *testing.T) {
	plain := errors.New("not a status")
	internal := status.Error(codes.Internal, "internal error")
	outOfRange := status.Error(codes.OutOfRange, "page 9 of 3")
	tests := []struct {
		name  string
		err   error
		check func(t *testing.T, got error)
	}{
		{name: "nil", err: nil, check: func(t *testing.T, got error) {
			if got != nil {
				t.Errorf("got %v, want nil", got)
			}
		}},
		{name: "non-status unchanged", err: plain, check: func(t *testing.T, got error) {
			if got != plain {
				t.Errorf("got %v, want the same error", got)
			}
		}},
		{name: "internal unchanged", err: internal, check: func(t *testing.T, got error) {
			if got != internal || apperr.KindOf(got) != apperr.KindInternal {
				t.Errorf("got %v, want the same status error", got)
			}
		}},
		{name: "unmapped code unchanged", err: outOfRange, check: func(t *testing.T, got error) {
			if got != outOfRange {
				t.Errorf("got %v, want the same status error", got)
			}
		}},
		{name: "canceled", err: status.Error(codes.Canceled, "context canceled"), check: func(t *testing.T, got error) {
			if !errors.Is(got, context.Canceled) || ToStatus(got).Code() != codes.Canceled {
				t.Errorf("got %v, want context.Canceled", got)
			}
		}},
		{name: "deadline", err: status.Error(codes.DeadlineExceeded, "too slow"), check: func(t *testing.T, got error) {
			// The dependency was too slow: retryable, and not our caller's deadline.
			if !errors.Is(got, context.DeadlineExceeded) || ToStatus(got).Code() != codes.Unavailable {
				t.Errorf("got %v, want context.DeadlineExceeded", got)
			}
		}},
		{name: "transport unavailable without details", err: status.Error(codes.Unavailable, "connection refused"), check: func(t *testing.T, got error) {
			var ae *apperr.Error
			if !errors.As(got, &ae) || !errors.Is(got, apperr.ErrUnavailable) || ae.Reason != "UNAVAILABLE" || ae.Message != "connection refused" {
				t.Errorf("got %#v, want an unavailable *apperr.Error", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, FromStatus(tt.err))
		})
	}
}

// A failed call to another service is mapped, never passed through: its code
// is about the dependency (a NotFound of inventory's item is not a NotFound of
// the order the client asked for) and its message and details are the
// dependency's. Transient failures stay retryable as Unavailable; Canceled
// stays Canceled; everything else is Internal with the generic message,
// unless the service re-raises the error as its own *apperr.Error.
func TestDownstreamStatus(t *testing.T) {
	const secret = "item ABC-1 not found in inventory-7f9c at 10.0.0.7"
	precondition, err := status.New(codes.FailedPrecondition, secret).WithDetails(
		&errdetails.ErrorInfo{Reason: "INSUFFICIENT_STOCK", Domain: ErrorDomain, Metadata: map[string]string{"shortfall": "12"}},
		&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{Type: "STOCK", Subject: "item/ABC-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	byCode := []struct {
		code codes.Code
		want codes.Code
	}{
		{codes.NotFound, codes.Internal},
		{codes.InvalidArgument, codes.Internal},
		{codes.FailedPrecondition, codes.Internal},
		{codes.AlreadyExists, codes.Internal},
		{codes.PermissionDenied, codes.Internal},
		{codes.Unauthenticated, codes.Internal},
		{codes.ResourceExhausted, codes.Internal},
		{codes.OutOfRange, codes.Internal},
		{codes.Unimplemented, codes.Internal},
		{codes.Internal, codes.Internal},
		{codes.Unknown, codes.Internal},
		{codes.DataLoss, codes.Internal},
		{codes.Unavailable, codes.Unavailable},
		{codes.DeadlineExceeded, codes.Unavailable},
		{codes.Aborted, codes.Unavailable},
		{codes.Canceled, codes.Canceled},
	}
	type tcase struct {
		name     string
		err      error
		wantCode codes.Code
		wantMsg  string
	}
	var tests []tcase
	msgFor := map[codes.Code]string{codes.Internal: internalMessage, codes.Unavailable: unavailableMessage, codes.Canceled: "context canceled"}
	for _, bc := range byCode {
		remote := status.Error(bc.code, secret)
		if bc.code == codes.FailedPrecondition {
			remote = precondition.Err()
		}
		tests = append(tests,
			tcase{"raw " + bc.code.String(), remote, bc.want, msgFor[bc.want]},
			tcase{"wrapped raw " + bc.code.String(), fmt.Errorf("allocate: %w", remote), bc.want, msgFor[bc.want]},
			// What a client with UnaryClientInterceptor returns.
			tcase{"client-mapped " + bc.code.String(), fmt.Errorf("allocate: %w", FromStatus(remote)), bc.want, msgFor[bc.want]},
			tcase{"joined " + bc.code.String(), errors.Join(errors.New("rollback: ok"), FromStatus(remote)), bc.want, msgFor[bc.want]},
		)
	}
	var own *apperr.Error
	if !errors.As(FromStatus(precondition.Err()), &own) {
		t.Fatal("FromStatus made no *apperr.Error")
	}
	tests = append(tests,
		tcase{"re-raised as is", own, codes.FailedPrecondition, secret},
		tcase{"re-raised as a new error", apperr.Precondition("CANNOT_ALLOCATE", "not enough stock for the order").Wrap(FromStatus(precondition.Err())),
			codes.FailedPrecondition, "not enough stock for the order"},
		tcase{"our own deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "context deadline exceeded"},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := ToStatus(tt.err)
			if st.Code() != tt.wantCode || st.Message() != tt.wantMsg {
				t.Fatalf("ToStatus = %v %q, want %v %q", st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
			}
			if tt.wantMsg == secret {
				return // re-raised as is: the service chose to say it
			}
			for _, leak := range []string{"10.0.0.7", "INSUFFICIENT_STOCK", "shortfall", "item/ABC-1"} {
				if strings.Contains(fmt.Sprint(st.Proto()), leak) {
					t.Errorf("the dependency's %q leaked: %v", leak, st.Proto())
				}
			}
		})
	}
}
