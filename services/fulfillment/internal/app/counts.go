package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/qty"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// CountInventory is what cycle counts ask of the inventory service.
type CountInventory interface {
	// ResolveItem finds the item a scanned code names (see Inventory).
	ResolveItem(ctx context.Context, code, supplier string) (fulfillment.ItemFacts, error)
	// Location returns a warehouse's location by code; NotFound when none.
	Location(ctx context.Context, warehouse, code string) (Location, error)
	// StockOf is the stock of an item in a warehouse, by location.
	StockOf(ctx context.Context, warehouse, sku string) ([]fulfillment.Holding, error)
	// StockAt is the stock inventory has at one location (of item sku only,
	// when set), by item and lot; levels at zero are left out.
	StockAt(ctx context.Context, warehouse, location, sku string) ([]CountLevel, error)
	// PreviewCount answers what BookCount would book for b (its difference
	// as of b.At and the difference's value), or how inventory would
	// refuse it, booking nothing.
	PreviewCount(ctx context.Context, warehouse string, b CountBooking) (fulfillment.CountOutcome, error)
	// BookCount books b once per requestID: inventory sets the level to
	// b.Counted less what it held at b.At (movements after b.At stay booked),
	// or refuses with COUNT_SUPERSEDED when the level was counted after b.At.
	BookCount(ctx context.Context, requestID, warehouse string, b CountBooking) (fulfillment.CountOutcome, error)
}

// CountLevel is stock inventory has at a location.
type CountLevel struct {
	SKU, Lot, BaseUoM string
	OnHand            qty.Qty
}

// CountBooking is one counted item and lot as inventory books it.
type CountBooking struct {
	SKU, Lot, Expiry, Location string
	Counted                    qty.Qty // in BaseUoM
	BaseUoM                    string
	ReasonCode                 string // "": inventory's COUNT_DIFFERENCE
	// At is when the stock was counted.
	At time.Time
	// Count and Line name the count document the movement belongs to.
	Count string
	Line  int
}

// CountFilter narrows ListCounts; zero fields match all.
type CountFilter struct {
	Warehouse string
	State     fulfillment.CountState
	Partner   *string
}

// CountReader holds the count queries; Reader embeds it.
type CountReader interface {
	// GetCount returns NotFound for an unknown id.
	GetCount(ctx context.Context, id string) (*fulfillment.Count, error)
	// ListCounts returns up to limit counts with an id after after, in id order.
	ListCounts(ctx context.Context, f CountFilter, after string, limit int) ([]*fulfillment.Count, error)
	// CountsToBook lists up to limit counts with an approved line not yet
	// booked in inventory.
	CountsToBook(ctx context.Context, limit int) ([]string, error)
}

// CountTx holds the count writes; Tx embeds it.
type CountTx interface {
	// InsertCount writes a new count (with its tasks and lines); false, and
	// no change, when one with its id exists.
	InsertCount(ctx context.Context, c *fulfillment.Count) (bool, error)
	// LockCount reads a count for change; NotFound when there is none.
	LockCount(ctx context.Context, id string) (*fulfillment.Count, error)
	// SaveCount writes a count read at version prev: its header, tasks and
	// lines (tasks and lines are never removed).
	SaveCount(ctx context.Context, c *fulfillment.Count, prev int64) error
}

// errCountSuperseded matches inventory's refusal of a count whose level was
// counted again after it was taken.
var errCountSuperseded = &apperr.Error{Kind: apperr.KindFailedPrecondition, Reason: "COUNT_SUPERSEDED"}

// counting is the service's cycle count wiring.
type counting struct {
	inv CountInventory // nil: counts answer Unavailable
}

// SetCountInventory wires the inventory service cycle counts read and book
// stock in.
func (s *Service) SetCountInventory(inv CountInventory) { s.counting.inv = inv }

