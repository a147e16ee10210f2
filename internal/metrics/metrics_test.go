package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
)

func TestObserveCall(t *testing.T) {
	m := New("test")
	ms := time.Second / 512 // 1.953125 ms: an exact binary fraction, so the sum is exact
	m.ObserveCall(invoke.CallEvent{Capability: "projects.get_task", Version: "0.1.0", Outcome: "ok", Duration: ms})
	m.ObserveCall(invoke.CallEvent{Capability: "projects.get_task", Version: "0.1.0", Outcome: "ok", Duration: ms})
	m.ObserveCall(invoke.CallEvent{Capability: "projects.get_task", Version: "0.1.0", Outcome: "unknown_task", Duration: ms})
	m.ObserveCall(invoke.CallEvent{Outcome: "unknown_capability", Duration: ms})
	m.ObserveCall(invoke.CallEvent{Capability: "projects.get_task", Version: "0.1.0", Outcome: "rate_limited", RateLimit: LimitTenant, Duration: time.Microsecond})
	m.FailedAuthThrottled()

	assert.Equal(t, 2.0, testutil.ToFloat64(m.calls.WithLabelValues("projects.get_task", "0.1.0", "ok")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.calls.WithLabelValues("projects.get_task", "0.1.0", "unknown_task")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.calls.WithLabelValues("projects.get_task", "0.1.0", "rate_limited")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.calls.WithLabelValues(Unresolved, "", "unknown_capability")))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.rateLimited[LimitKey]), "present at 0")
	assert.Equal(t, 1.0, testutil.ToFloat64(m.rateLimited[LimitTenant]))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.rateLimited[LimitFailedAuth]))

	// Timed: the three calls that ran; not the refused or unresolved ones.
	err := testutil.CollectAndCompare(m.duration, strings.NewReader(`
# HELP capd_call_duration_seconds Time from a call reaching the invoker to its answer, by capability and version. Calls refused by a rate limit or naming no capability version are not timed.
# TYPE capd_call_duration_seconds histogram
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="0.0002"} 0
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="0.0005"} 0
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="0.001"} 0
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="0.002"} 3
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="0.005"} 3
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="0.01"} 3
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="0.02"} 3
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="0.05"} 3
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="0.1"} 3
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="0.25"} 3
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="1"} 3
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="5"} 3
capd_call_duration_seconds_bucket{capability="projects.get_task",version="0.1.0",le="+Inf"} 3
capd_call_duration_seconds_sum{capability="projects.get_task",version="0.1.0"} 0.005859375
capd_call_duration_seconds_count{capability="projects.get_task",version="0.1.0"} 3
`))
	assert.NoError(t, err)

	t.Run("OKRegistriesApart", func(t *testing.T) {
		other := New("test")
		assert.Equal(t, 0.0, testutil.ToFloat64(other.calls.WithLabelValues("projects.get_task", "0.1.0", "ok")))
		assert.Equal(t, 0.0, testutil.ToFloat64(other.rateLimited[LimitFailedAuth]))
	})
}

// fakeResults is a ConformanceSource over a fixed list that counts reads.
type fakeResults struct {
	mu      sync.Mutex
	results []capability.ConformanceResult
	err     error
	reads   int
}

func (f *fakeResults) LatestConformance(context.Context, capability.ConformanceFilter) ([]capability.ConformanceResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.results, f.err
}

func (f *fakeResults) set(err error, rs ...capability.ConformanceResult) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results, f.err = rs, err
}

func result(provider, caseID, outcome string, at time.Time) capability.ConformanceResult {
	return capability.ConformanceResult{Provider: provider, Capability: "projects.get_task", Version: "0.1.0", CaseID: caseID, Outcome: outcome, StartedAt: at}
}

func TestConformanceCollector(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	src := &fakeResults{}
	src.set(nil,
		result("projectkit:acme", "happy", capability.OutcomePass, t0),
		result("projectkit:acme", "rejects", capability.OutcomePass, t0.Add(time.Second)),
		result("projectkit:acme", "gen.x", capability.OutcomeFail, t0),
		result("projectkit:acme", "gen.y", capability.OutcomeError, t0),
		result("projectkit:globex", "happy", capability.OutcomePass, t0.Add(-time.Hour)),
	)
	var logs bytes.Buffer
	now := t0
	c := &conformanceCollector{src: src, ttl: 30 * time.Second, logger: slog.New(slog.NewTextHandler(&logs, nil)), now: func() time.Time { return now }}
	want := func(acmeRatio, acmeCases, globexRatio string) string {
		return `
# HELP capd_conformance_cases Conformance cases behind capd_conformance_pass_ratio: cases with a recorded result on the provider instance.
# TYPE capd_conformance_cases gauge
capd_conformance_cases{provider="projectkit:acme"} ` + acmeCases + `
capd_conformance_cases{provider="projectkit:globex"} 1
# HELP capd_conformance_pass_ratio Share (0 to 1) of a provider instance's conformance cases whose latest recorded result passed, over every case it was run on.
# TYPE capd_conformance_pass_ratio gauge
capd_conformance_pass_ratio{provider="projectkit:acme"} ` + acmeRatio + `
capd_conformance_pass_ratio{provider="projectkit:globex"} ` + globexRatio + `
`
	}
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want("0.5", "4", "1")), "capd_conformance_pass_ratio", "capd_conformance_cases"))
	assert.Equal(t, 1, src.reads)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP capd_conformance_last_run_timestamp_seconds Start time (Unix seconds) of the newest recorded conformance result of the provider instance.
# TYPE capd_conformance_last_run_timestamp_seconds gauge
capd_conformance_last_run_timestamp_seconds{provider="projectkit:acme"} `+fmt.Sprint(t0.Unix()+1)+`
capd_conformance_last_run_timestamp_seconds{provider="projectkit:globex"} `+fmt.Sprint(t0.Unix()-3600)+`
`), "capd_conformance_last_run_timestamp_seconds"))

	t.Run("OKReusedWithinTTL", func(t *testing.T) {
		src.set(nil, result("projectkit:acme", "happy", capability.OutcomePass, t0))
		now = t0.Add(20 * time.Second)
		require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want("0.5", "4", "1")), "capd_conformance_pass_ratio", "capd_conformance_cases"))
		assert.Equal(t, 1, src.reads, "no read within the TTL")
	})
	t.Run("OKReadAgainAfterTTL", func(t *testing.T) {
		src.set(nil,
			result("projectkit:acme", "happy", capability.OutcomePass, t0),
			result("projectkit:acme", "rejects", capability.OutcomePass, t0),
			result("projectkit:acme", "gen.x", capability.OutcomePass, t0),
			result("projectkit:acme", "gen.y", capability.OutcomeFail, t0),
			result("projectkit:globex", "happy", capability.OutcomeFail, t0),
		)
		now = t0.Add(31 * time.Second)
		require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want("0.75", "4", "0")), "capd_conformance_pass_ratio", "capd_conformance_cases"))
	})
	t.Run("ErrReadFailsServesPrevious", func(t *testing.T) {
		src.set(errors.New("connection refused"))
		now = now.Add(time.Minute)
		require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want("0.75", "4", "0")), "capd_conformance_pass_ratio", "capd_conformance_cases"))
		assert.Contains(t, logs.String(), "connection refused")
	})
	t.Run("OKNoResultsNoSeries", func(t *testing.T) {
		empty := &conformanceCollector{src: &fakeResults{}, now: time.Now}
		assert.Equal(t, 0, testutil.CollectAndCount(empty))
	})
}
