package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
)

// postManual posts a balanced manual entry of amount USD cents effective at
// and returns its id.
func postManual(t *testing.T, svc *app.Service, req string, at time.Time, amount int64) string {
	t.Helper()
	e, err := svc.CreateEntry(context.Background(), req, app.ManualEntry{EffectiveAt: at, Description: "entry " + req, Reason: "test",
		Lines: []ledger.Line{
			{Account: ledger.AcctInventory, Side: ledger.Debit, Amount: amount, Currency: "USD", Dims: ledger.Dimensions{Warehouse: "MAIN", Item: "W-1"}},
			{Account: ledger.AcctGRNI, Side: ledger.Credit, Amount: amount, Currency: "USD"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	return e.ID
}

// download regenerates a batch's content and checks it against the
// recorded checksum.
func download(t *testing.T, svc *app.Service, id string) []byte {
	t.Helper()
	var buf bytes.Buffer
	b, err := svc.WriteExport(context.Background(), id, &buf)
	if err != nil {
		t.Fatalf("WriteExport(%s): %v", id, err)
	}
	sum := sha256.Sum256(buf.Bytes())
	if b.Checksum != hex.EncodeToString(sum[:]) || b.Size != int64(buf.Len()) {
		t.Fatalf("batch %s records %s (%d bytes), content is %x (%d bytes)", id, b.Checksum, b.Size, sum, buf.Len())
	}
	return buf.Bytes()
}

// exportedEntries are the entry ids of a DETAIL CSV's rows, once each, in order.
func exportedEntries(t *testing.T, content []byte) []string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(content)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], ledger.DetailColumns) {
		t.Fatalf("header %v", recs[0])
	}
	var out []string
	for _, r := range recs[1:] {
		if len(out) == 0 || out[len(out)-1] != r[1] {
			out = append(out, r[1])
		}
	}
	return out
}

func wantCounts(t *testing.T, b *ledger.ExportBatch, entries, lines, skipped, remaining int64) {
	t.Helper()
	if b.Entries != entries || b.Lines != lines || b.Skipped != skipped || b.Remaining != remaining {
		t.Fatalf("batch %s holds %d entries (%d lines), skipped %d, left %d; want %d (%d), %d, %d",
			b.ID, b.Entries, b.Lines, b.Skipped, b.Remaining, entries, lines, skipped, remaining)
	}
}

// TestExportNeverExportsAnEntryTwice: an overlapping range exports only the
// entries no live batch holds and counts the rest as skipped; a late entry
// into an exported range goes into the next batch; a re-download is the same
// bytes with the recorded checksum; a retry with the request id is the same
// batch; voiding a batch makes its entries exportable again.
func TestExportNeverExportsAnEntryTwice(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		a := postManual(t, svc, "a", time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC), 1000)
		b := postManual(t, svc, "b", time.Date(2026, 11, 20, 23, 59, 59, 999999000, time.UTC), 2000)
		c := postManual(t, svc, "c", time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC), 3000)
		_ = postManual(t, svc, "oct-31", time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC), 1)

		nov := app.ExportRequest{Period: "2026-11"}
		first, err := svc.CreateExport(ctx, "x-1", nov)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, first, 2, 4, 0, 0)
		if first.Checksum == "" || first.Size == 0 || first.HighWaterSeq < 4 || first.Mode != ledger.ExportDetail ||
			first.Format != ledger.ExportCSV || first.Range.Period != "2026-11" {
			t.Fatalf("first batch %+v", first)
		}
		content := download(t, svc, first.ID)
		if got := exportedEntries(t, content); !slices.Equal(got, []string{a, b}) {
			t.Fatalf("first batch holds %v, want [%s %s]", got, a, b)
		}

		// A retry is the same batch; the same request id for another request is refused.
		again, err := svc.CreateExport(ctx, "x-1", nov)
		if err != nil || again.ID != first.ID || again.Checksum != first.Checksum {
			t.Fatalf("retry = %+v, %v; want batch %s", again, err, first.ID)
		}
		_, err = svc.CreateExport(ctx, "x-1", app.ExportRequest{Period: "2026-10"})
		wantKind(t, err, apperr.KindInvalidArgument)

		// An overlapping range: only what no batch holds.
		octNov, err := svc.CreateExport(ctx, "x-2", app.ExportRequest{FromDate: "2026-10-31", ToDate: "2026-11-30"})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, octNov, 2, 4, 2, 0)
		if got := exportedEntries(t, download(t, svc, octNov.ID)); len(got) != 2 || got[1] != c {
			t.Fatalf("overlapping batch holds %v, want the two October entries", got)
		}
		// Exporting November again: nothing new.
		none, err := svc.CreateExport(ctx, "", nov)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, none, 0, 0, 2, 0)
		if got := download(t, svc, none.ID); string(got) != strings.Join(ledger.DetailColumns, ",")+"\r\n" {
			t.Fatalf("empty batch content %q", got)
		}

		// A late entry, effective in November, posted after November was
		// exported, goes into the next batch.
		late := postManual(t, svc, "late", time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC), 400)
		next, err := svc.CreateExport(ctx, "x-3", nov)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, next, 1, 2, 2, 0)
		if got := exportedEntries(t, download(t, svc, next.ID)); !slices.Equal(got, []string{late}) {
			t.Fatalf("next batch holds %v, want the late entry %s", got, late)
		}

		// A lost download: the same bytes again.
		if again := download(t, svc, first.ID); !bytes.Equal(again, content) {
			t.Fatalf("re-download differs:\n%s\nvs\n%s", again, content)
		}

		// Voiding: the entries are exportable again; the voided batch stays
		// readable, the same bytes.
		_, err = svc.VoidExport(ctx, "v-1", first.ID, "  ")
		wantKind(t, err, apperr.KindInvalidArgument)
		voided, err := svc.VoidExport(ctx, "v-1", first.ID, "NetSuite rejected the file")
		if err != nil || !voided.Voided() || voided.VoidReason != "NetSuite rejected the file" || voided.VoidedBy == "" {
			t.Fatalf("void = %+v, %v", voided, err)
		}
		if retry, err := svc.VoidExport(ctx, "v-1", first.ID, "NetSuite rejected the file"); err != nil || !retry.VoidedAt.Equal(voided.VoidedAt) {
			t.Fatalf("void retry = %+v, %v", retry, err)
		}
		_, err = svc.VoidExport(ctx, "v-2", first.ID, "again")
		wantKind(t, err, apperr.KindFailedPrecondition)
		_, err = svc.VoidExport(ctx, "", "no-such-batch", "x")
		wantKind(t, err, apperr.KindNotFound)
		if got := download(t, svc, first.ID); !bytes.Equal(got, content) {
			t.Fatal("a voided batch reads back differently")
		}
		redo, err := svc.CreateExport(ctx, "x-4", app.ExportRequest{Period: "2026-11", Mode: ledger.ExportSummary, Format: ledger.ExportJSONL})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, redo, 2, 4, 1, 0)
		sum := string(download(t, svc, redo.ID))
		if n := strings.Count(sum, "\n"); n != 4 || !strings.Contains(sum, `"effective_date":"2026-11-05","account":"1400","account_name":"Inventory","currency":"USD","warehouse":"MAIN","item":"W-1","lot":"","document":"","partner":"","debit":"10.00","credit":"0.00","debit_minor":1000,"credit_minor":0,"line_count":1}`) {
			t.Fatalf("summary JSONL of the re-export:\n%s", sum)
		}

		// max_entries: the rest is counted, and taken by the next batch.
		for i := range 3 {
			postManual(t, svc, fmt.Sprint("more-", i), time.Date(2026, 11, 26, i, 0, 0, 0, time.UTC), 100)
		}
		capped, err := svc.CreateExport(ctx, "", app.ExportRequest{Period: "2026-11", MaxEntries: 2})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, capped, 2, 4, 3, 1)
		rest, err := svc.CreateExport(ctx, "", app.ExportRequest{ToDate: "2026-11-30"})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, rest, 1, 2, 7, 0)

		// The list: newest first, a page at a time; Get.
		var listed []string
		page := paging.Page{Limit: 3}
		for {
			bs, err := svc.ListExports(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bs {
				listed = append(listed, b.ID)
			}
			if len(bs) < page.Limit {
				break
			}
			page.After = bs[len(bs)-1].ID
		}
		want := []string{rest.ID, capped.ID, redo.ID, next.ID, none.ID, octNov.ID, first.ID}
		if !slices.Equal(listed, want) {
			t.Fatalf("listed %v, want %v", listed, want)
		}
		got, err := svc.GetExport(ctx, first.ID)
		if err != nil || !got.Voided() || got.Checksum != first.Checksum || got.Entries != 2 {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		_, err = svc.GetExport(ctx, "nope")
		wantKind(t, err, apperr.KindNotFound)

		// Bad requests name their fields.
		for _, bad := range []app.ExportRequest{{Period: "11-2026"}, {FromDate: "2026-11-30", ToDate: "2026-11-01"}, {MaxEntries: -1}, {Mode: 7}} {
			_, err := svc.CreateExport(ctx, "", bad)
			wantKind(t, err, apperr.KindInvalidArgument)
		}
	})
}

