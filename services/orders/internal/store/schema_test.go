package store_test

import (
	"testing"

	"trueup.dev/platform/testkit/schemacheck"
	"trueup.dev/services/orders/internal/store"
)

// The SQLite and PostgreSQL migration sets build the same tables and columns,
// so code tested on one dialect runs on the other.
func TestSchemasOfBothDialectsMatch(t *testing.T) { schemacheck.Check(t, store.Migrate) }
