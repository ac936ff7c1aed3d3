package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/ledger/internal/ledger"
)

// ExportReader reads export batches and their content.
type ExportReader interface {
	// GetExportBatch returns a batch; NotFound when unknown.
	GetExportBatch(ctx context.Context, id string) (*ledger.ExportBatch, error)
	// ListExportBatches pages through batches newest first (page.After is
	// the last batch id of the previous page).
	ListExportBatches(ctx context.Context, page paging.Page) ([]*ledger.ExportBatch, error)
	// ExportLines calls fn with the lines of the entries batch id recorded,
	// in export order (effective time, posting sequence, line number), a
	// page of entries at a time, each page its own short read.
	ExportLines(ctx context.Context, id string, fn func([]ledger.ExportLine) error) error
}

// ExportTx records export batches.
type ExportTx interface {
	// CreateExportBatch records b and gives it the entries effective in its
	// range that no live batch holds, posted up to the journal's current
	// highest sequence, oldest posted first, at most b.MaxEntries (0: all);
	// it sets b's counts and HighWaterSeq.
	CreateExportBatch(ctx context.Context, b *ledger.ExportBatch) error
	// VoidExportBatch marks batch id voided and releases its entries (they
	// stay recorded as the batch's content).
	VoidExportBatch(ctx context.Context, id string, at time.Time, reason, by string) error
	// SetExportChecksum records the checksum and size of a batch's content
	// unless one is recorded already, and returns the recorded ones.
	SetExportChecksum(ctx context.Context, id, sum string, size int64) (string, int64, error)
}

// ExportRequest asks for a new export batch: a period ("YYYY-MM") or
// first and last effective dates ("YYYY-MM-DD", inclusive, either empty for
// an open end); a zero Mode is DETAIL and a zero Format CSV.
type ExportRequest struct {
	Period, FromDate, ToDate string
	Mode                     ledger.ExportMode
	Format                   ledger.ExportFormat
	MaxEntries               int64
}

// ErrExportChanged is the failure of a batch whose regenerated content no
// longer matches the checksum recorded when it was made.
var ErrExportChanged = apperr.Precondition("EXPORT_CONTENT_CHANGED",
	"the export batch's regenerated content no longer matches the checksum recorded when it was made: do not load it; void the batch and export again")

// CreateExport records a new export batch of the entries in the range that
// no live batch holds, then generates its content once to record its
// checksum. A retry with the same requestID returns the first batch (and
// records the checksum if a crash left it out).
func (s *Service) CreateExport(ctx context.Context, requestID string, in ExportRequest) (*ledger.ExportBatch, error) {
	rng, err := ledger.ParseExportRange(in.Period, in.FromDate, in.ToDate, s.calendar.Loc())
	var v apperr.Violations
	if ae := (*apperr.Error)(nil); errors.As(err, &ae) {
		v = append(v, ae.Violations...)
	} else if err != nil {
		return nil, err
	}
	mode, format := in.Mode, in.Format
	if mode == 0 {
		mode = ledger.ExportDetail
	}
	if format == 0 {
		format = ledger.ExportCSV
	}
	if mode != ledger.ExportDetail && mode != ledger.ExportSummary {
		v.Add("mode", "must be SUMMARY or DETAIL")
	}
	if format != ledger.ExportCSV && format != ledger.ExportJSONL {
		v.Add("format", "must be CSV or JSONL")
	}
	if in.MaxEntries < 0 {
		v.Add("max_entries", "must not be negative (0: no limit)")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	in.Mode, in.Format = mode, format // the defaults spelt out are the same request
	b, err := storetx.RunCommand(ctx, s.store.InTx, "CreateExportBatch", requestID, in,
		func(tx Tx, id string) (*ledger.ExportBatch, error) { return tx.GetExportBatch(ctx, id) },
		func(tx Tx) (*ledger.ExportBatch, string, error) {
			b := &ledger.ExportBatch{ID: newID(), Range: rng, Mode: mode, Format: format, MaxEntries: in.MaxEntries,
				CreatedAt: s.now(), Caller: caller.From(ctx).String()}
			if err := tx.CreateExportBatch(ctx, b); err != nil {
				return nil, "", err
			}
			return b, b.ID, nil
		})
	if err != nil {
		return nil, err
	}
	if b.Checksum == "" {
		// Outside the write transaction: the content is read a page at a
		// time and only hashed.
		if b, err = s.WriteExport(ctx, b.ID, io.Discard); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// GetExport returns an export batch.
func (s *Service) GetExport(ctx context.Context, id string) (*ledger.ExportBatch, error) {
	return s.store.GetExportBatch(ctx, id)
}

// ListExports pages through export batches, newest first.
func (s *Service) ListExports(ctx context.Context, page paging.Page) ([]*ledger.ExportBatch, error) {
	return s.store.ListExportBatches(ctx, page)
}

// VoidExport voids a live export batch with a reason: its entries become
// exportable again. A retry with the same requestID returns the voided batch.
func (s *Service) VoidExport(ctx context.Context, requestID, id, reason string) (*ledger.ExportBatch, error) {
	reason, err := ledger.CheckVoidReason(reason)
	if err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "VoidExportBatch", requestID, struct{ ID, Reason string }{id, reason},
		func(tx Tx, id string) (*ledger.ExportBatch, error) { return tx.GetExportBatch(ctx, id) },
		func(tx Tx) (*ledger.ExportBatch, string, error) {
			b, err := tx.GetExportBatch(ctx, id)
			if err != nil {
				return nil, "", err
			}
			if b.Voided() {
				return nil, "", apperr.Precondition("EXPORT_BATCH_VOIDED",
					fmt.Sprintf("export batch %s was voided already, at %s: %s", id, b.VoidedAt.Format(time.RFC3339), b.VoidReason))
			}
			if err := tx.VoidExportBatch(ctx, id, s.now(), reason, caller.From(ctx).String()); err != nil {
				return nil, "", err
			}
			b, err = tx.GetExportBatch(ctx, id)
			if err != nil {
				return nil, "", err
			}
			return b, b.ID, nil
		})
}

// WriteExport writes the content of batch id to w, regenerated from the
// entries it recorded, and checks it against the recorded checksum (or
// records it, the first time). It returns the batch; ErrExportChanged when
// the content differs from what was recorded (w has received it all by
// then: the caller must discard it).
func (s *Service) WriteExport(ctx context.Context, id string, w io.Writer) (*ledger.ExportBatch, error) {
	b, err := s.store.GetExportBatch(ctx, id)
	if err != nil {
		return nil, err
	}
	sum := ledger.NewChecksum(w)
	xw := ledger.NewExportWriter(sum, b, s.calendar.Loc())
	err = s.store.ExportLines(ctx, id, func(lines []ledger.ExportLine) error {
		for _, l := range lines {
			if err := xw.Write(l); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = xw.Close()
	}
	if err != nil {
		return nil, err
	}
	if b.Checksum == "" {
		err := s.store.InTx(ctx, func(tx Tx) error {
			var err error
			b.Checksum, b.Size, err = tx.SetExportChecksum(ctx, id, sum.Sum(), sum.Size())
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if b.Checksum != sum.Sum() || b.Size != sum.Size() {
		return b, ErrExportChanged
	}
	return b, nil
}