// TestConcurrentExportsShareNoEntry: exports of the same range made at the
// same time share out the entries; none is in two batches, and the next
// export takes whatever they left.
func TestConcurrentExportsShareNoEntry(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		const n = 40
		for i := range n {
			postManual(t, svc, fmt.Sprint("e-", i), time.Date(2026, 11, 1+i%20, 9, 0, 0, 0, time.UTC), int64(i+1))
		}
		var wg sync.WaitGroup
		batches := make([]*ledger.ExportBatch, 4)
		errs := make([]error, 4)
		for w := range 4 {
			wg.Go(func() {
				batches[w], errs[w] = svc.CreateExport(ctx, "", app.ExportRequest{Period: "2026-11", MaxEntries: 15})
			})
		}
		wg.Wait()
		// On PostgreSQL a batch that finds an entry claimed by one still
		// open waits for it and skips the entry: it may hold fewer than it
		// could, never one twice; the next batch takes what is left.
		rest, err := svc.CreateExport(ctx, "", app.ExportRequest{Period: "2026-11"})
		if err != nil {
			t.Fatal(err)
		}
		if rest.Remaining != 0 || rest.Skipped+rest.Entries != n {
			t.Fatalf("the last batch %+v", rest)
		}
		batches = append(batches, rest)
		errs = append(errs, nil)
		seen := map[string]string{}
		total := int64(0)
		for w, b := range batches {
			if errs[w] != nil {
				t.Fatal(errs[w])
			}
			total += b.Entries
			for _, id := range exportedEntries(t, download(t, svc, b.ID)) {
				if prior, ok := seen[id]; ok {
					t.Fatalf("entry %s is in batches %s and %s", id, prior, b.ID)
				}
				seen[id] = b.ID
			}
		}
		if total != n || len(seen) != n {
			t.Fatalf("the batches hold %d entries (%d distinct), want %d", total, len(seen), n)
		}
	})
}

