package protoconv

import (
	"fmt"
	"maps"
	"slices"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/resname"
	"trueup.dev/services/ledger/internal/ledger"
)

// RuleToProto maps a posting rule.
func RuleToProto(r ledger.Rule) *ledgerv1.PostingRule {
	p := &ledgerv1.PostingRule{
		Key:            r.Key,
		Account:        AccountName(r.Account),
		CounterAccount: AccountName(r.Counter),
		Description:    r.Description,
		SinceVersion:   int32(r.Since),
	}
	if len(r.Roles) > 0 {
		p.RoleAccounts = make(map[string]string, len(r.Roles))
		for role, code := range r.Roles {
			p.RoleAccounts[role] = AccountName(code)
		}
	}
	return p
}

// RuleSetToProto maps a version of the posting rules.
func RuleSetToProto(rs *ledger.RuleSet) *ledgerv1.PostingRuleSet {
	p := &ledgerv1.PostingRuleSet{Version: int32(rs.Version), CreateTime: timeToProto(rs.CreatedAt)}
	for _, r := range rs.Rules {
		p.Rules = append(p.Rules, RuleToProto(r))
	}
	return p
}

// RulesFromProto maps posting rules of a request; field is the repeated
// field's path ("rules"). A malformed account name is a violation on its
// field; what the domain checks (keys, roles, the chart) is left to it.
// Output-only fields (since_version) are ignored.
func RulesFromProto(field string, ps []*ledgerv1.PostingRule) ([]ledger.Rule, apperr.Violations) {
	var v apperr.Violations
	code := func(f, name string) string {
		if name == "" {
			return ""
		}
		ids, err := resname.Parse(f, name, AccountPattern)
		if err != nil {
			v.Add(f, "must be an account name, accounts/{code}")
			return ""
		}
		return ledger.NormalizeCode(ids[0])
	}
	out := make([]ledger.Rule, 0, len(ps))
	for i, p := range ps {
		f := fmt.Sprintf("%s[%d]", field, i)
		r := ledger.Rule{
			Key:         p.GetKey(),
			Account:     code(f+".account", p.GetAccount()),
			Counter:     code(f+".counter_account", p.GetCounterAccount()),
			Description: p.GetDescription(),
		}
		if len(p.GetRoleAccounts()) > 0 {
			r.Roles = map[string]string{}
			for _, role := range slices.Sorted(maps.Keys(p.GetRoleAccounts())) {
				r.Roles[role] = code(f+".role_accounts."+role, p.GetRoleAccounts()[role])
			}
		}
		out = append(out, r)
	}
	return out, v
}
