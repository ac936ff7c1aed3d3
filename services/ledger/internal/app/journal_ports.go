package app

import (
	"context"
	"time"

	"trueup.dev/platform/paging"
	"trueup.dev/services/ledger/internal/ledger"
)

// JournalReader answers questions about the journal and balances.
type JournalReader interface {
	// GetEntry returns an entry with its lines; NotFound when unknown.
	GetEntry(ctx context.Context, id string) (*ledger.Entry, error)
	// EntryBySourceEvent returns the entry posted from eventID; NotFound when none.
	EntryBySourceEvent(ctx context.Context, eventID string) (*ledger.Entry, error)
	// ReversalOf returns the entry that reverses entry id; NotFound when none.
	ReversalOf(ctx context.Context, id string) (*ledger.Entry, error)
	// ListEntries pages through entries in posting order (page.After is the
	// last entry id of the previous page, "" for the first).
	ListEntries(ctx context.Context, f EntryFilter, page paging.Page) ([]*ledger.Entry, error)
	// Balances sums lines effective before q.Before (exclusive; zero time:
	// everything) per account and currency, grouped by the dimensions q
	// names, restricted to q's filters; ordered by account, currency, then
	// the grouped dimensions.
	Balances(ctx context.Context, q BalanceQuery) ([]ledger.Balance, error)
	// ListParked pages through parked events in the order they were parked
	// (page.After is the last event id of the previous page).
	ListParked(ctx context.Context, page paging.Page) ([]*ledger.ParkedEvent, error)
	// Rules returns the newest posting rule set (an empty version 0 when
	// none is stored).
	Rules(ctx context.Context) (*ledger.RuleSet, error)
	// RulesVersion returns one version of the posting rules; NotFound when
	// there is no such version.
	RulesVersion(ctx context.Context, version int) (*ledger.RuleSet, error)
	// Chart returns every account, by code.
	Chart(ctx context.Context) (ledger.ChartMap, error)
	// PostingVersion is what Rules and Chart would return, in two numbers:
	// the newest rule version (a version is never changed once stored) and
	// the number of accounts (accounts are only ever added).
	PostingVersion(ctx context.Context) (PostingVersion, error)
}

// PostingVersion identifies the rules and the chart of accounts postings
// use: equal versions, equal rules and chart.
type PostingVersion struct {
	Rules    int
	Accounts int
}

// EntryFilter narrows ListEntries; zero fields do not filter.
type EntryFilter struct {
	Account    string // entries with a line on this account
	DocumentID string
	MovementID string
	From, To   time.Time // effective time, [From, To)
}

// BalanceQuery says which balances to sum and how to group them.
type BalanceQuery struct {
	Before   time.Time // lines effective before this instant; zero: all
	Account  string    // one account, or all
	Currency string
	// Filters on dimensions (exact match when set).
	Warehouse, Item string
	// GroupBy lists the dimensions to group by: "warehouse", "item", "lot",
	// "document", "partner".
	GroupBy []string
}

// JournalTx is the write side of the journal, in one transaction.
type JournalTx interface {
	// SeedChart inserts the accounts of the chart whose code is not taken
	// (created at now) and returns how many it added.
	SeedChart(ctx context.Context, accounts []ledger.Account, now time.Time) (int, error)
	// SeedRules stores rs unless its version is stored already.
	SeedRules(ctx context.Context, rs *ledger.RuleSet, now time.Time) error
	// InsertRuleSet stores a new version of the posting rules, created at
	// now; Conflict when the version exists already.
	InsertRuleSet(ctx context.Context, rs *ledger.RuleSet, now time.Time) error
	// RecordEvents records event ids as processed by consumer (the inbox) and
	// returns those it had not recorded before.
	RecordEvents(ctx context.Context, consumer string, eventIDs []string) (map[string]bool, error)
	// InsertEntries appends entries with their lines and adds the lines to
	// the balances, aggregated over the call: one write per distinct
	// (account, currency, dimensions, day) however many entries share it.
	// An entry whose source event id was posted already is AlreadyExists.
	InsertEntries(ctx context.Context, entries []*ledger.Entry) error
	// ParkEvents stores events that could not be posted (a parked event
	// parked again keeps its first time and takes the new reason).
	ParkEvents(ctx context.Context, events []*ledger.ParkedEvent) error
	// UnparkEvents removes parked events once they have been posted.
	UnparkEvents(ctx context.Context, eventIDs []string) error
}
