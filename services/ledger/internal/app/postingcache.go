package app

import (
	"context"
	"sync"

	"trueup.dev/services/ledger/internal/ledger"
)

// postingCache keeps the rules and chart of accounts postings last loaded,
// by their PostingVersion: a batch reads the version (one small query) and
// loads rules and chart again only when it moved, whichever process changed
// them.
type postingCache struct {
	mu      sync.Mutex
	version PostingVersion
	rules   *ledger.RuleSet // nil: nothing loaded yet
	chart   ledger.ChartMap
}

// postingRules returns the newest rules and the chart of accounts as tx
// sees them. Both are shared between batches: read them, never change them.
func (s *Service) postingRules(ctx context.Context, tx Tx) (*ledger.RuleSet, ledger.ChartMap, error) {
	v, err := tx.PostingVersion(ctx)
	if err != nil {
		return nil, nil, err
	}
	c := &s.postings
	c.mu.Lock()
	rules, chart, hit := c.rules, c.chart, c.rules != nil && c.version == v
	c.mu.Unlock()
	if hit {
		return rules, chart, nil
	}
	if rules, err = tx.Rules(ctx); err != nil {
		return nil, nil, err
	}
	if chart, err = tx.Chart(ctx); err != nil {
		return nil, nil, err
	}
	// Keyed by what was loaded (it may be newer than v).
	c.mu.Lock()
	c.version, c.rules, c.chart = PostingVersion{Rules: rules.Version, Accounts: len(chart)}, rules, chart
	c.mu.Unlock()
	return rules, chart, nil
}
