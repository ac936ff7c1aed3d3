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

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/config"
)

const importHelp = `Usage: trueup import-items [--grpc-addr HOST:PORT] [--format csv|jsonl] [--dry-run] [--request-id ID] FILE

Imports items into the item master through the inventory service's ImportItems
RPC: all of them, or, if any record is wrong, none. FILE is a CSV file with a
header row, or JSON lines (one Item per line, as the API returns it); "-" reads
standard input.

CSV columns (any order; sku, description and base_uom required):
  sku, description, base_uom, uoms ("CS=12;PLT=480"), whole_units_only,
  tracking (NONE|LOT|SERIAL), expiry_required, cost_method
  (FIFO|MOVING_AVERAGE), status (ACTIVE|BLOCKED), erp_code, wms_code,
  supplier_codes ("ACME:AC-1;GLOBEX:G-9"), customer_codes, allow_negative

  --grpc-addr   the inventory service (default localhost:9090; TRUEUP_GRPC_ADDR)
  --format      csv or jsonl; by default from the file name (.csv, .jsonl, .ndjson)
  --dry-run     check every record and report data-quality findings; write nothing
  --request-id  the import's idempotency key; by default a digest of the
                content, so running the same import twice creates its items once

Problems are printed as "line N: field: what is wrong", then the data-quality
findings that involve the imported items. The exit status is 1 when the import
has errors (and so wrote nothing).
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
	)
	config.String(fs, &grpcAddr, "grpc-addr", "TRUEUP_GRPC_ADDR", "localhost:9090", "gRPC address of the inventory service")
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

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
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

// reportImport prints the errors, the findings and a summary line, and turns
// an import with errors into a failing exit status.
func reportImport(out, summary io.Writer, resp *inventoryv1.ImportItemsResponse, dryRun bool) error {
	for _, e := range resp.GetErrors() {
		if e.GetLine() > 0 {
			fmt.Fprintf(out, "line %d: %s: %s\n", e.GetLine(), e.GetField(), e.GetDescription())
		} else {
			fmt.Fprintf(out, "%s: %s\n", e.GetField(), e.GetDescription())
		}
	}
	if len(resp.GetFindings()) > 0 {
		if len(resp.GetErrors()) > 0 {
			fmt.Fprintln(out)
		}
		if err := writeFindingsTable(out, resp.GetFindings()); err != nil {
			return err
		}
	}
	n := len(resp.GetErrors())
	switch {
	case n > 0 && dryRun:
		fmt.Fprintf(summary, "dry run: %d errors, %d findings; nothing written\n", n, len(resp.GetFindings()))
		return errImportRefused
	case n > 0:
		fmt.Fprintf(summary, "import refused: %d errors, %d findings; nothing written\n", n, len(resp.GetFindings()))
		return errImportRefused
	case dryRun:
		fmt.Fprintf(summary, "dry run: no errors, %d findings; nothing written\n", len(resp.GetFindings()))
	default:
		fmt.Fprintf(summary, "imported %d items (%d findings)\n", resp.GetCreatedCount(), len(resp.GetFindings()))
	}
	return nil
}
