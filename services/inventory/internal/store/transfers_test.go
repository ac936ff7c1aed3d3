package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

var xferSrc = inventory.SourceDoc{Type: inventory.SourceTransfer, ID: "TO-1"}

// transferFixture adds a second warehouse W2 (bins B1, B2) and THIRDS, an
// item whose pack of 3 costs 1.00, so a unit costs exactly 1/3.
func transferFixture(t *testing.T, db *sqldb.DB) *app.Service {
	t.Helper()
	return transferFixtureOn(t, stockFixture(t, db))
}

// transferFixtureOn adds the transfer fixture to svc, set up by stockFixtureOn.
func transferFixtureOn(t *testing.T, svc *app.Service) *app.Service {
	t.Helper()
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.CreateWarehouse(ctx, "", inventory.Warehouse{Code: "W2", DisplayName: "Branch"}))
	must(svc.CreateLocation(ctx, "", "W2", inventory.Location{Code: "B1", Type: inventory.LocationStorage}))
	must(svc.CreateLocation(ctx, "", "W2", inventory.Location{Code: "B2", Type: inventory.LocationStorage}))
	must(svc.CreateItem(ctx, "", inventory.Item{SKU: "THIRDS", Description: "Sold in threes", BaseUoM: "EA", WholeUnitsOnly: true,
		Conversions: []inventory.UoMConversion{{UoM: "PK3", Factor: "3"}}}))
	return svc
}

