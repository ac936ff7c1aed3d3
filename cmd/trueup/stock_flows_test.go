package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
)

// The stock flows of a warehouse lead's scanner over gRPC: every stock RPC at
// least once, each checked for its essential effect, on the dev stack.
func TestStockFlowsOverGRPC(t *testing.T) {
	_, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	inv := inventoryv1.NewInventoryServiceClient(conn)
	const (
		item = "items/WIDGET-100"
		main = "warehouses/MAIN"
		a1   = "warehouses/MAIN/locations/A-01-01"
		a2   = "warehouses/MAIN/locations/A-01-02"
		rcv  = "warehouses/MAIN/locations/RCV-01"
		stg  = "warehouses/MAIN/locations/STG-01"
	)
	ea := func(v string) *typev1.Quantity { return &typev1.Quantity{Value: v, Uom: "EA"} }
	doc := func(typ inventoryv1.SourceDocumentType, id string) *inventoryv1.SourceDocument {
		return &inventoryv1.SourceDocument{Type: typ, Id: id, Line: "1"}
	}
	onHand := func(loc string) (onHand, allocated string) {
		t.Helper()
		resp, err := inv.ListStock(ctx, &inventoryv1.ListStockRequest{Warehouse: main, Item: item, Location: loc, IncludeZero: true})
		if err != nil {
			t.Fatalf("ListStock %s: %v", loc, err)
		}
		for _, l := range resp.GetLevels() {
			if l.GetLocation() == loc {
				return l.GetOnHand(), l.GetAllocated()
			}
		}
		return "0", "0"
	}
	wantLevel := func(step, loc, wantOnHand, wantAllocated string) {
		t.Helper()
		if oh, al := onHand(loc); oh != wantOnHand || al != wantAllocated {
			t.Fatalf("%s: %s on hand %s allocated %s, want %s / %s", step, loc, oh, al, wantOnHand, wantAllocated)
		}
	}
	// The journal position before the flow: the ledger follows from here.
	start, err := inv.ListMovements(ctx, &inventoryv1.ListMovementsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	startSeq := start.GetCompleteThroughSeq()
	if startSeq <= 0 || len(start.GetMovements()) != 2 {
		t.Fatalf("seeded journal: %d movements through seq %d", len(start.GetMovements()), startSeq)
	}
	var flow []string // movement names the flow wrote, in order

	// Reason codes: master data with a category.
	for _, rc := range []*inventoryv1.ReasonCode{
		{Code: "FLOW_SCRAP", Description: "Scrapped on the floor", Category: inventoryv1.ReasonCategory_REASON_CATEGORY_SCRAP, Active: true},
		{Code: "FLOW_FOUND", Description: "Found in a bin", Category: inventoryv1.ReasonCategory_REASON_CATEGORY_FOUND, Active: true},
		{Code: "FLOW_COUNT", Description: "Cycle count difference", Category: inventoryv1.ReasonCategory_REASON_CATEGORY_COUNT_DIFFERENCE, Active: true},
	} {
		got, err := inv.CreateReasonCode(ctx, &inventoryv1.CreateReasonCodeRequest{RequestId: "rc-" + rc.Code, ReasonCode: rc})
		if err != nil || got.GetName() != "reasonCodes/"+rc.Code || got.GetCategory() != rc.GetCategory() {
			t.Fatalf("CreateReasonCode %s = %v, %v", rc.Code, got, err)
		}
	}
	if _, err := inv.CreateReasonCode(ctx, &inventoryv1.CreateReasonCodeRequest{ReasonCode: &inventoryv1.ReasonCode{
		Code: "FLOW_SCRAP", Description: "again", Category: inventoryv1.ReasonCategory_REASON_CATEGORY_SCRAP, Active: true}}); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("duplicate reason code: %v, want AlreadyExists", err)
	}
	if rc, err := inv.GetReasonCode(ctx, &inventoryv1.GetReasonCodeRequest{Name: "reasonCodes/FLOW_SCRAP"}); err != nil ||
		rc.GetCategory() != inventoryv1.ReasonCategory_REASON_CATEGORY_SCRAP || !rc.GetActive() || rc.GetDescription() != "Scrapped on the floor" {
		t.Fatalf("GetReasonCode = %v, %v", rc, err)
	}
	if _, err := inv.GetReasonCode(ctx, &inventoryv1.GetReasonCodeRequest{Name: "reasonCodes/NOPE"}); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown reason code: %v, want NotFound", err)
	}
	rcs, err := inv.ListReasonCodes(ctx, &inventoryv1.ListReasonCodesRequest{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	prev := ""
	for _, rc := range rcs.GetReasonCodes() {
		if rc.GetCode() < prev {
			t.Fatalf("reason codes out of order: %q after %q", rc.GetCode(), prev)
		}
		prev = rc.GetCode()
		listed[rc.GetCode()] = true
	}
	if !listed["FLOW_SCRAP"] || !listed["FLOW_FOUND"] || !listed["FLOW_COUNT"] {
		t.Fatalf("ListReasonCodes = %v", rcs)
	}

	// Receive 24 EA at 2.00 on the dock, then put it away.
	rec, err := inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: "f-rcv-1", Item: item, Location: rcv, Quantity: ea("24"),
		UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "2.00"}, Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, "PO-100")})
	if err != nil || rec.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_RECEIPT || rec.GetBaseQuantity() != "24" ||
		rec.GetValue().GetMinorUnits() != 4800 || rec.GetSeq() <= startSeq || rec.GetToLocation() != rcv || rec.GetUnitCost().GetAmount() != "2.00" {
		t.Fatalf("ReceiveStock = %v, %v", rec, err)
	}
	flow = append(flow, rec.GetName())
	wantLevel("receive", rcv, "24", "0")
	mv, err := inv.MoveStock(ctx, &inventoryv1.MoveStockRequest{RequestId: "f-move-1", Item: item, FromLocation: rcv, ToLocation: a2, Quantity: ea("24"),
		Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_TRANSFER, "PUT-1")})
	if err != nil || mv.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_MOVE || mv.GetBaseQuantity() != "24" || mv.GetValue().GetMinorUnits() != 0 ||
		mv.GetFromLocation() != rcv || mv.GetToLocation() != a2 {
		t.Fatalf("MoveStock = %v, %v", mv, err)
	}
	flow = append(flow, mv.GetName())
	wantLevel("putaway", rcv, "0", "0")
	wantLevel("putaway", a2, "24", "0")

	// Scrap 2 EA of the oldest layer (1.50 each) with a reason; without one it is refused.
	if _, err := inv.IssueStock(ctx, &inventoryv1.IssueStockRequest{RequestId: "f-scrap-0", Item: item, Location: a1, Quantity: ea("2"),
		Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_ADJUSTMENT, "SCRAP-1")}); status.Code(err) != codes.InvalidArgument ||
		!hasFieldViolation(status.Convert(err), "reason_code") {
		t.Fatalf("scrap without a reason: %v", err)
	}
	scrap, err := inv.IssueStock(ctx, &inventoryv1.IssueStockRequest{RequestId: "f-scrap-1", Item: item, Location: a1, Quantity: ea("2"),
		Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_ADJUSTMENT, "SCRAP-1"), ReasonCode: "FLOW_SCRAP"})
	if err != nil || scrap.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE || scrap.GetBaseQuantity() != "-2" || scrap.GetValue().GetMinorUnits() != -300 ||
		scrap.GetReasonCode() != "FLOW_SCRAP" || scrap.GetReasonCategory() != inventoryv1.ReasonCategory_REASON_CATEGORY_SCRAP || len(scrap.GetLayers()) != 1 {
		t.Fatalf("scrap = %v, %v", scrap, err)
	}
	flow = append(flow, scrap.GetName())
	wantLevel("scrap", a1, "118", "0")

	// Found 1 EA; then a count of 110 books the difference of the 119.
	adj, err := inv.AdjustStock(ctx, &inventoryv1.AdjustStockRequest{RequestId: "f-adj-1", Item: item, Location: a1, Quantity: ea("1"), ReasonCode: "FLOW_FOUND",
		Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_ADJUSTMENT, "ADJ-1")})
	if err != nil || adj.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_ADJUSTMENT || adj.GetBaseQuantity() != "1" || adj.GetValue().GetMinorUnits() <= 0 ||
		adj.GetReasonCategory() != inventoryv1.ReasonCategory_REASON_CATEGORY_FOUND {
		t.Fatalf("AdjustStock = %v, %v", adj, err)
	}
	flow = append(flow, adj.GetName())
	wantLevel("adjust", a1, "119", "0")
	cnt, err := inv.CountStock(ctx, &inventoryv1.CountStockRequest{RequestId: "f-count-1", Item: item, Location: a1, CountedQuantity: ea("110"), ReasonCode: "FLOW_COUNT",
		Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_COUNT, "CC-1")})
	if err != nil || cnt.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_COUNT || cnt.GetBaseQuantity() != "-9" || cnt.GetCountedQuantity() != "110" ||
		cnt.GetValue().GetMinorUnits() != -1350 {
		t.Fatalf("CountStock = %v, %v", cnt, err)
	}
	flow = append(flow, cnt.GetName())
	wantLevel("count", a1, "110", "0")

	// Allocate 30 EA for order OO-1 (first in, first out: A-01-01), list it by order.
	order1 := doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_OUTBOUND_ORDER, "OO-1")
	al, err := inv.AllocateStock(ctx, &inventoryv1.AllocateStockRequest{RequestId: "f-alloc-1", Item: item, Warehouse: main, Quantity: ea("30"), Order: order1})
	if err != nil || al.GetAllocated() != "30" || al.GetShortfall() != "0" || al.GetState() != inventoryv1.AllocationState_ALLOCATION_STATE_ACTIVE ||
		len(al.GetLines()) != 1 || al.GetLines()[0].GetLocation() != a1 || al.GetLines()[0].GetQuantity() != "30" {
		t.Fatalf("AllocateStock = %v, %v", al, err)
	}
	wantLevel("allocate", a1, "110", "30")
	if _, err := inv.AllocateStock(ctx, &inventoryv1.AllocateStockRequest{RequestId: "f-alloc-x", Item: item, Warehouse: main, Quantity: ea("30")}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("allocation without an order: %v, want InvalidArgument", err)
	}
	byOrder, err := inv.ListAllocations(ctx, &inventoryv1.ListAllocationsRequest{Order: order1})
	if err != nil || len(byOrder.GetAllocations()) != 1 || byOrder.GetAllocations()[0].GetName() != al.GetName() {
		t.Fatalf("ListAllocations(OO-1) = %v, %v", byOrder, err)
	}

	// Short pick: 25 of 30 into staging, releasing the other 5.
	pick, err := inv.ConfirmPick(ctx, &inventoryv1.ConfirmPickRequest{Allocation: al.GetName(), RequestId: "f-pick-1", Location: a1, Quantity: ea("25"),
		ToLocation: stg, ReleaseRemaining: true, Source: order1})
	if err != nil || pick.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_MOVE || pick.GetBaseQuantity() != "25" || pick.GetValue().GetMinorUnits() != 0 ||
		pick.GetAllocation() != al.GetName() || pick.GetToLocation() != stg {
		t.Fatalf("ConfirmPick = %v, %v", pick, err)
	}
	flow = append(flow, pick.GetName())
	got, err := inv.GetAllocation(ctx, &inventoryv1.GetAllocationRequest{Name: al.GetName()})
	if err != nil || got.GetState() != inventoryv1.AllocationState_ALLOCATION_STATE_PICKED || got.GetAllocated() != "25" ||
		len(got.GetStaged()) != 1 || got.GetStaged()[0].GetLocation() != stg || got.GetStaged()[0].GetQuantity() != "25" || got.GetStaged()[0].GetPickedFrom() != a1 {
		t.Fatalf("allocation after short pick = %v, %v", got, err)
	}
	wantLevel("pick", a1, "85", "0")
	wantLevel("pick", stg, "25", "25")

	// Ship it: it leaves the books at its cost (25 x 1.50).
	shipDoc := doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_SHIPMENT, "SH-100")
	shipped, err := inv.ConfirmShipment(ctx, &inventoryv1.ConfirmShipmentRequest{RequestId: "f-ship-1", Allocation: al.GetName(), Source: shipDoc})
	if err != nil || len(shipped.GetMovements()) != 1 {
		t.Fatalf("ConfirmShipment = %v, %v", shipped, err)
	}
	issue := shipped.GetMovements()[0]
	if issue.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_ISSUE || issue.GetBaseQuantity() != "-25" || issue.GetValue().GetMinorUnits() != -3750 ||
		issue.GetFromLocation() != stg || issue.GetAllocation() != al.GetName() {
		t.Fatalf("shipment issue = %v", issue)
	}
	flow = append(flow, issue.GetName())
	if got, err := inv.GetAllocation(ctx, &inventoryv1.GetAllocationRequest{Name: al.GetName()}); err != nil || got.GetState() != inventoryv1.AllocationState_ALLOCATION_STATE_SHIPPED {
		t.Fatalf("allocation after shipment = %v, %v", got, err)
	}
	wantLevel("ship", stg, "0", "0")

	// The customer returns 5 of them: valued at the issue's cost, not today's.
	ret, err := inv.ReturnStock(ctx, &inventoryv1.ReturnStockRequest{RequestId: "f-ret-1", Issue: issue.GetName(), Location: a1, Quantity: ea("5"),
		Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_RETURN, "RMA-1")})
	if err != nil || ret.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_RETURN || ret.GetBaseQuantity() != "5" || ret.GetValue().GetMinorUnits() != 750 ||
		ret.GetReturnedMovement() != issue.GetName() || ret.GetToLocation() != a1 {
		t.Fatalf("ReturnStock = %v, %v", ret, err)
	}
	flow = append(flow, ret.GetName())
	if _, err := inv.ReturnStock(ctx, &inventoryv1.ReturnStockRequest{RequestId: "f-ret-2", Issue: issue.GetName(), Location: a1, Quantity: ea("21"),
		Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_RETURN, "RMA-2")}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("return beyond the issue: %v, want FailedPrecondition", err)
	}
	wantLevel("return", a1, "90", "0")

	// An order cancelled before pick, and one cancelled after pick: release gives the stock back.
	order2 := doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_OUTBOUND_ORDER, "OO-2")
	al2, err := inv.AllocateStock(ctx, &inventoryv1.AllocateStockRequest{RequestId: "f-alloc-2", Item: item, Warehouse: main, Quantity: ea("10"), Order: order2})
	if err != nil {
		t.Fatal(err)
	}
	wantLevel("allocate 2", a1, "90", "10")
	rel, err := inv.ReleaseAllocation(ctx, &inventoryv1.ReleaseAllocationRequest{Name: al2.GetName(), RequestId: "f-rel-2"})
	if err != nil || rel.GetState() != inventoryv1.AllocationState_ALLOCATION_STATE_RELEASED || rel.GetAllocated() != "0" {
		t.Fatalf("ReleaseAllocation = %v, %v", rel, err)
	}
	wantLevel("release", a1, "90", "0")
	order3 := doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_OUTBOUND_ORDER, "OO-3")
	al3, err := inv.AllocateStock(ctx, &inventoryv1.AllocateStockRequest{RequestId: "f-alloc-3", Item: item, Warehouse: main, Quantity: ea("4"), Order: order3})
	if err != nil {
		t.Fatal(err)
	}
	pick3, err := inv.ConfirmPick(ctx, &inventoryv1.ConfirmPickRequest{Allocation: al3.GetName(), RequestId: "f-pick-3", Location: a1, Quantity: ea("4"), ToLocation: stg, Source: order3})
	if err != nil {
		t.Fatal(err)
	}
	flow = append(flow, pick3.GetName())
	wantLevel("pick 3", stg, "4", "4")
	rel3, err := inv.ReleaseAllocation(ctx, &inventoryv1.ReleaseAllocationRequest{Name: al3.GetName(), RequestId: "f-rel-3"})
	if err != nil || rel3.GetState() != inventoryv1.AllocationState_ALLOCATION_STATE_RELEASED || len(rel3.GetStaged()) != 1 || rel3.GetStaged()[0].GetReturned() != "4" {
		t.Fatalf("release after pick = %v, %v", rel3, err)
	}
	wantLevel("release after pick", stg, "0", "0")
	wantLevel("release after pick", a1, "90", "0")

	// A wrong receipt is reversed at exactly its layer's value, once.
	wrong, err := inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: "f-rcv-wrong", Item: item, Location: a2, Quantity: ea("7"),
		UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "3.00"}, Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, "PO-WRONG")})
	if err != nil {
		t.Fatal(err)
	}
	flow = append(flow, wrong.GetName())
	revSrc := doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_RECEIPT, "REV-1")
	rev, err := inv.ReverseMovement(ctx, &inventoryv1.ReverseMovementRequest{RequestId: "f-rev-1", Name: wrong.GetName(), Source: revSrc})
	if err != nil || rev.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_REVERSAL || rev.GetBaseQuantity() != "-7" || rev.GetValue().GetMinorUnits() != -2100 ||
		rev.GetReversedMovement() != wrong.GetName() {
		t.Fatalf("ReverseMovement = %v, %v", rev, err)
	}
	flow = append(flow, rev.GetName())
	if _, err := inv.ReverseMovement(ctx, &inventoryv1.ReverseMovementRequest{RequestId: "f-rev-2", Name: wrong.GetName(), Source: revSrc}); status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("second reversal: %v, want FailedPrecondition", err)
	}
	wantLevel("reverse", a2, "24", "0")

	// A transfer to a second warehouse, created with its bins through the API.
	if _, err := inv.CreateWarehouse(ctx, &inventoryv1.CreateWarehouseRequest{RequestId: "f-wh-east",
		Warehouse: &inventoryv1.Warehouse{Code: "EAST", DisplayName: "East depot", TimeZone: "America/New_York"}}); err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"RCV-01", "A-01-01"} {
		if _, err := inv.CreateLocation(ctx, &inventoryv1.CreateLocationRequest{RequestId: "f-loc-east-" + code, Parent: "warehouses/EAST",
			Location: &inventoryv1.Location{Code: code, Type: inventoryv1.LocationType_LOCATION_TYPE_STORAGE}}); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := inv.TransferStock(ctx, &inventoryv1.TransferStockRequest{RequestId: "f-tr-1", Item: item, FromLocation: a2, ToWarehouse: "warehouses/EAST", Quantity: ea("12"),
		Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_TRANSFER, "TO-1")})
	if err != nil || tr.GetState() != inventoryv1.TransferState_TRANSFER_STATE_IN_TRANSIT || tr.GetBaseQuantity() != "12" || tr.GetValue().GetMinorUnits() != 1800 ||
		len(tr.GetLayers()) != 1 || tr.GetOutMovement() == "" || tr.GetFromLocation() != a2 {
		t.Fatalf("TransferStock = %v, %v", tr, err)
	}
	flow = append(flow, tr.GetOutMovement())
	wantLevel("transfer out", a2, "12", "0")
	if g, err := inv.GetTransfer(ctx, &inventoryv1.GetTransferRequest{Name: tr.GetName()}); err != nil || g.GetState() != inventoryv1.TransferState_TRANSFER_STATE_IN_TRANSIT ||
		g.GetValue().GetMinorUnits() != 1800 || g.GetOutMovement() != tr.GetOutMovement() {
		t.Fatalf("GetTransfer in transit = %v, %v", g, err)
	}
	if v, err := inv.GetValuation(ctx, &inventoryv1.GetValuationRequest{Warehouse: "warehouses/EAST", Item: item}); err != nil || len(v.GetLines()) != 0 && v.GetLines()[0].GetQuantity() != "0" {
		t.Fatalf("EAST valuation while in transit = %v, %v", v, err)
	}
	trIn, err := inv.ReceiveTransfer(ctx, &inventoryv1.ReceiveTransferRequest{RequestId: "f-trin-1", Name: tr.GetName(), Location: "warehouses/EAST/locations/RCV-01"})
	if err != nil || trIn.GetState() != inventoryv1.TransferState_TRANSFER_STATE_RECEIVED || len(trIn.GetInMovements()) != 1 ||
		trIn.GetToLocation() != "warehouses/EAST/locations/RCV-01" {
		t.Fatalf("ReceiveTransfer = %v, %v", trIn, err)
	}
	ev, err := inv.GetValuation(ctx, &inventoryv1.GetValuationRequest{Warehouse: "warehouses/EAST", Item: item})
	if err != nil || len(ev.GetLines()) != 1 || ev.GetLines()[0].GetQuantity() != "12" || ev.GetLines()[0].GetValue().GetMinorUnits() != 1800 {
		t.Fatalf("EAST valuation after receipt = %v, %v", ev, err)
	}

	// Follow the journal from before the flow, three at a time: every movement
	// of the flow, in seq order, and a token that picks up later commits.
	var seen []*inventoryv1.Movement
	token := ""
	for page := 0; ; page++ {
		if page > 50 {
			t.Fatal("ListMovements never ran out")
		}
		resp, err := inv.ListMovements(ctx, &inventoryv1.ListMovementsRequest{StartAfterSeq: startSeq, PageSize: 3, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, resp.GetMovements()...)
		if resp.GetNextPageToken() == "" {
			t.Fatalf("page %d: no next_page_token to follow the journal from", page)
		}
		token = resp.GetNextPageToken()
		if len(resp.GetMovements()) == 0 {
			break
		}
	}
	names := map[string]bool{}
	for i, m := range seen {
		if m.GetSeq() <= startSeq || i > 0 && m.GetSeq() <= seen[i-1].GetSeq() {
			t.Fatalf("journal seq out of order at %d: %d after %d (start %d)", i, m.GetSeq(), seen[max(i-1, 0)].GetSeq(), startSeq)
		}
		names[m.GetName()] = true
	}
	for _, n := range append(flow, trIn.GetInMovements()...) {
		if !names[n] {
			t.Fatalf("movement %s missing from the journal after seq %d", n, startSeq)
		}
	}
	late, err := inv.AdjustStock(ctx, &inventoryv1.AdjustStockRequest{RequestId: "f-adj-late", Item: item, Location: a1, Quantity: ea("-1"), ReasonCode: "FLOW_SCRAP",
		Source: doc(inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_ADJUSTMENT, "ADJ-2")})
	if err != nil {
		t.Fatal(err)
	}
	next, err := inv.ListMovements(ctx, &inventoryv1.ListMovementsRequest{PageSize: 3, PageToken: token})
	if err != nil || len(next.GetMovements()) != 1 || next.GetMovements()[0].GetName() != late.GetName() {
		t.Fatalf("ListMovements from the last token after a new movement = %v, %v", next, err)
	}

	// Valuation now reconciles with the journal at the watermark it reports.
	val, err := inv.GetValuation(ctx, &inventoryv1.GetValuationRequest{Warehouse: main, Item: item})
	if err != nil || len(val.GetLines()) != 1 {
		t.Fatalf("GetValuation = %v, %v", val, err)
	}
	if val.GetCompleteThroughSeq() < late.GetSeq() {
		t.Fatalf("valuation complete through %d, before the last movement %d", val.GetCompleteThroughSeq(), late.GetSeq())
	}
	all, err := inv.ListMovements(ctx, &inventoryv1.ListMovementsRequest{Item: item, Warehouse: main, PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var qty, value int64
	for _, m := range all.GetMovements() {
		if m.GetSeq() > val.GetCompleteThroughSeq() || m.GetType() == inventoryv1.MovementType_MOVEMENT_TYPE_MOVE {
			continue
		}
		q, err := strconv.ParseInt(m.GetBaseQuantity(), 10, 64)
		if err != nil {
			t.Fatalf("movement %s base quantity %q", m.GetName(), m.GetBaseQuantity())
		}
		qty += q
		value += m.GetValue().GetMinorUnits()
	}
	line := val.GetLines()[0]
	// 120 + 24 - 2 + 1 - 9 - 25 + 5 - 12 (transferred) - 1 = 101 EA; the value is
	// what the journal says up to the watermark.
	if line.GetQuantity() != "101" || line.GetQuantity() != strconv.FormatInt(qty, 10) || line.GetValue().GetMinorUnits() != value {
		t.Fatalf("valuation %s / %d, journal sums to %d / %d", line.GetQuantity(), line.GetValue().GetMinorUnits(), qty, value)
	}
	if len(val.GetTotals()) != 1 || val.GetTotals()[0].GetMinorUnits() != value || val.GetTotals()[0].GetCurrencyCode() != "USD" {
		t.Fatalf("valuation totals = %v", val.GetTotals())
	}
	booksTieToWarehouse(t, conn)
}

// booksTieToWarehouse waits for the ledger to post every stock event of the
// flow and then checks the books against the warehouse: the GL's Inventory
// balance per warehouse × item equals inventory's valuation, the trial
// balance is zero, no event was parked, and an entry drills down to its
// movement.
func booksTieToWarehouse(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	ctx := context.Background()
	inv := inventoryv1.NewInventoryServiceClient(conn)
	led := ledgerv1.NewLedgerServiceClient(conn)
	valuation := func() map[string]int64 {
		out := map[string]int64{}
		for _, wh := range []string{"MAIN", "EAST"} {
			v, err := inv.GetValuation(ctx, &inventoryv1.GetValuationRequest{Warehouse: "warehouses/" + wh})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range v.GetLines() {
				if m := l.GetValue().GetMinorUnits(); m != 0 {
					out[wh+" "+strings.TrimPrefix(l.GetItem(), "items/")] += m
				}
			}
		}
		return out
	}
	gl := func() map[string]int64 {
		b, err := led.QueryBalances(ctx, &ledgerv1.QueryBalancesRequest{Account: "accounts/1400", GroupBy: []string{"warehouse", "item"}})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, r := range b.GetBalances() {
			if m := r.GetNet().GetMinorUnits(); m != 0 {
				out[r.GetDimensions().GetWarehouse()+" "+r.GetDimensions().GetItem()] += m
			}
		}
		return out
	}
	want := valuation()
	t.Logf("valuation by warehouse × item: %v", want)
	deadline := time.Now().Add(15 * time.Second)
	for fmt.Sprint(gl()) != fmt.Sprint(want) {
		if time.Now().After(deadline) {
			parked, _ := led.ListParkedEvents(ctx, &ledgerv1.ListParkedEventsRequest{})
			t.Fatalf("GL inventory by warehouse × item\n got %v\nwant %v (inventory's valuation)\nparked: %v", gl(), want, parked.GetParkedEvents())
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb, err := led.GetTrialBalance(ctx, &ledgerv1.GetTrialBalanceRequest{})
	if err != nil || !tb.GetBalanced() {
		t.Fatalf("trial balance = %v, %v; want balanced", tb, err)
	}
	for _, tot := range tb.GetTotals() {
		if tot.GetMinorUnits() != 0 {
			t.Errorf("trial balance total %v, want 0", tot)
		}
	}
	if parked, err := led.ListParkedEvents(ctx, &ledgerv1.ListParkedEventsRequest{}); err != nil || len(parked.GetParkedEvents()) != 0 {
		t.Errorf("parked events = %v, %v; want none: every stock event of the flow has a rule", parked.GetParkedEvents(), err)
	}
	// Drill-down: an entry of a receipt names its movement, document and rule.
	es, err := led.ListJournalEntries(ctx, &ledgerv1.ListJournalEntriesRequest{Account: "accounts/2100", PageSize: 1})
	if err != nil || len(es.GetJournalEntries()) != 1 {
		t.Fatalf("ListJournalEntries on GRNI = %v, %v", es, err)
	}
	e := es.GetJournalEntries()[0]
	if e.GetSource().GetMovementId() == "" || e.GetSource().GetEventId() == "" || e.GetSource().GetDocumentId() == "" || e.GetRule() != "receipt/PURCHASE_ORDER" {
		t.Errorf("receipt entry source = %v rule %q", e.GetSource(), e.GetRule())
	}
	ms, err := inv.ListMovements(ctx, &inventoryv1.ListMovementsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range ms.GetMovements() {
		if m.GetName() == "movements/"+e.GetSource().GetMovementId() {
			found = m.GetSeq() == e.GetSource().GetInventorySeq() && m.GetValue().GetMinorUnits() == e.GetLines()[0].GetAmount().GetMinorUnits()
		}
	}
	if !found {
		t.Errorf("entry %s names movement %s (seq %d), which inventory's journal does not hold with that seq and value",
			e.GetName(), e.GetSource().GetMovementId(), e.GetSource().GetInventorySeq())
	}

	// Reconciliation agrees, then finds a manual entry on Inventory and names it.
	rec := ledgerv1.NewReconciliationServiceClient(conn)
	r, err := rec.Reconcile(ctx, &ledgerv1.ReconcileRequest{})
	if err != nil || !r.GetClean() || len(r.GetRows()) != len(want) {
		t.Fatalf("Reconcile after the flow = %v, %v; want clean with %d rows", r, err, len(want))
	}
	manual, err := led.CreateJournalEntry(ctx, &ledgerv1.CreateJournalEntryRequest{RequestId: "flow-manual-1", JournalEntry: &ledgerv1.JournalEntry{
		Description: "Revaluation typed by hand", Reason: "test: an entry that breaks the tie-out",
		Lines: []*ledgerv1.JournalLine{
			{Account: "accounts/1400", Side: ledgerv1.Side_SIDE_DEBIT, Amount: &typev1.Money{CurrencyCode: "USD", MinorUnits: 1234}, Dimensions: &ledgerv1.Dimensions{Warehouse: "MAIN", Item: "WIDGET-100"}},
			{Account: "accounts/5120", Side: ledgerv1.Side_SIDE_CREDIT, Amount: &typev1.Money{CurrencyCode: "USD", MinorUnits: 1234}, Dimensions: &ledgerv1.Dimensions{Warehouse: "MAIN", Item: "WIDGET-100"}},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	r, err = rec.Reconcile(ctx, &ledgerv1.ReconcileRequest{})
	if err != nil || r.GetClean() {
		t.Fatalf("Reconcile after a manual entry on Inventory = %v, %v; want a difference", r, err)
	}
	for _, row := range r.GetRows() {
		diff := row.GetDifference().GetMinorUnits()
		switch {
		case row.GetWarehouse() == "MAIN" && row.GetItem() == "WIDGET-100":
			if diff != 1234 || len(row.GetManualEntries()) != 1 || row.GetManualEntries()[0] != manual.GetName() {
				t.Errorf("row MAIN/WIDGET-100 = %v; want a difference of 12.34 naming %s", row, manual.GetName())
			}
		case diff != 0:
			t.Errorf("row %v differs; only MAIN/WIDGET-100 should", row)
		}
	}
}

// Partners reach inventory through the REST gateway for the catalog and
// availability only: every route of the stock journal (receipts, moves,
// issues, adjustments, counts, transfers, returns, reversals, allocations,
// picks, shipments, reason codes, valuation, movements) answers 403
// INTERNAL_ONLY and writes nothing, whatever the body. The flows themselves
// run over gRPC (TestStockFlowsOverGRPC) and, for partners, through orders
// and fulfillment.
func TestStockJournalIsNotAPartnerRoute(t *testing.T) {
	st, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	inv := inventoryv1.NewInventoryServiceClient(conn)
	moves := func() int {
		t.Helper()
		resp, err := inv.ListMovements(ctx, &inventoryv1.ListMovementsRequest{PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(resp.GetMovements())
	}
	before := moves()
	base := "http://" + st.HTTPAddr
	// A valid receipt, and an empty body for the rest: the refusal comes
	// before any validation.
	receipt := `{"requestId":"p-1","item":"items/WIDGET-100","location":"warehouses/MAIN/locations/A-01-01",` +
		`"quantity":{"value":"1","uom":"EA"},"unitCost":{"currencyCode":"USD","amount":"1.50"},` +
		`"source":{"type":"SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER","id":"PO-9"}}`
	for _, c := range []struct{ method, path string }{
		{"POST", "/v1/stock:receive"}, {"POST", "/v1/stock:move"}, {"POST", "/v1/stock:issue"}, {"POST", "/v1/stock:adjust"},
		{"POST", "/v1/stock:count"}, {"POST", "/v1/stock:transfer"}, {"POST", "/v1/stock:return"}, {"POST", "/v1/stock:ship"},
		{"POST", "/v1/allocations"}, {"GET", "/v1/movements"}, {"GET", "/v1/valuation"}, {"POST", "/v1/reasonCodes"},
		{"POST", "/v1/items"}, {"POST", "/v1/warehouses"},
	} {
		body := "{}"
		if c.path == "/v1/stock:receive" {
			body = receipt
		} else if c.method == "GET" {
			body = ""
		}
		code, resp := httpDo(t, c.method, base+c.path, testKey, body)
		if code != http.StatusForbidden || !strings.Contains(resp, "INTERNAL_ONLY") {
			t.Errorf("%s %s as a partner = %d %s, want 403 INTERNAL_ONLY", c.method, c.path, code, resp)
		}
	}
	for _, path := range []string{"/v1/items", "/v1/items/WIDGET-100", "/v1/warehouses/MAIN/stock?item=items/WIDGET-100", "/v1/warehouses/MAIN/locations"} {
		if code, resp := httpDo(t, "GET", base+path, testKey, ""); code != http.StatusOK {
			t.Errorf("GET %s as a partner = %d %s, want 200", path, code, resp)
		}
	}
	if after := moves(); after != before {
		t.Fatalf("refused calls wrote movements: %d before, %d after", before, after)
	}
}

// jsonField reads a dotted path ("lines.0.value.minorUnits") of a decoded JSON
// object as a string; "" when absent.
func jsonField(m map[string]any, path string) string {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(v) {
				return ""
			}
			cur = v[i]
		default:
			return ""
		}
	}
	switch v := cur.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}
