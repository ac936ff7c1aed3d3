package ledger

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"trueup.dev/platform/apperr"
)

// exportJournal is a small known journal in export order: a receipt of
// widgets (USD), a shipment the same day, a JPY receipt and a KWD
// adjustment the next day, with a description that needs quoting.
func exportJournal() []ExportLine {
	d1 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	d2 := time.Date(2026, 11, 21, 23, 59, 59, 0, time.UTC)
	posted := time.Date(2026, 11, 21, 8, 30, 0, 123456000, time.UTC)
	src := func(ev, mv string) Source {
		return Source{Service: "inventory", EventType: "trueup.inventory.v1.StockReceived", EventID: ev, MovementID: mv}
	}
	main := Dimensions{Warehouse: "MAIN", Item: "WIDGET-100", Lot: "L1", Document: "PO-1"}
	line := func(entry string, seq int64, no int, at time.Time, desc string, s Source, rule string, l Line, name string) ExportLine {
		return ExportLine{EntryID: entry, Seq: seq, LineNo: no, EffectiveAt: at, PostedAt: posted, Description: desc,
			Source: s, Rule: rule, RuleVersion: 1, Line: l, AccountName: name}
	}
	return []ExportLine{
		line("e1", 1, 1, d1, "Receipt PO-1", src("ev1", "m1"), "receipt/PURCHASE_ORDER",
			Line{Account: "1400", Side: Debit, Amount: 1234, Currency: "USD", Dims: main}, "Inventory"),
		line("e1", 1, 2, d1, "Receipt PO-1", src("ev1", "m1"), "receipt/PURCHASE_ORDER",
			Line{Account: "2100", Side: Credit, Amount: 1234, Currency: "USD", Dims: Dimensions{Document: "PO-1"}}, "GRNI"),
		line("e2", 2, 1, d1, "Ship, \"rush\"", src("ev2", "m2"), "issue/SHIPMENT",
			Line{Account: "5000", Side: Debit, Amount: 500, Currency: "USD"}, "COGS"),
		line("e2", 2, 2, d1, "Ship, \"rush\"", src("ev2", "m2"), "issue/SHIPMENT",
			Line{Account: "1400", Side: Credit, Amount: 500, Currency: "USD", Dims: main}, "Inventory"),
		line("e3", 3, 1, d2, "", src("ev3", "m3"), "receipt/PURCHASE_ORDER",
			Line{Account: "1400", Side: Debit, Amount: 1200, Currency: "JPY", Dims: Dimensions{Warehouse: "TOKYO"}}, "Inventory"),
		line("e3", 3, 2, d2, "", src("ev3", "m3"), "receipt/PURCHASE_ORDER",
			Line{Account: "2100", Side: Credit, Amount: 1200, Currency: "JPY"}, "GRNI"),
		line("e4", 4, 1, d2, "count", Source{Service: "ledger"}, "",
			Line{Account: "5100", Side: Debit, Amount: 1250, Currency: "KWD"}, "Shrinkage"),
		line("e4", 4, 2, d2, "count", Source{Service: "ledger"}, "",
			Line{Account: "1400", Side: Credit, Amount: 1250, Currency: "KWD"}, "Inventory"),
	}
}