func receiveThirds(t *testing.T, svc *app.Service, q string) *inventory.Movement {
	t.Helper()
	m, err := svc.ReceiveStock(context.Background(), app.Receive{RequestID: rid("rcv"), SKU: "THIRDS", Warehouse: "W1", Location: "A1",
		Quantity: app.Quantity{Value: q}, Cost: app.UnitCost{Currency: "USD", Amount: "1.00", UoM: "PK3"}, Source: poSrc})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func valuationIn(t *testing.T, svc *app.Service, warehouse, sku string) (string, int64) {
	t.Helper()
	lines, err := svc.Valuation(context.Background(), app.ValuationQuery{Warehouse: warehouse, SKU: sku})
	if err != nil {
		t.Fatal(err)
	}
	var q inventory.Qty
	var v int64
	for _, l := range lines {
		q += l.Qty
		v += l.Value
	}
	return q.String(), v
}

// 30,000 EA worth exactly 10,000.00 leave W1, are in transit with their
// layers' values and ages, and arrive in W2 worth exactly 10,000.00 (a
// re-keyed receipt at a six-decimal unit cost would give 9,999.99).
func TestTransferCarriesExactLayerValues(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := transferFixture(t, db)
		r1 := receiveThirds(t, svc, "10000") // 3,333.33
		r2 := receiveThirds(t, svc, "20000") // 6,666.67
		if r1.Value+r2.Value != 1_000_000 {
			t.Fatalf("receipts worth %d + %d", r1.Value, r2.Value)
		}
		cmd := app.Transfer{RequestID: rid("xfer"), SKU: "THIRDS", Warehouse: "W1", FromLocation: "A1", ToWarehouse: "W2",
			Quantity: app.Quantity{Value: "30000"}, Source: xferSrc}
		tr, err := svc.TransferStock(ctx, cmd)
		if err != nil {
			t.Fatal(err)
		}
		if tr.State != inventory.TransferInTransit || tr.Value != 1_000_000 || tr.Currency != "USD" || tr.Qty.String() != "30000" || len(tr.Layers) != 2 {
			t.Fatalf("transfer = %+v", tr)
		}
		for i, r := range []*inventory.Movement{r1, r2} {
			l := tr.Layers[i]
			if l.SourceLayerID != r.ID || l.Value != r.Value || l.Qty != r.BaseQty || !l.ReceivedAt.Equal(r.CreatedAt) {
				t.Fatalf("carried layer %d = %+v, want receipt %+v", i, l, r)
			}
		}
		// A retry answers exactly the first answer; another payload is refused.
		again, err := svc.TransferStock(ctx, cmd)
		if err != nil || !reflect.DeepEqual(again, tr) {
			t.Fatalf("retry = %+v, %v; want %+v", again, err, tr)
		}
		other := cmd
		other.Quantity.Value = "1"
		if _, err := svc.TransferStock(ctx, other); err == nil {
			t.Fatal("same request id, other payload: accepted")
		}
		// In transit: in neither warehouse's books, visible on the transfer.
		if q, v := valuationIn(t, svc, "W1", "THIRDS"); q != "0" || v != 0 {
			t.Fatalf("W1 in transit = %s, %d", q, v)
		}
		if q, v := valuationIn(t, svc, "W2", "THIRDS"); q != "0" || v != 0 {
			t.Fatalf("W2 in transit = %s, %d", q, v)
		}
		got, err := svc.GetTransfer(ctx, tr.ID)
		if err != nil || !reflect.DeepEqual(got, tr) {
			t.Fatalf("get = %+v, %v", got, err)
		}
		out, err := svc.GetMovement(ctx, tr.OutMovementID)
		if err != nil || out.Type != inventory.MoveTransferOut || out.Value != -1_000_000 || out.BaseQty.String() != "-30000" || len(out.Layers) != 2 || out.TransferID != tr.ID {
			t.Fatalf("out movement = %+v, %v", out, err)
		}

		// Arrival: the destination must be a location of W2.
		_, err = svc.ReceiveTransfer(ctx, app.ReceiveTransfer{RequestID: rid("rt"), TransferID: tr.ID, Warehouse: "W1", Location: "A2"})
		wantKind(t, err, apperr.KindInvalidArgument, "location")
		rc := app.ReceiveTransfer{RequestID: rid("rt"), TransferID: tr.ID, Warehouse: "W2", Location: "B1"}
		done, err := svc.ReceiveTransfer(ctx, rc)
		if err != nil {
			t.Fatal(err)
		}
		if done.State != inventory.TransferReceived || done.ToLocation != "B1" || len(done.InMovementIDs()) != 2 {
			t.Fatalf("received = %+v", done)
		}
		if again, err := svc.ReceiveTransfer(ctx, rc); err != nil || !reflect.DeepEqual(again, done) {
			t.Fatalf("retry = %+v, %v; want %+v", again, err, done)
		}
		_, err = svc.ReceiveTransfer(ctx, app.ReceiveTransfer{RequestID: rid("rt"), TransferID: tr.ID, Warehouse: "W2", Location: "B2"})
		if !errors.Is(err, inventory.ErrTransferReceived) {
			t.Fatalf("second receipt: %v", err)
		}
		for i, id := range done.InMovementIDs() {
			m, err := svc.GetMovement(ctx, id)
			if err != nil || m.Type != inventory.MoveTransferIn || m.Value != tr.Layers[i].Value || m.Warehouse != "W2" || m.TransferID != tr.ID {
				t.Fatalf("in movement %d = %+v, %v", i, m, err)
			}
		}
		if q, v := valuationIn(t, svc, "W2", "THIRDS"); q != "30000" || v != 1_000_000 {
			t.Fatalf("W2 after arrival = %s, %d; want 30000, 10,000.00", q, v)
		}
		// The layers arrived as they left: issuing 10,000 takes exactly the
		// first receipt's 3,333.33, and the rest is worth 6,666.67.
		iss, err := svc.IssueStock(ctx, app.Issue{RequestID: rid("iss"), SKU: "THIRDS", Warehouse: "W2", Location: "B1",
			Quantity: app.Quantity{Value: "10000"}, Source: shipSrc})
		if err != nil || iss.Value != -r1.Value {
			t.Fatalf("issue at W2 = %+v, %v; want %d", iss, err, -r1.Value)
		}
		if _, v := valuationIn(t, svc, "W2", "THIRDS"); v != r2.Value {
			t.Fatalf("W2 rest = %d, want %d", v, r2.Value)
		}

		// The events carry the value per layer.
		var payload []byte
		if err := db.QueryRowContext(ctx, `SELECT payload FROM outbox WHERE type = 'trueup.inventory.v1.StockTransferredOut'`).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var ev inventoryv1.StockTransferredOut
		if err := proto.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		if len(ev.GetMovement().GetLayers()) != 2 || ev.GetMovement().GetLayers()[1].GetValue().GetMinorUnits() != r2.Value ||
			ev.GetTransfer().GetValue().GetMinorUnits() != 1_000_000 || ev.GetTransfer().GetState() != inventoryv1.TransferState_TRANSFER_STATE_IN_TRANSIT {
			t.Fatalf("StockTransferredOut = %v", &ev)
		}
		if err := db.QueryRowContext(ctx, `SELECT payload FROM outbox WHERE type = 'trueup.inventory.v1.StockTransferReceived'`).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var in inventoryv1.StockTransferReceived
		if err := proto.Unmarshal(payload, &in); err != nil {
			t.Fatal(err)
		}
		if len(in.GetMovements()) != 2 || in.GetMovements()[0].GetValue().GetMinorUnits() != r1.Value || in.GetMovements()[1].GetValue().GetMinorUnits() != r2.Value {
			t.Fatalf("StockTransferReceived = %v", &in)
		}
	})
}

