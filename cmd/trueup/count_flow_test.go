package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/protoevent"
)

// TestCountsWithApprovalOnTheDevStack runs cycle counts on the dev stack
// with the real inventory behind fulfillment (seeded: WIDGET-100, 120 EA at
// A-01-01, 1.50 each). A count of A-01-01 finding 118 (nine cases by their
// barcode and ten eaches) is within the default threshold and booked at
// once; the counter is never told the 120. A second count with a threshold
// of 5 finds 100: it waits for an approval, which the counter may not give.
// Ten eaches move to A-01-02 after that count and before its approval; the
// approval books 18 short against the count time, so A-01-01 holds 90, not
// 100: the move is not counted twice.
func TestCountsWithApprovalOnTheDevStack(t *testing.T) {
	st, conn, _ := startTestStack(t)
	ctx := context.Background()
	if err := seed(ctx, conn); err != nil {
		t.Fatal(err)
	}
	inv := inventoryv1.NewInventoryServiceClient(conn)
	ful := fulfillmentv1.NewFulfillmentServiceClient(conn)
	cnt := fulfillmentv1.NewCountServiceClient(conn)
	as := func(who string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, caller.InternalMetadataKey, who)
	}
	counter, lead := as("counter-1"), as("lead-1")

	nc, err := nats.Connect(st.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	watch, err := js.OrderedConsumer(ctx, protoevent.StreamName("fulfillment"), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{protoevent.Subject(&fulfillmentv1.CountDifferenceBooked{}), protoevent.Subject(&fulfillmentv1.CountApprovalRequired{})}})
	if err != nil {
		t.Fatal(err)
	}

	onHand := func(loc string) string {
		t.Helper()
		resp, err := inv.ListStock(ctx, &inventoryv1.ListStockRequest{Warehouse: "warehouses/MAIN", Item: "items/WIDGET-100",
			Location: "warehouses/MAIN/locations/" + loc})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetLevels()) == 0 {
			return "0"
		}
		return resp.GetLevels()[0].GetOnHand()
	}
	// task opens a count of A-01-01 and claims its task for the counter.
	task := func(req string, th *fulfillmentv1.CountThresholds) (*fulfillmentv1.Count, string) {
		t.Helper()
		c, err := cnt.CreateCount(lead, &fulfillmentv1.CreateCountRequest{RequestId: req, Warehouse: "MAIN",
			Locations: []string{"A-01-01"}, Thresholds: th})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.GetTasks()) != 1 || c.GetState() != fulfillmentv1.CountState_COUNT_STATE_OPEN {
			t.Fatalf("count = %v", c)
		}
		k, err := ful.ClaimTask(counter, &fulfillmentv1.ClaimTaskRequest{Name: c.GetTasks()[0].GetTask()})
		if err != nil || k.GetType() != fulfillmentv1.TaskType_TASK_TYPE_COUNT || k.GetClaimedBy() != "counter-1" {
			t.Fatalf("claim = %v, %v", k, err)
		}
		// Blind: the task says where, not how much is expected there.
		if k.GetFromLocation() != "warehouses/MAIN/locations/A-01-01" || k.GetBaseQuantity() != "0" {
			t.Fatalf("count task = %v", k)
		}
		return c, k.GetName()
	}
	ea := func(v, uom string) *typev1.Quantity { return &typev1.Quantity{Value: v, Uom: uom} }

	// 1. Within the default threshold: booked at once.
	c1, k1 := task("count-1", nil)
	rec := &fulfillmentv1.RecordCountRequest{RequestId: "count-1-rec", Task: k1, Lines: []*fulfillmentv1.CountedItem{
		{Item: "10012345000017", Quantity: ea("9", "")}, {Item: "W100", Quantity: ea("10", "EA")}}}
	r1, err := cnt.RecordCount(counter, rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.GetLines()) != 1 {
		t.Fatalf("recorded = %v", r1.GetLines())
	}
	l1 := r1.GetLines()[0]
	if l1.GetItem() != "WIDGET-100" || l1.GetCountedBaseQuantity() != "118" || l1.GetState() != fulfillmentv1.CountLineState_COUNT_LINE_STATE_BOOKED ||
		l1.GetMovement() == "" || l1.GetExpectedBaseQuantity() != "" || l1.GetDifferenceBaseQuantity() != "" || r1.GetTask().GetState() != fulfillmentv1.TaskState_TASK_STATE_DONE {
		t.Fatalf("the counter's answer = %v", r1)
	}
	if again, err := cnt.RecordCount(counter, rec); err != nil || again.GetLines()[0].GetMovement() != l1.GetMovement() {
		t.Fatalf("the scanner's retry = %v, %v", again, err)
	}
	if got := onHand("A-01-01"); got != "118" {
		t.Fatalf("A-01-01 after the count = %s, want 118", got)
	}
	// The reviewer's view shows what inventory expected.
	got1, err := cnt.GetCount(lead, &fulfillmentv1.GetCountRequest{Name: c1.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if l := got1.GetLines()[0]; l.GetExpectedBaseQuantity() != "120" || l.GetDifferenceBaseQuantity() != "-2" || l.GetDifferenceValue().GetMinorUnits() != -300 ||
		got1.GetState() != fulfillmentv1.CountState_COUNT_STATE_COMPLETED {
		t.Fatalf("count 1 = %v", got1)
	}

	// 2. Above a threshold of 5: waits for an approval.
	c2, k2 := task("count-2", &fulfillmentv1.CountThresholds{MaxBaseQuantity: "5"})
	r2, err := cnt.RecordCount(counter, &fulfillmentv1.RecordCountRequest{RequestId: "count-2-rec", Task: k2,
		Lines: []*fulfillmentv1.CountedItem{{Item: "WIDGET-100", Quantity: ea("100", "")}}})
	if err != nil {
		t.Fatal(err)
	}
	l2 := r2.GetLines()[0]
	if l2.GetState() != fulfillmentv1.CountLineState_COUNT_LINE_STATE_PENDING_APPROVAL || l2.GetMovement() != "" || l2.GetExpectedBaseQuantity() != "" ||
		r2.GetCount().GetState() != fulfillmentv1.CountState_COUNT_STATE_IN_REVIEW {
		t.Fatalf("above the threshold = %v", r2)
	}
	if got := onHand("A-01-01"); got != "118" {
		t.Fatalf("A-01-01 before the approval = %s, want 118", got)
	}
	// Stock moves after the count was taken, before it is approved.
	if _, err := inv.MoveStock(ctx, &inventoryv1.MoveStockRequest{RequestId: "count-2-move", Item: "items/WIDGET-100",
		FromLocation: "warehouses/MAIN/locations/A-01-01", ToLocation: "warehouses/MAIN/locations/A-01-02", Quantity: ea("10", "EA")}); err != nil {
		t.Fatal(err)
	}
	approve := &fulfillmentv1.ReviewCountRequest{RequestId: "count-2-review", Name: c2.GetName(), Decisions: []*fulfillmentv1.CountLineDecision{
		{Line: l2.GetNumber(), Decision: fulfillmentv1.CountDecision_COUNT_DECISION_APPROVE, Reason: "recounted: 18 short", ReasonCode: "SHRINKAGE"}}}
	if _, err := cnt.ReviewCount(counter, approve); status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "may not review") {
		t.Fatalf("the counter approving their own count = %v", err)
	}
	done, err := cnt.ReviewCount(lead, approve)
	if err != nil {
		t.Fatal(err)
	}
	l := done.GetLines()[0]
	if l.GetState() != fulfillmentv1.CountLineState_COUNT_LINE_STATE_BOOKED || l.GetReviewedBy() != "lead-1" || l.GetExpectedBaseQuantity() != "118" ||
		l.GetDifferenceBaseQuantity() != "-18" || l.GetDifferenceValue().GetMinorUnits() != -2700 || done.GetState() != fulfillmentv1.CountState_COUNT_STATE_COMPLETED {
		t.Fatalf("approved = %v", done)
	}
	if a, b := onHand("A-01-01"), onHand("A-01-02"); a != "90" || b != "10" {
		t.Fatalf("after the approval A-01-01 = %s (want 118 - 10 moved - 18 short = 90), A-01-02 = %s (want 10)", a, b)
	}
	// Inventory booked it as a count taken at the count time, for the
	// reason the reviewer gave.
	moves, err := inv.ListMovements(ctx, &inventoryv1.ListMovementsRequest{Item: "items/WIDGET-100", Warehouse: "warehouses/MAIN", PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var booked *inventoryv1.Movement
	for _, m := range moves.GetMovements() {
		if m.GetName() == l.GetMovement() {
			booked = m
		}
	}
	if booked == nil || booked.GetType() != inventoryv1.MovementType_MOVEMENT_TYPE_COUNT || booked.GetBaseQuantity() != "-18" || booked.GetCountedQuantity() != "100" ||
		booked.GetReasonCode() != "SHRINKAGE" || !booked.GetEffectiveTime().AsTime().Equal(l.GetCountTime().AsTime()) ||
		booked.GetSource().GetId() != strings.TrimPrefix(c2.GetName(), "counts/") {
		t.Fatalf("the count movement = %v", booked)
	}

	// The bus: booked, booked (count 1: -2), approval required, booked.
	var kinds []string
	for len(kinds) < 3 {
		msg, err := watch.Next()
		if err != nil {
			t.Fatalf("after %v: %v", kinds, err)
		}
		switch msg.Subject() {
		case protoevent.Subject(&fulfillmentv1.CountApprovalRequired{}):
			var ev fulfillmentv1.CountApprovalRequired
			if err := proto.Unmarshal(msg.Data(), &ev); err != nil || ev.GetLine().GetExpectedBaseQuantity() != "118" {
				t.Fatalf("CountApprovalRequired = %v, %v", &ev, err)
			}
			kinds = append(kinds, "approval")
		default:
			kinds = append(kinds, "booked")
		}
	}
	if strings.Join(kinds, ",") != "booked,approval,booked" {
		t.Fatalf("count events on the bus: %v", kinds)
	}

	// REST: the counts routes reach the service, which refuses partners
	// (counts book the company's stock).
	if code, body := httpDo(t, "GET", "http://"+st.HTTPAddr+"/v1/"+c2.GetName(), testKey, ""); code != http.StatusForbidden || !strings.Contains(body, "INTERNAL_ONLY") {
		t.Fatalf("GET %s as a partner = %d %s", c2.GetName(), code, body)
	}
}
