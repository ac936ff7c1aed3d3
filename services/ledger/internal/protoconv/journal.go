package protoconv

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	typev1 "trueup.dev/api/gen/go/trueup/type/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/resname"
	"trueup.dev/services/ledger/internal/ledger"
)

// EntryPattern is the journal entry resource name pattern.
const EntryPattern = "journalEntries/*"

var (
	sideToProto = map[ledger.Side]ledgerv1.Side{
		ledger.Debit:  ledgerv1.Side_SIDE_DEBIT,
		ledger.Credit: ledgerv1.Side_SIDE_CREDIT,
	}
	sideFromProto = func() map[ledgerv1.Side]ledger.Side {
		m := make(map[ledgerv1.Side]ledger.Side, len(sideToProto))
		for d, p := range sideToProto {
			m[p] = d
		}
		return m
	}()
)

// SideToProto maps a line side; the zero side maps to SIDE_UNSPECIFIED.
func SideToProto(s ledger.Side) ledgerv1.Side { return sideToProto[s] }

// SideFromProto maps a line side. SIDE_UNSPECIFIED maps to the zero side
// (which the domain refuses as missing) with ok true; ok is false only for a
// value the enum does not define.
func SideFromProto(p ledgerv1.Side) (s ledger.Side, ok bool) {
	if p == ledgerv1.Side_SIDE_UNSPECIFIED {
		return 0, true
	}
	s, ok = sideFromProto[p]
	return s, ok
}

// Money builds an API amount.
func Money(minor int64, currency string) *typev1.Money {
	return &typev1.Money{CurrencyCode: currency, MinorUnits: minor}
}

// EntryName is the resource name of entry id; "" for "".
func EntryName(id string) string {
	if id == "" {
		return ""
	}
	return resname.Format(EntryPattern, id)
}

// AccountName is the resource name of account code; "" for "".
func AccountName(code string) string {
	if code == "" {
		return ""
	}
	return resname.Format(AccountPattern, code)
}

// EntryToProto maps a domain journal entry to the API resource.
func EntryToProto(e *ledger.Entry) *ledgerv1.JournalEntry {
	p := &ledgerv1.JournalEntry{
		Name:          EntryName(e.ID),
		EffectiveTime: timeToProto(e.EffectiveAt),
		PostTime:      timeToProto(e.PostedAt),
		Description:   e.Description,
		Source: &ledgerv1.EntrySource{
			Service:      e.Source.Service,
			EventType:    e.Source.EventType,
			EventId:      e.Source.EventID,
			DocumentId:   e.Source.DocumentID,
			MovementId:   e.Source.MovementID,
			InventorySeq: e.Source.Seq,
			TraceId:      e.Source.TraceID,
		},
		Rule:          e.Rule,
		RuleVersion:   int32(e.RuleVersion),
		Reverses:      EntryName(e.Reverses),
		Reason:        e.Reason,
		Caller:        e.Caller,
		PostingPeriod: e.PostingPeriod,
	}
	for _, l := range e.Lines {
		p.Lines = append(p.Lines, LineToProto(l))
	}
	return p
}

// LineToProto maps a journal line.
func LineToProto(l ledger.Line) *ledgerv1.JournalLine {
	return &ledgerv1.JournalLine{
		Account:    AccountName(l.Account),
		Side:       SideToProto(l.Side),
		Amount:     Money(l.Amount, l.Currency),
		Dimensions: DimensionsToProto(l.Dims),
	}
}

// DimensionsToProto maps line or balance dimensions.
func DimensionsToProto(d ledger.Dimensions) *ledgerv1.Dimensions {
	return &ledgerv1.Dimensions{Warehouse: d.Warehouse, Item: d.Item, Lot: d.Lot, Document: d.Document, Partner: d.Partner}
}

// DimensionsFromProto maps dimensions; nil is none.
func DimensionsFromProto(p *ledgerv1.Dimensions) ledger.Dimensions {
	return ledger.Dimensions{Warehouse: p.GetWarehouse(), Item: p.GetItem(), Lot: p.GetLot(), Document: p.GetDocument(), Partner: p.GetPartner()}
}

