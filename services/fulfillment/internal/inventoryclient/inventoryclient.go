// Package inventoryclient is receiving's view of the inventory service, over
// its gRPC API: items by any code, locations, and stock receipts.
package inventoryclient

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"time"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/qty"
	"trueup.dev/services/fulfillment/internal/app"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// locationsTTL is how long a warehouse's locations are remembered: long
// enough that the scans of one pallet ask once, short enough that a new or
// blocked location counts within a minute (a scan's own location is always
// asked afresh).
const locationsTTL = time.Minute

// Client implements app.Inventory.
type Client struct {
	inv inventoryv1.InventoryServiceClient

	mu        sync.Mutex
	locations map[string]cached
}

type cached struct {
	locs []fulfillment.LocationFacts
	at   time.Time
}

var _ app.Inventory = (*Client)(nil)

// New builds the client over an inventory connection.
func New(c inventoryv1.InventoryServiceClient) *Client {
	return &Client{inv: c, locations: map[string]cached{}}
}

// lookupOrder is the order in which a scanned code is tried: the SKU first,
// then a barcode (which may imply a unit), the warehouse's and the ERP's own
// codes, and last the supplier's part number.
var lookupOrder = []inventoryv1.CodeNamespace{
	inventoryv1.CodeNamespace_CODE_NAMESPACE_BARCODE,
	inventoryv1.CodeNamespace_CODE_NAMESPACE_WMS,
	inventoryv1.CodeNamespace_CODE_NAMESPACE_ERP,
	inventoryv1.CodeNamespace_CODE_NAMESPACE_SUPPLIER,
}

// ResolveItem implements app.Inventory.
func (c *Client) ResolveItem(ctx context.Context, code, supplier string) (fulfillment.ItemFacts, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	supplier = strings.ToUpper(strings.TrimSpace(supplier))
	it, err := c.inv.GetItem(ctx, &inventoryv1.GetItemRequest{Name: "items/" + code})
	if err == nil {
		return facts(it, inventoryv1.CodeNamespace_CODE_NAMESPACE_UNSPECIFIED, "", code)
	}
	if apperr.KindOf(err) != apperr.KindNotFound && apperr.KindOf(err) != apperr.KindInvalidArgument {
		return fulfillment.ItemFacts{}, fmt.Errorf("inventory: item %s: %w", code, err)
	}
	for _, ns := range lookupOrder {
		partner := ""
		if ns == inventoryv1.CodeNamespace_CODE_NAMESPACE_SUPPLIER {
			if supplier == "" {
				continue
			}
			partner = supplier
		}
		it, err := c.inv.LookupItem(ctx, &inventoryv1.LookupItemRequest{Namespace: ns, Partner: partner, Code: code})
		if err == nil {
			return facts(it, ns, partner, code)
		}
		if k := apperr.KindOf(err); k != apperr.KindNotFound && k != apperr.KindInvalidArgument {
			return fulfillment.ItemFacts{}, fmt.Errorf("inventory: look up %s: %w", code, err)
		}
	}
	return fulfillment.ItemFacts{}, apperr.NotFound("item with code", code)
}

// facts is what receiving needs of an item found by code in namespace ns.
func facts(it *inventoryv1.Item, ns inventoryv1.CodeNamespace, partner, code string) (fulfillment.ItemFacts, error) {
	f := fulfillment.ItemFacts{SKU: it.GetSku(), BaseUoM: it.GetBaseUom(),
		Factors:        map[string]*big.Rat{it.GetBaseUom(): big.NewRat(1, 1)},
		LotTracked:     it.GetTracking() == inventoryv1.Tracking_TRACKING_LOT || it.GetTracking() == inventoryv1.Tracking_TRACKING_SERIAL,
		ExpiryRequired: it.GetExpiryRequired()}
	for _, u := range it.GetUoms() {
		r, ok := new(big.Rat).SetString(u.GetFactor())
		if !ok {
			return fulfillment.ItemFacts{}, fmt.Errorf("inventory: item %s unit %s has factor %q", it.GetSku(), u.GetUom(), u.GetFactor())
		}
		f.Factors[u.GetUom()] = r
	}
	for _, ic := range it.GetCodes() {
		if ic.GetNamespace() == ns && ic.GetPartner() == partner && ic.GetCode() == code {
			f.ScanUoM = ic.GetUom()
		}
	}
	return f, nil
}

// Location implements app.Inventory.
func (c *Client) Location(ctx context.Context, warehouse, code string) (app.Location, error) {
	l, err := c.inv.GetLocation(ctx, &inventoryv1.GetLocationRequest{Name: "warehouses/" + warehouse + "/locations/" + code})
	if err != nil {
		return app.Location{}, err
	}
	return app.Location{Warehouse: warehouse, Code: l.GetCode(), Blocked: l.GetBlocked()}, nil
}