func TestTransferRules(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := transferFixture(t, db)
		receive(t, svc, "WIDGET", "A1", "10", "EA", "2.00", "", "")
		send := func(sku, to, q string, src inventory.SourceDoc) (*inventory.Transfer, error) {
			return svc.TransferStock(ctx, app.Transfer{RequestID: rid("xfer"), SKU: sku, Warehouse: "W1", FromLocation: "A1", ToWarehouse: to,
				Quantity: app.Quantity{Value: q}, Source: src})
		}
		_, err := svc.TransferStock(ctx, app.Transfer{SKU: "WIDGET", Warehouse: "W1", FromLocation: "A1", ToWarehouse: "W2", Quantity: app.Quantity{Value: "1"}, Source: xferSrc})
		wantKind(t, err, apperr.KindInvalidArgument, "request_id")
		_, err = send("WIDGET", "W1", "1", xferSrc)
		wantKind(t, err, apperr.KindInvalidArgument, "to_warehouse")
		_, err = send("WIDGET", "W2", "1", poSrc)
		wantKind(t, err, apperr.KindInvalidArgument, "source.type")
		_, err = send("WIDGET", "NOPE", "1", xferSrc)
		wantKind(t, err, apperr.KindNotFound, "")
		_, err = send("WIDGET", "W2", "11", xferSrc)
		if !errors.Is(err, inventory.ErrInsufficientStock) {
			t.Fatalf("more than on hand: %v", err)
		}
		// The destination values the item in EUR: a USD transfer is refused.
		if _, err := svc.ReceiveStock(ctx, app.Receive{RequestID: rid("rcv"), SKU: "WIDGET", Warehouse: "W2", Location: "B1",
			Quantity: app.Quantity{Value: "1"}, Cost: app.UnitCost{Currency: "EUR", Amount: "1.00"}, Source: poSrc}); err != nil {
			t.Fatal(err)
		}
		_, err = send("WIDGET", "W2", "4", xferSrc)
		if !errors.Is(err, inventory.ErrCurrencyMismatch) {
			t.Fatalf("currency: %v", err)
		}
		if q, v := valuation(t, svc, "WIDGET", time.Time{}); q != "10" || v != 2000 {
			t.Fatalf("W1 after refusals = %s, %d", q, v) // nothing left
		}

		// Moving average: the pool's value travels, and joins the pool there.
		receive(t, svc, "AVG", "A1", "10", "KG", "3.00", "", "")
		tr, err := send("AVG", "W2", "4", xferSrc)
		if err != nil || tr.Value != 1200 || len(tr.Layers) != 1 {
			t.Fatalf("average transfer = %+v, %v", tr, err)
		}
		if _, err := svc.ReceiveTransfer(ctx, app.ReceiveTransfer{RequestID: rid("rt"), TransferID: tr.ID, Warehouse: "W2", Location: "B1"}); err != nil {
			t.Fatal(err)
		}
		if q, v := valuationIn(t, svc, "W2", "AVG"); q != "4" || v != 1200 {
			t.Fatalf("W2 AVG = %s, %d", q, v)
		}
		if q, v := valuation(t, svc, "AVG", time.Time{}); q != "6" || v != 1800 {
			t.Fatalf("W1 AVG = %s, %d", q, v)
		}
		_, err = svc.ReceiveTransfer(ctx, app.ReceiveTransfer{RequestID: rid("rt"), TransferID: "nope", Warehouse: "W2", Location: "B1"})
		wantKind(t, err, apperr.KindNotFound, "")
	})
}

