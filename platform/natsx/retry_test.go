package natsx

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestTransientBackoffDoublesUpToItsCap(t *testing.T) {
	t.Parallel()
	cfg, err := ConsumerConfig{Stream: "S", Durable: "d"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		n    int
		want time.Duration
	}{
		{0, 250 * time.Millisecond},
		{1, 250 * time.Millisecond},
		{2, 500 * time.Millisecond},
		{5, 4 * time.Second},
		{8, 30 * time.Second}, // 32s, capped
		{1000, 30 * time.Second},
	}
	for _, tt := range tests {
		if got := cfg.transientBackoff(tt.n); got != tt.want {
			t.Errorf("transientBackoff(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

// A dependency down for far more deliveries than MaxDeliver (as a one-minute
// PostgreSQL failover is with real backoffs) produces no dead letter: the message
// is applied once the dependency is back. Neither the logic-failure limit nor the
// crash-loop guard (NumDelivered > 2*MaxDeliver) fires.
func TestTransientFailuresRetryWithoutLimit(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	const outage = 20 // deliveries while the dependency is down
	var calls atomic.Int64
	applied := make(chan *Message, 2)
	startConsumer(t, js, ConsumerConfig{MaxDeliver: 3, TransientBackoff: time.Millisecond, MaxTransientBackoff: 5 * time.Millisecond},
		func(_ context.Context, m *Message) error {
			if calls.Add(1) <= outage {
				return status.Error(codes.Unavailable, "inventory: connection refused")
			}
			applied <- m
			return nil
		})
	publish(t, js, event("evt-1", "data"))
	select {
	case m := <-applied:
		if m.NumDelivered != outage+1 {
			t.Errorf("applied on delivery %d, want %d", m.NumDelivered, outage+1)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("not applied after %d calls", calls.Load())
	}
	eventually(t, "the message acknowledged", func() bool { return consumerInfo(t, js, "worker").AckFloor.Stream == 1 })
	time.Sleep(50 * time.Millisecond) // ten times the backoff cap, for a stray delivery
	if n := calls.Load(); n != outage+1 {
		t.Errorf("handler called %d times, want %d (applied once)", n, outage+1)
	}
	if dls := deadLetters(t, js, ""); len(dls) != 0 {
		t.Errorf("dead letters = %+v, want none", dls)
	}
}

// Transient failures in between do not save a poison message: it is dead-lettered
// after MaxDeliver logic failures, and only those count.
func TestLogicFailuresDeadLetterAfterMaxDeliverDespiteTransientOnes(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	var calls, logic atomic.Int64
	startConsumer(t, js, ConsumerConfig{MaxDeliver: 3, TransientBackoff: time.Millisecond, MaxTransientBackoff: 5 * time.Millisecond},
		func(context.Context, *Message) error {
			if calls.Add(1)%3 != 0 { // two transient failures before each logic one
				return Transient(errors.New("db restarting"))
			}
			logic.Add(1)
			return errors.New("ledger account 1400 missing")
		})
	publish(t, js, event("evt-1", "data"))
	eventually(t, "a dead letter", func() bool { return len(deadLetters(t, js, "worker")) == 1 })
	dl := deadLetters(t, js, "worker")[0]
	if dl.Error != "ledger account 1400 missing" || dl.Delivered != 9 {
		t.Errorf("dead letter = %+v, want the logic error after 9 deliveries", dl)
	}
	if n := logic.Load(); n != 3 {
		t.Errorf("%d logic failures before the dead letter, want MaxDeliver (3)", n)
	}
}

// After a transient failure the consumer holds back the next message for the
// backoff instead of running it at once into the same outage.
func TestTransientFailurePausesTheConsumer(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	const pause = 300 * time.Millisecond
	var mu sync.Mutex
	var starts []time.Time
	startConsumer(t, js, ConsumerConfig{TransientBackoff: pause, MaxTransientBackoff: pause},
		func(_ context.Context, m *Message) error {
			mu.Lock()
			starts = append(starts, time.Now())
			mu.Unlock()
			if m.EventID == "evt-1" && m.NumDelivered == 1 {
				return Transient(errors.New("db restarting"))
			}
			return nil
		})
	publish(t, js, event("evt-1", "a"), event("evt-2", "b"))
	eventually(t, "both processed", func() bool { return consumerInfo(t, js, "worker").AckFloor.Stream == 2 })
	mu.Lock()
	defer mu.Unlock()
	if len(starts) != 3 {
		t.Fatalf("%d handler calls, want 3", len(starts))
	}
	// evt-2 was fetched at once (prefetch), but must not start during the pause.
	if gap := starts[1].Sub(starts[0]); gap < pause-20*time.Millisecond {
		t.Errorf("next handler started %v after a transient failure, want >= the %v pause", gap, pause)
	}
}

// lockedBuffer is an io.Writer for a slog handler shared by goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// gauge reads the current sum of an int64 metric, 0 if not reported.
func metricSum(t *testing.T, r *sdkmetric.ManualReader, name string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range sum.DataPoints {
					total += dp.Value
				}
			}
		}
	}
	return total
}

// A handler that ignores its context cannot be stopped, but it must not hold the
// consumer silently: past its deadline it is logged and counted as stuck.
func TestStuckHandlerIsLoggedAndCounted(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	reader := sdkmetric.NewManualReader()
	logs := &lockedBuffer{}
	release := make(chan struct{})
	var calls atomic.Int64
	startConsumer(t, js, ConsumerConfig{
		HandlerTimeout: 50 * time.Millisecond,
		MeterProvider:  sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
		Logger:         slog.New(slog.NewTextHandler(logs, nil)),
	}, func(ctx context.Context, m *Message) error {
		if calls.Add(1) == 1 {
			<-release // ignores ctx
		}
		return nil
	})
	publish(t, js, event("evt-stuck", "x"))
	eventually(t, "the stuck handler reported", func() bool {
		return metricSum(t, reader, MetricStuckHandlers) == 1 && strings.Contains(logs.String(), "did not return")
	})
	close(release)
	eventually(t, "the stuck handler's return noticed", func() bool {
		return metricSum(t, reader, MetricStuckHandlers) == 0 && metricSum(t, reader, MetricProcessed) == 1
	})
	if !strings.Contains(logs.String(), "evt-stuck") {
		t.Errorf("log does not name the event:\n%s", logs)
	}
}

func TestFailureMetrics(t *testing.T) {
	t.Parallel()
	js := newJS(t)
	reader := sdkmetric.NewManualReader()
	var calls atomic.Int64
	startConsumer(t, js, ConsumerConfig{
		MaxDeliver: 2, TransientBackoff: time.Millisecond,
		MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)),
	}, func(context.Context, *Message) error {
		if calls.Add(1) == 1 {
			return context.DeadlineExceeded
		}
		return errors.New("logic")
	})
	publish(t, js, event("evt-1", "x"))
	eventually(t, "a dead letter", func() bool { return metricSum(t, reader, MetricDeadLettered) == 1 })
	if got := metricSum(t, reader, MetricFailed); got != 3 {
		t.Errorf("%s = %d, want 3 (1 transient, 2 logic)", MetricFailed, got)
	}
}
