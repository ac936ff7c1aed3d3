package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// Inventory is what receiving asks of the inventory service.
type Inventory interface {
	// ResolveItem finds the item a scanned code names: its SKU, a barcode,
	// a WMS or ERP code, or supplier's part number (supplier may be "").
	// NotFound when no item has the code.
	ResolveItem(ctx context.Context, code, supplier string) (fulfillment.ItemFacts, error)
	// Location returns a warehouse's location by code; NotFound when none.
	Location(ctx context.Context, warehouse, code string) (Location, error)
	// Locations lists a warehouse's locations (a view at most a minute old).
	Locations(ctx context.Context, warehouse string) ([]fulfillment.LocationFacts, error)
	// StockOf is the stock of an item in a warehouse, by location.
	StockOf(ctx context.Context, warehouse, sku string) ([]fulfillment.Holding, error)
	// Receive books stock: the same requestID books once and returns the
	// first booking's movement id.
	Receive(ctx context.Context, requestID, warehouse string, b fulfillment.Booking) (movement string, err error)
	// Move moves stock between two locations of a warehouse, once per
	// requestID.
	Move(ctx context.Context, requestID, warehouse string, m Move) (movement string, err error)
	OutboundInventory
}

// Location is an inventory location as receiving sees it.
type Location struct {
	Warehouse, Code string
	Blocked         bool
}

// ErrNoInventory answers commands that need inventory when none is wired.
var ErrNoInventory = apperr.New(apperr.KindUnavailable, "INVENTORY_UNAVAILABLE", "the inventory service is not configured for fulfillment")

// DiscrepancyFilter narrows ListReceiptDiscrepancies; zero fields match all.
type DiscrepancyFilter struct {
	Receipt   string
	Warehouse string
	Open      *bool
	Partner   *string
}

// DiscrepancyKey orders discrepancies: receipt id, then number.
type DiscrepancyKey struct {
	Receipt string
	Number  int
}

// LineResult is what recording a line answers.
type LineResult struct {
	Receipt       *fulfillment.ExpectedReceipt
	Line          fulfillment.ReceivedLine
	Discrepancies []fulfillment.Discrepancy
}

// SetInventory wires the inventory service receiving books stock in.
func (s *Service) SetInventory(inv Inventory) { s.inventory = inv }

// today is the date expiries are judged against (UTC).
func (s *Service) today() string { return s.now().UTC().Format(time.DateOnly) }

// derivedID is the request id of a call to another service that a command
// makes: fixed by the command's own request id and the caller, so a retry
// makes the same call, and short enough for any service's limit.
func derivedID(ctx context.Context, kind, resource, requestID string) string {
	sum := sha256.Sum256([]byte(caller.From(ctx).Qualify(kind) + "\x00" + requestID))
	return "fulfillment:" + kind + ":" + resource + ":" + hex.EncodeToString(sum[:12])
}

// visibleReceipt loads a receipt the caller may see.
func visibleReceipt(ctx context.Context, r Reader, id string) (*fulfillment.ExpectedReceipt, error) {
	er, err := r.GetExpectedReceipt(ctx, id)
	if err != nil {
		return nil, err
	}
	if !er.VisibleTo(partnerOf(ctx)) {
		return nil, apperr.NotFound("expected receipt", id)
	}
	return er, nil
}

// recordLineCmd is what RecordReceiptLine's request id fingerprints.
type recordLineCmd struct {
	Receipt string
	Scan    fulfillment.Scan
}

