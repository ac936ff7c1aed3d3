package schemacheck_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/platform/testkit/schemacheck"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestKindIgnoresWidthAndSpelling(t *testing.T) {
	for _, tc := range []struct{ declared, want string }{
		{"INTEGER", "integer"}, {"bigint", "integer"}, {"SMALLINT", "integer"},
		{"TEXT", "text"}, {"character varying", "text"}, {"VARCHAR(64)", "text"},
		{"BOOLEAN", "boolean"}, {"boolean", "boolean"},
		{"BLOB", "bytes"}, {"bytea", "bytes"},
		{"NUMERIC(20, 6)", "numeric"}, {"numeric", "numeric"},
		{"TIMESTAMP", "timestamp"}, {"timestamp with time zone", "timestamp"},
		{"jsonb", "jsonb"},
	} {
		if got := schemacheck.Kind(tc.declared); got != tc.want {
			t.Errorf("Kind(%q) = %q, want %q", tc.declared, got, tc.want)
		}
	}
}

func TestDiffNamesEveryDifference(t *testing.T) {
	col := func(kind string, notNull bool) schemacheck.Column {
		return schemacheck.Column{Kind: kind, NotNull: notNull}
	}
	lite := schemacheck.Schema{
		"items": {
			Columns: map[string]schemacheck.Column{"sku": col("text", true), "qty": col("integer", true), "note": col("text", false), "lite_only": col("text", false)},
			Unique:  []string{"sku", "note, qty"},
		},
		"lite_table": {Columns: map[string]schemacheck.Column{"id": col("text", true)}},
		// A migration tool's bookkeeping is not compared.
		"items_schema_migrations": {Columns: map[string]schemacheck.Column{"version": col("uint64", false)}},
	}
	pg := schemacheck.Schema{
		"items": {
			Columns: map[string]schemacheck.Column{"sku": col("text", true), "qty": col("text", true), "note": col("text", true), "pg_only": col("integer", true)},
			Unique:  []string{"sku", "qty"},
		},
		"pg_table":                {Columns: map[string]schemacheck.Column{"id": col("text", true)}},
		"items_schema_migrations": {Columns: map[string]schemacheck.Column{"version": col("integer", true)}},
	}
	var got []string
	for _, d := range schemacheck.Diff(lite, pg) {
		got = append(got, fmt.Sprintf("%s|%s|%s", d.Name, d.Only, d))
	}
	want := []string{
		"items.lite_only|sqlite|column items.lite_only exists on SQLite only",
		"items.note||column items.note is nullable on SQLite but NOT NULL on PostgreSQL",
		"items.pg_only|postgres|column items.pg_only exists on PostgreSQL only",
		"items.qty||column items.qty is integer on SQLite but text on PostgreSQL",
		"items(note, qty)|sqlite|unique key items(note, qty) exists on SQLite only",
		"items(qty)|postgres|unique key items(qty) exists on PostgreSQL only",
		"lite_table|sqlite|table lite_table exists on SQLite only",
		"pg_table|postgres|table pg_table exists on PostgreSQL only",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Diff =\n%q\nwant\n%q", got, want)
	}
	if d := schemacheck.Diff(lite, lite); len(d) != 0 {
		t.Fatalf("a schema differs from itself: %v", d)
	}
}

