package ledger

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

// TestPostMovement checks every default rule family to the minor unit: which
// account is debited and which credited, for how much, with which
// dimensions.
func TestPostMovement(t *testing.T) {
	eff := time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC)
	base := StockMovement{EventID: "ev", MovementID: "m", Seq: 7, Warehouse: "MAIN", Item: "SKU-1", Lot: "L1", Currency: "USD", EffectiveAt: eff}
	mv := func(f func(m *StockMovement)) StockMovement {
		m := base
		f(&m)
		return m
	}
	tests := []struct {
		name          string
		m             StockMovement
		debit, credit string
		amount        int64
		rule          string
		doc           string
	}{
		{"receipt against a PO", mv(func(m *StockMovement) {
			m.Kind, m.SourceType, m.SourceID, m.Value = KindReceipt, "PURCHASE_ORDER", "PO-1", 123456
		}),
			AcctInventory, AcctGRNI, 123456, "receipt/PURCHASE_ORDER", "PO-1"},
		{"issue for a shipment", mv(func(m *StockMovement) {
			m.Kind, m.SourceType, m.SourceID, m.Value = KindIssue, "SHIPMENT", "SH-9", -7001
		}),
			AcctCOGS, AcctInventory, 7001, "issue/SHIPMENT", "SH-9"},
		{"scrap is an issue with a reason", mv(func(m *StockMovement) {
			m.Kind, m.SourceType, m.ReasonCategory, m.Value = KindIssue, "ADJUSTMENT", "SCRAP", -250
		}), AcctDamageScrap, AcctInventory, 250, "issue/reason/SCRAP", ""},
		{"shrinkage adjustment down", mv(func(m *StockMovement) { m.Kind, m.ReasonCategory, m.Value = KindAdjustment, "SHRINKAGE", -99 }),
			AcctShrinkage, AcctInventory, 99, "adjustment/SHRINKAGE", ""},
		{"shrinkage adjustment up (reversing a loss)", mv(func(m *StockMovement) { m.Kind, m.ReasonCategory, m.Value = KindAdjustment, "SHRINKAGE", 40 }),
			AcctInventory, AcctShrinkage, 40, "adjustment/SHRINKAGE", ""},
		{"found stock", mv(func(m *StockMovement) { m.Kind, m.ReasonCategory, m.Value = KindAdjustment, "FOUND", 1000 }),
			AcctInventory, AcctInventoryAdjustments, 1000, "adjustment/FOUND", ""},
		{"opening balance", mv(func(m *StockMovement) {
			m.Kind, m.ReasonCategory, m.Value = KindAdjustment, "OPENING_BALANCE", 5_000_000
		}),
			AcctInventory, AcctOpeningBalanceEquity, 5_000_000, "adjustment/OPENING_BALANCE", ""},
		{"write-down", mv(func(m *StockMovement) { m.Kind, m.ReasonCategory, m.Value = KindAdjustment, "WRITE_DOWN", -1 }),
			AcctWriteDowns, AcctInventory, 1, "adjustment/WRITE_DOWN", ""},
		{"count short, no reason", mv(func(m *StockMovement) { m.Kind, m.Value = KindCount, -333 }),
			AcctShrinkage, AcctInventory, 333, "count/COUNT_DIFFERENCE", ""},
		{"negative-stock cost true-up", mv(func(m *StockMovement) { m.Kind, m.Value = KindCostCorrection, -12 }),
			AcctCOGS, AcctInventory, 12, "cost_correction", ""},
		{"transfer out", mv(func(m *StockMovement) { m.Kind, m.Transfer, m.Value = KindTransferOut, "T-1", -3_000_000_000 }),
			AcctInTransit, AcctInventory, 3_000_000_000, "transfer_out", "T-1"},
		{"transfer in", mv(func(m *StockMovement) {
			m.Kind, m.Transfer, m.Warehouse, m.Value = KindTransferIn, "T-1", "EAST", 3_000_000_000
		}),
			AcctInventory, AcctInTransit, 3_000_000_000, "transfer_in", "T-1"},
		{"reversal of a wrong receipt", mv(func(m *StockMovement) {
			m.Kind, m.SourceType, m.SourceID, m.Value = KindReversal, "PURCHASE_ORDER", "PO-1", -123456
		}),
			AcctGRNI, AcctInventory, 123456, "reversal/PURCHASE_ORDER", "PO-1"},
		{"customer return", mv(func(m *StockMovement) {
			m.Kind, m.SourceType, m.SourceID, m.Value = KindReturn, "OUTBOUND_ORDER", "SO-4", 7001
		}),
			AcctInventory, AcctCOGS, 7001, "return", "SO-4"},
		{"yen, no decimals", mv(func(m *StockMovement) {
			m.Kind, m.SourceType, m.Value, m.Currency = KindReceipt, "PURCHASE_ORDER", 1500, "JPY"
		}),
			AcctInventory, AcctGRNI, 1500, "receipt/PURCHASE_ORDER", ""},
	}
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := PostMovement(DefaultRules(), tt.m, "e1", now)
			if err != nil {
				t.Fatal(err)
			}
			if len(e.Lines) != 2 {
				t.Fatalf("%d lines, want 2", len(e.Lines))
			}
			var dr, cr Line
			for _, l := range e.Lines {
				if l.Side == Debit {
					dr = l
				} else {
					cr = l
				}
			}
			if dr.Account != tt.debit || cr.Account != tt.credit || dr.Amount != tt.amount || cr.Amount != tt.amount {
				t.Errorf("Dr %s %d / Cr %s %d, want Dr %s / Cr %s %d", dr.Account, dr.Amount, cr.Account, cr.Amount, tt.debit, tt.credit, tt.amount)
			}
			wantDims := Dimensions{Warehouse: tt.m.Warehouse, Item: "SKU-1", Lot: "L1", Document: tt.doc}
			if dr.Dims != wantDims || cr.Dims != wantDims || dr.Currency != tt.m.Currency {
				t.Errorf("dims %+v / %+v currency %s, want %+v %s", dr.Dims, cr.Dims, dr.Currency, wantDims, tt.m.Currency)
			}
			if e.Rule != tt.rule || e.RuleVersion != DefaultRules().Version {
				t.Errorf("rule %s v%d, want %s v%d", e.Rule, e.RuleVersion, tt.rule, DefaultRules().Version)
			}
			if !e.EffectiveAt.Equal(tt.m.EffectiveAt) || !e.PostedAt.Equal(now) {
				t.Errorf("effective %v posted %v", e.EffectiveAt, e.PostedAt)
			}
			if e.Source.EventID != "ev" || e.Source.MovementID != "m" || e.Source.Seq != 7 || e.Source.Service != "inventory" {
				t.Errorf("source %+v", e.Source)
			}
			if err := CheckEntry(e, chart(t)); err != nil {
				t.Errorf("entry refused: %v", err)
			}
		})
	}
}