// RecordReceiptLine records one scanned line: resolves the item, books the
// stock in inventory (by a request id derived from requestID, before this
// service's transaction, so a retry books once) unless the line is held,
// and records the line with the discrepancies it flags, and their events.
// A retry with the same requestID returns the first answer.
func (s *Service) RecordReceiptLine(ctx context.Context, requestID, receiptID string, scan fulfillment.Scan) (*LineResult, error) {
	scan.By = caller.From(ctx).ID
	if strings.TrimSpace(requestID) == "" {
		return nil, apperr.Invalid(apperr.Field("request_id", "is required: a scanner repeats a scan with the same request_id"))
	}
	if err := scan.Check(); err != nil {
		return nil, err
	}
	cmd := recordLineCmd{Receipt: receiptID, Scan: scan}
	if res, done, err := storetx.Lookup(ctx, s.store.Querier(), "RecordReceiptLine", requestID, cmd); err != nil {
		return nil, err
	} else if done {
		return s.replayLine(ctx, s.store, res)
	}
	if s.inventory == nil {
		return nil, ErrNoInventory
	}
	er, err := visibleReceipt(ctx, s.store, receiptID)
	if err != nil {
		return nil, err
	}
	if er.State == fulfillment.ReceiptClosed {
		return nil, apperr.Precondition(fulfillment.ReasonReceiptClosed, fmt.Sprintf("receipt %s is CLOSED: open a blind receipt for goods that came after it closed", er.ID))
	}
	it, err := s.inventory.ResolveItem(ctx, scan.Code, er.Supplier)
	if err != nil {
		return nil, apperr.WithFieldPrefix(err, "item")
	}
	if err := s.checkLocation(ctx, er.Warehouse, &scan); err != nil {
		return nil, err
	}
	places, err := s.places(ctx, er.Warehouse)
	if err != nil {
		return nil, err
	}
	now := s.now()
	plan, err := er.PlanLine(scan, it, places, s.today(), now)
	if err != nil {
		return nil, err
	}
	movement := ""
	var putaway *fulfillment.Task
	if plan.Booking != nil {
		if putaway, err = s.putawayTask(ctx, er, &plan.Line, it.BaseUoM, places); err != nil {
			return nil, err
		}
		if movement, err = s.inventory.Receive(ctx, derivedID(ctx, "receipt-line", er.ID, requestID), er.Warehouse, *plan.Booking); err != nil {
			return nil, err
		}
	}
	return storetx.RunCommand(ctx, s.store.InTx, "RecordReceiptLine", requestID, cmd,
		func(tx Tx, res string) (*LineResult, error) { return s.replayLine(ctx, tx, res) },
		func(tx Tx) (*LineResult, string, error) {
			er, err := tx.LockExpectedReceipt(ctx, receiptID)
			if err != nil {
				return nil, "", err
			}
			again, err := er.PlanLine(scan, it, places, s.today(), now)
			if err != nil {
				return nil, "", err
			}
			if (again.Booking == nil) != (plan.Booking == nil) || (again.Booking != nil && *again.Booking != *plan.Booking) {
				return nil, "", apperr.Conflict(fmt.Sprintf("receipt %s changed while the line was booked; retry with the same request_id", er.ID), nil)
			}
			prev := er.Version
			flagged := er.Record(again, movement, now)
			if err := tx.SaveExpectedReceipt(ctx, er, prev); err != nil {
				return nil, "", err
			}
			line := er.Received[len(er.Received)-1]
			if putaway != nil {
				// Named after the line as recorded (its number may differ from
				// the plan's when another scan came first).
				p := *putaway
				p.ID, p.ReceiptLine = fmt.Sprintf("PUT-%s-%d", er.ID, line.Number), line.Number
				if err := tx.InsertTask(ctx, &p); err != nil {
					return nil, "", err
				}
			}
			events := []any{fulfillment.ReceiptLineRecorded{Receipt: *er, Line: line}}
			for _, d := range flagged {
				events = append(events, fulfillment.ReceiptDiscrepancyFlagged{Receipt: *er, Discrepancy: d})
			}
			if err := tx.Emit(ctx, events...); err != nil {
				return nil, "", err
			}
			return &LineResult{Receipt: er, Line: line, Discrepancies: flagged}, lineResult(er.ID, line.Number, flagged), nil
		})
}

// lineResult is what a recorded line stores against its request id: the
// receipt, the line and the numbers of the discrepancies it flagged.
func lineResult(receipt string, line int, flagged []fulfillment.Discrepancy) string {
	parts := []string{receipt, strconv.Itoa(line)}
	for _, d := range flagged {
		parts = append(parts, strconv.Itoa(d.Number))
	}
	return strings.Join(parts, "|")
}

