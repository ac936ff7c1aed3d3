package store_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

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

// newStore migrates db and returns the store over it, with the default chart seeded.
func newStore(t *testing.T, db *sqldb.DB) *store.Store {
	t.Helper()
	ctx := context.Background()
	if err := store.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	s := store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode)
	inTx(t, s, func(tx app.Tx) error {
		_, err := tx.SeedChart(ctx, ledger.DefaultChart(), t0)
		return err
	})
	return s
}

func inTx(t *testing.T, s *store.Store, fn func(tx app.Tx) error) {
	t.Helper()
	if err := s.InTx(context.Background(), fn); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

func TestSeedChartAndRules(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if err := store.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		s := store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode)

		rs, err := s.Rules(ctx)
		if err != nil || rs.Version != 0 || len(rs.Rules) != 0 {
			t.Fatalf("Rules before seeding = %+v, %v; want an empty version 0", rs, err)
		}

		chart := ledger.DefaultChart()
		for i, want := range []int{len(chart), 0} {
			inTx(t, s, func(tx app.Tx) error {
				n, err := tx.SeedChart(ctx, chart, t0)
				if err != nil {
					return err
				}
				if n != want {
					t.Errorf("SeedChart #%d added %d, want %d", i+1, n, want)
				}
				return nil
			})
		}
		c, err := s.Chart(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != len(chart) {
			t.Fatalf("chart has %d accounts, want %d", len(c), len(chart))
		}
		inv := c.Account(ledger.AcctInventory)
		if inv == nil || inv.DisplayName != "Inventory" || inv.Type != ledger.AccountAsset || !inv.CreatedAt.Equal(t0) {
			t.Fatalf("inventory account = %+v", inv)
		}

		v1 := ledger.MovementRules()
		v2 := &ledger.RuleSet{Version: 2, Rules: []ledger.Rule{
			{Key: "transfer_in", Account: "1400", Counter: "1450", Description: "in", Since: 1},
			{Key: "cost_correction", Account: "1400", Counter: "5200", Description: "to PPV"},
			{Key: ledger.RuleInvoiceIssued, Description: "doc", Roles: map[string]string{"ar": "1200", "revenue": "4000"}},
		}}
		for _, r := range []*ledger.RuleSet{v1, v2, v1, {Version: 2, Rules: []ledger.Rule{{Key: "other", Account: "1", Counter: "2"}}}} {
			inTx(t, s, func(tx app.Tx) error { return tx.SeedRules(ctx, r, t0) })
		}
		got, err := s.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Rules in key order; a rule stored without Since took its form in
		// its own version.
		since2 := func(r ledger.Rule) ledger.Rule { r.Since = 2; return r }
		want := &ledger.RuleSet{Version: 2, CreatedAt: t0, Rules: []ledger.Rule{since2(v2.Rules[1]), since2(v2.Rules[2]), v2.Rules[0]}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Rules = %+v, want %+v", got, want)
		}
		old, err := s.RulesVersion(ctx, 1)
		if err != nil || old.Version != 1 || len(old.Rules) != len(v1.Rules) || old.Rules[0].Roles != nil || old.Rules[0].Since != 1 {
			t.Fatalf("RulesVersion(1) = %+v, %v", old, err)
		}
		if _, err := s.RulesVersion(ctx, 3); apperr.KindOf(err) != apperr.KindNotFound {
			t.Fatalf("RulesVersion(3): %v, want NotFound", err)
		}
		// A version stored twice at once: the second is a Conflict, not a mix.
		err = s.InTx(ctx, func(tx app.Tx) error { return tx.InsertRuleSet(ctx, v2, t0) })
		if apperr.KindOf(err) != apperr.KindConflict {
			t.Fatalf("InsertRuleSet of an existing version: %v, want Conflict", err)
		}
	})
}

