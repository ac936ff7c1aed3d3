package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/ledger/internal/ledger"
)

// PeriodReader reads the recorded fiscal periods.
type PeriodReader interface {
	// Periods returns every recorded period, oldest first.
	Periods(ctx context.Context) ([]*ledger.Period, error)
}

// PeriodTx changes periods, in one transaction.
type PeriodTx interface {
	// LockPeriods returns every recorded period, oldest first, locked for
	// the rest of the transaction against a concurrent change of state:
	// shared (postings), or exclusive (close, lock, reopen).
	LockPeriods(ctx context.Context, exclusive bool) ([]*ledger.Period, error)
	// InsertPeriods records new periods; one recorded already is left as it is.
	InsertPeriods(ctx context.Context, ps []*ledger.Period) error
	// UpdatePeriod stores a recorded period's state and its record.
	UpdatePeriod(ctx context.Context, p *ledger.Period) error
	// EntriesWithoutPeriod returns up to limit entries (id -> effective
	// time) posted before periods existed, which have no posting period.
	EntriesWithoutPeriod(ctx context.Context, limit int) (map[string]time.Time, error)
	// SetPostingPeriods sets the posting period of entries (id -> period id).
	SetPostingPeriods(ctx context.Context, periods map[string]string) error
}

// SetTimeZone gives the ledger the company's time zone, in which the fiscal
// periods are calendar months (nil: UTC). It must not change once periods
// are recorded (StartPeriods checks).
func (s *Service) SetTimeZone(loc *time.Location) { s.calendar = ledger.Calendar{Location: loc} }

// TimeZone is the company's time zone.
func (s *Service) TimeZone() *time.Location { return s.calendar.Loc() }

// periodsIn makes the calendar of recorded periods, their bounds in the
// company's time zone.
func (s *Service) periodsIn(list []*ledger.Period) *ledger.Periods {
	loc := s.calendar.Loc()
	for _, p := range list {
		p.Start, p.End = p.Start.In(loc), p.End.In(loc)
		for _, t := range []*time.Time{&p.ClosedAt, &p.LockedAt, &p.ReopenedAt} {
			if !t.IsZero() {
				*t = t.In(loc)
			}
		}
	}
	return &ledger.Periods{Calendar: s.calendar, List: list}
}

// lockPeriods reads the recorded periods in tx, locked (see LockPeriods).
func (s *Service) lockPeriods(ctx context.Context, tx Tx, exclusive bool) (*ledger.Periods, error) {
	list, err := tx.LockPeriods(ctx, exclusive)
	if err != nil {
		return nil, err
	}
	return s.periodsIn(list), nil
}

// maxRouteAttempts bounds how often routing reads the periods again after
// recording new ones (a concurrent close may have changed them).
const maxRouteAttempts = 3

// route records the periods the targets chosen by pick need, then reads
// the periods again (locked) and picks once more, until nothing new is
// needed; pick returns the periods it wants recorded.
func (s *Service) route(ctx context.Context, tx Tx, exclusive bool, pick func(ps *ledger.Periods) ([]*ledger.Period, error)) error {
	for range maxRouteAttempts {
		ps, err := s.lockPeriods(ctx, tx, exclusive)
		if err != nil {
			return err
		}
		missing, err := pick(ps)
		if err != nil || len(missing) == 0 {
			return err
		}
		if err := tx.InsertPeriods(ctx, missing); err != nil {
			return err
		}
	}
	return apperr.Conflict("the fiscal periods changed while the entries were routed", nil)
}

// assignPeriods sets the posting period of automatic postings (events,
// reversals): the period of their effective time, or the first open one
// after it when that one is closed or locked. The entries keep their
// effective time. The periods used are recorded as needed and stay locked
// (shared) until the transaction ends, so none closes under the postings.
func (s *Service) assignPeriods(ctx context.Context, tx Tx, entries []*ledger.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.route(ctx, tx, false, func(ps *ledger.Periods) ([]*ledger.Period, error) {
		var missing []*ledger.Period
		for _, e := range entries {
			p := ps.RouteAutomatic(e.EffectiveAt)
			if m := ps.Missing(p); len(m) > 0 {
				missing = append(missing, m...)
				ps.Record(m)
			}
			e.PostingPeriod = p.ID
		}
		return missing, nil
	})
}