// replayLine answers a retried scan from what the first stored, as the
// receipt is now (the line and its discrepancies as first recorded, their
// resolutions as they are).
func (s *Service) replayLine(ctx context.Context, r Reader, res string) (*LineResult, error) {
	parts := strings.Split(res, "|")
	if len(parts) < 2 {
		return nil, fmt.Errorf("receipt line result %q is malformed", res)
	}
	er, err := r.GetExpectedReceipt(ctx, parts[0])
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 1 || n > len(er.Received) {
		return nil, fmt.Errorf("receipt line result %q names no line", res)
	}
	out := &LineResult{Receipt: er, Line: er.Received[n-1]}
	for _, p := range parts[2:] {
		d, err := strconv.Atoi(p)
		if err != nil || d < 1 || d > len(er.Discrepancies) {
			return nil, fmt.Errorf("receipt line result %q names no discrepancy %q", res, p)
		}
		out.Discrepancies = append(out.Discrepancies, er.Discrepancies[d-1])
	}
	return out, nil
}

// checkLocation normalises the scanned location to a code of the receipt's
// warehouse and refuses a blocked one.
func (s *Service) checkLocation(ctx context.Context, warehouse string, scan *fulfillment.Scan) error {
	code := strings.ToUpper(strings.TrimSpace(scan.Location))
	if rest, ok := strings.CutPrefix(code, "WAREHOUSES/"); ok {
		wh, loc, found := strings.Cut(rest, "/LOCATIONS/")
		if !found || loc == "" {
			return apperr.Invalid(apperr.Field("location", "must be a location code or \"warehouses/{w}/locations/{code}\""))
		}
		if wh != warehouse {
			return apperr.Precondition(fulfillment.ReasonWrongWarehouse, fmt.Sprintf("location %s is in warehouse %s; the receipt is at %s", loc, wh, warehouse))
		}
		code = loc
	}
	l, err := s.inventory.Location(ctx, warehouse, code)
	if err != nil {
		return apperr.WithFieldPrefix(err, "location")
	}
	if l.Blocked {
		return apperr.Precondition(fulfillment.ReasonLocationBlocked, fmt.Sprintf("location %s in warehouse %s is blocked: receive at another", code, warehouse))
	}
	scan.Location = code
	return nil
}

// places finds the warehouse's quarantine: its first unblocked QUARANTINE
// location by code.
func (s *Service) places(ctx context.Context, warehouse string) (fulfillment.Places, error) {
	locs, err := s.inventory.Locations(ctx, warehouse)
	if err != nil {
		return fulfillment.Places{}, err
	}
	q := ""
	for _, l := range locs {
		if l.Type == fulfillment.LocationQuarantine && !l.Blocked && (q == "" || l.Code < q) {
			q = l.Code
		}
	}
	return fulfillment.Places{Quarantine: q}, nil
}

// CloseReceipt closes a receipt, flagging what was received short.
func (s *Service) CloseReceipt(ctx context.Context, requestID, receiptID string) (*fulfillment.ExpectedReceipt, []fulfillment.Discrepancy, error) {
	type closed struct {
		r       *fulfillment.ExpectedReceipt
		flagged []fulfillment.Discrepancy
	}
	out, err := storetx.RunCommand(ctx, s.store.InTx, "CloseReceipt", requestID, receiptID,
		func(tx Tx, res string) (closed, error) {
			parts := strings.Split(res, "|")
			er, err := tx.GetExpectedReceipt(ctx, parts[0])
			if err != nil {
				return closed{}, err
			}
			c := closed{r: er}
			for _, p := range parts[1:] {
				if n, err := strconv.Atoi(p); err == nil && n >= 1 && n <= len(er.Discrepancies) {
					c.flagged = append(c.flagged, er.Discrepancies[n-1])
				}
			}
			return c, nil
		},
		func(tx Tx) (closed, string, error) {
			er, err := tx.LockExpectedReceipt(ctx, receiptID)
			if err != nil {
				return closed{}, "", err
			}
			if !er.VisibleTo(partnerOf(ctx)) {
				return closed{}, "", apperr.NotFound("expected receipt", receiptID)
			}
			prev := er.Version
			flagged, err := er.Close(caller.From(ctx).ID, s.now())
			if err != nil {
				return closed{}, "", err
			}
			if err := tx.SaveExpectedReceipt(ctx, er, prev); err != nil {
				return closed{}, "", err
			}
			var events []any
			parts := []string{er.ID}
			for _, d := range flagged {
				events = append(events, fulfillment.ReceiptDiscrepancyFlagged{Receipt: *er, Discrepancy: d})
				parts = append(parts, strconv.Itoa(d.Number))
			}
			events = append(events, fulfillment.ReceiptClosedEvent{Receipt: *er, Totals: er.Totals()})
			if err := tx.Emit(ctx, events...); err != nil {
				return closed{}, "", err
			}
			return closed{r: er, flagged: flagged}, strings.Join(parts, "|"), nil
		})
	if err != nil {
		return nil, nil, err
	}
	return out.r, out.flagged, nil
}