// A wrong receipt is reversed at exactly its layer, once (a moving-average
// receipt at exactly its share of the pool, while it is the pool's last
// change); a receipt already issued from and a reversal are refused.
func TestReverseMovementTakesExactlyTheReceiptLayer(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := transferFixture(t, db)
		keep := receiveThirds(t, svc, "10") // 3.33
		wrong := receiveThirds(t, svc, "20")
		used := receiveThirds(t, svc, "5")
		if _, err := issue(svc, "THIRDS", "A1", "12", "", ""); err != nil { // all of keep, 2 of wrong
			t.Fatal(err)
		}
		// wrong lost 2 to the issue: refused, naming how much.
		_, err := svc.ReverseMovement(ctx, app.Reverse{RequestID: rid("rev"), MovementID: wrong.ID})
		e := wantKind(t, err, apperr.KindFailedPrecondition, "")
		if !errors.Is(err, inventory.ErrReceiptConsumed) || e.Metadata["issued"] != "2" {
			t.Fatalf("reverse of an issued receipt: %v %+v", err, e.Metadata)
		}
		_ = keep
		cmd := app.Reverse{RequestID: rid("rev"), MovementID: used.ID}
		rev, err := svc.ReverseMovement(ctx, cmd)
		if err != nil {
			t.Fatal(err)
		}
		if rev.Type != inventory.MoveReversal || rev.Reverses != used.ID || rev.Value != -used.Value || rev.BaseQty != -used.BaseQty ||
			len(rev.Layers) != 1 || rev.Layers[0].LayerID != used.ID || rev.FromLocation != "A1" || rev.Source != used.Source {
			t.Fatalf("reversal = %+v (of %+v)", rev, used)
		}
		if again, err := svc.ReverseMovement(ctx, cmd); err != nil || !reflect.DeepEqual(again, rev) {
			t.Fatalf("retry = %+v, %v; want %+v", again, err, rev)
		}
		orig, err := svc.GetMovement(ctx, used.ID)
		if err != nil || !reflect.DeepEqual(orig, used) {
			t.Fatalf("original changed: %+v, %v; was %+v", orig, err, used)
		}
		_, err = svc.ReverseMovement(ctx, app.Reverse{RequestID: rid("rev"), MovementID: used.ID})
		if !errors.Is(err, inventory.ErrAlreadyReversed) {
			t.Fatalf("second reversal: %v", err)
		}
		_, err = svc.ReverseMovement(ctx, app.Reverse{RequestID: rid("rev"), MovementID: rev.ID})
		if !errors.Is(err, inventory.ErrNotReversible) {
			t.Fatalf("reversal of a reversal: %v", err)
		}
		// Book value: keep is gone, 18 of wrong remain, used is reversed.
		wantQ, wantV := "18", wrong.Value-inventory.Cumulative(wrong.Value, 2*1_000_000, wrong.BaseQty)
		if q, v := valuation(t, svc, "THIRDS", time.Time{}); q != wantQ || v != wantV {
			t.Fatalf("valuation = %s, %d; want %s, %d", q, v, wantQ, wantV)
		}
		// The next issue takes wrong's layer, not the reversed one.
		if iss, err := issue(svc, "THIRDS", "A1", "18", "", ""); err != nil || iss.Value != -wantV {
			t.Fatalf("issue after reversal = %+v, %v", iss, err)
		}
		// Moving average: the pool's last receipt comes back out exactly,
		// leaving the pool (and its average) as before it.
		avg := receive(t, svc, "AVG", "A1", "1", "KG", "3.00", "", "")
		wrongAvg := receive(t, svc, "AVG", "A1", "2", "KG", "5.00", "", "")
		revAvg, err := svc.ReverseMovement(ctx, app.Reverse{RequestID: rid("rev"), MovementID: wrongAvg.ID})
		if err != nil || revAvg.Value != -wrongAvg.Value || revAvg.BaseQty != -wrongAvg.BaseQty || len(revAvg.Layers) != 1 || revAvg.Currency != "USD" {
			t.Fatalf("moving-average reversal = %+v, %v", revAvg, err)
		}
		if q, v := valuation(t, svc, "AVG", time.Time{}); q != "1" || v != 300 {
			t.Fatalf("pool after the reversal = %s, %d; want 1, 300", q, v)
		}
		// An earlier receipt of the pool is not its last change: refused.
		_, err = svc.ReverseMovement(ctx, app.Reverse{RequestID: rid("rev"), MovementID: avg.ID})
		if !errors.Is(err, inventory.ErrReceiptConsumed) {
			t.Fatalf("reversal of a receipt the pool moved on from: %v", err)
		}
		if iss, err := issue(svc, "AVG", "A1", "1", "", ""); err != nil || iss.Value != -300 {
			t.Fatalf("issue at the restored average = %+v, %v", iss, err)
		}
		_, err = svc.ReverseMovement(ctx, app.Reverse{MovementID: avg.ID})
		wantKind(t, err, apperr.KindInvalidArgument, "request_id")
		var payload []byte
		if err := db.QueryRowContext(ctx, `SELECT payload FROM outbox WHERE type = 'trueup.inventory.v1.StockReversed' ORDER BY seq LIMIT 1`).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		var ev inventoryv1.StockReversed
		if err := proto.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.GetMovement().GetValue().GetMinorUnits() != -used.Value || ev.GetMovement().GetReversedMovement() != "movements/"+used.ID {
			t.Fatalf("StockReversed = %v", &ev)
		}
	})
}

