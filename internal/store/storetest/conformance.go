package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// conformanceAt is when the recorded conformance runs started.
var conformanceAt = time.Date(2026, 5, 18, 19, 53, 0, 0, time.UTC)

// testConformance covers recording conformance results and listing them,
// newest first, by filter and page.
func testConformance(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.Control
	at := conformanceAt
	results := []capability.ConformanceResult{
		{RunID: "r1", Provider: "projectkit:a", Capability: "projects.create_task", Version: "0.1.0", CaseID: "happy_path", Kind: "happy", Outcome: "pass", Duration: 896 * time.Millisecond, StartedAt: at},
		{RunID: "r1", Provider: "projectkit:a", Capability: "projects.create_task", Version: "0.1.0", CaseID: "rejects_unknown_project", Kind: "rejection", Outcome: "fail", Duration: 38 * time.Millisecond, StartedAt: at.Add(time.Second), Message: "got ok"},
		{RunID: "r2", Provider: "projectkit:b", Capability: "projects.get_task", Version: "0.1.0", CaseID: "gen.missing_required.task_id", Kind: "generated", Outcome: "error", Duration: 1500 * time.Microsecond, StartedAt: at.Add(2 * time.Second), Message: "given failed"},
	}
	list := func(t *testing.T, f capability.ConformanceFilter) []capability.ConformanceResult {
		t.Helper()
		got, err := c.ListConformance(ctx, f)
		require.NoError(t, err)
		return got
	}

	t.Run("OKEmpty", func(t *testing.T) {
		require.NoError(t, c.RecordConformance(ctx, nil))
		require.Empty(t, list(t, capability.ConformanceFilter{}))
	})

	require.NoError(t, c.RecordConformance(ctx, results))

	t.Run("OKNewestFirst", func(t *testing.T) {
		require.Equal(t, []capability.ConformanceResult{results[2], results[1], results[0]}, list(t, capability.ConformanceFilter{}),
			"every field round-trips")
	})

	t.Run("OKFilters", func(t *testing.T) {
		require.Equal(t, []capability.ConformanceResult{results[1]}, list(t, capability.ConformanceFilter{Outcome: "fail", Provider: "projectkit:a"}))
		require.Equal(t, []capability.ConformanceResult{results[1], results[0]},
			list(t, capability.ConformanceFilter{RunID: "r1", Capability: "projects.create_task", Version: "0.1.0"}))
		require.Equal(t, []capability.ConformanceResult{results[2]}, list(t, capability.ConformanceFilter{Provider: "projectkit:b"}))
		require.Empty(t, list(t, capability.ConformanceFilter{Provider: "projectkit:a", Version: "0.2.0"}))
	})

	t.Run("OKPage", func(t *testing.T) {
		require.Equal(t, []capability.ConformanceResult{results[1]}, list(t, capability.ConformanceFilter{Limit: 1, Offset: 1}))
		require.Empty(t, list(t, capability.ConformanceFilter{Offset: 3}))
		require.Len(t, list(t, capability.ConformanceFilter{Limit: 2, Offset: -1}), 2, "a negative offset is zero")
	})

	t.Run("ErrBadKindRecordsNothing", func(t *testing.T) {
		err := c.RecordConformance(ctx, []capability.ConformanceResult{
			{RunID: "r3", Provider: "projectkit:a", Kind: "happy", Outcome: "pass", StartedAt: at},
			{RunID: "r3", Provider: "projectkit:a", Kind: "bogus", Outcome: "pass", StartedAt: at},
		})
		require.Error(t, err, "kinds are checked")
		require.Empty(t, list(t, capability.ConformanceFilter{RunID: "r3"}), "a run is recorded whole or not at all")
	})

	t.Run("ErrBadOutcomeRecordsNothing", func(t *testing.T) {
		err := c.RecordConformance(ctx, []capability.ConformanceResult{
			{RunID: "r4", Provider: "projectkit:a", Kind: "happy", Outcome: "maybe", StartedAt: at},
		})
		require.Error(t, err, "outcomes are checked")
		require.Empty(t, list(t, capability.ConformanceFilter{RunID: "r4"}))
	})

	t.Run("OKDefaultLimit", func(t *testing.T) {
		many := make([]capability.ConformanceResult, defaultCallsLimit+1)
		for i := range many {
			many[i] = capability.ConformanceResult{RunID: "bulk", Provider: "projectkit:bulk", Capability: "projects.get_task", Version: "0.1.0",
				CaseID: fmt.Sprint("case_", i), Kind: "happy", Outcome: "pass", StartedAt: at.Add(time.Duration(i) * time.Minute)}
		}
		require.NoError(t, c.RecordConformance(ctx, many))
		got := list(t, capability.ConformanceFilter{RunID: "bulk"})
		require.Len(t, got, defaultCallsLimit)
		require.Equal(t, many[len(many)-1], got[0])
	})
}

