package outbox_test

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
)

// The relay's metrics say whether events flow: published and pending.
func TestRelayMetrics(t *testing.T) {
	db := migrated(t, pgtest.OpenSQLite(t))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	rec := &outboxtest.Recorder{}
	o := outbox.New(db, rec, outbox.Options{Logger: quiet, MeterProvider: mp, PollInterval: 20 * time.Millisecond})
	for i := range 3 {
		add(t, db, o, newEvent(t, i))
	}
	if got := collect(t, reader); got["trueup.outbox.pending"] != 3 {
		t.Fatalf("pending before the relay runs = %v, want 3", got)
	}
	stop := startRelay(t, o)
	waitFor(t, 10*time.Second, "all published", pendingIs(context.Background(), o, 0))
	stop()
	got := collect(t, reader)
	if got["trueup.outbox.published"] != 3 || got["trueup.outbox.pending"] != 0 {
		t.Fatalf("metrics = %v, want 3 published and 0 pending", got)
	}
}

// collect reads the int64 sums and gauges of the outbox meter.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] += p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = p.Value
				}
			}
		}
	}
	return out
}
