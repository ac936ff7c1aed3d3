package grpcapi

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
	"trueup.dev/services/ledger/internal/protoconv"
)

// groupByDimensions are the dimensions QueryBalances may group by.
var groupByDimensions = []string{"warehouse", "item", "lot", "document", "partner"}

// names collects the transport violations of a request (malformed names,
// undefined enum values, invalid timestamps), so a request hears of all of
// them at once.
type names struct{ v apperr.Violations }

func (n *names) account(field, name string) string {
	ids, err := resname.Parse(field, name, protoconv.AccountPattern)
	if err != nil {
		n.v.Add(field, "must be an account name, accounts/{code}")
		return ""
	}
	return ledger.NormalizeCode(ids[0])
}

func (n *names) entry(field, name string) string {
	ids, err := resname.Parse(field, name, protoconv.EntryPattern)
	if err != nil {
		n.v.Add(field, "must be a journal entry name, journalEntries/{id}")
		return ""
	}
	return ids[0]
}

func (n *names) time(field string, ts *timestamppb.Timestamp) time.Time {
	return protoconv.TimeFromProto(&n.v, field, ts)
}

// CreateJournalEntry posts a manual journal entry.
func (s *Server) CreateJournalEntry(ctx context.Context, req *ledgerv1.CreateJournalEntryRequest) (*ledgerv1.JournalEntry, error) {
	var n names
	je := req.GetJournalEntry()
	lines, lv := protoconv.LinesFromProto("journal_entry.lines", je.GetLines())
	n.v = append(n.v, lv...)
	in := app.ManualEntry{
		EffectiveAt: n.time("journal_entry.effective_time", je.GetEffectiveTime()),
		Description: je.GetDescription(),
		Reason:      je.GetReason(),
		DocumentID:  strings.TrimSpace(je.GetSource().GetDocumentId()),
		Lines:       lines,
		Adjusting:   req.GetAdjusting(),
	}
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	e, err := s.app.CreateEntry(ctx, req.GetRequestId(), in)
	if err != nil {
		return nil, apperr.WithFieldPrefix(err, "journal_entry.")
	}
	return protoconv.EntryToProto(e), nil
}

// GetJournalEntry returns an entry by name ("journalEntries/{id}").
func (s *Server) GetJournalEntry(ctx context.Context, req *ledgerv1.GetJournalEntryRequest) (*ledgerv1.JournalEntry, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.EntryPattern)
	if err != nil {
		return nil, err
	}
	e, err := s.app.GetEntry(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	return protoconv.EntryToProto(e), nil
}

// ListJournalEntries pages through entries in posting order.
func (s *Server) ListJournalEntries(ctx context.Context, req *ledgerv1.ListJournalEntriesRequest) (*ledgerv1.ListJournalEntriesResponse, error) {
	f, err := entryFilter(req)
	if err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), entryFilterKey(f))
	if err != nil {
		return nil, err
	}
	es, err := s.app.ListEntries(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &ledgerv1.ListJournalEntriesResponse{}
	for _, e := range es {
		resp.JournalEntries = append(resp.JournalEntries, protoconv.EntryToProto(e))
	}
	if k := len(es); k > 0 {
		resp.NextPageToken = page.Next(k, es[k-1].ID)
	}
	return resp, nil
}

// entryFilter reads the filters of a ListJournalEntries request.
func entryFilter(req *ledgerv1.ListJournalEntriesRequest) (app.EntryFilter, error) {
	var n names
	f := app.EntryFilter{
		DocumentID: strings.TrimSpace(req.GetDocumentId()),
		MovementID: strings.TrimSpace(req.GetMovementId()),
		From:       n.time("start_time", req.GetStartTime()),
		To:         n.time("end_time", req.GetEndTime()),
	}
	if req.GetAccount() != "" {
		f.Account = n.account("account", req.GetAccount())
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		n.v.Add("end_time", "must be after start_time")
	}
	return f, n.v.Err()
}

