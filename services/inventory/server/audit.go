package server

import (
	"context"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/sqldb"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/protoconv"
	"trueup.dev/services/inventory/internal/store"
)

// Audit runs the item-master audit directly on an inventory database, as the
// AuditItems RPC does, for `trueup audit` on a database no service is serving.
// It only reads: it neither migrates the schema nor writes events. The
// findings come back most severe first.
func Audit(ctx context.Context, db *sqldb.DB) ([]*inventoryv1.AuditFinding, error) {
	// A store without an outbox: the audit opens no transaction, so nothing
	// is ever emitted.
	svc := app.New(store.New(db, nil, nil), nil)
	fs, err := svc.AuditItems(ctx)
	if err != nil {
		return nil, err
	}
	return protoconv.FindingsToProto(fs), nil
}
