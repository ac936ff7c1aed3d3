package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
)

// The operator's outbox commands list parked events, retry them and mark
// sent events for republishing, on an existing migrated database.
func TestOutboxCommands(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "service.db")
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := outbox.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	ob := outbox.New(db, nil, outbox.Options{})
	msgs := []outbox.Message{
		{ID: "evt-parked", Subject: "test.v1.Big", Type: "trueup.test.v1.Big"},
		{ID: "evt-sent", Subject: "test.v1.Small", Type: "trueup.test.v1.Small"},
		{ID: "evt-waiting", Subject: "test.v1.Small", Type: "trueup.test.v1.Small"},
	}
	if err := db.WithTx(ctx, func(tx *sqldb.Tx) error { return ob.Add(ctx, tx, msgs...) }); err != nil {
		t.Fatal(err)
	}
	// What a relay leaves behind: one row parked, one sent, one waiting.
	now := sqldb.Now()
	if _, err := db.ExecContext(ctx, `UPDATE outbox SET parked_at = $1, attempts = 20, last_error = 'message too large' WHERE id = 'evt-parked'`, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE outbox SET sent_at = $1, attempts = 1 WHERE id = 'evt-sent'`, now); err != nil {
		t.Fatal(err)
	}

	cmd := func(args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		err := outboxCommand(ctx, args, &out)
		return out.String(), err
	}

	out, err := cmd("parked", "--database-url", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "evt-parked") || !strings.Contains(out, "message too large") || strings.Contains(out, "evt-waiting") {
		t.Errorf("parked listing:\n%s", out)
	}
	out, err = cmd("parked", "--database-url", dsn, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var row struct {
		EventID  string `json:"event_id"`
		Attempts int    `json:"attempts"`
	}
	if err := json.Unmarshal([]byte(out), &row); err != nil || row.EventID != "evt-parked" || row.Attempts != 20 {
		t.Errorf("parked --json = %q (%v)", out, err)
	}

	for _, bad := range [][]string{
		{"retry", "--database-url", dsn},
		{"retry", "--database-url", dsn, "--all", "evt-parked"},
		{"retry", "evt-parked"}, // no database
		{"republish", "--database-url", dsn},
		{"republish", "--database-url", dsn, "--since", "yesterday"},
		{"republish", "--database-url", dsn, "--since", time.Now().Add(time.Hour).Format(time.RFC3339)},
		{"purge"},
	} {
		if _, err := cmd(bad...); err == nil {
			t.Errorf("outbox %v succeeded, want a usage error", bad)
		}
	}

	out, err = cmd("retry", "--database-url", dsn, "evt-parked", "evt-waiting")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "1 parked events put back") || !strings.Contains(out, "1 of the ids given were not parked") {
		t.Errorf("retry output: %q", out)
	}
	if n, err := ob.Parked(ctx); err != nil || n != 0 {
		t.Errorf("%d parked after retry (%v)", n, err)
	}
	if out, err = cmd("parked", "--database-url", dsn); err != nil || !strings.Contains(out, "no parked events") {
		t.Errorf("parked after retry: %q, %v", out, err)
	}
	if out, err = cmd("retry", "--database-url", dsn, "--all"); err != nil || !strings.Contains(out, "0 parked events") {
		t.Errorf("retry --all with nothing parked: %q, %v", out, err)
	}

	out, err = cmd("republish", "--database-url", dsn, "--since", now.Add(-time.Minute).Format(time.RFC3339))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "1 events sent since") {
		t.Errorf("republish output: %q", out)
	}
	if n, err := ob.Pending(ctx); err != nil || n != 3 {
		t.Errorf("%d pending after republish (%v), want all 3", n, err)
	}

	// An unmigrated database is named as the likely cause.
	empty := "sqlite://" + filepath.Join(t.TempDir(), "empty.db")
	if _, err := cmd("parked", "--database-url", empty); err == nil || !strings.Contains(err.Error(), "trueup migrate") {
		t.Errorf("parked on an unmigrated database: %v", err)
	}
}
