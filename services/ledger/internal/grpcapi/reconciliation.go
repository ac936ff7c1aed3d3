package grpcapi

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/protoconv"
)

// Reconciliation implements ledgerv1.ReconciliationServiceServer.
type Reconciliation struct {
	ledgerv1.UnimplementedReconciliationServiceServer
	app    *app.Service
	decode app.Decoder
}

// NewReconciliation builds the reconciliation API; decode reads parked
// events, to tell which movements they hold.
func NewReconciliation(a *app.Service, decode app.Decoder) *Reconciliation {
	return &Reconciliation{app: a, decode: decode}
}

// Reconcile compares the books with the warehouse at one journal watermark.
func (s *Reconciliation) Reconcile(ctx context.Context, _ *ledgerv1.ReconcileRequest) (*ledgerv1.Reconciliation, error) {
	r, err := s.app.Reconcile(ctx, s.decode)
	if err != nil {
		return nil, err
	}
	out := &ledgerv1.Reconciliation{RunTime: timestamppb.New(time.Now()), ThroughSeq: r.Through, Clean: r.Clean()}
	for _, row := range r.Rows {
		cur := row.Key.Currency
		pr := &ledgerv1.ReconciliationRow{
			Warehouse: row.Key.Warehouse, Item: row.Key.Item, ThroughSeq: row.Through,
			InventoryValue: protoconv.Money(row.Inventory, cur), GlValue: protoconv.Money(row.GL, cur),
			InFlightValue: protoconv.Money(row.InFlight, cur), Difference: protoconv.Money(row.Difference, cur),
		}
		for _, id := range row.Manual {
			pr.ManualEntries = append(pr.ManualEntries, "journalEntries/"+id)
		}
		out.Rows = append(out.Rows, pr)
	}
	for _, p := range r.Pending {
		out.PendingMovements = append(out.PendingMovements, &ledgerv1.PendingMovement{
			Movement: "movements/" + p.MovementID, Seq: p.Seq, Warehouse: p.Key.Warehouse, Item: p.Key.Item,
			Value: protoconv.Money(p.Value, p.Key.Currency), Parked: p.Parked,
		})
	}
	return out, nil
}
