// Package pgtest gives tests a fresh PostgreSQL database per call, and runs a
// store's tests against SQLite and PostgreSQL alike (Dialects).
//
// Use it from TestMain, so the cluster it starts is stopped afterwards:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
//
// The server is, in order of preference: the one named by
// TRUEUP_TEST_POSTGRES_URL (a postgres:// URL of a superuser, e.g. one shared
// cluster for a whole `make test`), else a throwaway cluster started once per
// test binary from the local PostgreSQL binaries. Every NewDSN gets its own
// new database on it, dropped when the test ends.
//
// Without PostgreSQL binaries (and without the variable) the PostgreSQL tests
// are skipped, except under CI=true, where that is a failure: CI must not go
// green by testing one dialect.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for the admin connection

	"trueup.dev/platform/sqldb"
)

// EnvURL names the environment variable holding the URL of an existing
// PostgreSQL server to create test databases on instead of starting one.
const EnvURL = "TRUEUP_TEST_POSTGRES_URL"

var (
	mu sync.Mutex
	// inRun is true while Run is running the tests, i.e. someone will stop a
	// cluster we start.
	inRun bool
	// srv is the server once found or started; srvErr its permanent failure.
	srv    *server
	srvErr error

	dbSeq atomic.Int64
)

type server struct {
	url   *url.URL // admin URL; databases are made by replacing its path
	admin *sql.DB
	stop  func() // nil for an external server
}

// Run runs the tests of m and then stops the cluster, if any test started
// one, and removes its files. It returns m.Run's exit code, for os.Exit.
func Run(m *testing.M) int {
	mu.Lock()
	inRun = true
	mu.Unlock()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		inRun = false
		if srv != nil {
			_ = srv.admin.Close()
			if srv.stop != nil {
				srv.stop()
			}
			srv = nil
		}
	}()
	return m.Run()
}

var errNoRun = errors.New("pgtest: starting a PostgreSQL cluster needs TestMain to call pgtest.Run, " +
	"which stops it afterwards (func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) })")

// getServer finds or starts the server, once per test binary.
func getServer() (*server, error) {
	mu.Lock()
	defer mu.Unlock()
	if srv != nil || srvErr != nil {
		return srv, srvErr
	}
	var (
		dsn  string
		stop func()
	)
	if env := os.Getenv(EnvURL); env != "" {
		dsn = env
	} else {
		if !inRun {
			return nil, errNoRun
		}
		var err error
		dsn, stop, err = StartCluster()
		if err != nil {
			srvErr = err
			return nil, err
		}
	}
	s, err := connect(dsn, stop)
	if err != nil {
		if stop != nil {
			stop()
		}
		srvErr = err
		return nil, err
	}
	srv = s
	return s, nil
}

func connect(dsn string, stop func()) (*server, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("pgtest: %s must be a postgres:// URL", EnvURL)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("pgtest: connect to %s: %w", u.Redacted(), err)
	}
	admin.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		_ = admin.Close()
		return nil, fmt.Errorf("pgtest: connect to %s: %w", u.Redacted(), err)
	}
	return &server{url: u, admin: admin, stop: stop}, nil
}

// NewDSN returns the URL of a new, empty database, dropped when the test
// ends (after the test's own cleanups, which should close its connections).
// It skips the test when PostgreSQL is not installed, unless CI=true.
func NewDSN(tb testing.TB) string {
	tb.Helper()
	s, err := getServer()
	if errors.Is(err, ErrNoPostgres) {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			tb.Fatalf("CI=true and no PostgreSQL to test against: %v", err)
		}
		tb.Skipf("skipping PostgreSQL test: %v", err)
	}
	if err != nil {
		tb.Fatal(err)
	}

	name := databaseName(tb.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// template0: template1 may be in use by someone else's session, which
	// makes CREATE DATABASE fail.
	if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: a connection the test forgot to close must not leave the
		// database behind on a shared server.
		if _, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	u := *s.url
	u.Path = "/" + name
	return u.String()
}

// databaseName is unique across test binaries sharing one server (pid and a
// counter) and says which test made it (for someone looking at the server).
func databaseName(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	prefix := fmt.Sprintf("pgtest_%d_%d_", os.Getpid(), dbSeq.Add(1))
	suffix := b.String()
	if max := 63 - len(prefix); len(suffix) > max { // PostgreSQL's identifier limit
		suffix = suffix[len(suffix)-max:]
	}
	return prefix + suffix
}

// OpenPostgres opens a fresh PostgreSQL database (see NewDSN), closed when
// the test ends.
func OpenPostgres(tb testing.TB) *sqldb.DB {
	tb.Helper()
	return open(tb, NewDSN(tb))
}

// OpenSQLite opens a fresh SQLite database in a file under tb.TempDir,
// closed when the test ends.
func OpenSQLite(tb testing.TB) *sqldb.DB {
	tb.Helper()
	// NORMAL: a test database has nothing to keep after a power loss, and the
	// suite runs thousands of commits (production files default to FULL).
	return open(tb, "sqlite://"+filepath.Join(tb.TempDir(), "test.db")+"?_synchronous=NORMAL")
}

func open(tb testing.TB, dsn string) *sqldb.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// Dialects runs fn against each dialect, as parallel subtests "sqlite" and
// "postgres", each with a fresh, empty database: the one contract test suite
// that every store's SQL must pass on both.
func Dialects(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	t.Run(string(sqldb.SQLite), func(t *testing.T) {
		t.Parallel()
		fn(t, OpenSQLite(t))
	})
	t.Run(string(sqldb.Postgres), func(t *testing.T) {
		t.Parallel()
		fn(t, OpenPostgres(t))
	})
}
