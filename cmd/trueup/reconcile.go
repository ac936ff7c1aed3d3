package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/config"
	"trueup.dev/platform/money"
)

const reconcileHelp = `Usage: trueup reconcile [--grpc-addr HOST:PORT] [--json]
       trueup reconcile --grni [--as-of DATE] [--warehouse CODE] [--partner SUPPLIER] [--json]
       trueup reconcile --shipped-not-invoiced [--as-of DATE] [--warehouse CODE] [--partner CUSTOMER] [--json]

Compares the general ledger's Inventory account, by warehouse and item, with
inventory's valuation at the same journal watermark, and prints every row:
inventory's value, the GL's, the value of movements not posted yet (in
flight) and the difference. Movements whose events are parked are listed
and count as differences until they are posted.

  --grpc-addr  the ledger service (also TRUEUP_LEDGER_ADDR), e.g.
               localhost:9090 under "trueup dev".
  --service-token  the services' internal credential (also TRUEUP_SERVICE_TOKEN);
               by default the "trueup dev" stack's, from --data-dir (.trueup).
  --json       the whole reconciliation as one JSON object instead of a table.

The exit status is 1 when the books and the warehouse differ, so the command
can gate a month-end close.

With --grni it prints GRNI ageing instead: per purchase order, item and
warehouse, what was received and not billed yet, aged by the oldest receipt
not wholly billed, and the totals per currency and age bucket (0-30, 31-60,
61-90, 90+ days). With --shipped-not-invoiced: per order, the cost of what
shipped for items no invoice of the order names yet, aged by the first of
those shipments. Both exit 0 whatever they find.

  --as-of      the report's date, RFC 3339 or YYYY-MM-DD (the end of that
               UTC day); default now.
  --warehouse  only this warehouse.
  --partner    only purchase orders billed by this supplier (--grni), or
               orders invoiced in part to this customer.
`

// errUnreconciled makes the exit status 1 when a difference was found.
var errUnreconciled = errors.New("the books and the warehouse differ")

func runReconcile(ctx context.Context, args []string) error {
	fs := newFlagSet("reconcile")
	fs.Usage = func() { fmt.Fprint(fs.Output(), reconcileHelp) }
	var (
		addr, asOf    string
		asJSON        bool
		grni, shipped bool
		opts          ageingOptions
		client        clientFlags
	)
	config.String(fs, &addr, "grpc-addr", "TRUEUP_LEDGER_ADDR", "localhost:9090", "gRPC address of the ledger service")
	client.bind(fs)
	config.Bool(fs, &asJSON, "json", "", false, "print the reconciliation as JSON")
	config.Bool(fs, &grni, "grni", "", false, "print GRNI ageing (received, not billed)")
	config.Bool(fs, &shipped, "shipped-not-invoiced", "", false, "print what shipped and is not invoiced, aged")
	config.String(fs, &asOf, "as-of", "", "", "the ageing report's date (RFC 3339 or YYYY-MM-DD); default now")
	config.String(fs, &opts.Warehouse, "warehouse", "", "", "only this warehouse (ageing reports)")
	config.String(fs, &opts.Partner, "partner", "", "", "only this supplier (--grni) or customer (--shipped-not-invoiced)")
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("trueup reconcile: unexpected arguments %v", fs.Args())
	}
	if grni && shipped {
		return fmt.Errorf("trueup reconcile: give --grni or --shipped-not-invoiced, not both")
	}
	t, err := client.target(addr)
	if err != nil {
		return err
	}
	if !grni && !shipped {
		if asOf != "" || opts.Warehouse != "" || opts.Partner != "" {
			return fmt.Errorf("trueup reconcile: --as-of, --warehouse and --partner are for --grni and --shipped-not-invoiced")
		}
		return reconcileCommand(ctx, t, asJSON, os.Stdout)
	}
	if asOf != "" {
		t, err := parseAsOf(asOf)
		if err != nil {
			return err
		}
		opts.AsOf = t
	}
	if grni {
		return grniCommand(ctx, t, opts, asJSON, os.Stdout)
	}
	return shippedCommand(ctx, t, opts, asJSON, os.Stdout)
}

// parseAsOf reads --as-of: RFC 3339, or a date meaning the end of that UTC
// day (its last microsecond).
func parseAsOf(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("trueup reconcile: --as-of %q is not RFC 3339 or YYYY-MM-DD", s)
	}
	return d.Add(24*time.Hour - time.Microsecond), nil
}

// reconcileCommand runs one reconciliation at the ledger at t and prints it
// to w.
func reconcileCommand(ctx context.Context, t grpcTarget, asJSON bool, w io.Writer) error {
	addr := t.addr
	conn, err := t.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	r, err := ledgerv1.NewReconciliationServiceClient(conn).Reconcile(ctx, &ledgerv1.ReconcileRequest{})
	if err != nil {
		return fmt.Errorf("Reconcile at %s: %w", addr, err)
	}
	if asJSON {
		b, err := protojson.MarshalOptions{Multiline: true, EmitUnpopulated: true}.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(w, string(b)); err != nil {
			return err
		}
	} else if err := writeReconciliation(w, r); err != nil {
		return err
	}
	if !r.GetClean() {
		return errUnreconciled
	}
	return nil
}

func writeReconciliation(w io.Writer, r *ledgerv1.Reconciliation) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "WAREHOUSE\tITEM\tTHROUGH SEQ\tINVENTORY\tGL\tIN FLIGHT\tDIFFERENCE\tMANUAL ENTRIES\t")
	var diffs int
	for _, row := range r.GetRows() {
		if row.GetDifference().GetMinorUnits() != 0 {
			diffs++
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", row.GetWarehouse(), row.GetItem(), row.GetThroughSeq(),
			amount(row.GetInventoryValue().GetMinorUnits(), row.GetInventoryValue().GetCurrencyCode()),
			amount(row.GetGlValue().GetMinorUnits(), row.GetGlValue().GetCurrencyCode()),
			amount(row.GetInFlightValue().GetMinorUnits(), row.GetInFlightValue().GetCurrencyCode()),
			amount(row.GetDifference().GetMinorUnits(), row.GetDifference().GetCurrencyCode()),
			strings.Join(row.GetManualEntries(), " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.GetPendingMovements()) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NOT POSTED\tSEQ\tWAREHOUSE\tITEM\tVALUE\tSTATE")
		for _, p := range r.GetPendingMovements() {
			state := "in flight"
			if p.GetParked() {
				state = "PARKED (see trueup: ListParkedEvents)"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", p.GetMovement(), p.GetSeq(), p.GetWarehouse(), p.GetItem(),
				amount(p.GetValue().GetMinorUnits(), p.GetValue().GetCurrencyCode()), state)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	verdict := "the books agree with the warehouse"
	if !r.GetClean() {
		verdict = fmt.Sprintf("%d rows differ", diffs)
	}
	_, err := fmt.Fprintf(w, "\nreconciled through inventory seq %d: %s\n", r.GetThroughSeq(), verdict)
	return err
}

// amount formats minor units in the currency's own decimals ("USD 12.34").
func amount(minor int64, currency string) string {
	if currency == "" {
		return "-"
	}
	return money.Money{Minor: minor, Currency: currency}.String()
}
