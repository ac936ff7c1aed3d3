package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/idempotency"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// receiver is a toy idempotent command: each application makes a new
// "movements/<n>", and a replay answers the stored one.
type receiver struct {
	db      *sqldb.DB
	applied int
}

func (r *receiver) receive(ctx context.Context, requestID, body string) (name string, replay bool, err error) {
	err = r.db.WithTx(ctx, func(tx *sqldb.Tx) error {
		prior, again, err := idempotency.Claim(ctx, tx, "ReceiveStock", requestID, idempotency.Fingerprint([]byte(body)))
		if err != nil || again {
			name, replay = prior, again
			return err
		}
		r.applied++
		name = fmt.Sprintf("movements/%d", r.applied)
		return idempotency.Complete(ctx, tx, "ReceiveStock", requestID, name)
	})
	return name, replay, err
}

// The same request id and payload from two partners are two commands; each
// partner's retry gets its own first answer, and an internal caller is apart
// from both. A request id is not a capability: knowing another partner's id
// must neither reveal its result nor let anyone take its next one.
func TestClaimsAreScopedByCaller(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if err := idempotency.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		r := &receiver{db: db}
		acme := caller.NewContext(ctx, caller.Partner("acme"))
		globex := caller.NewContext(ctx, caller.Partner("globex"))
		const body = `{"item":"items/WIDGET","po":"PO-ACME-1","cost":"18.00"}`

		a, replay, err := r.receive(acme, "r-1", body)
		if err != nil || replay || a != "movements/1" {
			t.Fatalf("acme first = %q %v %v", a, replay, err)
		}
		b, replay, err := r.receive(globex, "r-1", body)
		if err != nil || replay || b == a {
			t.Fatalf("globex with acme's request id and body = %q replay=%v %v; want a new movement of its own, not %q", b, replay, err, a)
		}
		if got, replay, err := r.receive(acme, "r-1", body); err != nil || !replay || got != a {
			t.Fatalf("acme retry = %q replay=%v %v, want %q", got, replay, err, a)
		}
		if got, replay, err := r.receive(globex, "r-1", body); err != nil || !replay || got != b {
			t.Fatalf("globex retry = %q replay=%v %v, want %q", got, replay, err, b)
		}

		// Squatting: globex takes "r-2" first with another body; acme's own
		// "r-2" must still apply, not fail as a reused id.
		if _, _, err := r.receive(globex, "r-2", `{"squat":true}`); err != nil {
			t.Fatal(err)
		}
		if got, replay, err := r.receive(acme, "r-2", body); err != nil || replay {
			t.Fatalf("acme after globex squatted r-2 = %q replay=%v %v, want a new movement", got, replay, err)
		}
		// Within one partner a reused id with another body is still refused.
		if _, _, err := r.receive(acme, "r-2", `{"other":true}`); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Fatalf("acme reusing r-2 for another body: %v, want InvalidArgument", err)
		}

		// Internal callers (no caller in the context, or the default one) share
		// their own namespace, apart from every partner; a named internal caller
		// has its own.
		in, replay, err := r.receive(ctx, "r-1", body)
		if err != nil || replay || in == a || in == b {
			t.Fatalf("internal r-1 = %q replay=%v %v", in, replay, err)
		}
		if got, replay, err := r.receive(caller.NewContext(ctx, caller.Internal("")), "r-1", body); err != nil || !replay || got != in {
			t.Fatalf("default internal caller retry = %q replay=%v %v, want %q", got, replay, err, in)
		}
		if got, replay, err := r.receive(caller.NewContext(ctx, caller.Internal("fulfillment")), "r-1", body); err != nil || replay || got == in {
			t.Fatalf("named internal caller = %q replay=%v %v, want its own movement", got, replay, err)
		}
		if r.applied != 6 {
			t.Fatalf("applied %d commands, want 6", r.applied)
		}

		// What is stored: the scope names the caller, and fits the column on
		// both dialects even for the longest partner id.
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM idempotency_keys WHERE scope = $1 AND key = $2`, "partner:acme/ReceiveStock", "r-1").Scan(&n); err != nil || n != 1 {
			t.Fatalf("stored acme claim: %d rows, %v", n, err)
		}
		long := caller.NewContext(ctx, caller.Partner(strings.Repeat("p", caller.MaxIDLength)))
		if _, _, err := r.receive(long, "r-1", body); err != nil {
			t.Fatalf("longest partner id: %v", err)
		}
	})
}
