package grpcapi

import (
	"context"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/protoconv"
)

// Export implements ledgerv1.ExportServiceServer: export batches of the
// journal for an external general ledger.
type Export struct {
	ledgerv1.UnimplementedExportServiceServer
	app *app.Service
}

// NewExport builds the export API.
func NewExport(a *app.Service) *Export { return &Export{app: a} }

// exportChunk is the most bytes one ReadExportBatch message carries.
const exportChunk = 64 << 10

// CreateExportBatch records a new batch of the entries no live batch holds.
func (s *Export) CreateExportBatch(ctx context.Context, req *ledgerv1.CreateExportBatchRequest) (*ledgerv1.ExportBatch, error) {
	b, err := s.app.CreateExport(ctx, req.GetRequestId(), app.ExportRequest{
		Period: req.GetPeriod(), FromDate: req.GetFromDate(), ToDate: req.GetToDate(),
		Mode: protoconv.ExportModeFromProto(req.GetMode()), Format: protoconv.ExportFormatFromProto(req.GetFormat()),
		MaxEntries: req.GetMaxEntries(),
	})
	if err != nil {
		return nil, err
	}
	return protoconv.ExportBatchToProto(b), nil
}

// GetExportBatch returns a batch's metadata ("exportBatches/{id}").
func (s *Export) GetExportBatch(ctx context.Context, req *ledgerv1.GetExportBatchRequest) (*ledgerv1.ExportBatch, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.ExportBatchPattern)
	if err != nil {
		return nil, err
	}
	b, err := s.app.GetExport(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.ExportBatchToProto(b), nil
}

// ListExportBatches pages through batches, newest first.
func (s *Export) ListExportBatches(ctx context.Context, req *ledgerv1.ListExportBatchesRequest) (*ledgerv1.ListExportBatchesResponse, error) {
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "exportBatches")
	if err != nil {
		return nil, err
	}
	bs, err := s.app.ListExports(ctx, page)
	if err != nil {
		return nil, err
	}
	resp := &ledgerv1.ListExportBatchesResponse{}
	for _, b := range bs {
		resp.ExportBatches = append(resp.ExportBatches, protoconv.ExportBatchToProto(b))
	}
	if n := len(bs); n > 0 {
		resp.NextPageToken = page.Next(n, bs[n-1].ID)
	}
	return resp, nil
}

// VoidExportBatch voids a batch: its entries become exportable again.
func (s *Export) VoidExportBatch(ctx context.Context, req *ledgerv1.VoidExportBatchRequest) (*ledgerv1.ExportBatch, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.ExportBatchPattern)
	if err != nil {
		return nil, err
	}
	b, err := s.app.VoidExport(ctx, req.GetRequestId(), ids[0], req.GetReason())
	if err != nil {
		return nil, err
	}
	return protoconv.ExportBatchToProto(b), nil
}

// ReadExportBatch streams a batch's content in chunks; the last carries the
// SHA-256, and is only sent once the content matched the recorded checksum.
func (s *Export) ReadExportBatch(req *ledgerv1.ReadExportBatchRequest, stream ledgerv1.ExportService_ReadExportBatchServer) error {
	ids, err := resname.Parse("name", req.GetName(), protoconv.ExportBatchPattern)
	if err != nil {
		return err
	}
	if req.GetOffset() < 0 {
		return apperr.Invalid(apperr.Field("offset", "must not be negative"))
	}
	cw := &chunkWriter{send: stream.Send, skip: req.GetOffset(), offset: req.GetOffset()}
	b, err := s.app.WriteExport(stream.Context(), ids[0], cw)
	if err != nil {
		return err
	}
	if req.GetOffset() > b.Size {
		return apperr.Invalid(apperr.Field("offset", "is beyond the end of the content"))
	}
	// The last chunk: what is held (maybe nothing) and the checksum.
	return stream.Send(&ledgerv1.ReadExportBatchResponse{Data: cw.buf, Offset: cw.offset, Sha256: b.Checksum})
}

// chunkWriter sends full chunks as the content is written, skipping the
// first skip bytes, and holds the last partial chunk.
type chunkWriter struct {
	send   func(*ledgerv1.ReadExportBatchResponse) error
	skip   int64
	offset int64 // of buf in the content
	buf    []byte
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	if w.skip > 0 {
		k := min(int64(len(p)), w.skip)
		w.skip -= k
		p = p[k:]
	}
	for len(p) > 0 {
		k := min(len(p), exportChunk-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == exportChunk {
			if err := w.send(&ledgerv1.ReadExportBatchResponse{Data: w.buf, Offset: w.offset}); err != nil {
				return 0, err
			}
			w.offset += int64(len(w.buf))
			w.buf = make([]byte, 0, exportChunk)
		}
	}
	return n, nil
}
