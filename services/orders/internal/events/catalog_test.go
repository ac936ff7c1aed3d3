package events

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/natsx"
	"trueup.dev/services/orders/internal/app"
)

// failingStore is an app.Store whose inbox transaction fails with err; the
// handler reaches nothing else of it.
type failingStore struct {
	app.Store
	err error
	saw []string // the event ids the handler got as far as the inbox with
}

func (s *failingStore) InInbox(_ context.Context, _, eventID string, _ func(app.Tx) error) (bool, error) {
	s.saw = append(s.saw, eventID)
	return false, s.err
}

func payload(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The handler tells the consumer which failures no retry can fix (Permanent:
// dead-lettered at once) and leaves database failures as they are, so that
// natsx.IsTransient retries a busy or lost database without limit and counts
// any other failure towards MaxDeliver.
func TestCatalogHandlerClassifiesErrors(t *testing.T) {
	updated := payload(t, &inventoryv1.ItemUpdated{EventId: "e1", AggregateId: "items/A", AggregateVersion: 2,
		Item: &inventoryv1.Item{Sku: "A", Description: "A", BaseUom: "EA", Version: 2}})
	created := payload(t, &inventoryv1.ItemCreated{EventId: "e2", AggregateId: "items/A", AggregateVersion: 1,
		Item: &inventoryv1.Item{Sku: "A", Description: "A", BaseUom: "EA", Version: 1}})
	noSKU := payload(t, &inventoryv1.ItemUpdated{EventId: "e3", AggregateVersion: 2, Item: &inventoryv1.Item{Description: "A"}})
	const (
		typeUpdated = "trueup.inventory.v1.ItemUpdated"
		typeCreated = "trueup.inventory.v1.ItemCreated"
	)
	tests := []struct {
		name               string
		msg                natsx.Message
		storeErr           error
		permanent, transit bool
		applied            bool // reached the store
	}{
		{"item updated, stored", natsx.Message{EventID: "e1", Type: typeUpdated, Subject: ItemUpdatedSubject, Data: updated}, nil, false, false, true},
		{"item created, stored", natsx.Message{EventID: "e2", Type: typeCreated, Subject: ItemCreatedSubject, Data: created}, nil, false, false, true},
		{"no type header: the subject names it", natsx.Message{EventID: "e1", Subject: ItemUpdatedSubject, Data: updated}, nil, false, false, true},
		{"undecodable payload", natsx.Message{EventID: "e1", Type: typeUpdated, Subject: ItemUpdatedSubject, Data: []byte{0xff, 0xff}}, nil, true, false, false},
		{"type not followed", natsx.Message{EventID: "e1", Type: "trueup.inventory.v1.WarehouseCreated", Subject: ItemUpdatedSubject, Data: updated}, nil, true, false, false},
		{"no type, subject not followed", natsx.Message{EventID: "e1", Subject: "inventory.v1.StockReceived", Data: updated}, nil, true, false, false},
		{"names no item", natsx.Message{EventID: "e3", Type: typeUpdated, Subject: ItemUpdatedSubject, Data: noSKU}, nil, true, false, false},
		{"database connection lost", natsx.Message{EventID: "e1", Type: typeUpdated, Subject: ItemUpdatedSubject, Data: updated},
			fmt.Errorf("put catalog item A: %w", driver.ErrBadConn), false, true, true},
		{"database connection done", natsx.Message{EventID: "e1", Type: typeUpdated, Subject: ItemUpdatedSubject, Data: updated},
			fmt.Errorf("record inbox: %w", sql.ErrConnDone), false, true, true},
		{"concurrent writer won", natsx.Message{EventID: "e1", Type: typeUpdated, Subject: ItemUpdatedSubject, Data: updated},
			apperr.Conflict("catalog item changed concurrently", nil), false, true, true},
		{"other database failure", natsx.Message{EventID: "e1", Type: typeUpdated, Subject: ItemUpdatedSubject, Data: updated},
			errors.New("put catalog item A: no such table: catalog_items"), false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &failingStore{err: tt.storeErr}
			msg := tt.msg
			err := CatalogHandler(app.New(st, nil))(context.Background(), &msg)
			if (tt.storeErr == nil && !tt.permanent) != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if got := errors.Is(err, natsx.ErrPermanent); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (err %v)", got, tt.permanent, err)
			}
			if got := natsx.IsTransient(err); got != tt.transit {
				t.Errorf("transient = %v, want %v (err %v)", got, tt.transit, err)
			}
			if tt.storeErr != nil && !errors.Is(err, tt.storeErr) {
				t.Errorf("err = %v, want the store's error unwrapped: %v", err, tt.storeErr)
			}
			if got := len(st.saw) == 1; got != tt.applied {
				t.Errorf("reached the store: %v, want %v", got, tt.applied)
			}
		})
	}
}
