package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"trueup.dev/platform/apperr"
	"trueup.dev/platform/caller"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/storetx"
	"trueup.dev/services/ledger/internal/ledger"
)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// Consumer is the inbox name under which the ledger records the events it
// has posted.
const Consumer = "ledger-postings"

// Inbound is one event as the ledger's consumer received it: enough to park
// it as it came, and what was decoded from it: stock movements (inventory's
// events) or a business document (orders' events), or neither.
type Inbound struct {
	EventID   string
	EventType string
	Subject   string
	Payload   []byte
	Headers   map[string]string
	TraceID   string
	// Movements are the stock movements the event reports (most events one,
	// a transfer receipt one per lot); none for an event with nothing to post.
	Movements []ledger.StockMovement
	// Document is the bill, invoice or payment the event reports; nil for
	// an event that reports none.
	Document ledger.Document
	// DecodeErr is why the event could not be read; it is parked.
	DecodeErr error
}

// Decoded is what the ledger reads from one event: stock movements, or a
// document, or nothing (an event with nothing to post).
type Decoded struct {
	Movements []ledger.StockMovement
	Document  ledger.Document
}

// Decode sets what d holds, or err, on the event.
func (in *Inbound) Decode(d Decoded, err error) {
	in.Movements, in.Document, in.DecodeErr = d.Movements, d.Document, err
}

// Decoder reads a stored event back (by its type), for reposting parked
// events and for reconciliation (the consumer decodes live ones itself).
type Decoder func(eventType string, payload []byte) (Decoded, error)

// Seed makes sure the default chart of accounts and the default posting
// rules exist. It is idempotent and runs at every start.
func (s *Service) Seed(ctx context.Context) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.SeedChart(ctx, ledger.DefaultChart(), s.now()); err != nil {
			return err
		}
		for _, rs := range ledger.RuleHistory() {
			if err := tx.SeedRules(ctx, rs, s.now()); err != nil {
				return err
			}
		}
		return nil
	})
}

// PostingResult counts what PostEvents did with a batch.
type PostingResult struct {
	Posted     int // entries written
	Duplicates int // events posted before (redelivered)
	Parked     int
	NoValue    int // events with nothing to post
}

// PostEvents posts a batch of events in one transaction: each event not
// posted before becomes its journal entries (one per movement, or its
// document's), or is parked with the reason when no rule covers it or an
// entry fails a check;
// balances take the whole batch's lines in one aggregated write. A
// redelivered event changes nothing. The error is non-nil only when the
// database failed: then nothing of the batch was written and every event
// must be delivered again.
func (s *Service) PostEvents(ctx context.Context, batch []Inbound) (PostingResult, error) {
	var res PostingResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		res = PostingResult{}
		ids := make([]string, len(batch))
		for i, in := range batch {
			ids[i] = in.EventID
		}
		fresh, err := tx.RecordEvents(ctx, Consumer, ids)
		if err != nil {
			return err
		}
		rules, chart, err := s.postingRules(ctx, tx)
		if err != nil {
			return err
		}
		now := s.now()
		var entries []*ledger.Entry
		var parked []*ledger.ParkedEvent
		for _, in := range batch {
			if !fresh[in.EventID] {
				res.Duplicates++
				continue
			}
			delete(fresh, in.EventID) // an event twice in one batch posts once
			es, err := entriesFor(rules, chart, in, now)
			switch {
			case err != nil:
				parked = append(parked, parkedFrom(in, err.Error(), now))
			case len(es) == 0:
				res.NoValue++
			default:
				entries = append(entries, es...)
			}
		}
		if err := s.assignPeriods(ctx, tx, entries); err != nil {
			return err
		}
		if err := tx.InsertEntries(ctx, entries); err != nil {
			return err
		}
		if err := tx.ParkEvents(ctx, parked); err != nil {
			return err
		}
		res.Posted, res.Parked = len(entries), len(parked)
		return nil
	})
	return res, err
}

