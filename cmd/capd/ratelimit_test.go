package main

import (
	"testing"

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
