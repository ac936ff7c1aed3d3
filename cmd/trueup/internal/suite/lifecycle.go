package suite

import (
	"context"
	"fmt"
	"time"

	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/lifecycle"
)

// frontDrain bounds the stop of each server of the front: it is a backstop
// above the servers' own bounds (grpcserver's drain timeout, the gateway's
// 20 s http.Server.Shutdown), so theirs fire first and say what was cut off.
const frontDrain = grpcserver.DefaultDrainTimeout + 5*time.Second

// backDrain bounds the stop of each service's Run. A service stops its own
// parts one after another, each within its own bound (a consumer's drain, the
// relay's final drain, retention), so this backstop is above their sum; the
// services of a stack stop together, so it does not add up across them.
const backDrain = time.Minute

// RunInOrder runs the front (servers taking calls) and the back (each
// service's Run: outbox relays and event consumers) of a process on
// platform/lifecycle, the supervisor the services use for their own parts,
// and shuts them down in that order: when ctx ends, the servers stop taking
// calls and drain the ones in flight first; only then do the relays and
// consumers stop, so events committed by the last calls are still published
// before the process exits. The parts of one tier stop together. If any part
// stops on its own, with or without an error, everything stops and the error
// says which.
func RunInOrder(ctx context.Context, front, back []func(context.Context) error) error {
	return lifecycle.Run(ctx, tier("front", frontDrain, front), tier("back", backDrain, back))
}

// tier makes one lifecycle group of the runs of a tier, named by position:
// their own errors name what they are (grpc serve, http, the service).
func tier(name string, drain time.Duration, runs []func(context.Context) error) lifecycle.Part {
	parts := make([]lifecycle.Part, len(runs))
	for i, run := range runs {
		parts[i] = lifecycle.Part{Name: fmt.Sprintf("%s part %d", name, i+1), Run: run, Drain: drain}
	}
	return lifecycle.Group(name, parts...)
}
