// Package inventoryview is reconciliation's view of the inventory service,
// over its gRPC API: valuation pages at their journal watermarks, and the
// journal's movements after a sequence.
package inventoryview

import (
	"context"
	"fmt"
	"strings"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
)

// pageSize is the page asked of inventory's list RPCs.
const pageSize = 1000

// View implements app.InventoryView.
type View struct {
	client inventoryv1.InventoryServiceClient
}

var _ app.InventoryView = View{}

// New builds the view over an inventory client.
func New(c inventoryv1.InventoryServiceClient) View { return View{client: c} }

// Valuation implements app.InventoryView.
func (v View) Valuation(ctx context.Context, fn func(through int64, lines map[ledger.StockKey]int64) error) error {
	token := ""
	for {
		resp, err := v.client.GetValuation(ctx, &inventoryv1.GetValuationRequest{PageSize: pageSize, PageToken: token})
		if err != nil {
			return fmt.Errorf("inventory valuation: %w", err)
		}
		lines := map[ledger.StockKey]int64{}
		for _, l := range resp.GetLines() {
			k := ledger.StockKey{Warehouse: last(l.GetWarehouse()), Item: last(l.GetItem()), Currency: l.GetValue().GetCurrencyCode()}
			lines[k] += l.GetValue().GetMinorUnits()
		}
		if err := fn(resp.GetCompleteThroughSeq(), lines); err != nil {
			return err
		}
		if token = resp.GetNextPageToken(); token == "" {
			return nil
		}
	}
}

// Movements implements app.InventoryView.
func (v View) Movements(ctx context.Context, after, through int64, fn func([]ledger.PendingMovement) error) error {
	token := ""
	for {
		req := &inventoryv1.ListMovementsRequest{PageSize: pageSize, PageToken: token}
		if token == "" {
			req.StartAfterSeq = after
		}
		resp, err := v.client.ListMovements(ctx, req)
		if err != nil {
			return fmt.Errorf("inventory movements after %d: %w", after, err)
		}
		var page []ledger.PendingMovement
		done := len(resp.GetMovements()) == 0
		for _, m := range resp.GetMovements() {
			if m.GetSeq() > through {
				done = true
				break
			}
			if m.GetValue().GetMinorUnits() == 0 || m.GetType() == inventoryv1.MovementType_MOVEMENT_TYPE_MOVE {
				continue
			}
			page = append(page, ledger.PendingMovement{
				MovementID: last(m.GetName()), Seq: m.GetSeq(), Value: m.GetValue().GetMinorUnits(),
				Key: ledger.StockKey{Warehouse: last(m.GetWarehouse()), Item: last(m.GetItem()), Currency: m.GetValue().GetCurrencyCode()},
			})
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
		if token = resp.GetNextPageToken(); done || token == "" {
			return nil
		}
	}
}

func last(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}
