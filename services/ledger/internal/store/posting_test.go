package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/events"
	"trueup.dev/services/ledger/internal/ledger"
	"trueup.dev/services/ledger/internal/store"
)

// movement builds a real inventory movement event (encoded protobuf, as the
// consumer receives it) and the Inbound the consumer makes of it.
type movement struct {
	typ      inventoryv1.MovementType
	src      inventoryv1.SourceDocumentType
	srcID    string
	reason   inventoryv1.ReasonCategory
	value    int64
	currency string
	wh, sku  string
	transfer string
	order    string // the outbound order a shipment's issue was for
	seq      int64
	at       time.Time
}

func (m movement) proto(id string) *inventoryv1.Movement {
	return &inventoryv1.Movement{
		Name: "movements/" + id, Type: m.typ, Item: "items/" + m.sku, Warehouse: "warehouses/" + m.wh,
		Value:  &typev1.Money{CurrencyCode: m.currency, MinorUnits: m.value},
		Source: &inventoryv1.SourceDocument{Type: m.src, Id: m.srcID}, ReasonCategory: m.reason,
		Seq: m.seq, EffectiveTime: timestamppb.New(m.at), CreateTime: timestamppb.New(m.at),
		Transfer:      map[bool]string{true: "transfers/" + m.transfer}[m.transfer != ""],
		OutboundOrder: m.order,
	}
}

func inbound(t testing.TB, eventID string, ev proto.Message) app.Inbound {
	t.Helper()
	b, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	typ := string(ev.ProtoReflect().Descriptor().FullName())
	in := app.Inbound{EventID: eventID, EventType: typ, Subject: "inventory.v1." + typ, Payload: b, Headers: map[string]string{
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}
	in.TraceID = app.TraceID(in.Headers)
	in.Movements, in.DecodeErr = events.DecodeInventory(typ, b)
	return in
}

func stockEvent(t testing.TB, eventID string, m movement) app.Inbound {
	t.Helper()
	mv := m.proto("m-" + eventID)
	var ev proto.Message
	switch m.typ {
	case inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT:
		ev = &inventoryv1.StockReceived{EventId: eventID, Movement: mv}
	case inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE:
		ev = &inventoryv1.StockIssued{EventId: eventID, Movement: mv}
	case inventoryv1.MovementType_MOVEMENT_TYPE_ADJUSTMENT:
		ev = &inventoryv1.StockAdjusted{EventId: eventID, Movement: mv}
	case inventoryv1.MovementType_MOVEMENT_TYPE_COUNT:
		ev = &inventoryv1.StockCounted{EventId: eventID, Movement: mv}
	case inventoryv1.MovementType_MOVEMENT_TYPE_COST_CORRECTION:
		ev = &inventoryv1.StockCostCorrected{EventId: eventID, Movement: mv}
	case inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_OUT:
		ev = &inventoryv1.StockTransferredOut{EventId: eventID, Movement: mv}
	case inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_IN:
		ev = &inventoryv1.StockTransferReceived{EventId: eventID, Movements: []*inventoryv1.Movement{mv}}
	case inventoryv1.MovementType_MOVEMENT_TYPE_RETURN:
		ev = &inventoryv1.StockReturned{EventId: eventID, Movement: mv}
	case inventoryv1.MovementType_MOVEMENT_TYPE_REVERSAL:
		ev = &inventoryv1.StockReversed{EventId: eventID, Movement: mv}
	default:
		t.Fatalf("no event for %v", m.typ)
	}
	return inbound(t, eventID, ev)
}

var (
	day1 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	po   = inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER
	ship = inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_SHIPMENT
)

func balance(t *testing.T, svc *app.Service, q app.BalanceQuery) map[string]int64 {
	t.Helper()
	rows, err := svc.Balances(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[fmt.Sprintf("%s %s %s %s", r.Account, r.Currency, r.Dims.Warehouse, r.Dims.Item)] = r.Net()
	}
	return out
}

func TestPostingInventoryEvents(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		batch := []app.Inbound{
			stockEvent(t, "e1", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: po, srcID: "PO-1", value: 123456, currency: "USD", wh: "MAIN", sku: "A", seq: 1, at: day1}),
			stockEvent(t, "e2", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE, src: ship, srcID: "SH-1", value: -7001, currency: "USD", wh: "MAIN", sku: "A", seq: 2, at: day1.Add(time.Hour)}),
			stockEvent(t, "e3", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_ADJUSTMENT, reason: inventoryv1.ReasonCategory_REASON_CATEGORY_SHRINKAGE, value: -99, currency: "USD", wh: "MAIN", sku: "A", seq: 3, at: day1.Add(2 * time.Hour)}),
			stockEvent(t, "e4", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: po, srcID: "PO-2", value: 1500, currency: "JPY", wh: "TOKYO", sku: "B", seq: 4, at: day1.Add(24 * time.Hour)}),
			stockEvent(t, "e5", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_OUT, value: -50000, currency: "USD", wh: "MAIN", sku: "A", transfer: "T-1", seq: 5, at: day1.Add(25 * time.Hour)}),
			stockEvent(t, "e6", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_IN, value: 50000, currency: "USD", wh: "EAST", sku: "A", transfer: "T-1", seq: 6, at: day1.Add(26 * time.Hour)}),
			// A count that found what was expected: nothing to post.
			stockEvent(t, "e7", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_COUNT, currency: "USD", wh: "MAIN", sku: "A", seq: 7, at: day1}),
		}
		// Triple delivery, and the first event twice in its own batch.
		for i := range 3 {
			res, err := svc.PostEvents(ctx, append(batch, batch[0]))
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 && (res.Posted != 6 || res.Duplicates != 1 || res.Parked != 0 || res.NoValue != 1) {
				t.Errorf("first delivery: %+v, want 6 posted, 1 duplicate, 1 with no value", res)
			}
			if i > 0 && (res.Posted != 0 || res.Duplicates != len(batch)+1) {
				t.Errorf("delivery %d: %+v, want every event a duplicate", i+1, res)
			}
		}
		e, err := svc.EntryForEvent(ctx, "e1")
		if err != nil {
			t.Fatal(err)
		}
		if e.Source.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || e.Source.MovementID != "m-e1" || e.Source.Seq != 1 ||
			e.Source.DocumentID != "PO-1" || e.Rule != "receipt/PURCHASE_ORDER" || e.RuleVersion != ledger.DefaultRules().Version || !e.EffectiveAt.Equal(day1) {
			t.Errorf("entry of e1: %+v", e)
		}
		got := balance(t, svc, app.BalanceQuery{GroupBy: []string{"warehouse", "item"}})
		want := map[string]int64{
			"1400 USD MAIN A": 123456 - 7001 - 99 - 50000, "2100 USD MAIN A": -123456, "5000 USD MAIN A": 7001, "5100 USD MAIN A": 99,
			"1450 USD MAIN A": 50000, "1450 USD EAST A": -50000, "1400 USD EAST A": 50000,
			"1400 JPY TOKYO B": 1500, "2100 JPY TOKYO B": -1500,
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("balances\n got %v\nwant %v", got, want)
		}
		tb, err := svc.GetTrialBalance(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for cur, net := range tb.Totals {
			if net != 0 {
				t.Errorf("trial balance in %s is %d, want 0", cur, net)
			}
		}
		// As of the end of day 1: the JPY receipt and the transfer are later.
		asOf := balance(t, svc, app.BalanceQuery{Before: day1.Add(14 * time.Hour), Account: ledger.AcctInventory})
		if fmt.Sprint(asOf) != fmt.Sprint(map[string]int64{"1400 USD  ": 123456 - 7001 - 99}) {
			t.Errorf("inventory as of day 1 evening: %v", asOf)
		}
	})
}

