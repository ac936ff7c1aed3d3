package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/config"
	"trueup.dev/platform/grpcserver"
	"trueup.dev/platform/money"
)

const reconcileHelp = `Usage: trueup reconcile [--grpc-addr HOST:PORT] [--json]

Compares the general ledger's Inventory account, by warehouse and item, with
inventory's valuation at the same journal watermark, and prints every row:
inventory's value, the GL's, the value of movements not posted yet (in
flight) and the difference. Movements whose events are parked are listed
and count as differences until they are posted.

  --grpc-addr  the ledger service (also TRUEUP_LEDGER_ADDR), e.g.
               localhost:9090 under "trueup dev".
  --json       the whole reconciliation as one JSON object instead of a table.

The exit status is 1 when the books and the warehouse differ, so the command
can gate a month-end close.
`

// errUnreconciled makes the exit status 1 when a difference was found.
var errUnreconciled = errors.New("the books and the warehouse differ")

func runReconcile(ctx context.Context, args []string) error {
	fs := newFlagSet("reconcile")
	fs.Usage = func() { fmt.Fprint(fs.Output(), reconcileHelp) }
	var (
		addr   string
		asJSON bool
	)
	config.String(fs, &addr, "grpc-addr", "TRUEUP_LEDGER_ADDR", "localhost:9090", "gRPC address of the ledger service")
	config.Bool(fs, &asJSON, "json", "", false, "print the reconciliation as JSON")
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("trueup reconcile: unexpected arguments %v", fs.Args())
	}
	return reconcileCommand(ctx, addr, asJSON, os.Stdout)
}

// reconcileCommand runs one reconciliation at the ledger at addr and prints
// it to w.
func reconcileCommand(ctx context.Context, addr string, asJSON bool, w io.Writer) error {
	conn, err := grpcserver.Dial(addr)
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
