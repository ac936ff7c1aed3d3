package protoconv

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/resname"
	"trueup.dev/services/inventory/internal/inventory"
)

var severityToProto = map[inventory.Severity]inventoryv1.FindingSeverity{
	inventory.SeverityInfo:    inventoryv1.FindingSeverity_FINDING_SEVERITY_INFO,
	inventory.SeverityWarning: inventoryv1.FindingSeverity_FINDING_SEVERITY_WARNING,
	inventory.SeverityError:   inventoryv1.FindingSeverity_FINDING_SEVERITY_ERROR,
}

// CodeNamespaceFromProto maps a code namespace; UNSPECIFIED and unknown values
// map to values the domain refuses, naming the field.
func CodeNamespaceFromProto(p inventoryv1.CodeNamespace) inventory.CodeNamespace {
	return enumFromProto(namespaceFromProto, p, inventoryv1.CodeNamespace_CODE_NAMESPACE_UNSPECIFIED)
}

// FindingToProto maps an audit finding; items become resource names.
func FindingToProto(f inventory.Finding) *inventoryv1.AuditFinding {
	out := &inventoryv1.AuditFinding{
		Code:         f.Code,
		Severity:     severityToProto[f.Severity],
		Message:      f.Message,
		SuggestedFix: f.SuggestedFix,
	}
	for _, sku := range f.Items {
		out.Items = append(out.Items, resname.Format(ItemPattern, sku))
	}
	return out
}

// FindingsToProto maps findings in order.
func FindingsToProto(fs []inventory.Finding) []*inventoryv1.AuditFinding {
	out := make([]*inventoryv1.AuditFinding, 0, len(fs))
	for _, f := range fs {
		out = append(out, FindingToProto(f))
	}
	return out
}

// FindingCountsToProto maps the counts of findings by code and severity, in order.
func FindingCountsToProto(cs []inventory.FindingCount) []*inventoryv1.AuditFindingCount {
	out := make([]*inventoryv1.AuditFindingCount, 0, len(cs))
	for _, c := range cs {
		out = append(out, &inventoryv1.AuditFindingCount{Code: c.Code, Severity: severityToProto[c.Severity], Count: int32(c.Count)})
	}
	return out
}

// ImportErrorToProto maps one import problem.
func ImportErrorToProto(e inventory.ImportError) *inventoryv1.ImportError {
	return &inventoryv1.ImportError{Line: int32(e.Line), Field: e.Field, Description: e.Description}
}

// ItemsFromJSONLines reads an import in JSON lines: one Item resource per line
// in its protojson form (as the REST API returns it, field names in either
// lowerCamel or snake_case); output-only fields are ignored, unknown fields and
// malformed lines are errors on their line. Blank lines are skipped. The error
// return is for content that cannot be imported at all (too large, too many
// lines).
func ItemsFromJSONLines(content string) (inventory.ImportBatch, error) {
	if err := inventory.CheckImportSize(content); err != nil {
		return inventory.ImportBatch{}, err
	}
	var b inventory.ImportBatch
	content = strings.TrimPrefix(content, "\uFEFF")
	for i, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if len(b.Records) == inventory.MaxImportRecords {
			return inventory.ImportBatch{}, apperr.Invalid(apperr.Field("content", fmt.Sprintf("has more than %d items; split the file", inventory.MaxImportRecords)))
		}
		var p inventoryv1.Item
		if err := protojson.Unmarshal([]byte(line), &p); err != nil {
			b.AddError(inventory.ImportError{Line: i + 1, Field: "item", Description: "not a valid JSON item: " + err.Error()})
			continue
		}
		b.Records = append(b.Records, inventory.ImportRecord{Line: i + 1, Item: ItemFromProto(&p)})
	}
	return b, nil
}
