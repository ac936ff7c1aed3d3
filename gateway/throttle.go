package gateway

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// failureThrottle counts failed authentication attempts (a credential was
// presented and was wrong, expired or revoked) per source IP and per key
// prefix. After max failures within window, further attempts from that source
// or for that prefix are answered 429 with Retry-After until the window ends,
// before the key is looked up. A request without any credential is not an
// attempt and is not counted.
//
// Throttling by prefix stops guessing one key's secret from many sources; the
// price is that someone who knows a partner's public prefix can make that
// partner's requests 429 for a window by sending wrong secrets with it.
type failureThrottle struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*failureWindow
}

type failureWindow struct {
	start time.Time
	count int
}

// maxThrottleEntries bounds the throttle's memory; over it, expired windows
// are swept, and if none expired the oldest state is dropped wholesale.
const maxThrottleEntries = 100_000

func newFailureThrottle(max int, window time.Duration) *failureThrottle {
	if max <= 0 {
		return nil
	}
	return &failureThrottle{max: max, window: window, now: time.Now, entries: map[string]*failureWindow{}}
}

func throttleKeys(source, prefix string) []string {
	keys := []string{"ip " + source}
	if prefix != "" {
		keys = append(keys, "prefix "+prefix)
	}
	return keys
}

// blocked returns how long the source or prefix must wait, zero if it may try.
func (t *failureThrottle) blocked(source, prefix string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, k := range throttleKeys(source, prefix) {
		e, ok := t.entries[k]
		if !ok || now.Sub(e.start) >= t.window {
			continue
		}
		if e.count >= t.max {
			wait = max(wait, e.start.Add(t.window).Sub(now))
		}
	}
	return wait
}

// fail records one failed attempt.
func (t *failureThrottle) fail(source, prefix string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.entries) >= maxThrottleEntries {
		for k, e := range t.entries {
			if now.Sub(e.start) >= t.window {
				delete(t.entries, k)
			}
		}
		if len(t.entries) >= maxThrottleEntries {
			t.entries = map[string]*failureWindow{}
		}
	}
	for _, k := range throttleKeys(source, prefix) {
		e, ok := t.entries[k]
		if !ok || now.Sub(e.start) >= t.window {
			e = &failureWindow{start: now}
			t.entries[k] = e
		}
		e.count++
	}
}

// sourceOf is the request's source IP: the peer address. X-Forwarded-For is
// not trusted (a client could set it to anything).
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// touch records that the key with prefix was just used (in memory; see
// flushLastUsed).
func (k *Keys) touch(prefix string) {
	if k.path == "" {
		return
	}
	k.usedMu.Lock()
	if k.lastUsed == nil {
		k.lastUsed = map[string]time.Time{}
	}
	k.lastUsed[prefix] = k.now().UTC().Truncate(time.Second)
	k.usedMu.Unlock()
}

// LastUsedPath is the file beside the keys file where the gateway keeps each
// key's last-used time: {"<prefix>": "<RFC 3339 time>", ...}.
func LastUsedPath(keysFile string) string { return keysFile + ".last-used" }

// ReadLastUsed reads the last-used times kept for keysFile (none yet: empty).
func ReadLastUsed(keysFile string) (map[string]time.Time, error) {
	m := map[string]time.Time{}
	b, err := os.ReadFile(LastUsedPath(keysFile))
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// flushLastUsed merges the times used since the last flush into the
// last-used file (the later time wins, so gateway replicas sharing the file
// do not set each other back).
func (k *Keys) flushLastUsed() error {
	k.usedMu.Lock()
	used := k.lastUsed
	k.lastUsed = nil
	k.usedMu.Unlock()
	if len(used) == 0 {
		return nil
	}
	m, err := ReadLastUsed(k.path)
	if err != nil {
		m = map[string]time.Time{}
	}
	for p, t := range used {
		if t.After(m[p]) {
			m[p] = t
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeFileAtomic(LastUsedPath(k.path), b)
}

// Default intervals of the keys file watcher.
const (
	DefaultKeysReloadInterval = 2 * time.Second
	lastUsedFlushInterval     = 30 * time.Second
)

// watch re-reads the keys file every interval until stop is closed, and
// flushes last-used times every lastUsedFlushInterval and at the end. A file
// that fails to parse is logged and the keys in force stay.
func (k *Keys) watch(stop <-chan struct{}, interval time.Duration, log *slog.Logger) {
	reload := time.NewTicker(interval)
	defer reload.Stop()
	flush := time.NewTicker(lastUsedFlushInterval)
	defer flush.Stop()
	var lastErr string
	for {
		select {
		case <-stop:
			if err := k.flushLastUsed(); err != nil {
				log.Warn("api keys: cannot record last-used times", "error", err)
			}
			return
		case <-flush.C:
			if err := k.flushLastUsed(); err != nil {
				log.Warn("api keys: cannot record last-used times", "error", err)
			}
		case <-reload.C:
			err := k.Reload()
			switch {
			case err != nil && err.Error() != lastErr:
				log.Error("api keys file changed but cannot be read; the keys read before stay in force", "error", err)
				lastErr = err.Error()
			case err == nil && lastErr != "":
				log.Info("api keys file readable again")
				lastErr = ""
			}
		}
	}
}
