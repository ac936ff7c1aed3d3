package grpcapi

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
	"trueup.dev/services/ledger/internal/protoconv"
)

// newBareServer is a server whose service has no store: enough for requests
// refused before any use case runs.
func newBareServer() *Server { return New(app.New(nil, nil), nil) }

func violationFields(t *testing.T, err error) map[string]bool {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) || e.Kind != apperr.KindInvalidArgument {
		t.Fatalf("err = %v, want InvalidArgument", err)
	}
	fields := map[string]bool{}
	for _, v := range e.Violations {
		fields[v.Field] = true
	}
	return fields
}

func wantFields(t *testing.T, err error, want ...string) {
	t.Helper()
	got := violationFields(t, err)
	for _, f := range want {
		if !got[f] {
			t.Errorf("no violation of %s in %v", f, err)
		}
	}
}

func eur(minor int64) *typev1.Money { return &typev1.Money{CurrencyCode: "EUR", MinorUnits: minor} }

// Malformed names, undefined enum values and invalid timestamps are refused
// on their proto field path, all at once, before any use case runs.
func TestJournalRequestsReportTransportViolations(t *testing.T) {
	ctx := context.Background()
	s := newBareServer()
	badTime := &timestamppb.Timestamp{Seconds: 1, Nanos: -5}
	for _, c := range []struct {
		name   string
		call   func() error
		fields []string
	}{
		{"CreateJournalEntry", func() error {
			_, err := s.CreateJournalEntry(ctx, &ledgerv1.CreateJournalEntryRequest{RequestId: "r", JournalEntry: &ledgerv1.JournalEntry{
				Reason: "fix", EffectiveTime: badTime,
				Lines: []*ledgerv1.JournalLine{
					{Account: "1400", Side: ledgerv1.Side_SIDE_DEBIT, Amount: eur(100)},
					{Account: "accounts/2100", Side: ledgerv1.Side(7), Amount: eur(100)},
					{Account: "accounts/", Side: ledgerv1.Side_SIDE_CREDIT, Amount: eur(100)},
				},
			}})
			return err
		}, []string{"journal_entry.effective_time", "journal_entry.lines[0].account", "journal_entry.lines[1].side", "journal_entry.lines[2].account"}},
		{"GetJournalEntry", func() error {
			_, err := s.GetJournalEntry(ctx, &ledgerv1.GetJournalEntryRequest{Name: "entries/x"})
			return err
		}, []string{"name"}},
		{"GetJournalEntry empty", func() error {
			_, err := s.GetJournalEntry(ctx, &ledgerv1.GetJournalEntryRequest{})
			return err
		}, []string{"name"}},
		{"ReverseJournalEntry", func() error {
			_, err := s.ReverseJournalEntry(ctx, &ledgerv1.ReverseJournalEntryRequest{Name: "journalEntries/a/b", Reason: "wrong"})
			return err
		}, []string{"name"}},
		{"ListJournalEntries", func() error {
			_, err := s.ListJournalEntries(ctx, &ledgerv1.ListJournalEntriesRequest{Account: "1400", StartTime: badTime})
			return err
		}, []string{"account", "start_time"}},
		{"ListJournalEntries time range", func() error {
			_, err := s.ListJournalEntries(ctx, &ledgerv1.ListJournalEntriesRequest{
				StartTime: timestamppb.New(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)),
				EndTime:   timestamppb.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))})
			return err
		}, []string{"end_time"}},
		{"ListJournalEntries page size", func() error {
			_, err := s.ListJournalEntries(ctx, &ledgerv1.ListJournalEntriesRequest{PageSize: -1})
			return err
		}, []string{"page_size"}},
		{"GetTrialBalance", func() error {
			_, err := s.GetTrialBalance(ctx, &ledgerv1.GetTrialBalanceRequest{AsOfTime: badTime})
			return err
		}, []string{"as_of_time"}},
		{"QueryBalances", func() error {
			_, err := s.QueryBalances(ctx, &ledgerv1.QueryBalancesRequest{Account: "accounts", CurrencyCode: "EURO",
				GroupBy: []string{"item", "colour"}, AsOfTime: badTime})
			return err
		}, []string{"account", "currency_code", "group_by[1]", "as_of_time"}},
		{"ListParkedEvents", func() error {
			_, err := s.ListParkedEvents(ctx, &ledgerv1.ListParkedEventsRequest{PageToken: "garbage!"})
			return err
		}, []string{"page_token"}},
	} {
		t.Run(c.name, func(t *testing.T) { wantFields(t, c.call(), c.fields...) })
	}
}

