package ledger

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"trueup.dev/platform/apperr"
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

// Rule maps one kind of event (Key) to its accounts. A movement rule names
// Account and Counter; a document rule (documents.go) names the account of
// each of its roles in Roles instead.
type Rule struct {
	Key         string
	Account     string // the inventory-side account
	Counter     string
	Description string
	// Roles maps a document rule's roles ("grni", "ap"…) to account codes;
	// nil for a movement rule.
	Roles map[string]string
	// Since is the rule set version in which the rule took this form (was
	// added or last changed).
	Since int
}

// RuleSet is one version of the posting rules.
type RuleSet struct {
	Version int
	Rules   []Rule
	// CreatedAt is when the version was stored (zero until it is).
	CreatedAt time.Time
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

// DefaultRules is the newest built-in version of the posting rules: version
// 4, which is version 1 (movements, MovementRules) plus the document rules of
// orders' events (DocumentRules, version 2) plus supplier payments
// (SupplierPaymentRules, version 3) plus returns to the supplier
// (SupplierReturnRules, version 4). RuleHistory has every built-in version;
// all are seeded at start, so entries posted under version 1 keep naming it.
func DefaultRules() *RuleSet {
	h := RuleHistory()
	return h[len(h)-1]
}

// RuleHistory is every built-in version of the posting rules, oldest first.
func RuleHistory() []*RuleSet {
	v1 := MovementRules()
	v2 := &RuleSet{Version: 2, Rules: append(slices.Clone(v1.Rules), DocumentRules(2)...)}
	v3 := &RuleSet{Version: 3, Rules: append(slices.Clone(v2.Rules), SupplierPaymentRules(3)...)}
	v4 := &RuleSet{Version: 4, Rules: append(slices.Clone(v3.Rules), SupplierReturnRules(4)...)}
	return []*RuleSet{v1, v2, v3, v4}
}

// RuleSupplierReturn is the key of an issue against a purchase order: goods
// sent back to the supplier (orders' RETURN of an over-receipt, say).
const RuleSupplierReturn = "issue/PURCHASE_ORDER"

// SupplierReturnRules are the movement rules rule version 4 adds, as of
// version since: an issue against a purchase order takes the goods back out
// of GRNI, Dr GRNI / Cr Inventory at the cost inventory consumed, under the
// order (the lines' document), so the order's GRNI is what it kept. Before
// version 4 such an issue had no rule and was parked.
func SupplierReturnRules(since int) []Rule {
	return []Rule{{Key: RuleSupplierReturn, Account: AcctInventory, Counter: AcctGRNI, Since: since,
		Description: "Goods returned to the supplier against the purchase order: Dr GRNI, Cr Inventory at the cost inventory reported"}}
}

// MovementRules is version 1 of the posting rules: inventory movements.
//
// Keys are "<movement kind>/<detail>": receipts, issues and reversals by
// their source document's type, adjustments and counts by their reason
// code's category; an issue with a reason (a scrap, a sample) by its
// category too. A negative-stock cost true-up (cost_correction) goes to
// COGS: the issues it corrects were costed to COGS at the then-current cost,
// so the difference belongs there too, not to purchase price variance, which
// is the bill-versus-receipt difference.
func MovementRules() *RuleSet {
	r := func(key, acct, counter, desc string) Rule {
		return Rule{Key: key, Account: acct, Counter: counter, Description: desc, Since: 1}
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
	// Order is the outbound order a shipment's issue (or a return of it)
	// was for, "" otherwise.
	Order string
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
	// The lines' document is the outbound order a shipment was for, where
	// the order's invoice books revenue (shipped-not-invoiced pairs them);
	// the entry's source keeps the shipment.
	dims := Dimensions{Warehouse: m.Warehouse, Item: m.Item, Lot: m.Lot, Document: doc}
	if m.Order != "" {
		dims.Document = m.Order
	}
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

// Rule versions.
//
// A new version of the rules is made from the latest: rules added or
// changed by key, keys removed, or a whole new set (RuleChanges). Each rule
// keeps the version in which it took its form (Since); a rule changed or
// added takes the new version. Nothing is ever edited in place: entries
// posted under a version keep naming it.

// MaxRuleKeyLength is the longest rule key.
const MaxRuleKeyLength = 100

// RuleChanges are the changes a new rule version makes to the latest.
type RuleChanges struct {
	// Rules are added, or replace the rule of their key.
	Rules []Rule
	// Remove are keys of the latest version's rules to leave out.
	Remove []string
	// ReplaceAll: Rules is the whole new set (Remove must be empty).
	ReplaceAll bool
}

// ruleKey is a well-formed key: a first segment of lower-case letters,
// digits and "_" starting with a letter, then optional "/"-separated
// segments of letters, digits and "_".
var ruleKey = regexp.MustCompile(`^[a-z][a-z0-9_]*(/[A-Za-z0-9_]+)*$`)

func validKey(key string) bool { return len(key) <= MaxRuleKeyLength && ruleKey.MatchString(key) }

// normalizeRule trims and upper-cases a rule's codes, lower-cases its roles.
func normalizeRule(r Rule) Rule {
	r.Key = strings.TrimSpace(r.Key)
	r.Account, r.Counter = NormalizeCode(r.Account), NormalizeCode(r.Counter)
	r.Description = strings.TrimSpace(r.Description)
	if len(r.Roles) == 0 {
		r.Roles = nil
	} else {
		roles := make(map[string]string, len(r.Roles))
		for role, acct := range r.Roles {
			roles[strings.ToLower(strings.TrimSpace(role))] = NormalizeCode(acct)
		}
		r.Roles = roles
	}
	return r
}

// checkRule adds r's violations, on fields under f ("rules[2]").
func checkRule(v *apperr.Violations, f string, r Rule, chart Chart) {
	known := func(field, code string) {
		if code != "" && chart.Account(code) == nil {
			v.Add(field, fmt.Sprintf("no account %q in the chart of accounts", code))
		}
	}
	if !validKey(r.Key) {
		v.Add(f+".key", fmt.Sprintf("must be at most %d characters: a segment of lower-case letters, digits and \"_\" starting with a letter, then optional \"/\"-separated segments of letters, digits and \"_\" (\"receipt/PURCHASE_ORDER\", \"invoice_issued\")", MaxRuleKeyLength))
	}
	if utf8.RuneCountInString(r.Description) > MaxDescriptionLength {
		v.Add(f+".description", fmt.Sprintf("is at most %d characters", MaxDescriptionLength))
	}
	roles, isDoc := DocumentRoles[r.Key]
	if !isDoc {
		if r.Account == "" {
			v.Add(f+".account", "is required for a movement rule")
		}
		if r.Counter == "" {
			v.Add(f+".counter_account", "is required for a movement rule")
		}
		if r.Account != "" && r.Account == r.Counter {
			v.Add(f+".counter_account", "must differ from account")
		}
		known(f+".account", r.Account)
		known(f+".counter_account", r.Counter)
		if len(r.Roles) > 0 {
			v.Add(f+".role_accounts", fmt.Sprintf("are for document rules (%s) only", strings.Join(slices.Sorted(maps.Keys(DocumentRoles)), ", ")))
		}
		return
	}
	if r.Account != "" {
		v.Add(f+".account", "is for movement rules only: a document rule maps its roles in role_accounts")
	}
	if r.Counter != "" {
		v.Add(f+".counter_account", "is for movement rules only: a document rule maps its roles in role_accounts")
	}
	all := append(slices.Clone(roles.Required), roles.Optional...)
	for _, role := range roles.Required {
		if r.Roles[role] == "" {
			v.Add(f+".role_accounts."+role, fmt.Sprintf("is required for %s", r.Key))
		}
	}
	for _, role := range slices.Sorted(maps.Keys(r.Roles)) {
		if !slices.Contains(all, role) {
			v.Add(f+".role_accounts."+role, fmt.Sprintf("is not a role of %s: one of %s", r.Key, strings.Join(all, ", ")))
			continue
		}
		known(f+".role_accounts."+role, r.Roles[role])
	}
}

// sameRule reports whether a and b post alike (their Since aside).
func sameRule(a, b Rule) bool {
	return a.Key == b.Key && a.Account == b.Account && a.Counter == b.Counter && a.Description == b.Description &&
		maps.Equal(a.Roles, b.Roles)
}

// NextRuleSet is the version after latest that c makes, checked against
// chart: every malformed rule, unknown account or key, and a version that
// would change nothing or hold no rule, is a violation (apperr
// InvalidArgument). Its rules are in key order.
func NextRuleSet(latest *RuleSet, c RuleChanges, chart Chart) (*RuleSet, error) {
	next := &RuleSet{Version: latest.Version + 1}
	var v apperr.Violations
	byKey := map[string]Rule{}
	if !c.ReplaceAll {
		for _, r := range latest.Rules {
			byKey[r.Key] = r
		}
	} else if len(c.Remove) > 0 {
		v.Add("remove_keys", "must be empty with replace_all: the rules given are the whole set")
	}
	seen := map[string]bool{}
	for i, r := range c.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		r = normalizeRule(r)
		checkRule(&v, f, r, chart)
		if seen[r.Key] {
			v.Add(f+".key", fmt.Sprintf("rule %q is given twice", r.Key))
		}
		seen[r.Key] = true
		byKey[r.Key] = r
	}
	for i, key := range c.Remove {
		key = strings.TrimSpace(key)
		f := fmt.Sprintf("remove_keys[%d]", i)
		switch {
		case seen[key]:
			v.Add(f, fmt.Sprintf("rule %q is both given and removed", key))
		case latest.Lookup(key) == nil:
			v.Add(f, fmt.Sprintf("version %d has no rule %q", latest.Version, key))
		}
		delete(byKey, key)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	for _, key := range slices.Sorted(maps.Keys(byKey)) {
		r := byKey[key]
		if old := latest.Lookup(key); old != nil && sameRule(*old, r) {
			r.Since = old.Since
		} else {
			r.Since = next.Version
		}
		next.Rules = append(next.Rules, r)
	}
	switch {
	case len(next.Rules) == 0:
		return nil, apperr.Invalid(apperr.Field("rules", "the new version would have no rules"))
	case len(next.Rules) == len(latest.Rules) && !slices.ContainsFunc(next.Rules, func(r Rule) bool { return r.Since == next.Version }):
		return nil, apperr.Invalid(apperr.Field("rules", fmt.Sprintf("the new version changes nothing: version %d has these rules already", latest.Version)))
	}
	return next, nil
}