// TestExportReadsBigBatchesByPages: a batch of more entries than one read
// takes (many sharing an effective time) comes back whole, in export order,
// the same every time; a content that no longer matches its checksum is
// refused.
func TestExportReadsBigBatchesByPages(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		const n = 1234
		want := make([]string, n)
		times := []time.Time{time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)}
		byTime := map[int][]string{}
		for i := range n {
			k := i % 3
			if i > 1000 {
				k = 2
			}
			id := postManual(t, svc, fmt.Sprint("big-", i), times[k], int64(i+1))
			byTime[k] = append(byTime[k], id)
		}
		want = append(append(append(want[:0], byTime[1]...), byTime[0]...), byTime[2]...)
		b, err := svc.CreateExport(ctx, "", app.ExportRequest{Period: "2026-11"})
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, b, n, 2*n, 0, 0)
		content := download(t, svc, b.ID)
		if got := exportedEntries(t, content); !slices.Equal(got, want) {
			t.Fatalf("%d entries exported, want %d in effective then posting order", len(got), len(want))
		}
		if again := download(t, svc, b.ID); !bytes.Equal(again, content) {
			t.Fatal("a re-download differs")
		}
		// Someone changed the record behind the batch: the content no longer
		// matches, and is refused rather than handed over.
		if _, err := db.ExecContext(ctx, `DELETE FROM export_batch_entries WHERE entry_id = $1`, want[7]); err != nil {
			t.Fatal(err)
		}
		_, err = svc.WriteExport(ctx, b.ID, &bytes.Buffer{})
		if !errors.Is(err, app.ErrExportChanged) {
			t.Fatalf("WriteExport of a changed batch = %v, want ErrExportChanged", err)
		}
	})
}
