package storetx_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/idempotency"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/storetx"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
)

// commandFixture is one database with the outbox and idempotency tables, and
// a command "MakeThing" run through storetx.RunCommand that counts how often
// its replay and apply ran.
type commandFixture struct {
	t       *testing.T
	db      *sqldb.DB
	ob      *outbox.Outbox
	run     *storetx.Runner
	applied int
	replays int
}

func newCommandFixture(t *testing.T, db *sqldb.DB) *commandFixture {
	t.Helper()
	ctx := context.Background()
	for _, m := range []func(context.Context, *sqldb.DB) error{outbox.Migrate, idempotency.Migrate} {
		if err := m(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	ob := outbox.New(db, outboxtest.Discard{}, outbox.Options{})
	return &commandFixture{t: t, db: db, ob: ob, run: storetx.NewRunner(db, ob, commandEncode)}
}

type thingCommand struct{ N int }

func commandEncode(_ context.Context, e any) (outbox.Message, error) {
	c, ok := e.(thingCommand)
	if !ok {
		return outbox.Message{}, fmt.Errorf("no encoding for %T", e)
	}
	return outbox.Message{ID: fmt.Sprint("evt-", c.N), Subject: "test.v1.ThingMade", Type: "trueup.test.v1.ThingMade", Payload: []byte{byte(c.N)}}, nil
}

// makeThing runs MakeThing; fail makes apply fail after its event was emitted.
func (f *commandFixture) makeThing(requestID string, n int, fail error) (string, error) {
	ctx := context.Background()
	return storetx.RunCommand(ctx, f.run.Run, "MakeThing", requestID, thingCommand{N: n},
		func(_ *storetx.Tx, result string) (string, error) {
			f.replays++
			return "replayed " + result, nil
		},
		func(tx *storetx.Tx) (string, string, error) {
			f.applied++
			if err := tx.Emit(ctx, thingCommand{N: n}); err != nil {
				return "", "", err
			}
			if fail != nil {
				return "", "", fail
			}
			id := fmt.Sprint("thing-", n)
			return "made " + id, id, nil
		})
}

// claims counts the stored claims of requestID. It matches on the key alone:
// idempotency qualifies the stored scope by the caller.
func (f *commandFixture) claims(requestID string) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRowContext(context.Background(),
		`SELECT COUNT(*) FROM idempotency_keys WHERE key = $1`, requestID).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *commandFixture) pending() int {
	f.t.Helper()
	n, err := f.ob.Pending(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestCommandAppliesOnceAndReplaysTheStoredResult(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newCommandFixture(t, db)
		got, err := f.makeThing("r1", 1, nil)
		if err != nil || got != "made thing-1" {
			t.Fatalf("first run = %q, %v; want the applied value", got, err)
		}
		got, err = f.makeThing("r1", 1, nil)
		if err != nil || got != "replayed thing-1" {
			t.Fatalf("retry = %q, %v; want replay of the stored result key", got, err)
		}
		if f.applied != 1 || f.replays != 1 || f.pending() != 1 || f.claims("r1") != 1 {
			t.Fatalf("applied %d, replayed %d, events %d, claims %d; want 1 of each", f.applied, f.replays, f.pending(), f.claims("r1"))
		}
	})
}

func TestCommandThatFailsLeavesNoClaimAndNoEvent(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newCommandFixture(t, db)
		boom := errors.New("boom")
		got, err := f.makeThing("r1", 1, boom)
		if !errors.Is(err, boom) || got != "" {
			t.Fatalf("failing run = %q, %v; want the zero value and apply's error", got, err)
		}
		if f.claims("r1") != 0 || f.pending() != 0 {
			t.Fatalf("a failed command left %d claims and %d events", f.claims("r1"), f.pending())
		}
		if got, err := f.makeThing("r1", 1, nil); err != nil || got != "made thing-1" || f.replays != 0 {
			t.Fatalf("retry after a failure = %q, %v (replays %d); want a fresh apply", got, err, f.replays)
		}
	})
}

func TestCommandReusingAnotherCommandsRequestIDRunsNothing(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newCommandFixture(t, db)
		if _, err := f.makeThing("r1", 1, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := f.makeThing("r1", 2, nil); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Fatalf("same request id, other command: %v; want InvalidArgument", err)
		}
		if f.applied != 1 || f.replays != 0 || f.pending() != 1 {
			t.Fatalf("applied %d, replayed %d, events %d; want the second command refused untouched", f.applied, f.replays, f.pending())
		}
	})
}

func TestCommandWithoutRequestIDAppliesEveryTime(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		f := newCommandFixture(t, db)
		for n := range 2 {
			if _, err := f.makeThing("", n, nil); err != nil {
				t.Fatal(err)
			}
		}
		if f.applied != 2 || f.claims("") != 0 {
			t.Fatalf("applied %d, claims %d; want no idempotency without a request id", f.applied, f.claims(""))
		}
	})
}

// fakeClaimer scripts Claim and records Complete, for the paths a real
// database cannot be made to take on demand.
type fakeClaimer struct {
	prior       string
	replay      bool
	claimErr    error
	completeErr error
	completed   []string
}

func (c *fakeClaimer) Claim(context.Context, string, string, any) (string, bool, error) {
	return c.prior, c.replay, c.claimErr
}

func (c *fakeClaimer) Complete(_ context.Context, scope, requestID, result string) error {
	c.completed = append(c.completed, scope+"/"+requestID+"="+result)
	return c.completeErr
}

func TestCommandSteps(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name          string
		tx            fakeClaimer
		replayErr     error
		applyErr      error
		want          int
		wantErr       error
		wantApplied   bool
		wantCompleted []string
	}{
		{name: "a new request applies and stores its result key", want: 7, wantApplied: true, wantCompleted: []string{"Make/r=key-7"}},
		{name: "a retry replays the stored result", tx: fakeClaimer{prior: "key-3", replay: true}, want: 3},
		{name: "a failed replay is the command's error", tx: fakeClaimer{prior: "key-3", replay: true}, replayErr: boom, wantErr: boom},
		{name: "a refused claim runs nothing", tx: fakeClaimer{claimErr: boom}, wantErr: boom},
		{name: "a failed apply stores nothing", applyErr: boom, wantErr: boom, wantApplied: true},
		{name: "a failed complete is the command's error", tx: fakeClaimer{completeErr: boom}, wantErr: boom, wantApplied: true, wantCompleted: []string{"Make/r=key-7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			applied := false
			got, err := storetx.Command(context.Background(), &tc.tx, "Make", "r", nil,
				func(result string) (int, error) {
					var n int
					_, _ = fmt.Sscanf(result, "key-%d", &n)
					return n, tc.replayErr
				},
				func() (int, string, error) {
					applied = true
					return 7, "key-7", tc.applyErr
				})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil && got != 0 {
				t.Errorf("value with an error = %d, want the zero value", got)
			}
			if tc.wantErr == nil && got != tc.want {
				t.Errorf("value = %d, want %d", got, tc.want)
			}
			if applied != tc.wantApplied {
				t.Errorf("apply ran = %v, want %v", applied, tc.wantApplied)
			}
			if fmt.Sprint(tc.tx.completed) != fmt.Sprint(tc.wantCompleted) {
				t.Errorf("completed %v, want %v", tc.tx.completed, tc.wantCompleted)
			}
		})
	}
}
