package server

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/natstest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/orders/internal/app"
)

// harness is a running orders service on SQLite and an embedded JetStream.
type harness struct {
	t   *testing.T
	nc  *nats.Conn
	js  jetstream.JetStream
	db  *sqldb.DB
	svc *Service
	// done receives Run's result.
	done chan error
}

// start runs the service; with, when given, adjusts its Deps first (an
// inventory to call, say).
func start(t *testing.T, with ...func(*Deps)) (h *harness, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// natsx's connection, so the service runs with its production reconnect policy.
	nc, err := natsx.ConnectEmbedded(natstest.Server(t), "orders-test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js := natstest.JetStreamOn(t, nc)
	db := pgtest.OpenSQLite(t)
	if err := Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	deps := Deps{DB: db, JS: js, Logger: log}
	for _, f := range with {
		f(&deps)
	}
	svc, err := New(ctx, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	runCtx, cancelRun := context.WithCancel(context.Background())
	h = &harness{t: t, nc: nc, js: js, db: db, svc: svc, done: make(chan error, 1)}
	go func() { h.done <- svc.Run(runCtx) }()
	var (
		stopped bool
		runErr  error
	)
	stop = func() error {
		t.Helper()
		if stopped {
			return runErr
		}
		stopped = true
		cancelRun()
		select {
		case runErr = <-h.done:
			return runErr
		case <-time.After(drainTimeout + 5*time.Second):
			t.Fatal("Run did not return after its context ended")
			return nil
		}
	}
	// Stop before the server and connection go (cleanups run last-in first-out).
	t.Cleanup(func() { _ = stop() })
	return h, stop
}

// itemCreated is an inventory event as the inventory service's outbox writes it.
func itemCreated(t *testing.T, eventID, sku, description string, version int64) outbox.Message {
	t.Helper()
	m, err := protoevent.Message(eventID, &inventoryv1.ItemCreated{
		EventId: eventID, OccurredAt: timestamppb.Now(), AggregateId: "items/" + sku, AggregateVersion: version,
		Item: &inventoryv1.Item{Name: "items/" + sku, Sku: sku, Description: description, BaseUom: "EA", Version: version},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// itemUpdated is an inventory ItemUpdated event as the inventory service's
// outbox writes it: the whole item as changed, at its new version.
func itemUpdated(t *testing.T, eventID, sku, description string, version int64) outbox.Message {
	t.Helper()
	m, err := protoevent.Message(eventID, &inventoryv1.ItemUpdated{
		EventId: eventID, OccurredAt: timestamppb.Now(), AggregateId: "items/" + sku, AggregateVersion: version,
		Item: &inventoryv1.Item{Name: "items/" + sku, Sku: sku, Description: description, BaseUom: "EA", Version: version},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// publish sends m the way the inventory relay does (Nats-Msg-Id = event id).
func (h *harness) publish(m outbox.Message) {
	h.t.Helper()
	errs, err := natsx.NewPublisher(h.js).Publish(context.Background(), []outbox.Message{m})
	if err == nil {
		err = errors.Join(errs...)
	}
	if err != nil {
		h.t.Fatal(err)
	}
}

// redeliver publishes m again with the same event id but a new Nats-Msg-Id, as a
// relay re-publishing after JetStream's duplicate window would: the broker
// stores it as a new message and only the consumer's inbox can tell.
func (h *harness) redeliver(m outbox.Message, msgID string) {
	h.t.Helper()
	nm := nats.NewMsg(m.Subject)
	nm.Data = m.Payload
	nm.Header.Set(natsx.HeaderEventID, m.ID)
	nm.Header.Set(natsx.HeaderEventType, m.Type)
	nm.Header.Set(nats.MsgIdHdr, msgID)
	ack, err := h.js.PublishMsg(context.Background(), nm)
	if err != nil {
		h.t.Fatal(err)
	}
	if ack.Duplicate {
		h.t.Fatalf("redelivery %s was deduplicated by JetStream; the test needs it stored", msgID)
	}
}

// settle waits until the catalog consumer has acknowledged everything in the
// INVENTORY stream. Acks follow commits, so the catalog then reflects it all.
func (h *harness) settle() {
	h.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := h.js.Stream(ctx, "INVENTORY")
		if err != nil {
			h.t.Fatal(err)
		}
		last := st.CachedInfo().State.LastSeq
		if c, err := h.js.Consumer(ctx, "INVENTORY", app.CatalogConsumer); err == nil {
			info := c.CachedInfo()
			if info.AckFloor.Stream >= last && info.NumAckPending == 0 && info.NumPending == 0 {
				return
			}
		} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
			h.t.Fatal(err)
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("catalog consumer did not catch up with INVENTORY seq %d", last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) catalogItem(name string) *ordersv1.CatalogItem {
	h.t.Helper()
	it, err := h.svc.api.GetCatalogItem(context.Background(), &ordersv1.GetCatalogItemRequest{Name: name})
	if err != nil {
		h.t.Fatalf("GetCatalogItem(%s): %v", name, err)
	}
	return it
}

func TestCatalogFollowsInventoryEvents(t *testing.T) {
	h, stop := start(t)
	ctx := context.Background()

	e1 := itemCreated(t, protoevent.NewID(), "ABC-1", "Widget", 1)
	h.publish(e1)
	h.settle()
	first := h.catalogItem("catalogItems/abc-1")
	if first.GetSku() != "ABC-1" || first.GetDescription() != "Widget" || first.GetBaseUom() != "EA" || first.GetSourceVersion() != 1 {
		t.Fatalf("after e1: %v", first)
	}

	// The same event twice more, past JetStream's dedupe: three deliveries, one change.
	h.redeliver(e1, "again-1")
	h.redeliver(e1, "again-2")
	// And once more claiming a newer version: still the same event id, so the
	// inbox (not the version check) must drop it.
	tampered := itemCreated(t, e1.ID, "ABC-1", "Widget (tampered)", 9)
	h.redeliver(tampered, "again-3")
	h.settle()
	if got := h.catalogItem("catalogItems/ABC-1"); got.GetDescription() != "Widget" || got.GetSourceVersion() != 1 ||
		!got.GetUpdateTime().AsTime().Equal(first.GetUpdateTime().AsTime()) {
		t.Fatalf("redeliveries of e1 changed the catalog: %v, was %v", got, first)
	}
	var inboxed int
	if err := h.db.QueryRowContext(ctx, `SELECT count(*) FROM inbox WHERE consumer = $1`, app.CatalogConsumer).Scan(&inboxed); err != nil {
		t.Fatal(err)
	}
	if inboxed != 1 {
		t.Errorf("inbox holds %d events after 4 deliveries of one, want 1", inboxed)
	}

	if err := stop(); err != nil {
		t.Errorf("Run returned %v after a clean stop", err)
	}
}

// The catalog follows inventory's ItemUpdated events, version-gated: a newer
// version replaces the copy, and an older one arriving late (an ItemUpdated of
// an earlier change, or the item's ItemCreated) never rolls it back, whichever
// kind of event it is.
func TestCatalogFollowsItemUpdates(t *testing.T) {
	h, stop := start(t)
	ctx := context.Background()

	h.publish(itemCreated(t, protoevent.NewID(), "ABC-1", "Widget", 1))
	h.publish(itemUpdated(t, protoevent.NewID(), "ABC-1", "Widget, blue", 2))
	h.settle()
	if got := h.catalogItem("catalogItems/ABC-1"); got.GetDescription() != "Widget, blue" || got.GetSourceVersion() != 2 {
		t.Fatalf("after ItemCreated v1, ItemUpdated v2: %v, want v2", got)
	}

	// v4 overtakes v3 on the way; v3 arriving late changes nothing.
	h.publish(itemUpdated(t, protoevent.NewID(), "ABC-1", "Widget v4", 4))
	h.publish(itemUpdated(t, protoevent.NewID(), "ABC-1", "Widget v3", 3))
	h.settle()
	if got := h.catalogItem("catalogItems/ABC-1"); got.GetDescription() != "Widget v4" || got.GetSourceVersion() != 4 {
		t.Fatalf("after v4 then v3: %v, want v4", got)
	}

	// An item whose update overtook its creation: the update is taken, and the
	// ItemCreated arriving after it does not regress the copy.
	h.publish(itemUpdated(t, protoevent.NewID(), "XYZ-9", "Gadget, renamed", 2))
	h.settle()
	if got := h.catalogItem("catalogItems/XYZ-9"); got.GetDescription() != "Gadget, renamed" || got.GetSourceVersion() != 2 {
		t.Fatalf("after ItemUpdated v2 alone: %v, want v2", got)
	}
	renamed := h.catalogItem("catalogItems/XYZ-9")
	h.publish(itemCreated(t, protoevent.NewID(), "XYZ-9", "Gadget", 1))
	h.settle()
	if got := h.catalogItem("catalogItems/XYZ-9"); got.GetDescription() != "Gadget, renamed" || got.GetSourceVersion() != 2 ||
		!got.GetUpdateTime().AsTime().Equal(renamed.GetUpdateTime().AsTime()) {
		t.Fatalf("ItemCreated after ItemUpdated regressed the copy: %v, was %v", got, renamed)
	}

	// Every delivery was handled once (in the inbox), stale ones included: none
	// was retried or dead-lettered.
	var inboxed int
	if err := h.db.QueryRowContext(ctx, `SELECT count(*) FROM inbox WHERE consumer = $1`, app.CatalogConsumer).Scan(&inboxed); err != nil {
		t.Fatal(err)
	}
	if inboxed != 6 {
		t.Errorf("inbox holds %d events, want the 6 published", inboxed)
	}
	if dead, err := natsx.ListDeadLetters(ctx, h.js, app.CatalogConsumer); err != nil || len(dead) != 0 {
		t.Errorf("dead letters = %+v, %v; want none", dead, err)
	}

	list, err := h.svc.api.ListCatalogItems(ctx, &ordersv1.ListCatalogItemsRequest{PageSize: 1})
	if err != nil || len(list.GetCatalogItems()) != 1 || list.GetNextPageToken() == "" {
		t.Fatalf("ListCatalogItems page 1 = %v, %v", list, err)
	}
	list, err = h.svc.api.ListCatalogItems(ctx, &ordersv1.ListCatalogItemsRequest{PageSize: 1, PageToken: list.GetNextPageToken()})
	if err != nil || len(list.GetCatalogItems()) != 1 || list.GetCatalogItems()[0].GetName() != "catalogItems/XYZ-9" {
		t.Fatalf("ListCatalogItems page 2 = %v, %v", list, err)
	}

	_, err = h.svc.api.GetCatalogItem(ctx, &ordersv1.GetCatalogItemRequest{Name: "catalogItems/NOPE"})
	if !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("unknown item: %v", err)
	}

	if err := stop(); err != nil {
		t.Errorf("Run returned %v after a clean stop", err)
	}
}

// An event that cannot be decoded is dead-lettered at once, and the consumer
// goes on with the next one.
func TestCatalogDeadLettersUndecodableEvent(t *testing.T) {
	h, stop := start(t)
	ctx := context.Background()

	bad := itemCreated(t, protoevent.NewID(), "BAD", "x", 1)
	bad.Payload = []byte{0xff, 0xff, 0xff}
	badUpdate := itemUpdated(t, protoevent.NewID(), "BAD", "x", 2)
	badUpdate.Payload = []byte{0xff, 0xff, 0xff}
	// Decodes, but names no item: the read model cannot take it, ever.
	noSKU := itemUpdated(t, protoevent.NewID(), "", "x", 2)
	// On a followed subject, but its type header names an event the catalog
	// does not follow.
	mislabelled := itemUpdated(t, protoevent.NewID(), "BAD", "x", 2)
	mislabelled.Type = "trueup.inventory.v1.WarehouseCreated"
	for _, m := range []outbox.Message{bad, badUpdate, noSKU, mislabelled} {
		h.publish(m)
	}
	h.publish(itemCreated(t, protoevent.NewID(), "GOOD", "Fine", 1))
	h.publish(itemUpdated(t, protoevent.NewID(), "GOOD", "Fine, updated", 2))
	h.settle()

	if got := h.catalogItem("catalogItems/GOOD"); got.GetDescription() != "Fine, updated" {
		t.Errorf("GOOD = %v", got)
	}
	dead, err := natsx.ListDeadLetters(ctx, h.js, app.CatalogConsumer)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{bad.ID: true, badUpdate.ID: true, noSKU.ID: true, mislabelled.ID: true}
	for _, d := range dead {
		if !want[d.EventID] || d.Delivered != 1 {
			t.Errorf("dead letter %+v: want each bad event once, after 1 delivery", d)
		}
		delete(want, d.EventID)
	}
	if len(want) != 0 || len(dead) != 4 {
		t.Errorf("dead letters = %+v, want the 4 bad events", dead)
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// The orders service's own events leave through the outbox relay that Run runs.
func TestSupplierCreatedIsPublished(t *testing.T) {
	h, stop := start(t)
	ctx := context.Background()

	sup, err := h.svc.api.CreateSupplier(ctx, &ordersv1.CreateSupplierRequest{
		RequestId: "r1",
		Supplier:  &ordersv1.Supplier{Code: "acme", DisplayName: "Acme", CurrencyCode: "EUR"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if sup.GetName() != "suppliers/ACME" {
		t.Fatalf("created %v", sup)
	}
	st, err := h.js.Stream(ctx, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var raw *jetstream.RawStreamMsg
	for raw == nil {
		raw, err = st.GetLastMsgForSubject(ctx, "orders.v1.SupplierCreated")
		if errors.Is(err, jetstream.ErrMsgNotFound) && time.Now().Before(deadline) {
			raw = nil
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("SupplierCreated not on ORDERS: %v", err)
		}
	}
	var ev ordersv1.SupplierCreated
	if err := protoevent.Decode(&natsx.Message{Data: raw.Data, Type: raw.Header.Get(natsx.HeaderEventType)}, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.GetAggregateId() != "suppliers/ACME" || raw.Header.Get(nats.MsgIdHdr) != ev.GetEventId() {
		t.Errorf("published %v with Nats-Msg-Id %q", &ev, raw.Header.Get(nats.MsgIdHdr))
	}
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
}

// If the bus goes away for good under a running service, Run must not carry on
// half alive (relay up, catalog dead): it stops the relay and reports it.
func TestRunFailsWhenConsumerDies(t *testing.T) {
	h, _ := start(t)
	h.publish(itemCreated(t, protoevent.NewID(), "A", "A", 1))
	h.settle()
	h.nc.Close()
	select {
	case err := <-h.done:
		if err == nil {
			t.Error("Run returned nil after its NATS connection closed under it")
		}
		h.done <- err // for the cleanup's stop
	case <-time.After(15 * time.Second):
		t.Fatal("Run went on after its NATS connection closed under it")
	}
}
