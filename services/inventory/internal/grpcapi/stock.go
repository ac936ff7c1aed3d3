package grpcapi

import (
	"context"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/protoconv"
)

// names collects the resource names of a request, reporting every bad one.
type names struct{ v apperr.Violations }

func (n *names) item(field, name string) string {
	ids, err := resname.Parse(field, name, protoconv.ItemPattern)
	if err != nil {
		n.v.Add(field, "must be an item name, items/{sku}")
		return ""
	}
	return ids[0]
}

func (n *names) location(field, name string) (string, string) {
	ids, err := resname.Parse(field, name, protoconv.LocationPattern)
	if err != nil {
		n.v.Add(field, "must be a location name, warehouses/{warehouse}/locations/{location}")
		return "", ""
	}
	return ids[0], ids[1]
}

func (n *names) warehouse(field, name string) string {
	ids, err := resname.Parse(field, name, protoconv.WarehousePattern)
	if err != nil {
		n.v.Add(field, "must be a warehouse name, warehouses/{warehouse}")
		return ""
	}
	return ids[0]
}

func (n *names) allocation(field, name string) string {
	ids, err := resname.Parse(field, name, protoconv.AllocationPattern)
	if err != nil {
		n.v.Add(field, "must be an allocation name, allocations/{id}")
		return ""
	}
	return ids[0]
}

func unitCost(c *inventoryv1.UnitCost) app.UnitCost {
	return app.UnitCost{Currency: c.GetCurrencyCode(), Amount: c.GetAmount(), UoM: c.GetUom()}
}

func qty(q *typev1.Quantity) app.Quantity { return app.Quantity{Value: q.GetValue(), UoM: q.GetUom()} }

// ReceiveStock records a receipt.
func (s *Server) ReceiveStock(ctx context.Context, req *inventoryv1.ReceiveStockRequest) (*inventoryv1.Movement, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh, loc := n.location("location", req.GetLocation())
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	m, err := s.app.ReceiveStock(ctx, app.Receive{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, Location: loc, Quantity: qty(req.GetQuantity()),
		Lot: req.GetLot(), ExpiryDate: req.GetExpiryDate(), Source: protoconv.SourceFromProto(req.GetSource()),
		Cost: unitCost(req.GetUnitCost()),
	})
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}

// MoveStock moves stock between two locations.
func (s *Server) MoveStock(ctx context.Context, req *inventoryv1.MoveStockRequest) (*inventoryv1.Movement, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh, from := n.location("from_location", req.GetFromLocation())
	wh2, to := n.location("to_location", req.GetToLocation())
	if wh != "" && wh2 != "" && inventory.NormalizeCode(wh) != inventory.NormalizeCode(wh2) {
		n.v.Add("to_location", "must be in the same warehouse as from_location")
	}
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	m, err := s.app.MoveStock(ctx, app.Move{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, From: from, To: to, Quantity: qty(req.GetQuantity()),
		Lot: req.GetLot(), Source: protoconv.SourceFromProto(req.GetSource()),
	})
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}

// IssueStock issues stock.
func (s *Server) IssueStock(ctx context.Context, req *inventoryv1.IssueStockRequest) (*inventoryv1.Movement, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh, loc := n.location("location", req.GetLocation())
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	m, err := s.app.IssueStock(ctx, app.Issue{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, Location: loc, Quantity: qty(req.GetQuantity()),
		Lot: req.GetLot(), Source: protoconv.SourceFromProto(req.GetSource()),
	})
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}

// AdjustStock corrects stock.
func (s *Server) AdjustStock(ctx context.Context, req *inventoryv1.AdjustStockRequest) (*inventoryv1.Movement, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh, loc := n.location("location", req.GetLocation())
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	m, err := s.app.AdjustStock(ctx, app.Adjust{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, Location: loc, Quantity: qty(req.GetQuantity()),
		Lot: req.GetLot(), ExpiryDate: req.GetExpiryDate(), Reason: req.GetReasonCode(), Source: protoconv.SourceFromProto(req.GetSource()),
		Cost: unitCost(req.GetUnitCost()),
	})
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}

