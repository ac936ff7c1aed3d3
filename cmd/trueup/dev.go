package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"trueup.dev/cmd/trueup/internal/suite"
	"trueup.dev/gateway"
	"trueup.dev/platform/config"
)

func runDev(ctx context.Context, args []string) error {
	fs := newFlagSet("dev")
	var (
		c                           common
		dataDir, grpcAddr, httpAddr string
		natsPort                    int
		seed                        bool
		timeZone                    string
		claimTTL                    time.Duration
		limits                      gateway.Limits
	)
	c.bind(fs)
	bindGatewayLimits(fs, &limits)
	config.String(fs, &dataDir, "data-dir", "TRUEUP_DATA_DIR", ".trueup", "where the SQLite databases, NATS store and dev API key live")
	config.String(fs, &grpcAddr, "grpc-addr", "TRUEUP_GRPC_ADDR", "localhost:9090", "gRPC address of every service")
	config.String(fs, &httpAddr, "http-addr", "TRUEUP_HTTP_ADDR", "localhost:8080", "REST gateway address")
	config.Int(fs, &natsPort, "nats-port", "TRUEUP_NATS_PORT", -1, "embedded NATS client port on 127.0.0.1 (-1: any free port)")
	config.String(fs, &timeZone, "time-zone", "TRUEUP_TIME_ZONE", "UTC", "the company's time zone (IANA name), in which the ledger's fiscal periods run")
	config.Duration(fs, &claimTTL, "task-claim-ttl", "TRUEUP_TASK_CLAIM_TTL", 15*time.Minute, "how long a worker's claim on a fulfillment task holds before it goes back to the queue")
	config.Bool(fs, &seed, "seed", "TRUEUP_SEED", true, "seed demo master data on first start")
	if err := config.Parse(fs, args); err != nil {
		return err
	}
	log, shutdownTelemetry, err := c.setup(ctx, "dev", os.Stderr)
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTelemetry(context.Background()) }()
	gateway.SetGRPCLogger(log)

	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	key, created, err := ensureDevAPIKey(dataDir)
	if err != nil {
		return err
	}
	serviceToken, err := devServiceToken(dataDir)
	if err != nil {
		return err
	}
	keys, err := gateway.LoadKeysFile(filepath.Join(dataDir, "api-keys"))
	if err != nil {
		return err
	}
	st, err := suite.Start(ctx, suite.Config{DataDir: dataDir, GRPCAddr: grpcAddr, HTTPAddr: httpAddr, NATSPort: natsPort, Keys: keys, TimeZone: timeZone, TaskClaimTTL: claimTTL, ServiceToken: serviceToken, GatewayLimits: limits}, log)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dataDir, devNATSURLFile), []byte(st.NATSURL+"\n"), 0o600); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()

	if seed {
		if err := seedOnce(ctx, dataDir, stackTarget(st)); err != nil {
			log.Error("seeding demo data failed; the stack keeps running", "error", err)
		}
	}
	printBanner(os.Stdout, st, dataDir, key, created)
	return <-done
}

// devAPIKey returns the dev stack's partner API key, creating it (and the keys
// file the gateway reads) on first start. The key is random per data directory:
// no secret lives in the code.
func devAPIKey(dataDir string) (string, error) {
	key, _, err := ensureDevAPIKey(dataDir)
	return key, err
}

// devPartner is the demo partner `trueup dev` creates on first start.
const devPartner = "demo-partner"

// ensureDevAPIKey returns the demo partner's key and whether it was created
// now. The keys file holds only its hash (see gateway.KeyRecord); the key
// itself is kept in <data-dir>/dev-api-key, for the README's
// KEY=$(cat .trueup/dev-api-key) — a development convenience a production
// gateway has no equivalent of. A keys file in the old plain format (written
// by an older `trueup dev`) is moved aside to api-keys.legacy and a new demo
// key created; so is one that no longer admits the saved key.
func ensureDevAPIKey(dataDir string) (string, bool, error) {
	path := filepath.Join(dataDir, "api-keys")
	keyPath := filepath.Join(dataDir, "dev-api-key")
	b, err := os.ReadFile(keyPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", false, err
	}
	keys, kerr := gateway.LoadKeysFile(path)
	switch {
	case kerr == nil && err == nil:
		if _, ok := keys.Lookup(strings.TrimSpace(string(b))); ok {
			return strings.TrimSpace(string(b)), false, nil
		}
	case errors.Is(kerr, gateway.ErrLegacyKeysFile):
		if err := os.Rename(path, path+".legacy"); err != nil {
			return "", false, err
		}
	case kerr != nil && !errors.Is(kerr, os.ErrNotExist):
		return "", false, kerr
	}
	key, _, err := gateway.CreateKey(path, devPartner, []string{"*"}, 0, time.Now())
	if err != nil {
		return "", false, err
	}
	if err := os.WriteFile(keyPath, []byte(key), 0o600); err != nil {
		return "", false, err
	}
	return key, true, nil
}

// printBanner prints the demo partner's key itself only on the start that
// created it; later starts point at the file.
func printBanner(w io.Writer, st *suite.Stack, dataDir, key string, created bool) {
	shown := "$(cat " + filepath.Join(dataDir, "dev-api-key") + ")"
	if created {
		fmt.Fprintf(w, "\nCreated the demo partner %s; its API key (shown once, kept only in %s):\n  %s\n",
			devPartner, filepath.Join(dataDir, "dev-api-key"), key)
		shown = key
	}
	fmt.Fprintf(w, `
Trueup dev stack is up.
  gRPC (all services, reflection on): %[1]s   (every call but health needs the service token)
      grpcurl -plaintext -H "authorization: Bearer $(cat %[5]s/service-token)" %[1]s list
      grpcurl -plaintext -H "authorization: Bearer $(cat %[5]s/service-token)" %[1]s trueup.inventory.v1.InventoryService/ListItems
  REST gateway:                       http://%[2]s
      curl -H "Authorization: Bearer %[3]s" http://%[2]s/v1/items
  OpenAPI document:                   http://%[2]s/openapi.json
  API reference:                      http://%[2]s/docs
  Health:                             http://%[2]s/readyz   (gRPC: grpc.health.v1 on %[1]s)
  Embedded NATS JetStream:            %[4]s
  Data (SQLite, NATS store, API key): %[5]s
Ctrl-C stops everything gracefully.
`, st.GRPCAddr, st.HTTPAddr, shown, st.NATSURL, dataDir)
}
