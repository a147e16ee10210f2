package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/demo"
	"github.com/capd-dev/capd/internal/mcpserver"
	"github.com/capd-dev/capd/internal/store/sqlite"
)

// runBinary runs the capd binary and returns its combined output and exit
// status.
func runBinary(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(capdBinary, args...)
	cmd.Env = append(environWithout("CAPD_API_KEY"), env...)
	out, err := cmd.CombinedOutput()
	if exit, ok := err.(*exec.ExitError); ok {
		return string(out), exit.ExitCode()
	}
	require.NoError(t, err, string(out))
	return string(out), 0
}

// recorded returns the conformance results recorded in data's control db.
func recorded(t *testing.T, data string, f capability.ConformanceFilter) []capability.ConformanceResult {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Options{Dir: data})
	require.NoError(t, err)
	defer db.Close()
	f.Limit = 100000
	rs, err := db.Control().ListConformance(context.Background(), f)
	require.NoError(t, err)
	return rs
}

// TestConformanceRunCLI runs `capd conformance run` as a person would, on
// the demo data: a table like the model page's for every demo tenant, all
// passing, recorded; JSON and JUnit outputs; filters; usage errors exit 2.
func TestConformanceRunCLI(t *testing.T) {
	f := newFixture(t)
	data := "--data=" + f.data

	t.Run("AllTenantsPass", func(t *testing.T) {
		out, code := runBinary(t, nil, "conformance", "run", data)
		require.Equal(t, 0, code, out)
		for _, slug := range demo.Tenants {
			assert.Contains(t, out, "projectkit:"+slug)
		}
		assert.Regexp(t, `pass\s+projectkit:switchback-engineering\s+projects\.create_task@0\.1\.0\s+happy_path\s+\d+\s+\d\d-\d\d \d\d:\d\d`, out)
		assert.Regexp(t, `pass\s+projectkit:atelier-meridian\s+projects\.create_task@0\.1\.0\s+rejects_unknown_project\s+\d+`, out)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		assert.Regexp(t, `^\d+ passed, 0 failed$`, lines[len(lines)-1])

		rs := recorded(t, f.data, capability.ConformanceFilter{Capability: "projects.create_task", Provider: "projectkit:driftline-design"})
		ids := map[string]bool{}
		for _, r := range rs {
			ids[r.CaseID] = true
			assert.Equal(t, capability.OutcomePass, r.Outcome)
			assert.Contains(t, []string{"0.1.0", "0.2.0"}, r.Version)
			assert.NotEmpty(t, r.RunID)
		}
		assert.True(t, ids["happy_path"] && ids["rejects_unknown_project"], "recorded: %v", ids)
	})
	t.Run("Filters", func(t *testing.T) {
		out, code := runBinary(t, nil, "conformance", "run", data, "--tenant", f.tenantA, "--capability", "projects.create_task@0.1.0", "--kind", "generated")
		require.Equal(t, 0, code, out)
		assert.Contains(t, out, "gen.max_length.title")
		assert.NotContains(t, out, "happy_path")
		assert.NotContains(t, out, f.tenantB)

		out, code = runBinary(t, nil, "conformance", "run", data, "--tenant", f.tenantA, "--case", "rejects_unknown_project")
		require.Equal(t, 0, code, out)
		assert.Regexp(t, `\n([2-9]|\d\d+) passed, 0 failed\n`, out, "the id names a case in every capability version that has one")
		assert.Contains(t, out, "projects.create_task@0.1.0")
	})
	t.Run("JSON", func(t *testing.T) {
		out, code := runBinary(t, nil, "conformance", "run", data, "--tenant", f.tenantB, "--capability", "projects.get_task", "--format", "json")
		require.Equal(t, 0, code, out)
		var rep struct {
			RunID   string `json:"run_id"`
			Summary struct{ Passed, Failed, Errored, Total int }
			Results []struct {
				Provider, Capability, Version, Case, Kind, Outcome string
			}
		}
		require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
		assert.NotEmpty(t, rep.RunID)
		assert.Equal(t, rep.Summary.Total, rep.Summary.Passed)
		assert.Len(t, rep.Results, rep.Summary.Total)
		assert.Equal(t, "projectkit:"+f.tenantB, rep.Results[0].Provider)
	})
	t.Run("JUnitToFile", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "conformance.xml")
		out, code := runBinary(t, nil, "conformance", "run", data, "--tenant", f.tenantA, "--kind", "happy", "--format", "junit", "--out", file)
		require.Equal(t, 0, code, out)
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Contains(t, string(b), `<testsuite name="projectkit:`+f.tenantA+`"`)
		assert.Contains(t, string(b), `classname="projects.create_task@0.1.0"`)
	})
	t.Run("Remote", func(t *testing.T) {
		url := startServer(t, f)
		out, code := runBinary(t, []string{"CAPD_API_KEY=" + f.fullB}, "conformance", "run", data, "--url", url, "--provider", "capd-remote", "--capability", "projects.create_task")
		require.Equal(t, 0, code, out)
		assert.Contains(t, out, "capd-remote")
		assert.Len(t, recorded(t, f.data, capability.ConformanceFilter{Provider: "capd-remote"}), strings.Count(out, "capd-remote"))
	})
	t.Run("RemoteWithUnderscoreNames", func(t *testing.T) {
		url := startServer(t, f, func(o *serveOptions) { o.toolNames = mcpserver.UnderscoreNames })
		args := []string{"conformance", "run", data, "--url", url, "--provider", "capd-underscore", "--capability", "projects.get_task", "--no-record"}
		out, code := runBinary(t, []string{"CAPD_API_KEY=" + f.fullB}, append(args, "--tool-names", "underscore")...)
		require.Equal(t, 0, code, out)
		assert.Contains(t, out, "capd-underscore")
		out, code = runBinary(t, []string{"CAPD_API_KEY=" + f.fullB}, args...)
		assert.Equal(t, 1, code, "dotted names are not this server's tools: %s", out)
	})
	t.Run("ErrUsage", func(t *testing.T) {
		for _, args := range [][]string{
			{"--kind", "sad"},
			{"--format", "yaml"},
			{"--tenant", "nobody-here"},
			{"--capability", "projects.nothing"},
			{"--capability", "projects.create_task@latest"},
			{"--case", "no_such_case"},
			{"--no-such-flag"},
			{"--url", "http://127.0.0.1:1/mcp", "--tenant", f.tenantA},
			{"--tool-names", "underscore"},
			{"--url", "http://127.0.0.1:1/mcp", "--tool-names", "dashes"},
		} {
			out, code := runBinary(t, nil, append([]string{"conformance", "run", data}, args...)...)
			assert.Equal(t, 2, code, "%v: %s", args, out)
		}
	})
	t.Run("LiveDataUnchanged", func(t *testing.T) {
		c := connectHTTP(t, startServer(t, f), f.fullA)
		_, out := call(t, c, "projects.list_projects", map[string]any{"query": "Conformance", "limit": 100})
		assert.Empty(t, out["items"], "conformance runs work on scratch copies")
	})
}

// TestServeRunsConformanceInBackground checks that serve runs the suite at
// start and records it, so recent runs are always there to show.
func TestServeRunsConformanceInBackground(t *testing.T) {
	f := newFixture(t)
	startServer(t, f, func(o *serveOptions) { o.conformanceInterval = time.Hour })
	deadline := time.Now().Add(60 * time.Second)
	for {
		rs := recorded(t, f.data, capability.ConformanceFilter{Capability: "projects.create_task"})
		providers := map[string]bool{}
		for _, r := range rs {
			providers[r.Provider] = true
			assert.Equal(t, capability.OutcomePass, r.Outcome, "%s %s: %s", r.Provider, r.CaseID, r.Message)
		}
		if len(providers) == len(demo.Tenants) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no background run recorded for every tenant; have %v", providers)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
