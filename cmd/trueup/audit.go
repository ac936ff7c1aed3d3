package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/config"
	"trueup.dev/platform/sqldb"
	inventory "trueup.dev/services/inventory/server"
)

const auditHelp = `Usage: trueup audit [--database-url URL | --grpc-addr HOST:PORT] [--json]

Audits the item master: duplicate items, codes shared by several items,
missing or invalid fields, units used without a conversion, items without an
ERP or WMS code, stock without cost, stock in blocked locations.

  --database-url  read the inventory database directly (sqlite://… or
                  postgres://…; also TRUEUP_DATABASE_URL). Read only: nothing
                  is migrated or written; the schema must be migrated already.
  --grpc-addr     ask a running inventory service instead (AuditItems), e.g.
                  localhost:9090 under "trueup dev".
  --service-token  with --grpc-addr: the services' internal credential (also
                  TRUEUP_SERVICE_TOKEN); by default the "trueup dev" stack's,
                  from --data-dir (.trueup).
  --json          one JSON object per finding instead of a table.

Findings are printed most severe first. The exit status is 1 when any finding
is an ERROR, so the command can gate a pipeline.
`

// errAuditErrors makes the exit status 1 when the audit found errors; the
// findings themselves are already printed.
var errAuditErrors = errors.New("the item master has ERROR findings")

// runAudit audits the item master through the database or the gRPC API.
func runAudit(ctx context.Context, args []string) error {
	fs := newFlagSet("audit")
	fs.Usage = func() { fmt.Fprint(fs.Output(), auditHelp) }
	var (
		dbURL    config.Redacted
		grpcAddr string
		asJSON   bool
		client   clientFlags
	)
	config.Secret(fs, &dbURL, "database-url", "TRUEUP_DATABASE_URL", "inventory database DSN: sqlite://path or postgres://…")
	config.String(fs, &grpcAddr, "grpc-addr", "", "", "gRPC address of a running inventory service")
	config.Bool(fs, &asJSON, "json", "", false, "print one JSON object per finding")
	client.bind(fs)
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("trueup audit: unexpected arguments %v", fs.Args())
	}
	var (
		findings []*inventoryv1.AuditFinding
		err      error
	)
	switch {
	case grpcAddr != "" && dbURL.Reveal() != "" && !fromEnvOnly(fs, "database-url"):
		return errors.New("trueup audit: give --database-url or --grpc-addr, not both")
	case grpcAddr != "":
		var t grpcTarget
		if t, err = client.target(grpcAddr); err == nil {
			findings, err = auditOverGRPC(ctx, t)
		}
	case dbURL.Reveal() != "":
		findings, err = auditDatabase(ctx, dbURL.Reveal())
	default:
		return errors.New("trueup audit: give --database-url (or TRUEUP_DATABASE_URL) or --grpc-addr; see trueup audit -h")
	}
	if err != nil {
		return err
	}
	if asJSON {
		err = writeFindingsJSON(os.Stdout, findings)
	} else {
		err = writeFindingsTable(os.Stdout, findings)
	}
	if err != nil {
		return err
	}
	n := countSeverities(findings)
	fmt.Fprintf(os.Stderr, "%d findings: %d errors, %d warnings, %d info\n", len(findings),
		n[inventoryv1.FindingSeverity_FINDING_SEVERITY_ERROR], n[inventoryv1.FindingSeverity_FINDING_SEVERITY_WARNING],
		n[inventoryv1.FindingSeverity_FINDING_SEVERITY_INFO])
	if n[inventoryv1.FindingSeverity_FINDING_SEVERITY_ERROR] > 0 {
		return errAuditErrors
	}
	return nil
}

// fromEnvOnly says whether a flag's value came from its environment variable
// rather than the command line: an explicit --grpc-addr wins over a
// TRUEUP_DATABASE_URL set for the services.
func fromEnvOnly(fs *flag.FlagSet, name string) bool {
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == name })
	return !explicit
}

func auditDatabase(ctx context.Context, dsn string) ([]*inventoryv1.AuditFinding, error) {
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	findings, err := inventory.Audit(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("audit (is this a migrated inventory database? see trueup migrate inventory): %w", err)
	}
	return findings, nil
}

func auditOverGRPC(ctx context.Context, t grpcTarget) ([]*inventoryv1.AuditFinding, error) {
	addr := t.addr
	conn, err := grpc.NewClient(t.addr, grpc.WithTransportCredentials(insecure.NewCredentials()), t.credentials())
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// Page by page: the findings of a large item master do not fit one
	// response. Each page audits afresh and resumes after the last finding,
	// so a change between pages neither repeats nor skips the others.
	client := inventoryv1.NewInventoryServiceClient(conn)
	var out []*inventoryv1.AuditFinding
	req := &inventoryv1.AuditItemsRequest{PageSize: auditPageSize}
	for {
		resp, err := client.AuditItems(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("AuditItems at %s: %w", addr, err)
		}
		out = append(out, resp.GetFindings()...)
		if resp.GetNextPageToken() == "" {
			return out, nil
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// auditPageSize is the largest page AuditItems serves: the fewest audits.
const auditPageSize = 1000

// severityName drops the enum's prefix: "FINDING_SEVERITY_ERROR" -> "ERROR".
func severityName(s inventoryv1.FindingSeverity) string {
	return strings.TrimPrefix(s.String(), "FINDING_SEVERITY_")
}

func countSeverities(fs []*inventoryv1.AuditFinding) map[inventoryv1.FindingSeverity]int {
	n := map[inventoryv1.FindingSeverity]int{}
	for _, f := range fs {
		n[f.GetSeverity()]++
	}
	return n
}

// writeFindingsTable prints one row per finding and its suggested fix under it.
func writeFindingsTable(w io.Writer, fs []*inventoryv1.AuditFinding) error {
	if len(fs) == 0 {
		_, err := fmt.Fprintln(w, "no findings")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tCODE\tITEMS\tMESSAGE")
	for _, f := range fs {
		items := make([]string, len(f.GetItems()))
		for i, it := range f.GetItems() {
			items[i] = strings.TrimPrefix(it, "items/")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", severityName(f.GetSeverity()), f.GetCode(), strings.Join(items, ","), f.GetMessage())
		fmt.Fprintf(tw, "\t\t\tfix: %s\n", f.GetSuggestedFix())
	}
	return tw.Flush()
}

// findingJSON is the stable JSON form of a finding for scripts.
type findingJSON struct {
	Severity     string   `json:"severity"`
	Code         string   `json:"code"`
	Items        []string `json:"items"`
	Message      string   `json:"message"`
	SuggestedFix string   `json:"suggested_fix"`
}

func writeFindingsJSON(w io.Writer, fs []*inventoryv1.AuditFinding) error {
	enc := json.NewEncoder(w)
	for _, f := range fs {
		if err := enc.Encode(findingJSON{
			Severity: severityName(f.GetSeverity()), Code: f.GetCode(), Items: f.GetItems(),
			Message: f.GetMessage(), SuggestedFix: f.GetSuggestedFix(),
		}); err != nil {
			return err
		}
	}
	return nil
}