// testLatestConformance covers LatestConformance: the newest result of
// each case on each provider instance.
func testLatestConformance(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.Control
	r := func(run, provider, capName, caseID, outcome string, offset time.Duration) capability.ConformanceResult {
		return capability.ConformanceResult{RunID: run, Provider: provider, Capability: capName, Version: "0.1.0",
			CaseID: caseID, Kind: "happy", Outcome: outcome, StartedAt: conformanceAt.Add(offset)}
	}
	require.NoError(t, c.RecordConformance(ctx, []capability.ConformanceResult{
		r("r1", "projectkit:a", "projects.create_task", "happy_path", "fail", 0),
		r("r1", "projectkit:a", "projects.create_task", "rejects_unknown_project", "pass", time.Second),
		r("r1", "projectkit:b", "projects.create_task", "happy_path", "pass", 2*time.Second),
		r("r1", "projectkit:a", "projects.get_task", "happy_path", "pass", 3*time.Second),
	}))
	newer := r("r2", "projectkit:a", "projects.create_task", "happy_path", "pass", time.Hour)
	require.NoError(t, c.RecordConformance(ctx, []capability.ConformanceResult{newer}))
	latest := func(t *testing.T, f capability.ConformanceFilter) []string {
		t.Helper()
		got, err := c.LatestConformance(ctx, f)
		require.NoError(t, err)
		var out []string
		for _, res := range got {
			out = append(out, res.Provider+" "+res.Capability+" "+res.CaseID+" "+res.RunID+" "+res.Outcome)
		}
		return out
	}

	t.Run("OKNewestPerCase", func(t *testing.T) {
		require.Equal(t, []string{
			"projectkit:a projects.create_task happy_path r2 pass",
			"projectkit:a projects.create_task rejects_unknown_project r1 pass",
			"projectkit:a projects.get_task happy_path r1 pass",
			"projectkit:b projects.create_task happy_path r1 pass",
		}, latest(t, capability.ConformanceFilter{}), "ordered by provider, capability, version and case")
		got, err := c.LatestConformance(ctx, capability.ConformanceFilter{})
		require.NoError(t, err)
		require.Equal(t, newer, got[0], "every field round-trips")
	})

	t.Run("OKFilters", func(t *testing.T) {
		require.Equal(t, []string{"projectkit:b projects.create_task happy_path r1 pass"},
			latest(t, capability.ConformanceFilter{Provider: "projectkit:b"}))
		require.Equal(t, []string{"projectkit:a projects.get_task happy_path r1 pass"},
			latest(t, capability.ConformanceFilter{Capability: "projects.get_task"}))
		require.Empty(t, latest(t, capability.ConformanceFilter{Version: "0.2.0"}))
	})

	t.Run("OKIgnoresRunOutcomeAndPage", func(t *testing.T) {
		require.Len(t, latest(t, capability.ConformanceFilter{RunID: "r1", Outcome: "fail", Limit: 1, Offset: 2}), 4)
	})
}
