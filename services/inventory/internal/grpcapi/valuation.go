package grpcapi

import (
	"context"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/protoconv"
)

// ListMovements lists the journal, oldest first, up to its watermark, and
// always returns a token to continue from (a follower polls with it).
func (s *Server) ListMovements(ctx context.Context, req *inventoryv1.ListMovementsRequest) (*inventoryv1.ListMovementsResponse, error) {
	var n names
	var f app.MovementFilter
	if req.GetItem() != "" {
		f.SKU = inventory.NormalizeSKU(n.item("item", req.GetItem()))
	}
	if req.GetWarehouse() != "" {
		f.Warehouse = inventory.NormalizeCode(n.warehouse("warehouse", req.GetWarehouse()))
	}
	f.From = timeField(&n, "start_time", req.GetStartTime())
	f.To = timeField(&n, "end_time", req.GetEndTime())
	if req.GetStartAfterSeq() < 0 {
		n.v.Add("start_after_seq", "must not be negative")
	}
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), f.SKU+"|"+f.Warehouse+"|"+fmtTime(f.From)+"|"+fmtTime(f.To))
	if err != nil {
		return nil, err
	}
	if req.GetPageToken() == "" && req.GetStartAfterSeq() > 0 {
		page.After = fmtSeq(req.GetStartAfterSeq())
	}
	mp, err := s.app.FollowMovements(ctx, f, page)
	if err != nil {
		return nil, err
	}
	resp := &inventoryv1.ListMovementsResponse{CompleteThroughSeq: mp.Next}
	for _, m := range mp.Movements {
		resp.Movements = append(resp.Movements, protoconv.MovementToProto(m))
	}
	// A token even after a short page: the end of the journal is only the
	// end for now.
	resp.NextPageToken = page.Next(page.Limit, fmtSeq(mp.Next))
	return resp, nil
}

func fmtSeq(seq int64) string { return strconv.FormatInt(seq, 10) }

// fmtTime keys a time in a page token's filter.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMicro(), 10)
}

// timeField reads an optional timestamp field.
func timeField(n *names, field string, ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	if err := ts.CheckValid(); err != nil {
		n.v.Add(field, "is not a valid timestamp")
		return time.Time{}
	}
	return ts.AsTime()
}

// GetValuation values stock, a page of items at a time, at the journal
// watermark it reports.
func (s *Server) GetValuation(ctx context.Context, req *inventoryv1.GetValuationRequest) (*inventoryv1.Valuation, error) {
	var n names
	q := app.ValuationQuery{ByLot: req.GetByLot()}
	if req.GetWarehouse() != "" {
		q.Warehouse = inventory.NormalizeCode(n.warehouse("warehouse", req.GetWarehouse()))
	}
	if req.GetItem() != "" {
		q.SKU = inventory.NormalizeSKU(n.item("item", req.GetItem()))
	}
	q.AsOf = timeField(&n, "as_of_time", req.GetAsOfTime())
	if err := n.v.Err(); err != nil {
		return nil, err
	}
	lot := "0"
	if q.ByLot {
		lot = "1"
	}
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), q.Warehouse+"|"+q.SKU+"|"+fmtTime(q.AsOf)+"|"+lot)
	if err != nil {
		return nil, err
	}
	asOf := q.AsOf
	if asOf.IsZero() {
		asOf = time.Now().UTC()
	}
	vp, err := s.app.ValuationPage(ctx, q, page)
	if err != nil {
		return nil, err
	}
	resp := &inventoryv1.Valuation{AsOfTime: timestamppb.New(asOf), CompleteThroughSeq: vp.Through}
	if vp.Next != "" {
		resp.NextPageToken = page.Next(page.Limit, vp.Next)
	}
	totals := map[string]int64{}
	var order []string
	for _, l := range vp.Lines {
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