func TestPostMovementWithoutValueOrRule(t *testing.T) {
	now := time.Now()
	for _, m := range []StockMovement{
		{Kind: KindMove, Value: 0},
		{Kind: KindCount, Value: 0, Currency: "USD"},
		{Kind: KindReceipt, SourceType: "PURCHASE_ORDER", Value: 0},
	} {
		if e, err := PostMovement(DefaultRules(), m, "x", now); e != nil || err != nil {
			t.Errorf("%s of no value: entry %v, err %v; want nothing to post", m.Key(), e, err)
		}
	}
	m := StockMovement{Kind: KindAdjustment, ReasonCategory: "MYSTERY", Value: 5, Currency: "USD"}
	if _, err := PostMovement(DefaultRules(), m, "x", now); !errors.Is(err, ErrNoRule) {
		t.Errorf("adjustment of an unmapped category: err = %v, want ErrNoRule", err)
	}
}

// TestDefaultRulesUseTheDefaultChart: every built-in rule of every built-in
// version is valid against the default chart (its accounts exist, a
// document rule maps its required roles), and a key appears once.
func TestDefaultRulesUseTheDefaultChart(t *testing.T) {
	c := chart(t)
	for _, rs := range RuleHistory() {
		seen := map[string]bool{}
		for i, r := range rs.Rules {
			if seen[r.Key] {
				t.Errorf("v%d: rule %s twice", rs.Version, r.Key)
			}
			seen[r.Key] = true
			var v apperr.Violations
			checkRule(&v, fmt.Sprintf("rules[%d]", i), r, c)
			if err := v.Err(); err != nil {
				t.Errorf("v%d: rule %s is not valid: %v", rs.Version, r.Key, err)
			}
			if r.Since < 1 || r.Since > rs.Version {
				t.Errorf("v%d: rule %s since version %d", rs.Version, r.Key, r.Since)
			}
		}
	}
}

