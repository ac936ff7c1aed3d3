package idempotency_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"trueup.dev/platform/idempotency"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
)

// TestPurgeForgetsOldRequestIDsInChunks: more than one chunk of expired
// claims is purged in full, recent ones stay.
func TestPurgeForgetsOldRequestIDsInChunks(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		if err := idempotency.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		old := sqldb.Timestamp(time.Now().Add(-40 * 24 * time.Hour))
		const nOld, nNew = 11_000, 7
		if err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
			for start := 0; start < nOld+nNew; start += 500 {
				var b strings.Builder
				var args []any
				for i := start; i < min(start+500, nOld+nNew); i++ {
					if i > start {
						b.WriteString(", ")
					}
					at := old
					if i >= nOld {
						at = sqldb.Now()
					}
					args = append(args, fmt.Sprintf("k%d", i), at)
					fmt.Fprintf(&b, "('internal/Cmd', $%d, 'fp', $%d)", len(args)-1, len(args))
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES `+b.String(), args...); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		n, err := idempotency.Purge(ctx, db, time.Now().Add(-idempotency.Retention))
		if err != nil {
			t.Fatal(err)
		}
		if n != nOld {
			t.Errorf("purged %d, want %d", n, nOld)
		}
		var left int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM idempotency_keys`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != nNew {
			t.Errorf("%d claims left, want the %d recent ones", left, nNew)
		}
	})
}
