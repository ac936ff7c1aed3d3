package app

import (
	"context"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/services/orders/internal/orders"
)

// defaultTimingsWindow is the range timings cover when the caller gives no start.
const defaultTimingsWindow = 30 * 24 * time.Hour

// Timings is how long the documents whose first stage fell in [From, To)
// took from stage to stage.
type Timings struct {
	From, To  time.Time
	Documents int
	Steps     []orders.StageTiming
}

func timingsRange(from, to, now time.Time) (time.Time, time.Time, error) {
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-defaultTimingsWindow)
	}
	if !to.After(from) {
		return from, to, apperr.Invalid(apperr.Field("end_time", "must be after start_time"))
	}
	return from, to, nil
}

// OrderToCashTimings times the sales orders confirmed in [from, to) that the
// caller may see; zero times default to the last 30 days.
func (s *Service) OrderToCashTimings(ctx context.Context, from, to time.Time) (*Timings, error) {
	from, to, err := timingsRange(from, to, s.now())
	if err != nil {
		return nil, err
	}
	docs, err := s.store.SalesOrderStages(ctx, partnerFilter(ctx), from, to)
	if err != nil {
		return nil, err
	}
	return &Timings{From: from, To: to, Documents: len(docs),
		Steps: orders.Timings(orders.OrderToCashStages, orders.OrderToCashSteps, docs)}, nil
}

// ProcureToPayTimings times the purchase orders released in [from, to).
func (s *Service) ProcureToPayTimings(ctx context.Context, from, to time.Time) (*Timings, error) {
	from, to, err := timingsRange(from, to, s.now())
	if err != nil {
		return nil, err
	}
	docs, err := s.store.PurchaseOrderStages(ctx, partnerFilter(ctx), from, to)
	if err != nil {
		return nil, err
	}
	return &Timings{From: from, To: to, Documents: len(docs),
		Steps: orders.Timings(orders.ProcureToPayStages, orders.ProcureToPaySteps, docs)}, nil
}