// Locations implements app.Inventory: every location of the warehouse,
// remembered for locationsTTL.
func (c *Client) Locations(ctx context.Context, warehouse string) ([]fulfillment.LocationFacts, error) {
	c.mu.Lock()
	q, ok := c.locations[warehouse]
	c.mu.Unlock()
	if ok && time.Since(q.at) < locationsTTL {
		return q.locs, nil
	}
	var locs []fulfillment.LocationFacts
	token := ""
	for {
		resp, err := c.inv.ListLocations(ctx, &inventoryv1.ListLocationsRequest{Parent: "warehouses/" + warehouse, PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, err
		}
		for _, l := range resp.GetLocations() {
			locs = append(locs, fulfillment.LocationFacts{Code: l.GetCode(), Type: kinds[l.GetType()], Blocked: l.GetBlocked()})
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	c.mu.Lock()
	c.locations[warehouse] = cached{locs: locs, at: time.Now()}
	c.mu.Unlock()
	return locs, nil
}

var kinds = map[inventoryv1.LocationType]fulfillment.LocationKind{
	inventoryv1.LocationType_LOCATION_TYPE_RECEIVING_DOCK: fulfillment.LocationDock,
	inventoryv1.LocationType_LOCATION_TYPE_STORAGE:        fulfillment.LocationStorage,
	inventoryv1.LocationType_LOCATION_TYPE_PICK_FACE:      fulfillment.LocationPickFace,
	inventoryv1.LocationType_LOCATION_TYPE_QUARANTINE:     fulfillment.LocationQuarantine,
	inventoryv1.LocationType_LOCATION_TYPE_STAGING:        fulfillment.LocationStaging,
}

// StockOf implements app.Inventory.
func (c *Client) StockOf(ctx context.Context, warehouse, sku string) ([]fulfillment.Holding, error) {
	var out []fulfillment.Holding
	token := ""
	for {
		resp, err := c.inv.ListStock(ctx, &inventoryv1.ListStockRequest{Warehouse: "warehouses/" + warehouse, Item: "items/" + sku, PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, err
		}
		for _, l := range resp.GetLevels() {
			q, err := qty.Parse(l.GetOnHand())
			if err != nil {
				return nil, fmt.Errorf("inventory: stock of %s at %s: on hand %q: %w", sku, l.GetLocation(), l.GetOnHand(), err)
			}
			avail, err := qty.Parse(l.GetAvailable())
			if err != nil {
				return nil, fmt.Errorf("inventory: stock of %s at %s: available %q: %w", sku, l.GetLocation(), l.GetAvailable(), err)
			}
			out = append(out, fulfillment.Holding{Location: l.GetLocation()[strings.LastIndex(l.GetLocation(), "/")+1:], OnHand: q, Available: avail})
		}
		if token = resp.GetNextPageToken(); token == "" {
			return out, nil
		}
	}
}

// Move implements app.Inventory.
func (c *Client) Move(ctx context.Context, requestID, warehouse string, m app.Move) (string, error) {
	mv, err := c.inv.MoveStock(ctx, &inventoryv1.MoveStockRequest{
		RequestId:    requestID,
		Item:         "items/" + m.SKU,
		FromLocation: "warehouses/" + warehouse + "/locations/" + m.From,
		ToLocation:   "warehouses/" + warehouse + "/locations/" + m.To,
		Quantity:     &typev1.Quantity{Value: m.Quantity, Uom: m.UoM},
		Lot:          m.Lot,
		Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_RECEIPT,
			Id: m.Receipt, Line: strconv.Itoa(m.ReceiptLine)},
	})
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(mv.GetName(), "movements/"), nil
}

// Receive implements app.Inventory.
func (c *Client) Receive(ctx context.Context, requestID, warehouse string, b fulfillment.Booking) (string, error) {
	req := &inventoryv1.ReceiveStockRequest{
		RequestId:  requestID,
		Item:       "items/" + b.SKU,
		Location:   "warehouses/" + warehouse + "/locations/" + b.Location,
		Quantity:   &typev1.Quantity{Value: b.Quantity, Uom: b.UoM},
		Lot:        b.Lot,
		ExpiryDate: b.Expiry,
		UnitCost:   &inventoryv1.UnitCost{CurrencyCode: b.Cost.Currency, Amount: b.Cost.Amount, Uom: b.Cost.UoM},
	}
	if b.PurchaseOrder != "" {
		req.Source = &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER,
			Id: b.PurchaseOrder, Line: strconv.Itoa(b.POLine)}
	} else {
		req.Source = &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_RECEIPT,
			Id: b.Receipt, Line: strconv.Itoa(b.ReceiptLine)}
	}
	m, err := c.inv.ReceiveStock(ctx, req)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(m.GetName(), "movements/"), nil
}

func orderDoc(order string, line int) *inventoryv1.SourceDocument {
	return &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_OUTBOUND_ORDER, Id: order, Line: strconv.Itoa(line)}
}

