package sqldb

import (
	"database/sql"
	"fmt"
	"testing"
)

func TestPositional(t *testing.T) {
	tests := []struct {
		q     string
		args  []any
		wantQ string
		wantA []any
	}{
		{`SELECT a FROM t WHERE x = $1 AND y = $2`, []any{1, 2}, `SELECT a FROM t WHERE x = ? AND y = ?`, []any{1, 2}},
		{`UPDATE t SET a = $2 WHERE k = $1 OR j = $2`, []any{"k", "v"}, `UPDATE t SET a = ? WHERE k = ? OR j = ?`, []any{"v", "k", "v"}},
		{`INSERT INTO t VALUES ($1, '$2 is text', "col$3", $10)`, []any{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, `INSERT INTO t VALUES (?, '$2 is text', "col$3", ?)`, []any{1, 10}},
		{`SELECT 'it''s $1' -- $2 here
			, $1 /* $3 */`, []any{"a"}, `SELECT 'it''s $1' -- $2 here
			, ? /* $3 */`, []any{"a"}},
		{`SELECT json_extract(v, '$.a') FROM t WHERE id = $1`, []any{7}, `SELECT json_extract(v, '$.a') FROM t WHERE id = ?`, []any{7}},
		// Left alone: no placeholders, other styles, named arguments, too few arguments.
		{`SELECT 1`, nil, `SELECT 1`, nil},
		{`SELECT ? , $1`, []any{1}, `SELECT ? , $1`, []any{1}},
		{`SELECT :name`, []any{1}, `SELECT :name`, []any{1}},
		{`SELECT $1`, []any{sql.Named("x", 1)}, `SELECT $1`, []any{sql.Named("x", 1)}},
		{`SELECT $2`, []any{1}, `SELECT $2`, []any{1}},
		{`SELECT 'unterminated $1`, []any{1}, `SELECT 'unterminated $1`, []any{1}},
	}
	for _, tt := range tests {
		q, a := positional(SQLite, tt.q, tt.args)
		if q != tt.wantQ || fmt.Sprint(a) != fmt.Sprint(tt.wantA) {
			t.Errorf("positional(%q, %v) = %q, %v; want %q, %v", tt.q, tt.args, q, a, tt.wantQ, tt.wantA)
		}
		if q, a := positional(Postgres, tt.q, tt.args); q != tt.q || fmt.Sprint(a) != fmt.Sprint(tt.args) {
			t.Errorf("PostgreSQL text changed: %q", q)
		}
	}
}

// TestPositionalOnARealDatabase runs rewritten statements (repeated and
// reordered arguments) against SQLite.
func TestPositionalOnARealDatabase(t *testing.T) {
	db, err := Open(t.Context(), "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, `CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT, w TEXT)`); err != nil {
		t.Fatal(err)
	}
	err = db.WithTx(ctx, func(tx *Tx) error {
		for range 3 { // the third run goes through the prepared-statement cache
			if _, err := tx.ExecContext(ctx, `INSERT INTO kv (k, v, w) VALUES ($2, $1, $1) ON CONFLICT (k) DO UPDATE SET v = $1 || $2`, "one", "k1"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var v, w string
	if err := db.QueryRowContext(ctx, `SELECT v, w FROM kv WHERE k = $1 AND $1 = $1`, "k1").Scan(&v, &w); err != nil || v != "onek1" || w != "one" {
		t.Fatalf("v, w = %q, %q, %v; want onek1, one", v, w, err)
	}
}