func export(t *testing.T, mode ExportMode, format ExportFormat, lines []ExportLine) string {
	t.Helper()
	var buf bytes.Buffer
	w := NewExportWriter(&buf, &ExportBatch{ID: "B1", Mode: mode, Format: format}, nil)
	for _, l := range lines {
		if err := w.Write(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestExportDetailCSVLayout(t *testing.T) {
	got := export(t, ExportDetail, ExportCSV, exportJournal())
	want := strings.ReplaceAll(`batch_id,entry_id,line_no,effective_date,posted_at,account,account_name,debit,credit,currency,warehouse,item,lot,document,partner,description,source_service,source_event_type,source_event_id,movement_id,rule,rule_version,reverses
B1,e1,1,2026-11-20,2026-11-21T08:30:00.123456Z,1400,Inventory,12.34,,USD,MAIN,WIDGET-100,L1,PO-1,,Receipt PO-1,inventory,trueup.inventory.v1.StockReceived,ev1,m1,receipt/PURCHASE_ORDER,1,
B1,e1,2,2026-11-20,2026-11-21T08:30:00.123456Z,2100,GRNI,,12.34,USD,,,,PO-1,,Receipt PO-1,inventory,trueup.inventory.v1.StockReceived,ev1,m1,receipt/PURCHASE_ORDER,1,
B1,e2,1,2026-11-20,2026-11-21T08:30:00.123456Z,5000,COGS,5.00,,USD,,,,,,"Ship, ""rush""",inventory,trueup.inventory.v1.StockReceived,ev2,m2,issue/SHIPMENT,1,
B1,e2,2,2026-11-20,2026-11-21T08:30:00.123456Z,1400,Inventory,,5.00,USD,MAIN,WIDGET-100,L1,PO-1,,"Ship, ""rush""",inventory,trueup.inventory.v1.StockReceived,ev2,m2,issue/SHIPMENT,1,
B1,e3,1,2026-11-21,2026-11-21T08:30:00.123456Z,1400,Inventory,1200,,JPY,TOKYO,,,,,,inventory,trueup.inventory.v1.StockReceived,ev3,m3,receipt/PURCHASE_ORDER,1,
B1,e3,2,2026-11-21,2026-11-21T08:30:00.123456Z,2100,GRNI,,1200,JPY,,,,,,,inventory,trueup.inventory.v1.StockReceived,ev3,m3,receipt/PURCHASE_ORDER,1,
B1,e4,1,2026-11-21,2026-11-21T08:30:00.123456Z,5100,Shrinkage,1.250,,KWD,,,,,,count,ledger,,,,,1,
B1,e4,2,2026-11-21,2026-11-21T08:30:00.123456Z,1400,Inventory,,1.250,KWD,,,,,,count,ledger,,,,,1,
`, "\n", "\r\n")
	if got != want {
		t.Fatalf("detail CSV:\n%s\nwant:\n%s", got, want)
	}
	// It reads back as RFC 4180 with the documented header.
	recs, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil || !slices.Equal(recs[0], DetailColumns) || len(recs) != 9 || recs[3][15] != `Ship, "rush"` {
		t.Fatalf("read back: %v, %q", err, recs)
	}
}

func TestExportSummaryCSVLayout(t *testing.T) {
	got := export(t, ExportSummary, ExportCSV, exportJournal())
	want := strings.ReplaceAll(`batch_id,effective_date,account,account_name,currency,warehouse,item,lot,document,partner,debit,credit,line_count
B1,2026-11-20,1400,Inventory,USD,MAIN,WIDGET-100,L1,PO-1,,12.34,5.00,2
B1,2026-11-20,2100,GRNI,USD,,,,PO-1,,0.00,12.34,1
B1,2026-11-20,5000,COGS,USD,,,,,,5.00,0.00,1
B1,2026-11-21,1400,Inventory,JPY,TOKYO,,,,,1200,0,1
B1,2026-11-21,1400,Inventory,KWD,,,,,,0.000,1.250,1
B1,2026-11-21,2100,GRNI,JPY,,,,,,0,1200,1
B1,2026-11-21,5100,Shrinkage,KWD,,,,,,1.250,0.000,1
`, "\n", "\r\n")
	if got != want {
		t.Fatalf("summary CSV:\n%s\nwant:\n%s", got, want)
	}
}

// An empty batch is its header row alone (CSV) or nothing (JSONL).
func TestExportOfNothing(t *testing.T) {
	if got := export(t, ExportDetail, ExportCSV, nil); got != strings.Join(DetailColumns, ",")+"\r\n" {
		t.Fatalf("empty detail CSV = %q", got)
	}
	if got := export(t, ExportSummary, ExportJSONL, nil); got != "" {
		t.Fatalf("empty summary JSONL = %q", got)
	}
}

func TestExportJSONLReadsBackWithoutFloats(t *testing.T) {
	journal := exportJournal()
	got := export(t, ExportDetail, ExportJSONL, journal)
	sc := bufio.NewScanner(strings.NewReader(got))
	i := 0
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, sc.Text())
		}
		l := journal[i]
		minor, err := row["amount_minor"].(json.Number).Int64()
		if err != nil || minor != l.Amount || row["amount"] != Decimal(l.Amount, l.Currency) ||
			row["currency"] != l.Currency || row["entry_id"] != l.EntryID || row["batch_id"] != "B1" ||
			row["side"] != map[Side]string{Debit: "DEBIT", Credit: "CREDIT"}[l.Side] ||
			row["description"] != l.Description || row["effective_date"] != l.EffectiveAt.Format("2006-01-02") {
			t.Fatalf("line %d = %v, want %+v", i+1, row, l)
		}
		i++
	}
	if i != len(journal) {
		t.Fatalf("%d JSON lines, want %d", i, len(journal))
	}
	// The fields come in the documented order.
	first := strings.SplitN(got, "\n", 2)[0]
	if !strings.HasPrefix(first, `{"batch_id":"B1","entry_id":"e1","line_no":1,"effective_date":"2026-11-20",`) ||
		!strings.Contains(first, `"side":"DEBIT","amount":"12.34","amount_minor":1234,"currency":"USD"`) {
		t.Fatalf("first line %s", first)
	}

	sum := export(t, ExportSummary, ExportJSONL, journal)
	lines := strings.Split(strings.TrimSuffix(sum, "\n"), "\n")
	if len(lines) != 7 || lines[4] != `{"batch_id":"B1","effective_date":"2026-11-21","account":"1400","account_name":"Inventory","currency":"KWD","warehouse":"","item":"","lot":"","document":"","partner":"","debit":"0.000","credit":"1.250","debit_minor":0,"credit_minor":1250,"line_count":1}` {
		t.Fatalf("summary JSONL:\n%s", sum)
	}
}

