package sqldb

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	sqliteBusy   = sqlite3.SQLITE_BUSY
	sqliteLocked = sqlite3.SQLITE_LOCKED
)

// IsUniqueViolation reports whether err comes from a UNIQUE or PRIMARY KEY
// constraint (PostgreSQL 23505; SQLite CONSTRAINT_UNIQUE or
// CONSTRAINT_PRIMARYKEY), so a store can turn a duplicate insert into
// apperr.AlreadyExists.
func IsUniqueViolation(err error) bool {
	if code, ok := pgCode(err); ok {
		return code == "23505"
	}
	if code, ok := sqliteCode(err); ok {
		return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// pgCode returns the SQLSTATE of a PostgreSQL error in err's chain.
func pgCode(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code, true
	}
	return "", false
}

// sqliteCode returns the extended result code of a SQLite error in err's chain.
func sqliteCode(err error) (int, bool) {
	var sqlErr *sqlite.Error
	if errors.As(err, &sqlErr) {
		return sqlErr.Code(), true
	}
	return 0, false
}
