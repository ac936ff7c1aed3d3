package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/outboxtest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/events"
	"trueup.dev/services/fulfillment/internal/fulfillment"
	"trueup.dev/services/fulfillment/internal/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// newService migrates db (twice, as a restart would) and returns the app over
// the store, with a clock that moves one second per call, so a replay that
// returned a fresh object would show.
func newService(t *testing.T, db *sqldb.DB) (*app.Service, *outbox.Outbox) {
	t.Helper()
	ctx := context.Background()
	for range 2 {
		if err := store.Migrate(ctx, db); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	var tick atomic.Int64
	now := func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Second) }
	ob := outbox.New(db, outboxtest.Discard{}, outbox.Options{})
	return app.New(store.New(db, ob, events.Encode), now), ob
}

func wantKind(t *testing.T, err error, kind apperr.Kind) {
	t.Helper()
	if got := apperr.KindOf(err); err == nil || got != kind {
		t.Fatalf("err = %v (%v), want %v", err, got, kind)
	}
}

func pending(t *testing.T, ob *outbox.Outbox) int {
	t.Helper()
	n, err := ob.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCarriers(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, ob := newService(t, db)
		in := fulfillment.Carrier{Code: "dhl", DisplayName: "DHL", TrackingURLTemplate: "https://t.example/?n={tracking_number}"}

		first, err := svc.CreateCarrier(ctx, "req-1", in)
		if err != nil {
			t.Fatalf("CreateCarrier: %v", err)
		}
		if first.Code != "DHL" || first.TrackingURLTemplate != in.TrackingURLTemplate {
			t.Fatalf("created %+v", first)
		}
		again, err := svc.CreateCarrier(ctx, "req-1", in)
		if err != nil || *again != *first {
			t.Fatalf("retry = %+v, %v; want the first result %+v", again, err, first)
		}
		other := in
		other.DisplayName = "DHL Express"
		_, err = svc.CreateCarrier(ctx, "req-1", other)
		wantKind(t, err, apperr.KindInvalidArgument)
		_, err = svc.CreateCarrier(ctx, "req-2", fulfillment.Carrier{Code: "DHL ", DisplayName: "Another"})
		wantKind(t, err, apperr.KindAlreadyExists)
		_, err = svc.CreateCarrier(ctx, "req-3", fulfillment.Carrier{Code: "X", DisplayName: "X", TrackingURLTemplate: "http://t.example/{tracking_number}"})
		wantKind(t, err, apperr.KindInvalidArgument)

		got, err := svc.GetCarrier(ctx, "dhl")
		if err != nil || *got != *first {
			t.Fatalf("GetCarrier = %+v, %v; want %+v", got, err, first)
		}
		_, err = svc.GetCarrier(ctx, "UPS")
		wantKind(t, err, apperr.KindNotFound)

		if n := pending(t, ob); n != 1 {
			t.Fatalf("outbox has %d pending rows, want exactly 1", n)
		}
		var subject, typ string
		var payload []byte
		if err := db.QueryRowContext(ctx, `SELECT subject, type, payload FROM outbox`).Scan(&subject, &typ, &payload); err != nil {
			t.Fatal(err)
		}
		var ev fulfillmentv1.CarrierCreated
		if err := proto.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		if subject != "fulfillment.v1.CarrierCreated" || typ != "trueup.fulfillment.v1.CarrierCreated" ||
			ev.GetAggregateId() != "carriers/DHL" || ev.GetAggregateVersion() != 1 ||
			ev.GetCarrier().GetTrackingUrlTemplate() != in.TrackingURLTemplate || ev.GetEventId() == "" {
			t.Errorf("outbox row %s %s: %v", subject, typ, &ev)
		}

		// Without a template the column holds '' and reads back empty.
		for _, c := range []string{"UPS", "GLS", "FEDEX", "B"} {
			if _, err := svc.CreateCarrier(ctx, "", fulfillment.Carrier{Code: c, DisplayName: c}); err != nil {
				t.Fatal(err)
			}
		}
		var codes []string
		for page := (paging.Page{Limit: 2}); ; {
			cs, err := svc.ListCarriers(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				codes = append(codes, c.Code)
				if c.Code != "DHL" && c.TrackingURLTemplate != "" {
					t.Errorf("carrier %s has template %q", c.Code, c.TrackingURLTemplate)
				}
			}
			if len(cs) < page.Limit {
				break
			}
			page.After = cs[len(cs)-1].Code
		}
		if fmt.Sprint(codes) != "[B DHL FEDEX GLS UPS]" {
			t.Errorf("paged codes %v, want [B DHL FEDEX GLS UPS]", codes)
		}
		if n := pending(t, ob); n != 5 {
			t.Errorf("outbox has %d pending rows after 5 creates, want 5", n)
		}
	})
}

// A failed command leaves no trace: no row, no claimed request id, no event.
func TestCreateCarrierRollsBack(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, ob := newService(t, db)
		if _, err := svc.CreateCarrier(ctx, "a", fulfillment.Carrier{Code: "X", DisplayName: "X"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateCarrier(ctx, "b", fulfillment.Carrier{Code: "X", DisplayName: "X"}); !errors.Is(err, apperr.ErrAlreadyExists) {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := svc.CreateCarrier(ctx, "b", fulfillment.Carrier{Code: "Y", DisplayName: "Y"}); err != nil {
			t.Fatalf("request id of a failed create: %v", err)
		}
		if n := pending(t, ob); n != 2 {
			t.Errorf("outbox has %d pending rows, want 2", n)
		}
	})
}
