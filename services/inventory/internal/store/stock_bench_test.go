package store_test

import (
	"context"
	"fmt"
	"testing"

	"trueup.dev/platform/outbox"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/events"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/store"
)

// BenchmarkReceiveThenIssue measures one receipt and one FIFO issue (two
// transactions, each with its journal entry, cost layer change and event) on
// SQLite. Run with `make bench`.
func BenchmarkReceiveThenIssue(b *testing.B) {
	db := pgtest.OpenSQLite(b)
	ctx := context.Background()
	if err := store.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	svc := app.New(store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode), nil)
	if _, err := svc.CreateWarehouse(ctx, "", inventory.Warehouse{Code: "W1", DisplayName: "W"}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateLocation(ctx, "", "W1", inventory.Location{Code: "A1", Type: inventory.LocationStorage}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateItem(ctx, "", inventory.Item{SKU: "B", Description: "Bench", BaseUoM: "EA", Conversions: []inventory.UoMConversion{{UoM: "CS", Factor: "12"}}}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.ReceiveStock(ctx, app.Receive{Source: poSrc, RequestID: fmt.Sprint("r", i), SKU: "B", Warehouse: "W1", Location: "A1",
			Quantity: app.Quantity{Value: "1", UoM: "CS"}, Cost: app.UnitCost{Currency: "USD", Amount: "12.34"}}); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.IssueStock(ctx, app.Issue{Source: shipSrc, RequestID: fmt.Sprint("i", i), SKU: "B", Warehouse: "W1", Location: "A1",
			Quantity: app.Quantity{Value: "7", UoM: "EA"}}); err != nil {
			b.Fatal(err)
		}
	}
}
