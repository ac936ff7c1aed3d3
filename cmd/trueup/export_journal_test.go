package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
)

// TestExportJournalCommand: `trueup export-journal` against the dev stack
// exports the journal as a recorded batch to a file, whose checksum is the
// batch's; exporting again takes only entries not exported yet; --batch
// downloads the same bytes again; --void makes the entries exportable again;
// --list shows the batches; REST lists them too.
func TestExportJournalCommand(t *testing.T) {
	st, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	led := ledgerv1.NewLedgerServiceClient(conn)
	manual := func(req string) {
		t.Helper()
		if _, err := led.CreateJournalEntry(ctx, &ledgerv1.CreateJournalEntryRequest{RequestId: req, JournalEntry: &ledgerv1.JournalEntry{
			Reason: "export test", Description: "a, \"quoted\" description", Lines: []*ledgerv1.JournalLine{
				{Account: "accounts/5100", Side: ledgerv1.Side_SIDE_DEBIT, Amount: &typev1.Money{CurrencyCode: "USD", MinorUnits: 1234}},
				{Account: "accounts/1000", Side: ledgerv1.Side_SIDE_CREDIT, Amount: &typev1.Money{CurrencyCode: "USD", MinorUnits: 1234}},
			}}}); err != nil {
			t.Fatal(err)
		}
	}
	manual("exp-1")
	dir := t.TempDir()
	today := time.Now().UTC().Format("2006-01-02")
	run := func(o exportOptions) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := exportJournalCommand(ctx, stackTarget(st), o, &stdout, &stderr); err != nil {
			t.Fatalf("export-journal %+v: %v\n%s", o, err, stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	batchOf := regexp.MustCompile(`exportBatches/([0-9a-f-]{36}): (\d+) entries`)
	// entries reads a detail CSV: the entry ids, and checks the layout.
	entries := func(content []byte) map[string]bool {
		t.Helper()
		recs, err := csv.NewReader(bytes.NewReader(content)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != "batch_id,entry_id,line_no,effective_date,posted_at,account,account_name,debit,credit,currency,warehouse,item,lot,document,partner,description,source_service,source_event_type,source_event_id,movement_id,rule,rule_version,reverses" {
			t.Fatalf("header %v", recs[0])
		}
		out := map[string]bool{}
		for _, r := range recs[1:] {
			out[r[1]] = true
		}
		return out
	}

	// The first export, to a file.
	out1 := filepath.Join(dir, "first.csv")
	_, report := run(exportOptions{to: today, out: out1, requestID: "exp-batch-1"})
	m := batchOf.FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("no batch in the report:\n%s", report)
	}
	first := m[1]
	content1, err := os.ReadFile(out1)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content1)
	exp := ledgerv1.NewExportServiceClient(conn)
	b1, err := exp.GetExportBatch(ctx, &ledgerv1.GetExportBatchRequest{Name: "exportBatches/" + first})
	if err != nil || b1.GetSha256() != hex.EncodeToString(sum[:]) || b1.GetSizeBytes() != int64(len(content1)) || b1.GetEntryCount() == 0 {
		t.Fatalf("batch %v, %v; file sha256 %x (%d bytes)", b1, err, sum, len(content1))
	}
	got1 := entries(content1)
	if int64(len(got1)) != b1.GetEntryCount() || !strings.Contains(string(content1), `"a, ""quoted"" description"`) ||
		!strings.Contains(string(content1), ",12.34,") {
		t.Fatalf("first batch (%d entries):\n%s", b1.GetEntryCount(), content1)
	}
	// The same request id is the same batch, not a second export.
	_, report = run(exportOptions{to: today, out: filepath.Join(dir, "retry.csv"), requestID: "exp-batch-1"})
	if m := batchOf.FindStringSubmatch(report); m == nil || m[1] != first {
		t.Fatalf("a retry made another batch:\n%s", report)
	}

	// The next export, after another entry: only what is new (and any
	// entry the ledger posted from the seed's events since).
	manual("exp-2")
	out2 := filepath.Join(dir, "second.csv")
	_, report = run(exportOptions{to: today, out: out2})
	second := batchOf.FindStringSubmatch(report)[1]
	content2, _ := os.ReadFile(out2)
	got2 := entries(content2)
	if len(got2) == 0 {
		t.Fatalf("the second batch is empty:\n%s", report)
	}
	for id := range got2 {
		if got1[id] {
			t.Fatalf("entry %s exported twice", id)
		}
	}
	if !strings.Contains(report, "skipped") {
		t.Fatalf("report %s", report)
	}

	// A lost download: the same bytes again.
	again, report := run(exportOptions{batch: first})
	if again != string(content1) || !strings.Contains(report, hex.EncodeToString(sum[:])) {
		t.Fatalf("re-download differs (%d vs %d bytes): %s", len(again), len(content1), report)
	}

	// The list shows both, newest first; REST too.
	list, _ := run(exportOptions{list: true})
	if i, j := strings.Index(list, second), strings.Index(list, first); i < 0 || j < 0 || i > j {
		t.Fatalf("list:\n%s", list)
	}
	// Batches are the company's books: over gRPC (internal), never to partners.
	batches, err := ledgerv1.NewExportServiceClient(conn).ListExportBatches(ctx, &ledgerv1.ListExportBatchesRequest{})
	if err != nil || len(batches.GetExportBatches()) != 2 || batches.GetExportBatches()[1].GetName() != "exportBatches/"+first ||
		batches.GetExportBatches()[1].GetSha256() != b1.GetSha256() {
		t.Fatalf("ListExportBatches = %v, %v", batches, err)
	}
	if code, body := httpDo(t, "GET", "http://"+st.HTTPAddr+"/v1/exportBatches", testKey, ""); code != http.StatusForbidden {
		t.Fatalf("GET /v1/exportBatches as a partner = %d %s, want 403", code, body)
	}

	// Void the first: its entries go out again, in JSON lines this time.
	if _, report = run(exportOptions{void: first, reason: "NetSuite rejected the file"}); !strings.Contains(report, "voided") {
		t.Fatalf("void: %s", report)
	}
	jsonl, report := run(exportOptions{to: today, format: "jsonl", mode: "detail"})
	redone := map[string]bool{}
	for line := range strings.Lines(jsonl) {
		var row struct {
			EntryID     string `json:"entry_id"`
			AmountMinor int64  `json:"amount_minor"`
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil || row.AmountMinor <= 0 {
			t.Fatalf("JSON line %q: %v", line, err)
		}
		redone[row.EntryID] = true
	}
	for id := range got1 {
		if !redone[id] {
			t.Fatalf("entry %s of the voided batch was not exported again:\n%s", id, report)
		}
	}
	if _, report = run(exportOptions{batch: first}); !strings.Contains(report, "voided") {
		t.Fatalf("re-downloading a voided batch warns: %s", report)
	}
	// A summary has its own header row (and, nothing being new, little else).
	if sum, _ := run(exportOptions{to: today, mode: "summary"}); !strings.HasPrefix(sum, "batch_id,effective_date,account,account_name,currency,warehouse,item,lot,document,partner,debit,credit,line_count\r\n") {
		t.Fatalf("summary %q", sum)
	}
	// Mistakes are refused before anything is exported.
	var stderr bytes.Buffer
	if err := exportJournalCommand(ctx, stackTarget(st), exportOptions{period: "2026-11", to: today}, &bytes.Buffer{}, &stderr); err == nil || !strings.Contains(err.Error(), "period") {
		t.Fatalf("period and dates = %v", err)
	}
	if err := exportJournalCommand(ctx, stackTarget(st), exportOptions{mode: "weekly"}, &bytes.Buffer{}, &stderr); err == nil {
		t.Fatal("a bad mode was accepted")
	}
}
