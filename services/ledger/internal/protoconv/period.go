package protoconv

import (
	"time"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/resname"
	"trueup.dev/services/ledger/internal/ledger"
)

// PeriodPattern is the period resource name pattern.
const PeriodPattern = "periods/*"

var periodStateToProto = map[ledger.PeriodState]ledgerv1.PeriodState{
	ledger.PeriodOpen:   ledgerv1.PeriodState_PERIOD_STATE_OPEN,
	ledger.PeriodClosed: ledgerv1.PeriodState_PERIOD_STATE_CLOSED,
	ledger.PeriodLocked: ledgerv1.PeriodState_PERIOD_STATE_LOCKED,
}

// PeriodName is the resource name of period id.
func PeriodName(id string) string { return resname.Format(PeriodPattern, id) }

// PeriodToProto maps a period; loc is the company's time zone its bounds are in.
func PeriodToProto(p *ledger.Period, loc *time.Location) *ledgerv1.Period {
	return &ledgerv1.Period{
		Name:                      PeriodName(p.ID),
		StartTime:                 timeToProto(p.Start),
		EndTime:                   timeToProto(p.End),
		TimeZone:                  loc.String(),
		State:                     periodStateToProto[p.State],
		CloseTime:                 timeToProto(p.ClosedAt),
		ClosedBy:                  p.ClosedBy,
		CloseReason:               p.CloseReason,
		Forced:                    p.Forced,
		ReconciliationId:          p.ReconciliationID,
		ReconciliationClean:       p.ReconciliationClean,
		ReconciliationDifferences: int32(p.ReconciliationDifferences),
		ReconciliationError:       p.ReconciliationError,
		LockTime:                  timeToProto(p.LockedAt),
		LockedBy:                  p.LockedBy,
		LockReason:                p.LockReason,
		ReopenTime:                timeToProto(p.ReopenedAt),
		ReopenedBy:                p.ReopenedBy,
		ReopenReason:              p.ReopenReason,
	}
}