var day0 = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// journal is a set of entries over two days and two currencies, sharing
// accounts and dimensions.
func journal() []*ledger.Entry {
	line := func(acct string, side ledger.Side, amount int64, cur, wh, item string) ledger.Line {
		return ledger.Line{Account: acct, Side: side, Amount: amount, Currency: cur,
			Dims: ledger.Dimensions{Warehouse: wh, Item: item, Lot: "L-" + item, Document: "DOC-" + wh, Partner: "P1"}}
	}
	entry := func(n int, eff time.Time, doc, mv string, lines ...ledger.Line) *ledger.Entry {
		return &ledger.Entry{
			ID:          fmt.Sprintf("je-%02d", n),
			EffectiveAt: eff,
			PostedAt:    eff.Add(time.Minute + 123*time.Microsecond),
			Description: fmt.Sprintf("entry %d", n),
			Source: ledger.Source{Service: "inventory", EventType: "trueup.inventory.v1.StockReceived",
				EventID: fmt.Sprintf("ev-%02d", n), DocumentID: doc, MovementID: mv, Seq: int64(100 + n), TraceID: fmt.Sprintf("trace-%d", n)},
			Lines:       lines,
			Rule:        "receipt/PURCHASE_ORDER",
			RuleVersion: 1,
		}
	}
	es := []*ledger.Entry{
		entry(1, day0.Add(-14*time.Hour), "PO1", "MV1",
			line("1400", ledger.Debit, 1000, "EUR", "W1", "SKU1"), line("2100", ledger.Credit, 1000, "EUR", "W1", "SKU1")),
		entry(2, day0.Add(-2*time.Hour+7*time.Microsecond), "PO1", "MV2",
			line("1400", ledger.Debit, 500, "EUR", "W2", "SKU1"), line("1400", ledger.Debit, 250, "EUR", "W2", "SKU2"),
			line("2100", ledger.Credit, 750, "EUR", "W2", "")),
		entry(3, day0.Add(10*time.Hour), "SO1", "MV3",
			line("5000", ledger.Debit, 300, "EUR", "W1", "SKU1"), line("1400", ledger.Credit, 300, "EUR", "W1", "SKU1")),
		entry(4, day0.Add(14*time.Hour), "SO2", "MV4",
			line("5000", ledger.Debit, 200, "EUR", "W2", "SKU1"), line("1400", ledger.Credit, 200, "EUR", "W2", "SKU1")),
		entry(5, day0.Add(11*time.Hour), "PO2", "MV5",
			line("1400", ledger.Debit, 9000, "USD", "W1", "SKU2"), line("2100", ledger.Credit, 9000, "USD", "W1", "SKU2")),
	}
	// A manual reversal with no event, reason and caller.
	r := es[2].Reversal("je-06", day0.Add(15*time.Hour), "wrong shipment", "alice")
	return append(es, r)
}

