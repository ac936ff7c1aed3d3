package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

// countAt counts WIDGET in A1 as taken at at.
func countAt(requestID, counted string, at time.Time) app.Count {
	return app.Count{RequestID: requestID, SKU: "WIDGET", Warehouse: "W1", Location: "A1", Counted: app.Quantity{Value: counted},
		Source: inventory.SourceDoc{Type: inventory.SourceCount, ID: "CNT-1"}, EffectiveAt: at}
}

// Stock moved out of a location after its count was taken, and booked before
// the count is: the count's difference is against what the location held
// when it was counted, and the move stays booked on top of it.
func TestACountTakenBeforeAMoveIsNotCountedTwice(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		in := receive(t, svc, "WIDGET", "A1", "20", "EA", "1.00", "", "")
		at := in.EffectiveAt.Add(500 * time.Millisecond) // the counter found 18
		if _, err := svc.MoveStock(ctx, app.Move{RequestID: rid("mv"), SKU: "WIDGET", Warehouse: "W1", From: "A1", To: "A2",
			Quantity: app.Quantity{Value: "5"}}); err != nil {
			t.Fatal(err)
		}
		m, err := svc.CountStock(ctx, countAt(rid("cnt"), "18", at))
		if err != nil {
			t.Fatal(err)
		}
		if m.BaseQty.String() != "-2" || m.Counted.String() != "18" || !m.EffectiveAt.Equal(at) || m.Value != -200 {
			t.Fatalf("count = diff %s counted %s at %s value %d; want -2 of 18 at %s, -200", m.BaseQty, m.Counted, m.EffectiveAt, m.Value, at)
		}
		if oh, _ := level(t, svc, "WIDGET", "A1"); oh != "13" {
			t.Fatalf("A1 on hand = %s, want 20 - 5 moved - 2 short = 13", oh)
		}
		if oh, _ := level(t, svc, "WIDGET", "A2"); oh != "5" {
			t.Fatalf("A2 on hand = %s, want the 5 moved", oh)
		}
		// A count of now sets the level to what was counted.
		if m, err := svc.CountStock(ctx, countAt(rid("cnt"), "13", time.Time{})); err != nil || m.BaseQty != 0 {
			t.Fatalf("count now = %+v, %v", m, err)
		}
	})
}

// A count taken before the level was counted again is refused: the later
// count settled the level, and booking the earlier one would undo it.
func TestACountOfALevelCountedSinceIsRefused(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		in := receive(t, svc, "WIDGET", "A1", "20", "EA", "1.00", "", "")
		early := in.EffectiveAt.Add(time.Millisecond)
		if _, err := svc.CountStock(ctx, countAt(rid("cnt"), "19", time.Time{})); err != nil {
			t.Fatal(err)
		}
		_, err := svc.CountStock(ctx, countAt(rid("cnt"), "17", early))
		if !errors.Is(err, inventory.ErrCountSuperseded) {
			t.Fatalf("earlier count after a later one = %v, want %v", err, inventory.ErrCountSuperseded)
		}
		if oh, _ := level(t, svc, "WIDGET", "A1"); oh != "19" {
			t.Fatalf("A1 on hand = %s, want the later count's 19", oh)
		}
	})
}

// A preview answers the difference and value a count would book, and books
// nothing: no movement, no level change, no request id claimed.
func TestPreviewCountBooksNothing(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		svc := stockFixture(t, db)
		ctx := context.Background()
		in := receive(t, svc, "WIDGET", "A1", "20", "EA", "1.50", "", "")
		c := countAt(rid("cnt"), "16", in.EffectiveAt)
		p, err := svc.PreviewCount(ctx, c)
		if err != nil || p.BaseQty.String() != "-4" || p.Value != -600 || p.Currency != "USD" {
			t.Fatalf("preview = %+v, %v; want -4 valued -600 USD", p, err)
		}
		page, _ := paging.Parse(100, "", "")
		ms, err := svc.ListMovements(ctx, app.MovementFilter{SKU: "WIDGET"}, page)
		if err != nil || len(ms) != 1 {
			t.Fatalf("journal after a preview = %d movements, %v; want the receipt only", len(ms), err)
		}
		if oh, _ := level(t, svc, "WIDGET", "A1"); oh != "20" {
			t.Fatalf("A1 on hand after a preview = %s", oh)
		}
		m, err := svc.CountStock(ctx, c) // the same request id: not claimed by the preview
		if err != nil || m.BaseQty != p.BaseQty || m.Value != p.Value {
			t.Fatalf("count after its preview = %+v, %v", m, err)
		}
		// A preview answers a refusal as the count would.
		if _, err := svc.PreviewCount(ctx, countAt(rid("cnt"), "16", in.EffectiveAt.Add(-time.Hour))); !errors.Is(err, inventory.ErrCountSuperseded) {
			t.Fatalf("a preview of a time before the last count = %v, want %v", err, inventory.ErrCountSuperseded)
		}
	})
}