// CreateCount opens a count of spec: one COUNT task per location asked for
// (every item there), and per location holding an item asked for (as
// inventory has it now). Its id derives from the request id and the
// caller, so a retry opens it once.
func (s *Service) CreateCount(ctx context.Context, requestID string, spec fulfillment.CountSpec) (*fulfillment.Count, error) {
	if strings.TrimSpace(requestID) == "" {
		return nil, apperr.Invalid(apperr.Field("request_id", "is required: the count's id is derived from it"))
	}
	spec.By = worker(ctx)
	if err := spec.Normalize(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(caller.From(ctx).Qualify("count") + "\x00" + requestID))
	id := "CNT-" + spec.Warehouse + "-" + strings.ToUpper(hex.EncodeToString(sum[:6]))
	replay := func(r Reader, id string) (*fulfillment.Count, error) { return visibleCount(ctx, r, id) }
	if res, done, err := storetx.Lookup(ctx, s.store.Querier(), "CreateCount", requestID, spec); err != nil {
		return nil, err
	} else if done {
		return replay(s.store, res)
	}
	inv := s.counting.inv
	if inv == nil {
		return nil, ErrNoInventory
	}
	for i, l := range spec.Locations {
		if _, err := inv.Location(ctx, spec.Warehouse, l); err != nil {
			return nil, apperr.WithFieldPrefix(err, fmt.Sprintf("locations[%d]", i))
		}
	}
	asked := spec
	var skus []string
	holding := map[string][]string{}
	for i, code := range spec.Items {
		it, err := inv.ResolveItem(ctx, code, "")
		if err != nil {
			return nil, apperr.WithFieldPrefix(err, fmt.Sprintf("items[%d]", i))
		}
		if _, ok := holding[it.SKU]; ok {
			continue
		}
		skus = append(skus, it.SKU)
		holding[it.SKU] = []string{}
		hs, err := inv.StockOf(ctx, spec.Warehouse, it.SKU)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			if h.OnHand != 0 {
				holding[it.SKU] = append(holding[it.SKU], h.Location)
			}
		}
	}
	spec.Items = skus
	c, tasks, err := fulfillment.NewCount(id, spec, fulfillment.CountTargets(spec.Locations, skus, holding), partnerOf(ctx), s.now())
	if err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "CreateCount", requestID, asked,
		func(tx Tx, id string) (*fulfillment.Count, error) { return replay(tx, id) },
		func(tx Tx) (*fulfillment.Count, string, error) {
			ok, err := tx.InsertCount(ctx, c)
			if err != nil {
				return nil, "", err
			}
			if !ok {
				return nil, "", apperr.AlreadyExists("count", c.ID, "")
			}
			for _, k := range tasks {
				if err := tx.InsertTask(ctx, k); err != nil {
					return nil, "", err
				}
			}
			return c, c.ID, nil
		})
}