func TestInsertAndGetEntries(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		es := journal()
		inTx(t, s, func(tx app.Tx) error { return tx.InsertEntries(ctx, es) })

		for _, want := range journal() {
			got, err := s.GetEntry(ctx, want.ID)
			if err != nil {
				t.Fatalf("GetEntry %s: %v", want.ID, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("GetEntry %s =\n%+v\nwant\n%+v", want.ID, got, want)
			}
			if want.Source.EventID == "" {
				continue
			}
			got, err = s.EntryBySourceEvent(ctx, want.Source.EventID)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("EntryBySourceEvent %s = %+v, %v", want.Source.EventID, got, err)
			}
		}
		_, err := s.GetEntry(ctx, "nope")
		wantKind(t, err, apperr.KindNotFound)
		_, err = s.EntryBySourceEvent(ctx, "nope")
		wantKind(t, err, apperr.KindNotFound)
		_, err = s.EntryBySourceEvent(ctx, "")
		wantKind(t, err, apperr.KindNotFound)

		before, err := s.Balances(ctx, app.BalanceQuery{})
		if err != nil {
			t.Fatal(err)
		}
		// The same event again, alone or after a fresh entry: AlreadyExists,
		// and the transaction writes nothing.
		fresh := journal()[0]
		fresh.ID, fresh.Source.EventID = "je-fresh", "ev-fresh"
		dup := journal()[1]
		dup.ID = "je-dup"
		for _, batch := range [][]*ledger.Entry{{dup}, {fresh, dup}} {
			err := s.InTx(ctx, func(tx app.Tx) error { return tx.InsertEntries(ctx, batch) })
			wantKind(t, err, apperr.KindAlreadyExists)
			if !strings.Contains(err.Error(), "ev-02") {
				t.Fatalf("err = %v, want it to name event ev-02", err)
			}
		}
		// The same entry id with another event.
		again := journal()[0]
		again.Source.EventID = "ev-other"
		err = s.InTx(ctx, func(tx app.Tx) error { return tx.InsertEntries(ctx, []*ledger.Entry{again}) })
		wantKind(t, err, apperr.KindAlreadyExists)
		// Two entries of one event in one call.
		a, b := journal()[0], journal()[0]
		a.ID, a.Source.EventID = "je-a", "ev-twice"
		b.ID, b.Source.EventID = "je-b", "ev-twice"
		err = s.InTx(ctx, func(tx app.Tx) error { return tx.InsertEntries(ctx, []*ledger.Entry{a, b}) })
		wantKind(t, err, apperr.KindAlreadyExists)
		// A second reversal of an entry, after a fresh entry: AlreadyExists,
		// naming the reversal.
		fresh2 := journal()[0]
		fresh2.ID, fresh2.Source.EventID = "je-fresh2", "ev-fresh2"
		again2 := journal()[5]
		again2.ID = "je-again"
		err = s.InTx(ctx, func(tx app.Tx) error { return tx.InsertEntries(ctx, []*ledger.Entry{fresh2, again2}) })
		wantKind(t, err, apperr.KindAlreadyExists)
		if !strings.Contains(err.Error(), "je-again") {
			t.Fatalf("err = %v, want it to name entry je-again", err)
		}
		// An entry id posted already, with a new event: AlreadyExists naming it.
		err = s.InTx(ctx, func(tx app.Tx) error { return tx.InsertEntries(ctx, []*ledger.Entry{fresh2, again}) })
		wantKind(t, err, apperr.KindAlreadyExists)
		if !strings.Contains(err.Error(), again.ID) {
			t.Fatalf("err = %v, want it to name entry %s", err, again.ID)
		}

		for _, id := range []string{"je-fresh", "je-dup", "je-a", "je-b", "je-fresh2", "je-again"} {
			_, err := s.GetEntry(ctx, id)
			wantKind(t, err, apperr.KindNotFound)
		}
		after, err := s.Balances(ctx, app.BalanceQuery{})
		if err != nil || !reflect.DeepEqual(after, before) {
			t.Fatalf("balances after failed inserts = %+v, %v; want %+v", after, err, before)
		}

		// Manual entries (no event id) do not collide with each other.
		m1, m2 := journal()[5], journal()[5]
		m1.ID, m2.ID = "je-m1", "je-m2"
		m1.Reverses, m2.Reverses = "", "" // an entry is reversed once (journal_entries_reversal)
		inTx(t, s, func(tx app.Tx) error { return tx.InsertEntries(ctx, []*ledger.Entry{m1, m2}) })
	})
}

