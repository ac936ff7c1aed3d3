package schemacheck

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"trueup.dev/platform/sqldb"
)

// Read returns the tables, columns and unique keys of db's current schema
// (on PostgreSQL, the current search-path schema), leaving out SQLite's own
// tables.
func Read(ctx context.Context, db *sqldb.DB) (Schema, error) {
	switch db.Dialect {
	case sqldb.SQLite:
		return readSQLite(ctx, db)
	case sqldb.Postgres:
		return readPostgres(ctx, db)
	}
	return nil, fmt.Errorf("schemacheck: unknown dialect %q", db.Dialect)
}

func readSQLite(ctx context.Context, db *sqldb.DB) (Schema, error) {
	tables, err := queryStrings(ctx, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	s := Schema{}
	for _, table := range tables {
		t, err := readSQLiteTable(ctx, db, table)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", table, err)
		}
		s[table] = t
	}
	return s, nil
}

func readSQLiteTable(ctx context.Context, db *sqldb.DB, table string) (Table, error) {
	t := Table{Columns: map[string]Column{}}
	// The pragma table-valued functions take names as bound arguments, so no
	// quoting of identifiers is needed.
	rows, err := db.QueryContext(ctx, `SELECT name, type, "notnull", pk FROM pragma_table_info($1)`, table)
	if err != nil {
		return t, err
	}
	pk := map[int]string{}
	for rows.Next() {
		var (
			name, typ     string
			notNull, pkAt int
		)
		if err := rows.Scan(&name, &typ, &notNull, &pkAt); err != nil {
			rows.Close()
			return t, err
		}
		t.Columns[name] = Column{Kind: Kind(typ), NotNull: notNull != 0 || pkAt != 0}
		if pkAt != 0 {
			pk[pkAt] = name
		}
	}
	if err := closeRows(rows); err != nil {
		return t, err
	}
	// The primary key from the columns: an INTEGER PRIMARY KEY is the rowid
	// and has no index to find it by.
	if len(pk) > 0 {
		var cols []string
		for _, at := range slices.Sorted(maps.Keys(pk)) {
			cols = append(cols, pk[at])
		}
		t.Unique = append(t.Unique, uniqueKey(cols))
	}
	indexes, err := queryStrings(ctx, db,
		`SELECT name FROM pragma_index_list($1) WHERE "unique" = 1 AND origin <> 'pk' AND partial = 0 ORDER BY name`, table)
	if err != nil {
		return t, err
	}
	for _, index := range indexes {
		cols, err := queryStrings(ctx, db, `SELECT COALESCE(name, '') FROM pragma_index_info($1) ORDER BY seqno`, index)
		if err != nil {
			return t, fmt.Errorf("index %s: %w", index, err)
		}
		if slices.Contains(cols, "") {
			continue // an expression index: not compared
		}
		t.Unique = append(t.Unique, uniqueKey(cols))
	}
	slices.Sort(t.Unique)
	t.Unique = slices.Compact(t.Unique)
	return t, nil
}

func readPostgres(ctx context.Context, db *sqldb.DB) (Schema, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT c.table_name, c.column_name, c.data_type, c.is_nullable
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`)
	if err != nil {
		return nil, fmt.Errorf("columns: %w", err)
	}
	s := Schema{}
	for rows.Next() {
		var table, name, typ, nullable string
		if err := rows.Scan(&table, &name, &typ, &nullable); err != nil {
			rows.Close()
			return nil, fmt.Errorf("columns: %w", err)
		}
		t, ok := s[table]
		if !ok {
			t = Table{Columns: map[string]Column{}}
		}
		t.Columns[name] = Column{Kind: Kind(typ), NotNull: nullable == "NO"}
		s[table] = t
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("columns: %w", err)
	}
	// Unique indexes, which back both PRIMARY KEY and UNIQUE constraints;
	// partial and expression indexes (indpred, indexprs) are left out.
	rows, err = db.QueryContext(ctx, `
		SELECT t.relname, array_to_string(ARRAY(
			SELECT a.attname FROM unnest(i.indkey::int2[]) AS k(attnum)
			JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum), ',')
		FROM pg_index i
		JOIN pg_class t ON t.oid = i.indrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE i.indisunique AND n.nspname = current_schema() AND i.indpred IS NULL AND i.indexprs IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("unique keys: %w", err)
	}
	for rows.Next() {
		var table, cols string
		if err := rows.Scan(&table, &cols); err != nil {
			rows.Close()
			return nil, fmt.Errorf("unique keys: %w", err)
		}
		if t, ok := s[table]; ok {
			t.Unique = append(t.Unique, uniqueKey(strings.Split(cols, ",")))
			s[table] = t
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, fmt.Errorf("unique keys: %w", err)
	}
	for name, t := range s {
		slices.Sort(t.Unique)
		t.Unique = slices.Compact(t.Unique)
		s[name] = t
	}
	return s, nil
}

func queryStrings(ctx context.Context, db *sqldb.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, s)
	}
	return out, closeRows(rows)
}

func closeRows(rows *sql.Rows) error {
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}
