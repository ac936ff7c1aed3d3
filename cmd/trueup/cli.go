package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"trueup.dev/cmd/trueup/internal/suite"
	"trueup.dev/platform/config"
	"trueup.dev/platform/logging"
	"trueup.dev/platform/telemetry"
)

const usage = `trueup keeps a warehouse and the books telling the same story.

Usage:
  trueup dev                 run every service, the gateway, embedded NATS and SQLite (demo data)
  trueup demo                play a realistic day against a running suite and print the books (exit 1 if unreconciled)
  trueup bench               measure the pipeline, the APIs and the ceilings of storage and broker (see BENCHMARKS.md)
  trueup serve <service>     run one service (inventory, orders, fulfillment, ledger) against PostgreSQL and NATS
  trueup gateway             run the partner REST/JSON gateway in front of the services
  trueup partners create|list|revoke   manage partners' API keys (shown once, stored hashed)
  trueup migrate <service>   migrate one service's database and exit
  trueup dlq list|replay     inspect and replay dead-lettered events
  trueup outbox parked|retry|republish   inspect and retry events the relay gave up on; republish after a broker data loss
  trueup audit               audit the item master (duplicates, gaps, unmapped codes, stock problems)
  trueup import-items FILE   import items from CSV or JSON lines, all or nothing (--dry-run to check only)
  trueup reconcile           compare the books with the warehouse at one journal watermark (exit 1 on a difference)
  trueup export-journal      export journal entries for an external GL as a recorded batch (CSV or JSON lines), each entry once

Run "trueup <command> -h" for the flags of a command; every flag also reads the
environment variable shown in its help.
`

// errUsage marks a command-line mistake: the usage text has been printed.
var errUsage = errors.New("usage error")

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "dev":
		return runDev(ctx, rest)
	case "serve":
		return runServe(ctx, rest)
	case "gateway":
		return runGateway(ctx, rest)
	case "partners":
		return runPartners(ctx, rest)
	case "migrate":
		return runMigrate(ctx, rest)
	case "dlq":
		return runDLQ(ctx, rest)
	case "outbox":
		return runOutbox(ctx, rest)
	case "audit":
		return runAudit(ctx, rest)
	case "import-items":
		return runImportItems(ctx, rest)
	case "reconcile":
		return runReconcile(ctx, rest)
	case "export-journal":
		return runExportJournal(ctx, rest)
	case "demo":
		return runDemo(ctx, rest)
	case "bench":
		return benchCommand(ctx, rest, os.Stdout, os.Stderr)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprintf(os.Stderr, "unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

// common are the flags every long-running command shares.
type common struct {
	logLevel     string
	otlpEndpoint string
	otlpInsecure bool
}

func (c *common) bind(fs *flag.FlagSet) {
	config.String(fs, &c.logLevel, "log-level", "TRUEUP_LOG_LEVEL", "info", "log level: debug, info, warn, error")
	config.String(fs, &c.otlpEndpoint, "otlp-endpoint", "TRUEUP_OTLP_ENDPOINT", "", "OTLP/gRPC collector host:port; empty exports nothing")
	config.Bool(fs, &c.otlpInsecure, "otlp-insecure", "TRUEUP_OTLP_INSECURE", true, "talk plaintext to the OTLP collector")
}

// setup builds the logger and telemetry for a process named service.
func (c *common) setup(ctx context.Context, service string, out io.Writer) (*slog.Logger, func(context.Context) error, error) {
	level, err := logging.ParseLevel(c.logLevel)
	if err != nil {
		return nil, nil, err
	}
	log := logging.New(out, level, service)
	slog.SetDefault(log)
	shutdown, err := telemetry.Setup(ctx, telemetry.Config{
		ServiceName:  "trueup-" + service,
		OTLPEndpoint: c.otlpEndpoint,
		OTLPInsecure: c.otlpInsecure,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: %w", err)
	}
	return log, shutdown, nil
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("trueup "+name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

// oneArg returns the single positional argument naming a service.
func oneService(fs *flag.FlagSet) (suite.ServiceDef, error) {
	if fs.NArg() != 1 {
		return suite.ServiceDef{}, fmt.Errorf("name one service: %s", strings.Join(suite.Names(), ", "))
	}
	return suite.Lookup(fs.Arg(0))
}