// CreateBlindReceipt opens a receipt for goods that came with no order or
// notice; its id derives from the request id.
func (s *Service) CreateBlindReceipt(ctx context.Context, requestID string, b fulfillment.Blind) (*fulfillment.ExpectedReceipt, error) {
	if strings.TrimSpace(requestID) == "" {
		return nil, apperr.Invalid(apperr.Field("request_id", "is required: the blind receipt's id is derived from it"))
	}
	b.By = caller.From(ctx).ID
	sum := sha256.Sum256([]byte(caller.From(ctx).Qualify("blind") + "\x00" + requestID))
	id := "BLIND-" + strings.ToUpper(b.Warehouse) + "-" + strings.ToUpper(hex.EncodeToString(sum[:6]))
	r, err := fulfillment.NewBlindReceipt(id, b, partnerOf(ctx), s.now())
	if err != nil {
		return nil, err
	}
	if s.inventory != nil {
		if _, err := s.inventory.Locations(ctx, r.Warehouse); err != nil {
			return nil, apperr.WithFieldPrefix(err, "warehouse")
		}
	}
	return storetx.RunCommand(ctx, s.store.InTx, "CreateBlindReceipt", requestID, b,
		func(tx Tx, id string) (*fulfillment.ExpectedReceipt, error) { return tx.GetExpectedReceipt(ctx, id) },
		func(tx Tx) (*fulfillment.ExpectedReceipt, string, error) {
			ok, err := tx.InsertExpectedReceipt(ctx, r)
			if err != nil {
				return nil, "", err
			}
			if !ok {
				return nil, "", apperr.AlreadyExists("expected receipt", r.ID, "")
			}
			if err := tx.Emit(ctx, fulfillment.ReceiptDiscrepancyFlagged{Receipt: *r, Discrepancy: r.Discrepancies[0]}); err != nil {
				return nil, "", err
			}
			return r, r.ID, nil
		})
}

// resolveCmd is what ResolveReceiptDiscrepancy's request id fingerprints.
type resolveCmd struct {
	Receipt string
	Number  int
	In      fulfillment.Resolve
}