// The same lines give the same bytes, so a batch regenerated from its
// entries has the checksum it was recorded with.
func TestExportIsDeterministic(t *testing.T) {
	for _, mode := range []ExportMode{ExportDetail, ExportSummary} {
		for _, format := range []ExportFormat{ExportCSV, ExportJSONL} {
			a, b := export(t, mode, format, exportJournal()), export(t, mode, format, exportJournal())
			if a != b {
				t.Fatalf("%v %v differs between runs", mode, format)
			}
		}
	}
	c := NewChecksum(&bytes.Buffer{})
	_, _ = c.Write([]byte("abc"))
	if c.Sum() != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" || c.Size() != 3 {
		t.Fatalf("sha256(abc) = %s (%d bytes)", c.Sum(), c.Size())
	}
}

func TestDecimalUsesTheCurrencysExponent(t *testing.T) {
	for _, tt := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{1234, "USD", "12.34"}, {5, "EUR", "0.05"}, {0, "USD", "0.00"}, {1200, "JPY", "1200"},
		{1250, "KWD", "1.250"}, {7, "KWD", "0.007"}, {12345, "CLF", "1.2345"},
	} {
		if got := Decimal(tt.minor, tt.currency); got != tt.want {
			t.Errorf("Decimal(%d, %s) = %q, want %q", tt.minor, tt.currency, got, tt.want)
		}
	}
}

func TestExportRange(t *testing.T) {
	r, err := ParseExportRange("2026-11", "", "", nil)
	// A period is the entries booked into it, whatever their dates: no date bounds.
	if err != nil || r.Period != "2026-11" || !r.From.IsZero() || !r.To.IsZero() || r.FromDate() != "" || r.ToDate() != "" {
		t.Fatalf("period = %+v, %v", r, err)
	}
	if _, err := ParseExportRange("2026-1", "", "", nil); err == nil {
		t.Fatal(`period "2026-1" accepted`)
	}
	r, err = ParseExportRange("", "2026-11-03", "2026-11-03", nil)
	if err != nil || r.To.Sub(r.From) != 24*time.Hour || r.ToDate() != "2026-11-03" {
		t.Fatalf("one day = %+v, %v", r, err)
	}
	r, err = ParseExportRange("", "", "2026-11-30", nil)
	if err != nil || !r.From.IsZero() || r.FromDate() != "" || r.ToDate() != "2026-11-30" {
		t.Fatalf("open start = %+v, %v", r, err)
	}
	if r, err = ParseExportRange("", "", "", nil); err != nil || !r.From.IsZero() || !r.To.IsZero() {
		t.Fatalf("everything = %+v, %v", r, err)
	}
	for _, tt := range []struct{ period, from, to, field string }{
		{"2026-13", "", "", "period"},
		{"2026-11", "2026-11-01", "", "period"},
		{"", "2026/11/01", "", "from_date"},
		{"", "", "30.11.2026", "to_date"},
		{"", "2026-11-02", "2026-11-01", "to_date"},
	} {
		_, err := ParseExportRange(tt.period, tt.from, tt.to, nil)
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Kind != apperr.KindInvalidArgument || ae.Violations[0].Field != tt.field {
			t.Errorf("ParseExportRange(%q, %q, %q) = %v, want a violation on %s", tt.period, tt.from, tt.to, err, tt.field)
		}
	}
}