// migrateThings is a tiny migration set per dialect, each spelling the same
// schema its own way, with a PostgreSQL-only column when extra is set.
func migrateThings(extra bool) func(context.Context, *sqldb.DB) error {
	return func(ctx context.Context, db *sqldb.DB) error {
		ddl := []string{
			`CREATE TABLE things (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, n INTEGER NOT NULL, made_at BIGINT NOT NULL, note TEXT)`,
			`CREATE TABLE thing_tags (thing INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (thing, tag))`,
			`CREATE UNIQUE INDEX things_by_n ON things (made_at, n)`,
		}
		if db.Dialect == sqldb.Postgres {
			extraCol := ""
			if extra {
				extraCol = `, txid BIGINT NOT NULL DEFAULT 0`
			}
			ddl = []string{
				`CREATE TABLE things (id BIGSERIAL PRIMARY KEY, code VARCHAR(32) NOT NULL, n BIGINT NOT NULL, made_at BIGINT NOT NULL, note TEXT` + extraCol + `, UNIQUE (code))`,
				`CREATE TABLE thing_tags (tag TEXT NOT NULL, thing BIGINT NOT NULL, PRIMARY KEY (tag, thing))`,
				`CREATE UNIQUE INDEX things_by_n ON things (n, made_at)`,
			}
		}
		for _, q := range ddl {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestReadSeesTheSameSchemaOnBothDialects(t *testing.T) {
	schemacheck.Check(t, migrateThings(false))
}

func TestReadFindsColumnsKindsAndNullability(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if err := migrateThings(false)(ctx, db); err != nil {
			t.Fatal(err)
		}
		s, err := schemacheck.Read(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		want := schemacheck.Table{
			Columns: map[string]schemacheck.Column{
				"id": {Kind: "integer", NotNull: true}, "code": {Kind: "text", NotNull: true}, "n": {Kind: "integer", NotNull: true},
				"made_at": {Kind: "integer", NotNull: true}, "note": {Kind: "text"},
			},
			Unique: []string{"code", "id", "made_at, n"},
		}
		if fmt.Sprint(s["things"]) != fmt.Sprint(want) || len(s) != 2 {
			t.Fatalf("schema = %v, want things %v and thing_tags", s, want)
		}
		if got := s["thing_tags"].Unique; !slices.Equal(got, []string{"tag, thing"}) {
			t.Fatalf("thing_tags unique keys = %q, want its primary key", got)
		}
	})
}

// readBoth migrates a fresh database of each dialect with migrate and reads
// its schema.
func readBoth(t *testing.T, migrate func(context.Context, *sqldb.DB) error) (lite, pg schemacheck.Schema) {
	t.Helper()
	read := func(db *sqldb.DB) schemacheck.Schema {
		ctx := context.Background()
		if err := migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		s, err := schemacheck.Read(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return read(pgtest.OpenSQLite(t)), read(pgtest.OpenPostgres(t))
}

// A declared exception lets an intended one-dialect column through; the
// same column undeclared, or a declaration with nothing to excuse or no
// reason, is a problem.
func TestExceptionsExcuseOnlyWhatTheyName(t *testing.T) {
	txid := schemacheck.Exception{Only: sqldb.Postgres, Name: "things.txid", Why: "orders commits on PostgreSQL"}
	t.Run("declared", func(t *testing.T) { schemacheck.Check(t, migrateThings(true), txid) })
	withTxid, withTxidPG := readBoth(t, migrateThings(true))
	plain, plainPG := readBoth(t, migrateThings(false))
	for _, tc := range []struct {
		name       string
		lite, pg   schemacheck.Schema
		exceptions []schemacheck.Exception
		want       string
	}{
		{"undeclared", withTxid, withTxidPG, nil, "schemas differ: column things.txid exists on PostgreSQL only"},
		{"stale", plain, plainPG, []schemacheck.Exception{txid}, "exception things.txid (postgres only) matches no difference; remove it"},
		{"without a reason", withTxid, withTxidPG, []schemacheck.Exception{{Only: sqldb.Postgres, Name: "things.txid"}}, "exception things.txid (postgres only) gives no reason"},
		{"for the other dialect", withTxid, withTxidPG, []schemacheck.Exception{{Only: sqldb.SQLite, Name: "things.txid", Why: "wrong side"}},
			"schemas differ: column things.txid exists on PostgreSQL only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := schemacheck.Problems(tc.lite, tc.pg, tc.exceptions...)
			if !slices.Contains(got, tc.want) {
				t.Fatalf("problems %q; want %q among them", got, tc.want)
			}
		})
	}
}
