package gateway

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	"trueup.dev/platform/caller"
)

// Partner is an authenticated API client: a 3PL, marketplace, supplier or carrier.
type Partner struct {
	// ID names the partner; services scope what it may see by this id.
	ID string
	// Scopes are what the key may do: "<service>:read", "<service>:write"
	// (write implies read) for inventory, orders, fulfillment and ledger, or
	// "*" for everything; kept in that canonical form (a keys file may also
	// spell them "<service>.read", the form of earlier versions).
	Scopes map[string]bool
}

// Allows reports whether the partner holds scope (or "*", or the write scope
// of a read).
func (p Partner) Allows(scope string) bool {
	scope = canonicalScope(scope)
	if p.Scopes["*"] || p.Scopes[scope] {
		return true
	}
	if svc, ok := strings.CutSuffix(scope, ":read"); ok {
		return p.Scopes[svc+":write"]
	}
	return false
}

// knownScopes are the scopes a keys file may grant, canonical.
var knownScopes = map[string]bool{"*": true}

func init() {
	for _, svc := range []string{"inventory", "orders", "fulfillment", "ledger"} {
		knownScopes[svc+":read"], knownScopes[svc+":write"] = true, true
	}
}

// canonicalScope spells a scope "<service>:read" / "<service>:write",
// accepting the dotted form of earlier versions.
func canonicalScope(sc string) string {
	if i := strings.LastIndexByte(sc, '.'); i > 0 && !strings.Contains(sc, ":") {
		return sc[:i] + ":" + sc[i+1:]
	}
	return sc
}

// Keys maps API keys to partners. Only SHA-256 digests of the keys are kept.
// Keys loaded from a file (LoadKeysFile) are hashed records found by their
// public prefix (see KeyRecord); keys built by ParseKeys (the plain format, for
// tests and in-memory use only) are found by digest.
type Keys struct {
	path string
	now  func() time.Time

	mu       sync.RWMutex
	byDigest map[[sha256.Size]byte]Partner
	byPrefix map[string]keyEntry
	stamp    fileStamp

	usedMu   sync.Mutex
	lastUsed map[string]time.Time
}

type keyEntry struct {
	partner          Partner
	hash             [sha256.Size]byte
	expires, revoked time.Time
}

// ParseKeys reads one key per line: "<partner-id> <key> <scope,scope,...>".
// Blank lines and lines starting with '#' are ignored. Keys shorter than 24
// characters are refused. A key without scopes may do nothing: access is
// granted, never assumed. This plain format holds the keys themselves, so no
// file is read in it (LoadKeysFile refuses one): it builds keys in memory,
// for tests.
func ParseKeys(r io.Reader) (*Keys, error) {
	k := &Keys{byDigest: map[[sha256.Size]byte]Partner{}, byPrefix: map[string]keyEntry{}, now: time.Now}
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
		var scopeList []string
		if len(fields) == 3 {
			scopeList = strings.Split(fields[2], ",")
		}
		scopes, err := parseScopes(scopeList)
		if err != nil {
			return nil, fmt.Errorf("api keys line %d: %w", n, err)
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

func parseScopes(list []string) (map[string]bool, error) {
	scopes := map[string]bool{}
	for _, sc := range list {
		c := canonicalScope(sc)
		if !knownScopes[c] {
			return nil, fmt.Errorf("unknown scope %q (use <service>:read, <service>:write or *)", sc)
		}
		scopes[c] = true
	}
	return scopes, nil
}

// LoadKeysFile reads hashed key records from a file (see KeyRecord). The
// gateway re-reads it when it changes (see Keys.Reload), so a key created or
// revoked with `trueup partners` takes effect without a restart.
func LoadKeysFile(path string) (*Keys, error) {
	k := &Keys{path: path, now: time.Now}
	if err := k.reload(true); err != nil {
		return nil, err
	}
	return k, nil
}

// Reload re-reads the keys file if it changed since it was last read (its
// modification time, size or inode); a file that no longer parses leaves the
// keys in force and returns the error. Keys not read from a file: no-op.
func (k *Keys) Reload() error { return k.reload(false) }

func (k *Keys) reload(force bool) error {
	if k.path == "" {
		return nil
	}
	st, err := statFile(k.path)
	if err != nil {
		return fmt.Errorf("api keys: %w", err)
	}
	k.mu.RLock()
	same := k.stamp == st
	k.mu.RUnlock()
	if same && !force {
		return nil
	}
	recs, err := ReadKeyRecords(k.path)
	if err != nil {
		return err
	}
	byPrefix := make(map[string]keyEntry, len(recs))
	for _, r := range recs {
		scopes, _ := parseScopes(r.Scopes) // checked by ReadKeyRecords
		var h [sha256.Size]byte
		_, _ = hex.Decode(h[:], []byte(r.SHA256))
		byPrefix[r.Prefix] = keyEntry{partner: Partner{ID: r.Partner, Scopes: scopes}, hash: h, expires: r.Expires, revoked: r.Revoked}
	}
	k.mu.Lock()
	k.byPrefix, k.stamp = byPrefix, st
	k.mu.Unlock()
	return nil
}

// Len is the number of keys (revoked and expired ones included).
func (k *Keys) Len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.byDigest) + len(k.byPrefix)
}