// assignManualPeriod sets the posting period of a manual entry: its
// effective time's period when open; when closed, that period only for an
// adjusting entry with a reason; never a locked one (FailedPrecondition).
func (s *Service) assignManualPeriod(ctx context.Context, tx Tx, e *ledger.Entry, adjusting bool) error {
	e.Adjusting = adjusting
	return s.route(ctx, tx, false, func(ps *ledger.Periods) ([]*ledger.Period, error) {
		p, err := ps.RouteManual(e.EffectiveAt, adjusting, e.Reason)
		if err != nil {
			return nil, err
		}
		e.PostingPeriod = p.ID
		return ps.Missing(p), nil
	})
}

// StartPeriods runs at start: it refuses a company time zone other than the
// one the recorded periods were made in, and gives the entries posted
// before periods existed their posting period.
func (s *Service) StartPeriods(ctx context.Context) error {
	list, err := s.store.Periods(ctx)
	if err != nil {
		return err
	}
	for _, p := range s.periodsIn(list).List {
		if c := s.calendar.PeriodOf(p.Start); c.ID != p.ID || !c.Start.Equal(p.Start) || !c.End.Equal(p.End) {
			return fmt.Errorf("period %s was made in another time zone than %s (it starts at %s): the company time zone cannot change once periods are recorded",
				p.ID, s.calendar.Loc(), p.Start.UTC().Format(time.RFC3339))
		}
	}
	const batch = 500
	for {
		n := 0
		err := s.store.InTx(ctx, func(tx Tx) error {
			legacy, err := tx.EntriesWithoutPeriod(ctx, batch)
			if err != nil {
				return err
			}
			n = len(legacy)
			entries := make([]*ledger.Entry, 0, len(legacy))
			for id, eff := range legacy {
				entries = append(entries, &ledger.Entry{ID: id, EffectiveAt: eff})
			}
			if err := s.assignPeriods(ctx, tx, entries); err != nil {
				return err
			}
			set := make(map[string]string, len(entries))
			for _, e := range entries {
				set[e.ID] = e.PostingPeriod
			}
			return tx.SetPostingPeriods(ctx, set)
		})
		if err != nil {
			return fmt.Errorf("assign posting periods to earlier entries: %w", err)
		}
		if n < batch {
			return nil
		}
	}
}

// view is the period with id as the ledger sees it: recorded, or a new
// open one; NotFound in the closed past before the first period.
func view(ps *ledger.Periods, target *ledger.Period) (*ledger.Period, bool, error) {
	p, recorded, ok := ps.At(target.Start)
	if !ok {
		return nil, false, apperr.NotFound("period", target.ID)
	}
	return p, recorded, nil
}

// GetPeriod returns one period by id ("2026-11"): recorded, or open when the
// ledger has not recorded it yet.
func (s *Service) GetPeriod(ctx context.Context, id string) (*ledger.Period, error) {
	target, err := s.calendar.Parse("name", id)
	if err != nil {
		return nil, err
	}
	list, err := s.store.Periods(ctx)
	if err != nil {
		return nil, err
	}
	p, _, err := view(s.periodsIn(list), target)
	return p, err
}

// ListPeriods pages through the periods oldest first: the recorded ones,
// then the open months after them through the current one (page.After is
// the last period id of the previous page).
func (s *Service) ListPeriods(ctx context.Context, page paging.Page) ([]*ledger.Period, error) {
	list, err := s.store.Periods(ctx)
	if err != nil {
		return nil, err
	}
	ps := s.periodsIn(list)
	all := ps.List
	current := s.calendar.PeriodOf(s.now())
	next := current
	if n := len(all); n > 0 {
		next = s.calendar.Next(all[n-1])
	}
	for p := next; !p.Start.After(current.Start); p = s.calendar.Next(p) {
		all = append(all, p)
	}
	var out []*ledger.Period
	for _, p := range all {
		if p.ID > page.After && len(out) < page.Limit {
			out = append(out, p)
		}
	}
	return out, nil
}

// errFresh ends the transaction of a replay check that found a new request.
var errFresh = errors.New("app: not a retry")

