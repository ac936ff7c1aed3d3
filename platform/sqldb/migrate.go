package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"regexp"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

// validTable keeps migrations table names to plain identifiers: golang-migrate's
// SQLite driver splices the name into its SQL unquoted.
var validTable = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Migrate applies every pending up-migration of the dialect. migrations holds
// one directory per dialect, "sqlite/" and "postgres/", each with
// golang-migrate files "NNNN_name.up.sql" and "NNNN_name.down.sql"; a file
// may hold several statements. With an embedded tree:
//
//	//go:embed migrations
//	var files embed.FS
//	sub, _ := fs.Sub(files, "migrations")
//	err := sqldb.Migrate(ctx, db, sub, "orders_schema_migrations")
//
// table is the version table of this migration set, so several sets (the
// platform's outbox and inbox, the service's own) live in one database. An
// up-to-date database is success. A database left dirty by a migration that
// failed halfway is an error that names the version: it needs a human.
// On PostgreSQL, concurrent Migrate calls from several replicas are
// serialised by golang-migrate's advisory lock.
//
// Each migration runs in one transaction on both dialects (SQLite: the
// driver's explicit transaction; PostgreSQL: the file is sent as one
// simple-protocol query, which runs as one implicit transaction), so a failed
// migration leaves its statements undone, though the version stays dirty.
func Migrate(ctx context.Context, db *DB, migrations fs.FS, table string) error {
	if !validTable.MatchString(table) {
		return fmt.Errorf("sqldb: migrations table name %q: want lower-case letters, digits and underscores", table)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	db.migrateMu.Lock()
	defer db.migrateMu.Unlock()

	src, err := iofs.New(migrations, string(db.Dialect))
	if err != nil {
		return fmt.Errorf("sqldb: %s migrations for %s: %w", db.Dialect, table, err)
	}
	defer src.Close()

	var (
		drv   database.Driver
		close func() error
	)
	switch db.Dialect {
	case SQLite:
		// The SQLite driver uses the pool as it is and holds nothing, so it
		// can share ours; its Close would close our pool, so it is not called.
		drv, err = migratesqlite.WithInstance(db.DB, &migratesqlite.Config{MigrationsTable: table})
		close = func() error { return nil }
	case Postgres:
		// The pgx driver pins one connection for its advisory lock and only
		// lets it go by closing the pool it was given: give it a pool of its own.
		if db.dsn == "" {
			return errors.New("sqldb: Migrate needs a postgres DB opened with sqldb.Open")
		}
		own, oerr := sql.Open("pgx", db.dsn)
		if oerr != nil {
			return fmt.Errorf("sqldb: migrate %s: %w", table, oerr)
		}
		own.SetMaxOpenConns(2)
		drv, err = migratepgx.WithInstance(own, &migratepgx.Config{MigrationsTable: table})
		if err != nil {
			_ = own.Close()
		}
		close = func() error { return drv.Close() } // closes the pinned connection and own
	default:
		return fmt.Errorf("sqldb: migrate: unknown dialect %q", db.Dialect)
	}
	if err != nil {
		return fmt.Errorf("sqldb: migrate %s on %s: %w", table, db.Dialect, err)
	}
	defer close()

	m, err := migrate.NewWithInstance("iofs", src, string(db.Dialect), drv)
	if err != nil {
		return fmt.Errorf("sqldb: migrate %s on %s: %w", table, db.Dialect, err)
	}
	// golang-migrate has no context; stop between migrations when ctx ends.
	stop := context.AfterFunc(ctx, func() {
		select {
		case m.GracefulStop <- true:
		default:
		}
	})
	defer stop()

	err = m.Up()
	var dirty migrate.ErrDirty
	switch {
	case err == nil, errors.Is(err, migrate.ErrNoChange):
		return ctx.Err()
	case errors.As(err, &dirty):
		return fmt.Errorf("sqldb: %s database is dirty at version %d of %s: a migration failed halfway; "+
			"repair the schema by hand, then force the version with the migrate tool: %w",
			db.Dialect, dirty.Version, table, err)
	default:
		return fmt.Errorf("sqldb: migrate %s on %s: %w", table, db.Dialect, err)
	}
}
