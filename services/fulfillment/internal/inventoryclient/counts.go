package inventoryclient

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/money"
	"trueup.dev/platform/qty"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

var _ app.CountInventory = (*Client)(nil)

// StockAt implements app.CountInventory.
func (c *Client) StockAt(ctx context.Context, warehouse, location, sku string) ([]app.CountLevel, error) {
	req := &inventoryv1.ListStockRequest{Warehouse: "warehouses/" + warehouse,
		Location: "warehouses/" + warehouse + "/locations/" + location, PageSize: 1000}
	if sku != "" {
		req.Item = "items/" + sku
	}
	var out []app.CountLevel
	for {
		resp, err := c.inv.ListStock(ctx, req)
		if err != nil {
			return nil, err
		}
		for _, l := range resp.GetLevels() {
			q, err := qty.Parse(l.GetOnHand())
			if err != nil {
				return nil, fmt.Errorf("inventory: stock of %s at %s: on hand %q: %w", l.GetItem(), location, l.GetOnHand(), err)
			}
			if q != 0 {
				out = append(out, app.CountLevel{SKU: strings.TrimPrefix(l.GetItem(), "items/"), Lot: l.GetLot(), BaseUoM: l.GetBaseUom(), OnHand: q})
			}
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			return out, nil
		}
	}
}

// PreviewCount implements app.CountInventory: CountStock with validate_only.
func (c *Client) PreviewCount(ctx context.Context, warehouse string, b app.CountBooking) (fulfillment.CountOutcome, error) {
	return c.count(ctx, countRequest("fulfillment:count-preview:"+b.Count, warehouse, b, true))
}

// BookCount implements app.CountInventory.
func (c *Client) BookCount(ctx context.Context, requestID, warehouse string, b app.CountBooking) (fulfillment.CountOutcome, error) {
	return c.count(ctx, countRequest(requestID, warehouse, b, false))
}

func countRequest(requestID, warehouse string, b app.CountBooking, preview bool) *inventoryv1.CountStockRequest {
	req := &inventoryv1.CountStockRequest{
		RequestId:       requestID,
		Item:            "items/" + b.SKU,
		Location:        "warehouses/" + warehouse + "/locations/" + b.Location,
		Lot:             b.Lot,
		ExpiryDate:      b.Expiry,
		CountedQuantity: &typev1.Quantity{Value: b.Counted.String(), Uom: b.BaseUoM},
		ReasonCode:      b.ReasonCode,
		Source:          &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_COUNT, Id: b.Count},
		EffectiveTime:   timestamppb.New(b.At),
		ValidateOnly:    preview,
	}
	if b.Line > 0 {
		req.Source.Line = strconv.Itoa(b.Line)
	}
	return req
}

func (c *Client) count(ctx context.Context, req *inventoryv1.CountStockRequest) (fulfillment.CountOutcome, error) {
	m, err := c.inv.CountStock(ctx, req)
	if err != nil {
		return fulfillment.CountOutcome{}, err
	}
	counted, err1 := qty.Parse(m.GetCountedQuantity())
	diff, err2 := qty.Parse(m.GetBaseQuantity())
	if err1 != nil || err2 != nil {
		return fulfillment.CountOutcome{}, fmt.Errorf("inventory: count movement %s: counted %q, difference %q", m.GetName(), m.GetCountedQuantity(), m.GetBaseQuantity())
	}
	o := fulfillment.CountOutcome{Counted: counted, Difference: diff,
		Value: money.Money{Currency: m.GetValue().GetCurrencyCode(), Minor: m.GetValue().GetMinorUnits()}}
	if !req.GetValidateOnly() {
		o.Movement = strings.TrimPrefix(m.GetName(), "movements/")
	}
	return o, nil
}
