package protoconv

import (
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/resname"
	"trueup.dev/services/ledger/internal/ledger"
)

// ExportBatchPattern is the export batch resource name pattern.
const ExportBatchPattern = "exportBatches/*"

var (
	exportModeToProto = map[ledger.ExportMode]ledgerv1.ExportMode{
		ledger.ExportDetail:  ledgerv1.ExportMode_EXPORT_MODE_DETAIL,
		ledger.ExportSummary: ledgerv1.ExportMode_EXPORT_MODE_SUMMARY,
	}
	exportFormatToProto = map[ledger.ExportFormat]ledgerv1.ExportFormat{
		ledger.ExportCSV:   ledgerv1.ExportFormat_EXPORT_FORMAT_CSV,
		ledger.ExportJSONL: ledgerv1.ExportFormat_EXPORT_FORMAT_JSONL,
	}
)

// ExportModeFromProto maps a mode: unspecified is 0 (the app's default),
// an unknown value -1 (refused).
func ExportModeFromProto(p ledgerv1.ExportMode) ledger.ExportMode {
	if p == ledgerv1.ExportMode_EXPORT_MODE_UNSPECIFIED {
		return 0
	}
	for d, v := range exportModeToProto {
		if v == p {
			return d
		}
	}
	return -1
}

// ExportFormatFromProto maps a format like ExportModeFromProto.
func ExportFormatFromProto(p ledgerv1.ExportFormat) ledger.ExportFormat {
	if p == ledgerv1.ExportFormat_EXPORT_FORMAT_UNSPECIFIED {
		return 0
	}
	for d, v := range exportFormatToProto {
		if v == p {
			return d
		}
	}
	return -1
}

// ExportBatchName is the resource name of batch id.
func ExportBatchName(id string) string { return resname.Format(ExportBatchPattern, id) }

// ExportBatchToProto maps a batch to the API resource.
func ExportBatchToProto(b *ledger.ExportBatch) *ledgerv1.ExportBatch {
	return &ledgerv1.ExportBatch{
		Name:                ExportBatchName(b.ID),
		Period:              b.Range.Period,
		FromDate:            b.Range.FromDate(),
		ToDate:              b.Range.ToDate(),
		Mode:                exportModeToProto[b.Mode],
		Format:              exportFormatToProto[b.Format],
		CreateTime:          timeToProto(b.CreatedAt),
		Caller:              b.Caller,
		EntryCount:          b.Entries,
		LineCount:           b.Lines,
		SkippedEntryCount:   b.Skipped,
		RemainingEntryCount: b.Remaining,
		HighWaterSeq:        b.HighWaterSeq,
		Sha256:              b.Checksum,
		SizeBytes:           b.Size,
		VoidTime:            timeToProto(b.VoidedAt),
		VoidReason:          b.VoidReason,
		VoidedBy:            b.VoidedBy,
	}
}
