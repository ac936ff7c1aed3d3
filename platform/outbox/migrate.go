package outbox

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"trueup.dev/platform/sqldb"
)

//go:embed migrations
var migrationFiles embed.FS

// MigrationsTable is the golang-migrate version table of the outbox schema,
// apart from the service's own.
const MigrationsTable = "outbox_schema_migrations"

// Migrate creates or updates the outbox table.
func Migrate(ctx context.Context, db *sqldb.DB) error {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("outbox: migrations: %w", err)
	}
	if err := sqldb.Migrate(ctx, db, sub, MigrationsTable); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}
