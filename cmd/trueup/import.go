package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/config"
)

const importHelp = `Usage: trueup import-items [--grpc-addr HOST:PORT] [--format csv|jsonl] [--dry-run] [--request-id ID] FILE

Imports items into the item master through the inventory service's ImportItems
RPC: all of them, or, if any record is wrong, none. The service writes a large
import 500 items per transaction; if it fails part way, run the same command
again (same content, same request id): it writes the rest. FILE is a CSV file with a
header row, or JSON lines (one Item per line, as the API returns it); "-" reads
standard input.

CSV columns (any order; sku, description and base_uom required):
  sku, description, base_uom, uoms ("CS=12;PLT=480"), whole_units_only,
  tracking (NONE|LOT|SERIAL), expiry_required, cost_method
  (FIFO|MOVING_AVERAGE), status (ACTIVE|BLOCKED), erp_code, wms_code,
  supplier_codes ("ACME:AC-1;GLOBEX:G-9"), customer_codes,
  barcodes ("0123456789012@CS;0123456789005"), allow_negative
Any code may end in "@UOM", the unit one scan or mention of it counts (the
base unit or one of uoms): "0123456789012@CS" is the barcode on a case,
"ACME:AC-1C@CS" a supplier's part number for the case. Without "@UOM" a code
counts the base unit.

  --grpc-addr   the inventory service (default localhost:9090; TRUEUP_GRPC_ADDR)
  --service-token  the services' internal credential (TRUEUP_SERVICE_TOKEN); by
                default the "trueup dev" stack's, from --data-dir (.trueup)
  --format      csv or jsonl; by default from the file name (.csv, .jsonl, .ndjson)
  --dry-run     check every record and report data-quality findings; write nothing
  --request-id  the import's idempotency key; by default a digest of the
                content, so running the same import twice creates its items once

Problems are printed as "line N: field: what is wrong" (the first 100), then
the data-quality findings that involve the imported items (the first 100), then
the count of findings by code and a summary line. The exit status is 1 when the
import has errors (and so wrote nothing).
`

// errImportRefused makes the exit status 1 when the import had errors; they are
// already printed.
var errImportRefused = errors.New("import refused: nothing was written")

// runImportItems sends a file of items to ImportItems.
func runImportItems(ctx context.Context, args []string) error {
	fs := newFlagSet("import-items")
	fs.Usage = func() { fmt.Fprint(fs.Output(), importHelp) }
	var (
		grpcAddr, format, requestID string
		dryRun                      bool
		client                      clientFlags
	)
	config.String(fs, &grpcAddr, "grpc-addr", "TRUEUP_GRPC_ADDR", "localhost:9090", "gRPC address of the inventory service")
	client.bind(fs)
	config.String(fs, &format, "format", "", "", "csv or jsonl (default: from the file name)")
	config.Bool(fs, &dryRun, "dry-run", "", false, "validate and report, write nothing")
	config.String(fs, &requestID, "request-id", "", "", "idempotency key (default: a digest of the content)")
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("trueup import-items: name one FILE (or - for standard input); see trueup import-items -h")
	}
	path := fs.Arg(0)
	f, err := importFormat(format, path)
	if err != nil {
		return err
	}
	content, err := readImport(path)
	if err != nil {
		return err
	}
	if requestID == "" {
		sum := sha256.Sum256(append([]byte(f.String()+"\n"), content...))
		requestID = "import-" + hex.EncodeToString(sum[:16])
	}

	t, err := client.target(grpcAddr)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()), t.credentials())
	if err != nil {
		return err
	}
	defer conn.Close()
	resp, err := inventoryv1.NewInventoryServiceClient(conn).ImportItems(ctx, &inventoryv1.ImportItemsRequest{
		Format: f, Content: string(content), ValidateOnly: dryRun, RequestId: requestID,
	})
	if err != nil {
		return fmt.Errorf("ImportItems at %s: %w", grpcAddr, err)
	}
	return reportImport(os.Stdout, os.Stderr, resp, dryRun)
}

func importFormat(flagValue, path string) (inventoryv1.ImportFormat, error) {
	name := strings.ToLower(flagValue)
	if name == "" {
		name = strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	}
	switch name {
	case "csv":
		return inventoryv1.ImportFormat_IMPORT_FORMAT_CSV, nil
	case "jsonl", "ndjson", "json-lines":
		return inventoryv1.ImportFormat_IMPORT_FORMAT_JSON_LINES, nil
	}
	if flagValue == "" {
		return 0, fmt.Errorf("trueup import-items: cannot tell the format of %q: give --format csv or --format jsonl", path)
	}
	return 0, fmt.Errorf("trueup import-items: unknown --format %q (csv or jsonl)", flagValue)
}

func readImport(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trueup import-items: %w", err)
	}
	return b, nil
}

// reportImport prints the errors and the findings the response lists, the
// findings counted by code, and a summary line; an import with errors becomes
// a failing exit status. The response lists at most 100 of each and counts
// them all.
func reportImport(out, summary io.Writer, resp *inventoryv1.ImportItemsResponse, dryRun bool) error {
	errs, findings := resp.GetErrors(), resp.GetFindings()
	nErr, nFind := max(int(resp.GetErrorCount()), len(errs)), max(int(resp.GetFindingCount()), len(findings))
	for _, e := range errs {
		if e.GetLine() > 0 {
			fmt.Fprintf(out, "line %d: %s: %s\n", e.GetLine(), e.GetField(), e.GetDescription())
		} else {
			fmt.Fprintf(out, "%s: %s\n", e.GetField(), e.GetDescription())
		}
	}
	if more := nErr - len(errs); more > 0 {
		fmt.Fprintf(out, "... and %d more errors\n", more)
	}
	if len(findings) > 0 {
		if len(errs) > 0 {
			fmt.Fprintln(out)
		}
		if err := writeFindingsTable(out, findings); err != nil {
			return err
		}
		if more := nFind - len(findings); more > 0 {
			fmt.Fprintf(out, "... and %d more findings (run trueup audit for all of them)\n", more)
		}
	}
	if sum := resp.GetFindingSummary(); len(sum) > 0 {
		fmt.Fprintln(out)
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEVERITY\tCODE\tFINDINGS")
		for _, c := range sum {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", severityName(c.GetSeverity()), c.GetCode(), c.GetCount())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	switch {
	case nErr > 0 && dryRun:
		fmt.Fprintf(summary, "dry run: %d errors, %d findings; nothing written\n", nErr, nFind)
		return errImportRefused
	case nErr > 0 && resp.GetCreatedCount() > 0:
		fmt.Fprintf(summary, "import refused: %d errors, %d findings; nothing more written (%d items were written by an earlier run with this request id)\n",
			nErr, nFind, resp.GetCreatedCount())
		return errImportRefused
	case nErr > 0:
		fmt.Fprintf(summary, "import refused: %d errors, %d findings; nothing written\n", nErr, nFind)
		return errImportRefused
	case dryRun:
		fmt.Fprintf(summary, "dry run: no errors, %d findings; nothing written\n", nFind)
	default:
		fmt.Fprintf(summary, "imported %d items (%d findings)\n", resp.GetCreatedCount(), nFind)
	}
	return nil
}
