package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

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
	key, err := devAPIKey(dataDir)
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
	st, err := startStack(ctx, stackConfig{DataDir: dataDir, GRPCAddr: grpcAddr, HTTPAddr: httpAddr, NATSPort: natsPort, Keys: keys, TimeZone: timeZone, TaskClaimTTL: claimTTL, ServiceToken: serviceToken, GatewayLimits: limits}, log)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dataDir, devNATSURLFile), []byte(st.NATSURL+"\n"), 0o600); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()

	if seed {
		if err := seedOnce(ctx, dataDir, st.target()); err != nil {
			log.Error("seeding demo data failed; the stack keeps running", "error", err)
		}
	}
	printBanner(os.Stdout, st, dataDir, key)
	return <-done
}

// devAPIKey returns the dev stack's partner API key, creating it (and the keys
// file the gateway reads) on first start. The key is random per data directory:
// no secret lives in the code.
func devAPIKey(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "api-keys")
	keyPath := filepath.Join(dataDir, "dev-api-key")
	if b, err := os.ReadFile(keyPath); err == nil {
		return string(b), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	key := "tu_dev_" + base64.RawURLEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte("# partner-id key scopes\ndemo-partner "+key+" *\n"), 0o600); err != nil {
		return "", err
	}
	if err := os.WriteFile(keyPath, []byte(key), 0o600); err != nil {
		return "", err
	}
	return key, nil
}

func printBanner(w io.Writer, st *stack, dataDir, key string) {
	fmt.Fprintf(w, `
Trueup dev stack is up.
  gRPC (all services, reflection on): %[1]s   (every call but health needs the service token)
      grpcurl -plaintext -H "authorization: Bearer $(cat %[5]s/service-token)" %[1]s list
      grpcurl -plaintext -H "authorization: Bearer $(cat %[5]s/service-token)" %[1]s trueup.inventory.v1.InventoryService/ListItems
  REST gateway:                       http://%[2]s
      curl -H 'Authorization: Bearer %[3]s' http://%[2]s/v1/items
  OpenAPI document:                   http://%[2]s/openapi.json
  Health:                             http://%[2]s/readyz   (gRPC: grpc.health.v1 on %[1]s)
  Embedded NATS JetStream:            %[4]s
  Data (SQLite, NATS store, API key): %[5]s
Ctrl-C stops everything gracefully.
`, st.GRPCAddr, st.HTTPAddr, key, st.NATSURL, dataDir)
}
