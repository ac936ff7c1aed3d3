package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
)

// Inbound is the receiving flow's figures: the dock receives against a
// purchase order at a fixed concurrency; a receipt is complete when its
// Inventory / GRNI entry is in the ledger.
type Inbound struct {
	Concurrency int     `json:"concurrency"`
	Receipts    int     `json:"receipts"`
	Completed   int     `json:"completed"`
	Failed      int64   `json:"failed"`
	FirstError  string  `json:"firstError,omitempty"`
	PerSec      float64 `json:"receiptsPerSec"`
	// RatioToCommitCeiling is PerSec over the database ceiling.
	RatioToCommitCeiling float64 `json:"ratioToCommitCeiling,omitempty"`
	// Receive is the ReceiveStock call's latency.
	Receive Latency `json:"receiveStock"`
	// ReceiptToGRNI runs from the movement's creation to its entry's post.
	ReceiptToGRNI Latency `json:"receiptToGrni"`
}

func (b *run) inbound(ctx context.Context, ceil *Ceilings) (*Inbound, error) {
	b.progress(fmt.Sprintf("inbound: receipts at concurrency %d", b.cfg.Concurrency))
	begun := time.Now()
	var mu sync.Mutex
	created := map[string]time.Time{} // movement id → create time
	call := closedLoop(ctx, b.cfg.Concurrency, b.cfg.Duration, func(ctx context.Context, n int64) error {
		m, err := b.c.inv.ReceiveStock(ctx, &inventoryv1.ReceiveStockRequest{RequestId: b.id("receipt", n),
			Item: "items/" + b.sku, Location: "warehouses/" + warehouse + "/locations/" + bin, Quantity: qty("1", "EA"),
			UnitCost: &inventoryv1.UnitCost{CurrencyCode: "USD", Amount: "1.20"},
			Source:   &inventoryv1.SourceDocument{Type: inventoryv1.SourceDocumentType_SOURCE_DOCUMENT_TYPE_PURCHASE_ORDER, Id: b.id("po"), Line: "1"}})
		if err != nil {
			return err
		}
		mu.Lock()
		created[strings.TrimPrefix(m.GetName(), "movements/")] = m.GetCreateTime().AsTime()
		mu.Unlock()
		return nil
	})
	in := &Inbound{Concurrency: b.cfg.Concurrency, Receipts: len(created), Failed: call.Errors, FirstError: call.FirstError, Receive: call.Latency}
	b.progress("inbound: waiting for the ledger")
	postedAt := map[string]time.Time{}
	lastCount, lastProgress := -1, time.Now()
	for len(postedAt) < len(created) {
		postedAt = map[string]time.Time{}
		if err := b.scanJournal(ctx, begun.Add(-time.Minute), func(e *ledgerv1.JournalEntry) {
			if id := e.GetSource().GetMovementId(); id != "" {
				if _, ok := created[id]; ok {
					postedAt[id] = e.GetPostTime().AsTime()
				}
			}
		}); err != nil {
			return in, err
		}
		if len(postedAt) != lastCount {
			lastCount, lastProgress = len(postedAt), time.Now()
		}
		if time.Since(lastProgress) > time.Minute {
			return in, fmt.Errorf("the ledger posted %d of %d receipts and made no progress for a minute", len(postedAt), len(created))
		}
		if len(postedAt) < len(created) {
			select {
			case <-time.After(250 * time.Millisecond):
			case <-ctx.Done():
				return in, ctx.Err()
			}
		}
	}
	var lat []time.Duration
	var last time.Time
	for id, p := range postedAt {
		lat = append(lat, p.Sub(created[id]))
		if p.After(last) {
			last = p
		}
	}
	in.Completed = len(postedAt)
	if in.Completed > 0 {
		in.PerSec = round1(float64(in.Completed) / last.Sub(begun).Seconds())
	}
	if ceil != nil {
		in.RatioToCommitCeiling = ratio(in.PerSec, ceil.DatabaseCommitsPerSec)
	}
	in.ReceiptToGRNI = latencyOf(lat)
	return in, nil
}
