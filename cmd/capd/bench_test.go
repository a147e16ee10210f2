package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	} {
		text, code := runBinary(t, nil, append([]string{"bench"}, c.args...)...)
		assert.Equal(t, 2, code, "%v: %s", c.args, text)
		assert.Contains(t, text, c.want, "%v", c.args)
	}
}