func TestUnpostableEventsAreParkedAndReposted(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		mystery := stockEvent(t, "p1", movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT,
			src: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_COUNT, value: 10, currency: "USD", wh: "MAIN", sku: "A", at: day1})
		garbled := app.Inbound{EventID: "p2", EventType: "trueup.inventory.v1.StockReceived", Payload: []byte{0xff, 0x01}}
		garbled.Movements, garbled.DecodeErr = events.DecodeInventory(garbled.EventType, garbled.Payload)
		res, err := svc.PostEvents(ctx, []app.Inbound{mystery, garbled})
		if err != nil {
			t.Fatal(err)
		}
		if res.Parked != 2 || res.Posted != 0 {
			t.Fatalf("PostEvents = %+v, want both parked", res)
		}
		parked, err := svc.ListParked(ctx, paging.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(parked) != 2 || parked[0].EventID != "p1" || parked[1].EventID != "p2" || parked[0].Reason == "" {
			t.Fatalf("parked = %+v", parked)
		}
		// A redelivery does not post or park again.
		if res, err := svc.PostEvents(ctx, []app.Inbound{mystery}); err != nil || res.Duplicates != 1 {
			t.Fatalf("redelivery: %+v %v", res, err)
		}
		// Reposting with a decoder that now reads the garbled one (as a fixed
		// decoder would) posts it and keeps the one with no rule parked.
		fixed := func(typ string, payload []byte) (app.Decoded, error) {
			if len(payload) == 2 {
				return app.Decoded{Movements: []ledger.StockMovement{{Kind: ledger.KindReceipt, SourceType: "PURCHASE_ORDER", Value: 5, Currency: "USD", EffectiveAt: day1}}}, nil
			}
			return events.Decode(typ, payload)
		}
		posted, still, err := svc.RepostParked(ctx, fixed)
		if err != nil || posted != 1 || still != 1 {
			t.Fatalf("RepostParked = %d posted, %d still parked, %v; want 1, 1", posted, still, err)
		}
		if _, err := svc.EntryForEvent(ctx, "p2"); err != nil {
			t.Errorf("reposted event has no entry: %v", err)
		}
	})
}