// entryFilterKey fingerprints the filters for the page token, so a token is
// not reused with other filters.
func entryFilterKey(f app.EntryFilter) string {
	return fmt.Sprintf("journalEntries|%q|%q|%q|%s|%s", f.Account, f.DocumentID, f.MovementID, fmtTime(f.From), fmtTime(f.To))
}

// fmtTime keys a time in a page token's filter.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprint(t.UnixNano())
}

// ReverseJournalEntry posts the reversal of an entry.
func (s *Server) ReverseJournalEntry(ctx context.Context, req *ledgerv1.ReverseJournalEntryRequest) (*ledgerv1.JournalEntry, error) {
	ids, err := resname.Parse("name", req.GetName(), protoconv.EntryPattern)
	if err != nil {
		return nil, err
	}
	e, err := s.app.ReverseEntry(ctx, req.GetRequestId(), ids[0], req.GetReason())
	if err != nil {
		return nil, err
	}
	return protoconv.EntryToProto(e), nil
}

// GetTrialBalance sums every account per currency as of a time.
func (s *Server) GetTrialBalance(ctx context.Context, req *ledgerv1.GetTrialBalanceRequest) (*ledgerv1.TrialBalance, error) {
	var n names
	before := n.time("as_of_time", req.GetAsOfTime())
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	tb, err := s.app.GetTrialBalance(ctx, before)
	if err != nil {
		return nil, err
	}
	chart, err := s.app.Chart(ctx)
	if err != nil {
		return nil, err
	}
	asOf := before
	if asOf.IsZero() {
		asOf = time.Now().UTC()
	}
	resp := &ledgerv1.TrialBalance{AsOfTime: timestamppb.New(asOf)}
	resp.Rows = balancesToProto(tb.Rows, chart)
	resp.Totals, resp.Balanced = totalsToProto(tb.Totals)
	return resp, nil
}

// totalsToProto orders the totals by currency and says whether all are zero.
func totalsToProto(totals map[string]int64) ([]*typev1.Money, bool) {
	balanced := true
	curs := make([]string, 0, len(totals))
	for c, t := range totals {
		curs = append(curs, c)
		if t != 0 {
			balanced = false
		}
	}
	slices.Sort(curs)
	out := make([]*typev1.Money, 0, len(curs))
	for _, c := range curs {
		out = append(out, protoconv.Money(totals[c], c))
	}
	return out, balanced
}

func balancesToProto(bs []ledger.Balance, chart ledger.ChartMap) []*ledgerv1.AccountBalance {
	out := make([]*ledgerv1.AccountBalance, 0, len(bs))
	for _, b := range bs {
		display := ""
		if a := chart.Account(b.Account); a != nil {
			display = a.DisplayName
		}
		out = append(out, protoconv.BalanceToProto(b, display))
	}
	return out
}

// QueryBalances sums balances, filtered and grouped as asked.
func (s *Server) QueryBalances(ctx context.Context, req *ledgerv1.QueryBalancesRequest) (*ledgerv1.QueryBalancesResponse, error) {
	q, err := balanceQuery(req)
	if err != nil {
		return nil, err
	}
	bs, err := s.app.Balances(ctx, q)
	if err != nil {
		return nil, err
	}
	chart, err := s.app.Chart(ctx)
	if err != nil {
		return nil, err
	}
	return &ledgerv1.QueryBalancesResponse{Balances: balancesToProto(bs, chart)}, nil
}

