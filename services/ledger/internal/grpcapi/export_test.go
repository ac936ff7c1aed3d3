package grpcapi

import (
	"bytes"
	"context"
	"testing"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
)

// The content goes out in chunks of at most 64 KiB, each with its offset,
// from the offset asked for; the last, partial chunk is held back (the
// handler sends it with the checksum once the content matched).
func TestExportContentIsChunkedFromTheOffset(t *testing.T) {
	content := make([]byte, 150_000)
	for i := range content {
		content[i] = byte(i * 7)
	}
	for _, skip := range []int64{0, 1, 65536, 70_000} {
		var got []byte
		next := skip
		w := &chunkWriter{skip: skip, offset: skip, send: func(r *ledgerv1.ReadExportBatchResponse) error {
			if r.GetOffset() != next || len(r.GetData()) != exportChunk {
				t.Fatalf("skip %d: chunk at %d of %d bytes, want %d of %d", skip, r.GetOffset(), len(r.GetData()), next, exportChunk)
			}
			next += int64(len(r.GetData()))
			got = append(got, r.GetData()...)
			return nil
		}}
		for p := content; len(p) > 0; {
			k := min(len(p), 1+len(p)%4099)
			if n, err := w.Write(p[:k]); err != nil || n != k {
				t.Fatalf("Write = %d, %v", n, err)
			}
			p = p[k:]
		}
		if w.offset != next {
			t.Fatalf("held chunk at %d, want %d", w.offset, next)
		}
		got = append(got, w.buf...)
		if !bytes.Equal(got, content[skip:]) {
			t.Fatalf("skip %d: %d bytes differ from the content's %d", skip, len(got), len(content)-int(skip))
		}
	}
}

// Malformed names and offsets are refused before any use case runs.
func TestExportRequestsReportTransportViolations(t *testing.T) {
	ctx := context.Background()
	s := NewExport(newBareServer().app)
	_, err := s.GetExportBatch(ctx, &ledgerv1.GetExportBatchRequest{Name: "batches/x"})
	wantFields(t, err, "name")
	_, err = s.VoidExportBatch(ctx, &ledgerv1.VoidExportBatchRequest{Name: "exportBatches/", Reason: "r"})
	wantFields(t, err, "name")
	err = s.ReadExportBatch(&ledgerv1.ReadExportBatchRequest{Name: "exportBatches/x", Offset: -1}, nil)
	wantFields(t, err, "offset")
	_, err = s.CreateExportBatch(ctx, &ledgerv1.CreateExportBatchRequest{Period: "2026-11", ToDate: "2026-11-30",
		Mode: ledgerv1.ExportMode(9), Format: ledgerv1.ExportFormat(9), MaxEntries: -1})
	wantFields(t, err, "period", "mode", "format", "max_entries")
}
