// Package app holds the ledger use cases. It declares the storage port it needs
// (Store) and knows nothing of SQL, gRPC or NATS.
package app

import (
	"context"
	"time"

	"trueup.dev/platform/paging"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/ledger/internal/ledger"
)

// Store is the persistence port. Reads outside a transaction see committed state.
type Store interface {
	// InTx runs fn in one transaction: all its writes and events commit together or not at all.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	// Snapshot runs fn on one consistent read-only view of the database
	// (PostgreSQL: repeatable read), for reads that must agree with each other.
	Snapshot(ctx context.Context, fn func(r Reader) error) error
	Reader
}

// Reader answers queries. Get* return apperr NotFound for an unknown key; List*
// return up to page.Limit rows with a key after page.After, in key order.
type Reader interface {
	GetAccount(ctx context.Context, code string) (*ledger.Account, error)
	ListAccounts(ctx context.Context, page paging.Page) ([]*ledger.Account, error)
	JournalReader
	ReconcileReader
	ExportReader
	PeriodReader
	AgeingReader
}

// Tx is the write side of one transaction.
type Tx interface {
	Reader
	// Claimer makes a command idempotent by its request id: use cases run
	// through storetx.RunCommand, which claims, replays and completes.
	storetx.Claimer
	// InsertAccount returns AlreadyExists when the code is taken.
	InsertAccount(ctx context.Context, a *ledger.Account) error
	// Emit records domain events in the transactional outbox.
	Emit(ctx context.Context, events ...any) error
	JournalTx
	ReconcileTx
	ExportTx
	PeriodTx
}

// Service is the ledger application.
type Service struct {
	store Store
	now   func() time.Time
	// inventory is reconciliation's view of the inventory service (nil: none).
	inventory InventoryView
	// calendar makes the fiscal periods (see SetTimeZone).
	calendar ledger.Calendar
	// postings caches the rules and chart PostEvents posts with.
	postings postingCache
}

// New builds the service. now may be nil (wall clock).
func New(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// CreateAccount adds an account to the chart of accounts. A retry with the same
// requestID returns the account the first call created.
func (s *Service) CreateAccount(ctx context.Context, requestID string, in ledger.Account) (*ledger.Account, error) {
	a, err := ledger.NewAccount(in, s.now())
	if err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "CreateAccount", requestID, in,
		func(tx Tx, code string) (*ledger.Account, error) { return tx.GetAccount(ctx, code) },
		func(tx Tx) (*ledger.Account, string, error) {
			if err := tx.InsertAccount(ctx, a); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, ledger.AccountCreated{Account: *a}); err != nil {
				return nil, "", err
			}
			return a, a.Code, nil
		})
}

// GetAccount returns one account by code (normalised first).
func (s *Service) GetAccount(ctx context.Context, code string) (*ledger.Account, error) {
	return s.store.GetAccount(ctx, ledger.NormalizeCode(code))
}

// ListAccounts pages through the chart of accounts in code order.
func (s *Service) ListAccounts(ctx context.Context, page paging.Page) ([]*ledger.Account, error) {
	return s.store.ListAccounts(ctx, page)
}
