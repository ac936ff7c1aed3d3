package bench

import (
	"math"
	"slices"
	"time"
)

// Latency is a distribution of durations, in milliseconds.
type Latency struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50Ms"`
	P90  float64 `json:"p90Ms"`
	P99  float64 `json:"p99Ms"`
	Max  float64 `json:"maxMs"`
	Mean float64 `json:"meanMs"`
}

// latencyOf summarises ds (nearest-rank percentiles); ds is sorted in place.
func latencyOf(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return ms(ds[max(i, 0)])
	}
	return Latency{N: len(ds), P50: rank(0.50), P90: rank(0.90), P99: rank(0.99), Max: ms(ds[len(ds)-1]),
		Mean: ms(sum / time.Duration(len(ds)))}
}

func ms(d time.Duration) float64 { return math.Round(float64(d.Microseconds())) / 1000 }

// ratio is a/b rounded to three places, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*1000) / 1000
}

// round1 rounds to one decimal place.
func round1(x float64) float64 { return math.Round(x*10) / 10 }
