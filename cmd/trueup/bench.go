package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"trueup.dev/cmd/trueup/internal/bench"
	"trueup.dev/cmd/trueup/internal/demodata"
	"trueup.dev/cmd/trueup/internal/suite"
	"trueup.dev/gateway"
	"trueup.dev/platform/config"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/logging"
)

const benchHelp = `Usage: trueup bench [flags]

Measures the suite through its public APIs and writes the figures, each
beside the ceiling measured in the same run (these machines are noisy):

  ceiling   the database's single-row durable commit rate and NATS
            JetStream's publish-with-ack rate
  api       the same read (an item's availability; the item) and the same
            write (a sales order) over gRPC and through the REST gateway
  pipeline  sales orders created, confirmed, reserved, picked, packed and
            shipped until their COGS and invoice entries are in the ledger:
            a ramp of closed-loop workers for the maximum, then open-loop
            load at half of it for the latencies
  inbound   receipts against a purchase order until their GRNI entry

By default it starts its own dev stack in this process (SQLite in a
temporary directory, embedded NATS, no gateway rate limit), so the CPU,
commits per order and memory it reports are the whole suite's. With
--grpc-addr it measures a running stack instead (the partner's rate limit
then applies to the api scenario); --pid name=PID adds a process's CPU and
memory to the figures.

Results go to --out as <time>-<commit>.json and .md; the Markdown is also
printed. Nothing here fails on a timing.

Flags:
`

// benchCommand is `trueup bench`.
func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench")
	fs.Usage = func() { fmt.Fprint(fs.Output(), benchHelp); fs.PrintDefaults() }
	var (
		grpcAddr, httpAddr, apiKey, natsURL, dbURL string
		out, scenarios, ramp, cpuProfile, runID    string
		dur, openLoop                              time.Duration
		conc                                       int
		pids                                       pidFlags
		client                                     clientFlags
	)
	config.String(fs, &grpcAddr, "grpc-addr", "", "", "gRPC address of a running stack to measure (default: start a dev stack in this process)")
	config.String(fs, &httpAddr, "http-addr", "", "localhost:8080", "the running stack's REST gateway (with --grpc-addr)")
	config.String(fs, &apiKey, "api-key", "TRUEUP_API_KEY", "", "a partner key of the running stack with every scope (default: the dev stack's, from --data-dir)")
	config.String(fs, &natsURL, "nats-url", "", "nats://localhost:4222", "the running stack's NATS, for the broker ceiling (with --grpc-addr; empty: none)")
	config.String(fs, &dbURL, "ceiling-database-url", "", "", "the running stack's database for the commit ceiling (default: SQLite in --data-dir)")
	client.bind(fs)
	config.String(fs, &out, "out", "", "bench-results", "directory for the results (JSON and Markdown)")
	config.String(fs, &scenarios, "scenarios", "", strings.Join(bench.AllScenarios, ","), "scenarios to run, comma-separated")
	config.Duration(fs, &dur, "duration", "", 5*time.Second, "length of each measurement")
	config.Duration(fs, &openLoop, "open-loop", "", 0, "length of the pipeline's open-loop run at half the maximum (default --duration; 10m for a soak)")
	config.Int(fs, &conc, "concurrency", "", 16, "concurrent clients of the api and inbound scenarios")
	config.String(fs, &ramp, "ramp", "", "4,16,64", "the pipeline's closed-loop worker counts, comma-separated")
	config.String(fs, &cpuProfile, "cpuprofile", "", "", "write a CPU profile of the pipeline scenario to this file (in-process: the whole suite's)")
	config.String(fs, &runID, "run-id", "", "", "this run's id, part of every request id (default: the time now)")
	fs.Var(&pids, "pid", "`name=PID` of a suite process to watch for CPU and memory (repeatable; with --grpc-addr)")
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("trueup bench: unexpected arguments %v", fs.Args())
	}
	cfg := bench.Config{Duration: dur, OpenLoop: openLoop, Concurrency: conc, RunID: runID, Commit: gitCommit(),
		Progress: func(s string) { fmt.Fprintf(stderr, "%s  %s\n", time.Now().Format("15:04:05"), s) }}
	for _, s := range strings.Split(scenarios, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !slices.Contains(bench.AllScenarios, s) {
				return fmt.Errorf("trueup bench: unknown scenario %q (known: %s)", s, strings.Join(bench.AllScenarios, ", "))
			}
			cfg.Scenarios = append(cfg.Scenarios, s)
		}
	}
	for _, s := range strings.Split(ramp, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1024 {
			return fmt.Errorf("trueup bench: --ramp %q: each must be a worker count from 1 to 1024", ramp)
		}
		cfg.Ramp = append(cfg.Ramp, n)
	}
	if dur <= 0 || conc < 1 || conc > 1024 || openLoop < 0 {
		return errors.New("trueup bench: --duration must be positive, --concurrency from 1 to 1024")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	stamp := time.Now().UTC().Format("20060102T150405Z")
	base := filepath.Join(out, stamp+"-"+shortCommit(cfg.Commit))
	var stop func() error
	if grpcAddr == "" {
		var err error
		stop, err = startBenchStack(ctx, &cfg, base+".log")
		if err != nil {
			return fmt.Errorf("trueup bench: %w", err)
		}
	} else {
		if apiKey == "" {
			b, err := os.ReadFile(filepath.Join(client.dataDir, "dev-api-key"))
			if err != nil {
				return fmt.Errorf("trueup bench: no --api-key, and no dev stack's key in %s: %w", client.dataDir, err)
			}
			apiKey = strings.TrimSpace(string(b))
		}
		t, err := client.target(grpcAddr)
		if err != nil {
			return err
		}
		conn, err := grpc.NewClient(t.addr, grpc.WithTransportCredentials(insecure.NewCredentials()), t.credentials())
		if err != nil {
			return err
		}
		stop = conn.Close
		gw := httpAddr
		if !strings.Contains(gw, "://") {
			gw = "http://" + gw
		}
		cfg.Conn, cfg.GatewayURL, cfg.APIKey, cfg.NATSURL, cfg.DatabaseURL, cfg.CeilingDir = conn, gw, apiKey, natsURL, dbURL, client.dataDir
		cfg.Mode = "running stack at " + grpcAddr
		if len(pids) > 0 {
			cfg.Stats = pids.usage
		}
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.Profile = func() func() {
			if err := pprof.StartCPUProfile(f); err != nil {
				fmt.Fprintf(stderr, "trueup bench: no CPU profile: %v\n", err)
				return func() {}
			}
			return pprof.StopCPUProfile
		}
	}
	res, runErr := bench.Run(ctx, cfg)
	if err := stop(); err != nil && runErr == nil {
		runErr = fmt.Errorf("stopping the stack: %w", err)
	}
	if res != nil {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(base+".json", append(b, '\n'), 0o644); err != nil {
			return err
		}
		md, err := os.Create(base + ".md")
		if err != nil {
			return err
		}
		werr := res.WriteMarkdown(io.MultiWriter(md, stdout))
		if err := errors.Join(werr, md.Close()); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s.json and %s.md\n", base, base)
	}
	if runErr != nil {
		return fmt.Errorf("trueup bench: %w", runErr)
	}
	return nil
}

