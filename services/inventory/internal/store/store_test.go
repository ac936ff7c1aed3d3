package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/events"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func newService(t *testing.T, db *sqldb.DB) *app.Service {
	t.Helper()
	return newServiceOn(t, db, func(s app.Store) app.Store { return s })
}

// newServiceOn is newService over the store as wrap wraps it.
func newServiceOn(t *testing.T, db *sqldb.DB, wrap func(app.Store) app.Store) *app.Service {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < 2; i++ { // a restart finds the schema up to date
		if err := store.Migrate(ctx, db); err != nil {
			t.Fatalf("Migrate (run %d): %v", i+1, err)
		}
	}
	var tick atomic.Int64
	now := func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Second) }
	return app.New(wrap(store.New(db, outbox.New(db, outboxtest.Discard{}, outbox.Options{}), events.Encode)), now)
}

func outboxTypes(t *testing.T, db *sqldb.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT type FROM outbox ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func widget() inventory.Item {
	return inventory.Item{
		SKU: "widget-1", Description: "Widget", BaseUoM: "EA", WholeUnitsOnly: true,
		Conversions: []inventory.UoMConversion{{UoM: "CS", Factor: "12"}, {UoM: "PLT", Factor: "480.0"}},
		Codes: []inventory.ItemCode{
			{Namespace: inventory.CodeERP, Code: "100-1"},
			{Namespace: inventory.CodeSupplier, Partner: "ACME", Code: "AC-1"},
		},
		Tracking: inventory.TrackingLot, ExpiryRequired: true, CostMethod: inventory.CostMovingAverage,
	}
}

func TestItems(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)

		created, err := svc.CreateItem(ctx, "req-1", widget())
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.GetItem(ctx, " Widget-1 ")
		if err != nil {
			t.Fatal(err)
		}
		if got.SKU != "WIDGET-1" || len(got.Conversions) != 2 || got.Conversions[1] != (inventory.UoMConversion{UoM: "PLT", Factor: "480"}) ||
			len(got.Codes) != 2 || got.Tracking != inventory.TrackingLot || got.CostMethod != inventory.CostMovingAverage ||
			!got.ExpiryRequired || !got.WholeUnitsOnly || !got.CreatedAt.Equal(created.CreatedAt) || got.Version != 1 {
			t.Fatalf("round trip lost data:\n got %+v\nwant %+v", got, created)
		}

		// A retry with the same request id returns the first item, without a second event.
		again, err := svc.CreateItem(ctx, "req-1", widget())
		if err != nil || !again.CreatedAt.Equal(created.CreatedAt) {
			t.Fatalf("retry = %+v, %v", again, err)
		}
		// The same request id with another payload is refused.
		other := widget()
		other.Description = "Other"
		if _, err := svc.CreateItem(ctx, "req-1", other); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Fatalf("reused request id: err = %v, want InvalidArgument", err)
		}
		// A new request for the same SKU is AlreadyExists.
		if _, err := svc.CreateItem(ctx, "req-2", widget()); !errors.Is(err, apperr.ErrAlreadyExists) {
			t.Fatalf("duplicate sku: err = %v, want AlreadyExists", err)
		}
		// A cross-reference code already mapped is refused, naming the holder, and
		// nothing of the refused item is written.
		clash := inventory.Item{SKU: "gadget-1", Description: "Gadget", BaseUoM: "EA",
			Codes: []inventory.ItemCode{{Namespace: inventory.CodeSupplier, Partner: "acme", Code: "ac-1"}}}
		_, err = svc.CreateItem(ctx, "req-3", clash)
		var e *apperr.Error
		if !errors.As(err, &e) || e.Kind != apperr.KindAlreadyExists || e.Metadata["holder"] != "items/WIDGET-1" ||
			len(e.Violations) != 1 || e.Violations[0].Field != "item.codes[0].code" {
			t.Fatalf("code clash: err = %#v", err)
		}
		if _, err := svc.GetItem(ctx, "GADGET-1"); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("refused item was written: %v", err)
		}
		// The same code in another partner's namespace is a different code.
		ok := clash
		ok.Codes = []inventory.ItemCode{{Namespace: inventory.CodeSupplier, Partner: "GLOBEX", Code: "AC-1"}}
		if _, err := svc.CreateItem(ctx, "req-4", ok); err != nil {
			t.Fatalf("code under another partner: %v", err)
		}
		if _, err := svc.GetItem(ctx, "nope"); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("unknown item: err = %v, want NotFound", err)
		}
		// Exactly one event per created item.
		if got := outboxTypes(t, db); len(got) != 2 || got[0] != "trueup.inventory.v1.ItemCreated" {
			t.Fatalf("outbox = %v, want two ItemCreated", got)
		}
	})
}