func TestManualEntriesAndReversals(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		lines := []ledger.Line{
			{Account: "1000", Side: ledger.Debit, Amount: 10000, Currency: "USD"},
			{Account: "3900", Side: ledger.Credit, Amount: 10000, Currency: "USD"},
		}
		in := app.ManualEntry{EffectiveAt: day1, Description: "Opening cash", Reason: "opening balances", Lines: lines}
		first, err := svc.CreateEntry(ctx, "m-1", in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := svc.CreateEntry(ctx, "m-1", in)
		if err != nil || again.ID != first.ID || !again.PostedAt.Equal(first.PostedAt) {
			t.Fatalf("retry = %+v, %v; want the first entry", again, err)
		}
		// Unbalanced and reasonless: refused with every violation, nothing written.
		bad := app.ManualEntry{Lines: []ledger.Line{lines[0], {Account: "3900", Side: ledger.Credit, Amount: 9999, Currency: "USD"}}}
		_, err = svc.CreateEntry(ctx, "m-2", bad)
		wantKind(t, err, apperr.KindInvalidArgument)
		tb, _ := svc.GetTrialBalance(ctx, time.Time{})
		if len(tb.Rows) != 2 {
			t.Errorf("after a refused entry the trial balance has %d rows, want the first entry's 2", len(tb.Rows))
		}
		rev, err := svc.ReverseEntry(ctx, "r-1", first.ID, "posted twice")
		if err != nil {
			t.Fatal(err)
		}
		if rev.Reverses != first.ID || rev.Reason != "posted twice" || rev.Caller == "" {
			t.Errorf("reversal = %+v", rev)
		}
		cash := balance(t, svc, app.BalanceQuery{Account: "1000"})
		if cash["1000 USD  "] != 0 {
			t.Errorf("cash after reversal = %v, want 0", cash)
		}
		_, err = svc.ReverseEntry(ctx, "r-2", first.ID, "again")
		wantKind(t, err, apperr.KindFailedPrecondition)
		_, err = svc.ReverseEntry(ctx, "r-3", rev.ID, "undo the undo")
		wantKind(t, err, apperr.KindFailedPrecondition)
	})
}