// startBenchStack starts a dev stack in this process in a new temporary
// directory, without the gateway's partner limits (the benchmark is the
// only partner), loads the demo data and points cfg at it. Its log (warn
// and above) goes to logPath. stop shuts it down and removes the directory.
func startBenchStack(ctx context.Context, cfg *bench.Config, logPath string) (stop func() error, err error) {
	dir, err := os.MkdirTemp("", "trueup-bench-")
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cleanup := func() error { return errors.Join(logFile.Close(), os.RemoveAll(dir)) }
	defer func() {
		if err != nil {
			_ = cleanup() // the error that got us here matters more
		}
	}()
	key, _, err := ensureDevAPIKey(dir)
	if err != nil {
		return nil, err
	}
	keys, err := gateway.LoadKeysFile(filepath.Join(dir, "api-keys"))
	if err != nil {
		return nil, err
	}
	token, err := devServiceToken(dir)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st, err := suite.Start(runCtx, suite.Config{DataDir: dir, GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", NATSPort: -1,
		Keys: keys, ServiceToken: token, GatewayLimits: gateway.Limits{RequestsPerSecond: -1, MaxConcurrent: -1}},
		logging.New(logFile, slog.LevelWarn, "trueup-bench"))
	if err != nil {
		cancel()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(runCtx) }()
	conn, err := grpc.NewClient(st.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpcserver.WithServiceToken(token.Reveal()))
	if err != nil {
		cancel()
		<-done
		return nil, err
	}
	stop = func() error {
		cerr := conn.Close()
		cancel()
		return errors.Join(cerr, <-done, cleanup())
	}
	if err := demodata.Load(ctx, conn); err != nil {
		_ = stop() // the load's error matters more
		return nil, fmt.Errorf("demo data: %w", err)
	}
	pid := os.Getpid()
	cfg.Conn, cfg.GatewayURL, cfg.APIKey, cfg.NATSURL, cfg.CeilingDir = conn, "http://"+st.HTTPAddr, key, st.NATSURL, dir
	cfg.Mode = "dev stack in-process (SQLite, embedded NATS, one process)"
	cfg.Stats = func() bench.Usage {
		commits, txs := st.WriteStats()
		rss, peak := bench.MemoryMiB(pid)
		return bench.Usage{CPU: bench.CPU(pid), DBCommits: commits, DBTransactions: txs,
			Processes: []bench.Process{{Name: "trueup (whole suite and the benchmark's clients)", RSSMiB: rss, PeakMiB: peak}}}
	}
	return stop, nil
}

// pidFlags are --pid name=PID flags.
type pidFlags []struct {
	name string
	pid  int
}

func (p *pidFlags) String() string { return fmt.Sprint(len(*p)) }

func (p *pidFlags) Set(v string) error {
	name, s, ok := strings.Cut(v, "=")
	pid, err := strconv.Atoi(s)
	if !ok || name == "" || err != nil || pid < 1 {
		return fmt.Errorf("%q is not name=PID", v)
	}
	*p = append(*p, struct {
		name string
		pid  int
	}{name, pid})
	return nil
}

func (p pidFlags) usage() bench.Usage {
	var u bench.Usage
	for _, x := range p {
		u.CPU += bench.CPU(x.pid)
		rss, peak := bench.MemoryMiB(x.pid)
		u.Processes = append(u.Processes, bench.Process{Name: x.name, RSSMiB: rss, PeakMiB: peak})
	}
	return u
}

// gitCommit is the commit this binary was built from, else the working
// directory's HEAD (go run does not stamp one), else "".
func gitCommit() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	b, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func shortCommit(c string) string {
	if len(c) >= 12 {
		return c[:12]
	}
	return "nocommit"
}
