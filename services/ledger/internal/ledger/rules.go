package ledger

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Posting rules.
//
// Everything that changes inventory value is posted from inventory's
// movement events, at the value inventory reported, so the GL's inventory
// accounts tie to inventory's valuation by construction. A movement rule
// names two accounts: Account, the inventory-side account (Inventory, or
// Inventory in transit) whose balance moves with the stock's value, and
// Counter, the account on the other side. A movement that adds value (value
// > 0) debits Account and credits Counter; one that takes value out debits
// Counter and credits Account. Both lines carry the movement's warehouse,
// item, lot and document.
//
// Rules are data: a RuleSet has a version, every entry records the rule and
// version that produced it, and a movement whose key has no rule is parked,
// not dropped (ErrNoRule), to be posted once a rule version covers it.

// Rule maps one kind of movement (Key) to its accounts.
type Rule struct {
	Key         string
	Account     string // the inventory-side account
	Counter     string
	Description string
}

// RuleSet is one version of the posting rules.
type RuleSet struct {
	Version int
	Rules   []Rule
}

// Lookup returns the rule for key, or nil.
func (s *RuleSet) Lookup(key string) *Rule {
	for i := range s.Rules {
		if s.Rules[i].Key == key {
			return &s.Rules[i]
		}
	}
	return nil
}

// DefaultRules is version 1 of the posting rules, seeded at start.
//
// Keys are "<movement kind>/<detail>": receipts, issues and reversals by
// their source document's type, adjustments and counts by their reason
// code's category; an issue with a reason (a scrap, a sample) by its
// category too. A negative-stock cost true-up (cost_correction) goes to
// COGS: the issues it corrects were costed to COGS at the then-current cost,
// so the difference belongs there too, not to purchase price variance, which
// is the bill-versus-receipt difference.
func DefaultRules() *RuleSet {
	r := func(key, acct, counter, desc string) Rule {
		return Rule{Key: key, Account: acct, Counter: counter, Description: desc}
	}
	return &RuleSet{Version: 1, Rules: []Rule{
		r("receipt/PURCHASE_ORDER", AcctInventory, AcctGRNI, "Receipt against a purchase order: Dr Inventory, Cr GRNI at the receipt's value"),
		r("receipt/RECEIPT", AcctInventory, AcctGRNI, "Receipt of an expected receipt (a purchase order's): Dr Inventory, Cr GRNI"),
		r("issue/SHIPMENT", AcctInventory, AcctCOGS, "Issue for a shipment: Dr COGS, Cr Inventory at the cost inventory reported"),
		r("issue/OUTBOUND_ORDER", AcctInventory, AcctCOGS, "Issue for an outbound order: Dr COGS, Cr Inventory"),
		r("issue/reason/SCRAP", AcctInventory, AcctDamageScrap, "Scrapped stock: Dr Damage and scrap, Cr Inventory"),
		r("issue/reason/DAMAGE", AcctInventory, AcctDamageScrap, "Damaged stock written off: Dr Damage and scrap, Cr Inventory"),
		r("issue/reason/SAMPLE", AcctInventory, AcctSamples, "Stock given as samples: Dr Samples, Cr Inventory"),
		r("issue/reason/SHRINKAGE", AcctInventory, AcctShrinkage, "Stock lost: Dr Shrinkage, Cr Inventory"),
		r("issue/reason/WRITE_DOWN", AcctInventory, AcctWriteDowns, "Stock written down: Dr Write-downs, Cr Inventory"),
		r("adjustment/SHRINKAGE", AcctInventory, AcctShrinkage, "Shrinkage adjustment, against Shrinkage"),
		r("adjustment/DAMAGE", AcctInventory, AcctDamageScrap, "Damage adjustment, against Damage and scrap"),
		r("adjustment/SCRAP", AcctInventory, AcctDamageScrap, "Scrap adjustment, against Damage and scrap"),
		r("adjustment/FOUND", AcctInventory, AcctInventoryAdjustments, "Stock found: Dr Inventory, Cr Inventory adjustments"),
		r("adjustment/SAMPLE", AcctInventory, AcctSamples, "Sample adjustment, against Samples"),
		r("adjustment/WRITE_DOWN", AcctInventory, AcctWriteDowns, "Write-down, against Write-downs"),
		r("adjustment/OPENING_BALANCE", AcctInventory, AcctOpeningBalanceEquity, "Opening stock: Dr Inventory, Cr Opening balance equity"),
		r("adjustment/COUNT_DIFFERENCE", AcctInventory, AcctShrinkage, "Count difference booked as an adjustment, against Shrinkage"),
		r("count/COUNT_DIFFERENCE", AcctInventory, AcctShrinkage, "Cycle-count difference, against Shrinkage"),
		r("count/SHRINKAGE", AcctInventory, AcctShrinkage, "Count difference as shrinkage"),
		r("count/FOUND", AcctInventory, AcctInventoryAdjustments, "Count found stock, against Inventory adjustments"),
		r("count/DAMAGE", AcctInventory, AcctDamageScrap, "Count difference as damage"),
		r("count/OPENING_BALANCE", AcctInventory, AcctOpeningBalanceEquity, "Opening count: Dr Inventory, Cr Opening balance equity"),
		r("cost_correction", AcctInventory, AcctCOGS, "Negative-stock cost true-up of earlier issues, against COGS"),
		r("transfer_out", AcctInventory, AcctInTransit, "Transfer shipped: Dr Inventory in transit, Cr Inventory of the sending warehouse"),
		r("transfer_in", AcctInventory, AcctInTransit, "Transfer received: Dr Inventory of the receiving warehouse, Cr Inventory in transit"),
		r("reversal/PURCHASE_ORDER", AcctInventory, AcctGRNI, "Reversal of a wrong receipt: Dr GRNI, Cr Inventory"),
		r("reversal/RECEIPT", AcctInventory, AcctGRNI, "Reversal of a wrong receipt: Dr GRNI, Cr Inventory"),
		r("return", AcctInventory, AcctCOGS, "Customer return at the cost of the issue it returns: Dr Inventory, Cr COGS"),
	}}
}

