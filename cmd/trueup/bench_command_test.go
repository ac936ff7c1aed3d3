package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"trueup.dev/cmd/trueup/internal/bench"
)

// TestBenchCommand runs `trueup bench` as `make bench` does — its own dev
// stack in-process — with every scenario cut short, and checks what it
// writes: one JSON file with the machine, the settings and a figure for
// every scenario, each measured, and the same figures as a Markdown table
// on stdout and in a file. It asserts that things were measured and
// completed, never how fast.
func TestBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a stack and loads it")
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := benchCommand(context.Background(), []string{"--out", out, "--duration", "400ms", "--ramp", "2,4", "--open-loop", "400ms",
		"--concurrency", "4", "--run-id", "test", "--cpuprofile", filepath.Join(out, "pipeline.pprof")}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("trueup bench: %v\n%s", err, stderr.String())
	}
	res := readBenchResult(t, out)
	if fi, err := os.Stat(filepath.Join(out, "pipeline.pprof")); err != nil || fi.Size() == 0 {
		t.Errorf("CPU profile of the pipeline: %v", err)
	}
	if res.Machine.CPUs < 1 || res.Settings.RunID != "test" || len(res.Settings.Scenarios) != 4 || !strings.Contains(res.Settings.Mode, "in-process") {
		t.Errorf("machine or settings: %+v %+v", res.Machine, res.Settings)
	}
	if c := res.Ceilings; c == nil || c.DatabaseCommitsPerSec <= 0 || c.NATSPublishSyncPerSec <= 0 || c.NATSPublishAsyncPerSec <= 0 {
		t.Errorf("ceilings: %+v", res.Ceilings)
	}
	if len(res.API) != 6 {
		t.Fatalf("api: %d figures, want 3 operations × 2 transports", len(res.API))
	}
	for _, c := range res.API {
		if c.Requests == 0 || c.Errors != 0 || c.Latency.P50 <= 0 || (c.Transport == "rest") != (c.RatioToGRPC > 0) {
			t.Errorf("api %s over %s: %+v", c.Operation, c.Transport, c)
		}
	}
	p := res.Pipeline
	if p == nil || len(p.Ramp) != 2 || p.OpenLoop == nil || p.MaxOrdersPerSec <= 0 {
		t.Fatalf("pipeline: %+v", p)
	}
	for _, ph := range append(p.Ramp, *p.OpenLoop) {
		if ph.Completed == 0 || ph.Failed != 0 || ph.Completed != ph.Started || ph.ShipToLedger.N != ph.Completed ||
			ph.ShipToCOGS.Max <= 0 || ph.ShipToInvoice.Max <= 0 || ph.ConfirmToInvoice.P50 <= 0 ||
			ph.CPUSecondsPerOrder <= 0 || ph.DBCommitsPerOrder <= 0 || ph.DBTransactionsPerOrder < ph.DBCommitsPerOrder ||
			ph.Steps["reserved"].N != ph.Completed || len(ph.Processes) != 1 {
			t.Errorf("pipeline phase: %+v", ph)
		}
	}
	if in := res.Inbound; in == nil || in.Completed == 0 || in.Completed != in.Receipts || in.Failed != 0 || in.ReceiptToGRNI.N != in.Completed {
		t.Errorf("inbound: %+v", res.Inbound)
	}
	if len(res.Processes) != 1 || res.Processes[0].PeakMiB <= 0 {
		t.Errorf("processes: %+v", res.Processes)
	}
	for _, want := range []string{"### Ceilings", "### API: gRPC against the REST gateway", "### Pipeline", "### Inbound: receipt to GRNI", "| create sales order | rest |"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, stdout.String())
		}
	}
	md, _ := filepath.Glob(filepath.Join(out, "*.md"))
	if len(md) != 1 {
		t.Fatalf("markdown files: %v", md)
	}
	if b, _ := os.ReadFile(md[0]); string(b) != stdout.String() {
		t.Error("the Markdown file differs from what was printed")
	}
}

// TestBenchCommandAgainstARunningStack measures a stack it did not start,
// as `trueup bench --grpc-addr` does after `make run`, watching the
// stack's process by --pid; and refuses bad flags before measuring.
func TestBenchCommandAgainstARunningStack(t *testing.T) {
	st, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	args := []string{"--grpc-addr", st.GRPCAddr, "--http-addr", st.HTTPAddr, "--api-key", testKey, "--service-token", testServiceToken,
		"--nats-url", st.NATSURL, "--data-dir", t.TempDir(), "--out", out, "--duration", "300ms", "--scenarios", "ceiling,inbound",
		"--pid", "trueup-dev=" + strconv.Itoa(os.Getpid())}
	var stdout, stderr bytes.Buffer
	if err := benchCommand(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("trueup bench: %v\n%s", err, stderr.String())
	}
	res := readBenchResult(t, out)
	if !strings.Contains(res.Settings.Mode, st.GRPCAddr) || res.Ceilings == nil || res.Ceilings.NATSPublishSyncPerSec <= 0 ||
		res.Inbound == nil || res.Inbound.Completed == 0 || res.API != nil || res.Pipeline != nil {
		t.Errorf("result: %+v", res)
	}
	if len(res.Processes) != 1 || res.Processes[0].Name != "trueup-dev" || res.Processes[0].RSSMiB <= 0 {
		t.Errorf("processes: %+v", res.Processes)
	}
	for _, bad := range [][]string{
		{"--scenarios", "pipeline,teleport"},
		{"--ramp", "4,zero"},
		{"--duration", "0s"},
		{"--pid", "nopid"},
		{"extra"},
	} {
		dir := t.TempDir()
		err := benchCommand(ctx, append([]string{"--grpc-addr", st.GRPCAddr, "--out", dir}, bad...), &stdout, &stderr)
		if err == nil {
			t.Errorf("trueup bench %v: no error", bad)
		}
		if files, _ := os.ReadDir(dir); len(files) != 0 {
			t.Errorf("trueup bench %v wrote %d files", bad, len(files))
		}
	}
}

func readBenchResult(t *testing.T, dir string) *bench.Result {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("JSON files in %s: %v", dir, files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var res bench.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("%s: %v", files[0], err)
	}
	return &res
}
