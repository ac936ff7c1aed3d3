package schemacheck

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"trueup.dev/platform/sqldb"
)

// Schema is a database's tables by name.
type Schema map[string]Table

// Table is one table as the check compares it.
type Table struct {
	// Columns are the table's columns by name.
	Columns map[string]Column
	// Unique are its unique keys, the primary key among them, each its
	// column names sorted and joined by ", ": a key's column order changes
	// nothing about what it refuses. Partial and expression indexes are left
	// out.
	Unique []string
}

// Column is one column as the check compares it.
type Column struct {
	// Kind is the column's type reduced to what both dialects share (see
	// Kind): "integer", "text", "boolean", "bytes", "numeric", "float",
	// "timestamp", or the declared type itself when it is none of these.
	Kind string
	// NotNull is whether the column refuses NULL. A primary-key column counts
	// as NOT NULL on SQLite too, as it does on PostgreSQL.
	NotNull bool
}

// Difference is one way two schemas differ.
type Difference struct {
	// Name is the table, "table.column", or "table(unique key)" that differs.
	Name string
	// Only is the dialect that has it when it exists on one dialect only,
	// else empty (a column on both, with another type or nullability).
	Only sqldb.Dialect
	// Text says how, for a test failure.
	Text string
}

// String is the difference as a test failure reports it.
func (d Difference) String() string { return d.Text }

// Diff lists the differences between a SQLite schema and a PostgreSQL one,
// in table order; none means they match. Version tables of golang-migrate are
// not compared (see Check).
func Diff(sqlite, postgres Schema) []Difference {
	var out []Difference
	add := func(name string, only sqldb.Dialect, format string, args ...any) {
		out = append(out, Difference{Name: name, Only: only, Text: fmt.Sprintf(format, args...)})
	}
	for _, table := range slices.Sorted(maps.Keys(union(sqlite, postgres))) {
		if isVersionTable(table) {
			continue
		}
		lt, inLite := sqlite[table]
		pt, inPG := postgres[table]
		switch {
		case !inPG:
			add(table, sqldb.SQLite, "table %s exists on SQLite only", table)
			continue
		case !inLite:
			add(table, sqldb.Postgres, "table %s exists on PostgreSQL only", table)
			continue
		}
		for _, col := range slices.Sorted(maps.Keys(union(lt.Columns, pt.Columns))) {
			l, inLite := lt.Columns[col]
			p, inPG := pt.Columns[col]
			name := table + "." + col
			switch {
			case !inPG:
				add(name, sqldb.SQLite, "column %s exists on SQLite only", name)
			case !inLite:
				add(name, sqldb.Postgres, "column %s exists on PostgreSQL only", name)
			case l.Kind != p.Kind:
				add(name, "", "column %s is %s on SQLite but %s on PostgreSQL", name, l.Kind, p.Kind)
			case l.NotNull != p.NotNull:
				add(name, "", "column %s is %s on SQLite but %s on PostgreSQL", name, nullability(l.NotNull), nullability(p.NotNull))
			}
		}
		lu, pu := set(lt.Unique), set(pt.Unique)
		for _, key := range slices.Sorted(maps.Keys(union(lu, pu))) {
			name := table + "(" + key + ")"
			switch {
			case !pu[key]:
				add(name, sqldb.SQLite, "unique key %s exists on SQLite only", name)
			case !lu[key]:
				add(name, sqldb.Postgres, "unique key %s exists on PostgreSQL only", name)
			}
		}
	}
	return out
}

// isVersionTable reports whether table is one golang-migrate keeps its
// version in (sqldb.Migrate names one per migration set).
func isVersionTable(table string) bool {
	return table == "schema_migrations" || strings.HasSuffix(table, "_schema_migrations")
}

// uniqueKey is the form Table.Unique holds a key in.
func uniqueKey(columns []string) string {
	c := slices.Clone(columns)
	slices.Sort(c)
	return strings.Join(c, ", ")
}

func set(keys []string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func union[V any](a, b map[string]V) map[string]bool {
	u := make(map[string]bool, len(a)+len(b))
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

func nullability(notNull bool) string {
	if notNull {
		return "NOT NULL"
	}
	return "nullable"
}

// Kind reduces a declared column type, of either dialect, to the kind of
// value it holds, so that SQLite's INTEGER and PostgreSQL's bigint, or TEXT
// and character varying, compare equal. Width is deliberately ignored: SQLite
// stores every integer in up to 8 bytes and every string unbounded, so only
// PostgreSQL's width matters, and it has one migration set.
func Kind(declared string) string {
	t := strings.ToLower(strings.TrimSpace(declared))
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "integer", "int", "int2", "int4", "int8", "smallint", "bigint", "serial", "bigserial", "smallserial":
		return "integer"
	case "text", "varchar", "character varying", "char", "character", "clob", "uuid":
		return "text"
	case "boolean", "bool":
		return "boolean"
	case "blob", "bytea":
		return "bytes"
	case "numeric", "decimal":
		return "numeric"
	case "real", "double", "double precision", "float", "float4", "float8":
		return "float"
	case "timestamp", "timestamptz", "datetime", "timestamp without time zone", "timestamp with time zone":
		return "timestamp"
	}
	return t
}
