package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/inventory/internal/inventory"
)

// UpdateItem changes the fields of an item that u names, if the item is still
// at the version the caller read (else Conflict, safe to retry after reading
// again). The result is validated like a new item; codes keep mapping to one
// item each (AlreadyExists names the holder); an update that would strand the
// item's stock or open allocations is refused (FailedPrecondition). The change
// and its ItemUpdated event commit together. A retry with the same requestID
// returns the item as it is now, without applying the change again.
//
// It takes the item's lock before it reads anything, like every stock command
// (see itemForStock): the rules that depend on stock (cost method, tracking,
// units in use) are then checked against stock no concurrent command can still
// change, and a command that waits for this one reads the item as updated.
func (s *Service) UpdateItem(ctx context.Context, requestID, sku string, u inventory.ItemUpdate) (*inventory.Item, error) {
	sku = inventory.NormalizeSKU(sku)
	if err := u.Check(); err != nil {
		return nil, err
	}
	cmd := struct {
		SKU    string
		Update inventory.ItemUpdate
	}{sku, u}
	return storetx.RunCommand(ctx, s.store.InTx, "UpdateItem", requestID, cmd,
		func(tx Tx, sku string) (*inventory.Item, error) { return tx.GetItem(ctx, sku) },
		func(tx Tx) (*inventory.Item, string, error) {
			// Without the lock, on PostgreSQL, a receipt in flight holds it while
			// ItemUsage below sees no stock yet; the UPDATE then waits for the
			// receipt to commit and applies anyway, switching the cost method of
			// an item with stock on hand.
			if err := tx.LockItem(ctx, sku); err != nil {
				return nil, "", err
			}
			cur, err := tx.GetItem(ctx, sku)
			if err != nil {
				return nil, "", err
			}
			next, err := cur.Update(u, s.now())
			if err != nil {
				return nil, "", err
			}
			use, err := tx.ItemUsage(ctx, sku)
			if err != nil {
				return nil, "", err
			}
			if err := inventory.CheckUpdate(cur, next, use); err != nil {
				return nil, "", err
			}
			if err := tx.UpdateItem(ctx, next, cur.Version); err != nil {
				return nil, "", err
			}
			if err := tx.Emit(ctx, inventory.ItemUpdated{Item: *next}); err != nil {
				return nil, "", err
			}
			return next, next.SKU, nil
		})
}

// LookupItem finds the item another system's code maps to. The code is
// normalised as on create, so "ac-1" finds the item mapped to "AC-1".
func (s *Service) LookupItem(ctx context.Context, code inventory.ItemCode) (*inventory.Item, error) {
	c, err := inventory.LookupCode(code)
	if err != nil {
		return nil, err
	}
	sku, err := s.store.LookupItemCode(ctx, c)
	if err != nil {
		return nil, err
	}
	return s.store.GetItem(ctx, sku)
}

// AuditItems audits the whole item master with the stock facts that bear on
// it, and returns the findings most severe first. It only reads, and reads
// outside a transaction: a report, not a snapshot.
func (s *Service) AuditItems(ctx context.Context) ([]inventory.Finding, error) {
	items, err := s.store.AllItems(ctx)
	if err != nil {
		return nil, err
	}
	facts, err := s.store.AuditStockFacts(ctx)
	if err != nil {
		return nil, err
	}
	return inventory.Audit(items, facts), nil
}

// ImportResult is the outcome of an import.
type ImportResult struct {
	// Created counts the items written: 0 for a dry run or a refused import.
	Created int
	// Errors are the problems that stopped the import.
	Errors []inventory.ImportError
	// Findings are the data-quality findings that involve imported items.
	Findings []inventory.Finding
	// Committed says whether the items were written.
	Committed bool
}

// errImportRefused rolls back an import transaction that found errors; the
// errors themselves go back in the result.
var errImportRefused = errors.New("import refused")

// ImportItems validates a parsed import and, unless validateOnly, writes all
// its items with one ItemCreated event each in one transaction, or, if there
// is any error, nothing. validateOnly (a dry run) writes nothing at all, not
// even the request id. A retry of a committed import with the same requestID
// returns the count it created and the current findings on its items.
func (s *Service) ImportItems(ctx context.Context, requestID string, batch inventory.ImportBatch, validateOnly bool) (*ImportResult, error) {
	if len(batch.Records) == 0 && len(batch.Errors) == 0 {
		return nil, apperr.Invalid(apperr.Field("content", "has no items"))
	}
	if len(batch.Records) > inventory.MaxImportRecords {
		return nil, apperr.Invalid(apperr.Field("content", fmt.Sprintf("has more than %d items; split the file", inventory.MaxImportRecords)))
	}
	if validateOnly {
		existing, err := s.store.AllItems(ctx)
		if err != nil {
			return nil, err
		}
		return planResult(inventory.PlanImport(batch, existing, s.now())), nil
	}
	// A refused import rolls back and reports its errors as the result, not
	// as the call's error; refused carries that result out of the transaction.
	var refused *ImportResult
	res, err := storetx.RunCommand(ctx, s.store.InTx, "ImportItems", requestID, batch,
		func(tx Tx, prior string) (*ImportResult, error) { return replayImport(ctx, tx, prior, batch) },
		func(tx Tx) (*ImportResult, string, error) {
			// Validation reads the item master inside the transaction, so what it
			// checked against is what the writes land on.
			existing, err := tx.AllItems(ctx)
			if err != nil {
				return nil, "", err
			}
			plan := inventory.PlanImport(batch, existing, s.now())
			res := planResult(plan)
			if len(plan.Errors) > 0 {
				refused = res
				return nil, "", errImportRefused
			}
			if err := tx.InsertItems(ctx, plan.Items); err != nil {
				return nil, "", err
			}
			events := make([]any, 0, len(plan.Items))
			for _, it := range plan.Items {
				events = append(events, inventory.ItemCreated{Item: *it})
			}
			if err := tx.Emit(ctx, events...); err != nil {
				return nil, "", err
			}
			res.Created, res.Committed = len(plan.Items), true
			return res, strconv.Itoa(len(plan.Items)), nil
		})
	if errors.Is(err, errImportRefused) {
		return refused, nil
	}
	return res, err
}

func planResult(p inventory.ImportPlan) *ImportResult {
	return &ImportResult{Errors: p.Errors, Findings: p.Findings}
}

// replayImport answers a retry of a committed import: what it created, and the
// findings on its items as the item master stands now.
func replayImport(ctx context.Context, r Reader, prior string, batch inventory.ImportBatch) (*ImportResult, error) {
	n, err := strconv.Atoi(prior)
	if err != nil {
		return nil, fmt.Errorf("import replay: stored result %q: %w", prior, err)
	}
	items, err := r.AllItems(ctx)
	if err != nil {
		return nil, err
	}
	mine := make(map[string]bool, len(batch.Records))
	for _, rec := range batch.Records {
		mine[inventory.NormalizeSKU(rec.Item.SKU)] = true
	}
	res := &ImportResult{Created: n, Committed: true}
	for _, f := range inventory.Audit(items, inventory.StockFacts{}) {
		if f.Involves(mine) {
			res.Findings = append(res.Findings, f)
		}
	}
	return res, nil
}
