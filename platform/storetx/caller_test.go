package storetx_test

import (
	"context"
	"fmt"
	"testing"

	"trueup.dev/platform/caller"
	"trueup.dev/platform/idempotency"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/storetx"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
)

// Services call tx.Claim with the bare command name; the claim is still the
// caller's: two partners sending one request id and body get two commands and
// two events, and each retry gets its own first answer.
func TestClaimIsTheCallers(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		for _, m := range []func(context.Context, *sqldb.DB) error{outbox.Migrate, idempotency.Migrate} {
			if err := m(ctx, db); err != nil {
				t.Fatal(err)
			}
		}
		ob := outbox.New(db, outboxtest.Discard{}, outbox.Options{})
		r := storetx.NewRunner(db, ob, encode)
		n := 0
		make := func(ctx context.Context, req string) (string, error) {
			var out string
			err := r.Run(ctx, func(tx *storetx.Tx) error {
				prior, replay, err := tx.Claim(ctx, "MakeThing", req, thingMade{N: 1})
				if err != nil || replay {
					out = prior
					return err
				}
				n++
				if err := tx.Emit(ctx, thingMade{N: n}); err != nil {
					return err
				}
				out = fmt.Sprint("thing-", n)
				return tx.Complete(ctx, "MakeThing", req, out)
			})
			return out, err
		}
		acme := caller.NewContext(ctx, caller.Partner("acme"))
		globex := caller.NewContext(ctx, caller.Partner("globex"))
		a, err := make(acme, "r1")
		if err != nil {
			t.Fatal(err)
		}
		b, err := make(globex, "r1")
		if err != nil || b == a {
			t.Fatalf("globex = %q, %v; want its own thing, not acme's %q", b, err, a)
		}
		in, err := make(ctx, "r1")
		if err != nil || in == a || in == b {
			t.Fatalf("internal = %q, %v", in, err)
		}
		for c, want := range map[context.Context]string{acme: a, globex: b, ctx: in} {
			if got, err := make(c, "r1"); err != nil || got != want {
				t.Fatalf("retry as %v = %q, %v; want %q", caller.From(c), got, err, want)
			}
		}
		if pending(t, ob) != 3 {
			t.Fatalf("pending events = %d, want 3 (one per caller)", pending(t, ob))
		}
	})
}