// A customer return comes back at the cost of its issue, pro-rata per unit
// by the cumulative rule, never beyond what the issue took.
func TestReturnIsValuedAtItsIssuesCost(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := transferFixture(t, db)
		receiveThirds(t, svc, "3") // 1.00
		if _, err := svc.ReceiveStock(ctx, app.Receive{RequestID: rid("rcv"), SKU: "THIRDS", Warehouse: "W1", Location: "A1",
			Quantity: app.Quantity{Value: "3"}, Cost: app.UnitCost{Currency: "USD", Amount: "6.00", UoM: "PK3"}, Source: poSrc}); err != nil {
			t.Fatal(err)
		}
		iss, err := issue(svc, "THIRDS", "A1", "3", "", "")
		if err != nil || iss.Value != -100 {
			t.Fatalf("issue = %+v, %v", iss, err)
		}
		rma := inventory.SourceDoc{Type: inventory.SourceReturn, ID: "RMA-1"}
		ret := func(id, q string) (*inventory.Movement, error) {
			return svc.ReturnStock(ctx, app.Return{RequestID: id, IssueID: iss.ID, Warehouse: "W1", Location: "A2", Quantity: app.Quantity{Value: q}, Source: rma})
		}
		_, err = svc.ReturnStock(ctx, app.Return{RequestID: rid("ret"), IssueID: iss.ID, Warehouse: "W1", Location: "A2", Quantity: app.Quantity{Value: "1"}, Source: poSrc})
		wantKind(t, err, apperr.KindInvalidArgument, "source.type")
		first := rid("ret")
		r1, err := ret(first, "1")
		if err != nil || r1.Type != inventory.MoveReturn || r1.Value != 33 || r1.Returns != iss.ID || r1.Currency != "USD" || r1.ToLocation != "A2" {
			t.Fatalf("first return = %+v, %v; want 0.33 (not the current 2.00)", r1, err)
		}
		if again, err := ret(first, "1"); err != nil || !reflect.DeepEqual(again, r1) {
			t.Fatalf("retry = %+v, %v; want %+v", again, err, r1)
		}
		if _, err := ret(first, "2"); err == nil {
			t.Fatal("same request id, other payload: accepted")
		}
		if r2, err := ret(rid("ret"), "1"); err != nil || r2.Value != 34 {
			t.Fatalf("second return = %+v, %v; want 0.34", r2, err)
		}
		_, err = ret(rid("ret"), "2")
		e := wantKind(t, err, apperr.KindFailedPrecondition, "")
		if !errors.Is(err, inventory.ErrReturnExceedsIssue) || e.Metadata["returnable"] != "1" {
			t.Fatalf("return beyond the issue: %v %+v", err, e.Metadata)
		}
		if r3, err := ret(rid("ret"), "1"); err != nil || r3.Value != 33 {
			t.Fatalf("last return = %+v, %v; want 0.33, the residue", r3, err)
		}
		if _, err := ret(rid("ret"), "1"); !errors.Is(err, inventory.ErrReturnExceedsIssue) {
			t.Fatalf("return after all came back: %v", err)
		}
		// The book holds the returned 1.00 and the 6.00 receipt.
		if q, v := valuation(t, svc, "THIRDS", time.Time{}); q != "6" || v != 700 {
			t.Fatalf("valuation = %s, %d; want 6, 7.00", q, v)
		}
		_, err = svc.ReturnStock(ctx, app.Return{RequestID: rid("ret"), IssueID: r1.ID, Warehouse: "W1", Location: "A2", Quantity: app.Quantity{Value: "1"}, Source: rma})
		if !errors.Is(err, inventory.ErrNotReturnable) {
			t.Fatalf("return against a return: %v", err)
		}
		types := outboxTypes(t, db)
		n := 0
		for _, ty := range types {
			if ty == "trueup.inventory.v1.StockReturned" {
				n++
			}
		}
		if n != 3 {
			t.Fatalf("StockReturned events = %d, want 3: %v", n, types)
		}
	})
}

