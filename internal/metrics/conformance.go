package metrics

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/capd-dev/capd/internal/capability"
)

// ConformanceSource reads recorded conformance results: the control store,
// which every node sharing a store reads alike.
type ConformanceSource interface {
	LatestConformance(ctx context.Context, f capability.ConformanceFilter) ([]capability.ConformanceResult, error)
}

// DefaultConformanceTTL is how long a scrape reuses the conformance figures
// it read: results change when a run is recorded (every
// --conformance-interval, 6 h by default), while each read scans the
// results table, so scrapes every few seconds should not each repeat it.
const DefaultConformanceTTL = 30 * time.Second

// conformanceReadTimeout bounds one read of the results at scrape time.
const conformanceReadTimeout = 5 * time.Second

// WatchConformance exports each provider instance's conformance pass ratio
// from the store's recorded results, read at scrape time and reused for
// ttl (0 reads at every scrape). Reading the store rather than keeping the
// figures of runs this process made keeps the series right on every node
// of a shared store, when only one of them runs each scheduled suite. A
// read that fails is logged and the previous figures are served.
func (m *Metrics) WatchConformance(src ConformanceSource, ttl time.Duration, logger *slog.Logger) {
	m.reg.MustRegister(&conformanceCollector{src: src, ttl: ttl, logger: logger, now: time.Now})
}

var (
	passRatioDesc = prometheus.NewDesc("capd_conformance_pass_ratio",
		"Share (0 to 1) of a provider instance's conformance cases whose latest recorded result passed, over every case it was run on.", []string{"provider"}, nil)
	casesDesc = prometheus.NewDesc("capd_conformance_cases",
		"Conformance cases behind capd_conformance_pass_ratio: cases with a recorded result on the provider instance.", []string{"provider"}, nil)
	lastRunDesc = prometheus.NewDesc("capd_conformance_last_run_timestamp_seconds",
		"Start time (Unix seconds) of the newest recorded conformance result of the provider instance.", []string{"provider"}, nil)
)

// providerConformance is one provider instance's latest results, summed.
type providerConformance struct {
	provider string
	passed   int
	total    int
	lastRun  time.Time
}

type conformanceCollector struct {
	src    ConformanceSource
	ttl    time.Duration
	logger *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	read   time.Time // when figures were read; zero: never
	values []providerConformance
}

func (c *conformanceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- passRatioDesc
	ch <- casesDesc
	ch <- lastRunDesc
}

func (c *conformanceCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.figures() {
		ch <- prometheus.MustNewConstMetric(passRatioDesc, prometheus.GaugeValue, float64(p.passed)/float64(p.total), p.provider)
		ch <- prometheus.MustNewConstMetric(casesDesc, prometheus.GaugeValue, float64(p.total), p.provider)
		ch <- prometheus.MustNewConstMetric(lastRunDesc, prometheus.GaugeValue, float64(p.lastRun.UnixNano())/1e9, p.provider)
	}
}

// figures returns the cached figures, read again when older than ttl.
// Concurrent scrapes wait for one read instead of each making their own.
func (c *conformanceCollector) figures() []providerConformance {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.read.IsZero() && now.Sub(c.read) < c.ttl {
		return c.values
	}
	ctx, cancel := context.WithTimeout(context.Background(), conformanceReadTimeout)
	defer cancel()
	results, err := c.src.LatestConformance(ctx, capability.ConformanceFilter{})
	if err != nil {
		if c.logger != nil {
			c.logger.Warn("metrics: read conformance results; serving the previous figures", "err", err)
		}
		return c.values
	}
	c.values, c.read = summarize(results), now
	return c.values
}

// summarize sums the latest result of each case per provider instance: a
// case passes when its latest result is pass; fail and error (a case that
// could not be set up) count against the ratio.
func summarize(results []capability.ConformanceResult) []providerConformance {
	by := map[string]*providerConformance{}
	for _, r := range results {
		p := by[r.Provider]
		if p == nil {
			p = &providerConformance{provider: r.Provider}
			by[r.Provider] = p
		}
		p.total++
		if r.Outcome == capability.OutcomePass {
			p.passed++
		}
		if r.StartedAt.After(p.lastRun) {
			p.lastRun = r.StartedAt
		}
	}
	out := make([]providerConformance, 0, len(by))
	for _, p := range by {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].provider < out[j].provider })
	return out
}