// visibleCount loads a count the caller may see.
func visibleCount(ctx context.Context, r Reader, id string) (*fulfillment.Count, error) {
	c, err := r.GetCount(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.VisibleTo(partnerOf(ctx)) {
		return nil, apperr.NotFound("count", id)
	}
	return c, nil
}

// GetCount returns a count the caller may see.
func (s *Service) GetCount(ctx context.Context, id string) (*fulfillment.Count, error) {
	return visibleCount(ctx, s.store, id)
}

// ListCounts pages through the counts the caller may see, in id order.
func (s *Service) ListCounts(ctx context.Context, f CountFilter, after string, limit int) ([]*fulfillment.Count, error) {
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	return s.store.ListCounts(ctx, f, after, limit)
}

// CountResult is what recording a count task answers: the count, the task
// (done) and the lines it recorded.
type CountResult struct {
	Count *fulfillment.Count
	Task  *fulfillment.Task
	Lines []fulfillment.CountLine
}

// recordCountCmd is what RecordCount's request id fingerprints.
type recordCountCmd struct {
	Task  string
	Scans []fulfillment.CountScan
	At    time.Time
}

// RecordCount records what the counter found doing count task taskID:
// each item and lot counted (scans of one add up), and every item and lot
// inventory has at the location that the counter did not count, as none.
// The difference of each is against what the location held at the count
// time (at, or now), as inventory judges it; one within the count's
// thresholds is booked at once, one above them waits for an approval. The
// counter is never told what inventory expected. A retry with the same
// requestID returns the first answer (and books what is still to book).
func (s *Service) RecordCount(ctx context.Context, requestID, taskID string, scans []fulfillment.CountScan, at time.Time) (*CountResult, error) {
	if strings.TrimSpace(requestID) == "" {
		return nil, apperr.Invalid(apperr.Field("request_id", "is required: a scanner repeats a count with the same request_id"))
	}
	if err := fulfillment.CheckCountScans(scans); err != nil {
		return nil, err
	}
	cmd := recordCountCmd{Task: taskID, Scans: scans, At: at}
	if res, done, err := storetx.Lookup(ctx, s.store.Querier(), "RecordCount", requestID, cmd); err != nil {
		return nil, err
	} else if done {
		return s.countResult(ctx, res, true)
	}
	inv := s.counting.inv
	if inv == nil {
		return nil, ErrNoInventory
	}
	k, err := s.GetTask(ctx, taskID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := k.CheckComplete(worker(ctx), fulfillment.TaskCount, now); err != nil {
		return nil, err
	}
	if at, err = fulfillment.CheckCountTime(k, at, now); err != nil {
		return nil, err
	}
	c, err := visibleCount(ctx, s.store, k.Reference)
	if err != nil {
		return nil, err
	}
	findings, err := s.findings(ctx, c, k, scans, at)
	if err != nil {
		return nil, err
	}
	res, err := storetx.RunCommand(ctx, s.store.InTx, "RecordCount", requestID, cmd,
		func(tx Tx, res string) (string, error) { return res, nil },
		func(tx Tx) (string, string, error) {
			k, err := tx.LockTask(ctx, taskID)
			if err != nil {
				return "", "", err
			}
			now := s.now()
			if err := k.CheckComplete(worker(ctx), fulfillment.TaskCount, now); err != nil {
				return "", "", err
			}
			c, err := tx.LockCount(ctx, k.Reference)
			if err != nil {
				return "", "", err
			}
			prev := c.Version
			lines, err := c.Record(k.ID, findings, worker(ctx), at, now)
			if err != nil {
				return "", "", err
			}
			if err := tx.SaveCount(ctx, c, prev); err != nil {
				return "", "", err
			}
			kv := k.Version
			k.Complete(worker(ctx), "", "", now)
			if err := tx.SaveTask(ctx, k, kv); err != nil {
				return "", "", err
			}
			events := []any{fulfillment.CountRecorded{Count: *c, Task: k.ID, Lines: lines}}
			parts := []string{c.ID, k.ID}
			for _, l := range lines {
				parts = append(parts, strconv.Itoa(l.Number))
				if l.State == fulfillment.CountLinePending {
					events = append(events, fulfillment.CountApprovalRequired{Count: *c, Line: l})
				}
			}
			if err := tx.Emit(ctx, events...); err != nil {
				return "", "", err
			}
			res := strings.Join(parts, "|")
			return res, res, nil
		})
	if err != nil {
		return nil, err
	}
	return s.countResult(ctx, res, true)
}

// findings is what the counter found at k's location, line by line, with
// what inventory would book for each (as of at).
func (s *Service) findings(ctx context.Context, c *fulfillment.Count, k *fulfillment.Task, scans []fulfillment.CountScan, at time.Time) ([]fulfillment.CountFinding, error) {
	inv := s.counting.inv
	var counted []fulfillment.Counted
	for i, sc := range scans {
		it, err := inv.ResolveItem(ctx, sc.Code, "")
		if err != nil {
			return nil, apperr.WithFieldPrefix(err, fmt.Sprintf("lines[%d].item", i))
		}
		if k.SKU != "" && it.SKU != k.SKU {
			return nil, apperr.Invalid(apperr.Field(fmt.Sprintf("lines[%d].item", i), fmt.Sprintf("task %s counts item %s only, not %s", k.ID, k.SKU, it.SKU)))
		}
		cn, err := fulfillment.CountedOf(i, sc, it)
		if err != nil {
			return nil, err
		}
		counted = append(counted, cn)
	}
	counted, err := fulfillment.AddUp(counted)
	if err != nil {
		return nil, err
	}
	// What inventory has there that the counter did not count: found none.
	levels, err := inv.StockAt(ctx, c.Warehouse, k.From, k.SKU)
	if err != nil {
		return nil, err
	}
	seen := map[[2]string]bool{}
	for _, cn := range counted {
		seen[[2]string{cn.SKU, cn.Lot}] = true
	}
	now := map[[2]string]qty.Qty{}
	for _, l := range levels {
		key := [2]string{l.SKU, l.Lot}
		now[key] = l.OnHand
		if !seen[key] {
			seen[key] = true
			counted = append(counted, fulfillment.Counted{SKU: l.SKU, Lot: l.Lot, BaseUoM: l.BaseUoM, Uncounted: true})
		}
	}
	var out []fulfillment.CountFinding
	for _, cn := range counted {
		f := fulfillment.CountFinding{Counted: cn}
		o, err := inv.PreviewCount(ctx, c.Warehouse, booking(c, k.From, cn, c.ReasonCode, at, 0))
		switch {
		case err == nil:
			f.Outcome = o
		case errors.Is(err, errCountSuperseded):
			f.Superseded, f.Note = true, err.Error()
		case apperr.KindOf(err) == apperr.KindFailedPrecondition:
			// Inventory would refuse it (no cost for stock found, counted
			// below what is allocated): a reviewer decides, shown the
			// difference against what is there now, until it is booked.
			f.Note = err.Error()
			f.Outcome = fulfillment.CountOutcome{Counted: cn.Qty, Difference: cn.Qty - now[[2]string{cn.SKU, cn.Lot}]}
		default:
			return nil, err
		}
		if cn.Uncounted && f.Note == "" && o.Difference == 0 {
			continue // not there when counted, and not found: nothing to record
		}
		out = append(out, f)
	}
	return out, nil
}

// booking is what inventory books for one counted item and lot.
func booking(c *fulfillment.Count, location string, cn fulfillment.Counted, reason string, at time.Time, line int) CountBooking {
	return CountBooking{SKU: cn.SKU, Lot: cn.Lot, Expiry: cn.Expiry, Location: location, Counted: cn.Qty, BaseUoM: cn.BaseUoM,
		ReasonCode: reason, At: at, Count: c.ID, Line: line}
}

// countResult answers RecordCount from its stored result ("count|task|n..."),
// after booking what the count still owes inventory.
func (s *Service) countResult(ctx context.Context, res string, book bool) (*CountResult, error) {
	parts := strings.Split(res, "|")
	if len(parts) < 2 {
		return nil, fmt.Errorf("count result %q is malformed", res)
	}
	if book {
		if err := s.bookCount(ctx, parts[0]); err != nil {
			s.logger().Warn("count booking failed; will retry", "count", parts[0], "error", err)
		}
	}
	c, err := visibleCount(ctx, s.store, parts[0])
	if err != nil {
		return nil, err
	}
	k, err := s.GetTask(ctx, parts[1])
	if err != nil {
		return nil, err
	}
	out := &CountResult{Count: c, Task: k}
	for _, p := range parts[2:] {
		n, err := strconv.Atoi(p)
		l := c.Line(n)
		if err != nil || l == nil {
			return nil, fmt.Errorf("count result %q names no line %q", res, p)
		}
		out.Lines = append(out.Lines, *l)
	}
	return out, nil
}

// reviewCountCmd is what ReviewCount's request id fingerprints.
type reviewCountCmd struct {
	Count     string
	Decisions []fulfillment.CountDecision
}

// ReviewCount applies a reviewer's decisions on lines waiting for approval
// (see fulfillment.Count.Review), then books the approved ones. The
// reviewer is the caller, and may not be who counted a line. A retry with
// the same requestID answers the count as it is now.
func (s *Service) ReviewCount(ctx context.Context, requestID, id string, ds []fulfillment.CountDecision) (*fulfillment.Count, error) {
	if strings.TrimSpace(requestID) == "" {
		return nil, apperr.Invalid(apperr.Field("request_id", "is required, so a repeated review is applied once"))
	}
	if err := fulfillment.CheckDecisions(ds); err != nil {
		return nil, err
	}
	_, err := storetx.RunCommand(ctx, s.store.InTx, "ReviewCount", requestID, reviewCountCmd{Count: id, Decisions: ds},
		func(tx Tx, res string) (string, error) { return res, nil },
		func(tx Tx) (string, string, error) {
			c, err := tx.LockCount(ctx, id)
			if err != nil {
				return "", "", err
			}
			if !c.VisibleTo(partnerOf(ctx)) {
				return "", "", apperr.NotFound("count", id)
			}
			prev := c.Version
			recounts, err := c.Review(ds, worker(ctx), s.now())
			if err != nil {
				return "", "", err
			}
			if err := tx.SaveCount(ctx, c, prev); err != nil {
				return "", "", err
			}
			for _, k := range recounts {
				if err := tx.InsertTask(ctx, k); err != nil {
					return "", "", err
				}
			}
			return c.ID, c.ID, nil
		})
	if err != nil {
		return nil, err
	}
	if err := s.bookCount(ctx, id); err != nil {
		s.logger().Warn("count booking failed; will retry", "count", id, "error", err)
	}
	return s.GetCount(ctx, id)
}

// countBookingID is the inventory request id of a line's booking: fixed by
// the line, so however often and by whomever it is tried, it books once.
func countBookingID(count string, line int) string {
	return "fulfillment:count-line:" + count + ":" + strconv.Itoa(line)
}

// bookCount books the approved lines of count id in inventory, each by a
// request id derived from the line, against the line's count time, and
// records the outcome: BOOKED; SUPERSEDED (a later count settled the
// level); back to PENDING_APPROVAL with inventory's refusal. An error of
// inventory's own (unavailable) leaves the line approved, for the next try.
func (s *Service) bookCount(ctx context.Context, id string) error {
	inv := s.counting.inv
	if inv == nil {
		return nil
	}
	c, err := s.store.GetCount(ctx, id)
	if err != nil {
		return err
	}
	for _, l := range c.ToBook() {
		cn := fulfillment.Counted{SKU: l.SKU, Lot: l.Lot, Expiry: l.Expiry, BaseUoM: l.BaseUoM, Qty: l.Counted}
		o, booked := inv.BookCount(ctx, countBookingID(c.ID, l.Number), c.Warehouse, booking(c, l.Location, cn, l.ReasonCode, l.CountedAt, l.Number))
		if k := apperr.KindOf(booked); booked != nil && k != apperr.KindFailedPrecondition && k != apperr.KindInvalidArgument && k != apperr.KindNotFound {
			return fmt.Errorf("book line %d: %w", l.Number, booked)
		}
		n := l.Number
		if err := s.store.InTx(ctx, func(tx Tx) error {
			c, err := tx.LockCount(ctx, id)
			if err != nil {
				return err
			}
			prev := c.Version
			now := s.now()
			var event any
			switch {
			case booked == nil && c.Booked(n, o, now):
				event = fulfillment.CountDifferenceBooked{Count: *c, Line: *c.Line(n)}
			case booked != nil && c.NotBooked(n, errors.Is(booked, errCountSuperseded), booked.Error(), now):
				if c.Line(n).State == fulfillment.CountLinePending {
					event = fulfillment.CountApprovalRequired{Count: *c, Line: *c.Line(n)}
				}
			default:
				return nil // settled meanwhile
			}
			if err := tx.SaveCount(ctx, c, prev); err != nil {
				return err
			}
			if event == nil {
				return nil
			}
			return tx.Emit(ctx, event)
		}); err != nil {
			return err
		}
	}
	return nil
}

// BookCounts books what counts owe inventory (approved lines a command's
// own attempt could not book: inventory was down, the process stopped). It
// returns how many counts it worked on; a count whose booking fails stays
// owed and is tried again next time.
func (s *Service) BookCounts(ctx context.Context) (int, error) {
	if s.counting.inv == nil {
		return 0, nil
	}
	ids, err := s.store.CountsToBook(ctx, 100)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.bookCount(ctx, id); err != nil {
			s.logger().Warn("count booking failed; will retry", "count", id, "error", err)
		}
	}
	return len(ids), nil
}
