package storetx_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/idempotency"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/storetx"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

type thingMade struct{ N int }

func encode(_ context.Context, e any) (outbox.Message, error) {
	ev, ok := e.(thingMade)
	if !ok {
		return outbox.Message{}, fmt.Errorf("no encoding for %T", e)
	}
	return outbox.Message{ID: fmt.Sprint("evt-", ev.N), Subject: "test.v1.ThingMade", Type: "trueup.test.v1.ThingMade", Payload: []byte{byte(ev.N)}}, nil
}

func pending(t *testing.T, o *outbox.Outbox) int {
	t.Helper()
	n, err := o.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestClaimEmitCommitTogether(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		for _, m := range []func(context.Context, *sqldb.DB) error{outbox.Migrate, idempotency.Migrate} {
			if err := m(ctx, db); err != nil {
				t.Fatal(err)
			}
		}
		ob := outbox.New(db, outboxtest.Discard{}, outbox.Options{})
		r := storetx.NewRunner(db, ob, encode)
		make := func(req string, n int, fail bool) (string, error) {
			var out string
			err := r.Run(ctx, func(tx *storetx.Tx) error {
				prior, replay, err := tx.Claim(ctx, "MakeThing", req, thingMade{N: n})
				if err != nil || replay {
					out = prior
					return err
				}
				if err := tx.Emit(ctx, thingMade{N: n}); err != nil {
					return err
				}
				if fail {
					return errors.New("boom")
				}
				out = fmt.Sprint("thing-", n)
				return tx.Complete(ctx, "MakeThing", req, out)
			})
			return out, err
		}
		if _, err := make("r1", 1, true); err == nil {
			t.Fatal("want the failure")
		}
		if pending(t, ob) != 0 {
			t.Fatal("a rolled-back command left an event")
		}
		got, err := make("r1", 1, false) // the failed claim was rolled back too
		if err != nil || got != "thing-1" || pending(t, ob) != 1 {
			t.Fatalf("make = %q, %v, pending %d", got, err, pending(t, ob))
		}
		got, err = make("r1", 1, false)
		if err != nil || got != "thing-1" || pending(t, ob) != 1 {
			t.Fatalf("retry = %q, %v, pending %d; want the first result and no new event", got, err, pending(t, ob))
		}
		if _, err := make("r1", 2, false); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Fatalf("same request id, other command: %v", err)
		}
		err = r.Run(ctx, func(tx *storetx.Tx) error { return tx.Emit(ctx, "not an event") })
		if err == nil {
			t.Fatal("an event without an encoding must fail the transaction")
		}
	})
}
