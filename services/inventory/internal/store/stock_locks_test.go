package store_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
)

// levelCounter counts, per transaction, the stock level statements a command
// runs: LockLevel (SELECT … FOR UPDATE) per level, and AddToLevel.
type levelCounter struct {
	app.Store
	mu    sync.Mutex
	last  txCounts
	total int
}

type txCounts struct {
	locks map[string]int // level key -> LockLevel calls
	adds  int            // AddToLevel calls
}

func (c txCounts) lockCount() int {
	n := 0
	for _, k := range c.locks {
		n += k
	}
	return n
}

func (c txCounts) relocked() []string {
	var out []string
	for k, n := range c.locks {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s locked %d times", k, n))
		}
	}
	sort.Strings(out)
	return out
}

func (c *levelCounter) InTx(ctx context.Context, fn func(tx app.Tx) error) error {
	counts := &txCounts{locks: map[string]int{}}
	err := c.Store.InTx(ctx, func(tx app.Tx) error { return fn(&countingTx{Tx: tx, counts: counts}) })
	c.mu.Lock()
	c.last = *counts
	c.mu.Unlock()
	return err
}

func (c *levelCounter) take() txCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.last
	c.last = txCounts{}
	return out
}

type countingTx struct {
	app.Tx
	counts *txCounts
}

func (t *countingTx) LockLevel(ctx context.Context, warehouse, location, sku, lot string) (*inventory.Level, error) {
	t.counts.locks[strings.Join([]string{warehouse, location, sku, lot}, "/")]++
	return t.Tx.LockLevel(ctx, warehouse, location, sku, lot)
}

func (t *countingTx) AddToLevel(ctx context.Context, warehouse, location, sku, lot string, onHand, allocated inventory.Qty, receivedAt time.Time) error {
	t.counts.adds++
	return t.Tx.AddToLevel(ctx, warehouse, location, sku, lot, onHand, allocated, receivedAt)
}

// Every stock command locks (and reads) each stock level it touches once.
func TestStockCommandsLockEachLevelOnce(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		counter := &levelCounter{}
		svc := transferFixtureOn(t, stockFixtureOn(t, newServiceOn(t, db, func(s app.Store) app.Store {
			counter.Store = s
			return counter
		})))
		counter.take()
		step := func(name string, run func() error) {
			t.Helper()
			if err := run(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			c := counter.take()
			t.Logf("%-24s LockLevel %d, AddToLevel %d", name, c.lockCount(), c.adds)
			if r := c.relocked(); len(r) > 0 {
				t.Errorf("%s: %s", name, strings.Join(r, "; "))
			}
		}
		cost := app.UnitCost{Currency: "USD", Amount: "1.00"}
		var rcv *inventory.Movement
		step("ReceiveStock", func() (err error) {
			rcv, err = svc.ReceiveStock(ctx, app.Receive{RequestID: rid("rcv"), SKU: "WIDGET", Warehouse: "W1", Location: "A1",
				Quantity: app.Quantity{Value: "20"}, Cost: cost, Source: poSrc})
			return err
		})
		step("ReceiveStock (2nd layer)", func() error {
			_, err := svc.ReceiveStock(ctx, app.Receive{RequestID: rid("rcv"), SKU: "WIDGET", Warehouse: "W1", Location: "A1",
				Quantity: app.Quantity{Value: "20"}, Cost: app.UnitCost{Currency: "USD", Amount: "2.00"}, Source: poSrc})
			return err
		})
		step("MoveStock", func() error {
			_, err := svc.MoveStock(ctx, app.Move{RequestID: rid("mv"), SKU: "WIDGET", Warehouse: "W1", From: "A1", To: "A2", Quantity: app.Quantity{Value: "2"}})
			return err
		})
		step("IssueStock", func() error { _, err := issue(svc, "WIDGET", "A2", "1", "", ""); return err })
		step("AdjustStock (down)", func() error {
			_, err := svc.AdjustStock(ctx, app.Adjust{RequestID: rid("adj"), SKU: "WIDGET", Warehouse: "W1", Location: "A2", Quantity: app.Quantity{Value: "-1"}, Reason: "DAMAGED"})
			return err
		})
		step("AdjustStock (up)", func() error {
			_, err := svc.AdjustStock(ctx, app.Adjust{RequestID: rid("adj"), SKU: "WIDGET", Warehouse: "W1", Location: "A2", Quantity: app.Quantity{Value: "3"}, Reason: "FOUND"})
			return err
		})
		step("CountStock (up)", func() error {
			_, err := svc.CountStock(ctx, app.Count{RequestID: rid("cnt"), SKU: "WIDGET", Warehouse: "W1", Location: "A2", Counted: app.Quantity{Value: "5"}})
			return err
		})
		step("CountStock (down)", func() error {
			_, err := svc.CountStock(ctx, app.Count{RequestID: rid("cnt"), SKU: "WIDGET", Warehouse: "W1", Location: "A2", Counted: app.Quantity{Value: "4"}})
			return err
		})
		step("CountStock (same)", func() error {
			_, err := svc.CountStock(ctx, app.Count{RequestID: rid("cnt"), SKU: "WIDGET", Warehouse: "W1", Location: "A2", Counted: app.Quantity{Value: "4"}})
			return err
		})
		var a *inventory.Allocation
		step("AllocateStock", func() (err error) {
			a, err = svc.AllocateStock(ctx, app.Allocate{RequestID: rid("al"), SKU: "WIDGET", Warehouse: "W1", Quantity: app.Quantity{Value: "3"}, Order: soSrc})
			return err
		})
		for _, l := range a.Lines {
			step("ConfirmPick "+l.Location, func() error {
				_, err := svc.ConfirmPick(ctx, app.ConfirmPick{RequestID: rid("p"), AllocationID: a.ID, Location: l.Location, Lot: l.Lot,
					Quantity: app.Quantity{Value: l.Qty.String()}, ToLocation: "STG", Source: soSrc})
				return err
			})
		}
		step("ConfirmShipment", func() error {
			_, err := svc.ConfirmShipment(ctx, app.Ship{RequestID: rid("sh"), AllocationID: a.ID, Source: shipSrc})
			return err
		})
		var tr *inventory.Transfer
		step("TransferStock", func() (err error) { // takes from both receipt layers
			tr, err = svc.TransferStock(ctx, app.Transfer{RequestID: rid("x"), SKU: "WIDGET", Warehouse: "W1", FromLocation: "A1", ToWarehouse: "W2",
				Quantity: app.Quantity{Value: "25"}, Source: xferSrc})
			return err
		})
		if len(tr.Layers) < 2 {
			t.Fatalf("transfer carries %d layers, want 2", len(tr.Layers))
		}
		step("ReceiveTransfer", func() error {
			_, err := svc.ReceiveTransfer(ctx, app.ReceiveTransfer{RequestID: rid("rt"), TransferID: tr.ID, Warehouse: "W2", Location: "B1"})
			return err
		})
		var wrong *inventory.Movement
		step("ReceiveStock (wrong)", func() (err error) {
			wrong, err = svc.ReceiveStock(ctx, app.Receive{RequestID: rid("rcv"), SKU: "WIDGET", Warehouse: "W1", Location: "A2",
				Quantity: app.Quantity{Value: "7"}, Cost: cost, Source: poSrc})
			return err
		})
		step("ReverseMovement", func() error {
			_, err := svc.ReverseMovement(ctx, app.Reverse{RequestID: rid("rev"), MovementID: wrong.ID})
			return err
		})
		_ = rcv
	})
}
