package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
// it, and returns the findings in SortFindings order (most severe first). It
// only reads, and reads outside a transaction: a report, not a snapshot.
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

// AuditItemsPage audits the item master as AuditItems does and returns the
// page of at most limit findings after the key after (nil: the first page),
// with the counts of the whole audit. Each page audits afresh, so a page
// resumes after the previous page's last finding even when the master changed
// in between.
func (s *Service) AuditItemsPage(ctx context.Context, after *inventory.FindingKey, limit int) (inventory.FindingsPage, error) {
	fs, err := s.AuditItems(ctx)
	if err != nil {
		return inventory.FindingsPage{}, err
	}
	return inventory.PageFindings(fs, after, limit), nil
}

// ImportResult is the outcome of an import. It stays small however large the
// import: it lists at most inventory.MaxImportReport errors and findings and
// counts them all.
type ImportResult struct {
	// Created counts the items this import request wrote, over all its calls:
	// 0 for a dry run; for a refused import, what an earlier call with the
	// same request id wrote before it failed (usually 0).
	Created int
	// Errors are the first of the problems that stop the import, by line.
	Errors []inventory.ImportError
	// ErrorCount counts every error.
	ErrorCount int
	// Findings are the first of the data-quality findings that involve
	// imported items, most severe first.
	Findings []inventory.Finding
	// FindingCount counts every finding, and Summary by code and severity.
	FindingCount int
	Summary      []inventory.FindingCount
	// Committed says whether every item of the import is written.
	Committed bool
}

// importScope is the idempotency scope of an import's chunks; each chunk is
// claimed under the import's request id and its index (chunkKey).
const importScope = "ImportItemsChunk"

// maxImportRequestID leaves room in the 200-character idempotency key for the
// chunk suffix.
const maxImportRequestID = 190

func chunkKey(requestID string, chunk int) string {
	if requestID == "" {
		return ""
	}
	return requestID + "#" + strconv.Itoa(chunk)
}

// importChunk is the fingerprint of one chunk's claim: the digest of the whole
// content, so a request id reused for other content is refused at its first
// chunk, and the chunk's place in it.
type importChunk struct {
	Content       string
	Chunk, Chunks int
}

// errImportProbed rolls back the transaction that looked up which chunks of
// an import are already written.
var errImportProbed = errors.New("import progress probed")