// MovementKind is the kind of an inventory movement, as the ledger sees it.
type MovementKind int

// Movement kinds (inventory's movement types).
const (
	KindReceipt MovementKind = iota + 1
	KindMove
	KindIssue
	KindAdjustment
	KindCount
	KindCostCorrection
	KindTransferOut
	KindTransferIn
	KindReversal
	KindReturn
)

// StockMovement is what the ledger takes from one inventory movement event.
type StockMovement struct {
	EventType  string // e.g. "trueup.inventory.v1.StockReceived"
	EventID    string
	MovementID string
	Seq        int64
	Kind       MovementKind
	// SourceType is the source document's type ("PURCHASE_ORDER",
	// "SHIPMENT"…), SourceID its id.
	SourceType string
	SourceID   string
	// ReasonCategory is the reason code's category ("SHRINKAGE", "FOUND"…),
	// empty when the movement has no reason.
	ReasonCategory string
	// Value is the change of inventory value, in minor units of Currency:
	// positive for stock in, negative for stock out.
	Value     int64
	Currency  string
	Warehouse string
	Item      string
	Lot       string
	Transfer  string
	// EffectiveAt is when the movement happened on the floor.
	EffectiveAt time.Time
	TraceID     string
}

// Key is the rule key of m; see DefaultRules.
func (m StockMovement) Key() string {
	switch m.Kind {
	case KindReceipt:
		return "receipt/" + m.SourceType
	case KindIssue:
		if m.ReasonCategory != "" {
			return "issue/reason/" + m.ReasonCategory
		}
		return "issue/" + m.SourceType
	case KindAdjustment:
		return "adjustment/" + m.ReasonCategory
	case KindCount:
		c := m.ReasonCategory
		if c == "" {
			c = "COUNT_DIFFERENCE"
		}
		return "count/" + c
	case KindCostCorrection:
		return "cost_correction"
	case KindTransferOut:
		return "transfer_out"
	case KindTransferIn:
		return "transfer_in"
	case KindReversal:
		return "reversal/" + m.SourceType
	case KindReturn:
		return "return"
	case KindMove:
		return "move"
	}
	return fmt.Sprintf("kind(%d)", int(m.Kind))
}

// ErrNoRule is returned (wrapped, naming the key) for a movement that changes
// value but has no posting rule: the ledger parks it.
var ErrNoRule = errors.New("no posting rule")

// PostMovement is the entry the rules make of m, with id and posted at now;
// nil for a movement that changes no value (a bin-to-bin move, a pick to
// staging, a count that found what was expected): nothing to post.
func PostMovement(rules *RuleSet, m StockMovement, id string, now time.Time) (*Entry, error) {
	if m.Value == 0 || m.Kind == KindMove {
		return nil, nil
	}
	key := m.Key()
	rule := rules.Lookup(key)
	if rule == nil {
		return nil, fmt.Errorf("%w for %q (rules version %d)", ErrNoRule, key, rules.Version)
	}
	doc := m.SourceID
	if m.Transfer != "" {
		doc = m.Transfer
	}
	dims := Dimensions{Warehouse: m.Warehouse, Item: m.Item, Lot: m.Lot, Document: doc}
	amount, in, out := m.Value, Debit, Credit
	if amount < 0 {
		amount, in, out = -amount, Credit, Debit
	}
	return &Entry{
		ID:          id,
		EffectiveAt: m.EffectiveAt.UTC(),
		PostedAt:    now.UTC(),
		Description: rule.Description,
		Source: Source{Service: "inventory", EventType: m.EventType, EventID: m.EventID, DocumentID: doc,
			MovementID: m.MovementID, Seq: m.Seq, TraceID: m.TraceID},
		Lines: []Line{
			{Account: rule.Account, Side: in, Amount: amount, Currency: m.Currency, Dims: dims},
			{Account: rule.Counter, Side: out, Amount: amount, Currency: m.Currency, Dims: dims},
		},
		Rule:        rule.Key,
		RuleVersion: rules.Version,
	}, nil
}

// Keys lists a rule set's keys in order (for the API and for messages).
func (s *RuleSet) Keys() []string {
	keys := make([]string, len(s.Rules))
	for i, r := range s.Rules {
		keys[i] = r.Key
	}
	sort.Strings(keys)
	return keys
}