// balanceQuery reads a QueryBalances request.
func balanceQuery(req *ledgerv1.QueryBalancesRequest) (app.BalanceQuery, error) {
	var n names
	q := app.BalanceQuery{
		Before:    n.time("as_of_time", req.GetAsOfTime()),
		Warehouse: strings.TrimSpace(req.GetWarehouse()),
		Item:      strings.TrimSpace(req.GetItem()),
	}
	if req.GetAccount() != "" {
		q.Account = n.account("account", req.GetAccount())
	}
	if req.GetCurrencyCode() != "" {
		cur, err := money.NormalizeCurrency(req.GetCurrencyCode())
		if err != nil || !money.Known(cur) {
			n.v.Add("currency_code", "must be an ISO 4217 code such as \"EUR\"")
		}
		q.Currency = cur
	}
	for i, g := range req.GetGroupBy() {
		g = strings.ToLower(strings.TrimSpace(g))
		switch {
		case !slices.Contains(groupByDimensions, g):
			n.v.Add(fmt.Sprintf("group_by[%d]", i), "must be one of "+strings.Join(groupByDimensions, ", "))
		case !slices.Contains(q.GroupBy, g):
			q.GroupBy = append(q.GroupBy, g)
		}
	}
	return q, n.v.Err()
}

// ListPostingRules returns one version of the posting rules (0: the latest).
func (s *Server) ListPostingRules(ctx context.Context, req *ledgerv1.ListPostingRulesRequest) (*ledgerv1.ListPostingRulesResponse, error) {
	if req.GetVersion() < 0 {
		return nil, apperr.Invalid(apperr.Field("version", "must not be negative; 0 is the latest version"))
	}
	latest, err := s.app.Rules(ctx)
	if err != nil {
		return nil, err
	}
	rs := latest
	if v := int(req.GetVersion()); v != 0 && v != latest.Version {
		if rs, err = s.app.RulesVersion(ctx, v); err != nil {
			return nil, err
		}
	}
	resp := &ledgerv1.ListPostingRulesResponse{Version: int32(rs.Version), LatestVersion: int32(latest.Version)}
	for _, r := range rs.Rules {
		resp.Rules = append(resp.Rules, protoconv.RuleToProto(r))
	}
	return resp, nil
}

// CreatePostingRuleVersion stores the next version of the posting rules.
func (s *Server) CreatePostingRuleVersion(ctx context.Context, req *ledgerv1.CreatePostingRuleVersionRequest) (*ledgerv1.PostingRuleSet, error) {
	rules, v := protoconv.RulesFromProto("rules", req.GetRules())
	if req.GetBaseVersion() < 0 {
		v.Add("base_version", "must not be negative; 0 means any")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	rs, err := s.app.CreateRuleVersion(ctx, req.GetRequestId(), app.RuleVersionRequest{
		RuleChanges: ledger.RuleChanges{Rules: rules, Remove: req.GetRemoveKeys(), ReplaceAll: req.GetReplaceAll()},
		BaseVersion: int(req.GetBaseVersion()),
	})
	if err != nil {
		return nil, err
	}
	return protoconv.RuleSetToProto(rs), nil
}

// ListParkedEvents pages through the parked events in the order they were
// parked.
func (s *Server) ListParkedEvents(ctx context.Context, req *ledgerv1.ListParkedEventsRequest) (*ledgerv1.ListParkedEventsResponse, error) {
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "parkedEvents")
	if err != nil {
		return nil, err
	}
	evs, err := s.app.ListParked(ctx, page)
	if err != nil {
		return nil, err
	}
	resp := &ledgerv1.ListParkedEventsResponse{}
	for _, e := range evs {
		resp.ParkedEvents = append(resp.ParkedEvents, protoconv.ParkedToProto(e))
	}
	if k := len(evs); k > 0 {
		resp.NextPageToken = page.Next(k, evs[k-1].EventID)
	}
	return resp, nil
}

// RepostParkedEvents tries every parked event again.
func (s *Server) RepostParkedEvents(ctx context.Context, _ *ledgerv1.RepostParkedEventsRequest) (*ledgerv1.RepostParkedEventsResponse, error) {
	if s.decode == nil {
		return nil, apperr.New(apperr.KindInternal, "NO_EVENT_DECODER", "the ledger API was built without an event decoder")
	}
	posted, still, err := s.app.RepostParked(ctx, s.decode)
	if err != nil {
		return nil, err
	}
	return &ledgerv1.RepostParkedEventsResponse{Posted: int32(posted), StillParked: int32(still)}, nil
}