// Allocate implements app.OutboundInventory.
func (c *Client) Allocate(ctx context.Context, requestID string, a app.Allocate) (fulfillment.Reserved, error) {
	al, err := c.inv.AllocateStock(ctx, &inventoryv1.AllocateStockRequest{RequestId: requestID, Item: "items/" + a.SKU,
		Warehouse: "warehouses/" + a.Warehouse, Quantity: &typev1.Quantity{Value: a.Qty.String()}, Order: orderDoc(a.Order, a.Line),
		AllowPartial: true})
	if err != nil {
		return fulfillment.Reserved{}, err
	}
	r := fulfillment.Reserved{Allocation: strings.TrimPrefix(al.GetName(), "allocations/")}
	if r.Allocated, err = parseQty(al.GetAllocated()); err != nil {
		return r, fmt.Errorf("inventory: allocation %s allocated %q: %w", al.GetName(), al.GetAllocated(), err)
	}
	if r.Shortfall, err = parseQty(al.GetShortfall()); err != nil {
		return r, fmt.Errorf("inventory: allocation %s shortfall %q: %w", al.GetName(), al.GetShortfall(), err)
	}
	for _, l := range al.GetLines() {
		q, err := parseQty(l.GetQuantity())
		if err != nil {
			return r, fmt.Errorf("inventory: allocation %s line quantity %q: %w", al.GetName(), l.GetQuantity(), err)
		}
		r.Lines = append(r.Lines, fulfillment.ReservedLine{Location: lastSegment(l.GetLocation()), Lot: l.GetLot(), Qty: q})
	}
	return r, nil
}

func parseQty(s string) (qty.Qty, error) {
	if s == "" {
		return 0, nil
	}
	return qty.Parse(s)
}

func lastSegment(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// ConfirmPick implements app.OutboundInventory.
func (c *Client) ConfirmPick(ctx context.Context, requestID string, p app.InventoryPick) error {
	_, err := c.inv.ConfirmPick(ctx, &inventoryv1.ConfirmPickRequest{Allocation: "allocations/" + p.Allocation, RequestId: requestID,
		Location: "warehouses/" + p.Warehouse + "/locations/" + p.From, Lot: p.Lot,
		Quantity: &typev1.Quantity{Value: p.Qty.String(), Uom: p.BaseUoM}, Source: orderDoc(p.Order, p.Line),
		ToLocation: "warehouses/" + p.Warehouse + "/locations/" + p.To, ReleaseRemaining: p.ReleaseRemaining})
	return err
}

// ReleaseAllocation implements app.OutboundInventory.
func (c *Client) ReleaseAllocation(ctx context.Context, requestID, allocation string) error {
	_, err := c.inv.ReleaseAllocation(ctx, &inventoryv1.ReleaseAllocationRequest{Name: "allocations/" + allocation, RequestId: requestID})
	return err
}

// ConfirmShipment implements app.OutboundInventory: one issue per staged
// line, in the order asked.
func (c *Client) ConfirmShipment(ctx context.Context, requestID, warehouse, allocation, shipment string, lines []fulfillment.ShipmentLine) ([]fulfillment.ShipmentLine, error) {
	req := &inventoryv1.ConfirmShipmentRequest{RequestId: requestID, Allocation: "allocations/" + allocation,
		Source: &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_SHIPMENT, Id: shipment}}
	for _, l := range lines {
		req.Lines = append(req.Lines, &inventoryv1.ShipmentLine{Location: "warehouses/" + warehouse + "/locations/" + l.Location,
			Lot: l.Lot, Quantity: &typev1.Quantity{Value: l.Qty.String(), Uom: l.BaseUoM}})
	}
	resp, err := c.inv.ConfirmShipment(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make([]fulfillment.ShipmentLine, len(lines))
	for i, m := range resp.GetMovements() {
		if i >= len(out) {
			break
		}
		v := m.GetValue().GetMinorUnits()
		if v < 0 {
			v = -v
		}
		out[i] = fulfillment.ShipmentLine{CostMinor: v, CostCurrency: m.GetValue().GetCurrencyCode(), Movement: strings.TrimPrefix(m.GetName(), "movements/")}
	}
	return out, nil
}