// A request with well-formed names but only a domain problem is not refused
// by the transport: the unspecified side is left to the domain (which says
// it is required), and a line's amount goes through as given.
func TestLinesFromProtoLeavesDomainChecksToTheDomain(t *testing.T) {
	lines, v := protoconv.LinesFromProto("journal_entry.lines", []*ledgerv1.JournalLine{
		{Account: "accounts/1400", Amount: eur(-5)},
		{Account: "accounts/inv-1", Side: ledgerv1.Side_SIDE_CREDIT},
	})
	if len(v) != 0 {
		t.Fatalf("violations = %v, want none", v)
	}
	want := []ledger.Line{
		{Account: "1400", Side: 0, Amount: -5, Currency: "EUR"},
		{Account: "INV-1", Side: ledger.Credit},
	}
	if !reflect.DeepEqual(want, lines) {
		t.Errorf("lines = %+v, want %+v", lines, want)
	}
}

func TestSideMappingBothWays(t *testing.T) {
	for _, c := range []struct {
		domain ledger.Side
		proto  ledgerv1.Side
	}{
		{ledger.Debit, ledgerv1.Side_SIDE_DEBIT},
		{ledger.Credit, ledgerv1.Side_SIDE_CREDIT},
		{0, ledgerv1.Side_SIDE_UNSPECIFIED},
	} {
		if got := protoconv.SideToProto(c.domain); got != c.proto {
			t.Errorf("SideToProto(%v) = %v, want %v", c.domain, got, c.proto)
		}
		if got, ok := protoconv.SideFromProto(c.proto); !ok || got != c.domain {
			t.Errorf("SideFromProto(%v) = %v, %v; want %v, true", c.proto, got, ok, c.domain)
		}
	}
	if _, ok := protoconv.SideFromProto(ledgerv1.Side(9)); ok {
		t.Error("SideFromProto(9) ok, want an undefined side refused")
	}
}

// Amounts are positive minor units on both sides; the side carries the sign.
func TestAmountMappingBothWays(t *testing.T) {
	l := ledger.Line{Account: "2100", Side: ledger.Credit, Amount: 12345, Currency: "EUR", Dims: ledger.Dimensions{Warehouse: "MAIN", Item: "ABC-1"}}
	p := protoconv.LineToProto(l)
	want := &ledgerv1.JournalLine{Account: "accounts/2100", Side: ledgerv1.Side_SIDE_CREDIT, Amount: eur(12345),
		Dimensions: &ledgerv1.Dimensions{Warehouse: "MAIN", Item: "ABC-1"}}
	if !proto.Equal(want, p) {
		t.Fatalf("LineToProto = %v, want %v", p, want)
	}
	back, v := protoconv.LinesFromProto("lines", []*ledgerv1.JournalLine{p})
	if len(v) != 0 || len(back) != 1 {
		t.Fatalf("LinesFromProto = %v, %v", back, v)
	}
	if !reflect.DeepEqual(l, back[0]) {
		t.Errorf("round trip = %+v, want %+v", back[0], l)
	}
	if back[0].Signed() != -12345 {
		t.Errorf("Signed = %d, want -12345", back[0].Signed())
	}
}

func TestJournalEntryRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	e := ledger.Entry{
		ID: "0193-e", EffectiveAt: at, PostedAt: at.Add(time.Minute), Description: "Receipt",
		Source: ledger.Source{Service: "inventory", EventType: "trueup.inventory.v1.StockReceived", EventID: "ev-1",
			DocumentID: "PO-1", MovementID: "mv-1", Seq: 42, TraceID: "abc"},
		Lines: []ledger.Line{
			{Account: "1400", Side: ledger.Debit, Amount: 500, Currency: "EUR", Dims: ledger.Dimensions{Warehouse: "MAIN", Item: "ABC-1", Lot: "L1", Document: "PO-1", Partner: "SUP-1"}},
			{Account: "2100", Side: ledger.Credit, Amount: 500, Currency: "EUR", Dims: ledger.Dimensions{Warehouse: "MAIN", Item: "ABC-1", Lot: "L1", Document: "PO-1", Partner: "SUP-1"}},
		},
		Rule: "receipt/PURCHASE_ORDER", RuleVersion: 1, Reverses: "0192-d", Reason: "why", Caller: "user:alice",
	}
	p := protoconv.EntryToProto(&e)
	if p.GetName() != "journalEntries/0193-e" || p.GetReverses() != "journalEntries/0192-d" || p.GetLines()[0].GetAccount() != "accounts/1400" {
		t.Fatalf("names: %v", p)
	}
	back, v := protoconv.EntryFromProto("journal_entry", p)
	if len(v) != 0 {
		t.Fatalf("violations: %v", v)
	}
	if !reflect.DeepEqual(e, back) {
		t.Errorf("round trip = %+v, want %+v", back, e)
	}

	// A manual entry has no rule, reversal or time of its own yet: empty
	// fields stay empty, not "journalEntries/" or year 1.
	p = protoconv.EntryToProto(&ledger.Entry{ID: "x"})
	if p.GetReverses() != "" || p.GetEffectiveTime() != nil || p.GetPostTime() != nil {
		t.Errorf("empty entry: %v", p)
	}
	_, v = protoconv.EntryFromProto("journal_entry", &ledgerv1.JournalEntry{Name: "x", Reverses: "journalEntries/"})
	if len(v) != 2 {
		t.Errorf("bad names: violations %v, want name and reverses", v)
	}
}

func TestBalanceQueryAndGrouping(t *testing.T) {
	q, err := balanceQuery(&ledgerv1.QueryBalancesRequest{Account: "accounts/1400", CurrencyCode: "eur", Warehouse: "MAIN",
		GroupBy: []string{"Item", "lot", "item"}})
	if err != nil {
		t.Fatal(err)
	}
	want := app.BalanceQuery{Account: "1400", Currency: "EUR", Warehouse: "MAIN", GroupBy: []string{"item", "lot"}}
	if !reflect.DeepEqual(want, q) {
		t.Errorf("query = %+v, want %+v", q, want)
	}
}

func TestBalanceAndTotalsMapping(t *testing.T) {
	b := ledger.Balance{Account: "1400", Currency: "EUR", Dims: ledger.Dimensions{Warehouse: "MAIN"}, Debit: 700, Credit: 200}
	got := balancesToProto([]ledger.Balance{b}, ledger.ChartMap{"1400": {Code: "1400", DisplayName: "Inventory"}})
	want := []*ledgerv1.AccountBalance{{Account: "accounts/1400", DisplayName: "Inventory", CurrencyCode: "EUR",
		Debit: eur(700), Credit: eur(200), Net: eur(500), Dimensions: &ledgerv1.Dimensions{Warehouse: "MAIN"}}}
	if len(got) != 1 || !proto.Equal(want[0], got[0]) {
		t.Errorf("balances = %v, want %v", got, want)
	}
	totals, balanced := totalsToProto(map[string]int64{"USD": 0, "EUR": 0})
	if !balanced || len(totals) != 2 || totals[0].GetCurrencyCode() != "EUR" {
		t.Errorf("totals = %v, balanced %v", totals, balanced)
	}
	if _, balanced := totalsToProto(map[string]int64{"EUR": 0, "USD": 3}); balanced {
		t.Error("an unbalanced currency reported balanced")
	}
}

// A page token of one filter is refused with another.
func TestEntryPageTokenIsBoundToItsFilters(t *testing.T) {
	f, err := entryFilter(&ledgerv1.ListJournalEntriesRequest{Account: "accounts/1400", DocumentId: "PO-1"})
	if err != nil || f.Account != "1400" || f.DocumentID != "PO-1" {
		t.Fatalf("filter = %+v, %v", f, err)
	}
	page, _ := paging.Parse(1, "", entryFilterKey(f))
	tok := page.Next(1, "e-1")
	if _, err := paging.Parse(1, tok, entryFilterKey(f)); err != nil {
		t.Fatalf("same filters: %v", err)
	}
	other := f
	other.DocumentID = "PO-2"
	if _, err := paging.Parse(1, tok, entryFilterKey(other)); !errors.Is(err, apperr.ErrInvalidArgument) {
		t.Errorf("other filters: err = %v, want InvalidArgument", err)
	}
}

func TestRepostWithoutDecoderIsInternal(t *testing.T) {
	_, err := newBareServer().RepostParkedEvents(context.Background(), &ledgerv1.RepostParkedEventsRequest{})
	if apperr.KindOf(err) != apperr.KindInternal {
		t.Errorf("err = %v, want Internal", err)
	}
}