func TestItemCreatedEventPayload(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		if _, err := svc.CreateItem(ctx, "", widget()); err != nil {
			t.Fatal(err)
		}
		var payload []byte
		if err := db.QueryRowContext(ctx, `SELECT payload FROM outbox`).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var ev inventoryv1.ItemCreated
		if err := proto.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.GetEventId() == "" || ev.GetAggregateId() != "items/WIDGET-1" || ev.GetAggregateVersion() != 1 ||
			ev.GetItem().GetSku() != "WIDGET-1" || len(ev.GetItem().GetUoms()) != 2 || !ev.GetOccurredAt().AsTime().Equal(t0.Add(time.Second)) {
			t.Fatalf("event = %v", &ev)
		}
	})
}

func TestListItemsPages(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		for i := 0; i < 7; i++ {
			if _, err := svc.CreateItem(ctx, "", inventory.Item{SKU: fmt.Sprintf("SKU-%02d", 6-i), Description: "x", BaseUoM: "EA"}); err != nil {
				t.Fatal(err)
			}
		}
		var seen []string
		token := ""
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("paging does not end")
			}
			page, err := paging.Parse(3, token, "items")
			if err != nil {
				t.Fatal(err)
			}
			items, err := svc.ListItems(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				seen = append(seen, it.SKU)
			}
			if len(items) > 0 {
				token = page.Next(len(items), items[len(items)-1].SKU)
			} else {
				token = ""
			}
			if token == "" {
				break
			}
		}
		want := "[SKU-00 SKU-01 SKU-02 SKU-03 SKU-04 SKU-05 SKU-06]"
		if fmt.Sprint(seen) != want {
			t.Fatalf("pages = %v, want %s", seen, want)
		}
	})
}

func TestWarehousesAndLocations(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		if _, err := svc.CreateLocation(ctx, "", "MAIN", inventory.Location{Code: "A-1", Type: inventory.LocationStorage}); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("location in unknown warehouse: err = %v, want NotFound", err)
		}
		if _, err := svc.CreateWarehouse(ctx, "w", inventory.Warehouse{Code: "main", DisplayName: "Main", TimeZone: "Europe/Amsterdam"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateWarehouse(ctx, "", inventory.Warehouse{Code: "MAIN", DisplayName: "Again"}); !errors.Is(err, apperr.ErrAlreadyExists) {
			t.Fatalf("duplicate warehouse: %v", err)
		}
		l, err := svc.CreateLocation(ctx, "l1", "main", inventory.Location{Code: "a-1", Type: inventory.LocationQuarantine, Blocked: true})
		if err != nil {
			t.Fatal(err)
		}
		got, err := svc.GetLocation(ctx, "MAIN", "A-1")
		if err != nil || got.Type != inventory.LocationQuarantine || !got.Blocked || !got.CreatedAt.Equal(l.CreatedAt) {
			t.Fatalf("GetLocation = %+v, %v", got, err)
		}
		if _, err := svc.CreateLocation(ctx, "l2", "MAIN", inventory.Location{Code: "A-1", Type: inventory.LocationStorage}); !errors.Is(err, apperr.ErrAlreadyExists) {
			t.Fatalf("duplicate location: %v", err)
		}
		page, _ := paging.Parse(0, "", "warehouses/MAIN")
		ls, err := svc.ListLocations(ctx, "main", page)
		if err != nil || len(ls) != 1 {
			t.Fatalf("ListLocations = %v, %v", ls, err)
		}
		if _, err := svc.ListLocations(ctx, "NOPE", page); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("locations of unknown warehouse: %v", err)
		}
		want := []string{"trueup.inventory.v1.WarehouseCreated", "trueup.inventory.v1.LocationCreated"}
		if got := outboxTypes(t, db); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("outbox = %v, want %v", got, want)
		}
	})
}

// Concurrent creates of one SKU: exactly one wins, the others get AlreadyExists
// (or a retryable conflict), and exactly one event is written.
func TestConcurrentCreateOneWinner(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		var wg sync.WaitGroup
		var wins atomic.Int32
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.CreateItem(ctx, "", widget())
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, apperr.ErrAlreadyExists), errors.Is(err, apperr.ErrConflict):
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d creates won, want 1", wins.Load())
		}
		if got := outboxTypes(t, db); len(got) != 1 {
			t.Fatalf("outbox = %v, want one event", got)
		}
	})
}
