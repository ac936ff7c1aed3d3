package ledger

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/money"
)

// Dimensions are what a journal line is about, beyond its account: balances
// and reports can be cut by any of them. Empty means not applicable.
type Dimensions struct {
	Warehouse string
	Item      string // SKU
	Lot       string
	Document  string // the business document: order, bill, invoice, transfer…
	Partner   string
}

// Line is one debit or credit of a journal entry.
type Line struct {
	Account  string
	Side     Side
	Amount   int64 // minor units of Currency, > 0
	Currency string
	Dims     Dimensions
}

// Signed is the line's amount as a debit-positive number: debits add,
// credits subtract.
func (l Line) Signed() int64 {
	if l.Side == Credit {
		return -l.Amount
	}
	return l.Amount
}

// Source is where an entry came from: the event it was posted from (a
// manual entry has none, only a caller), the business document and stock
// movement behind it, and the trace of the request that caused it.
type Source struct {
	Service    string // "inventory", "orders"; "ledger" for manual entries
	EventType  string // e.g. "trueup.inventory.v1.StockReceived"
	EventID    string // posting is idempotent by it
	DocumentID string
	MovementID string
	// Seq is the inventory journal sequence of the movement (0 if none):
	// reconciliation compares balances at a sequence watermark.
	Seq     int64
	TraceID string
}

// Entry is an immutable, balanced journal entry. A correction is a new
// entry reversing it (Reverses), never an edit.
type Entry struct {
	ID string
	// EffectiveAt is when the business event happened; the period it falls
	// in is the one it is reported in unless that period was closed, in which
	// case PostingPeriod says where it went.
	EffectiveAt time.Time
	PostedAt    time.Time
	// PostingPeriod is the id of the fiscal period the entry is posted
	// into ("2026-11", see Periods): EffectiveAt's period, or the first
	// open one after it when an automatic posting found that period closed.
	PostingPeriod string
	// Adjusting marks a manual adjusting entry, the only kind a closed
	// period takes.
	Adjusting   bool
	Description string
	Source      Source
	Lines       []Line
	// Rule and RuleVersion name the posting rule that produced the entry
	// (empty and 0 for manual entries).
	Rule        string
	RuleVersion int
	// Reverses is the entry this one reverses, if any.
	Reverses string
	// Reason and Caller are recorded for manual entries and reversals.
	Reason string
	Caller string
}

// MaxLines is the most lines an entry may have; MaxDescriptionLength the
// most characters of a description or reason.
const (
	MaxLines             = 500
	MaxDescriptionLength = 500
)

// Chart is the part of the chart of accounts an entry is checked against.
type Chart interface {
	// Account returns the account with code, or nil.
	Account(code string) *Account
}

// ChartMap is a Chart held in a map by code.
type ChartMap map[string]*Account

// Account implements Chart.
func (c ChartMap) Account(code string) *Account { return c[code] }