// TestPostingIsOrderAndDuplicateFree: any random stream of valid events,
// delivered with duplicates, in random batches and out of order, gives the
// same balances as the stream delivered once in order, and a trial balance of
// zero in every currency. The seed is logged; TRUEUP_PROPERTY_SEED replays one.
func TestPostingIsOrderAndDuplicateFree(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TRUEUP_PROPERTY_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = v
	}
	t.Logf("seed %d (TRUEUP_PROPERTY_SEED=%d to replay)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	kinds := []movement{
		{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: po, srcID: "PO-1"},
		{typ: inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE, src: ship, srcID: "SH-1"},
		{typ: inventoryv1.MovementType_MOVEMENT_TYPE_ADJUSTMENT, reason: inventoryv1.ReasonCategory_REASON_CATEGORY_FOUND},
		{typ: inventoryv1.MovementType_MOVEMENT_TYPE_ADJUSTMENT, reason: inventoryv1.ReasonCategory_REASON_CATEGORY_DAMAGE},
		{typ: inventoryv1.MovementType_MOVEMENT_TYPE_COUNT},
		{typ: inventoryv1.MovementType_MOVEMENT_TYPE_COST_CORRECTION},
		{typ: inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_OUT, transfer: "T"},
		{typ: inventoryv1.MovementType_MOVEMENT_TYPE_TRANSFER_IN, transfer: "T"},
		{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RETURN, src: ship, srcID: "SO-1"},
	}
	var stream []app.Inbound
	for i := range 300 {
		m := kinds[rng.IntN(len(kinds))]
		m.value = rng.Int64N(2_000_000) - 1_000_000
		m.currency = []string{"USD", "EUR", "JPY"}[rng.IntN(3)]
		m.wh = []string{"MAIN", "EAST"}[rng.IntN(2)]
		m.sku = []string{"A", "B", "C"}[rng.IntN(3)]
		m.seq = int64(i + 1)
		m.at = day1.Add(time.Duration(rng.IntN(72*60)) * time.Minute)
		stream = append(stream, stockEvent(t, fmt.Sprintf("ev-%d", i), m))
	}
	group := []string{"warehouse", "item"}
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		// The dialects run in parallel: each shuffles with its own generator
		// (from the same seed, so a run still replays).
		rng := rand.New(rand.NewPCG(seed, seed^uint64(len(db.Dialect))))
		ctx := context.Background()
		once, _ := newService(t, db)
		if err := once.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := once.PostEvents(ctx, stream); err != nil {
			t.Fatal(err)
		}
		want := balance(t, once, app.BalanceQuery{GroupBy: group})
		wantMid := balance(t, once, app.BalanceQuery{GroupBy: group, Before: day1.Add(30 * time.Hour)})

		other := pgtest.OpenSQLite(t)
		if db.Dialect == sqldb.Postgres {
			other = pgtest.OpenPostgres(t)
		}
		messy, _ := newService(t, other)
		if err := messy.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		var deliveries []app.Inbound
		for _, in := range stream {
			for range 1 + rng.IntN(3) {
				deliveries = append(deliveries, in)
			}
		}
		rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
		for len(deliveries) > 0 {
			n := min(len(deliveries), 1+rng.IntN(40))
			if _, err := messy.PostEvents(ctx, deliveries[:n]); err != nil {
				t.Fatal(err)
			}
			deliveries = deliveries[n:]
		}
		if got := balance(t, messy, app.BalanceQuery{GroupBy: group}); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("balances differ from the in-order stream (seed %d)\n got %v\nwant %v", seed, got, want)
		}
		if got := balance(t, messy, app.BalanceQuery{GroupBy: group, Before: day1.Add(30 * time.Hour)}); fmt.Sprint(got) != fmt.Sprint(wantMid) {
			t.Errorf("balances as of mid-stream differ (seed %d)", seed)
		}
		tb, err := messy.GetTrialBalance(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for cur, net := range tb.Totals {
			if net != 0 {
				t.Errorf("trial balance in %s = %d, want 0 (seed %d)", cur, net, seed)
			}
		}
	})
}

// PostEvents keeps the rules and chart between batches, but sees a new rule
// version and a new account made by another process (another Service on the
// same database) at its next batch.
func TestPostingSeesRulesAndAccountsChangedElsewhere(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newService(t, db)
		other, _ := newService(t, db)
		if err := svc.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		n := 0
		post := func() *ledger.Entry {
			t.Helper()
			n++
			id := fmt.Sprintf("c%d", n)
			in := stockEvent(t, id, movement{typ: inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT, src: po, srcID: "PO-1",
				value: 100, currency: "USD", wh: "MAIN", sku: "A", seq: int64(n), at: day1})
			res, err := svc.PostEvents(ctx, []app.Inbound{in})
			if err != nil {
				t.Fatal(err)
			}
			if res.Posted == 0 {
				return nil
			}
			e, err := svc.EntryForEvent(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		first := post()
		if first == nil {
			t.Fatal("the first receipt was not posted")
		}
		latest, err := other.RulesVersion(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}

		// A version whose receipt rule credits an account not in the chart
		// yet, stored as a seed is (unchecked): the receipt is parked.
		next := &ledger.RuleSet{Version: latest.Version + 1}
		for _, r := range latest.Rules {
			if r.Key == first.Rule {
				r.Counter, r.Since = "2999", 0
			}
			next.Rules = append(next.Rules, r)
		}
		s := store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode)
		inTx(t, s, func(tx app.Tx) error { return tx.InsertRuleSet(ctx, next, t0) })
		if e := post(); e != nil {
			t.Fatalf("posted %+v under a rule naming an account not in the chart", e)
		}
		parked, err := svc.ListParked(ctx, paging.Page{Limit: 10})
		if err != nil || len(parked) != 1 || !strings.Contains(parked[0].Reason, `no account "2999"`) {
			t.Fatalf("parked = %+v, %v; want the receipt, for account 2999", parked, err)
		}

		// Once the account exists, the next receipt posts to it.
		if _, err := other.CreateAccount(ctx, "", ledger.Account{Code: "2999", DisplayName: "Clearing", Type: ledger.AccountLiability, CurrencyCode: "USD"}); err != nil {
			t.Fatal(err)
		}
		e := post()
		if e == nil || e.RuleVersion != next.Version {
			t.Fatalf("after the account was added: %+v, want posted under version %d", e, next.Version)
		}
		if !slices.ContainsFunc(e.Lines, func(l ledger.Line) bool { return l.Account == "2999" }) {
			t.Errorf("lines %+v, want one on 2999", e.Lines)
		}
	})
}
