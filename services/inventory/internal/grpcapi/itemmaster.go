package grpcapi

import (
	"context"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/paging"
	"trueup.dev/platform/resname"
	"trueup.dev/services/inventory/internal/app"
	"trueup.dev/services/inventory/internal/inventory"
	"trueup.dev/services/inventory/internal/protoconv"
)

// UpdateItem changes the fields of an item that update_mask names, if
// item.version is still the stored version.
func (s *Server) UpdateItem(ctx context.Context, req *inventoryv1.UpdateItemRequest) (*inventoryv1.Item, error) {
	ids, err := resname.Parse("item.name", req.GetItem().GetName(), protoconv.ItemPattern)
	if err != nil {
		return nil, err
	}
	// The sku is immutable: a body naming another sku than the name is a
	// mistake, not a rename.
	if sku := req.GetItem().GetSku(); sku != "" && inventory.NormalizeSKU(sku) != inventory.NormalizeSKU(ids[0]) {
		return nil, apperr.Invalid(apperr.Field("item.sku", "cannot change: the sku identifies the item; leave it empty or equal to the name's"))
	}
	it, err := s.app.UpdateItem(ctx, req.GetRequestId(), ids[0], inventory.ItemUpdate{
		Fields:  req.GetUpdateMask().GetPaths(),
		Values:  protoconv.ItemFromProto(req.GetItem()),
		Version: req.GetItem().GetVersion(),
	})
	if err != nil {
		return nil, err
	}
	return protoconv.ItemToProto(it), nil
}

// LookupItem finds the item another system's code maps to.
func (s *Server) LookupItem(ctx context.Context, req *inventoryv1.LookupItemRequest) (*inventoryv1.Item, error) {
	it, err := s.app.LookupItem(ctx, inventory.ItemCode{
		Namespace: protoconv.CodeNamespaceFromProto(req.GetNamespace()),
		Partner:   req.GetPartner(),
		Code:      req.GetCode(),
	})
	if err != nil {
		return nil, err
	}
	return protoconv.ItemToProto(it), nil
}

// AuditItems audits the item master and returns one page of its findings,
// with the counts of the whole audit.
func (s *Server) AuditItems(ctx context.Context, req *inventoryv1.AuditItemsRequest) (*inventoryv1.AuditItemsResponse, error) {
	page, err := paging.Parse(req.GetPageSize(), req.GetPageToken(), "audit")
	if err != nil {
		return nil, err
	}
	var after *inventory.FindingKey
	if page.After != "" {
		k, err := inventory.ParseFindingKey(page.After)
		if err != nil {
			return nil, apperr.Invalid(apperr.Field("page_token", "is not a token returned by AuditItems"))
		}
		after = &k
	}
	p, err := s.app.AuditItemsPage(ctx, after, page.Limit)
	if err != nil {
		return nil, err
	}
	resp := &inventoryv1.AuditItemsResponse{
		Findings:  protoconv.FindingsToProto(p.Findings),
		Summary:   protoconv.FindingCountsToProto(p.Summary),
		TotalSize: int32(p.Total),
	}
	if p.Next != nil {
		resp.NextPageToken = page.Next(page.Limit, p.Next.String())
	}
	return resp, nil
}

// ImportItems imports items from CSV or JSON lines: validated as a whole,
// written in chunks (see app.Service.ImportItems); with validate_only it only
// reports.
func (s *Server) ImportItems(ctx context.Context, req *inventoryv1.ImportItemsRequest) (*inventoryv1.ImportItemsResponse, error) {
	var (
		batch inventory.ImportBatch
		err   error
	)
	switch req.GetFormat() {
	case inventoryv1.ImportFormat_IMPORT_FORMAT_CSV:
		batch, err = inventory.ParseItemsCSV(req.GetContent())
	case inventoryv1.ImportFormat_IMPORT_FORMAT_JSON_LINES:
		batch, err = protoconv.ItemsFromJSONLines(req.GetContent())
	default:
		err = apperr.Invalid(apperr.Field("format", "is required: IMPORT_FORMAT_CSV or IMPORT_FORMAT_JSON_LINES"))
	}
	if err != nil {
		return nil, err
	}
	res, err := s.app.ImportItems(ctx, req.GetRequestId(), batch, req.GetValidateOnly())
	if err != nil {
		return nil, err
	}
	return ImportResponse(res), nil
}

// ImportResponse maps an import's result; it is as small as the result (at
// most inventory.MaxImportReport errors and findings, and the counts).
func ImportResponse(res *app.ImportResult) *inventoryv1.ImportItemsResponse {
	out := &inventoryv1.ImportItemsResponse{
		CreatedCount:   int32(res.Created),
		Findings:       protoconv.FindingsToProto(res.Findings),
		Committed:      res.Committed,
		ErrorCount:     int32(res.ErrorCount),
		FindingCount:   int32(res.FindingCount),
		FindingSummary: protoconv.FindingCountsToProto(res.Summary),
	}
	for _, e := range res.Errors {
		out.Errors = append(out.Errors, protoconv.ImportErrorToProto(e))
	}
	return out
}
