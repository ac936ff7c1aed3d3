package app

import (
	"context"

	"trueup.dev/platform/paging"
	"trueup.dev/services/ledger/internal/ledger"
)

// ListEntries pages through journal entries in posting order, narrowed by f.
func (s *Service) ListEntries(ctx context.Context, f EntryFilter, page paging.Page) ([]*ledger.Entry, error) {
	return s.store.ListEntries(ctx, f, page)
}

// ListParked pages through the parked events in the order they were parked.
func (s *Service) ListParked(ctx context.Context, page paging.Page) ([]*ledger.ParkedEvent, error) {
	return s.store.ListParked(ctx, page)
}

// Rules returns the newest posting rule set.
func (s *Service) Rules(ctx context.Context) (*ledger.RuleSet, error) {
	return s.store.Rules(ctx)
}

// Chart returns every account of the chart of accounts, by code.
func (s *Service) Chart(ctx context.Context) (ledger.ChartMap, error) {
	return s.store.Chart(ctx)
}
