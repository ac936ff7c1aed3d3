package natsx

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"trueup.dev/platform/apperr"
)

// ErrTransient marks a failure caused by the handler's surroundings (a dependency
// restarting, a lost connection, a busy database), not by the message:
// errors.Is(err, ErrTransient) reports an error wrapped by Transient.
var ErrTransient = errors.New("transient failure")

// Transient marks err as transient: the consumer retries the message without limit,
// with capped backoff, and the failure does not count towards MaxDeliver. Use it for
// failures IsTransient cannot recognise on its own (a dependency's own "not ready"
// error). The error text is kept unchanged. Transient(nil) is nil.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err: err}
}

type transientError struct{ err error }

func (e *transientError) Error() string   { return e.err.Error() }
func (e *transientError) Unwrap() []error { return []error{e.err, ErrTransient} }

// IsTransient reports whether err says "try again later" rather than "this message
// cannot be handled": a failure that retrying will fix once a dependency is back.
// It recognises, anywhere in err's chain:
//   - Transient(err), and a context deadline or cancellation (the handler's own
//     timeout, or a shutdown);
//   - gRPC statuses Unavailable, DeadlineExceeded, Aborted and ResourceExhausted,
//     and apperr kinds Unavailable, ResourceExhausted and Conflict (a concurrent
//     update won: retrying is safe);
//   - network errors: *net.OpError, DNS errors, timeouts, connection refused, reset
//     or aborted, a broken pipe, and io.EOF or io.ErrUnexpectedEOF when a network or
//     PostgreSQL connection error carries them;
//   - database/sql's driver.ErrBadConn and sql.ErrConnDone;
//   - SQLite BUSY and LOCKED;
//   - PostgreSQL connection failures (pgconn connect errors and errors pgconn
//     reports as safe to retry or as timeouts), SQLSTATE class 08 (connection
//     exception), 40001 (serialization failure), 40P01 (deadlock), 53300 (too many
//     connections) and 57P01-57P03 (admin or crash shutdown, cannot connect now).
//
// Permanent wins: an error marked Permanent is never transient. Anything else is a
// handler-logic failure. A bare io.EOF is deliberately not transient: decoders
// return it for truncated payloads, and a poison message retried for ever would
// wedge its consumer, while one wrongly dead-lettered can be replayed.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, ErrPermanent) {
		return false
	}
	if errors.Is(err, ErrTransient) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	switch apperr.KindOf(err) {
	case apperr.KindUnavailable, apperr.KindResourceExhausted, apperr.KindConflict:
		return true
	}
	if transientGRPC(err) || transientNet(err) || transientPostgres(err) || transientSQLite(err) {
		return true
	}
	return false
}

// transientGRPC reports a gRPC status that means the callee could not answer now,
// found anywhere in the chain (status.FromError would also do, but it formats
// every non-status error it is given).
func transientGRPC(err error) bool {
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return false
	}
	switch se.GRPCStatus().Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted:
		return true
	}
	return false
}

func transientNet(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) {
		return true
	}
	var timeout interface{ Timeout() bool }
	if errors.As(err, &timeout) && timeout.Timeout() {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE} {
		if errors.Is(err, errno) {
			return true
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// Only an end of stream that a connection reported: see IsTransient.
		var netErr net.Error
		var connErr interface{ SafeToRetry() bool } // pgconn's connection-level errors
		return errors.As(err, &netErr) || errors.As(err, &connErr)
	}
	return false
}

func transientPostgres(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch code := pgErr.Code; {
	case strings.HasPrefix(code, "08"), // connection exception
		code == "40001", // serialization_failure
		code == "40P01", // deadlock_detected
		code == "53300", // too_many_connections
		code == "57P01", // admin_shutdown
		code == "57P02", // crash_shutdown
		code == "57P03": // cannot_connect_now
		return true
	}
	return false
}

func transientSQLite(err error) bool {
	var sqlErr *sqlite.Error
	if !errors.As(err, &sqlErr) {
		return false
	}
	// Extended codes (SQLITE_BUSY_SNAPSHOT, ...) keep the primary code in the low byte.
	switch sqlErr.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}