// CountStock records a count.
func (s *Server) CountStock(ctx context.Context, req *inventoryv1.CountStockRequest) (*inventoryv1.Movement, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh, loc := n.location("location", req.GetLocation())
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	m, err := s.app.CountStock(ctx, app.Count{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, Location: loc, Counted: qty(req.GetCountedQuantity()),
		Lot: req.GetLot(), ExpiryDate: req.GetExpiryDate(), Source: protoconv.SourceFromProto(req.GetSource()),
		Cost: unitCost(req.GetUnitCost()),
	})
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}

// ListStock lists stock levels of a warehouse.
func (s *Server) ListStock(ctx context.Context, req *inventoryv1.ListStockRequest) (*inventoryv1.ListStockResponse, error) {
	var n names
	f := app.LevelFilter{Warehouse: n.warehouse("warehouse", req.GetWarehouse()), IncludeZero: req.GetIncludeZero()}
	if req.GetItem() != "" {
		f.SKU = inventory.NormalizeSKU(n.item("item", req.GetItem()))
	}
	if req.GetLocation() != "" {
		wh, loc := n.location("location", req.GetLocation())
		if inventory.NormalizeCode(wh) != inventory.NormalizeCode(f.Warehouse) {
			n.v.Add("location", "must be in the listed warehouse")
		}
		f.Location = inventory.NormalizeCode(loc)
	}
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), fmtFilter(f))
	if err != nil {
		return nil, err
	}
	levels, err := s.app.ListStock(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &inventoryv1.ListStockResponse{}
	var skus []string
	for _, l := range levels {
		skus = append(skus, l.SKU)
	}
	uoms, err := s.app.BaseUoMs(ctx, slices.Compact(slices.Sorted(slices.Values(skus))))
	if err != nil {
		return nil, err
	}
	for _, l := range levels {
		resp.Levels = append(resp.Levels, protoconv.LevelToProto(l, uoms[l.SKU]))
	}
	if k := len(levels); k > 0 {
		resp.NextPageToken = page.Next(k, app.LevelKey(levels[k-1]))
	}
	return resp, nil
}

func fmtFilter(f app.LevelFilter) string {
	z := "0"
	if f.IncludeZero {
		z = "1"
	}
	return f.Warehouse + "|" + f.SKU + "|" + f.Location + "|" + z
}

// ListMovements lists the journal.
func (s *Server) ListMovements(ctx context.Context, req *inventoryv1.ListMovementsRequest) (*inventoryv1.ListMovementsResponse, error) {
	var n names
	var f app.MovementFilter
	if req.GetItem() != "" {
		f.SKU = inventory.NormalizeSKU(n.item("item", req.GetItem()))
	}
	if req.GetWarehouse() != "" {
		f.Warehouse = inventory.NormalizeCode(n.warehouse("warehouse", req.GetWarehouse()))
	}
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), f.SKU+"|"+f.Warehouse)
	if err != nil {
		return nil, err
	}
	ms, err := s.app.ListMovements(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &inventoryv1.ListMovementsResponse{}
	for _, m := range ms {
		resp.Movements = append(resp.Movements, protoconv.MovementToProto(m))
	}
	if k := len(ms); k > 0 {
		resp.NextPageToken = page.Next(k, fmtSeq(ms[k-1].Seq))
	}
	return resp, nil
}

func fmtSeq(seq int64) string { return strconv.FormatInt(seq, 10) }