// entriesFor is what one event posts: its document's entry, or one entry
// per movement (a transfer receipt carrying several cost layers is several
// TRANSFER_IN movements, each posted, drilled into and reconciled as its
// own); none when it has nothing of value to post. One failing movement
// fails the event: it is parked whole.
func entriesFor(rules *ledger.RuleSet, chart ledger.Chart, in Inbound, now time.Time) ([]*ledger.Entry, error) {
	if in.DecodeErr != nil {
		return nil, fmt.Errorf("cannot read the event: %w", in.DecodeErr)
	}
	var out []*ledger.Entry
	if in.Document != nil {
		src := ledger.Source{EventType: in.EventType, EventID: in.EventID, TraceID: in.TraceID}
		e, err := ledger.PostDocument(rules, in.Document, src, newID(), now)
		if err != nil {
			return nil, err
		}
		if e != nil {
			out = append(out, e)
		}
	}
	for _, m := range in.Movements {
		m.EventID, m.EventType, m.TraceID = in.EventID, in.EventType, in.TraceID
		e, err := ledger.PostMovement(rules, m, "", now)
		if err != nil {
			return nil, err
		}
		if e != nil {
			e.ID = newID()
			out = append(out, e)
		}
	}
	for _, e := range out {
		if err := ledger.CheckEntry(e, chart); err != nil {
			return nil, fmt.Errorf("the entry it makes is refused: %w", err)
		}
	}
	return out, nil
}

func parkedFrom(in Inbound, reason string, now time.Time) *ledger.ParkedEvent {
	return &ledger.ParkedEvent{EventID: in.EventID, EventType: in.EventType, Subject: in.Subject,
		Payload: in.Payload, Headers: in.Headers, Reason: reason, ParkedAt: now}
}

// RepostParked tries every parked event again (after a rule was added, say)
// with decode, and returns how many were posted and how many stay parked.
func (s *Service) RepostParked(ctx context.Context, decode Decoder) (posted, stillParked int, err error) {
	const page = 200
	after := ""
	for {
		evs, err := s.store.ListParked(ctx, pageAfter(after, page))
		if err != nil {
			return posted, stillParked, err
		}
		if len(evs) == 0 {
			return posted, stillParked, nil
		}
		var again []*ledger.ParkedEvent
		err = s.store.InTx(ctx, func(tx Tx) error {
			rules, chart, err := s.postingRules(ctx, tx)
			if err != nil {
				return err
			}
			now := s.now()
			var entries []*ledger.Entry
			var done []string
			again = again[:0]
			for _, p := range evs {
				in := Inbound{EventID: p.EventID, EventType: p.EventType, Subject: p.Subject, Payload: p.Payload,
					Headers: p.Headers, TraceID: traceID(p.Headers)}
				in.Decode(decode(p.EventType, p.Payload))
				es, err := entriesFor(rules, chart, in, now)
				switch {
				case err != nil:
					again = append(again, parkedFrom(in, err.Error(), p.ParkedAt))
				default:
					entries = append(entries, es...)
					done = append(done, p.EventID)
				}
			}
			if err := s.assignPeriods(ctx, tx, entries); err != nil {
				return err
			}
			if err := tx.InsertEntries(ctx, entries); err != nil {
				return err
			}
			if err := tx.UnparkEvents(ctx, done); err != nil {
				return err
			}
			if err := tx.ParkEvents(ctx, again); err != nil {
				return err
			}
			posted += len(entries)
			stillParked += len(again)
			return nil
		})
		if err != nil {
			return posted, stillParked, err
		}
		if len(evs) < page {
			return posted, stillParked, nil
		}
		// Go on after the last event of the page that is still parked: the
		// ones posted are gone, and a page starts after an event that exists.
		if len(again) > 0 {
			after = again[len(again)-1].EventID
		}
	}
}

// traceID reads the W3C traceparent header's trace id, if any.
func traceID(h map[string]string) string {
	parts := strings.Split(h["traceparent"], "-")
	if len(parts) == 4 {
		return parts[1]
	}
	return ""
}

// TraceID is traceID for the consumer.
func TraceID(h map[string]string) string { return traceID(h) }

// ManualEntry is a journal entry a person asks for.
type ManualEntry struct {
	EffectiveAt time.Time // zero: now
	Description string
	Reason      string
	DocumentID  string
	Lines       []ledger.Line
	// Adjusting marks an adjusting entry, the only kind a closed period
	// takes (with its reason).
	Adjusting bool
}

