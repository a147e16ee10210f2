package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/invoke"
)

// TestRateLimitOverMCP: a key over its rate gets the tool error
// rate_limited with retry_after_ms, and another tenant is not slowed.
func TestRateLimitOverMCP(t *testing.T) {
	f := newFixture(t)
	url := startServer(t, f, func(o *serveOptions) {
		o.limits = invoke.Limits{KeyRate: 0.2, KeyBurst: 3, TenantRate: 0.2, TenantBurst: 3}
	})
	a := connectHTTP(t, url, f.fullA)
	var out map[string]any
	for i := 0; i < 6; i++ {
		res, o := call(t, a, "projects.list_projects", map[string]any{})
		if res.IsError {
			out = o
			break
		}
	}
	require.NotNil(t, out, "calls beyond the burst are refused")
	assert.Equal(t, "rate_limited", out["error"])
	assert.Greater(t, out["retry_after_ms"], 0.0)

	b := connectHTTP(t, url, f.fullB)
	for i := 0; i < 3; i++ {
		res, o := call(t, b, "projects.list_projects", map[string]any{})
		assert.False(t, res.IsError, "tenant B keeps its own budget: %v", o)
	}
}

// TestNoisyTenantDoesNotSlowOthers: while tenant A floods the server from
// four clients far beyond its tenant rate, A gets no more than its rate and
// tenant B keeps its latency. B's median is measured alone, under the
// flood, and alone again in the same run; the figure is the ratio of the
// flooded median to the better quiet one, bounded at 3× to leave room for
// a noisy 2-core machine whose CPU the flood's refused calls still take.
// (Tenants share no lock: even an unlimited flood of writes on A moved B's
// median by about 1.2× here; the bound catches a shared bottleneck.)
func TestNoisyTenantDoesNotSlowOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: takes about 8 s")
	}
	f := newFixture(t)
	const tenantRate = 50
	url := startServer(t, f, func(o *serveOptions) {
		o.limits = invoke.Limits{KeyRate: 0, TenantRate: tenantRate, TenantBurst: tenantRate}
	})
	quiet := connectHTTP(t, url, f.fullB)
	_, p := call(t, quiet, "projects.create_project", map[string]any{"name": "Quiet"})
	project := p["project"].(map[string]any)["project_id"].(string)
	_, created := call(t, quiet, "projects.create_task", map[string]any{"project_id": project, "title": "Quiet task"})
	task := created["task_id"].(string)

	// quietMedian makes B's calls (a read and a write in turn), one every
	// 25 ms (within B's own rate), for d and returns their median latency.
	quietMedian := func(d time.Duration) time.Duration {
		var lat []time.Duration
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
			start := time.Now()
			var res *mcp.CallToolResult
			var out map[string]any
			if len(lat)%2 == 0 {
				res, out = call(t, quiet, "projects.get_task", map[string]any{"task_id": task})
			} else {
				res, out = call(t, quiet, "projects.create_task", map[string]any{"project_id": project, "title": fmt.Sprintf("Quiet %d", len(lat))})
			}
			lat = append(lat, time.Since(start))
			require.False(t, res.IsError, "tenant B refused: %v", out)
		}
		slices.Sort(lat)
		return lat[len(lat)/2]
	}

	before := quietMedian(2 * time.Second)

	noisyProject := f.projectA
	var accepted, limited, other atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		c := connectHTTP(t, url, f.fullA)
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := mcp.CallToolRequest{}
			req.Params.Name = "projects.create_task"
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				req.Params.Arguments = map[string]any{"project_id": noisyProject, "title": fmt.Sprintf("Noise %d", n)}
				res, err := c.CallTool(context.Background(), req)
				switch {
				case err != nil:
					other.Add(1)
				case !res.IsError:
					accepted.Add(1)
				case strings.Contains(mcp.GetTextFromContent(res.Content[len(res.Content)-1]), "rate_limited"):
					limited.Add(1)
				default:
					other.Add(1)
				}
			}
		}()
	}
	floodStart := time.Now()
	time.Sleep(300 * time.Millisecond) // past A's burst
	during := quietMedian(3 * time.Second)
	close(stop)
	wg.Wait()
	flood := time.Since(floodStart)
	after := quietMedian(2 * time.Second)

	baseline := min(before, after)
	ratio := float64(during) / float64(baseline)
	t.Logf("tenant B median: alone %v / %v, under A's flood %v (%.2f×); A: %d accepted, %d rate_limited, %d other in %v",
		before, after, during, ratio, accepted.Load(), limited.Load(), other.Load(), flood.Round(time.Millisecond))
	assert.Zero(t, other.Load(), "A's refused calls are rate_limited, nothing else")
	assert.Greater(t, limited.Load(), accepted.Load(), "A was not flooding beyond its rate")
	assert.LessOrEqual(t, float64(accepted.Load()), tenantRate*flood.Seconds()+tenantRate+10, "A got more than its rate")
	assert.LessOrEqual(t, ratio, 3.0, "tenant B slowed by %.2f× while A was flooded", ratio)
}