// AllocateStock reserves stock.
func (s *Server) AllocateStock(ctx context.Context, req *inventoryv1.AllocateStockRequest) (*inventoryv1.Allocation, error) {
	var n names
	sku := n.item("item", req.GetItem())
	wh := n.warehouse("warehouse", req.GetWarehouse())
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	a, err := s.app.AllocateStock(ctx, app.Allocate{
		RequestID: req.GetRequestId(), SKU: sku, Warehouse: wh, Quantity: qty(req.GetQuantity()),
		Order: protoconv.SourceFromProto(req.GetOrder()), AllowPartial: req.GetAllowPartial(),
	})
	if err != nil {
		return nil, err
	}
	return protoconv.AllocationToProto(a), nil
}

// GetAllocation returns an allocation.
func (s *Server) GetAllocation(ctx context.Context, req *inventoryv1.GetAllocationRequest) (*inventoryv1.Allocation, error) {
	var n names
	id := n.allocation("name", req.GetName())
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	a, err := s.app.GetAllocation(ctx, id)
	if err != nil {
		return nil, err
	}
	return protoconv.AllocationToProto(a), nil
}

// ReleaseAllocation gives back reserved stock.
func (s *Server) ReleaseAllocation(ctx context.Context, req *inventoryv1.ReleaseAllocationRequest) (*inventoryv1.Allocation, error) {
	var n names
	id := n.allocation("name", req.GetName())
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	a, err := s.app.ReleaseAllocation(ctx, req.GetRequestId(), id)
	if err != nil {
		return nil, err
	}
	return protoconv.AllocationToProto(a), nil
}

// ConfirmPick issues allocated stock.
func (s *Server) ConfirmPick(ctx context.Context, req *inventoryv1.ConfirmPickRequest) (*inventoryv1.Movement, error) {
	var n names
	id := n.allocation("allocation", req.GetAllocation())
	wh, loc := n.location("location", req.GetLocation())
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	m, err := s.app.ConfirmPick(ctx, app.ConfirmPick{
		RequestID: req.GetRequestId(), AllocationID: id, Warehouse: wh, Location: loc, Lot: req.GetLot(),
		Quantity: qty(req.GetQuantity()), Source: protoconv.SourceFromProto(req.GetSource()),
	})
	if err != nil {
		return nil, err
	}
	return protoconv.MovementToProto(m), nil
}

// GetValuation values stock from the journal.
func (s *Server) GetValuation(ctx context.Context, req *inventoryv1.GetValuationRequest) (*inventoryv1.Valuation, error) {
	var n names
	q := app.ValuationQuery{ByLot: req.GetByLot()}
	if req.GetWarehouse() != "" {
		q.Warehouse = inventory.NormalizeCode(n.warehouse("warehouse", req.GetWarehouse()))
	}
	if req.GetItem() != "" {
		q.SKU = inventory.NormalizeSKU(n.item("item", req.GetItem()))
	}
	if req.GetAsOfTime() != nil {
		if err := req.GetAsOfTime().CheckValid(); err != nil {
			n.v.Add("as_of_time", "is not a valid timestamp")
		}
		q.AsOf = req.GetAsOfTime().AsTime()
	}
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	if q.AsOf.IsZero() {
		q.AsOf = time.Now().UTC()
	}
	lines, err := s.app.Valuation(ctx, q)
	if err != nil {
		return nil, err
	}
	resp := &inventoryv1.Valuation{AsOfTime: timestamppb.New(q.AsOf)}
	totals := map[string]int64{}
	var order []string
	for _, l := range lines {
		resp.Lines = append(resp.Lines, &inventoryv1.ValuationLine{
			Warehouse: resname.Format(protoconv.WarehousePattern, l.Warehouse), Item: resname.Format(protoconv.ItemPattern, l.SKU),
			Lot: l.Lot, Quantity: l.Qty.String(), Value: &typev1.Money{CurrencyCode: l.Currency, MinorUnits: l.Value},
		})
		if _, ok := totals[l.Currency]; !ok {
			order = append(order, l.Currency)
		}
		totals[l.Currency] += l.Value
	}
	for _, c := range order {
		resp.Totals = append(resp.Totals, &typev1.Money{CurrencyCode: c, MinorUnits: totals[c]})
	}
	return resp, nil
}