// replayed reports whether requestID was used for cmd under scope before,
// and if so returns what replay loads, without claiming the request id: a
// command that must do slow work before its transaction (a reconciliation)
// checks this first, so a retry does not repeat that work.
func replayed[T any](ctx context.Context, s *Service, scope, requestID string, cmd any,
	replay func(tx Tx, result string) (T, error)) (T, bool, error) {
	var out T
	if requestID == "" {
		return out, false, nil
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		result, again, err := tx.Claim(ctx, scope, requestID, cmd)
		if err != nil {
			return err
		}
		if !again {
			return errFresh // rolls the claim back
		}
		out, err = replay(tx, result)
		return err
	})
	switch {
	case errors.Is(err, errFresh):
		return out, false, nil
	case err != nil:
		return out, false, err
	}
	return out, true, nil
}

// replayPeriod loads the period a period command recorded.
func (s *Service) replayPeriod(ctx context.Context) func(tx Tx, id string) (*ledger.Period, error) {
	return func(tx Tx, id string) (*ledger.Period, error) {
		list, err := tx.Periods(ctx)
		if err != nil {
			return nil, err
		}
		if p := s.periodsIn(list).Find(id); p != nil {
			return p, nil
		}
		return nil, apperr.NotFound("period", id)
	}
}

// closeCommand is ClosePeriod's request, its idempotency fingerprint.
type closeCommand struct {
	Period string
	Force  bool
	Reason string
}

// ClosePeriod closes period id ("2026-11") once it has ended and every
// earlier period is closed. It reconciles the books with the warehouse
// first and refuses (FailedPrecondition, naming each difference) while the
// reconciliation shows unexplained differences, unless force is set with a
// reason; when the reconciliation cannot run (Unavailable), only a forced
// close goes ahead. The run, whether the close overrode it, the reason and
// the caller are recorded on the period. decode reads parked events for the
// reconciliation (may be nil). A retry with the same requestID returns the
// period without reconciling again.
func (s *Service) ClosePeriod(ctx context.Context, requestID, id string, force bool, reason string, decode Decoder) (*ledger.Period, error) {
	reason = strings.TrimSpace(reason)
	target, err := s.calendar.Parse("name", id)
	if err != nil {
		return nil, err
	}
	if err := ledger.CheckReason("reason", reason, force, "a forced close records why the differences are accepted"); err != nil {
		return nil, err
	}
	cmd := closeCommand{Period: target.ID, Force: force, Reason: reason}
	if p, ok, err := replayed(ctx, s, "ClosePeriod", requestID, cmd, s.replayPeriod(ctx)); ok || err != nil {
		return p, err
	}
	// What the reconciliation cannot change is refused before it runs.
	list, err := s.store.Periods(ctx)
	if err != nil {
		return nil, err
	}
	ps := s.periodsIn(list)
	p, _, err := view(ps, target)
	if err != nil {
		return nil, err
	}
	if err := ps.CanClose(p, s.now()); err != nil {
		return nil, err
	}

	recon, rerr := s.Reconcile(ctx, decode)
	switch {
	case rerr != nil && (!force || apperr.KindOf(rerr) != apperr.KindUnavailable):
		return nil, rerr
	case rerr == nil && !recon.Clean() && !force:
		return nil, differencesRefusal(target.ID, recon)
	}
	return storetx.RunCommand(ctx, s.store.InTx, "ClosePeriod", requestID, cmd, s.replayPeriod(ctx),
		func(tx Tx) (*ledger.Period, string, error) {
			var p *ledger.Period
			err := s.route(ctx, tx, true, func(ps *ledger.Periods) ([]*ledger.Period, error) {
				var err error
				if p, _, err = view(ps, target); err != nil {
					return nil, err
				}
				if missing := ps.Missing(p); len(missing) > 0 {
					return missing, nil
				}
				return nil, ps.CanClose(p, s.now())
			})
			if err != nil {
				return nil, "", err
			}
			if rerr != nil {
				p.Close(s.now(), caller.From(ctx).String(), reason, true, "", false, 0, rerr.Error())
			} else {
				p.Close(s.now(), caller.From(ctx).String(), reason, force && !recon.Clean(), recon.RunID, recon.Clean(), len(recon.Differences()), "")
			}
			if err := tx.UpdatePeriod(ctx, p); err != nil {
				return nil, "", err
			}
			return p, p.ID, nil
		})
}

