package storetx

import "context"

// Claimer is the part of a write transaction that makes a command idempotent:
// claiming its request id and storing its result. *Tx implements it, and so
// does a service's own Tx port when it declares (or embeds a type with) these
// two methods, so use cases need not see *Tx.
type Claimer interface {
	// Claim claims requestID for the command under scope; see Tx.Claim.
	Claim(ctx context.Context, scope, requestID string, command any) (result string, replay bool, err error)
	// Complete stores the command's result against its request id; see Tx.Complete.
	Complete(ctx context.Context, scope, requestID, result string) error
}

// Command runs one idempotent command in the open transaction tx: it claims
// requestID under scope with cmd as the fingerprint; a retry of the same
// command gets replay(result) instead, where result is what the first run
// stored; otherwise apply does the work (its writes and events go through the
// same transaction) and returns the command's value and the result key to
// store, typically the id of what it created, from which replay loads it.
//
// Claiming comes first so that a retry never repeats a side effect, and the
// result is stored last so that it names what apply actually wrote. An error
// from any step is returned with the zero T; the caller must then roll the
// transaction back, which also drops the claim, so the command can be retried.
// A command reusing another command's request id is refused by Claim
// (InvalidArgument) and runs neither function. An empty requestID claims
// nothing, so apply runs every time.
func Command[T any](ctx context.Context, tx Claimer, scope, requestID string, cmd any,
	replay func(result string) (T, error),
	apply func() (value T, result string, err error),
) (T, error) {
	var zero T
	prior, replayed, err := tx.Claim(ctx, scope, requestID, cmd)
	if err != nil {
		return zero, err
	}
	if replayed {
		out, err := replay(prior)
		if err != nil {
			return zero, err
		}
		return out, nil
	}
	out, result, err := apply()
	if err != nil {
		return zero, err
	}
	if err := tx.Complete(ctx, scope, requestID, result); err != nil {
		return zero, err
	}
	return out, nil
}

// RunCommand is Command in a transaction of its own, opened by inTx (a
// store's InTx, or Runner.Run): the whole command, its claim, writes, events
// and stored result commit together or not at all. replay and apply receive
// the transaction. When inTx retries the transaction (a serialisation
// conflict), the command runs again from the claim, so apply must do all its
// work through tx and must not rely on anything an earlier attempt left behind.
func RunCommand[T any, X Claimer](ctx context.Context, inTx func(context.Context, func(X) error) error,
	scope, requestID string, cmd any,
	replay func(tx X, result string) (T, error),
	apply func(tx X) (value T, result string, err error),
) (T, error) {
	var out T
	err := inTx(ctx, func(tx X) error {
		var err error
		out, err = Command(ctx, tx, scope, requestID, cmd,
			func(result string) (T, error) { return replay(tx, result) },
			func() (T, string, error) { return apply(tx) })
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}
