package app

import (
	"context"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/fulfillment/internal/fulfillment"
)

// TaskFilter narrows the task queue; zero fields match all. Now is the
// instant an OPEN or CLAIMED filter judges claims at.
type TaskFilter struct {
	Warehouse string
	Zone      string
	Type      fulfillment.TaskType
	State     fulfillment.TaskState
	Reference string
	Wave      string
	Partner   *string
	Now       time.Time
}

// Move is a move of stock inventory makes for a task.
type Move struct {
	SKU, From, To, Lot string
	Quantity, UoM      string
	// The received line the move puts away.
	Receipt     string
	ReceiptLine int
}

// SetClaimTTL sets how long a task claim holds (fulfillment.DefaultClaimTTL
// unless set).
func (s *Service) SetClaimTTL(d time.Duration) {
	if d > 0 {
		s.claimTTL = d
	}
}

func (s *Service) ttl() time.Duration {
	if s.claimTTL > 0 {
		return s.claimTTL
	}
	return fulfillment.DefaultClaimTTL
}

// worker is who the caller is, for claims.
func worker(ctx context.Context) string {
	if id := caller.From(ctx).ID; id != "" {
		return id
	}
	return "internal"
}

// GetTask returns a task the caller may see.
func (s *Service) GetTask(ctx context.Context, id string) (*fulfillment.Task, error) {
	k, err := s.store.GetTask(ctx, id)
	if err != nil {
		return nil, err
	}
	if !k.VisibleTo(partnerOf(ctx)) {
		return nil, apperr.NotFound("task", id)
	}
	return k, nil
}

// ListTasks pages through the queue in id order.
func (s *Service) ListTasks(ctx context.Context, f TaskFilter, after string, limit int) ([]*fulfillment.Task, error) {
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	f.Now = s.now()
	return s.store.ListTasks(ctx, f, after, limit)
}

// ClaimTask gives task id to the caller for the claim time; the holder
// renews it by claiming again.
func (s *Service) ClaimTask(ctx context.Context, id string) (*fulfillment.Task, error) {
	return s.changeTask(ctx, id, func(k *fulfillment.Task, now time.Time) error { return k.Claim(worker(ctx), now, s.ttl()) })
}

// ReleaseTask gives a claimed task back to the queue.
func (s *Service) ReleaseTask(ctx context.Context, id string) (*fulfillment.Task, error) {
	return s.changeTask(ctx, id, func(k *fulfillment.Task, now time.Time) error { return k.Release(worker(ctx), now) })
}

func (s *Service) changeTask(ctx context.Context, id string, change func(*fulfillment.Task, time.Time) error) (*fulfillment.Task, error) {
	var out *fulfillment.Task
	err := s.store.InTx(ctx, func(tx Tx) error {
		k, err := tx.LockTask(ctx, id)
		if err != nil {
			return err
		}
		if !k.VisibleTo(partnerOf(ctx)) {
			return apperr.NotFound("task", id)
		}
		prev := k.Version
		if err := change(k, s.now()); err != nil {
			return err
		}
		if k.Version != prev {
			if err := tx.SaveTask(ctx, k, prev); err != nil {
				return err
			}
		}
		out = k
		return nil
	})
	return out, err
}

// ClaimNextTask claims the oldest task of the filter anyone may claim:
// concurrent claimers never get the same one. NotFound when the queue is
// empty.
func (s *Service) ClaimNextTask(ctx context.Context, f TaskFilter) (*fulfillment.Task, error) {
	if strings.TrimSpace(f.Warehouse) == "" {
		return nil, apperr.Invalid(apperr.Field("warehouse", "is required: the warehouse whose queue to take from"))
	}
	if p := partnerOf(ctx); p != "" {
		f.Partner = &p
	}
	var out *fulfillment.Task
	err := s.store.InTx(ctx, func(tx Tx) error {
		now := s.now()
		k, err := tx.LockNextTask(ctx, f, now)
		if err != nil {
			return err
		}
		if k == nil {
			return apperr.NotFound("open task in warehouse", f.Warehouse)
		}
		prev := k.Version
		if err := k.Claim(worker(ctx), now, s.ttl()); err != nil {
			return err
		}
		if err := tx.SaveTask(ctx, k, prev); err != nil {
			return err
		}
		out = k
		return nil
	})
	return out, err
}