// Lookup returns the partner owning key, if the key is known, unexpired and
// not revoked.
func (k *Keys) Lookup(key string) (Partner, bool) {
	p, res := k.lookup(key)
	return p, res == keyValid
}

type lookupResult int

const (
	keyUnknown lookupResult = iota
	keyValid
	keyExpired // expired or revoked: the key was right
)

func (k *Keys) lookup(key string) (Partner, lookupResult) {
	if key == "" {
		return Partner{}, keyUnknown
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if prefix, ok := KeyPrefix(key); ok {
		if e, ok := k.byPrefix[prefix]; ok {
			h := sha256.Sum256([]byte(key))
			if subtle.ConstantTimeCompare(h[:], e.hash[:]) != 1 {
				return Partner{}, keyUnknown
			}
			now := k.now()
			if !e.revoked.IsZero() || (!e.expires.IsZero() && !now.Before(e.expires)) {
				return Partner{}, keyExpired
			}
			return e.partner, keyValid
		}
	}
	if p, ok := k.byDigest[sha256.Sum256([]byte(key))]; ok {
		return p, keyValid
	}
	return Partner{}, keyUnknown
}

type partnerKey struct{}

// PartnerFrom returns the partner authenticated for this request.
func PartnerFrom(ctx context.Context) (Partner, bool) {
	p, ok := ctx.Value(partnerKey{}).(Partner)
	return p, ok
}

// credential is the key a request presents in "X-Api-Key: <key>" or
// "Authorization: Bearer <key>" (the scheme in any case). present is false
// when there is none; ok is false for an Authorization header of another
// scheme or without a token.
func credential(r *http.Request) (key string, present, ok bool) {
	if key := r.Header.Get("X-Api-Key"); key != "" {
		return key, true, true
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", false, true
	}
	scheme, token, _ := strings.Cut(auth, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "bearer") || token == "" {
		return "", true, false
	}
	return token, true, true
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="trueup"`)
	writeJSON(w, http.StatusUnauthorized, `{"code":16,"message":"`+msg+`","details":[]}`)
}

// Middleware admits requests carrying a known key in "Authorization: Bearer <key>"
// or "X-Api-Key: <key>", and answers 401 with a JSON status body otherwise.
// Failed attempts are not throttled (the gateway's handler throttles them).
func (k *Keys) Middleware(next http.Handler) http.Handler { return k.middleware(nil, next) }

func (k *Keys) middleware(th *failureThrottle, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, present, ok := credential(r)
		prefix, _ := KeyPrefix(key)
		source := sourceOf(r)
		if th != nil && present {
			if wait := th.blocked(source, prefix); wait > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
				writeError(w, http.StatusTooManyRequests, codes.ResourceExhausted, "too many failed authentication attempts; retry later")
				return
			}
		}
		var p Partner
		res := keyUnknown
		if ok {
			p, res = k.lookup(key)
		}
		if res != keyValid {
			if th != nil && present {
				th.fail(source, prefix)
			}
			if res == keyExpired {
				unauthorized(w, "this API key has expired or was revoked")
				return
			}
			unauthorized(w, "missing or invalid API key: send it as 'Authorization: Bearer <key>' or 'X-Api-Key'")
			return
		}
		if prefix != "" {
			k.touch(prefix)
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
		return svc + ":read"
	}
	return svc + ":write"
}