// ResolveReceiptDiscrepancy settles discrepancy number of a receipt.
// Accepting one that holds a line books the line in inventory first (by a
// request id derived from the line, so it is booked once however often this
// is retried).
func (s *Service) ResolveReceiptDiscrepancy(ctx context.Context, requestID, receiptID string, number int, in fulfillment.Resolve) (*fulfillment.Discrepancy, error) {
	in.By = caller.From(ctx).ID
	cmd := resolveCmd{Receipt: receiptID, Number: number, In: in}
	replay := func(r Reader) (*fulfillment.Discrepancy, error) {
		er, err := r.GetExpectedReceipt(ctx, receiptID)
		if err != nil {
			return nil, err
		}
		if number < 1 || number > len(er.Discrepancies) {
			return nil, apperr.NotFound("receipt discrepancy", fulfillment.DiscrepancyID(receiptID, number))
		}
		d := er.Discrepancies[number-1]
		return &d, nil
	}
	if _, done, err := storetx.Lookup(ctx, s.store.Querier(), "ResolveReceiptDiscrepancy", requestID, cmd); err != nil {
		return nil, err
	} else if done {
		return replay(s.store)
	}
	er, err := visibleReceipt(ctx, s.store, receiptID)
	if err != nil {
		return nil, err
	}
	item, places, err := s.heldFacts(ctx, er, number)
	if err != nil {
		return nil, err
	}
	plan, err := er.PlanResolve(number, in, item, places)
	if err != nil {
		return nil, err
	}
	movement := ""
	var putaway *fulfillment.Task
	if plan.Booking != nil {
		if s.inventory == nil {
			return nil, ErrNoInventory
		}
		if putaway, err = s.putawayTask(ctx, er, plan.Line, item.BaseUoM, places); err != nil {
			return nil, err
		}
		id := fmt.Sprintf("fulfillment:receipt-line:%s:%d", er.ID, plan.Line.Number)
		if movement, err = s.inventory.Receive(ctx, id, er.Warehouse, *plan.Booking); err != nil {
			return nil, err
		}
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ResolveReceiptDiscrepancy", requestID, cmd,
		func(tx Tx, _ string) (*fulfillment.Discrepancy, error) { return replay(tx) },
		func(tx Tx) (*fulfillment.Discrepancy, string, error) {
			er, err := tx.LockExpectedReceipt(ctx, receiptID)
			if err != nil {
				return nil, "", err
			}
			again, err := er.PlanResolve(number, in, item, places)
			if err != nil {
				return nil, "", err
			}
			if (again.Booking == nil) != (plan.Booking == nil) || (again.Booking != nil && *again.Booking != *plan.Booking) {
				return nil, "", apperr.Conflict(fmt.Sprintf("receipt %s changed while the line was booked; retry with the same request_id", er.ID), nil)
			}
			prev := er.Version
			settled, flagged := er.Resolve(again, in, movement, s.now())
			if err := tx.SaveExpectedReceipt(ctx, er, prev); err != nil {
				return nil, "", err
			}
			if putaway != nil {
				if err := tx.InsertTask(ctx, putaway); err != nil {
					return nil, "", err
				}
			}
			var events []any
			for _, d := range settled {
				events = append(events, fulfillment.ReceiptDiscrepancyResolved{Receipt: *er, Discrepancy: d})
			}
			for _, d := range flagged {
				events = append(events, fulfillment.ReceiptDiscrepancyFlagged{Receipt: *er, Discrepancy: d})
			}
			if err := tx.Emit(ctx, events...); err != nil {
				return nil, "", err
			}
			d := settled[0]
			d.PurchaseOrder = er.PurchaseOrder
			return &d, strconv.Itoa(number), nil
		})
}

// heldFacts looks up, for a discrepancy that holds a line, the line's item
// and the warehouse's quarantine; nil and zero otherwise.
func (s *Service) heldFacts(ctx context.Context, er *fulfillment.ExpectedReceipt, number int) (*fulfillment.ItemFacts, fulfillment.Places, error) {
	if number < 1 || number > len(er.Discrepancies) || !er.Discrepancies[number-1].Holds(er) {
		return nil, fulfillment.Places{}, nil
	}
	if s.inventory == nil {
		return nil, fulfillment.Places{}, ErrNoInventory
	}
	l := er.Received[er.Discrepancies[number-1].Line-1]
	it, err := s.inventory.ResolveItem(ctx, l.SKU, "")
	if err != nil {
		return nil, fulfillment.Places{}, err
	}
	places, err := s.places(ctx, er.Warehouse)
	if err != nil {
		return nil, fulfillment.Places{}, err
	}
	return &it, places, nil
}

// ListReceiptDiscrepancies pages through discrepancies by receipt and number;
// a partner sees those of its own receipts.
func (s *Service) ListReceiptDiscrepancies(ctx context.Context, f DiscrepancyFilter, after DiscrepancyKey, limit int) ([]fulfillment.Discrepancy, error) {
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	return s.store.ListReceiptDiscrepancies(ctx, f, after, limit)
}
