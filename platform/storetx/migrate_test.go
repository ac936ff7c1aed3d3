package storetx_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/storetx"
	"trueup.dev/platform/testkit/pgtest"
)

// thingsMigrations is a service's own set, under "migrations/" as a store
// embeds it.
var thingsMigrations = fstest.MapFS{
	"migrations/sqlite/0001_things.up.sql":     {Data: []byte(`CREATE TABLE things (id TEXT PRIMARY KEY);`)},
	"migrations/sqlite/0001_things.down.sql":   {Data: []byte(`DROP TABLE things;`)},
	"migrations/postgres/0001_things.up.sql":   {Data: []byte(`CREATE TABLE things (id TEXT PRIMARY KEY);`)},
	"migrations/postgres/0001_things.down.sql": {Data: []byte(`DROP TABLE things;`)},
}

// hasTable reports whether table can be read on db.
func hasTable(t *testing.T, db *sqldb.DB, table string) bool {
	t.Helper()
	var n int
	return db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n) == nil
}

// A schema migrates the platform tables a Tx writes and then the service's
// own set, and a second run (a restart, another replica) changes nothing.
func TestSchemaMigratesPlatformTablesAndItsOwnSet(t *testing.T) {
	for _, inbox := range []bool{false, true} {
		t.Run(map[bool]string{false: "without inbox", true: "with inbox"}[inbox], func(t *testing.T) {
			pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
				s := storetx.Schema{Name: "things", Files: thingsMigrations, Dir: "migrations", Table: "things_schema_migrations", Inbox: inbox}
				for range 2 {
					if err := s.Migrate(context.Background(), db); err != nil {
						t.Fatalf("Migrate (inbox %v): %v", inbox, err)
					}
				}
				for _, table := range []string{"outbox", "idempotency_keys", "things"} {
					if !hasTable(t, db, table) {
						t.Errorf("inbox %v: no %s table after Migrate", inbox, table)
					}
				}
				if got := hasTable(t, db, "inbox"); got != inbox {
					t.Errorf("Inbox %v: inbox table present = %v", inbox, got)
				}
			})
		})
	}
}

// A missing migration set is an error naming the service, not a silent no-op
// that would leave the service's tables missing until its first query.
func TestSchemaWithoutItsMigrationsIsRefused(t *testing.T) {
	db := pgtest.OpenSQLite(t)
	s := storetx.Schema{Name: "things", Files: thingsMigrations, Dir: "elsewhere", Table: "things_schema_migrations"}
	err := s.Migrate(context.Background(), db)
	if err == nil || !strings.Contains(err.Error(), "migrate things") {
		t.Fatalf("Migrate with no migrations = %v, want an error naming the service", err)
	}
}
