package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"trueup.dev/cmd/trueup/internal/demo"
	"trueup.dev/platform/config"
)

const demoHelp = `Usage: trueup demo [flags]

Plays a realistic day against a running suite (start one with "make run"),
only through its public APIs: the demo partner creates purchase orders over
REST, the dock receives them (some short, some damaged, an item nobody
ordered), puts them away, the supplier bills them (some over the order's
price); the partner places sales orders, the pickers pick them (some short:
backorders), the packers ship them with tracking numbers, the customers pay;
a transfer goes to a second warehouse and a cycle count finds a difference.
Then it prints what a controller closing the day looks at: the trial
balance, inventory valuation by warehouse, the reconciliation, open receipt
discrepancies, GRNI ageing and order-to-cash times.

Each run plays a new day (its own request ids); --run-id replays one, which
changes nothing. Exit status 1 when the books do not reconcile.

Flags:
`

func runDemo(ctx context.Context, args []string) error {
	return demoCommand(ctx, args, os.Stdout, os.Stderr)
}

// demoCommand is `trueup demo`: the summary goes to stdout, progress to
// stderr.
func demoCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo")
	fs.Usage = func() { fmt.Fprint(fs.Output(), demoHelp); fs.PrintDefaults() }
	var (
		grpcAddr, httpAddr, apiKey, runID string
		asJSON                            bool
		pos, sos, workers                 int
		seed                              int
		client                            clientFlags
	)
	config.String(fs, &grpcAddr, "grpc-addr", "TRUEUP_GRPC_ADDR", "localhost:9090", "gRPC address of the services (the `trueup dev` stack's)")
	config.String(fs, &httpAddr, "http-addr", "TRUEUP_HTTP_ADDR", "localhost:8080", "address of the REST gateway")
	config.String(fs, &apiKey, "api-key", "TRUEUP_API_KEY", "", "the partner's API key (default: the dev stack's demo partner, from --data-dir)")
	client.bind(fs)
	config.String(fs, &runID, "run-id", "", "", "the day's id, part of every request id (default: the time now)")
	config.Int(fs, &seed, "seed", "", 1, "seed of the day's choices: the same seed plays the same day")
	config.Int(fs, &pos, "purchase-orders", "", 24, "purchase orders to receive")
	config.Int(fs, &sos, "sales-orders", "", 200, "sales orders to ship")
	config.Int(fs, &workers, "workers", "", 8, "clerks and pickers working at once")
	config.Bool(fs, &asJSON, "json", "", false, "print the summary as JSON (progress still goes to stderr)")
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("trueup demo: unexpected arguments %v", fs.Args())
	}
	if pos < 1 || sos < 1 || workers < 1 || pos > 10000 || sos > 100000 || workers > 256 {
		return errors.New("trueup demo: --purchase-orders, --sales-orders and --workers must be positive (at most 10000, 100000 and 256)")
	}
	if apiKey == "" {
		b, err := os.ReadFile(filepath.Join(client.dataDir, "dev-api-key"))
		if err != nil {
			return fmt.Errorf("trueup demo: no --api-key, and no dev stack's key in %s (start one with make run): %w", client.dataDir, err)
		}
		apiKey = strings.TrimSpace(string(b))
	}
	t, err := client.target(grpcAddr)
	if err != nil {
		return err
	}
	// Plain gRPC status errors (not grpcserver.Dial's apperr values): the
	// demo tells NotFound and AlreadyExists apart by their codes.
	conn, err := grpc.NewClient(t.addr, grpc.WithTransportCredentials(insecure.NewCredentials()), t.credentials())
	if err != nil {
		return err
	}
	defer conn.Close()
	base := httpAddr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	bar := newProgressBar(stderr)
	sum, err := demo.Play(ctx, demo.Config{Conn: conn, GatewayURL: base, APIKey: apiKey, RunID: runID, Seed: uint64(seed),
		PurchaseOrders: pos, SalesOrders: sos, Workers: workers, Progress: bar.update})
	bar.done()
	if err != nil {
		return fmt.Errorf("trueup demo: %w (is the suite running? make run)", err)
	}
	if err := writeDemoSummary(stdout, sum, asJSON); err != nil {
		return err
	}
	if !sum.Reconciled {
		return errUnreconciled
	}
	return nil
}

func writeDemoSummary(w io.Writer, s *demo.Summary, asJSON bool) error {
	if !asJSON {
		return s.WriteText(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// progressBar draws "phase [#####.....] done/total" on a terminal, redrawn
// in place; elsewhere (a pipe, a CI log) it prints one line per phase.
type progressBar struct {
	mu       sync.Mutex // Progress is called from every worker
	w        io.Writer
	terminal bool
	phase    string
	last     time.Time
}

func newProgressBar(w io.Writer) *progressBar {
	b := &progressBar{w: w}
	if f, ok := w.(*os.File); ok {
		st, err := f.Stat()
		b.terminal = err == nil && st.Mode()&os.ModeCharDevice != 0
	}
	return b
}

func (b *progressBar) update(phase string, done, total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if phase != b.phase {
		if b.phase != "" && b.terminal {
			fmt.Fprintln(b.w)
		}
		b.phase = phase
		if !b.terminal {
			fmt.Fprintf(b.w, "%s...\n", phase)
		}
	}
	if !b.terminal || (time.Since(b.last) < 50*time.Millisecond && done != total) {
		return
	}
	b.last = time.Now()
	const width = 30
	if total <= 0 {
		fmt.Fprintf(b.w, "\r%-18s %d", phase, done)
		return
	}
	n := min(width, done*width/total)
	fmt.Fprintf(b.w, "\r%-18s [%s%s] %d/%d", phase, strings.Repeat("#", n), strings.Repeat(".", width-n), done, total)
}

func (b *progressBar) done() {
	if b.terminal && b.phase != "" {
		fmt.Fprintln(b.w)
	}
}
