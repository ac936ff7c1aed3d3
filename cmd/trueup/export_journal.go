package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/config"
)

const exportJournalHelp = `Usage:
  trueup export-journal [--period YYYY-MM | --from YYYY-MM-DD --to YYYY-MM-DD]
                        [--mode summary|detail] [--format csv|jsonl] [--max-entries N]
                        [--request-id ID] [--out FILE]
  trueup export-journal --batch ID [--out FILE]
  trueup export-journal --list [--json]
  trueup export-journal --void ID --reason TEXT

Exports journal entries for an external general ledger (NetSuite, Acumatica,
another ERP kept as the book of record) as one recorded batch, and writes its
content to FILE (or standard output); the batch's id, counts and SHA-256 go to
standard error.

An entry is exported in at most one batch that is not voided: exporting a
range again takes only the entries no batch holds yet (entries posted late
into an exported range included) and says how many it skipped. Exporting with
--to yesterday and no --from, every day, hands over every entry exactly once.

  --period       a fiscal period, e.g. 2026-11: the entries booked into it.
  --from, --to   the first and last effective day (inclusive, days of the company's time zone); either
                 may be left out for an open end.
  --mode         summary (per day, account, currency and dimensions: debit and
                 credit totals) or detail (one row per journal line); default detail.
  --format       csv (RFC 4180, header row) or jsonl (one JSON object a line,
                 amounts also in integer minor units); default csv.
  --max-entries  at most this many entries in the batch (0: no limit); the
                 rest are counted as remaining, for the next batch.
  --request-id   makes the export safe to retry: the same id returns the same
                 batch. One is made up (and printed) when not given.
  --out          write the content to FILE (written whole, then renamed into
                 place once its checksum matched); default standard output.
  --batch        download an existing batch again: the same bytes, checked
                 against the checksum recorded when it was made.
  --list         list the batches, newest first (--json: as JSON lines).
  --void         void a batch (needs --reason): its entries become exportable
                 again. Do this when the external GL did not take the file.
  --grpc-addr    the ledger service (also TRUEUP_LEDGER_ADDR), e.g.
                 localhost:9090 under "trueup dev".
  --service-token  the services' internal credential (also TRUEUP_SERVICE_TOKEN);
                 by default the "trueup dev" stack's, from --data-dir (.trueup).

The column layout of each mode is documented in the ExportService of
api/proto/trueup/ledger/v1/export.proto.
`

// exportOptions are the flags of trueup export-journal.
type exportOptions struct {
	period, from, to, mode, format, requestID, out string
	maxEntries                                     int64
	batch, void, reason                            string
	list, asJSON                                   bool
}

func runExportJournal(ctx context.Context, args []string) error {
	fs := newFlagSet("export-journal")
	fs.Usage = func() { fmt.Fprint(fs.Output(), exportJournalHelp) }
	var (
		addr   string
		o      exportOptions
		client clientFlags
	)
	config.String(fs, &addr, "grpc-addr", "TRUEUP_LEDGER_ADDR", "localhost:9090", "gRPC address of the ledger service")
	client.bind(fs)
	config.String(fs, &o.period, "period", "", "", "a fiscal period, YYYY-MM: the entries booked into it (late events posted into it included)")
	config.String(fs, &o.from, "from", "", "", "first effective day, YYYY-MM-DD")
	config.String(fs, &o.to, "to", "", "", "last effective day, YYYY-MM-DD (inclusive)")
	config.String(fs, &o.mode, "mode", "", "detail", "summary or detail")
	config.String(fs, &o.format, "format", "", "csv", "csv or jsonl")
	config.String(fs, &o.requestID, "request-id", "", "", "idempotency key of the export")
	config.String(fs, &o.out, "out", "", "", "write the content to this file instead of standard output")
	config.String(fs, &o.batch, "batch", "", "", "download this batch again")
	config.String(fs, &o.void, "void", "", "", "void this batch")
	config.String(fs, &o.reason, "reason", "", "", "why the batch is voided")
	config.Bool(fs, &o.list, "list", "", false, "list the batches")
	config.Bool(fs, &o.asJSON, "json", "", false, "with --list: JSON lines")
	fs.Int64Var(&o.maxEntries, "max-entries", 0, "at most this many entries (0: no limit)")
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("trueup export-journal: unexpected arguments %v", fs.Args())
	}
	t, err := client.target(addr)
	if err != nil {
		return err
	}
	return exportJournalCommand(ctx, t, o, os.Stdout, os.Stderr)
}