// CreateEntry posts a manual journal entry, with its reason and the caller
// recorded. A retry with the same requestID returns the first entry.
func (s *Service) CreateEntry(ctx context.Context, requestID string, in ManualEntry) (*ledger.Entry, error) {
	now := s.now()
	e := &ledger.Entry{
		ID: newID(), EffectiveAt: in.EffectiveAt, PostedAt: now, Description: in.Description,
		Source: ledger.Source{Service: "ledger", DocumentID: in.DocumentID},
		Lines:  append([]ledger.Line(nil), in.Lines...), Reason: strings.TrimSpace(in.Reason), Caller: caller.From(ctx).String(),
	}
	if e.EffectiveAt.IsZero() {
		e.EffectiveAt = now
	}
	var v apperr.Violations
	if e.Reason == "" {
		v.Add("reason", "is required for a manual entry: say why it is made")
	}
	if e.EffectiveAt.After(now) {
		v.Add("effective_time", "must not be in the future")
	}
	return runCommand(ctx, s, "CreateJournalEntry", requestID, in,
		func(tx Tx) (*ledger.Entry, string, error) {
			chart, err := tx.Chart(ctx)
			if err != nil {
				return nil, "", err
			}
			if err := ledger.CheckEntry(e, chart); err != nil {
				var ae *apperr.Error
				if errors.As(err, &ae) {
					v = append(v, ae.Violations...)
				}
			}
			if err := v.Err(); err != nil {
				return nil, "", err
			}
			if err := s.assignManualPeriod(ctx, tx, e, in.Adjusting); err != nil {
				return nil, "", err
			}
			if err := tx.InsertEntries(ctx, []*ledger.Entry{e}); err != nil {
				return nil, "", err
			}
			return e, e.ID, nil
		})
}

// ReverseEntry posts the reversal of entry id, with a reason; an entry is
// reversed at most once, and a reversal is not reversed (post the entry
// again instead). A retry with the same requestID returns the first reversal.
func (s *Service) ReverseEntry(ctx context.Context, requestID, id, reason string) (*ledger.Entry, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, apperr.Invalid(apperr.Field("reason", "is required: say why the entry is reversed"))
	}
	return runCommand(ctx, s, "ReverseJournalEntry", requestID, struct{ ID, Reason string }{id, reason},
		func(tx Tx) (*ledger.Entry, string, error) {
			orig, err := tx.GetEntry(ctx, id)
			if err != nil {
				return nil, "", err
			}
			if orig.Reverses != "" {
				return nil, "", apperr.Precondition("ENTRY_IS_REVERSAL", "entry "+id+" is itself a reversal; post a new entry instead")
			}
			switch prior, err := tx.ReversalOf(ctx, id); {
			case err == nil:
				return nil, "", apperr.Precondition("ENTRY_REVERSED", "entry "+id+" was reversed already, by "+prior.ID)
			case apperr.KindOf(err) != apperr.KindNotFound:
				return nil, "", err
			}
			r := orig.Reversal(newID(), s.now(), reason, caller.From(ctx).String())
			if err := s.assignPeriods(ctx, tx, []*ledger.Entry{r}); err != nil {
				return nil, "", err
			}
			if err := tx.InsertEntries(ctx, []*ledger.Entry{r}); err != nil {
				return nil, "", err
			}
			return r, r.ID, nil
		})
}

// GetEntry returns one journal entry.
func (s *Service) GetEntry(ctx context.Context, id string) (*ledger.Entry, error) {
	return s.store.GetEntry(ctx, id)
}

// TrialBalance is every account's balance per currency, as of before, and
// the totals per currency, which are zero when the books balance.
type TrialBalance struct {
	Rows   []ledger.Balance
	Totals map[string]int64 // currency -> net (debits - credits)
}

// GetTrialBalance sums the journal as of before (zero: everything).
func (s *Service) GetTrialBalance(ctx context.Context, before time.Time) (*TrialBalance, error) {
	rows, err := s.store.Balances(ctx, BalanceQuery{Before: before})
	if err != nil {
		return nil, err
	}
	tb := &TrialBalance{Rows: rows, Totals: map[string]int64{}}
	for _, r := range rows {
		tb.Totals[r.Currency] += r.Net()
	}
	return tb, nil
}

// Balances answers a balance query.
func (s *Service) Balances(ctx context.Context, q BalanceQuery) ([]ledger.Balance, error) {
	return s.store.Balances(ctx, q)
}

func pageAfter(after string, limit int) paging.Page { return paging.Page{After: after, Limit: limit} }

// runCommand runs an idempotent journal command whose result is an entry id.
func runCommand(ctx context.Context, s *Service, scope, requestID string, cmd any,
	apply func(tx Tx) (*ledger.Entry, string, error)) (*ledger.Entry, error) {
	return storetx.RunCommand(ctx, s.store.InTx, scope, requestID, cmd,
		func(tx Tx, id string) (*ledger.Entry, error) { return tx.GetEntry(ctx, id) },
		apply)
}

// EntryForEvent returns the entry posted from an event (drill-down from an
// event to the books); NotFound when the event posted none.
func (s *Service) EntryForEvent(ctx context.Context, eventID string) (*ledger.Entry, error) {
	return s.store.EntryBySourceEvent(ctx, eventID)
}
