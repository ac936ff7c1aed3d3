package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	inventoryv1 "trueup.dev/api/gen/go/trueup/inventory/v1"
	"trueup.dev/platform/apperr"
	"trueup.dev/platform/sqldb"
	"trueup.dev/platform/testkit/pgtest"
	"trueup.dev/services/inventory/internal/grpcapi"
	"trueup.dev/services/inventory/internal/inventory"
)

// genItemsCSV is n items GEN-00000…; every tenth has no WMS code, so the
// import has n/10 findings.
func genItemsCSV(n int) string {
	var b strings.Builder
	b.WriteString("sku,description,base_uom,uoms,erp_code,wms_code\n")
	for i := range n {
		wms := fmt.Sprintf("W-%05d", i)
		if i%10 == 0 {
			wms = ""
		}
		fmt.Fprintf(&b, "GEN-%05d,Generated item %d,EA,CS=12,E-%05d,%s\n", i, i, i, wms)
	}
	return b.String()
}

// A 20,000-item import commits in chunks of 500 (one claim each), answers in
// well under 64 KiB, and a retry with the same request id returns the same
// answer and writes nothing; an import interrupted after some chunks resumes
// with the rest.
func TestImportItemsLargeInChunksSmallResponse(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		const n = 20_000
		chunks := n / inventory.ImportChunkSize
		batch, err := inventory.ParseItemsCSV(genItemsCSV(n))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := svc.ImportItems(ctx, "big-1", batch, false)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("imported %d items in %v", n, time.Since(start))
		if !res.Committed || res.Created != n || res.ErrorCount != 0 || res.FindingCount != n/10 ||
			len(res.Findings) != inventory.MaxImportReport {
			t.Fatalf("import = created %d committed %v errors %d findings %d (listed %d)",
				res.Created, res.Committed, res.ErrorCount, res.FindingCount, len(res.Findings))
		}
		if want := []inventory.FindingCount{{Code: inventory.FindingUnmappedWMSCode, Severity: inventory.SeverityWarning, Count: n / 10}}; !slices.Equal(res.Summary, want) {
			t.Fatalf("summary = %+v, want %+v", res.Summary, want)
		}
		resp := grpcapi.ImportResponse(res)
		if size := proto.Size(resp); size > 64<<10 {
			t.Fatalf("response is %d bytes, want under 64 KiB", size)
		}
		if countRows(t, db, "items") != n || countRows(t, db, "idempotency_keys") != chunks || len(outboxTypes(t, db)) != n {
			t.Fatalf("items %d, claims %d, events %d; want %d, %d (one per chunk), %d",
				countRows(t, db, "items"), countRows(t, db, "idempotency_keys"), len(outboxTypes(t, db)), n, chunks, n)
		}

		// A retry: the same answer, nothing written.
		again, err := svc.ImportItems(ctx, "big-1", batch, false)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(grpcapi.ImportResponse(again), resp) {
			t.Fatalf("retry answered differently:\n%v\nwant\n%v", grpcapi.ImportResponse(again), resp)
		}
		if countRows(t, db, "items") != n || countRows(t, db, "idempotency_keys") != chunks || len(outboxTypes(t, db)) != n {
			t.Fatal("the retry wrote something")
		}

		// The same request id for other content is refused, untouched.
		other, err := inventory.ParseItemsCSV(genItemsCSV(3))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.ImportItems(ctx, "big-1", other, false); !errors.Is(err, apperr.ErrInvalidArgument) {
			t.Fatalf("request id reused for other content: %v; want InvalidArgument", err)
		}

		// As if the call had failed before its last chunk: the retry writes
		// that chunk only and counts the whole import.
		last := fmt.Sprintf("GEN-%05d", n-inventory.ImportChunkSize)
		for _, table := range []string{"item_codes", "item_uoms", "items"} {
			exec(t, db, `DELETE FROM `+table+` WHERE sku >= $1`, last)
		}
		exec(t, db, `DELETE FROM idempotency_keys WHERE key = $1`, fmt.Sprintf("big-1#%d", chunks-1))
		resumed, err := svc.ImportItems(ctx, "big-1", batch, false)
		if err != nil {
			t.Fatal(err)
		}
		if !resumed.Committed || resumed.Created != n || resumed.ErrorCount != 0 {
			t.Fatalf("resume = created %d committed %v errors %d %+v", resumed.Created, resumed.Committed, resumed.ErrorCount, resumed.Errors)
		}
		if countRows(t, db, "items") != n || len(outboxTypes(t, db)) != n+inventory.ImportChunkSize {
			t.Fatalf("after resume: items %d, events %d; want %d, %d", countRows(t, db, "items"), len(outboxTypes(t, db)), n, n+inventory.ImportChunkSize)
		}

		// A refused import of the same size lists 100 errors and counts them all.
		refused, err := svc.ImportItems(ctx, "big-2", batch, false)
		if err != nil {
			t.Fatal(err)
		}
		if refused.Committed || refused.Created != 0 || len(refused.Errors) != inventory.MaxImportReport || refused.ErrorCount <= inventory.MaxImportReport {
			t.Fatalf("refused = created %d errors %d (listed %d)", refused.Created, refused.ErrorCount, len(refused.Errors))
		}
		if size := proto.Size(grpcapi.ImportResponse(refused)); size > 64<<10 {
			t.Fatalf("refused response is %d bytes", size)
		}
	})
}

