package storetx

import (
	"context"
	"fmt"
	"io/fs"

	"trueup.dev/platform/idempotency"
	"trueup.dev/platform/inbox"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
)

// Schema is one service's database: the platform tables its transactions
// write (the outbox and idempotency keys that every Tx uses, and the inbox if
// the service consumes events) plus its own migration set. A store declares
// one and exports its Migrate:
//
//	//go:embed migrations
//	var migrations embed.FS
//
//	var schema = storetx.Schema{Name: "ledger", Files: migrations, Dir: "migrations", Table: MigrationsTable}
//
//	func Migrate(ctx context.Context, db *sqldb.DB) error { return schema.Migrate(ctx, db) }
type Schema struct {
	// Name names the service in errors ("migrate ledger: ...").
	Name string
	// Files holds the service's migrations under Dir: one directory per
	// dialect, "sqlite/" and "postgres/" (see sqldb.Migrate).
	Files fs.FS
	// Dir is the directory of Files that holds the dialect directories; empty
	// means its root.
	Dir string
	// Table is the golang-migrate version table of the service's own set,
	// "<name>_schema_migrations". It is spelt out rather than derived from
	// Name because a deployed database already records its version there:
	// renaming it would replay every migration.
	Table string
	// Inbox says the service consumes events, so the inbox table is migrated
	// too (see inbox.Process).
	Inbox bool
}

// Migrate brings the platform tables and then the service's own schema up to
// date. The platform sets go first because a service's migrations may refer
// to them, never the other way round. An up-to-date database is success, so
// every replica may run it at start-up.
func (s Schema) Migrate(ctx context.Context, db *sqldb.DB) error {
	sets := []func(context.Context, *sqldb.DB) error{outbox.Migrate, idempotency.Migrate}
	if s.Inbox {
		sets = append(sets, inbox.Migrate)
	}
	for _, m := range sets {
		if err := m(ctx, db); err != nil {
			return fmt.Errorf("migrate %s: %w", s.Name, err)
		}
	}
	files := s.Files
	if s.Dir != "" {
		sub, err := fs.Sub(s.Files, s.Dir)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", s.Name, err)
		}
		files = sub
	}
	if err := sqldb.Migrate(ctx, db, files, s.Table); err != nil {
		return fmt.Errorf("migrate %s: %w", s.Name, err)
	}
	return nil
}
