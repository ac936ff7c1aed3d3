package orders

import (
	"sort"
	"time"
)

// The stages of the two flows, in order.
var (
	OrderToCashStages  = []string{"CONFIRMED", "ALLOCATED", "PICKED", "SHIPPED", "INVOICED", "PAID"}
	ProcureToPayStages = []string{"RELEASED", "RECEIVED", "BILLED", "PAID"}
)

// The steps timed: each stage to the next, then the whole flow (and, for
// order to cash, confirmation to shipment, the warehouse's part).
var (
	OrderToCashSteps  = [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {0, 3}, {0, 5}}
	ProcureToPaySteps = [][2]int{{0, 1}, {1, 2}, {2, 3}, {0, 3}}
)

// StageTiming is how long documents took over one step.
type StageTiming struct {
	From, To           string
	Count              int
	P50, P90, P99, Max time.Duration
}

// Timings computes each step's durations over documents, each a row of stage
// times in the order of stages (zero: not reached). A document counts for a
// step when it reached both of its stages; a negative duration (stages
// recorded out of order, e.g. a shipment dated before its pick) counts as
// zero. Percentiles are nearest rank.
func Timings(stages []string, steps [][2]int, docs [][]time.Time) []StageTiming {
	out := make([]StageTiming, 0, len(steps))
	for _, st := range steps {
		var ds []time.Duration
		for _, d := range docs {
			from, to := d[st[0]], d[st[1]]
			if from.IsZero() || to.IsZero() {
				continue
			}
			ds = append(ds, max(0, to.Sub(from)))
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		t := StageTiming{From: stages[st[0]], To: stages[st[1]], Count: len(ds)}
		if n := len(ds); n > 0 {
			rank := func(p int) time.Duration { return ds[(p*n+99)/100-1] }
			t.P50, t.P90, t.P99, t.Max = rank(50), rank(90), rank(99), ds[n-1]
		}
		out = append(out, t)
	}
	return out
}
