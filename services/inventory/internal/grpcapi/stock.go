package grpcapi

import (
	"context"
	"slices"
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

// err reports the malformed names with the command's own field checks, so a
// request with a bad name and a bad quantity hears of both; the use case runs
// its checks only once the names resolve.
func (n *names) err(check func() apperr.Violations) error {
	if len(n.v) == 0 {
		return nil
	}
	return append(n.v, check()...).Err()
}

// effectiveTime reads a command's effective_time; nil is the zero time (now).
func (n *names) effectiveTime(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	if err := ts.CheckValid(); err != nil {
		n.v.Add("effective_time", "is not a valid timestamp")
		return time.Time{}
	}
	return ts.AsTime()
}

func unitCost(c *inventoryv1.UnitCost) app.UnitCost {
	return app.UnitCost{Currency: c.GetCurrencyCode(), Amount: c.GetAmount(), UoM: c.GetUom()}
}

func qty(q *typev1.Quantity) app.Quantity { return app.Quantity{Value: q.GetValue(), UoM: q.GetUom()} }

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
