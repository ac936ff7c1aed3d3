package pgtest_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
)

func TestMain(m *testing.M) {
	// The child mode of TestClusterDiesWithItsProcess: start a cluster,
	// say where it is, and exit without stopping it.
	if os.Getenv("PGTEST_CHILD") == "orphan" {
		dsn, _, err := pgtest.StartCluster()
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		fmt.Println("DSN", dsn)
		os.Exit(0)
	}
	os.Exit(pgtest.Run(m))
}

func TestNewDSN(t *testing.T) {
	a, b := pgtest.OpenPostgres(t), pgtest.OpenPostgres(t)
	ctx := t.Context()
	if _, err := a.ExecContext(ctx, `CREATE TABLE only_in_a (id INT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ExecContext(ctx, `SELECT 1 FROM only_in_a`); err == nil {
		t.Fatal("two NewDSN calls share a database")
	}
	var tables int
	if err := b.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("a fresh database has %d tables", tables)
	}

	// A database is dropped when its test ends, whatever the test's name.
	var name string
	t.Run(strings.Repeat("a very long and Strange/NAME ", 5), func(t *testing.T) {
		u, err := url.Parse(pgtest.NewDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(u.Path, "/")
		if len(name) > 63 {
			t.Errorf("database name %q is longer than PostgreSQL allows", name)
		}
	})
	var exists bool
	if err := a.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s outlived its test", name)
	}
}

func TestDialects(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[sqldb.Dialect]string{}
	)
	t.Run("run", func(t *testing.T) {
		pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
			if err := db.PingContext(t.Context()); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			seen[db.Dialect] = t.Name()
			mu.Unlock()
		})
	})
	if seen[sqldb.SQLite] != "TestDialects/run/sqlite" || seen[sqldb.Postgres] != "TestDialects/run/postgres" {
		t.Errorf("subtests ran as %v", seen)
	}
}

// TestExternalServer runs a test binary with TRUEUP_TEST_POSTGRES_URL set:
// its databases are made on that server, and dropped afterwards.
func TestExternalServer(t *testing.T) {
	dsn, stop, err := pgtest.StartCluster()
	if errors.Is(err, pgtest.ErrNoPostgres) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if os.Getenv(pgtest.EnvURL) != "" {
		t.Skip("already running against an external server")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestNewDSN$", "-test.count=1")
	cmd.Env = append(os.Environ(), pgtest.EnvURL+"="+dsn)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var left int
	if err := admin.QueryRowContext(t.Context(),
		`SELECT COUNT(*) FROM pg_database WHERE datname LIKE 'pgtest\_%'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d test databases left on the external server", left)
	}
}

// TestClusterDiesWithItsProcess starts a cluster in a child process that
// exits without stopping it: the watchdog must stop it and remove its files.
func TestClusterDiesWithItsProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PGTEST_CHILD=orphan")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var dsn string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "ERROR") && strings.Contains(sc.Text(), "no PostgreSQL binaries") {
			t.Skip(sc.Text())
		}
		if d, ok := strings.CutPrefix(sc.Text(), "DSN "); ok {
			dsn = d
		}
	}
	if dsn == "" {
		t.Fatalf("child printed no DSN:\n%s", out)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err != nil {
			return // gone
		}
		if time.Now().After(deadline) {
			t.Fatal("the orphaned cluster is still running")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
