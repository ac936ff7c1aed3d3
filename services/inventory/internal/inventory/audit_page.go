package inventory

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// FindingKey is where a finding sorts in an audit: most severe first, then by
// code and first item, then by a digest of all its items and its message. It
// is small whatever the finding (a duplicate group of a thousand items keys
// as one SKU and a digest), so a page token can carry it; and it depends only
// on the finding, so a page resumes after its last finding even when the item
// master changed between pages.
type FindingKey struct {
	Severity  Severity
	Code      string
	FirstItem string
	Digest    string
}

// KeyOf is the finding's key.
func KeyOf(f Finding) FindingKey {
	h := sha256.New()
	for _, it := range f.Items {
		h.Write([]byte(it))
		h.Write([]byte{0})
	}
	h.Write([]byte{1})
	h.Write([]byte(f.Message))
	k := FindingKey{Severity: f.Severity, Code: f.Code, Digest: hex.EncodeToString(h.Sum(nil)[:12])}
	if len(f.Items) > 0 {
		k.FirstItem = f.Items[0]
	}
	return k
}

// CompareFindingKeys orders keys as SortFindings orders findings.
func CompareFindingKeys(a, b FindingKey) int {
	return cmp.Or(
		cmp.Compare(b.Severity, a.Severity),
		cmp.Compare(a.Code, b.Code),
		cmp.Compare(a.FirstItem, b.FirstItem),
		cmp.Compare(a.Digest, b.Digest),
	)
}

// String encodes the key for a page token: "severity|code|digest|first item"
// (the SKU last, as the only part that may hold the separator).
func (k FindingKey) String() string {
	return strconv.Itoa(int(k.Severity)) + "|" + k.Code + "|" + k.Digest + "|" + k.FirstItem
}

var errBadFindingKey = errors.New("not a finding key")

// ParseFindingKey reads a key written by FindingKey.String.
func ParseFindingKey(s string) (FindingKey, error) {
	parts := strings.SplitN(s, "|", 4)
	if len(parts) != 4 {
		return FindingKey{}, errBadFindingKey
	}
	sev, err := strconv.Atoi(parts[0])
	if err != nil {
		return FindingKey{}, errBadFindingKey
	}
	return FindingKey{Severity: Severity(sev), Code: parts[1], Digest: parts[2], FirstItem: parts[3]}, nil
}

// FindingCount counts the findings of one code at one severity.
type FindingCount struct {
	Code     string
	Severity Severity
	Count    int
}

// CountFindings counts findings by code and severity, most severe first, then
// by code.
func CountFindings(fs []Finding) []FindingCount {
	type key struct {
		code string
		sev  Severity
	}
	n := map[key]int{}
	for _, f := range fs {
		n[key{f.Code, f.Severity}]++
	}
	out := make([]FindingCount, 0, len(n))
	for k, c := range n {
		out = append(out, FindingCount{Code: k.code, Severity: k.sev, Count: c})
	}
	slices.SortFunc(out, func(a, b FindingCount) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Code, b.Code))
	})
	return out
}

// FindingsPage is one page of sorted findings.
type FindingsPage struct {
	// Findings are at most the page's limit, in SortFindings order.
	Findings []Finding
	// Next is the key of the page's last finding when more follow, else nil.
	Next *FindingKey
	// Summary counts every finding, not just the page's.
	Summary []FindingCount
	// Total is how many findings there are.
	Total int
}

// PageFindings cuts the page of at most limit findings after the key after
// (nil: from the first) out of fs, which must be in SortFindings order.
func PageFindings(fs []Finding, after *FindingKey, limit int) FindingsPage {
	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(fs, *after, func(f Finding, k FindingKey) int {
			return CompareFindingKeys(KeyOf(f), k)
		})
		// Past a finding equal to the key: it was on the previous page.
		for start < len(fs) && CompareFindingKeys(KeyOf(fs[start]), *after) <= 0 {
			start++
		}
	}
	end := min(len(fs), start+max(limit, 0))
	p := FindingsPage{Findings: fs[start:end], Summary: CountFindings(fs), Total: len(fs)}
	if end < len(fs) && end > start {
		k := KeyOf(fs[end-1])
		p.Next = &k
	}
	return p
}
