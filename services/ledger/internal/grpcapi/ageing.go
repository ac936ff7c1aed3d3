package grpcapi

import (
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ledgerv1 "trueup.dev/api/gen/go/trueup/ledger/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/services/ledger/internal/app"
	"trueup.dev/services/ledger/internal/ledger"
	"trueup.dev/services/ledger/internal/protoconv"
)

// ageingQuery reads an ageing request's date and filters. A filter is a
// code or a resource name of the collection ("warehouses/MAIN"); the page
// token is bound to all of them.
func ageingQuery(collection string, asOf *timestamppb.Timestamp, warehouse, partnerField, partnerCollection, partner string,
	size int32, token string) (app.AgeingQuery, paging.Page, error) {
	var v apperr.Violations
	q := app.AgeingQuery{AsOf: protoconv.TimeFromProto(&v, "as_of_time", asOf)}
	code := func(field, prefix, s string) string {
		s = strings.TrimSpace(s)
		s = strings.TrimPrefix(s, prefix+"/")
		if strings.Contains(s, "/") {
			v.Add(field, "must be a code or "+prefix+"/{code}")
			return ""
		}
		return ledger.NormalizeCode(s)
	}
	q.Warehouse = code("warehouse", "warehouses", warehouse)
	q.Partner = code(partnerField, partnerCollection, partner)
	if err := v.Err(); err != nil {
		return q, paging.Page{}, err
	}
	filter := collection + "|" + q.Warehouse + "|" + q.Partner
	if !q.AsOf.IsZero() {
		filter += "|" + q.AsOf.UTC().Format(time.RFC3339Nano)
	}
	page, err := paging.Parse(size, token, filter)
	return q, page, err
}

func bucketToProto(b ledger.AgeBucket) ledgerv1.AgeBucket {
	switch b {
	case ledger.Age0To30:
		return ledgerv1.AgeBucket_AGE_BUCKET_0_30
	case ledger.Age31To60:
		return ledgerv1.AgeBucket_AGE_BUCKET_31_60
	case ledger.Age61To90:
		return ledgerv1.AgeBucket_AGE_BUCKET_61_90
	case ledger.AgeOver90:
		return ledgerv1.AgeBucket_AGE_BUCKET_OVER_90
	}
	return ledgerv1.AgeBucket_AGE_BUCKET_UNSPECIFIED
}

func ageTotalsToProto(ts []ledger.AgeTotal) []*ledgerv1.AgeBucketTotal {
	out := make([]*ledgerv1.AgeBucketTotal, 0, len(ts))
	for _, t := range ts {
		out = append(out, &ledgerv1.AgeBucketTotal{Bucket: bucketToProto(t.Bucket), Amount: protoconv.Money(t.Amount, t.Currency),
			RowCount: int32(t.Count)})
	}
	return out
}

// GetGrniAgeing reports what was received and not billed, aged.
func (s *Reconciliation) GetGrniAgeing(ctx context.Context, req *ledgerv1.GetGrniAgeingRequest) (*ledgerv1.GrniAgeing, error) {
	q, page, err := ageingQuery("grniAgeing", req.GetAsOfTime(), req.GetWarehouse(), "supplier", "suppliers", req.GetSupplier(),
		req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	rep, err := s.app.GRNIAgeing(ctx, q, page)
	if err != nil {
		return nil, err
	}
	out := &ledgerv1.GrniAgeing{AsOfTime: timestamppb.New(rep.AsOf), Totals: ageTotalsToProto(rep.Totals), NextPageToken: rep.Next}
	for _, r := range rep.Rows {
		cur := r.Key.Currency
		out.Rows = append(out.Rows, &ledgerv1.GrniAgeingRow{
			PurchaseOrder: r.Key.Document, Item: r.Key.Item, Warehouse: r.Key.Warehouse,
			Received: protoconv.Money(r.Received, cur), Billed: protoconv.Money(r.Billed, cur), Open: protoconv.Money(r.Open, cur),
			OldestOpenReceiptTime: timestamppb.New(r.Oldest), AgeDays: int32(r.AgeDays), Bucket: bucketToProto(r.Bucket),
			Suppliers: r.Partners,
		})
	}
	return out, nil
}

// ListShippedNotInvoiced reports what shipped and is not invoiced, aged.
func (s *Reconciliation) ListShippedNotInvoiced(ctx context.Context, req *ledgerv1.ListShippedNotInvoicedRequest) (*ledgerv1.ListShippedNotInvoicedResponse, error) {
	q, page, err := ageingQuery("shippedNotInvoiced", req.GetAsOfTime(), req.GetWarehouse(), "customer", "customers", req.GetCustomer(),
		req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	rep, err := s.app.ShippedNotInvoiced(ctx, q, page)
	if err != nil {
		return nil, err
	}
	out := &ledgerv1.ListShippedNotInvoicedResponse{AsOfTime: timestamppb.New(rep.AsOf), Totals: ageTotalsToProto(rep.Totals),
		NextPageToken: rep.Next}
	for _, r := range rep.Rows {
		out.Rows = append(out.Rows, &ledgerv1.ShippedNotInvoicedRow{
			Order: r.Order, ShippedCost: protoconv.Money(r.Cost, r.Currency), Items: r.Items,
			FirstShipTime: timestamppb.New(r.First), LastShipTime: timestamppb.New(r.Last),
			AgeDays: int32(r.AgeDays), Bucket: bucketToProto(r.Bucket), PartiallyInvoiced: r.Partial,
		})
	}
	return out, nil
}
