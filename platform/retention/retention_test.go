package retention_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"trueup.dev/platform/caller"
	"trueup.dev/platform/idempotency"
	"trueup.dev/platform/inbox"
	"trueup.dev/platform/retention"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func count(t *testing.T, db *sqldb.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Old request ids and inbox records go; recent ones stay, on both dialects.
func TestPurgeKeepsRecentRows(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if err := idempotency.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := inbox.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		old := sqldb.Timestamp(time.Now().Add(-90 * 24 * time.Hour))
		for i, at := range []time.Time{old, sqldb.Now()} {
			if _, err := db.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) VALUES ($3, $1, 'f', $2)`, fmt.Sprint(i), at, caller.From(ctx).Qualify("S")); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO inbox (consumer, event_id, processed_at) VALUES ('c', $1, $2)`, fmt.Sprint(i), at); err != nil {
				t.Fatal(err)
			}
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { retention.Run(runCtx, db, nil, time.Hour, retention.Idempotency, retention.Inbox); close(done) }()
		deadline := time.Now().Add(10 * time.Second)
		for count(t, db, "idempotency_keys") != 1 || count(t, db, "inbox") != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("not purged: %d keys, %d inbox rows", count(t, db, "idempotency_keys"), count(t, db, "inbox"))
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		// The recent claim still answers a retry.
		err := db.WithTx(ctx, func(tx *sqldb.Tx) error {
			_, replay, err := idempotency.Claim(ctx, tx, "S", "1", "f")
			if err == nil && !replay {
				t.Error("a recent request id was forgotten")
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
