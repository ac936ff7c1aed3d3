package server

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/natsx"
	"trueup.dev/platform/outbox"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/protoevent"
	"trueup.dev/platform/testkit/natstest"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/ledger/internal/ledger"
)

// TestOrdersConsumerPostsPublishedDocuments: an invoice and its payment
// published on the ORDERS stream of a real (embedded) JetStream, as the
// orders service's outbox relay would publish them, are posted by the
// ledger's orders consumer: AR debited by the invoice and cleared by the
// payment. An orders event with nothing to post is consumed and ignored.
func TestOrdersConsumerPostsPublishedDocuments(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	js := natstest.JetStream(t)
	db := pgtest.OpenSQLite(t)
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	svc, err := New(ctx, Deps{DB: db, JS: js})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	}()

	eff := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	usd := func(m int64) *typev1.Money { return &typev1.Money{CurrencyCode: "USD", MinorUnits: m} }
	invoiceID, paymentID, otherID := protoevent.NewID(), protoevent.NewID(), protoevent.NewID()
	evs := []proto.Message{
		&ordersv1.CustomerCreated{EventId: otherID, AggregateId: "customers/BOB", OccurredAt: timestamppb.New(eff)},
		&ordersv1.InvoiceIssued{EventId: invoiceID, AggregateId: "invoices/INV-1", Invoice: "invoices/INV-1", Customer: "customers/BOB",
			CurrencyCode: "USD", Lines: []*ordersv1.InvoiceLine{{Item: "items/A", Warehouse: "warehouses/MAIN", NetAmount: usd(100_00), TaxAmount: usd(8_25)}},
			NetTotal: usd(100_00), TaxTotal: usd(8_25), Total: usd(108_25), EffectiveTime: timestamppb.New(eff)},
		&ordersv1.PaymentReceived{EventId: paymentID, AggregateId: "payments/PAY-1", Payment: "payments/PAY-1", Customer: "customers/BOB",
			CurrencyCode: "USD", Amount: usd(108_25), Applications: []*ordersv1.PaymentApplication{{Invoice: "invoices/INV-1", Amount: usd(108_25)}},
			EffectiveTime: timestamppb.New(eff.Add(time.Minute))},
	}
	var msgs []outbox.Message
	for _, ev := range evs {
		id := ev.ProtoReflect().Get(ev.ProtoReflect().Descriptor().Fields().ByName("event_id")).String()
		m, err := protoevent.Message(id, ev, eff)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	// Sent twice: JetStream keeps one of each (Nats-Msg-Id), the inbox the rest.
	for range 2 {
		errs, err := natsx.NewPublisher(js).Publish(ctx, msgs)
		if err != nil {
			t.Fatal(err)
		}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
		}
	}

	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err1 := svc.app.EntryForEvent(ctx, invoiceID)
		_, err2 := svc.app.EntryForEvent(ctx, paymentID)
		if err1 == nil && err2 == nil {
			break
		}
		if apperr.KindOf(err1) != apperr.KindNotFound && err1 != nil || time.Now().After(deadline) {
			t.Fatalf("entries not posted: %v / %v", err1, err2)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e, err := svc.app.EntryForEvent(ctx, invoiceID)
	if err != nil || e.Rule != ledger.RuleInvoiceIssued || e.RuleVersion != ledger.DefaultRules().Version || e.Source.Service != "orders" || len(e.Lines) != 3 {
		t.Fatalf("invoice entry %+v, %v", e, err)
	}
	tb, err := svc.app.GetTrialBalance(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	net := map[string]int64{}
	for _, r := range tb.Rows {
		net[r.Account] = r.Net()
	}
	if net[ledger.AcctReceivable] != 0 || net[ledger.AcctCash] != 108_25 || net[ledger.AcctRevenue] != -100_00 || net[ledger.AcctSalesTax] != -8_25 {
		t.Errorf("balances %v", net)
	}
	if _, err := svc.app.EntryForEvent(ctx, otherID); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("customer created posted something: %v", err)
	}
	if parked, err := svc.app.ListParked(ctx, pageAll); err != nil || len(parked) != 0 {
		t.Errorf("parked %v, %v", parked, err)
	}
}

var pageAll = paging.Page{Limit: 100}