// confirmPutawayCmd is what ConfirmPutaway's request id fingerprints.
type confirmPutawayCmd struct {
	Task, Location string
}

// ConfirmPutaway completes a putaway: inventory moves the stock from the
// dock to the suggested bin, or to location when the worker chose another
// (by a request id derived from the task, so it moves once however often
// this is retried).
func (s *Service) ConfirmPutaway(ctx context.Context, requestID, id, location string) (*fulfillment.Task, error) {
	location = strings.ToUpper(strings.TrimSpace(location))
	cmd := confirmPutawayCmd{Task: id, Location: location}
	if _, done, err := storetx.Lookup(ctx, s.store.Querier(), "ConfirmPutaway", requestID, cmd); err != nil {
		return nil, err
	} else if done {
		return s.GetTask(ctx, id)
	}
	k, err := s.GetTask(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := k.CheckComplete(worker(ctx), fulfillment.TaskPutaway, s.now()); err != nil {
		return nil, err
	}
	to := location
	if to == "" {
		to = k.To
	}
	if to == "" {
		return nil, apperr.Invalid(apperr.Field("location", "is required: no bin was suggested for this putaway"))
	}
	if s.inventory == nil {
		return nil, ErrNoInventory
	}
	scan := fulfillment.Scan{Location: to}
	if err := s.checkLocation(ctx, k.Warehouse, &scan); err != nil {
		return nil, err
	}
	to = scan.Location
	movement, err := s.inventory.Move(ctx, "fulfillment:putaway:"+k.ID, k.Warehouse,
		Move{SKU: k.SKU, From: k.From, To: to, Lot: k.Lot, Quantity: k.Qty.String(), UoM: k.BaseUoM, Receipt: k.Receipt, ReceiptLine: k.ReceiptLine})
	if err != nil {
		return nil, err
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ConfirmPutaway", requestID, cmd,
		func(tx Tx, _ string) (*fulfillment.Task, error) { return tx.GetTask(ctx, id) },
		func(tx Tx) (*fulfillment.Task, string, error) {
			k, err := tx.LockTask(ctx, id)
			if err != nil {
				return nil, "", err
			}
			now := s.now()
			if k.State == fulfillment.TaskDone && k.Movement == movement {
				return k, k.ID, nil // a retry under another request id: moved once
			}
			if err := k.CheckComplete(worker(ctx), fulfillment.TaskPutaway, now); err != nil {
				return nil, "", err
			}
			prev := k.Version
			k.Complete(worker(ctx), to, movement, now)
			if err := tx.SaveTask(ctx, k, prev); err != nil {
				return nil, "", err
			}
			return k, k.ID, nil
		})
}

// putawayTask is the putaway of a line booked at location (nil when the
// location is the quarantine: goods there wait for a decision, not a bin).
func (s *Service) putawayTask(ctx context.Context, er *fulfillment.ExpectedReceipt, l *fulfillment.ReceivedLine, baseUoM string, places fulfillment.Places) (*fulfillment.Task, error) {
	if l.Location == places.Quarantine {
		return nil, nil
	}
	locs, err := s.inventory.Locations(ctx, er.Warehouse)
	if err != nil {
		return nil, err
	}
	held, err := s.inventory.StockOf(ctx, er.Warehouse, l.SKU)
	if err != nil {
		return nil, err
	}
	return fulfillment.NewPutaway(er, l, baseUoM, fulfillment.SuggestBin(locs, held), s.now()), nil
}
