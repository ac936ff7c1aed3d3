package main

import (
	"context"
	"os"
	"path/filepath"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"trueup.dev/cmd/trueup/internal/demodata"
)

// seedOnce loads the demo master data through the public gRPC APIs the first time
// a data directory is used. Every create carries a fixed request_id, so an
// interrupted seed simply runs again.
func seedOnce(ctx context.Context, dataDir string, t grpcTarget) error {
	marker := filepath.Join(dataDir, ".seeded")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	conn, err := grpc.NewClient(t.addr, grpc.WithTransportCredentials(insecure.NewCredentials()), t.credentials())
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := seed(ctx, conn); err != nil {
		return err
	}
	return os.WriteFile(marker, []byte("demo data loaded\n"), 0o600)
}

// seed loads the demo master data (see demodata.Load).
func seed(ctx context.Context, conn *grpc.ClientConn) error { return demodata.Load(ctx, conn) }
