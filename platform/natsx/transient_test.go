package natsx

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	_ "modernc.org/sqlite" // the "sqlite" driver, to produce a real SQLITE_BUSY

	"trueup.dev/platform/apperr"
)

func TestIsTransient(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("post receipt 42: %w", err) }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain logic error", errors.New("ledger account 1400 missing"), false},
		{"explicit marker", Transient(errors.New("search index warming up")), true},
		{"wrapped marker", wrap(Transient(errors.New("not ready"))), true},
		{"permanent wins over transient", Permanent(Transient(errors.New("x"))), false},
		{"permanent around a timeout", Permanent(context.DeadlineExceeded), false},
		{"handler timeout", wrap(context.DeadlineExceeded), true},
		{"shutdown cancellation", wrap(context.Canceled), true},
		{"grpc unavailable", wrap(status.Error(codes.Unavailable, "connection refused")), true},
		{"grpc deadline", status.Error(codes.DeadlineExceeded, "slow"), true},
		{"grpc aborted", status.Error(codes.Aborted, "conflict, retry"), true},
		{"grpc resource exhausted", status.Error(codes.ResourceExhausted, "rate limited"), true},
		{"grpc not found", wrap(status.Error(codes.NotFound, "no such item")), false},
		{"grpc invalid argument", status.Error(codes.InvalidArgument, "bad qty"), false},
		{"grpc failed precondition", status.Error(codes.FailedPrecondition, "period closed"), false},
		{"apperr unavailable", wrap(apperr.New(apperr.KindUnavailable, "LEDGER_DOWN", "ledger down")), true},
		{"apperr conflict", apperr.Conflict("concurrent update", nil), true},
		{"apperr not found", wrap(apperr.NotFound("item", "SKU-1")), false},
		{"apperr precondition", apperr.Precondition("PERIOD_CLOSED", "closed"), false},
		{"dial refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true},
		{"bare connection refused", wrap(syscall.ECONNREFUSED), true},
		{"connection reset", wrap(syscall.ECONNRESET), true},
		{"dns", &net.DNSError{Err: "no such host", Name: "db", IsTemporary: true}, true},
		{"eof on a connection", wrap(&net.OpError{Op: "read", Net: "tcp", Err: io.EOF}), true},
		{"bare eof (a truncated payload)", wrap(io.ErrUnexpectedEOF), false},
		{"sql bad conn", wrap(driver.ErrBadConn), true},
		{"sql conn done", wrap(sql.ErrConnDone), true},
		{"sql no rows", wrap(sql.ErrNoRows), false},
		{"postgres connection failure 08006", wrap(&pgconn.PgError{Code: "08006"}), true},
		{"postgres 08001", &pgconn.PgError{Code: "08001"}, true},
		{"postgres serialization 40001", wrap(&pgconn.PgError{Code: "40001"}), true},
		{"postgres deadlock 40P01", &pgconn.PgError{Code: "40P01"}, true},
		{"postgres admin shutdown 57P01", &pgconn.PgError{Code: "57P01"}, true},
		{"postgres crash shutdown 57P02", &pgconn.PgError{Code: "57P02"}, true},
		{"postgres cannot connect now 57P03", &pgconn.PgError{Code: "57P03"}, true},
		{"postgres too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"postgres unique violation", wrap(&pgconn.PgError{Code: "23505"}), false},
		{"postgres undefined table", &pgconn.PgError{Code: "42P01"}, false},
		{"postgres query canceled 57014", &pgconn.PgError{Code: "57014"}, false},
		{"postgres connect error", &pgconn.ConnectError{}, true},
		{"sqlite busy", wrap(sqliteBusyError(t)), true},
		{"sqlite constraint", wrap(sqliteConstraintError(t)), false},
	}
	for _, tt := range tests {
		if got := IsTransient(tt.err); got != tt.want {
			t.Errorf("%s: IsTransient(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestTransientKeepsTextAndNil(t *testing.T) {
	t.Parallel()
	if Transient(nil) != nil {
		t.Error("Transient(nil) != nil")
	}
	inner := errors.New("db restarting")
	err := Transient(inner)
	if err.Error() != "db restarting" || !errors.Is(err, inner) || !errors.Is(err, ErrTransient) {
		t.Errorf("Transient(%v) = %v: want the same text, wrapping both the cause and ErrTransient", inner, err)
	}
}

// sqliteDB opens a file database with its own connection pool.
func sqliteDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// sqliteBusyError returns a real SQLITE_BUSY: a write while another connection
// holds the write lock, with no busy timeout to wait it out.
func sqliteBusyError(t *testing.T) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "busy.db")
	holder, other := sqliteDB(t, path), sqliteDB(t, path)
	ctx := testCtx(t)
	if _, err := holder.ExecContext(ctx, `CREATE TABLE t (x INTEGER)`); err != nil {
		t.Fatal(err)
	}
	tx, err := holder.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	if _, err := tx.ExecContext(ctx, `INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	_, err = other.ExecContext(ctx, `INSERT INTO t VALUES (2)`)
	if err == nil {
		t.Fatal("second writer did not get SQLITE_BUSY")
	}
	return err
}

func sqliteConstraintError(t *testing.T) error {
	t.Helper()
	db := sqliteDB(t, filepath.Join(t.TempDir(), "constraint.db"))
	ctx := testCtx(t)
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (x INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	_, err := db.ExecContext(ctx, `INSERT INTO t VALUES (1)`)
	if err == nil {
		t.Fatal("duplicate key accepted")
	}
	return err
}
