package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
)

// ageingOptions are the ageing reports' date and filters.
type ageingOptions struct {
	AsOf               time.Time // zero: now
	Warehouse, Partner string
}

func (o ageingOptions) asOf() *timestamppb.Timestamp {
	if o.AsOf.IsZero() {
		return nil
	}
	return timestamppb.New(o.AsOf)
}

// grniCommand prints GRNI ageing, every page, from the ledger at t.
func grniCommand(ctx context.Context, t grpcTarget, o ageingOptions, asJSON bool, w io.Writer) error {
	addr := t.addr
	conn, err := t.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	c := ledgerv1.NewReconciliationServiceClient(conn)
	var all *ledgerv1.GrniAgeing
	req := &ledgerv1.GetGrniAgeingRequest{AsOfTime: o.asOf(), Warehouse: o.Warehouse, Supplier: o.Partner, PageSize: 1000}
	for {
		page, err := c.GetGrniAgeing(ctx, req)
		if err != nil {
			return fmt.Errorf("GetGrniAgeing at %s: %w", addr, err)
		}
		if all == nil {
			all = page
			req.AsOfTime = page.GetAsOfTime() // every page at the first one's date
		} else {
			all.Rows = append(all.Rows, page.GetRows()...)
		}
		if page.GetNextPageToken() == "" {
			break
		}
		req.PageToken = page.GetNextPageToken()
	}
	all.NextPageToken = ""
	if asJSON {
		return writeJSON(w, all)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PURCHASE ORDER\tITEM\tWAREHOUSE\tRECEIVED\tBILLED\tOPEN\tOLDEST OPEN RECEIPT\tAGE (DAYS)\tBUCKET\tSUPPLIERS")
	for _, r := range all.GetRows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.GetPurchaseOrder(), r.GetItem(), r.GetWarehouse(),
			moneyText(r.GetReceived()), moneyText(r.GetBilled()), moneyText(r.GetOpen()),
			r.GetOldestOpenReceiptTime().AsTime().Format(time.DateOnly), r.GetAgeDays(), bucketName(r.GetBucket()),
			strings.Join(r.GetSuppliers(), " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeAgeTotals(w, "received, not billed", all.GetAsOfTime(), len(all.GetRows()), all.GetTotals())
}

// shippedCommand prints shipped-not-invoiced, every page, from the ledger
// at t.
func shippedCommand(ctx context.Context, t grpcTarget, o ageingOptions, asJSON bool, w io.Writer) error {
	addr := t.addr
	conn, err := t.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	c := ledgerv1.NewReconciliationServiceClient(conn)
	var all *ledgerv1.ListShippedNotInvoicedResponse
	req := &ledgerv1.ListShippedNotInvoicedRequest{AsOfTime: o.asOf(), Warehouse: o.Warehouse, Customer: o.Partner, PageSize: 1000}
	for {
		page, err := c.ListShippedNotInvoiced(ctx, req)
		if err != nil {
			return fmt.Errorf("ListShippedNotInvoiced at %s: %w", addr, err)
		}
		if all == nil {
			all = page
			req.AsOfTime = page.GetAsOfTime()
		} else {
			all.Rows = append(all.Rows, page.GetRows()...)
		}
		if page.GetNextPageToken() == "" {
			break
		}
		req.PageToken = page.GetNextPageToken()
	}
	all.NextPageToken = ""
	if asJSON {
		return writeJSON(w, all)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ORDER\tSHIPPED COST\tITEMS\tFIRST SHIPPED\tLAST SHIPPED\tAGE (DAYS)\tBUCKET\tINVOICED")
	for _, r := range all.GetRows() {
		inv := "no"
		if r.GetPartiallyInvoiced() {
			inv = "in part"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.GetOrder(), moneyText(r.GetShippedCost()), strings.Join(r.GetItems(), " "),
			r.GetFirstShipTime().AsTime().Format(time.DateOnly), r.GetLastShipTime().AsTime().Format(time.DateOnly),
			r.GetAgeDays(), bucketName(r.GetBucket()), inv)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeAgeTotals(w, "shipped, not invoiced", all.GetAsOfTime(), len(all.GetRows()), all.GetTotals())
}

func writeJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func writeAgeTotals(w io.Writer, what string, asOf *timestamppb.Timestamp, rows int, totals []*ledgerv1.AgeBucketTotal) error {
	fmt.Fprintf(w, "\n%d rows %s as of %s\n", rows, what, asOf.AsTime().UTC().Format(time.RFC3339))
	if len(totals) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "CURRENCY\tBUCKET\tROWS\tOPEN\t")
	for _, t := range totals {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t\n", t.GetAmount().GetCurrencyCode(), bucketName(t.GetBucket()), t.GetRowCount(), moneyText(t.GetAmount()))
	}
	return tw.Flush()
}

func moneyText(m interface {
	GetMinorUnits() int64
	GetCurrencyCode() string
}) string {
	return amount(m.GetMinorUnits(), m.GetCurrencyCode())
}

func bucketName(b ledgerv1.AgeBucket) string {
	switch b {
	case ledgerv1.AgeBucket_AGE_BUCKET_0_30:
		return "0-30"
	case ledgerv1.AgeBucket_AGE_BUCKET_31_60:
		return "31-60"
	case ledgerv1.AgeBucket_AGE_BUCKET_61_90:
		return "61-90"
	case ledgerv1.AgeBucket_AGE_BUCKET_OVER_90:
		return "90+"
	}
	return "-"
}
