package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"trueup.dev/platform/config"
	"trueup.dev/platform/natsx"
)

// defaultNATSURL is where a production NATS is looked for by default.
const defaultNATSURL = "nats://localhost:4222"

// devNATSURLFile, in the dev data directory, holds the embedded NATS URL.
const devNATSURLFile = "nats-url"

const dlqUsage = `usage:
  trueup dlq list   [FILTER...]
  trueup dlq replay [--force] (SEQ... | --all | FILTER...)
filters: --stream S --durable D --subject SUBJ --event-id ID --since T --until T (RFC 3339)`

// dlqArgs is a parsed `trueup dlq` command line.
type dlqArgs struct {
	sub              string // list or replay
	natsURL, dataDir string
	filter           natsx.DeadLetterFilter
	all, force       bool
}

// parseDLQArgs parses `trueup dlq` arguments. A replay must say what to replay
// (sequence numbers, a filter or --all): a bare `replay` replaying everything
// would be too easy a mistake.
func parseDLQArgs(args []string) (dlqArgs, error) {
	var a dlqArgs
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		return a, errors.New(dlqUsage)
	}
	a.sub, args = args[0], args[1:]
	fs := newFlagSet("dlq " + a.sub)
	var since, until string
	f := &a.filter
	config.String(fs, &a.natsURL, "nats-url", "TRUEUP_NATS_URL", defaultNATSURL, "NATS JetStream URL (default: the running `trueup dev` stack's, else "+defaultNATSURL+")")
	config.String(fs, &a.dataDir, "data-dir", "TRUEUP_DATA_DIR", ".trueup", "the `trueup dev` data directory, to find its NATS")
	config.String(fs, &f.Stream, "stream", "", "", "only dead letters from this stream")
	config.String(fs, &f.Durable, "durable", "", "", "only this consumer's dead letters")
	config.String(fs, &f.Subject, "subject", "", "", "only events published on this subject")
	config.String(fs, &f.EventID, "event-id", "", "", "only this event")
	config.String(fs, &since, "since", "", "", "only dead letters parked at or after this time (RFC 3339)")
	config.String(fs, &until, "until", "", "", "only dead letters parked before this time (RFC 3339)")
	if a.sub == "replay" {
		config.Bool(fs, &a.all, "all", "", false, "replay every dead letter")
		config.Bool(fs, &a.force, "force", "", false, "also replay dead letters older than the inbox retention (they may be applied twice: check by hand first)")
	}
	if err := config.Parse(fs, args); err != nil {
		return a, err
	}
	for _, t := range []struct {
		name, value string
		into        *time.Time
	}{{"since", since, &f.Since}, {"until", until, &f.Until}} {
		if t.value == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.value)
		if err != nil {
			return a, fmt.Errorf("--%s %q: want an RFC 3339 time such as 2026-11-30T08:00:00Z: %w", t.name, t.value, err)
		}
		*t.into = v
	}
	for _, arg := range fs.Args() {
		if a.sub == "list" {
			return a, fmt.Errorf("dlq list takes no arguments, got %q\n%s", arg, dlqUsage)
		}
		seq, err := strconv.ParseUint(arg, 10, 64)
		if err != nil {
			return a, fmt.Errorf("sequence %q: %w", arg, err)
		}
		f.Seqs = append(f.Seqs, seq)
	}
	if a.sub == "replay" {
		selective := !isZeroFilter(a.filter)
		if a.all && selective {
			return a, errors.New("dlq replay: --all replays every dead letter; drop it to replay only the selected ones")
		}
		if !a.all && !selective {
			return a, errors.New("dlq replay: say what to replay: sequence numbers, a filter or --all\n" + dlqUsage)
		}
	}
	return a, nil
}

func isZeroFilter(f natsx.DeadLetterFilter) bool {
	return len(f.Seqs) == 0 && f.Stream == "" && f.Durable == "" && f.Subject == "" && f.EventID == "" &&
		f.Since.IsZero() && f.Until.IsZero()
}

// runDLQ lists or replays dead-lettered events: those a consumer failed to handle
// after its retries. Nothing is dropped silently; an operator fixes the cause and
// replays, which reaches only the consumer that failed.
func runDLQ(ctx context.Context, args []string) error {
	a, err := parseDLQArgs(args)
	if err != nil {
		return err
	}
	if a.natsURL == defaultNATSURL {
		// `trueup dev` runs NATS on a free port and writes its URL here.
		if b, err := os.ReadFile(filepath.Join(a.dataDir, devNATSURLFile)); err == nil {
			a.natsURL = strings.TrimSpace(string(b))
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	nc, err := natsx.Connect(cctx, a.natsURL, "trueup-dlq")
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	return dlqCommand(ctx, js, a, os.Stdout, os.Stderr)
}

// dlqCommand runs a parsed `trueup dlq` command against js.
func dlqCommand(ctx context.Context, js jetstream.JetStream, a dlqArgs, stdout, stderr io.Writer) error {
	if a.sub == "list" {
		letters, err := natsx.FindDeadLetters(ctx, js, a.filter)
		if err != nil {
			return err
		}
		if len(letters) == 0 {
			// On stderr, so stdout stays JSON lines (none) for scripts.
			fmt.Fprintln(stderr, "no dead letters")
		}
		enc := json.NewEncoder(stdout)
		for _, d := range letters {
			if err := enc.Encode(map[string]any{
				"seq": d.Seq, "stream": d.Stream, "stream_seq": d.StreamSeq, "durable": d.Durable,
				"subject": d.Subject, "event_id": d.EventID, "type": d.Type, "error": d.Error,
				"delivered": d.Delivered, "at": d.At,
			}); err != nil {
				return err
			}
		}
		return nil
	}
	if a.force {
		fmt.Fprintf(stderr, "WARNING: --force replays dead letters older than %s too. Consumers' inboxes forget events after that,\n"+
			"so one that was in fact applied (parked after a crash, or replayed before) will be applied twice.\n", natsx.ReplayMaxAge)
	}
	done, err := natsx.ReplayDeadLetters(ctx, js, a.filter, natsx.ReplayOptions{Force: a.force})
	if len(done) > 0 {
		fmt.Fprintf(stdout, "replayed %d dead letters: %s\n", len(done), joinSeqs(done))
	}
	if err != nil {
		return err
	}
	if len(done) == 0 {
		fmt.Fprintln(stdout, "no dead letters matched")
	}
	return nil
}

func joinSeqs(seqs []uint64) string {
	s := make([]string, len(seqs))
	for i, seq := range seqs {
		s[i] = strconv.FormatUint(seq, 10)
	}
	return strings.Join(s, " ")
}