// exportJournalCommand runs one export-journal action against the ledger at
// t: content to stdout (or o.out), reports to stderr.
func exportJournalCommand(ctx context.Context, t grpcTarget, o exportOptions, stdout, stderr io.Writer) error {
	actions := 0
	for _, set := range []bool{o.batch != "", o.void != "", o.list} {
		if set {
			actions++
		}
	}
	if actions > 1 {
		return errors.New("trueup export-journal: give one of --batch, --void and --list")
	}
	if o.reason != "" && o.void == "" {
		return errors.New("trueup export-journal: --reason goes with --void")
	}
	addr := t.addr
	conn, err := t.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	client := ledgerv1.NewExportServiceClient(conn)
	switch {
	case o.list:
		return listExportBatches(ctx, client, o.asJSON, stdout)
	case o.void != "":
		b, err := client.VoidExportBatch(ctx, &ledgerv1.VoidExportBatchRequest{Name: batchName(o.void), Reason: o.reason, RequestId: o.requestID})
		if err != nil {
			return fmt.Errorf("VoidExportBatch at %s: %w", addr, err)
		}
		fmt.Fprintf(stderr, "voided %s: its %d entries can be exported again\n", b.GetName(), b.GetEntryCount())
		return nil
	case o.batch != "":
		b, err := client.GetExportBatch(ctx, &ledgerv1.GetExportBatchRequest{Name: batchName(o.batch)})
		if err != nil {
			return fmt.Errorf("GetExportBatch at %s: %w", addr, err)
		}
		if b.GetVoidTime() != nil {
			fmt.Fprintf(stderr, "warning: %s was voided (%s): its entries may be in a later batch; do not load it again\n", b.GetName(), b.GetVoidReason())
		}
		return downloadExport(ctx, client, b, o.out, stdout, stderr)
	}
	mode, ok := map[string]ledgerv1.ExportMode{"summary": ledgerv1.ExportMode_EXPORT_MODE_SUMMARY, "detail": ledgerv1.ExportMode_EXPORT_MODE_DETAIL, "": ledgerv1.ExportMode_EXPORT_MODE_DETAIL}[strings.ToLower(o.mode)]
	if !ok {
		return fmt.Errorf("trueup export-journal: --mode is summary or detail, not %q", o.mode)
	}
	format, ok := map[string]ledgerv1.ExportFormat{"csv": ledgerv1.ExportFormat_EXPORT_FORMAT_CSV, "jsonl": ledgerv1.ExportFormat_EXPORT_FORMAT_JSONL, "": ledgerv1.ExportFormat_EXPORT_FORMAT_CSV}[strings.ToLower(o.format)]
	if !ok {
		return fmt.Errorf("trueup export-journal: --format is csv or jsonl, not %q", o.format)
	}
	if o.requestID == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		o.requestID = "export-journal-" + hex.EncodeToString(b[:])
	}
	b, err := client.CreateExportBatch(ctx, &ledgerv1.CreateExportBatchRequest{Period: o.period, FromDate: o.from, ToDate: o.to,
		Mode: mode, Format: format, MaxEntries: o.maxEntries, RequestId: o.requestID})
	if err != nil {
		return fmt.Errorf("CreateExportBatch at %s (retry with --request-id %s): %w", addr, o.requestID, err)
	}
	fmt.Fprintf(stderr, "%s: %d entries (%d lines); %d skipped, exported before; %d remaining for the next batch (request id %s)\n",
		b.GetName(), b.GetEntryCount(), b.GetLineCount(), b.GetSkippedEntryCount(), b.GetRemainingEntryCount(), o.requestID)
	return downloadExport(ctx, client, b, o.out, stdout, stderr)
}

