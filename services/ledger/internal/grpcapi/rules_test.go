package grpcapi

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/events"
	"trueup.dev/services/ledger/internal/ledger"
	"trueup.dev/services/ledger/internal/store"
)

// newStoreServer is the API over a migrated, seeded SQLite ledger (the
// store's own tests cover both dialects).
func newStoreServer(t *testing.T) (*Server, *app.Service) {
	t.Helper()
	ctx := context.Background()
	db := pgtest.OpenSQLite(t)
	if err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	a := app.New(store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode), nil)
	if err := a.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	return New(a, events.Decode), a
}

// TestPostingRuleVersionsThroughTheAPI: a payment parked for want of a rule
// posts with RepostParkedEvents once CreatePostingRuleVersion adds the
// rule, and the entry names the new version; ListPostingRules shows any
// version with each rule's own version.
func TestPostingRuleVersionsThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	s, a := newStoreServer(t)

	latest, err := s.ListPostingRules(ctx, &ledgerv1.ListPostingRulesRequest{})
	if err != nil || latest.GetVersion() != 4 || latest.GetLatestVersion() != 4 {
		t.Fatalf("ListPostingRules = v%d (latest %d), %v", latest.GetVersion(), latest.GetLatestVersion(), err)
	}
	byKey := map[string]*ledgerv1.PostingRule{}
	for _, r := range latest.GetRules() {
		byKey[r.GetKey()] = r
	}
	if r := byKey["invoice_issued"]; r.GetSinceVersion() != 2 || r.GetRoleAccounts()["ar"] != "accounts/1200" || r.GetAccount() != "" {
		t.Errorf("invoice_issued = %v", r)
	}
	if r := byKey["receipt/PURCHASE_ORDER"]; r.GetSinceVersion() != 1 || r.GetAccount() != "accounts/1400" || r.GetCounterAccount() != "accounts/2100" {
		t.Errorf("receipt/PURCHASE_ORDER = %v", r)
	}
	v1, err := s.ListPostingRules(ctx, &ledgerv1.ListPostingRulesRequest{Version: 1})
	if err != nil || v1.GetVersion() != 1 || v1.GetLatestVersion() != 4 || len(v1.GetRules()) != len(ledger.MovementRules().Rules) {
		t.Fatalf("version 1 = %v, %v", v1, err)
	}
	if _, err := s.ListPostingRules(ctx, &ledgerv1.ListPostingRulesRequest{Version: 9}); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("version 9: %v, want NotFound", err)
	}

	// Version 5 (after the built-in 1-4) leaves payments out; a payment is parked.
	if _, err := s.CreatePostingRuleVersion(ctx, &ledgerv1.CreatePostingRuleVersionRequest{
		RequestId: "v3", RemoveKeys: []string{"payment_received"}, BaseVersion: 4}); err != nil {
		t.Fatal(err)
	}
	pay := &ordersv1.PaymentReceived{EventId: "pay-ev", Payment: "payments/PAY-7", Customer: "customers/BOB", CurrencyCode: "JPY",
		Amount: &typev1.Money{CurrencyCode: "JPY", MinorUnits: 1200}, EffectiveTime: timestamppb.New(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))}
	b, err := proto.Marshal(pay)
	if err != nil {
		t.Fatal(err)
	}
	in := app.Inbound{EventID: "pay-ev", EventType: "trueup.orders.v1.PaymentReceived", Subject: "orders.v1.PaymentReceived", Payload: b}
	in.Decode(events.Decode(in.EventType, b))
	if res, err := a.PostEvents(ctx, []app.Inbound{in}); err != nil || res.Parked != 1 {
		t.Fatalf("PostEvents = %+v, %v", res, err)
	}

	req := &ledgerv1.CreatePostingRuleVersionRequest{RequestId: "v4", BaseVersion: 5, Rules: []*ledgerv1.PostingRule{{
		Key: "payment_received", Description: "Payments, again",
		RoleAccounts: map[string]string{"cash": "accounts/1000", "ar": "accounts/1200"}, SinceVersion: 77}}}
	v4, err := s.CreatePostingRuleVersion(ctx, req)
	if err != nil || v4.GetVersion() != 6 || v4.GetCreateTime() == nil {
		t.Fatalf("CreatePostingRuleVersion = %v, %v", v4, err)
	}
	again, err := s.CreatePostingRuleVersion(ctx, req)
	if err != nil || !proto.Equal(again, v4) {
		t.Fatalf("retry = %v, %v; want the first result", again, err)
	}
	for _, r := range v4.GetRules() {
		if r.GetKey() == "payment_received" && r.GetSinceVersion() != 6 {
			t.Errorf("new rule since v%d, want 6 (since_version is output only)", r.GetSinceVersion())
		}
	}
	rp, err := s.RepostParkedEvents(ctx, &ledgerv1.RepostParkedEventsRequest{})
	if err != nil || rp.GetPosted() != 1 || rp.GetStillParked() != 0 {
		t.Fatalf("RepostParkedEvents = %v, %v", rp, err)
	}
	e, err := a.EntryForEvent(ctx, "pay-ev")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetJournalEntry(ctx, &ledgerv1.GetJournalEntryRequest{Name: "journalEntries/" + e.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetRule() != "payment_received" || got.GetRuleVersion() != 6 || got.GetSource().GetService() != "orders" ||
		got.GetSource().GetDocumentId() != "PAY-7" || len(got.GetLines()) != 2 || got.GetLines()[0].GetAmount().GetMinorUnits() != 1200 {
		t.Errorf("reposted entry = %v", got)
	}
}

// TestCreatePostingRuleVersionReportsEveryViolation: malformed account
// names are refused on their proto path before the use case; the domain's
// checks (keys, roles, the chart) come back on theirs.
func TestCreatePostingRuleVersionReportsEveryViolation(t *testing.T) {
	ctx := context.Background()
	_, err := newBareServer().CreatePostingRuleVersion(ctx, &ledgerv1.CreatePostingRuleVersionRequest{
		BaseVersion: -1,
		Rules: []*ledgerv1.PostingRule{
			{Key: "receipt/X", Account: "1400", CounterAccount: "accounts/2100"},
			{Key: "invoice_issued", RoleAccounts: map[string]string{"ar": "nope/1200"}},
		}})
	wantFields(t, err, "rules[0].account", "rules[1].role_accounts.ar", "base_version")

	s, _ := newStoreServer(t)
	_, err = s.CreatePostingRuleVersion(ctx, &ledgerv1.CreatePostingRuleVersionRequest{Rules: []*ledgerv1.PostingRule{
		{Key: "Bad Key", Account: "accounts/1400", CounterAccount: "accounts/2100"},
		{Key: "invoice_issued", RoleAccounts: map[string]string{"ar": "accounts/1200", "revenue": "accounts/4999"}},
	}})
	wantFields(t, err, "rules[0].key", "rules[1].role_accounts.revenue")
	_, err = s.CreatePostingRuleVersion(ctx, &ledgerv1.CreatePostingRuleVersionRequest{BaseVersion: 1, RemoveKeys: []string{"return"}})
	if apperr.KindOf(err) != apperr.KindFailedPrecondition {
		t.Errorf("stale base version: %v, want FailedPrecondition", err)
	}
	if _, err := s.ListPostingRules(ctx, &ledgerv1.ListPostingRulesRequest{Version: -1}); apperr.KindOf(err) != apperr.KindInvalidArgument {
		t.Errorf("negative version: %v", err)
	}
}
