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

	"trueup.dev/gateway"
	"trueup.dev/platform/config"
)

const partnersUsage = `usage:
  trueup partners create --partner ID --scopes S[,S...] [--expires 720h] [--keys-file PATH]
  trueup partners list [--keys-file PATH]
  trueup partners revoke --prefix P [--keys-file PATH]

Scopes: <service>:read, <service>:write (write implies read) for inventory,
orders, fulfillment and ledger, or * for everything. The key is printed once
by create and stored nowhere: the keys file keeps its SHA-256 only. A running
gateway re-reads the keys file within seconds, so create and revoke take
effect without a restart.
`

func runPartners(ctx context.Context, args []string) error {
	return partnersCmd(args, os.Stdout, time.Now)
}

func partnersCmd(args []string, out io.Writer, now func() time.Time) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, partnersUsage)
		return errUsage
	}
	sub, rest := args[0], args[1:]
	fs := newFlagSet("partners " + sub)
	var keysFile, partner, scopes, prefix string
	var expires time.Duration
	config.String(fs, &keysFile, "keys-file", "TRUEUP_API_KEYS_FILE", ".trueup/api-keys", "the gateway's API keys file")
	switch sub {
	case "create":
		config.String(fs, &partner, "partner", "", "", "partner id (required)")
		config.String(fs, &scopes, "scopes", "", "", "comma-separated scopes, e.g. orders:read,fulfillment:write (required)")
		config.Duration(fs, &expires, "expires", "", 0, "key lifetime, e.g. 720h (0: never expires)")
	case "revoke":
		config.String(fs, &prefix, "prefix", "", "", "prefix of the key to revoke, as \"trueup partners list\" shows it (required)")
	case "list":
	case "help", "-h", "--help":
		fmt.Fprint(out, partnersUsage)
		return nil
	default:
		fmt.Fprintf(os.Stderr, "unknown partners command %q\n\n%s", sub, partnersUsage)
		return errUsage
	}
	if err := config.Parse(fs, rest); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	switch sub {
	case "create":
		if partner == "" || scopes == "" {
			return errors.New("--partner and --scopes are required")
		}
		if expires < 0 {
			return errors.New("--expires must not be negative")
		}
		var list []string
		for _, s := range strings.Split(scopes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				list = append(list, s)
			}
		}
		key, rec, err := gateway.CreateKey(keysFile, partner, list, expires, now())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "created key %s for partner %s (scopes %s, expires %s) in %s\n", rec.Prefix, rec.Partner,
			strings.Join(rec.Scopes, ","), timeOrDash(rec.Expires), keysFile)
		fmt.Fprintf(out, "API key (shown once, stored nowhere; give it to the partner now):\n%s\n", key)
		return nil
	case "revoke":
		if prefix == "" {
			return errors.New("--prefix is required")
		}
		rec, err := gateway.RevokeKey(keysFile, prefix, now())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "revoked key %s of partner %s at %s\n", rec.Prefix, rec.Partner, rec.Revoked.Format(time.RFC3339))
		return nil
	}
	recs, err := gateway.ReadKeyRecords(keysFile)
	if err != nil {
		return err
	}
	used, err := gateway.ReadLastUsed(keysFile)
	if err != nil {
		return fmt.Errorf("last-used times: %w", err)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTNER\tPREFIX\tSCOPES\tCREATED\tEXPIRES\tREVOKED\tLAST USED")
	for _, r := range recs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Partner, r.Prefix, strings.Join(r.Scopes, ","),
			timeOrDash(r.Created), timeOrDash(r.Expires), timeOrDash(r.Revoked), timeOrDash(used[r.Prefix]))
	}
	return tw.Flush()
}

func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
