package gateway

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"trueup.dev/platform/caller"
)

// Partner is an authenticated API client: a 3PL, marketplace, supplier or carrier.
type Partner struct {
	// ID names the partner; services scope what it may see by this id.
	ID string
	// Scopes are what the key may do: "<service>.read", "<service>.write"
	// (write implies read) for inventory, orders, fulfillment and ledger, or
	// "*" for everything.
	Scopes map[string]bool
}

// Allows reports whether the partner holds scope (or "*", or the write scope
// of a read).
func (p Partner) Allows(scope string) bool {
	if p.Scopes["*"] || p.Scopes[scope] {
		return true
	}
	if svc, ok := strings.CutSuffix(scope, ".read"); ok {
		return p.Scopes[svc+".write"]
	}
	return false
}

// knownScopes are the scopes a keys file may grant.
var knownScopes = map[string]bool{"*": true}

func init() {
	for _, svc := range []string{"inventory", "orders", "fulfillment", "ledger"} {
		knownScopes[svc+".read"], knownScopes[svc+".write"] = true, true
	}
}

// Keys maps API keys to partners. Only SHA-256 digests of the keys are kept.
type Keys struct {
	byDigest map[[sha256.Size]byte]Partner
}

// ParseKeys reads one key per line: "<partner-id> <key> <scope,scope,...>".
// Blank lines and lines starting with '#' are ignored. Keys shorter than 24
// characters are refused. A key without scopes may do nothing: access is
// granted, never assumed.
func ParseKeys(r io.Reader) (*Keys, error) {
	k := &Keys{byDigest: map[[sha256.Size]byte]Partner{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 && len(fields) != 3 {
			return nil, fmt.Errorf("api keys line %d: want \"<partner-id> <key> <scope,scope,...>\"", n)
		}
		scopes := map[string]bool{}
		if len(fields) == 3 {
			for _, sc := range strings.Split(fields[2], ",") {
				if !knownScopes[sc] {
					return nil, fmt.Errorf("api keys line %d: unknown scope %q (use <service>.read, <service>.write or *)", n, sc)
				}
				scopes[sc] = true
			}
		}
		// The services refuse a malformed partner id (see caller.ValidateID):
		// better to refuse it here, at start, than every call of that partner.
		if err := caller.ValidateID(fields[0]); err != nil {
			return nil, fmt.Errorf("api keys line %d: partner id: %w", n, err)
		}
		if len(fields[1]) < 24 {
			return nil, fmt.Errorf("api keys line %d: key of partner %s is shorter than 24 characters", n, fields[0])
		}
		d := sha256.Sum256([]byte(fields[1]))
		if _, dup := k.byDigest[d]; dup {
			return nil, fmt.Errorf("api keys line %d: key listed twice", n)
		}
		k.byDigest[d] = Partner{ID: fields[0], Scopes: scopes}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read api keys: %w", err)
	}
	return k, nil
}

// LoadKeysFile reads keys from a file (see ParseKeys).
func LoadKeysFile(path string) (*Keys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open api keys: %w", err)
	}
	defer f.Close()
	return ParseKeys(f)
}

// Len is the number of keys.
func (k *Keys) Len() int { return len(k.byDigest) }

// Lookup returns the partner owning key.
func (k *Keys) Lookup(key string) (Partner, bool) {
	if key == "" {
		return Partner{}, false
	}
	p, ok := k.byDigest[sha256.Sum256([]byte(key))]
	return p, ok
}

type partnerKey struct{}

// PartnerFrom returns the partner authenticated for this request.
func PartnerFrom(ctx context.Context) (Partner, bool) {
	p, ok := ctx.Value(partnerKey{}).(Partner)
	return p, ok
}

// Middleware admits requests carrying a known key in "Authorization: Bearer <key>"
// or "X-Api-Key: <key>", and answers 401 with a JSON status body otherwise.
func (k *Keys) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("X-Api-Key")
		if auth := r.Header.Get("Authorization"); key == "" && strings.HasPrefix(auth, "Bearer ") {
			key = strings.TrimPrefix(auth, "Bearer ")
		}
		p, ok := k.Lookup(key)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="trueup"`)
			writeJSON(w, http.StatusUnauthorized, `{"code":16,"message":"missing or invalid API key: send it as 'Authorization: Bearer <key>' or 'X-Api-Key'","details":[]}`)
			return
		}
		if scope := requiredScope(r); !p.Allows(scope) {
			writeJSON(w, http.StatusForbidden, fmt.Sprintf(`{"code":7,"message":"this API key lacks the scope %s","details":[]}`, scope))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), partnerKey{}, p)))
	})
}

// routeServices maps the first path segment under /v1/ to the service behind it.
var routeServices = map[string]string{
	"items": "inventory", "items:lookup": "inventory", "items:audit": "inventory", "items:import": "inventory",
	"warehouses": "inventory", "stock:receive": "inventory", "stock:move": "inventory", "stock:issue": "inventory",
	"stock:adjust": "inventory", "stock:count": "inventory", "movements": "inventory", "allocations": "inventory",
	"valuation": "inventory", "stock:ship": "inventory", "reasonCodes": "inventory",
	"stock:transfer": "inventory", "transfers": "inventory", "stock:return": "inventory",
	"suppliers": "orders", "customers": "orders", "catalogItems": "orders", "purchaseOrders": "orders",
	"supplierBills": "orders", "salesOrders": "orders", "invoices": "orders", "payments": "orders",
	"receivablesAgeing": "orders", "orderToCashTimings": "orders", "procureToPayTimings": "orders",
	"supplierPayments": "orders",
	"carriers":         "fulfillment", "expectedReceipts": "fulfillment", "expectedReceipts:blind": "fulfillment",
	"receiptDiscrepancies": "fulfillment", "tasks": "fulfillment", "tasks:claimNext": "fulfillment",
	"counts":         "fulfillment",
	"outboundOrders": "fulfillment", "shipments": "fulfillment",
	"accounts": "ledger", "journalEntries": "ledger", "trialBalance": "ledger", "balances": "ledger",
	"postingRules": "ledger", "postingRules:createVersion": "ledger", "parkedEvents": "ledger", "parkedEvents:repost": "ledger", "reconciliations": "ledger",
	"periods":       "ledger",
	"exportBatches": "ledger",
	"grniAgeing":    "ledger", "shippedNotInvoiced": "ledger",
}

// requiredScope is the scope a request needs: the service's read scope for
// GET, its write scope otherwise; "*" for a route no service claims.
func requiredScope(r *http.Request) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v1/"), "/")
	svc, ok := routeServices[seg]
	if !ok {
		return "*"
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return svc + ".read"
	}
	return svc + ".write"
}
