package demo

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	fulfillmentv1 "trueup.dev/api/gen/go/trueup/fulfillment/v1"
	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	ordersv1 "trueup.dev/api/gen/go/trueup/orders/v1"
	"trueup.dev/platform/money"
)

// Summary is the day as the books and the warehouse tell it, read back
// through the APIs once the suite has caught up. Money is in minor units of
// its currency.
type Summary struct {
	RunID   string  `json:"runId"`
	Seconds float64 `json:"seconds"`
	Did     Counts  `json:"did"`
	// Reconciled is the verdict: the trial balance balances and GL inventory
	// equals the warehouse's valuation for every warehouse × item, with
	// nothing left to post.
	Reconciled        bool                `json:"reconciled"`
	TrialBalance      TrialBalance        `json:"trialBalance"`
	Valuation         []WarehouseValue    `json:"valuation"`
	Reconciliation    ReconciliationState `json:"reconciliation"`
	OpenDiscrepancies map[string]int      `json:"openDiscrepancies"`
	GRNIAgeing        []AgeBucket         `json:"grniAgeing"`
	OrderToCash       []Stage             `json:"orderToCash"`
}

// TrialBalance is the ledger's trial balance.
type TrialBalance struct {
	Balanced bool             `json:"balanced"`
	Rows     []AccountBalance `json:"rows"`
}

// AccountBalance is one account's debits and credits in one currency.
type AccountBalance struct {
	Account  string `json:"account"`
	Name     string `json:"name"`
	Currency string `json:"currencyCode"`
	Debit    int64  `json:"debitMinorUnits"`
	Credit   int64  `json:"creditMinorUnits"`
}

// WarehouseValue is inventory's valuation of one warehouse.
type WarehouseValue struct {
	Warehouse string `json:"warehouse"`
	Currency  string `json:"currencyCode"`
	Value     int64  `json:"valueMinorUnits"`
	Items     int    `json:"items"`
}

// ReconciliationState is the ledger's reconciliation to inventory.
type ReconciliationState struct {
	Clean            bool  `json:"clean"`
	ThroughSeq       int64 `json:"throughSeq"`
	Rows             int   `json:"rows"`
	RowsDiffering    int   `json:"rowsDiffering"`
	PendingMovements int   `json:"pendingMovements"`
}

// AgeBucket is GRNI (received, not billed) of one age.
type AgeBucket struct {
	Bucket string `json:"bucket"`
	Amount int64  `json:"amountMinorUnits"`
	Rows   int32  `json:"rows"`
}

// Stage is how long orders took from one order-to-cash stage to the next.
type Stage struct {
	From  string  `json:"from"`
	To    string  `json:"to"`
	Count int32   `json:"count"`
	P50ms float64 `json:"p50Ms"`
	P90ms float64 `json:"p90Ms"`
	P99ms float64 `json:"p99Ms"`
}

