// Package schemacheck asserts that a service's two migration sets, SQLite and
// PostgreSQL, build the same schema: the same tables, the same columns, with
// types of the same kind and the same nullability, and the same unique keys
// (which decide what ON CONFLICT and a duplicate insert do).
//
// Each service keeps one migration set per dialect (the dialects' DDL differs
// too much for one file), so nothing but a test keeps them in step: a column
// added to one set only works in every test of that dialect and fails in
// production on the other. Call Check from a store package's tests:
//
//	func TestSchemasOfBothDialectsMatch(t *testing.T) { schemacheck.Check(t, store.Migrate) }
//
// The package's TestMain must run pgtest.Run; without PostgreSQL the check is
// skipped like every PostgreSQL test (and fails under CI=true).
package schemacheck

import (
	"context"
	"fmt"
	"testing"
	"time"

	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
)

// Exception declares a table or column that exists on one dialect only on
// purpose, and why: a PostgreSQL-only column that orders commits, say, which
// SQLite's serial writers do not need. Only presence can be excepted; a
// column on both dialects must match.
type Exception struct {
	// Only is the dialect that has it.
	Only sqldb.Dialect
	// Name is what it excuses, spelt as in Difference.Name: "table",
	// "table.column", or "table(a, b)" for a unique key.
	Name string
	// Why is the reason, for the reader of the test; it must not be empty.
	Why string
}

// Check migrates a fresh SQLite database and a fresh PostgreSQL database with
// migrate and fails t, naming every difference, unless both have the same
// tables with the same columns (name, Kind and NotNull) and unique keys, apart
// from the declared exceptions. An exception that matches no difference fails too, so
// one cannot outlive its reason.
//
// golang-migrate's version tables (schema_migrations, *_schema_migrations)
// are left out: its drivers create them differently per dialect, and only it
// reads them.
func Check(t *testing.T, migrate func(ctx context.Context, db *sqldb.DB) error, exceptions ...Exception) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	read := func(db *sqldb.DB) Schema {
		t.Helper()
		if err := migrate(ctx, db); err != nil {
			t.Fatalf("migrate %s: %v", db.Dialect, err)
		}
		s, err := Read(ctx, db)
		if err != nil {
			t.Fatalf("read %s schema: %v", db.Dialect, err)
		}
		return s
	}
	lite := read(pgtest.OpenSQLite(t))
	pg := read(pgtest.OpenPostgres(t))
	for _, p := range Problems(lite, pg, exceptions...) {
		t.Error(p)
	}
}

// Problems is what Check reports on two schemas already read: each
// difference no exception declares, each exception without a reason, and
// each exception that matches no difference.
func Problems(sqlite, postgres Schema, exceptions ...Exception) []string {
	var out []string
	used := make([]bool, len(exceptions))
	for i, e := range exceptions {
		if e.Why == "" {
			out = append(out, fmt.Sprintf("exception %s (%s only) gives no reason", e.Name, e.Only))
			used[i] = true
		}
	}
diffs:
	for _, d := range Diff(sqlite, postgres) {
		for i, e := range exceptions {
			if d.Only != "" && d.Only == e.Only && d.Name == e.Name {
				used[i] = true
				continue diffs
			}
		}
		out = append(out, "schemas differ: "+d.Text)
	}
	for i, e := range exceptions {
		if !used[i] {
			out = append(out, fmt.Sprintf("exception %s (%s only) matches no difference; remove it", e.Name, e.Only))
		}
	}
	return out
}
