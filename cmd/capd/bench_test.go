package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/store/pgtest"
)

// TestBenchTool runs `capd bench` briefly in both loops and checks the
// tool works end to end: it starts capd and the floor server, prepares the
// tenants, runs every scenario against real MCP clients with no failed
// call, measures the server, and writes a report whose ratios are computed
// from the floors. It checks no timing: figures belong in BENCHMARKS.md.
func TestBenchTool(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		mode string
	}{
		// Two rounds: state a round leaves (tasks moved) must not make
		// the next one's calls fail.
		{"OKClosedLoop", []string{"--runs", "2"}, "closed"},
		{"OKFixedRateZipf", []string{"--rate", "200", "--zipf", "1.2"}, "rate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "bench.json")
			args := append([]string{"bench", "--runs", "1", "--duration", "1s", "--warmup", "200ms", "--tenants", "4",
				"--clients", "3", "--json", out}, c.args...)
			text, code := runBinary(t, nil, args...)
			require.Equal(t, 0, code, text)
			assert.Contains(t, text, "against the floors")

			raw, err := os.ReadFile(out)
			require.NoError(t, err)
			var rep struct {
				Mode    string `json:"mode"`
				Tenants int    `json:"tenants"`
				Summary []struct {
					Scenario  string  `json:"scenario"`
					Target    string  `json:"target"`
					CallsPerS float64 `json:"calls_per_s"`
					Errors    int64   `json:"errors"`
					ServerRSS float64 `json:"server_rss_mib"`
					LatencyMs struct {
						P50, P99, Max float64
					} `json:"latency_ms"`
				} `json:"summary"`
				Ratios []struct {
					Name  string  `json:"name"`
					Value float64 `json:"value"`
				} `json:"ratios"`
			}
			require.NoError(t, json.Unmarshal(raw, &rep))
			assert.Equal(t, c.mode, rep.Mode)
			assert.Equal(t, 4, rep.Tenants)
			seen := map[string]bool{}
			for _, s := range rep.Summary {
				seen[s.Target+"/"+s.Scenario] = true
				assert.Positive(t, s.CallsPerS, "%s/%s made no calls", s.Target, s.Scenario)
				assert.Zero(t, s.Errors, "%s/%s had failed calls", s.Target, s.Scenario)
				assert.LessOrEqual(t, s.LatencyMs.P50, s.LatencyMs.P99)
				assert.LessOrEqual(t, s.LatencyMs.P99, s.LatencyMs.Max)
				if s.Target != "floor-sqlite" {
					assert.Positive(t, s.ServerRSS, "%s/%s: the server's memory was not measured", s.Target, s.Scenario)
				}
			}
			for _, want := range []string{"floor-mcp/noop", "floor-sqlite/sqlite-insert", "capd/create_task", "capd/get_task", "capd/mix"} {
				assert.True(t, seen[want], "no %s scenario in %s", want, raw)
			}
			names := map[string]bool{}
			for _, r := range rep.Ratios {
				names[r.Name] = true
				assert.Positive(t, r.Value, r.Name)
			}
			assert.True(t, names["create_task p99 latency (ms)"], "%v", names)
			if c.mode == "closed" {
				assert.True(t, names["create_task calls/s ÷ no-op MCP floor"], "%v", names)
				assert.True(t, names["get_task calls/s ÷ no-op MCP floor"], "%v", names)
				assert.True(t, names["create_task calls/s ÷ SQLite insert floor"], "%v", names)
			} else {
				assert.True(t, names["create_task p99 ÷ no-op MCP floor p99"], "%v", names)
				assert.True(t, names["get_task p99 ÷ no-op MCP floor p99"], "%v", names)
			}
		})
	}
}

// TestBenchToolBadFlags: a mistaken invocation says what is wrong and
// exits 2 before starting anything.
func TestBenchToolBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--mix", "delete_everything=1"}, "unknown operation"},
		{[]string{"--mix", "create_task=0"}, "whole number"},
		{[]string{"--zipf", "0.5"}, "greater than 1"},
		{[]string{"--format", "xml"}, "text or json"},
		{[]string{"--url", "http://127.0.0.1:1/mcp"}, "--keys-file"},
		{[]string{"--nodes", "2"}, "needs --store postgres://"},
		{[]string{"--nodes", "0"}, "at least 1"},
		{[]string{"--store", "sqlite:" + t.TempDir()}, "takes a postgres:// URL"},
		{[]string{"--server-pid", "1"}, "goes with --url"},
		{[]string{"--keys-file", "keys.json"}, "goes with --url"},
		{[]string{"--url", "http://127.0.0.1:1/mcp", "--url", "http://127.0.0.1:2/mcp", "--server-pid", "1", "--keys-file", "k.json"}, "one per --url"},
		{[]string{"--url", "http://127.0.0.1:1/mcp", "--nodes", "3", "--keys-file", "k.json"}, "the nodes are the URLs given"},
		{[]string{"--url", "http://127.0.0.1:1/mcp", "--keys-file", "k.json", "--store", "postgres://u@127.0.0.1:1/db"}, "give one"},
		{[]string{"--url", "127.0.0.1:8080", "--keys-file", "k.json"}, "http:// or https://"},
		{[]string{"--pg-pid", "2147483647"}, "no such process"},
	} {
		text, code := runBinary(t, nil, append([]string{"bench"}, c.args...)...)
		assert.Equal(t, 2, code, "%v: %s", c.args, text)
		assert.Contains(t, text, c.want, "%v", c.args)
	}
}