// ImportItems validates a parsed import as a whole and, unless validateOnly,
// writes its items, with one ItemCreated event each, inventory.ImportChunkSize
// items per transaction; if there is any error it writes nothing.
// validateOnly (a dry run) writes nothing at all, not even the request id.
//
// Validation reads the item master outside any transaction; the chunks rely
// on the unique SKU and code constraints for what a concurrent command
// creates in between (a Conflict, safe to retry). A call that fails after
// some chunks committed leaves them: a retry with the same requestID and
// content skips the committed chunks (validating against the master without
// the items they wrote) and writes the rest; a retry of a finished import
// writes nothing and returns the same counts. Without a requestID an
// interrupted import cannot be resumed: its retry reports the written items
// as existing.
func (s *Service) ImportItems(ctx context.Context, requestID string, batch inventory.ImportBatch, validateOnly bool) (*ImportResult, error) {
	if len(batch.Records) == 0 && len(batch.Errors) == 0 {
		return nil, apperr.Invalid(apperr.Field("content", "has no items"))
	}
	if len(batch.Records) > inventory.MaxImportRecords {
		return nil, apperr.Invalid(apperr.Field("content", fmt.Sprintf("has more than %d items; split the file", inventory.MaxImportRecords)))
	}
	if len(requestID) > maxImportRequestID {
		return nil, apperr.Invalid(apperr.Field("request_id", fmt.Sprintf("must be at most %d characters for an import", maxImportRequestID)))
	}
	if validateOnly {
		existing, err := s.store.AllItems(ctx)
		if err != nil {
			return nil, err
		}
		return planResult(inventory.PlanImport(batch, existing, s.now())), nil
	}
	canonical, err := json.Marshal(batch)
	if err != nil {
		return nil, fmt.Errorf("import fingerprint: %w", err)
	}
	sum := sha256.Sum256(canonical)
	digest := hex.EncodeToString(sum[:])
	size := inventory.ImportChunkSize
	chunks := (len(batch.Records) + size - 1) / size
	fingerprint := func(k int) importChunk { return importChunk{Content: digest, Chunk: k, Chunks: chunks} }

	done, created, err := s.importProgress(ctx, requestID, chunks, fingerprint)
	if err != nil {
		return nil, err
	}
	existing, err := s.store.AllItems(ctx)
	if err != nil {
		return nil, err
	}
	if done > 0 {
		// The items the committed chunks wrote are this import's, not clashes.
		mine := make(map[string]bool, done*size)
		for _, rec := range batch.Records[:min(done*size, len(batch.Records))] {
			mine[inventory.NormalizeSKU(rec.Item.SKU)] = true
		}
		kept := existing[:0:0]
		for _, it := range existing {
			if !mine[it.SKU] {
				kept = append(kept, it)
			}
		}
		existing = kept
	}
	plan := inventory.PlanImport(batch, existing, s.now())
	res := planResult(plan)
	res.Created = created
	if len(plan.Errors) > 0 || len(plan.Items) == 0 {
		return res, nil
	}
	// No errors: every record became an item, in file order, so chunk k of
	// the records is chunk k of the items.
	for k := done; k < chunks; k++ {
		items := plan.Items[k*size : min((k+1)*size, len(plan.Items))]
		n, err := storetx.RunCommand(ctx, s.store.InTx, importScope, chunkKey(requestID, k), fingerprint(k),
			func(_ Tx, prior string) (int, error) { return strconv.Atoi(prior) },
			func(tx Tx) (int, string, error) {
				if err := tx.InsertItems(ctx, items); err != nil {
					return 0, "", err
				}
				events := make([]any, 0, len(items))
				for _, it := range items {
					events = append(events, inventory.ItemCreated{Item: *it})
				}
				if err := tx.Emit(ctx, events...); err != nil {
					return 0, "", err
				}
				return len(items), strconv.Itoa(len(items)), nil
			})
		if err != nil {
			if res.Created > 0 {
				return nil, interrupted(err, res.Created, len(plan.Items), requestID)
			}
			return nil, err
		}
		res.Created += n
	}
	res.Committed = true
	return res, nil
}

// interrupted says, on the error of a chunk, that earlier chunks are written:
// the caller must not take the import for one that wrote nothing.
func interrupted(err error, created, total int, requestID string) error {
	msg := fmt.Sprintf("import interrupted after %d of %d items were written", created, total)
	if requestID != "" {
		msg += ": retry with the same request_id and content to write the rest"
	}
	var e *apperr.Error
	if errors.As(err, &e) {
		out := *e
		out.Message = msg + " (" + e.Message + ")"
		return &out
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// importProgress finds how many chunks of the import requestID names are
// written (always a prefix: chunks commit in order) and how many items they
// created, by claiming their keys in a transaction it rolls back. A request
// id used for other content is refused here, before anything is read.
func (s *Service) importProgress(ctx context.Context, requestID string, chunks int, fingerprint func(int) importChunk) (done, created int, err error) {
	if requestID == "" {
		return 0, 0, nil
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		done, created = 0, 0 // InTx may run this again
		for done < chunks {
			prior, replay, err := tx.Claim(ctx, importScope, chunkKey(requestID, done), fingerprint(done))
			if err != nil {
				return err
			}
			if !replay {
				break
			}
			n, err := strconv.Atoi(prior)
			if err != nil {
				return fmt.Errorf("import replay: stored result %q: %w", prior, err)
			}
			done, created = done+1, created+n
		}
		return errImportProbed
	})
	if !errors.Is(err, errImportProbed) {
		return 0, 0, err
	}
	return done, created, nil
}

func planResult(p inventory.ImportPlan) *ImportResult {
	return &ImportResult{
		Errors: p.Errors[:min(len(p.Errors), inventory.MaxImportReport)], ErrorCount: len(p.Errors),
		Findings: p.Findings[:min(len(p.Findings), inventory.MaxImportReport)], FindingCount: len(p.Findings),
		Summary: inventory.CountFindings(p.Findings),
	}
}
