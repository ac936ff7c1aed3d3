package fulfillment

import (
	"testing"
	"time"
)

func TestAReleaseOpensOneExpectedReceiptPerWarehouse(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	line := func(wh string, n int, date string) ReleasedLine {
		return ReleasedLine{Warehouse: wh, ExpectedLine: ExpectedLine{POLine: n, SKU: "W-1", Quantity: "2", UoM: "CS", BaseQty: "24", BaseUoM: "EA", ExpectedDate: date}}
	}
	rs, err := ExpectedReceipts(ReleasedOrder{ID: "po1", Supplier: "ACME", Partner: "p", Lines: []ReleasedLine{
		line("east", 1, "2026-12-20"), line("MAIN", 2, ""), line("EAST", 3, "2026-12-10")}}, now)
	if err != nil || len(rs) != 2 {
		t.Fatalf("receipts = %v, %v", rs, err)
	}
	east, main := rs[0], rs[1]
	if east.ID != "po1-EAST" || len(east.Lines) != 2 || east.ExpectedDate() != "2026-12-10" || east.Partner != "p" || east.State != ReceiptOpen {
		t.Errorf("EAST = %+v", east)
	}
	if main.ID != "po1-MAIN" || len(main.Lines) != 1 || main.ExpectedDate() != "" {
		t.Errorf("MAIN = %+v", main)
	}
	if _, err := ExpectedReceipts(ReleasedOrder{ID: "po2", Lines: []ReleasedLine{line("", 1, "")}}, now); err == nil {
		t.Error("a line without a warehouse was accepted")
	}
	if _, err := ExpectedReceipts(ReleasedOrder{ID: "po3"}, now); err == nil {
		t.Error("an order without lines was accepted")
	}
}