// TestInsertEntriesKeepsAnyText: every text column is written as it was
// given, whatever its characters (on PostgreSQL the batch goes as array
// literals: quotes, backslashes, braces, commas, NULL and blanks must
// survive).
func TestInsertEntriesKeepsAnyText(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		texts := []string{`say "hi"`, `C:\dir\`, `{a,b}`, "NULL", "", "  two  spaces ", "line\nbreak\ttab", "ünïcödé €", `\"`, `"`, `\`}
		var es []*ledger.Entry
		for i, txt := range texts {
			e := journal()[0]
			e.ID, e.Source.EventID = fmt.Sprintf("je-text-%d", i), fmt.Sprintf("ev-text-%d", i)
			e.Description, e.Source.TraceID, e.Reason = txt, txt, txt
			if txt != "" {
				e.Source.DocumentID = txt
			}
			for k := range e.Lines {
				e.Lines[k].Dims.Item, e.Lines[k].Dims.Partner = txt, txt
			}
			es = append(es, e)
		}
		inTx(t, s, func(tx app.Tx) error { return tx.InsertEntries(ctx, es) })
		for _, want := range es {
			got, err := s.GetEntry(ctx, want.ID)
			if err != nil {
				t.Fatalf("GetEntry %s: %v", want.ID, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("GetEntry %s =\n%+v\nwant\n%+v", want.ID, got, want)
			}
		}
	})
}

// expected sums the lines of es as Balances should.
func expected(es []*ledger.Entry, q app.BalanceQuery) []ledger.Balance {
	group := map[string]bool{}
	for _, g := range q.GroupBy {
		group[g] = true
	}
	sums := map[ledger.Balance]*ledger.Balance{}
	for _, e := range es {
		if !q.Before.IsZero() && !e.EffectiveAt.Before(q.Before) {
			continue
		}
		for _, l := range e.Lines {
			if (q.Account != "" && l.Account != q.Account) || (q.Currency != "" && l.Currency != q.Currency) ||
				(q.Warehouse != "" && l.Dims.Warehouse != q.Warehouse) || (q.Item != "" && l.Dims.Item != q.Item) {
				continue
			}
			k := ledger.Balance{Account: l.Account, Currency: l.Currency}
			d := l.Dims
			for name, p := range map[string]*string{"warehouse": &k.Dims.Warehouse, "item": &k.Dims.Item, "lot": &k.Dims.Lot, "document": &k.Dims.Document, "partner": &k.Dims.Partner} {
				if group[name] {
					*p = map[string]string{"warehouse": d.Warehouse, "item": d.Item, "lot": d.Lot, "document": d.Document, "partner": d.Partner}[name]
				}
			}
			b := sums[k]
			if b == nil {
				c := k
				b = &c
				sums[k] = b
			}
			if l.Side == ledger.Debit {
				b.Debit += l.Amount
			} else {
				b.Credit += l.Amount
			}
		}
	}
	var out []ledger.Balance
	for _, b := range sums {
		out = append(out, *b)
	}
	slices.SortFunc(out, func(a, b ledger.Balance) int {
		ka := []string{a.Account, a.Currency, a.Dims.Warehouse, a.Dims.Item, a.Dims.Lot, a.Dims.Document, a.Dims.Partner}
		kb := []string{b.Account, b.Currency, b.Dims.Warehouse, b.Dims.Item, b.Dims.Lot, b.Dims.Document, b.Dims.Partner}
		return slices.Compare(ka, kb)
	})
	return out
}

func TestBalances(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		es := journal()
		// Two calls, so balances rows are updated as well as inserted.
		inTx(t, s, func(tx app.Tx) error { return tx.InsertEntries(ctx, es[:3]) })
		inTx(t, s, func(tx app.Tx) error { return tx.InsertEntries(ctx, es[3:]) })

		befores := []time.Time{{}, day0, day0.Add(12 * time.Hour), day0.Add(10 * time.Hour), day0.Add(10*time.Hour + time.Microsecond),
			day0.Add(-2 * time.Hour), day0.Add(-2*time.Hour + 8*time.Microsecond), day0.Add(48 * time.Hour), day0.Add(-48 * time.Hour)}
		groupings := [][]string{nil, {"warehouse", "item"}, {"item"}, {"warehouse", "item", "lot", "document", "partner"}}
		filters := []app.BalanceQuery{{}, {Account: "1400"}, {Currency: "EUR"}, {Warehouse: "W2"}, {Item: "SKU1", Account: "5000"}}
		for _, before := range befores {
			for _, g := range groupings {
				for _, f := range filters {
					q := f
					q.Before, q.GroupBy = before, g
					got, err := s.Balances(ctx, q)
					if err != nil {
						t.Fatalf("Balances(%+v): %v", q, err)
					}
					if want := expected(es, q); !reflect.DeepEqual(got, want) {
						t.Fatalf("Balances(%+v) =\n%+v\nwant\n%+v", q, got, want)
					}
				}
			}
		}

		// The partial day: at noon, the 10:00 issue counts and the 14:00 one not.
		got, err := s.Balances(ctx, app.BalanceQuery{Before: day0.Add(12 * time.Hour), Account: "5000", GroupBy: []string{"warehouse"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Dims.Warehouse != "W1" || got[0].Debit != 300 || got[0].Credit != 0 {
			t.Fatalf("COGS at noon = %+v, want 300 debit on W1 only", got)
		}

		// Trial balance: debits equal credits in each currency.
		for _, before := range befores {
			tb, err := s.Balances(ctx, app.BalanceQuery{Before: before})
			if err != nil {
				t.Fatal(err)
			}
			net := map[string]int64{}
			for _, b := range tb {
				if b.Dims != (ledger.Dimensions{}) {
					t.Fatalf("ungrouped balance has dimensions: %+v", b)
				}
				net[b.Currency] += b.Net()
			}
			for cur, n := range net {
				if n != 0 {
					t.Fatalf("trial balance before %v nets %d %s", before, n, cur)
				}
			}
		}

		_, err = s.Balances(ctx, app.BalanceQuery{GroupBy: []string{"account"}})
		wantKind(t, err, apperr.KindInvalidArgument)
		if !strings.Contains(fmt.Sprint(err), "group_by") && !strings.Contains(fmt.Sprintf("%+v", err), "group_by") {
			t.Fatalf("err = %v, want it on group_by", err)
		}
	})
}

func ids(es []*ledger.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestListEntries(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		inTx(t, s, func(tx app.Tx) error { return tx.InsertEntries(ctx, journal()) })

		all := func(f app.EntryFilter, limit int) []string {
			t.Helper()
			var out []string
			page := paging.Page{Limit: limit}
			for {
				es, err := s.ListEntries(ctx, f, page)
				if err != nil {
					t.Fatalf("ListEntries(%+v, %+v): %v", f, page, err)
				}
				for _, e := range es {
					if len(e.Lines) < 2 {
						t.Fatalf("entry %s listed with %d lines", e.ID, len(e.Lines))
					}
				}
				out = append(out, ids(es)...)
				if len(es) < limit {
					return out
				}
				page.After = es[len(es)-1].ID
			}
		}
		for _, tc := range []struct {
			f    app.EntryFilter
			want []string
		}{
			{app.EntryFilter{}, []string{"je-01", "je-02", "je-03", "je-04", "je-05", "je-06"}},
			{app.EntryFilter{Account: "5000"}, []string{"je-03", "je-04", "je-06"}},
			{app.EntryFilter{Account: "2100"}, []string{"je-01", "je-02", "je-05"}},
			{app.EntryFilter{DocumentID: "PO1"}, []string{"je-01", "je-02"}},
			{app.EntryFilter{DocumentID: "SO1"}, []string{"je-03", "je-06"}},
			{app.EntryFilter{MovementID: "MV4"}, []string{"je-04"}},
			{app.EntryFilter{From: day0}, []string{"je-03", "je-04", "je-05", "je-06"}},
			{app.EntryFilter{From: day0.Add(10 * time.Hour), To: day0.Add(14 * time.Hour)}, []string{"je-03", "je-05"}},
			{app.EntryFilter{To: day0}, []string{"je-01", "je-02"}},
			{app.EntryFilter{Account: "1400", From: day0, To: day0.Add(14*time.Hour + 1)}, []string{"je-03", "je-04", "je-05"}},
			{app.EntryFilter{Account: "9999"}, nil},
		} {
			for _, limit := range []int{1, 2, 100} {
				if got := all(tc.f, limit); !slices.Equal(got, tc.want) {
					t.Fatalf("ListEntries(%+v) by %d = %v, want %v", tc.f, limit, got, tc.want)
				}
			}
		}
		// Lines of a listed entry are complete and in order, even when the
		// filter names one of its accounts only.
		es, err := s.ListEntries(ctx, app.EntryFilter{Account: "2100", DocumentID: "PO1"}, paging.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		want := journal()[:2]
		if !reflect.DeepEqual(es, want) {
			t.Fatalf("ListEntries = %+v, want %+v", es, want)
		}
	})
}

func TestParkedEvents(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		park := func(id, reason string, at time.Time) *ledger.ParkedEvent {
			return &ledger.ParkedEvent{EventID: id, EventType: "trueup.inventory.v1.StockIssued", Subject: "inventory.W1",
				Payload: []byte{0, 1, 2, byte(len(id))}, Headers: map[string]string{"trace": "t-" + id}, Reason: reason, ParkedAt: at}
		}
		inTx(t, s, func(tx app.Tx) error {
			return tx.ParkEvents(ctx, []*ledger.ParkedEvent{park("e1", "no rule", t0), park("e2", "no rule", t0.Add(time.Second))})
		})
		inTx(t, s, func(tx app.Tx) error {
			return tx.ParkEvents(ctx, []*ledger.ParkedEvent{
				park("e3", "bad", t0.Add(2*time.Second)),
				park("e1", "still no rule", t0.Add(time.Hour)),
				{EventID: "e4", ParkedAt: t0.Add(3 * time.Second)},
				park("e3", "worse", t0.Add(4*time.Second)),
			})
		})
		var got []*ledger.ParkedEvent
		page := paging.Page{Limit: 2}
		for {
			ps, err := s.ListParked(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ps...)
			if len(ps) < page.Limit {
				break
			}
			page.After = ps[len(ps)-1].EventID
		}
		e1 := park("e1", "still no rule", t0)
		e3 := park("e3", "worse", t0.Add(2*time.Second))
		e4 := &ledger.ParkedEvent{EventID: "e4", Headers: map[string]string{}, ParkedAt: t0.Add(3 * time.Second)}
		want := []*ledger.ParkedEvent{e1, park("e2", "no rule", t0.Add(time.Second)), e3, e4}
		if !reflect.DeepEqual(got, want) {
			for i := range max(len(got), len(want)) {
				if i >= len(got) || i >= len(want) || !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("parked[%d]: got %#v, want %#v", i, at(got, i), at(want, i))
				}
			}
			t.FailNow()
		}

		inTx(t, s, func(tx app.Tx) error { return tx.UnparkEvents(ctx, []string{"e2", "e4", "unknown"}) })
		ps, err := s.ListParked(ctx, paging.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ps, []*ledger.ParkedEvent{e1, e3}) {
			t.Fatalf("parked after unpark = %+v", ps)
		}
		ps, err = s.ListParked(ctx, paging.Page{Limit: 10, After: "e1"})
		if err != nil || !reflect.DeepEqual(ps, []*ledger.ParkedEvent{e3}) {
			t.Fatalf("parked after e1 = %+v, %v", ps, err)
		}
	})
}

func TestRecordEvents(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		for _, tc := range []struct {
			ids  []string
			want map[string]bool
		}{
			{[]string{"a", "b"}, map[string]bool{"a": true, "b": true}},
			{[]string{"b", "c"}, map[string]bool{"c": true}},
			{[]string{"a", "b", "c"}, map[string]bool{}},
		} {
			inTx(t, s, func(tx app.Tx) error {
				got, err := tx.RecordEvents(ctx, "ledger-test", tc.ids)
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("RecordEvents(%v) = %v, want %v", tc.ids, got, tc.want)
				}
				return nil
			})
		}
		// Another consumer has its own record.
		inTx(t, s, func(tx app.Tx) error {
			got, err := tx.RecordEvents(ctx, "other", []string{"a"})
			if err == nil && !got["a"] {
				t.Errorf("RecordEvents for another consumer = %v, want a fresh", got)
			}
			return err
		})
	})
}

func at[T any](s []*T, i int) *T {
	if i < len(s) {
		return s[i]
	}
	return nil
}

// A call larger than one chunk: entries, lines and balances span several
// multi-row statements, and balance keys shared by entries are aggregated.
func TestInsertManyEntries(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		var es []*ledger.Entry
		for i := range 123 {
			item := fmt.Sprintf("SKU%02d", i%70)
			dims := ledger.Dimensions{Warehouse: "W1", Item: item}
			es = append(es, &ledger.Entry{
				ID: fmt.Sprintf("bulk-%03d", i), EffectiveAt: day0.Add(time.Duration(i) * 37 * time.Minute), PostedAt: t0,
				Source: ledger.Source{Service: "inventory", EventID: fmt.Sprintf("bulk-ev-%03d", i)},
				Lines: []ledger.Line{
					{Account: "1400", Side: ledger.Debit, Amount: int64(i + 1), Currency: "EUR", Dims: dims},
					{Account: "2100", Side: ledger.Credit, Amount: int64(i + 1), Currency: "EUR", Dims: dims},
				},
			})
		}
		inTx(t, s, func(tx app.Tx) error { return tx.InsertEntries(ctx, es) })
		for _, before := range []time.Time{{}, day0.Add(24 * time.Hour), day0.Add(30*time.Hour + 5*time.Minute)} {
			q := app.BalanceQuery{Before: before, GroupBy: []string{"item"}}
			got, err := s.Balances(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if want := expected(es, q); !reflect.DeepEqual(got, want) {
				t.Fatalf("Balances(%+v) = %+v, want %+v", q, got, want)
			}
		}
		listed, err := s.ListEntries(ctx, app.EntryFilter{}, paging.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(listed, es) {
			t.Fatalf("ListEntries returned %d entries, not the %d inserted in order", len(listed), len(es))
		}
	})
}
