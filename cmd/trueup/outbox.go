package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"trueup.dev/platform/config"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
)

const outboxHelp = `Usage:
  trueup outbox parked    --database-url URL [--limit N] [--json]
  trueup outbox retry     --database-url URL (--all | EVENT_ID...)
  trueup outbox republish --database-url URL --since RFC3339

Operates on the transactional outbox of one service's database (sqlite://… or
postgres://…; also TRUEUP_DATABASE_URL). The database must be migrated
already (trueup migrate <service>); nothing else is migrated or changed.

  parked     lists the events the relay gave up on: the broker refused each
             of them MaxAttempts times while it accepted other events (too
             large, no stream for the subject). Oldest first.
  retry      puts parked events back in line with a fresh attempt budget,
             after the cause is fixed: the given event ids, or --all.
  republish  marks every event sent at or after --since as unsent again, so
             the running relay publishes them once more. For a broker that
             lost writes it had acknowledged (a power loss under JetStream's
             periodic fsync). Every consumer receives those events again;
             their inboxes drop the ones already applied. Only events still
             kept after sending (the relay's retention, 72h by default) can
             be republished.

The service's relay picks the changed rows up within its poll interval (1s by
default); no NATS connection is needed here.
`

// runOutbox is "trueup outbox": the operator's view of events the relay could
// not deliver, and the repairs for them.
func runOutbox(ctx context.Context, args []string) error {
	return outboxCommand(ctx, args, os.Stdout)
}

func outboxCommand(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "parked" && args[0] != "retry" && args[0] != "republish") {
		fmt.Fprint(os.Stderr, outboxHelp)
		return errUsage
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("outbox " + sub)
	fs.Usage = func() { fmt.Fprint(fs.Output(), outboxHelp) }
	var (
		dbURL  config.Redacted
		limit  int
		asJSON bool
		all    bool
		since  string
	)
	config.Secret(fs, &dbURL, "database-url", "TRUEUP_DATABASE_URL", "the service's database DSN: sqlite://path or postgres://…")
	switch sub {
	case "parked":
		config.Int(fs, &limit, "limit", "", 100, "list at most this many parked events")
		config.Bool(fs, &asJSON, "json", "", false, "print one JSON object per parked event")
	case "retry":
		config.Bool(fs, &all, "all", "", false, "retry every parked event")
	case "republish":
		config.String(fs, &since, "since", "", "", "republish events sent at or after this time (RFC 3339, e.g. 2026-03-01T14:00:00Z)")
	}
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if dbURL.Reveal() == "" {
		return fmt.Errorf("trueup outbox %s: give --database-url (or TRUEUP_DATABASE_URL); see trueup outbox -h", sub)
	}
	// Check the arguments before touching the database.
	var from time.Time
	switch sub {
	case "parked", "republish":
		if fs.NArg() != 0 {
			return fmt.Errorf("trueup outbox %s: unexpected arguments %v", sub, fs.Args())
		}
		if sub == "republish" {
			if since == "" {
				return errors.New("trueup outbox republish: give --since (RFC 3339)")
			}
			t, err := time.Parse(time.RFC3339, since)
			if err != nil {
				return fmt.Errorf("trueup outbox republish: --since: %w", err)
			}
			if t.After(time.Now()) {
				return fmt.Errorf("trueup outbox republish: --since %s is in the future", since)
			}
			from = t
		}
	case "retry":
		if all == (fs.NArg() > 0) {
			return errors.New("trueup outbox retry: give --all or event ids, not both or neither")
		}
	}

	db, err := sqldb.Open(ctx, dbURL.Reveal())
	if err != nil {
		return err
	}
	defer db.Close()
	// No publisher: this Outbox only reads and changes rows; the service's
	// own relay publishes them.
	ob := outbox.New(db, nil, outbox.Options{})
	const hint = " (is this a service database migrated with trueup migrate?)"

	switch sub {
	case "parked":
		parked, err := ob.ListParked(ctx, limit)
		if err != nil {
			return fmt.Errorf("%w%s", err, hint)
		}
		return writeParked(out, parked, asJSON)
	case "retry":
		var n int
		if all {
			n, err = ob.UnparkAll(ctx)
		} else {
			n, err = ob.Unpark(ctx, fs.Args())
		}
		if err != nil {
			return fmt.Errorf("%w%s", err, hint)
		}
		fmt.Fprintf(out, "%d parked events put back in line\n", n)
		if !all && n < fs.NArg() {
			fmt.Fprintf(out, "%d of the ids given were not parked\n", fs.NArg()-n)
		}
		return nil
	default:
		n, err := ob.Republish(ctx, from)
		if err != nil {
			return fmt.Errorf("%w%s", err, hint)
		}
		fmt.Fprintf(out, "%d events sent since %s marked for republishing\n", n, from.Format(time.RFC3339))
		return nil
	}
}

func writeParked(out io.Writer, parked []outbox.ParkedEvent, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		for _, p := range parked {
			if err := enc.Encode(map[string]any{
				"seq": p.Seq, "event_id": p.ID, "subject": p.Subject, "type": p.Type, "attempts": p.Attempts,
				"last_error": p.LastError, "created_at": p.CreatedAt.UTC(), "parked_at": p.ParkedAt.UTC(),
			}); err != nil {
				return err
			}
		}
		return nil
	}
	if len(parked) == 0 {
		_, err := fmt.Fprintln(out, "no parked events")
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SEQ\tEVENT ID\tSUBJECT\tATTEMPTS\tPARKED AT\tLAST ERROR")
	for _, p := range parked {
		fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%s\n", p.Seq, p.ID, p.Subject, p.Attempts,
			p.ParkedAt.UTC().Format(time.RFC3339), p.LastError)
	}
	return w.Flush()
}
