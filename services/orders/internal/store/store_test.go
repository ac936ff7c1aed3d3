package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/events"
	"trueup.dev/services/orders/internal/orders"
	"trueup.dev/services/orders/internal/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// newService migrates db and returns the app over the store, with a clock that
// moves one second per call, so a replay that returned a fresh object would show.
func newService(t *testing.T, db *sqldb.DB) *app.Service {
	t.Helper()
	ctx := context.Background()
	if err := store.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	// Migrate twice: a restart must find the schema up to date.
	if err := store.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	var tick atomic.Int64
	now := func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Second) }
	ob := outbox.New(db, outboxtest.Discard{}, outbox.Options{})
	return app.New(store.New(db, ob, events.Encode), now)
}

type outboxRow struct {
	subject, typ string
	payload      []byte
}

func outboxRows(t *testing.T, db *sqldb.DB) []outboxRow {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT subject, type, payload FROM outbox ORDER BY seq`)
	if err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.subject, &r.typ, &r.payload); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func wantKind(t *testing.T, err error, kind apperr.Kind) {
	t.Helper()
	if got := apperr.KindOf(err); err == nil || got != kind {
		t.Fatalf("err = %v (%v), want %v", err, got, kind)
	}
}

func TestSuppliers(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)

		first, err := svc.CreateSupplier(ctx, "req-1", orders.Supplier{Code: "acme", DisplayName: "Acme", CurrencyCode: "eur"})
		if err != nil {
			t.Fatalf("CreateSupplier: %v", err)
		}
		if first.Code != "ACME" || first.CurrencyCode != "EUR" {
			t.Fatalf("created %+v", first)
		}

		// An honest retry returns the first result and writes nothing new.
		again, err := svc.CreateSupplier(ctx, "req-1", orders.Supplier{Code: "acme", DisplayName: "Acme", CurrencyCode: "eur"})
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if *again != *first {
			t.Errorf("retry returned %+v, want the first result %+v", again, first)
		}
		// The same request id for another supplier is a client bug.
		_, err = svc.CreateSupplier(ctx, "req-1", orders.Supplier{Code: "other", DisplayName: "Other", CurrencyCode: "EUR"})
		wantKind(t, err, apperr.KindInvalidArgument)
		// The same code under another request id collides.
		_, err = svc.CreateSupplier(ctx, "req-2", orders.Supplier{Code: "ACME ", DisplayName: "Acme again", CurrencyCode: "USD"})
		wantKind(t, err, apperr.KindAlreadyExists)
		// Invalid input never reaches the store.
		_, err = svc.CreateSupplier(ctx, "req-3", orders.Supplier{Code: "bad code"})
		wantKind(t, err, apperr.KindInvalidArgument)

		got, err := svc.GetSupplier(ctx, " acme")
		if err != nil {
			t.Fatalf("GetSupplier: %v", err)
		}
		if *got != *first {
			t.Errorf("GetSupplier = %+v, want %+v", got, first)
		}
		_, err = svc.GetSupplier(ctx, "NOPE")
		wantKind(t, err, apperr.KindNotFound)

		rows := outboxRows(t, db)
		if len(rows) != 1 {
			t.Fatalf("outbox has %d rows, want exactly 1", len(rows))
		}
		var ev ordersv1.SupplierCreated
		if err := proto.Unmarshal(rows[0].payload, &ev); err != nil {
			t.Fatal(err)
		}
		if rows[0].subject != "orders.v1.SupplierCreated" || rows[0].typ != "trueup.orders.v1.SupplierCreated" ||
			ev.GetAggregateId() != "suppliers/ACME" || ev.GetAggregateVersion() != 1 ||
			ev.GetSupplier().GetName() != "suppliers/ACME" || ev.GetEventId() == "" {
			t.Errorf("outbox row %s %s: %v", rows[0].subject, rows[0].typ, &ev)
		}

		// Paging: keyset on code, in code order, no repeats or gaps.
		for _, c := range []string{"D", "B", "E", "C"} {
			if _, err := svc.CreateSupplier(ctx, "", orders.Supplier{Code: c, DisplayName: c, CurrencyCode: "EUR"}); err != nil {
				t.Fatal(err)
			}
		}
		var codes []string
		pages := 0
		for page := (paging.Page{Limit: 2}); ; pages++ {
			sups, err := svc.ListSuppliers(ctx, app.PartyFilter{}, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sups {
				codes = append(codes, s.Code)
			}
			if len(sups) < page.Limit {
				break
			}
			page.After = sups[len(sups)-1].Code
		}
		if fmt.Sprint(codes) != "[ACME B C D E]" || pages != 2 {
			t.Errorf("paged codes %v in %d full pages, want [ACME B C D E] in 2", codes, pages)
		}
		if n := len(outboxRows(t, db)); n != 5 {
			t.Errorf("outbox has %d rows after 5 creates, want 5", n)
		}
	})
}

func TestCustomers(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)

		first, err := svc.CreateCustomer(ctx, "req-1", orders.Customer{Code: "shop-1", DisplayName: "Shop", CurrencyCode: "gbp"})
		if err != nil {
			t.Fatalf("CreateCustomer: %v", err)
		}
		again, err := svc.CreateCustomer(ctx, "req-1", orders.Customer{Code: "shop-1", DisplayName: "Shop", CurrencyCode: "gbp"})
		if err != nil || *again != *first {
			t.Fatalf("retry = %+v, %v; want %+v", again, err, first)
		}
		_, err = svc.CreateCustomer(ctx, "req-1", orders.Customer{Code: "shop-1", DisplayName: "Shop Ltd", CurrencyCode: "gbp"})
		wantKind(t, err, apperr.KindInvalidArgument)
		_, err = svc.CreateCustomer(ctx, "req-2", orders.Customer{Code: "SHOP-1", DisplayName: "Shop", CurrencyCode: "GBP"})
		wantKind(t, err, apperr.KindAlreadyExists)
		// A supplier and a customer may share a code: they are different parties.
		if _, err := svc.CreateSupplier(ctx, "req-2", orders.Supplier{Code: "SHOP-1", DisplayName: "Shop", CurrencyCode: "GBP"}); err != nil {
			t.Fatalf("supplier with a customer's code: %v", err)
		}
		got, err := svc.GetCustomer(ctx, "shop-1")
		if err != nil || *got != *first {
			t.Fatalf("GetCustomer = %+v, %v", got, err)
		}
		_, err = svc.GetCustomer(ctx, "NOPE")
		wantKind(t, err, apperr.KindNotFound)

		for _, c := range []string{"A", "Z"} {
			if _, err := svc.CreateCustomer(ctx, "", orders.Customer{Code: c, DisplayName: c, CurrencyCode: "EUR"}); err != nil {
				t.Fatal(err)
			}
		}
		cs, err := svc.ListCustomers(ctx, app.PartyFilter{}, paging.Page{Limit: 10, After: "A"})
		if err != nil || len(cs) != 2 || cs[0].Code != "SHOP-1" || cs[1].Code != "Z" {
			t.Errorf("ListCustomers after A = %v, %v", cs, err)
		}

		rows := outboxRows(t, db)
		var customerEvents int
		for _, r := range rows {
			if r.typ == "trueup.orders.v1.CustomerCreated" {
				customerEvents++
			}
		}
		if len(rows) != 4 || customerEvents != 3 {
			t.Errorf("outbox: %d rows, %d CustomerCreated; want 4 and 3", len(rows), customerEvents)
		}
	})
}

func TestCatalog(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		sync := func(eventID string, version int64, desc string) bool {
			t.Helper()
			applied, err := svc.SyncCatalogItem(ctx, eventID, orders.CatalogItem{
				SKU: "abc-1", Description: desc, BaseUoM: "EA", SourceVersion: version,
			})
			if err != nil {
				t.Fatalf("SyncCatalogItem(%s): %v", eventID, err)
			}
			return applied
		}
		get := func() *orders.CatalogItem {
			t.Helper()
			it, err := svc.GetCatalogItem(ctx, "ABC-1")
			if err != nil {
				t.Fatalf("GetCatalogItem: %v", err)
			}
			return it
		}

		_, err := svc.GetCatalogItem(ctx, "ABC-1")
		wantKind(t, err, apperr.KindNotFound)

		if !sync("e1", 1, "Widget") {
			t.Fatal("first delivery of e1 not applied")
		}
		v1 := get()
		if v1.SourceVersion != 1 || v1.Description != "Widget" || v1.BaseUoM != "EA" {
			t.Fatalf("after e1: %+v", v1)
		}
		// A redelivery is a no-op even when its payload claims to be newer: the
		// inbox, not the version check, stops it.
		if sync("e1", 5, "Widget (tampered)") {
			t.Error("redelivered e1 applied again")
		}
		if got := get(); !reflect.DeepEqual(got, v1) {
			t.Errorf("after redelivered e1: %+v, want %+v", got, v1)
		}
		// A new event with the same version is recorded but changes nothing.
		if !sync("e2", 1, "Widget, same version") {
			t.Error("e2 not recorded")
		}
		if got := get(); !reflect.DeepEqual(got, v1) {
			t.Errorf("after same-version e2: %+v, want %+v", got, v1)
		}
		sync("e3", 3, "Widget v3")
		v3 := get()
		if v3.SourceVersion != 3 || v3.Description != "Widget v3" || !v3.UpdatedAt.After(v1.UpdatedAt) {
			t.Errorf("after e3: %+v", v3)
		}
		// An older event arriving late never rolls the copy back.
		sync("e4", 2, "Widget v2")
		if got := get(); !reflect.DeepEqual(got, v3) {
			t.Errorf("after older e4: %+v, want %+v", got, v3)
		}

		// A malformed event is refused as invalid (the consumer dead-letters it).
		_, err = svc.SyncCatalogItem(ctx, "e5", orders.CatalogItem{SKU: "", SourceVersion: 1})
		wantKind(t, err, apperr.KindInvalidArgument)
		_, err = svc.SyncCatalogItem(ctx, "", orders.CatalogItem{SKU: "X", SourceVersion: 1})
		wantKind(t, err, apperr.KindInvalidArgument)

		for i, sku := range []string{"B", "C", "D"} {
			if _, err := svc.SyncCatalogItem(ctx, fmt.Sprintf("f%d", i), orders.CatalogItem{SKU: sku, Description: sku, BaseUoM: "EA", SourceVersion: 1}); err != nil {
				t.Fatal(err)
			}
		}
		p1, err := svc.ListCatalogItems(ctx, paging.Page{Limit: 3})
		if err != nil || len(p1) != 3 || p1[0].SKU != "ABC-1" || p1[2].SKU != "C" {
			t.Fatalf("first page = %v, %v", p1, err)
		}
		p2, err := svc.ListCatalogItems(ctx, paging.Page{Limit: 3, After: p1[2].SKU})
		if err != nil || len(p2) != 1 || p2[0].SKU != "D" {
			t.Fatalf("second page = %v, %v", p2, err)
		}

		if n := len(outboxRows(t, db)); n != 0 {
			t.Errorf("catalog updates wrote %d outbox rows, want none", n)
		}
		var inboxed int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM inbox WHERE consumer = $1`, app.CatalogConsumer).Scan(&inboxed); err != nil {
			t.Fatal(err)
		}
		if inboxed != 7 { // e1-e4 and f0-f2; the redelivery and the refused events left nothing
			t.Errorf("inbox holds %d events, want 7", inboxed)
		}
	})
}

// A failed command must leave no trace: no row, no claim, no event.
func TestCreateRollsBack(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		if _, err := svc.CreateSupplier(ctx, "a", orders.Supplier{Code: "X", DisplayName: "X", CurrencyCode: "EUR"}); err != nil {
			t.Fatal(err)
		}
		_, err := svc.CreateSupplier(ctx, "b", orders.Supplier{Code: "X", DisplayName: "X", CurrencyCode: "EUR"})
		if !errors.Is(err, apperr.ErrAlreadyExists) {
			t.Fatalf("duplicate: %v", err)
		}
		// The failed request id was not consumed: it can create something else.
		if _, err := svc.CreateSupplier(ctx, "b", orders.Supplier{Code: "Y", DisplayName: "Y", CurrencyCode: "EUR"}); err != nil {
			t.Fatalf("request id of a failed create: %v", err)
		}
		if n := len(outboxRows(t, db)); n != 2 {
			t.Errorf("outbox has %d rows, want 2", n)
		}
	})
}