// CheckEntry validates a new entry against the chart: at least two lines,
// each with a known account, a side, a positive amount in a valid currency
// (the account's, when the account has one) and dimensions of sane size; and
// debits equal to credits in each currency. Every violation is reported, on
// its field, named as in the API's JournalEntry ("lines[2].amount.minor_units"); an imbalance names each currency's debits and
// credits. Lines are normalised in place (codes upper-cased).
func CheckEntry(e *Entry, chart Chart) error {
	var v apperr.Violations
	e.Description = strings.TrimSpace(e.Description)
	if utf8.RuneCountInString(e.Description) > MaxDescriptionLength {
		v.Add("description", fmt.Sprintf("is at most %d characters", MaxDescriptionLength))
	}
	if utf8.RuneCountInString(e.Reason) > MaxDescriptionLength {
		v.Add("reason", fmt.Sprintf("is at most %d characters", MaxDescriptionLength))
	}
	switch {
	case len(e.Lines) < 2:
		v.Add("lines", "needs at least two lines, a debit and a credit")
	case len(e.Lines) > MaxLines:
		v.Add("lines", fmt.Sprintf("has at most %d lines", MaxLines))
	}
	type sums struct{ debit, credit int64 }
	totals := map[string]*sums{}
	overflow := false
	for i := range e.Lines {
		l := &e.Lines[i]
		f := fmt.Sprintf("lines[%d]", i)
		l.Account = NormalizeCode(l.Account)
		acct := chart.Account(l.Account)
		if acct == nil {
			v.Add(f+".account", fmt.Sprintf("no account %q in the chart of accounts", l.Account))
		}
		if l.Side != Debit && l.Side != Credit {
			v.Add(f+".side", "is required: DEBIT or CREDIT")
		}
		if l.Amount <= 0 {
			v.Add(f+".amount.minor_units", "must be more than zero (a negative amount is the other side)")
		}
		cur, err := money.NormalizeCurrency(l.Currency)
		switch {
		case err != nil || !money.Known(cur):
			v.Add(f+".amount.currency_code", "is required: an ISO 4217 code such as \"EUR\"")
		case acct != nil && acct.CurrencyCode != "" && acct.CurrencyCode != cur:
			v.Add(f+".amount.currency_code", fmt.Sprintf("account %s is kept in %s only", acct.Code, acct.CurrencyCode))
		}
		l.Currency = cur
		for name, d := range map[string]string{"warehouse": l.Dims.Warehouse, "item": l.Dims.Item, "lot": l.Dims.Lot, "document": l.Dims.Document, "partner": l.Dims.Partner} {
			if len(d) > 200 {
				v.Add(f+".dimensions."+name, "is at most 200 bytes")
			}
		}
		if l.Amount <= 0 || cur == "" {
			continue
		}
		s := totals[cur]
		if s == nil {
			s = &sums{}
			totals[cur] = s
		}
		side := &s.debit
		if l.Side == Credit {
			side = &s.credit
		}
		if *side > math.MaxInt64-l.Amount {
			overflow = true
		} else {
			*side += l.Amount
		}
	}
	if overflow {
		v.Add("lines", "the amounts of one side add up to more than the ledger can hold")
	}
	if err := v.Err(); err != nil {
		return err
	}
	var off []string
	for _, cur := range slices.Sorted(maps.Keys(totals)) {
		s := totals[cur]
		if s.debit != s.credit {
			off = append(off, fmt.Sprintf("debits %s, credits %s", money.Money{Minor: s.debit, Currency: cur}, money.Money{Minor: s.credit, Currency: cur}))
		}
	}
	if len(off) > 0 {
		return apperr.Invalid(apperr.Field("lines", "the entry does not balance: "+strings.Join(off, "; ")))
	}
	return nil
}

// Reversal is the entry that undoes e: the same lines on the other side,
// effective when it is posted (a correction happens now; the original stays
// where it was), linked to e.
func (e *Entry) Reversal(id string, now time.Time, reason, caller string) *Entry {
	r := &Entry{
		ID:          id,
		EffectiveAt: now,
		PostedAt:    now,
		Description: "Reversal of " + e.ID,
		Source:      Source{Service: "ledger", DocumentID: e.Source.DocumentID, MovementID: e.Source.MovementID, TraceID: e.Source.TraceID},
		Reverses:    e.ID,
		Reason:      reason,
		Caller:      caller,
	}
	if e.Description != "" {
		r.Description += ": " + e.Description
	}
	for _, l := range e.Lines {
		l.Side = Debit + Credit - l.Side
		r.Lines = append(r.Lines, l)
	}
	return r
}

// Balance is the sum of the lines of one account in one currency, over a
// set of dimensions (those not grouped by are empty), as debits and credits
// in minor units.
type Balance struct {
	Account  string
	Currency string
	Dims     Dimensions
	Debit    int64
	Credit   int64
}

// Net is the balance as debit-positive minor units.
func (b Balance) Net() int64 { return b.Debit - b.Credit }

// ParkedEvent is an event the ledger received but could not post (no rule
// for it, or it failed a check): kept with the reason, listed, and posted
// again once a rule covers it. Never dropped.
type ParkedEvent struct {
	EventID   string
	EventType string
	Subject   string
	Payload   []byte // the event as received (protobuf)
	Headers   map[string]string
	Reason    string
	ParkedAt  time.Time
}
