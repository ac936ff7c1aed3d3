package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/ceiling"
)

// BenchmarkReceiveStockGRPC drives ReceiveStock over gRPC against the whole
// dev stack (SQLite, embedded NATS, relays running) at concurrency 1 and 16,
// beside the SQLite single-row commit ceiling measured on the same disk in the
// same run. It reports receipts/s and the ratio to the ceiling; more clients
// must not mean fewer receipts. Each concurrency receives into an item of its
// own, so both start from an empty history.
func BenchmarkReceiveStockGRPC(b *testing.B) {
	_, conn, _ := startTestStack(b)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		b.Fatal(err)
	}
	// The dev stack's own settings (WAL, synchronous=FULL), on the same disk.
	cdb, err := sqldb.Open(ctx, "sqlite://"+filepath.Join(b.TempDir(), "ceiling.db"))
	if err != nil {
		b.Fatal(err)
	}
	top := ceiling.Commits(b, cdb, 500*time.Millisecond)
	cdb.Close()
	inv := inventoryv1.NewInventoryServiceClient(conn)
	var run atomic.Int64
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("c%d", conc), func(b *testing.B) {
			prefix := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), run.Add(1))
			// A fresh item per run, so both concurrencies start from the same
			// history (an item's open layers grow with every receipt).
			sku := fmt.Sprintf("BENCH-%d", run.Load())
			if _, err := inv.CreateItem(ctx, &inventoryv1.CreateItemRequest{RequestId: prefix + "-item",
				Item: &inventoryv1.Item{Sku: sku, Description: "benchmark item", BaseUom: "EA"}}); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			per := max(b.N/conc, 1)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range conc {
				wg.Go(func() {
					for range per {
						n := next.Add(1)
						_, err := inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{
							RequestId: fmt.Sprintf("%s-%d", prefix, n),
							Item:      "items/" + sku, Location: "warehouses/MAIN/locations/A-01-01",
							Quantity: &typev1.Quantity{Value: "1", Uom: "EA"},
							UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "1.50"},
							Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER,
								Id: prefix, Line: fmt.Sprint(n)},
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			rate := float64(per*conc) / time.Since(start).Seconds()
			b.ReportMetric(rate, "receipts/s")
			b.ReportMetric(top, "ceiling_commits/s")
			b.ReportMetric(rate/top, "ratio_to_ceiling")
		})
	}
}