// A return of an issue of negative FIFO stock comes back at the issue's
// corrected cost: receive 2 @ 10.00, issue 5 (3 of them ahead, provisionally
// at 10.00), receive 3 @ 12.00 (a correction of -6.00 naming the issue):
// the issue finally cost 56.00, and returning all of it takes back 56.00,
// leaving the book exactly as the receipts less nothing.
func TestReturnOfACorrectedIssueIsAtItsCorrectedCost(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := stockFixture(t, db)
		createItems(t, svc, inventory.Item{SKU: "NEG", Description: "Negative", BaseUoM: "EA", WholeUnitsOnly: true, AllowNegative: true})
		okm(t)(receiveIn(svc, "NEG", "", "2", "USD", "10.00"))
		iss := okm(t)(issue(svc, "NEG", "A1", "5", "EA", ""))
		if iss.Value != -5000 {
			t.Fatalf("issue valued %d, want -5000", iss.Value)
		}
		okm(t)(receiveIn(svc, "NEG", "", "3", "USD", "12.00"))
		fixes, err := svc.ListMovements(ctx, app.MovementFilter{SKU: "NEG"}, paging.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var fix *inventory.Movement
		for _, m := range fixes {
			if m.Type == inventory.MoveCostCorrection {
				fix = m
			}
		}
		if fix == nil || fix.Value != -600 || len(fix.Corrects) != 1 || fix.Corrects[0] != iss.ID {
			t.Fatalf("correction = %+v, want -600 naming %s", fix, iss.ID)
		}
		rma := inventory.SourceDoc{Type: inventory.SourceReturn, ID: "RMA-9"}
		ret := func(q string) *inventory.Movement {
			t.Helper()
			m, err := svc.ReturnStock(ctx, app.Return{RequestID: rid("ret"), IssueID: iss.ID, Warehouse: "W1", Location: "A1",
				Quantity: app.Quantity{Value: q}, Source: rma})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		r1, r2 := ret("2"), ret("3")
		if r1.Value+r2.Value != 5600 || r1.Value != 2240 {
			t.Fatalf("returns = %d + %d, want 22.40 + 33.60 = 56.00 (not the provisional 50.00)", r1.Value, r2.Value)
		}
		// Everything received is back: 5 units worth 20.00 + 36.00.
		if q, v := valuation(t, svc, "NEG", time.Time{}); q != "5" || v != 5600 {
			t.Fatalf("valuation = %s, %d; want 5, 5600", q, v)
		}
	})
}
