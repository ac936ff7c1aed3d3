package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// runDLQ lists or replays dead-lettered events: those a consumer failed to handle
// after its retries. Nothing is dropped silently; an operator fixes the cause and
// replays.
func runDLQ(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		return errors.New("usage: trueup dlq list [--durable NAME] | trueup dlq replay SEQ")
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("dlq " + sub)
	var natsURL, durable, dataDir string
	config.String(fs, &natsURL, "nats-url", "TRUEUP_NATS_URL", defaultNATSURL, "NATS JetStream URL (default: the running `trueup dev` stack's, else "+defaultNATSURL+")")
	config.String(fs, &dataDir, "data-dir", "TRUEUP_DATA_DIR", ".trueup", "the `trueup dev` data directory, to find its NATS")
	config.String(fs, &durable, "durable", "", "", "only this consumer's dead letters")
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if natsURL == defaultNATSURL {
		// `trueup dev` runs NATS on a free port and writes its URL here.
		if b, err := os.ReadFile(filepath.Join(dataDir, devNATSURLFile)); err == nil {
			natsURL = strings.TrimSpace(string(b))
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	nc, err := natsx.Connect(cctx, natsURL, "trueup-dlq")
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		letters, err := natsx.ListDeadLetters(ctx, js, durable)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(os.Stdout)
		for _, d := range letters {
			if err := enc.Encode(map[string]any{
				"seq": d.Seq, "durable": d.Durable, "subject": d.Subject, "event_id": d.EventID,
				"type": d.Type, "error": d.Error, "delivered": d.Delivered, "at": d.At,
			}); err != nil {
				return err
			}
		}
		return nil
	default:
		if fs.NArg() != 1 {
			return errors.New("usage: trueup dlq replay SEQ")
		}
		seq, err := strconv.ParseUint(fs.Arg(0), 10, 64)
		if err != nil {
			return fmt.Errorf("sequence %q: %w", fs.Arg(0), err)
		}
		if err := natsx.ReplayDeadLetter(ctx, js, seq); err != nil {
			return err
		}
		fmt.Printf("replayed dead letter %d\n", seq)
		return nil
	}
}