// differencesRefusal is the refusal to close a period over a reconciliation
// with unexplained differences, one violation per difference.
func differencesRefusal(id string, r *ledger.Reconciliation) error {
	diffs := r.Differences()
	var v []apperr.Violation
	var parts []string
	for _, d := range diffs {
		subject := fmt.Sprintf("warehouses/%s/items/%s", d.Key.Warehouse, d.Key.Item)
		desc := fmt.Sprintf("%s %s: the GL holds %d, in flight %d, inventory values it at %d: a difference of %d (minor units)",
			subject, d.Key.Currency, d.GL, d.InFlight, d.Inventory, d.Difference)
		if len(d.Manual) > 0 {
			desc += "; manual entries on Inventory: " + strings.Join(d.Manual, ", ")
		}
		v = append(v, apperr.Violation{Type: "RECONCILIATION_DIFFERENCE", Subject: subject, Description: desc})
		if len(parts) < 5 {
			parts = append(parts, desc)
		}
	}
	msg := fmt.Sprintf("period %s cannot close: reconciliation %s shows %d unexplained difference(s): %s", id, r.RunID, len(diffs), strings.Join(parts, "; "))
	if len(diffs) > len(parts) {
		msg += fmt.Sprintf("; and %d more", len(diffs)-len(parts))
	}
	msg += "; explain them, or force the close with a reason"
	return apperr.Precondition("RECONCILIATION_DIFFERENCES", msg, v...)
}

// LockPeriod locks closed period id for good, once every earlier period is
// locked; reason is optional. A retry with the same requestID returns the
// period.
func (s *Service) LockPeriod(ctx context.Context, requestID, id, reason string) (*ledger.Period, error) {
	reason = strings.TrimSpace(reason)
	return s.changePeriod(ctx, "LockPeriod", requestID, id, reason, false, "",
		func(ps *ledger.Periods, p *ledger.Period) error {
			if err := ps.CanLock(p); err != nil {
				return err
			}
			p.Lock(s.now(), caller.From(ctx).String(), reason)
			return nil
		})
}

// ReopenPeriod reopens closed period id, with a reason, once every later
// period is open; a locked period is never reopened. A retry with the same
// requestID returns the period.
func (s *Service) ReopenPeriod(ctx context.Context, requestID, id, reason string) (*ledger.Period, error) {
	reason = strings.TrimSpace(reason)
	return s.changePeriod(ctx, "ReopenPeriod", requestID, id, reason, true, "say why the period is reopened",
		func(ps *ledger.Periods, p *ledger.Period) error {
			if err := ps.CanReopen(p); err != nil {
				return err
			}
			p.Reopen(s.now(), caller.From(ctx).String(), reason)
			return nil
		})
}

// changePeriod runs a lock or reopen: change checks and changes the period,
// among the recorded ones locked exclusively.
func (s *Service) changePeriod(ctx context.Context, scope, requestID, id, reason string, needReason bool, why string,
	change func(ps *ledger.Periods, p *ledger.Period) error) (*ledger.Period, error) {
	target, err := s.calendar.Parse("name", id)
	if err != nil {
		return nil, err
	}
	if err := ledger.CheckReason("reason", reason, needReason, why); err != nil {
		return nil, err
	}
	cmd := struct{ Period, Reason string }{target.ID, reason}
	return storetx.RunCommand(ctx, s.store.InTx, scope, requestID, cmd, s.replayPeriod(ctx),
		func(tx Tx) (*ledger.Period, string, error) {
			ps, err := s.lockPeriods(ctx, tx, true)
			if err != nil {
				return nil, "", err
			}
			p, recorded, err := view(ps, target)
			if err != nil {
				return nil, "", err
			}
			if err := change(ps, p); err != nil {
				return nil, "", err
			}
			if !recorded { // an unrecorded period is open: no change applies
				return nil, "", fmt.Errorf("period %s: changed without being recorded", p.ID)
			}
			if err := tx.UpdatePeriod(ctx, p); err != nil {
				return nil, "", err
			}
			return p, p.ID, nil
		})
}
