package store_test

import (
	"testing"

	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/schemacheck"
	"trueup.dev/services/inventory/internal/store"
)

// The SQLite and PostgreSQL migration sets build the same tables and columns,
// so code tested on one dialect runs on the other.
func TestSchemasOfBothDialectsMatch(t *testing.T) {
	schemacheck.Check(t, store.Migrate, schemacheck.Exception{
		Only: sqldb.Postgres, Name: "movements.txid",
		Why: "PostgreSQL takes a seq at insert, not at commit, so ListMovements pages only up to the oldest running " +
			"transaction; SQLite's writers are serial, so seq order is commit order there",
	})
}
