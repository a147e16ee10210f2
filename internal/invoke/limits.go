package invoke

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/capd-dev/capd/internal/capability"
)

// Limits are the call rates the invoker allows, as token buckets: per API
// key and per tenant, so one noisy key or tenant is refused before it can
// slow the others. Zero rates are unlimited.
type Limits struct {
	KeyRate     float64 // calls per second per key
	KeyBurst    int     // 0: 2 x KeyRate
	TenantRate  float64 // calls per second per tenant, all its keys together
	TenantBurst int     // 0: 2 x TenantRate
	// KeyOverrides sets another rate for some keys, by key prefix.
	KeyOverrides map[string]float64
}

// Limiter applies Limits. Its zero value allows everything.
type Limiter struct {
	Limits Limits

	mu      sync.Mutex
	keys    map[string]*rate.Limiter
	tenants map[string]*rate.Limiter
}

// NewLimiter returns a limiter for l.
func NewLimiter(l Limits) *Limiter { return &Limiter{Limits: l} }

func bucket(m map[string]*rate.Limiter, id string, r float64, burst int) *rate.Limiter {
	if b, ok := m[id]; ok {
		return b
	}
	if burst <= 0 {
		burst = max(1, int(2*r))
	}
	b := rate.NewLimiter(rate.Limit(r), burst)
	m[id] = b
	return b
}

// Allow takes one call from p's key and tenant buckets. When a bucket
// refuses, it names it (LimitKey or LimitTenant) and says how long to wait,
// and the call takes nothing from either bucket; limit is empty when the
// call may go ahead.
func (l *Limiter) Allow(p capability.Principal, now time.Time) (wait time.Duration, limit string) {
	if l == nil {
		return 0, ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys, l.tenants = map[string]*rate.Limiter{}, map[string]*rate.Limiter{}
	}
	var taken []*rate.Reservation
	take := func(b *rate.Limiter) (time.Duration, bool) {
		res := b.ReserveN(now, 1)
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			for _, t := range taken {
				t.CancelAt(now)
			}
			return d, false
		}
		taken = append(taken, res)
		return 0, true
	}
	keyRate := l.Limits.KeyRate
	if r, ok := l.Limits.KeyOverrides[p.KeyPrefix]; ok {
		keyRate = r
	}
	if keyRate > 0 {
		if d, ok := take(bucket(l.keys, p.KeyPrefix, keyRate, l.Limits.KeyBurst)); !ok {
			return d, LimitKey
		}
	}
	if l.Limits.TenantRate > 0 {
		if d, ok := take(bucket(l.tenants, p.Tenant, l.Limits.TenantRate, l.Limits.TenantBurst)); !ok {
			return d, LimitTenant
		}
	}
	return 0, ""
}

// rateLimited is the rejection of a refused call: retry_after_ms says when
// to try again.
func rateLimited(wait time.Duration) *capability.Error {
	ms := max(wait.Milliseconds(), 1)
	return &capability.Error{
		Code:    capability.CodeRateLimited,
		Message: "too many calls for this API key or tenant; wait retry_after_ms milliseconds and call again",
		Details: map[string]any{"retry_after_ms": ms},
	}
}