func batchName(id string) string {
	if strings.HasPrefix(id, "exportBatches/") {
		return id
	}
	return "exportBatches/" + id
}

// downloadExport reads the content of b to out (a temporary file renamed
// into place once complete and checked) or to stdout.
func downloadExport(ctx context.Context, client ledgerv1.ExportServiceClient, b *ledgerv1.ExportBatch, out string, stdout, stderr io.Writer) (err error) {
	w := stdout
	var tmp *os.File
	if out != "" {
		tmp, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
		if err != nil {
			return err
		}
		defer func() {
			if err != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		w = tmp
	}
	stream, err := client.ReadExportBatch(ctx, &ledgerv1.ReadExportBatchRequest{Name: b.GetName()})
	if err != nil {
		return fmt.Errorf("ReadExportBatch: %w", err)
	}
	h := sha256.New()
	var n int64
	var sum string
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("ReadExportBatch %s: %w", b.GetName(), err)
		}
		if chunk.GetOffset() != n {
			return fmt.Errorf("ReadExportBatch %s: a chunk at offset %d, expected %d", b.GetName(), chunk.GetOffset(), n)
		}
		h.Write(chunk.GetData())
		n += int64(len(chunk.GetData()))
		if _, err := w.Write(chunk.GetData()); err != nil {
			return err
		}
		if chunk.GetSha256() != "" {
			sum = chunk.GetSha256()
		}
	}
	got := hex.EncodeToString(h.Sum(nil))
	want := b.GetSha256()
	if want == "" {
		want = sum
	}
	if sum == "" || got != sum || got != want {
		return fmt.Errorf("%s: the content read (%d bytes, sha256 %s) does not match its checksum %s: do not load it", b.GetName(), n, got, want)
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), out); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s: %d bytes, sha256 %s\n", out, n, got)
	} else {
		fmt.Fprintf(stderr, "%d bytes, sha256 %s\n", n, got)
	}
	return nil
}

func listExportBatches(ctx context.Context, client ledgerv1.ExportServiceClient, asJSON bool, w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "BATCH\tCREATED\tRANGE\tMODE\tFORMAT\tENTRIES\tLINES\tSKIPPED\tSHA256\tSTATE")
	}
	token := ""
	for {
		resp, err := client.ListExportBatches(ctx, &ledgerv1.ListExportBatchesRequest{PageSize: 200, PageToken: token})
		if err != nil {
			return fmt.Errorf("ListExportBatches: %w", err)
		}
		for _, b := range resp.GetExportBatches() {
			if asJSON {
				line, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(b)
				if err != nil {
					return err
				}
				if _, err := fmt.Fprintln(w, string(line)); err != nil {
					return err
				}
				continue
			}
			rng := exportRange(b)
			state := "live"
			if b.GetVoidTime() != nil {
				state = "VOIDED: " + b.GetVoidReason()
			}
			mode := strings.TrimPrefix(b.GetMode().String(), "EXPORT_MODE_")
			format := strings.TrimPrefix(b.GetFormat().String(), "EXPORT_FORMAT_")
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", strings.TrimPrefix(b.GetName(), "exportBatches/"),
				b.GetCreateTime().AsTime().Format("2006-01-02 15:04:05Z"), rng, mode, format,
				b.GetEntryCount(), b.GetLineCount(), b.GetSkippedEntryCount(), b.GetSha256(), state)
		}
		token = resp.GetNextPageToken()
		if token == "" {
			break
		}
	}
	if asJSON {
		return nil
	}
	return tw.Flush()
}

// exportRange is a batch's range for a person: "2026-11",
// "2026-11-01..2026-11-15", "through 2026-11-30", "from 2026-11-01", "all".
func exportRange(b *ledgerv1.ExportBatch) string {
	from, to := b.GetFromDate(), b.GetToDate()
	switch {
	case b.GetPeriod() != "":
		return b.GetPeriod()
	case from != "" && to != "":
		return from + ".." + to
	case to != "":
		return "through " + to
	case from != "":
		return "from " + from
	}
	return "all"
}