// TestRuleVersionTwoIsVersionOnePlusDocumentRules: v2 changes no movement
// rule of v1 (entries posted under v1 stay explained by it) and adds the
// three document rules.
func TestRuleVersionTwoIsVersionOnePlusDocumentRules(t *testing.T) {
	h := RuleHistory()
	if len(h) != 4 || h[0].Version != 1 || h[1].Version != 2 || h[2].Version != 3 || h[3].Version != 4 || DefaultRules().Version != 4 {
		t.Fatalf("history %d versions, default v%d", len(h), DefaultRules().Version)
	}
	for _, r := range h[0].Rules {
		if r2 := h[1].Lookup(r.Key); r2 == nil || !sameRule(r, *r2) || r2.Since != 1 {
			t.Errorf("v2's %s = %+v, want v1's %+v", r.Key, r2, r)
		}
	}
	for _, key := range []string{RuleBillApproved, RuleInvoiceIssued, RulePaymentReceived} {
		if r := h[1].Lookup(key); r == nil || r.Since != 2 || h[0].Lookup(key) != nil {
			t.Errorf("document rule %s: v2 %+v", key, r)
		}
	}
}

// A shipment's issue names the outbound order it was for: its lines are
// booked under the order (where the order's invoice books revenue), and the
// entry's source keeps the shipment.
func TestShipmentCOGSIsBookedUnderItsOrder(t *testing.T) {
	m := StockMovement{EventType: "trueup.inventory.v1.StockIssued", EventID: "ev", MovementID: "m1", Kind: KindIssue,
		SourceType: "SHIPMENT", SourceID: "SH-1", Order: "SO-1", Value: -500, Currency: "USD", Warehouse: "MAIN", Item: "A",
		EffectiveAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}
	e, err := PostMovement(DefaultRules(), m, "e1", time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if e.Source.DocumentID != "SH-1" || len(e.Lines) != 2 || e.Lines[0].Dims.Document != "SO-1" || e.Lines[1].Dims.Document != "SO-1" {
		t.Fatalf("entry = %+v", e)
	}
}

// Goods returned to the supplier against a purchase order (an issue whose
// source is the order) come back out of GRNI under the order at the cost
// inventory consumed, from rule version 4 on; version 3 has no rule for
// them, so they were parked. Version 4 changes nothing else of version 3.
func TestGoodsReturnedToTheSupplierComeBackOutOfGRNI(t *testing.T) {
	m := StockMovement{EventType: "trueup.inventory.v1.StockIssued", EventID: "ev", MovementID: "m1", Kind: KindIssue,
		SourceType: "PURCHASE_ORDER", SourceID: "PO-1", Value: -300, Currency: "USD", Warehouse: "MAIN", Item: "A",
		EffectiveAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}
	if m.Key() != RuleSupplierReturn {
		t.Fatalf("key %q, want %q", m.Key(), RuleSupplierReturn)
	}
	h := RuleHistory()
	v3, v4 := h[2], h[3]
	if _, err := PostMovement(v3, m, "e0", m.EffectiveAt); !errors.Is(err, ErrNoRule) {
		t.Errorf("under version 3: %v, want ErrNoRule (parked)", err)
	}
	e, err := PostMovement(v4, m, "e1", m.EffectiveAt)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		account string
		side    Side
	}{{AcctGRNI, Debit}, {AcctInventory, Credit}}
	got := map[string]Side{}
	for _, l := range e.Lines {
		got[l.Account] = l.Side
		if l.Amount != 300 || l.Dims.Document != "PO-1" || l.Dims.Item != "A" || l.Dims.Warehouse != "MAIN" {
			t.Errorf("line %+v", l)
		}
	}
	for _, w := range want {
		if got[w.account] != w.side {
			t.Errorf("account %s on side %v, want %v; entry %+v", w.account, got[w.account], w.side, e)
		}
	}
	if e.Rule != RuleSupplierReturn || e.RuleVersion != 4 || e.Source.DocumentID != "PO-1" {
		t.Errorf("entry = %+v", e)
	}
	if len(v4.Rules) != len(v3.Rules)+1 {
		t.Fatalf("v4 has %d rules, v3 %d", len(v4.Rules), len(v3.Rules))
	}
	for _, r := range v3.Rules {
		if r4 := v4.Lookup(r.Key); r4 == nil || !sameRule(r, *r4) || r4.Since != r.Since {
			t.Errorf("v4's %s = %+v, want v3's %+v", r.Key, r4, r)
		}
	}
	if r := v4.Lookup(RuleSupplierReturn); r == nil || r.Since != 4 {
		t.Errorf("v4's %s = %+v", RuleSupplierReturn, r)
	}
}