// TestBenchToolChildFails: a capd node that will not start is reported
// with the end of its log, which bench keeps in a file.
func TestBenchToolChildFails(t *testing.T) {
	text, code := runBinary(t, nil, "bench", "--no-floors", "--tenants", "1", "--server-flag=--log-level=loud")
	assert.Equal(t, 1, code, text)
	assert.Contains(t, text, "start capd node 1")
	assert.Contains(t, text, `invalid argument "loud" for "--log-level" flag`, "the node's own words")
}

// TestBenchToolNodesOnPostgres runs `capd bench` on a real PostgreSQL
// database with two capd nodes, as BENCHMARKS.md's multi-node figures are
// taken: the tenants are created in the store, both nodes serve calls
// under load with no failed call, each node's process and PostgreSQL's
// are measured, and the report says which store and how many nodes. A
// second run on the same database is refused before anything starts. It
// checks no timing.
func TestBenchToolNodesOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	out := filepath.Join(t.TempDir(), "bench.json")
	args := []string{"bench", "--store", dsn, "--nodes", "2", "--pg-pid", strconv.Itoa(postmasterPID(t, dsn)),
		"--runs", "1", "--duration", "1s", "--warmup", "200ms", "--tenants", "4", "--clients", "4", "--no-floors", "--json", out}
	text, code := runBinary(t, nil, args...)
	require.Equal(t, 0, code, text)
	assert.Contains(t, text, "sums over the 2 nodes")

	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	var rep struct {
		Store string `json:"store"`
		Nodes int    `json:"nodes"`
		Runs  []struct {
			Scenario string           `json:"scenario"`
			Errors   map[string]int64 `json:"errors"`
			Server   *struct {
				CPU float64 `json:"cpu_cores"`
				RSS float64 `json:"rss_mib"`
			} `json:"server"`
			Nodes []struct {
				URL    string `json:"url"`
				Calls  int64  `json:"calls"`
				Errors int64  `json:"errors"`
				Server *struct {
					RSS float64 `json:"rss_mib"`
				} `json:"server"`
			} `json:"nodes"`
			Postgres *struct {
				Processes int `json:"processes"`
			} `json:"postgres"`
		} `json:"runs"`
		Summary []struct {
			Scenario      string    `json:"scenario"`
			Errors        int64     `json:"errors"`
			NodeCallsPerS []float64 `json:"node_calls_per_s"`
		} `json:"summary"`
	}
	require.NoError(t, json.Unmarshal(raw, &rep))
	assert.Equal(t, 2, rep.Nodes)
	assert.True(t, strings.HasPrefix(rep.Store, "postgres "), "store %q", rep.Store)
	require.Len(t, rep.Runs, 3, "create_task, get_task and the mix, once each")
	for _, r := range rep.Runs {
		assert.Empty(t, r.Errors, "%s had failed calls", r.Scenario)
		require.Len(t, r.Nodes, 2, r.Scenario)
		assert.NotEqual(t, r.Nodes[0].URL, r.Nodes[1].URL, "two nodes, two endpoints")
		var rss float64
		for i, n := range r.Nodes {
			assert.Positive(t, n.Calls, "%s: node %d (%s) served no call", r.Scenario, i, n.URL)
			assert.Zero(t, n.Errors, "%s: node %d", r.Scenario, i)
			if assert.NotNil(t, n.Server, "%s: node %d's process was not measured", r.Scenario, i) {
				rss += n.Server.RSS
			}
		}
		if assert.NotNil(t, r.Server, r.Scenario) {
			assert.InDelta(t, rss, r.Server.RSS, 0.05, "%s: the server figure is the nodes' sum", r.Scenario)
		}
		if assert.NotNil(t, r.Postgres, "%s: PostgreSQL was not measured", r.Scenario) {
			// The postmaster, its workers and at least a backend per node.
			assert.Greater(t, r.Postgres.Processes, 2, r.Scenario)
		}
	}
	for _, s := range rep.Summary {
		assert.Zero(t, s.Errors, s.Scenario)
		assert.Len(t, s.NodeCallsPerS, 2, s.Scenario)
	}

	text, code = runBinary(t, nil, args...)
	assert.Equal(t, 2, code, text)
	assert.Contains(t, text, "already has 4 bench tenants", text)
	assert.NotContains(t, text, "starting", "a refused run starts no node")
}

// postmasterPID finds the PostgreSQL server behind dsn on this machine:
// the parent of the backend serving a connection.
func postmasterPID(t *testing.T, dsn string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var backend int
	require.NoError(t, conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend))
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", backend))
	require.NoError(t, err, "the test's PostgreSQL server runs on this machine")
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	ppid, err := strconv.Atoi(f[1])
	require.NoError(t, err)
	return ppid
}

// TestBenchIgnoresSettings: bench starts servers of its own, so neither
// CAPD_* variables nor a config file reach it; only its command line does.
// With settings applied, the broken file or the bad store would fail first.
func TestBenchIgnoresSettings(t *testing.T) {
	file := filepath.Join(t.TempDir(), "capd.yaml")
	require.NoError(t, os.WriteFile(file, []byte("rate-limt: 5\n"), 0o600))
	out, code := runBinary(t, []string{"CAPD_CONFIG=" + file, "CAPD_STORE=postgres://nobody@127.0.0.1:1/none"}, "bench", "--clients", "0")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "--clients and --runs must be ≥ 1")
	assert.NotContains(t, out, "rate-limt")
}
