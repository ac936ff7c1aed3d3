package grpcapi

import (
	"context"
	"testing"
	"time"
	_ "time/tzdata" // the zones the tests use, whatever the machine has

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
	"trueup.dev/services/ledger/internal/protoconv"
)

// Malformed period names and missing reasons are refused on their field
// before any use case reaches the store.
func TestPeriodRequestsReportViolations(t *testing.T) {
	ctx := context.Background()
	s := NewPeriods(app.New(nil, nil), nil)
	for _, c := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"GetPeriod other collection", func() error {
			_, err := s.GetPeriod(ctx, &ledgerv1.GetPeriodRequest{Name: "months/2026-11"})
			return err
		}, "name"},
		{"GetPeriod not a month", func() error {
			_, err := s.GetPeriod(ctx, &ledgerv1.GetPeriodRequest{Name: "periods/2026-13"})
			return err
		}, "name"},
		{"ClosePeriod forced without reason", func() error {
			_, err := s.ClosePeriod(ctx, &ledgerv1.ClosePeriodRequest{Name: "periods/2026-11", Force: true})
			return err
		}, "reason"},
		{"ReopenPeriod without reason", func() error {
			_, err := s.ReopenPeriod(ctx, &ledgerv1.ReopenPeriodRequest{Name: "periods/2026-11"})
			return err
		}, "reason"},
		{"LockPeriod empty name", func() error {
			_, err := s.LockPeriod(ctx, &ledgerv1.LockPeriodRequest{})
			return err
		}, "name"},
		{"ListPeriods negative page size", func() error {
			_, err := s.ListPeriods(ctx, &ledgerv1.ListPeriodsRequest{PageSize: -1})
			return err
		}, "page_size"},
	} {
		t.Run(c.name, func(t *testing.T) { wantFields(t, c.call(), c.field) })
	}
}

func TestPeriodToProtoShowsTheCloseRecord(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err) // the zone database is embedded (time/tzdata)
	}
	p, _ := ledger.Calendar{Location: loc}.Parse("", "2026-11")
	p.Close(time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC), "internal:controller", "accepted", true, "run-1", false, 2, "")
	got := protoconv.PeriodToProto(p, loc)
	if got.GetName() != "periods/2026-11" || got.GetState() != ledgerv1.PeriodState_PERIOD_STATE_CLOSED || got.GetTimeZone() != "America/New_York" ||
		got.GetStartTime().AsTime() != time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC) || !got.GetForced() || got.GetReconciliationId() != "run-1" ||
		got.GetReconciliationDifferences() != 2 || got.GetClosedBy() != "internal:controller" || got.GetLockTime() != nil {
		t.Errorf("PeriodToProto = %v", got)
	}
}
