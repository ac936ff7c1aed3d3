// Package inventoryclient is orders' client of the inventory service, over
// its gRPC API: the stock issues that send a purchase order's excess back to
// the supplier.
package inventoryclient

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/metadata"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/services/orders/internal/app"
	"trueup.dev/services/orders/internal/orders"
)

// CallerName is how orders names itself to inventory (caller.InternalMetadataKey),
// so its request ids live in their own namespace there, whoever called
// orders: a retry of a RETURN made for a partner and one made by an internal
// caller find the same issue.
const CallerName = "orders"

// callTimeout bounds one call when the caller's context sets no deadline.
const callTimeout = 15 * time.Second

// Client implements app.Inventory.
type Client struct {
	inv inventoryv1.InventoryServiceClient
}

var _ app.Inventory = Client{}

// New builds the client over an inventory connection.
func New(c inventoryv1.InventoryServiceClient) Client { return Client{inv: c} }

// IssueStock implements app.Inventory. Inventory's errors come back as the
// *apperr.Error values grpcserver.FromStatus makes of them (still marked as
// the dependency's, so returned as they are they never pass for orders' own).
// A connection from grpcserver.Dial converts them already; FromStatus leaves
// such an error as it is, and converts a raw status from any other client.
func (c Client) IssueStock(ctx context.Context, is app.StockIssue) (app.IssuedStock, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, callTimeout)
		defer cancel()
	}
	// Outgoing metadata only: the partner orders' caller may be is not
	// passed on; inventory sees orders.
	ctx = metadata.NewOutgoingContext(ctx, metadata.Pairs(caller.InternalMetadataKey, CallerName))
	m, err := c.inv.IssueStock(ctx, &inventoryv1.IssueStockRequest{
		RequestId: is.RequestID,
		Item:      "items/" + is.SKU,
		Location:  "warehouses/" + is.Warehouse + "/locations/" + is.Location,
		Quantity:  &typev1.Quantity{Value: is.Qty.String(), Uom: is.UoM},
		Lot:       is.Lot,
		Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER,
			Id: is.Order, Line: strconv.Itoa(is.Line)},
	})
	if err != nil {
		return app.IssuedStock{}, fmt.Errorf("inventory IssueStock %s: %w", is.RequestID, grpcserver.FromStatus(err))
	}
	qty, err := orders.ParseQty(strings.TrimPrefix(m.GetBaseQuantity(), "-"))
	if err != nil {
		return app.IssuedStock{}, fmt.Errorf("inventory IssueStock %s: movement %s base quantity %q: %v", is.RequestID, m.GetName(), m.GetBaseQuantity(), err)
	}
	value := m.GetValue().GetMinorUnits()
	if value < 0 {
		value = -value
	}
	out := app.IssuedStock{Movement: m.GetName(), Qty: qty, Value: value, Currency: m.GetValue().GetCurrencyCode()}
	if t := m.GetEffectiveTime(); t != nil {
		out.At = t.AsTime()
	}
	return out, nil
}
