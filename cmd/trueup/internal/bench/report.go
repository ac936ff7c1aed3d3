package bench

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the result as Markdown tables.
func (r *Result) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## trueup bench, %s\n\n", r.Started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "%s; commit %s; %s/%s, %d CPUs", r.Settings.Mode, short(r.Commit), r.Machine.OS, r.Machine.Arch, r.Machine.CPUs)
	if r.Machine.CPUModel != "" {
		fmt.Fprintf(&b, " (%s)", r.Machine.CPUModel)
	}
	fmt.Fprintf(&b, ", %s; %gs a measurement, concurrency %d, ramp %v workers, open loop %gs; %gs in all.\n\n",
		r.Machine.Go, r.Settings.DurationSec, r.Settings.Concurrency, r.Settings.Ramp, r.Settings.OpenLoopSec, r.Seconds)
	var commits float64
	if c := r.Ceilings; c != nil {
		commits = c.DatabaseCommitsPerSec
		b.WriteString("### Ceilings\n\n| ceiling | per second |\n|---|---:|\n")
		fmt.Fprintf(&b, "| %s single-row commits | %s |\n", c.Database, num(c.DatabaseCommitsPerSec))
		if c.NATSPublishSyncPerSec > 0 {
			fmt.Fprintf(&b, "| NATS JetStream publish, ack each | %s |\n", num(c.NATSPublishSyncPerSec))
			fmt.Fprintf(&b, "| NATS JetStream publish, 256 acks outstanding | %s |\n", num(c.NATSPublishAsyncPerSec))
		}
		b.WriteString("\n")
	}
	if len(r.API) > 0 {
		b.WriteString("### API: gRPC against the REST gateway\n\n| operation | transport | concurrency | per second | p50 ms | p90 ms | p99 ms | max ms | errors | REST / gRPC |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range r.API {
			rat := ""
			if c.Transport == "rest" {
				rat = fmt.Sprintf("%.2f", c.RatioToGRPC)
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %.2f | %.2f | %.2f | %.2f | %d | %s |\n", c.Operation, c.Transport, c.Concurrency,
				num(c.PerSec), c.Latency.P50, c.Latency.P90, c.Latency.P99, c.Latency.Max, c.Errors, rat)
		}
		b.WriteString("\n")
		for _, c := range r.API {
			if c.FirstError != "" {
				fmt.Fprintf(&b, "- %s over %s, first error: %s\n", c.Operation, c.Transport, c.FirstError)
			}
		}
	}
	if p := r.Pipeline; p != nil {
		b.WriteString("### Pipeline: sales order to COGS and invoice in the ledger\n\n")
		b.WriteString("| load | orders | completed/s | ÷ commit ceiling | floor p50 ms | ship→ledger p50 | p90 | p99 | max ms | confirm→invoice p50 ms | p99 | CPU s/order | DB commits/order | DB tx/order |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		phases := append([]Phase(nil), p.Ramp...)
		if p.OpenLoop != nil {
			phases = append(phases, *p.OpenLoop)
		}
		for _, ph := range phases {
			load := fmt.Sprintf("%d workers", ph.Workers)
			if ph.TargetPerSec > 0 {
				load = fmt.Sprintf("open loop %s/s", num(ph.TargetPerSec))
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %.3f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.4f | %.1f | %.1f |\n", load, ph.Completed,
				num(ph.OrdersPerSec), ph.RatioToCommitCeiling, ph.Floor.P50, ph.ShipToLedger.P50, ph.ShipToLedger.P90, ph.ShipToLedger.P99,
				ph.ShipToLedger.Max, ph.ConfirmToInvoice.P50, ph.ConfirmToInvoice.P99, ph.CPUSecondsPerOrder, ph.DBCommitsPerOrder, ph.DBTransactionsPerOrder)
		}
		b.WriteString("\nThe floor step by step, p50 / p99 ms:\n\n| load |")
		for _, n := range stepNames {
			fmt.Fprintf(&b, " %s |", n)
		}
		b.WriteString("\n|---|" + strings.Repeat("---:|", len(stepNames)) + "\n")
		for _, ph := range phases {
			load := fmt.Sprintf("%d workers", ph.Workers)
			if ph.TargetPerSec > 0 {
				load = fmt.Sprintf("open loop %s/s", num(ph.TargetPerSec))
			}
			fmt.Fprintf(&b, "| %s |", load)
			for _, n := range stepNames {
				fmt.Fprintf(&b, " %.1f / %.1f |", ph.Steps[n].P50, ph.Steps[n].P99)
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "\nMaximum: %s completed orders/s", num(p.MaxOrdersPerSec))
		if commits > 0 {
			fmt.Fprintf(&b, " (%.3f of the commit ceiling)", ratio(p.MaxOrdersPerSec, commits))
		}
		b.WriteString(".\n\n")
		for _, ph := range phases {
			if ph.FirstError != "" {
				fmt.Fprintf(&b, "- %d of %d orders failed on the floor; first error: %s\n", ph.Failed, ph.Started, ph.FirstError)
			}
		}
	}
	if in := r.Inbound; in != nil {
		b.WriteString("### Inbound: receipt to GRNI\n\n| concurrency | receipts | completed/s | ÷ commit ceiling | ReceiveStock p50 ms | p99 ms | receipt→GRNI p50 ms | p90 | p99 | max ms |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		fmt.Fprintf(&b, "| %d | %d | %s | %.3f | %.2f | %.2f | %.1f | %.1f | %.1f | %.1f |\n\n", in.Concurrency, in.Completed, num(in.PerSec),
			in.RatioToCommitCeiling, in.Receive.P50, in.Receive.P99, in.ReceiptToGRNI.P50, in.ReceiptToGRNI.P90, in.ReceiptToGRNI.P99, in.ReceiptToGRNI.Max)
		if in.FirstError != "" {
			fmt.Fprintf(&b, "- %d receipts failed; first error: %s\n\n", in.Failed, in.FirstError)
		}
	}
	if len(r.Processes) > 0 {
		b.WriteString("### Memory at the end\n\n| process | RSS MiB | peak RSS MiB |\n|---|---:|---:|\n")
		for _, p := range r.Processes {
			fmt.Fprintf(&b, "| %s | %.1f | %.1f |\n", p.Name, p.RSSMiB, p.PeakMiB)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	if commit == "" {
		return "unknown"
	}
	return commit
}

// num formats a rate with thousands separators and no decimals (one below 10).
func num(x float64) string {
	if x < 10 {
		return fmt.Sprintf("%.1f", x)
	}
	s := fmt.Sprintf("%.0f", x)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
