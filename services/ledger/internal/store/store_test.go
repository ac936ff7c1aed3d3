package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
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

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// newService migrates db (twice, as a restart would) and returns the app over
// the store, with a clock that moves one second per call, so a replay that
// returned a fresh object would show.
func newService(t testing.TB, db *sqldb.DB) (*app.Service, *outbox.Outbox) {
	t.Helper()
	ctx := context.Background()
	for range 2 {
		if err := store.Migrate(ctx, db); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	var tick atomic.Int64
	now := func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Second) }
	ob := outbox.New(db, outboxtest.Discard{}, outbox.Options{})
	return app.New(store.New(db, ob, events.Encode), now), ob
}

func wantKind(t *testing.T, err error, kind apperr.Kind) {
	t.Helper()
	if got := apperr.KindOf(err); err == nil || got != kind {
		t.Fatalf("err = %v (%v), want %v", err, got, kind)
	}
}

func pending(t *testing.T, ob *outbox.Outbox) int {
	t.Helper()
	n, err := ob.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAccounts(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, ob := newService(t, db)
		in := ledger.Account{Code: "1400", DisplayName: "Inventory", Type: ledger.AccountAsset, CurrencyCode: "eur"}

		first, err := svc.CreateAccount(ctx, "req-1", in)
		if err != nil {
			t.Fatalf("CreateAccount: %v", err)
		}
		if first.Code != "1400" || first.CurrencyCode != "EUR" || first.Type != ledger.AccountAsset {
			t.Fatalf("created %+v", first)
		}
		again, err := svc.CreateAccount(ctx, "req-1", in)
		if err != nil || *again != *first {
			t.Fatalf("retry = %+v, %v; want the first result %+v", again, err, first)
		}
		other := in
		other.Type = ledger.AccountExpense
		_, err = svc.CreateAccount(ctx, "req-1", other)
		wantKind(t, err, apperr.KindInvalidArgument)
		_, err = svc.CreateAccount(ctx, "req-2", ledger.Account{Code: " 1400", DisplayName: "Stock", Type: ledger.AccountAsset, CurrencyCode: "EUR"})
		wantKind(t, err, apperr.KindAlreadyExists)
		_, err = svc.CreateAccount(ctx, "req-3", ledger.Account{Code: "2000", DisplayName: "AP", CurrencyCode: "EUR"})
		wantKind(t, err, apperr.KindInvalidArgument)

		got, err := svc.GetAccount(ctx, "1400")
		if err != nil || *got != *first {
			t.Fatalf("GetAccount = %+v, %v; want %+v", got, err, first)
		}
		_, err = svc.GetAccount(ctx, "9999")
		wantKind(t, err, apperr.KindNotFound)

		if n := pending(t, ob); n != 1 {
			t.Fatalf("outbox has %d pending rows, want exactly 1", n)
		}
		var subject, typ string
		var payload []byte
		if err := db.QueryRowContext(ctx, `SELECT subject, type, payload FROM outbox`).Scan(&subject, &typ, &payload); err != nil {
			t.Fatal(err)
		}
		var ev ledgerv1.AccountCreated
		if err := proto.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		if subject != "ledger.v1.AccountCreated" || typ != "trueup.ledger.v1.AccountCreated" ||
			ev.GetAggregateId() != "accounts/1400" || ev.GetAggregateVersion() != 1 ||
			ev.GetAccount().GetType() != ledgerv1.AccountType_ACCOUNT_TYPE_ASSET || ev.GetEventId() == "" {
			t.Errorf("outbox row %s %s: %v", subject, typ, &ev)
		}

		// Every type round-trips through the store.
		types := map[string]ledger.AccountType{
			"2000": ledger.AccountLiability, "3000": ledger.AccountEquity,
			"4000": ledger.AccountRevenue, "5000": ledger.AccountExpense,
		}
		for code, typ := range types {
			if _, err := svc.CreateAccount(ctx, "", ledger.Account{Code: code, DisplayName: code, Type: typ, CurrencyCode: "EUR"}); err != nil {
				t.Fatal(err)
			}
		}
		var codes []string
		for page := (paging.Page{Limit: 2}); ; {
			as, err := svc.ListAccounts(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				codes = append(codes, a.Code)
				if want, ok := types[a.Code]; ok && a.Type != want {
					t.Errorf("account %s read back as %v, want %v", a.Code, a.Type, want)
				}
			}
			if len(as) < page.Limit {
				break
			}
			page.After = as[len(as)-1].Code
		}
		if fmt.Sprint(codes) != "[1400 2000 3000 4000 5000]" {
			t.Errorf("paged codes %v, want [1400 2000 3000 4000 5000]", codes)
		}
		if n := pending(t, ob); n != 5 {
			t.Errorf("outbox has %d pending rows after 5 creates, want 5", n)
		}
	})
}

// A failed command leaves no trace: no row, no claimed request id, no event.
func TestCreateAccountRollsBack(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, ob := newService(t, db)
		a := ledger.Account{Code: "1", DisplayName: "Cash", Type: ledger.AccountAsset, CurrencyCode: "EUR"}
		if _, err := svc.CreateAccount(ctx, "a", a); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateAccount(ctx, "b", a); !errors.Is(err, apperr.ErrAlreadyExists) {
			t.Fatalf("duplicate: %v", err)
		}
		a.Code = "2"
		if _, err := svc.CreateAccount(ctx, "b", a); err != nil {
			t.Fatalf("request id of a failed create: %v", err)
		}
		if n := pending(t, ob); n != 2 {
			t.Errorf("outbox has %d pending rows, want 2", n)
		}
	})
}
