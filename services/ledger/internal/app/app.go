// Package app holds the ledger use cases. It declares the storage port it needs
// (Store) and knows nothing of SQL, gRPC or NATS.
package app

import (
	"context"
	"time"

	"trueup.dev/platform/paging"
	"trueup.dev/services/ledger/internal/ledger"
)

// Store is the persistence port. Reads outside a transaction see committed state.
type Store interface {
	// InTx runs fn in one transaction: all its writes and events commit together or not at all.
	InTx(ctx context.Context, fn func(tx Tx) error) error
	Reader
}

// Reader answers queries. Get* return apperr NotFound for an unknown key; List*
// return up to page.Limit rows with a key after page.After, in key order.
type Reader interface {
	GetAccount(ctx context.Context, code string) (*ledger.Account, error)
	ListAccounts(ctx context.Context, page paging.Page) ([]*ledger.Account, error)
}

// Tx is the write side of one transaction.
type Tx interface {
	Reader
	// Claim and Complete make a command idempotent by its request id (see platform/idempotency).
	Claim(ctx context.Context, scope, requestID string, command any) (result string, replay bool, err error)
	Complete(ctx context.Context, scope, requestID, result string) error
	// InsertAccount returns AlreadyExists when the code is taken.
	InsertAccount(ctx context.Context, a *ledger.Account) error
	// Emit records domain events in the transactional outbox.
	Emit(ctx context.Context, events ...any) error
}

// Service is the ledger application.
type Service struct {
	store Store
	now   func() time.Time
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
	var out *ledger.Account
	err = s.store.InTx(ctx, func(tx Tx) error {
		prior, replay, err := tx.Claim(ctx, "CreateAccount", requestID, in)
		if err != nil {
			return err
		}
		if replay {
			out, err = tx.GetAccount(ctx, prior)
			return err
		}
		if err := tx.InsertAccount(ctx, a); err != nil {
			return err
		}
		if err := tx.Emit(ctx, ledger.AccountCreated{Account: *a}); err != nil {
			return err
		}
		out = a
		return tx.Complete(ctx, "CreateAccount", requestID, a.Code)
	})
	return out, err
}

// GetAccount returns one account by code (normalised first).
func (s *Service) GetAccount(ctx context.Context, code string) (*ledger.Account, error) {
	return s.store.GetAccount(ctx, ledger.NormalizeCode(code))
}

// ListAccounts pages through the chart of accounts in code order.
func (s *Service) ListAccounts(ctx context.Context, page paging.Page) ([]*ledger.Account, error) {
	return s.store.ListAccounts(ctx, page)
}
