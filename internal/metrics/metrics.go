// Package metrics exposes capd's Prometheus metrics. Every series lives in
// a registry the Metrics value owns, never in client_golang's global one,
// so several servers (tests start many in one process) keep apart counts.
//
// No per-call series carries a tenant or key label: a label per tenant
// would multiply the series by the tenant count (thousands) and let anyone
// who can read /metrics watch each tenant's activity. Per-tenant activity
// is in the call log (capd audit) instead.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/capd-dev/capd/internal/invoke"
)

// Unresolved is the capability label of a call whose reference resolved to
// no capability version (an unknown name or version): the label takes no
// value a client chose. Real capability names always hold a dot.
const Unresolved = "unresolved"

// Limit label values of capd_rate_limited_total.
const (
	LimitKey        = invoke.LimitKey
	LimitTenant     = invoke.LimitTenant
	LimitFailedAuth = "failed_auth"
)

// CallDurationBuckets are the upper bounds, in seconds, of the call latency
// histogram. capd's calls take about 0.3 ms (a read of one row) to 30 ms
// (a large write, or any call on a busy machine); a 1-2-5 series from
// 0.2 ms to 5 s resolves that range at a factor of 2 to 2.5 per bucket and
// still catches the tail.
var CallDurationBuckets = []float64{0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5}

// Metrics holds capd's series and the registry that exposes them.
type Metrics struct {
	reg         *prometheus.Registry
	calls       *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	rateLimited map[string]prometheus.Counter
}

var _ invoke.Observer = (*Metrics)(nil)

// New registers capd's call series, the Go runtime and process
// collectors, and capd_build_info for version.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "capd_calls_total",
			Help: "Capability calls finished, by capability, version and outcome (ok or the error code), over every transport. Conformance runs are not counted.",
		}, []string{"capability", "version", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "capd_call_duration_seconds",
			Help:    "Time from a call reaching the invoker to its answer, by capability and version. Calls refused by a rate limit or naming no capability version are not timed.",
			Buckets: CallDurationBuckets,
		}, []string{"capability", "version"}),
		rateLimited: map[string]prometheus.Counter{},
	}
	limited := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "capd_rate_limited_total",
		Help: "Requests refused by a rate limit, by limit: key (--rate-limit), tenant (--tenant-rate-limit) or failed_auth (--failed-auth-rate).",
	}, []string{"limit"})
	for _, l := range []string{LimitKey, LimitTenant, LimitFailedAuth} {
		m.rateLimited[l] = limited.WithLabelValues(l) // present at 0 from the start
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "capd_build_info",
		Help:        "Always 1; the version label is the running capd release.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	reg.MustRegister(m.calls, m.duration, limited, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is the registry every capd series is in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format (or
// OpenMetrics, when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// ObserveCall implements invoke.Observer.
func (m *Metrics) ObserveCall(e invoke.CallEvent) {
	name := e.Capability
	if name == "" {
		name = Unresolved
	}
	m.calls.WithLabelValues(name, e.Version, e.Outcome).Inc()
	if e.RateLimit != "" {
		if c, ok := m.rateLimited[e.RateLimit]; ok {
			c.Inc()
		}
		return
	}
	if e.Capability != "" {
		m.duration.WithLabelValues(e.Capability, e.Version).Observe(e.Duration.Seconds())
	}
}

// FailedAuthThrottled counts one request refused because its address
// failed to authenticate too often (httpapi.Guard.Throttled).
func (m *Metrics) FailedAuthThrottled() { m.rateLimited[LimitFailedAuth].Inc() }

// WatchCallLog exports how many call records were dropped because the call
// log's queue was full (invoke.BatchRecorder.Dropped).
func (m *Metrics) WatchCallLog(dropped func() int64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "capd_call_log_dropped_total",
		Help: "Call records dropped, not written to the call log, because its queue was full.",
	}, func() float64 { return float64(dropped()) }))
}
