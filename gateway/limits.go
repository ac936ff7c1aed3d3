package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
	"google.golang.org/grpc/codes"

	"trueup.dev/platform/paging"
)

// Limits bound what one request and one partner may take of the gateway. A
// zero field takes its default; the defaults suit a partner integration and
// let the test suites run their flows with one key.
type Limits struct {
	// UpstreamTimeout is the deadline of every call to a service (default
	// 30s). A partner cannot raise (or set) it: a Grpc-Timeout header from
	// outside is dropped before grpc-gateway would honour it.
	UpstreamTimeout time.Duration
	// RequestsPerSecond is each partner's sustained rate (default 50); over it
	// the gateway answers 429 with Retry-After. Negative: no rate limit.
	RequestsPerSecond int
	// Burst is how many requests a partner may send at once above the rate
	// (default 200).
	Burst int
	// MaxConcurrent is how many requests of one partner may be in flight at
	// once (default 32); one more is answered 429 with Retry-After: 1 at
	// once, without queueing, since it is the partner's own excess, not the
	// gateway's overload. Negative: no cap.
	MaxConcurrent int
	// MaxHeaderBytes caps the total size of a request's header names and
	// values (default 64 KiB); over it the gateway answers 431 and logs none
	// of it. (net/http's own MaxHeaderBytes, 1 MiB by default, stops larger
	// ones before they reach the gateway, with a plain-text 431.)
	MaxHeaderBytes int
	// AuthFailures is how many failed authentication attempts (a wrong,
	// expired or revoked key) one source IP, or one key prefix, may make in
	// a minute (default 10); more are answered 429 with Retry-After until the
	// minute is over. Negative: no throttle.
	AuthFailures int
}

// Default limits (see Limits).
const (
	DefaultUpstreamTimeout   = 30 * time.Second
	DefaultRequestsPerSecond = 50
	DefaultBurst             = 200
	DefaultMaxConcurrent     = 32
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultAuthFailures      = 10
)

// MaxPageSize is the largest pageSize a partner may ask for: the services'
// own cap (paging.MaxSize). The gateway refuses a larger one with 400 rather
// than silently returning fewer items than asked.
const MaxPageSize = paging.MaxSize

func (l Limits) withDefaults() Limits {
	if l.UpstreamTimeout <= 0 {
		l.UpstreamTimeout = DefaultUpstreamTimeout
	}
	if l.RequestsPerSecond == 0 {
		l.RequestsPerSecond = DefaultRequestsPerSecond
	}
	if l.Burst <= 0 {
		l.Burst = DefaultBurst
	}
	if l.MaxConcurrent == 0 {
		l.MaxConcurrent = DefaultMaxConcurrent
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.AuthFailures == 0 {
		l.AuthFailures = DefaultAuthFailures
	}
	return l
}

// limitHeaders answers 431 to a request whose header is over max bytes.
func limitHeaders(max int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 0
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4 // ": " and CRLF
			}
		}
		if n > max {
			writeError(w, http.StatusRequestHeaderFieldsTooLarge, codes.InvalidArgument, fmt.Sprintf("request header over %d bytes", max))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkRequestLine refuses a path or query that is not valid UTF-8 (400; the
// services' protobuf strings must be UTF-8, and a call carrying one would fail
// as an internal error) and a pageSize over MaxPageSize.
func checkRequestLine(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !utf8.ValidString(r.URL.Path) {
			writeError(w, http.StatusBadRequest, codes.InvalidArgument, "request path is not valid UTF-8")
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			writeError(w, http.StatusBadRequest, codes.InvalidArgument, "malformed query string")
			return
		}
		for k, vs := range q {
			for _, v := range vs {
				if !utf8.ValidString(k) || !utf8.ValidString(v) {
					writeError(w, http.StatusBadRequest, codes.InvalidArgument, "query string is not valid UTF-8")
					return
				}
			}
		}
		for _, name := range []string{"pageSize", "page_size"} {
			if v := q.Get(name); v != "" {
				if n, err := strconv.Atoi(v); err == nil && n > MaxPageSize {
					writeError(w, http.StatusBadRequest, codes.InvalidArgument, fmt.Sprintf("pageSize is at most %d", MaxPageSize),
						fieldViolation("pageSize", fmt.Sprintf("at most %d", MaxPageSize)))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// upstreamRequest prepares an authenticated request for the mux: the partner's
// credential and any Grpc-Timeout are removed (grpc-gateway forwards
// Authorization to the services as metadata and turns Grpc-Timeout into the
// call's deadline), and the call gets the gateway's own deadline.
func upstreamRequest(timeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		r = r.WithContext(ctx)
		r.Header = r.Header.Clone()
		for _, h := range []string{"Authorization", "X-Api-Key", "Grpc-Timeout"} {
			r.Header.Del(h)
		}
		next.ServeHTTP(w, r)
	})
}

// partnerLimiter holds each partner's token bucket and in-flight count.
type partnerLimiter struct {
	limits Limits
	mu     sync.Mutex
	byID   map[string]*partnerState
}

type partnerState struct {
	bucket   *rate.Limiter
	inFlight chan struct{}
}

func newPartnerLimiter(l Limits) *partnerLimiter {
	return &partnerLimiter{limits: l, byID: map[string]*partnerState{}}
}

func (pl *partnerLimiter) state(id string) *partnerState {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	s, ok := pl.byID[id]
	if !ok {
		s = &partnerState{}
		if pl.limits.RequestsPerSecond > 0 {
			s.bucket = rate.NewLimiter(rate.Limit(pl.limits.RequestsPerSecond), pl.limits.Burst)
		}
		if pl.limits.MaxConcurrent > 0 {
			s.inFlight = make(chan struct{}, pl.limits.MaxConcurrent)
		}
		pl.byID[id] = s
	}
	return s
}

// middleware runs behind authentication: it admits a partner's request within
// its rate and concurrency, and answers 429 with Retry-After otherwise.
func (pl *partnerLimiter) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PartnerFrom(r.Context())
		if info := infoFrom(r.Context()); info != nil {
			info.partner = p.ID
		}
		s := pl.state(p.ID)
		if s.bucket != nil {
			now := time.Now()
			res := s.bucket.ReserveN(now, 1)
			if delay := res.DelayFrom(now); !res.OK() || delay > 0 {
				res.CancelAt(now)
				retryAfter(w, delay.Seconds())
				writeError(w, http.StatusTooManyRequests, codes.ResourceExhausted,
					fmt.Sprintf("rate limit of %d requests per second exceeded; retry after the Retry-After seconds", pl.limits.RequestsPerSecond))
				return
			}
		}
		if s.inFlight != nil {
			select {
			case s.inFlight <- struct{}{}:
				defer func() { <-s.inFlight }()
			default:
				retryAfter(w, 1)
				writeError(w, http.StatusTooManyRequests, codes.ResourceExhausted,
					fmt.Sprintf("more than %d concurrent requests; retry after the Retry-After seconds", pl.limits.MaxConcurrent))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
