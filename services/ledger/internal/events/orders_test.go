package events

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/protoevent"
	"trueup.dev/services/ledger/internal/ledger"
)

func eur(minor int64) *typev1.Money { return &typev1.Money{CurrencyCode: "EUR", MinorUnits: minor} }

func encode(t *testing.T, m proto.Message) (string, []byte) {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(m.ProtoReflect().Descriptor().FullName()), b
}

var (
	effective = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	occurred  = effective.Add(time.Minute)
)

// TestDecodeOrdersDocuments: each orders document event decodes, from its
// real encoding, into the document the ledger posts: ids from resource
// names, amounts in minor units, the effective time (or, without one, the
// time it occurred).
func TestDecodeOrdersDocuments(t *testing.T) {
	q := &typev1.Quantity{Value: "3", Uom: "EA"}
	tests := []struct {
		name string
		ev   proto.Message
		want ledger.Document
	}{
		{"supplier bill approved", &ordersv1.SupplierBillApproved{EventId: "e", OccurredAt: timestamppb.New(occurred), AggregateId: "supplierBills/B-1",
			SupplierBill: "supplierBills/B-1", Supplier: "suppliers/ACME", PurchaseOrder: "purchaseOrders/PO-1", CurrencyCode: "EUR",
			Lines: []*ordersv1.SupplierBillLine{{Item: "items/A", Warehouse: "warehouses/MAIN", Quantity: q, ReceivedValue: eur(300), BilledAmount: eur(301)}},
			Tax:   eur(60), Total: eur(361), EffectiveTime: timestamppb.New(effective)},
			ledger.BillApproved{DocumentHeader: ledger.DocumentHeader{ID: "B-1", Partner: "ACME", Order: "PO-1", Currency: "EUR", EffectiveAt: effective},
				Lines: []ledger.BillLine{{Item: "A", Warehouse: "MAIN", Received: 300, Billed: 301}}, Tax: 60, Total: 361}},
		{"bill without tax, time or name: the aggregate's id, when it occurred", &ordersv1.SupplierBillApproved{OccurredAt: timestamppb.New(occurred),
			AggregateId: "supplierBills/B-2", CurrencyCode: "EUR", Total: eur(0)},
			ledger.BillApproved{DocumentHeader: ledger.DocumentHeader{ID: "B-2", Currency: "EUR", EffectiveAt: occurred}}},
		{"invoice issued", &ordersv1.InvoiceIssued{Invoice: "invoices/I-1", Customer: "customers/BOB", SalesOrder: "salesOrders/SO-1", CurrencyCode: "EUR",
			Lines:    []*ordersv1.InvoiceLine{{Item: "items/A", Warehouse: "warehouses/MAIN", Quantity: q, NetAmount: eur(1000), TaxAmount: eur(190)}},
			NetTotal: eur(1000), TaxTotal: eur(190), Total: eur(1190), EffectiveTime: timestamppb.New(effective)},
			ledger.InvoiceIssued{DocumentHeader: ledger.DocumentHeader{ID: "I-1", Partner: "BOB", Order: "SO-1", Currency: "EUR", EffectiveAt: effective},
				Lines: []ledger.InvoiceLine{{Item: "A", Warehouse: "MAIN", Net: 1000, Tax: 190}}, Net: 1000, Tax: 190, Total: 1190}},
		{"payment received", &ordersv1.PaymentReceived{Payment: "payments/P-1", Customer: "customers/BOB", CurrencyCode: "EUR", Amount: eur(1190),
			Method: ordersv1.PaymentMethod_PAYMENT_METHOD_CARD, Applications: []*ordersv1.PaymentApplication{{Invoice: "invoices/I-1", Amount: eur(1190)}},
			EffectiveTime: timestamppb.New(effective)},
			ledger.PaymentReceived{DocumentHeader: ledger.DocumentHeader{ID: "P-1", Partner: "BOB", Currency: "EUR", EffectiveAt: effective},
				Method: "CARD", Amount: 1190, Applied: []ledger.PaymentApplication{{Invoice: "I-1", Amount: 1190}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, b := encode(t, tt.ev)
			d, err := Decode(typ, b)
			if err != nil {
				t.Fatal(err)
			}
			if d.Movements != nil || !reflect.DeepEqual(d.Document, tt.want) {
				t.Errorf("decoded %+v\nwant %+v", d.Document, tt.want)
			}
		})
	}
}

// TestDecodeOrdersRefusals: an amount in another currency, or a payload
// that is not the event, is an error (the app parks it); an orders event
// with nothing to post decodes to nothing; a type of neither inventory nor
// orders is an error.
func TestDecodeOrdersRefusals(t *testing.T) {
	typ, b := encode(t, &ordersv1.InvoiceIssued{Invoice: "invoices/I-1", CurrencyCode: "EUR", NetTotal: eur(1), TaxTotal: &typev1.Money{CurrencyCode: "USD", MinorUnits: 1}})
	if _, err := Decode(typ, b); err == nil || !strings.Contains(err.Error(), `tax_total is in "USD"`) {
		t.Errorf("mixed currencies: %v", err)
	}
	if _, err := Decode("trueup.orders.v1.PaymentReceived", []byte{0xff, 0x01}); err == nil {
		t.Error("garbled payment decoded")
	}
	typ, b = encode(t, &ordersv1.CustomerCreated{EventId: "c"})
	if d, err := Decode(typ, b); err != nil || d.Document != nil || d.Movements != nil {
		t.Errorf("customer created: %+v, %v; want nothing to post", d, err)
	}
	if _, err := Decode("trueup.fulfillment.v1.Shipped", nil); err == nil {
		t.Error("a fulfillment event decoded")
	}
}

// TestOrdersSubjects: the consumer's filter is the posting events' subjects,
// and a message without a type header is typed by its subject.
func TestOrdersSubjects(t *testing.T) {
	for _, m := range []proto.Message{&ordersv1.SupplierBillApproved{}, &ordersv1.InvoiceIssued{}, &ordersv1.PaymentReceived{}, &ordersv1.SupplierPaymentMade{}} {
		subject := protoevent.Subject(m)
		if !strings.HasPrefix(subject, "orders.v1.") || typeForSubject(subject) != string(m.ProtoReflect().Descriptor().FullName()) {
			t.Errorf("subject %s typed %q", subject, typeForSubject(subject))
		}
	}
	if len(OrdersSubjects) != 4 {
		t.Errorf("OrdersSubjects = %v", OrdersSubjects)
	}
}