// The audit of a master too large for one response comes in pages: in the
// audit's order, none repeated or missed, each with the whole audit's counts.
func TestAuditItemsPages(t *testing.T) {
	pgtest.Dialects(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		// 2,500 items without WMS codes (2,500 warnings), 10 pairs of
		// duplicates and one code shared by two items (an error, and a
		// warning for the copy stored unnormalised).
		var b strings.Builder
		b.WriteString("sku,description,base_uom,erp_code\n")
		for i := range 2500 {
			fmt.Fprintf(&b, "AUD-%05d,Audited item %d,EA,E-%05d\n", i, i%2490, i)
		}
		batch, err := inventory.ParseItemsCSV(b.String())
		if err != nil {
			t.Fatal(err)
		}
		if res, err := svc.ImportItems(ctx, "aud", batch, false); err != nil || !res.Committed {
			t.Fatalf("import = %+v, %v", res, err)
		}
		exec(t, db, `UPDATE item_codes SET code = 'e-00000' WHERE sku = 'AUD-00001'`) // also stored unnormalised

		all, err := svc.AuditItems(ctx)
		if err != nil {
			t.Fatal(err)
		}
		srv := grpcapi.New(svc)
		var got []*inventoryv1.AuditFinding
		var firstSummary []*inventoryv1.AuditFindingCount
		req := &inventoryv1.AuditItemsRequest{PageSize: 1000}
		pages := 0
		for {
			resp, err := srv.AuditItems(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(resp.GetFindings()) > 1000 || int(resp.GetTotalSize()) != len(all) {
				t.Fatalf("page %d: %d findings, total %d; want at most 1000 of %d", pages, len(resp.GetFindings()), resp.GetTotalSize(), len(all))
			}
			if pages == 1 {
				firstSummary = resp.GetSummary()
			} else if len(resp.GetSummary()) != len(firstSummary) {
				t.Fatalf("page %d summary = %v, want %v", pages, resp.GetSummary(), firstSummary)
			} else {
				for i := range firstSummary {
					if !proto.Equal(resp.GetSummary()[i], firstSummary[i]) {
						t.Fatalf("page %d summary = %v, want %v", pages, resp.GetSummary(), firstSummary)
					}
				}
			}
			got = append(got, resp.GetFindings()...)
			if resp.GetNextPageToken() == "" {
				break
			}
			req.PageToken = resp.GetNextPageToken()
		}
		if pages < 3 {
			t.Fatalf("%d pages; want several", pages)
		}
		if len(got) != len(all) {
			t.Fatalf("pages hold %d findings, the audit %d", len(got), len(all))
		}
		for i, f := range all {
			if got[i].GetCode() != f.Code || got[i].GetMessage() != f.Message {
				t.Fatalf("finding %d = %v, want %+v", i, got[i], f)
			}
		}
		if got[0].GetSeverity() != inventoryv1.FindingSeverity_FINDING_SEVERITY_ERROR || got[0].GetCode() != inventory.FindingSharedCode {
			t.Fatalf("first finding = %v, want the shared code", got[0])
		}
		want := map[string]int32{"ERROR " + inventory.FindingSharedCode: 1, "WARNING " + inventory.FindingDuplicateItem: 10,
			"WARNING " + inventory.FindingUnmappedWMSCode: 2500, "WARNING " + inventory.FindingInvalidField: 1}
		if len(firstSummary) != len(want) {
			t.Fatalf("summary = %v, want %v", firstSummary, want)
		}
		for _, c := range firstSummary {
			if k := strings.TrimPrefix(c.GetSeverity().String(), "FINDING_SEVERITY_") + " " + c.GetCode(); want[k] != c.GetCount() {
				t.Fatalf("summary = %v, want %v", firstSummary, want)
			}
		}

		// A change between pages neither repeats nor skips the rest: the
		// next page resumes after the last finding seen.
		resp, err := srv.AuditItems(ctx, &inventoryv1.AuditItemsRequest{PageSize: 5})
		if err != nil {
			t.Fatal(err)
		}
		exec(t, db, `UPDATE item_codes SET code = 'E-00001' WHERE sku = 'AUD-00001'`) // the shared code is gone
		next, err := srv.AuditItems(ctx, &inventoryv1.AuditItemsRequest{PageSize: 5, PageToken: resp.GetNextPageToken()})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(next.GetFindings()[0], got[5]) {
			t.Fatalf("after a change, the next page starts at %v, want %v", next.GetFindings()[0], got[5])
		}
		for _, bad := range []*inventoryv1.AuditItemsRequest{{PageSize: -1}, {PageToken: "nonsense"}} {
			if _, err := srv.AuditItems(ctx, bad); !errors.Is(err, apperr.ErrInvalidArgument) {
				t.Errorf("AuditItems(%v): %v; want InvalidArgument", bad, err)
			}
		}
	})
}