// LinesFromProto maps the lines of an entry. field is the proto path of the
// repeated field ("journal_entry.lines"); a malformed account name or an
// undefined side is a violation on the line's field. What the domain checks
// (a missing side, a non-positive amount, a currency) is left to it.
func LinesFromProto(field string, ps []*ledgerv1.JournalLine) ([]ledger.Line, apperr.Violations) {
	var v apperr.Violations
	lines := make([]ledger.Line, 0, len(ps))
	for i, p := range ps {
		f := fmt.Sprintf("%s[%d]", field, i)
		l := ledger.Line{
			Amount:   p.GetAmount().GetMinorUnits(),
			Currency: p.GetAmount().GetCurrencyCode(),
			Dims:     DimensionsFromProto(p.GetDimensions()),
		}
		if ids, err := resname.Parse(f+".account", p.GetAccount(), AccountPattern); err != nil {
			v.Add(f+".account", "must be an account name, accounts/{code}")
		} else {
			l.Account = ledger.NormalizeCode(ids[0])
		}
		side, ok := SideFromProto(p.GetSide())
		if !ok {
			v.Add(f+".side", "must be SIDE_DEBIT or SIDE_CREDIT")
		}
		l.Side = side
		lines = append(lines, l)
	}
	return lines, v
}

// EntryFromProto maps every field of an API entry back to the domain (the
// inverse of EntryToProto). field prefixes the violations
// ("journal_entry"): malformed names, undefined sides, invalid timestamps.
func EntryFromProto(field string, p *ledgerv1.JournalEntry) (ledger.Entry, apperr.Violations) {
	var v apperr.Violations
	e := ledger.Entry{
		Description: p.GetDescription(),
		Source: ledger.Source{
			Service:    p.GetSource().GetService(),
			EventType:  p.GetSource().GetEventType(),
			EventID:    p.GetSource().GetEventId(),
			DocumentID: p.GetSource().GetDocumentId(),
			MovementID: p.GetSource().GetMovementId(),
			Seq:        p.GetSource().GetInventorySeq(),
			TraceID:    p.GetSource().GetTraceId(),
		},
		Rule:        p.GetRule(),
		RuleVersion: int(p.GetRuleVersion()),
		Reason:      p.GetReason(),
		Caller:      p.GetCaller(),
	}
	e.ID = optionalEntryID(&v, field+".name", p.GetName())
	e.Reverses = optionalEntryID(&v, field+".reverses", p.GetReverses())
	e.EffectiveAt = TimeFromProto(&v, field+".effective_time", p.GetEffectiveTime())
	e.PostedAt = TimeFromProto(&v, field+".post_time", p.GetPostTime())
	var lv apperr.Violations
	e.Lines, lv = LinesFromProto(field+".lines", p.GetLines())
	v = append(v, lv...)
	return e, v
}

func optionalEntryID(v *apperr.Violations, field, name string) string {
	if name == "" {
		return ""
	}
	ids, err := resname.Parse(field, name, EntryPattern)
	if err != nil {
		v.Add(field, "must be a journal entry name, journalEntries/{id}")
		return ""
	}
	return ids[0]
}

// TimeFromProto reads an optional timestamp: nil is the zero time; an invalid
// one is a violation on field.
func TimeFromProto(v *apperr.Violations, field string, ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	if err := ts.CheckValid(); err != nil {
		v.Add(field, "is not a valid timestamp")
		return time.Time{}
	}
	return ts.AsTime()
}

func timeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// BalanceToProto maps a balance; displayName is its account's, if known.
func BalanceToProto(b ledger.Balance, displayName string) *ledgerv1.AccountBalance {
	return &ledgerv1.AccountBalance{
		Account:      AccountName(b.Account),
		DisplayName:  displayName,
		CurrencyCode: b.Currency,
		Debit:        Money(b.Debit, b.Currency),
		Credit:       Money(b.Credit, b.Currency),
		Net:          Money(b.Net(), b.Currency),
		Dimensions:   DimensionsToProto(b.Dims),
	}
}

// ParkedToProto maps a parked event (its payload and headers stay inside).
func ParkedToProto(p *ledger.ParkedEvent) *ledgerv1.ParkedEvent {
	return &ledgerv1.ParkedEvent{
		EventId:   p.EventID,
		EventType: p.EventType,
		Subject:   p.Subject,
		Reason:    p.Reason,
		ParkTime:  timeToProto(p.ParkedAt),
	}
}
