package app

import (
	"context"
	"strconv"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/ledger/internal/ledger"
)

// RuleVersionRequest asks for a new version of the posting rules.
type RuleVersionRequest struct {
	ledger.RuleChanges
	// BaseVersion, when not 0, must be the latest version: the changes were
	// made looking at it.
	BaseVersion int
}

// CreateRuleVersion stores the next version of the posting rules: the
// latest with the changes applied, checked against the chart of accounts.
// Events are posted under it from its commit on; entries posted before
// keep their version. A retry with the same requestID returns the version
// the first call created.
func (s *Service) CreateRuleVersion(ctx context.Context, requestID string, in RuleVersionRequest) (*ledger.RuleSet, error) {
	return storetx.RunCommand(ctx, s.store.InTx, "CreatePostingRuleVersion", requestID, in,
		func(tx Tx, version string) (*ledger.RuleSet, error) {
			v, err := strconv.Atoi(version)
			if err != nil {
				return nil, err
			}
			return tx.RulesVersion(ctx, v)
		},
		func(tx Tx) (*ledger.RuleSet, string, error) {
			latest, err := tx.Rules(ctx)
			if err != nil {
				return nil, "", err
			}
			if in.BaseVersion != 0 && in.BaseVersion != latest.Version {
				return nil, "", apperr.Precondition("RULES_VERSION_MOVED",
					"the latest posting rules are version "+strconv.Itoa(latest.Version)+", not "+strconv.Itoa(in.BaseVersion)+": look at them and make the changes again",
					apperr.Field("base_version", "is not the latest version"))
			}
			chart, err := tx.Chart(ctx)
			if err != nil {
				return nil, "", err
			}
			next, err := ledger.NextRuleSet(latest, in.RuleChanges, chart)
			if err != nil {
				return nil, "", err
			}
			now := s.now()
			if err := tx.InsertRuleSet(ctx, next, now); err != nil {
				return nil, "", err
			}
			next.CreatedAt = time.UnixMicro(now.UnixMicro()).UTC() // as stored
			return next, strconv.Itoa(next.Version), nil
		})
}

// RulesVersion returns one version of the posting rules; 0 is the latest.
func (s *Service) RulesVersion(ctx context.Context, version int) (*ledger.RuleSet, error) {
	if version == 0 {
		return s.store.Rules(ctx)
	}
	return s.store.RulesVersion(ctx, version)
}