// summarize waits (up to a minute) until the ledger has posted every stock
// movement — a difference that remains then is real — and reads the books.
func (d *day) summarize(ctx context.Context) (*Summary, error) {
	d.cfg.Progress("closing the books", 0, 1)
	var r *ledgerv1.Reconciliation
	_ = poll(ctx, time.Minute, "the ledger catching up", func() (bool, error) {
		var err error
		r, err = d.c.recon.Reconcile(ctx, &ledgerv1.ReconcileRequest{})
		return err == nil && len(r.GetPendingMovements()) == 0, err
	})
	if r == nil {
		var err error
		if r, err = d.c.recon.Reconcile(ctx, &ledgerv1.ReconcileRequest{}); err != nil {
			return nil, err
		}
	}
	s := &Summary{RunID: d.cfg.RunID, Did: d.counted, OpenDiscrepancies: map[string]int{}}
	s.Reconciliation = ReconciliationState{Clean: r.GetClean(), ThroughSeq: r.GetThroughSeq(), Rows: len(r.GetRows()), PendingMovements: len(r.GetPendingMovements())}
	for _, row := range r.GetRows() {
		if row.GetDifference().GetMinorUnits() != 0 {
			s.Reconciliation.RowsDiffering++
		}
	}

	tb, err := d.c.led.GetTrialBalance(ctx, &ledgerv1.GetTrialBalanceRequest{})
	if err != nil {
		return nil, err
	}
	s.TrialBalance.Balanced = tb.GetBalanced()
	for _, row := range tb.GetRows() {
		s.TrialBalance.Rows = append(s.TrialBalance.Rows, AccountBalance{Account: strings.TrimPrefix(row.GetAccount(), "accounts/"), Name: row.GetDisplayName(),
			Currency: row.GetCurrencyCode(), Debit: row.GetDebit().GetMinorUnits(), Credit: row.GetCredit().GetMinorUnits()})
	}

	whs, err := d.c.inv.ListWarehouses(ctx, &inventoryv1.ListWarehousesRequest{PageSize: 100})
	if err != nil {
		return nil, err
	}
	for _, w := range whs.GetWarehouses() {
		v, err := d.c.inv.GetValuation(ctx, &inventoryv1.GetValuationRequest{Warehouse: w.GetName()})
		if err != nil {
			return nil, err
		}
		wv := WarehouseValue{Warehouse: w.GetCode(), Currency: "USD"}
		for _, l := range v.GetLines() {
			if l.GetValue().GetMinorUnits() != 0 {
				wv.Value += l.GetValue().GetMinorUnits()
				wv.Currency = l.GetValue().GetCurrencyCode()
				wv.Items++
			}
		}
		s.Valuation = append(s.Valuation, wv)
	}

	token := ""
	for {
		resp, err := d.c.ful.ListReceiptDiscrepancies(ctx, &fulfillmentv1.ListReceiptDiscrepanciesRequest{State: fulfillmentv1.DiscrepancyState_DISCREPANCY_STATE_OPEN,
			PageSize: 1000, PageToken: token})
		if err != nil {
			return nil, err
		}
		for _, disc := range resp.GetDiscrepancies() {
			s.OpenDiscrepancies[strings.ToLower(strings.TrimPrefix(disc.GetKind().String(), "DISCREPANCY_KIND_"))]++
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}

	grni, err := d.c.recon.GetGrniAgeing(ctx, &ledgerv1.GetGrniAgeingRequest{PageSize: 1})
	if err != nil {
		return nil, err
	}
	for _, b := range grni.GetTotals() {
		s.GRNIAgeing = append(s.GRNIAgeing, AgeBucket{Bucket: bucketName(b.GetBucket()), Amount: b.GetAmount().GetMinorUnits(), Rows: b.GetRowCount()})
	}

	o2c, err := d.c.ord.GetOrderToCashTimings(ctx, &ordersv1.GetOrderToCashTimingsRequest{})
	if err != nil {
		return nil, err
	}
	ms := func(v interface{ AsDuration() time.Duration }) float64 {
		return float64(v.AsDuration().Microseconds()) / 1000
	}
	for _, st := range o2c.GetStages() {
		s.OrderToCash = append(s.OrderToCash, Stage{From: st.GetFromStage(), To: st.GetToStage(), Count: st.GetCount(),
			P50ms: ms(st.GetP50()), P90ms: ms(st.GetP90()), P99ms: ms(st.GetP99())})
	}
	s.Reconciled = s.TrialBalance.Balanced && s.Reconciliation.Clean && s.Reconciliation.PendingMovements == 0
	s.Seconds = time.Since(d.started).Round(100 * time.Millisecond).Seconds()
	d.cfg.Progress("closing the books", 1, 1)
	return s, nil
}

func bucketName(b ledgerv1.AgeBucket) string {
	switch b {
	case ledgerv1.AgeBucket_AGE_BUCKET_0_30:
		return "0-30 days"
	case ledgerv1.AgeBucket_AGE_BUCKET_31_60:
		return "31-60 days"
	case ledgerv1.AgeBucket_AGE_BUCKET_61_90:
		return "61-90 days"
	case ledgerv1.AgeBucket_AGE_BUCKET_OVER_90:
		return "over 90 days"
	}
	return "-"
}

func amount(minor int64, currency string) string {
	if currency == "" {
		return "-"
	}
	return money.Money{Minor: minor, Currency: currency}.String()
}

// WriteText prints the summary for a person: what the day did, the trial
// balance, the valuation, the reconciliation's verdict, open receipt
// discrepancies, GRNI ageing and order-to-cash times.
func (s *Summary) WriteText(w io.Writer) error {
	c := s.Did
	fmt.Fprintf(w, "A day at Trueup (run %s, %.1f s)\n", s.RunID, s.Seconds)
	fmt.Fprintf(w, "  %d purchase orders received (%d a case short, %d with a damaged case, %d with an item nobody ordered), %d supplier bills (price variance %s), %d supplier payments\n",
		c.PurchaseOrders, c.ShortReceipts, c.DamagedLines, c.UnexpectedItems, c.SupplierBills, amount(c.PriceVarianceMinor, "USD"), c.SupplierPayments)
	fmt.Fprintf(w, "  %d sales orders: %d shipments, %d short picks, %d orders backordered (%d shipped later), %d invoices, %d customer payments\n",
		c.SalesOrders, c.Shipments, c.ShortPicks, c.Backorders, c.BackordersShipped, c.Invoices, c.CustomerPayments)
	fmt.Fprintf(w, "  %d transfer MAIN -> EAST, %d cycle count difference\n\n", c.Transfers, c.CountDifferences)

	fmt.Fprintln(w, "Trial balance")
	fmt.Fprintf(w, "  %-48s %15s %15s\n", "ACCOUNT", "DEBIT", "CREDIT")
	var debit, credit int64
	for _, r := range s.TrialBalance.Rows {
		fmt.Fprintf(w, "  %-48s %15s %15s\n", r.Account+" "+r.Name, amount(r.Debit, r.Currency), amount(r.Credit, r.Currency))
		debit, credit = debit+r.Debit, credit+r.Credit
	}
	verdict := "total: balanced"
	if !s.TrialBalance.Balanced {
		verdict = "total: NOT BALANCED"
	}
	fmt.Fprintf(w, "  %-48s %15s %15s\n", verdict, amount(debit, "USD"), amount(credit, "USD"))

	fmt.Fprintln(w, "\nInventory valuation")
	for _, v := range s.Valuation {
		noun := "items"
		if v.Items == 1 {
			noun = "item"
		}
		fmt.Fprintf(w, "  %-6s %14s  (%d %s)\n", v.Warehouse, amount(v.Value, v.Currency), v.Items, noun)
	}

	r := s.Reconciliation
	fmt.Fprintf(w, "\nReconciliation through inventory seq %d: ", r.ThroughSeq)
	switch {
	case r.Clean && r.PendingMovements == 0:
		fmt.Fprintf(w, "CLEAN — GL inventory equals the valuation for all %d warehouse × item rows\n", r.Rows)
	default:
		fmt.Fprintf(w, "NOT RECONCILED — %d of %d rows differ, %d movements not posted (see trueup reconcile)\n", r.RowsDiffering, r.Rows, r.PendingMovements)
	}

	kinds := make([]string, 0, len(s.OpenDiscrepancies))
	total := 0
	for k, n := range s.OpenDiscrepancies {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, strings.ReplaceAll(k, "_", " ")))
		total += n
	}
	slices.Sort(kinds)
	fmt.Fprintf(w, "\nOpen receipt discrepancies: %d", total)
	if total > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(kinds, ", "))
	}
	fmt.Fprintln(w)

	fmt.Fprint(w, "\nGRNI ageing (received, not billed):")
	if len(s.GRNIAgeing) == 0 {
		fmt.Fprint(w, " nothing open")
	}
	for _, b := range s.GRNIAgeing {
		fmt.Fprintf(w, "  %s %s (%d)", b.Bucket, amount(b.Amount, "USD"), b.Rows)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "\nOrder to cash")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  FROM\tTO\tORDERS\tP50\tP90\tP99\t")
	for _, st := range s.OrderToCash {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\t\n", st.From, st.To, st.Count, dur(st.P50ms), dur(st.P90ms), dur(st.P99ms))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.Reconciled {
		_, err := fmt.Fprintln(w, "\nThe books and the warehouse agree.")
		return err
	}
	_, err := fmt.Fprintln(w, "\nThe books and the warehouse DO NOT agree.")
	return err
}

func dur(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
