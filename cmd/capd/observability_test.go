package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/invoke"
)

// scrape reads url (a /metrics endpoint) as Prometheus does and parses it
// with Prometheus's own text parser. key, when set, is sent as a bearer.
func scrape(t *testing.T, url, key string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
	require.Contains(t, res.Header.Get("Content-Type"), "text/plain")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "%s", body)
	return fams
}

// sample is the value of the series of family name whose labels include
// every pair of labels (a histogram's value is its count); ok is false when
// no such series exists.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (v float64, ok bool) {
	fam := fams[name]
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		match := true
		for k, want := range labels {
			if have[k] != want {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// value is sample for a series that must exist.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	v, ok := sample(fams, name, labels)
	require.True(t, ok, "no series %s%v", name, labels)
	return v
}

// providerSeries is every series labelled with provider p, as name -> value.
func providerSeries(fams map[string]*dto.MetricFamily, p string) map[string]float64 {
	out := map[string]float64{}
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "provider" && lp.GetValue() == p {
					v, _ := sample(map[string]*dto.MetricFamily{name: fam}, name, map[string]string{"provider": p})
					out[name] = v
				}
			}
		}
	}
	return out
}

// keyPrefix is the public prefix of a token capd_<prefix>_<secret>.
func keyPrefix(token string) string { return strings.Split(token, "_")[1] }

// logLines decodes JSON log lines.
func logLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "not a JSON log line: %s", sc.Text())
		out = append(out, l)
	}
	return out
}

// postMCP sends one raw JSON-RPC request to the MCP endpoint with extra
// headers, as a client without an SDK does, and returns the answer.
func postMCP(t *testing.T, url, key, body string, headers map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, raw
}

var madeUpID = regexp.MustCompile(`^[a-z2-7]{20}$`)

// TestMetricsAndCallLog drives a real server through MCP (mcp-go's client
// and a raw JSON-RPC request) and the HTTP tool API — a success, a
// rejection and an invalid input each, a call refused by a key's rate
// limit and a client throttled for failed authentications — then scrapes
// /metrics with Prometheus's parser and reads the JSON log: every series
// moved by exactly what was done, every call has one log line with its
// request id, and nothing of tenant A's activity shows under tenant B's
// provider. Conformance figures come from runs another process recorded.
func TestMetricsAndCallLog(t *testing.T) {
	f := newFixture(t)
	provA, provB := "projectkit:"+f.tenantA, "projectkit:"+f.tenantB
	// Another process (as another node would) records tenant B's run.
	out, code := runBinary(t, nil, "conformance", "run", "--data", f.data, "--tenant", f.tenantB, "--capability", "projects.get_task")
	require.Equal(t, 0, code, out)

	url, logs := startServerLogs(t, f, func(o *serveOptions) {
		o.logging.format = "json"
		o.limits = invoke.Limits{KeyRate: 1000, KeyBurst: 10}
		o.keyOverrides = []string{keyPrefix(f.readA) + "=0.001"} // readA: its burst of 10, then refused
		o.failedAuthRate = 0.001                                 // 10 failures, then throttled
	})
	base := strings.TrimSuffix(url, "/mcp")
	metricsURL := base + "/metrics"
	before := scrape(t, metricsURL, "")
	bBefore := providerSeries(before, provB)
	require.Equal(t, 1.0, bBefore["capd_conformance_pass_ratio"], "tenant B's recorded run: %v", bBefore)
	require.Greater(t, bBefore["capd_conformance_cases"], 1.0)
	require.Empty(t, providerSeries(before, provA), "no run recorded for tenant A yet")
	assert.Equal(t, 1.0, value(t, before, "capd_build_info", map[string]string{"version": version}))
	for _, l := range []string{"key", "tenant", "failed_auth"} {
		assert.Equal(t, 0.0, value(t, before, "capd_rate_limited_total", map[string]string{"limit": l}), l)
	}
	assert.Contains(t, before, "go_goroutines", "Go runtime collector")
	assert.Contains(t, before, "process_resident_memory_bytes", "process collector")

	const secret = "Quarterly numbers before they are public"
	create := map[string]string{"capability": "projects.create_task", "version": latestVersion(t, "projects.create_task")}
	with := func(outcome string) map[string]string {
		return map[string]string{"capability": create["capability"], "version": create["version"], "outcome": outcome}
	}

	// MCP over streamable HTTP, through mcp-go's client.
	a := connectHTTP(t, url, f.fullA)
	res, got := call(t, a, "projects.create_task", map[string]any{"project_id": f.projectA, "title": secret})
	require.False(t, res.IsError, "%v", got)
	res, got = call(t, a, "projects.create_task", map[string]any{"project_id": "prj_00000000000000000000000000000000", "title": secret})
	require.True(t, res.IsError)
	require.Equal(t, "unknown_project", got["error"])
	res, got = call(t, a, "projects.create_task", map[string]any{"project_id": f.projectA, "title": ""})
	require.True(t, res.IsError)
	require.Equal(t, "invalid_input", got["error"])

	// One raw MCP request with its own X-Request-Id and a string JSON-RPC id.
	hres, raw := postMCP(t, url, f.fullA, `{"jsonrpc":"2.0","id":"rpc-obs-7","method":"tools/call","params":{"name":"projects.list_projects","arguments":{}}}`,
		map[string]string{"X-Request-Id": "obs-mcp-1"})
	require.Equal(t, http.StatusOK, hres.StatusCode, "%s", raw)
	assert.Equal(t, "obs-mcp-1", hres.Header.Get("X-Request-Id"), "echoed")

	// The HTTP tool API: a kept request id, a replaced one, and one made up.
	ok := tapiCallWith(t, base, f.fullA, "projects.create_task", map[string]any{"project_id": f.projectA, "title": secret}, map[string]string{"X-Request-Id": "obs-http-ok"})
	require.Equal(t, http.StatusOK, ok.Status, "%s", ok.Body)
	assert.Equal(t, "obs-http-ok", ok.Header.Get("X-Request-Id"))
	rejected := tapiCallWith(t, base, f.fullA, "projects.create_task", map[string]any{"project_id": "prj_00000000000000000000000000000000", "title": secret}, map[string]string{"X-Request-Id": "bad id with spaces"})
	require.Equal(t, http.StatusNotFound, rejected.Status, "%s", rejected.Body)
	replacedID := rejected.Header.Get("X-Request-Id")
	assert.Regexp(t, madeUpID, replacedID, "an unusable id is replaced")
	invalid := tapiCall(t, base, f.fullA, "projects.create_task", map[string]any{"project_id": f.projectA, "title": ""})
	require.Equal(t, http.StatusUnprocessableEntity, invalid.Status, "%s", invalid.Body)
	invalidID := invalid.Header.Get("X-Request-Id")
	assert.Regexp(t, madeUpID, invalidID)

	// Key readA spends its burst, then is refused by its key's limit.
	var allowed int
	for {
		r := tapiCall(t, base, f.readA, "projects.list_projects", map[string]any{})
		if r.Status == http.StatusTooManyRequests {
			break
		}
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		allowed++
		require.Less(t, allowed, 20, "never rate limited")
	}
	assert.Equal(t, 10, allowed, "the burst")

	after := scrape(t, metricsURL, "")
	t.Run("CallsByOutcome", func(t *testing.T) {
		assert.Equal(t, 2.0, value(t, after, "capd_calls_total", with("ok")), "one MCP, one HTTP")
		assert.Equal(t, 2.0, value(t, after, "capd_calls_total", with("unknown_project")))
		assert.Equal(t, 2.0, value(t, after, "capd_calls_total", with("invalid_input")))
		assert.Equal(t, 6.0, value(t, after, "capd_call_duration_seconds", create), "every create_task call is timed")
		list := map[string]string{"capability": "projects.list_projects", "version": latestVersion(t, "projects.list_projects")}
		assert.Equal(t, 11.0, value(t, after, "capd_calls_total", map[string]string{"capability": list["capability"], "version": list["version"], "outcome": "ok"}))
		assert.Equal(t, 1.0, value(t, after, "capd_calls_total", map[string]string{"capability": list["capability"], "version": list["version"], "outcome": "rate_limited"}))
		assert.Equal(t, 11.0, value(t, after, "capd_call_duration_seconds", list), "the refused call is not timed")
		sum := after["capd_call_duration_seconds"]
		for _, m := range sum.GetMetric() {
			h := m.GetHistogram()
			assert.Greater(t, h.GetSampleSum(), 0.0)
			assert.Less(t, h.GetSampleSum()/float64(h.GetSampleCount()), 1.0, "calls take milliseconds")
		}
		assert.Equal(t, 1.0, value(t, after, "capd_rate_limited_total", map[string]string{"limit": "key"}))
		assert.Equal(t, 0.0, value(t, after, "capd_rate_limited_total", map[string]string{"limit": "tenant"}))
		assert.GreaterOrEqual(t, value(t, after, "capd_tenant_databases_open", nil), 1.0)
		assert.Equal(t, 0.0, value(t, after, "capd_call_log_dropped_total", nil))
	})
	t.Run("NoTenantLabels", func(t *testing.T) {
		for name, fam := range after {
			for _, m := range fam.GetMetric() {
				for _, lp := range m.GetLabel() {
					assert.NotEqual(t, "tenant", lp.GetName(), name)
					if lp.GetName() != "provider" {
						assert.NotContains(t, lp.GetValue(), f.tenantA, name)
						assert.NotContains(t, lp.GetValue(), f.tenantB, name)
					}
				}
			}
		}
	})
	t.Run("CrossTenant", func(t *testing.T) {
		assert.Equal(t, bBefore, providerSeries(after, provB), "tenant A's calls change nothing of tenant B's provider")
		assert.Empty(t, providerSeries(after, provA), "calls are not conformance runs")

		// Another process records a run for tenant A: this server, which
		// ran nothing, reports it; B's figures stay as they were.
		out, code := runBinary(t, nil, "conformance", "run", "--data", f.data, "--tenant", f.tenantA, "--capability", "projects.list_projects")
		require.Equal(t, 0, code, out)
		now := scrape(t, metricsURL, "")
		aNow := providerSeries(now, provA)
		assert.Equal(t, 1.0, aNow["capd_conformance_pass_ratio"], "%v", aNow)
		assert.Greater(t, aNow["capd_conformance_cases"], 1.0)
		assert.InDelta(t, float64(time.Now().Unix()), aNow["capd_conformance_last_run_timestamp_seconds"], 300)
		assert.Equal(t, bBefore, providerSeries(now, provB))
	})
	t.Run("CallLog", func(t *testing.T) {
		lines := logLines(t, logs.String())
		var calls []map[string]any
		for _, l := range lines {
			if l["msg"] == "call" {
				calls = append(calls, l)
			}
		}
		require.Len(t, calls, 3+1+3+11, "one line per call")
		byID := map[string]map[string]any{}
		transports := map[string]int{}
		for _, l := range calls {
			assert.Equal(t, f.tenantA, l["tenant"])
			assert.NotEmpty(t, l["outcome"])
			assert.IsType(t, 0.0, l["duration_ms"])
			id, _ := l["request_id"].(string)
			require.NotEmpty(t, id)
			assert.Nil(t, byID[id], "request ids differ: %s", id)
			byID[id] = l
			transports[l["transport"].(string)]++
		}
		assert.Equal(t, map[string]int{invoke.TransportMCPHTTP: 4, invoke.TransportHTTPAPI: 14}, transports)
		raw := byID["obs-mcp-1"]
		require.NotNil(t, raw, "the raw MCP request's own id")
		assert.Equal(t, "rpc-obs-7", raw["jsonrpc_id"])
		assert.Equal(t, "projects.list_projects@0.1.0", raw["capability"])
		if l := byID["obs-http-ok"]; assert.NotNil(t, l) {
			assert.Equal(t, "ok", l["outcome"])
			assert.Equal(t, invoke.TransportHTTPAPI, l["transport"])
			assert.Nil(t, l["jsonrpc_id"])
		}
		if l := byID[replacedID]; assert.NotNil(t, l, "the replacement id is the one logged") {
			assert.Equal(t, "unknown_project", l["outcome"])
		}
		if l := byID[invalidID]; assert.NotNil(t, l) {
			assert.Equal(t, "invalid_input", l["outcome"])
		}
		for _, l := range calls {
			if l["transport"] == invoke.TransportMCPHTTP {
				assert.NotNil(t, l["jsonrpc_id"], "MCP lines carry the JSON-RPC id")
			}
		}
		all := logs.String()
		assert.NotContains(t, all, secret, "arguments are never logged")
		assert.NotContains(t, all, f.projectA, "argument values are never logged")
		for _, key := range []string{f.fullA, f.readA} {
			assert.NotContains(t, all, key)
			assert.NotContains(t, all, strings.Split(key, "_")[2], "no part of a key's secret")
		}
	})
	t.Run("FailedAuthThrottled", func(t *testing.T) {
		bad := "capd_aaaaaaaaaaaaa_" + strings.Repeat("b", 52)
		var refused int
		for i := 0; i < 20 && refused == 0; i++ {
			r := tapiCall(t, base, bad, "projects.list_projects", map[string]any{})
			if r.Status == http.StatusTooManyRequests {
				refused++
			} else {
				require.Equal(t, http.StatusUnauthorized, r.Status, "%s", r.Body)
			}
		}
		require.Equal(t, 1, refused, "throttled after its burst of failures")
		now := scrape(t, metricsURL, "")
		assert.Equal(t, 1.0, value(t, now, "capd_rate_limited_total", map[string]string{"limit": "failed_auth"}))
		assert.NotContains(t, logs.String(), bad, "a presented key is never logged, even a wrong one")
		var failed int
		for _, l := range logLines(t, logs.String()) {
			if l["msg"] == "authentication failed" {
				failed++
				assert.Regexp(t, madeUpID, l["request_id"])
			}
		}
		assert.Equal(t, 10, failed)
	})
}

// TestCallLogOverStdio: a `capd stdio` process logs each call on stderr,
// as JSON when asked, with the JSON-RPC id and a request id of its own.
func TestCallLogOverStdio(t *testing.T) {
	f := newFixture(t)
	env := append(environWithout("CAPD_API_KEY"), "CAPD_API_KEY="+f.fullA)
	c, err := client.NewStdioMCPClient(capdBinary, env, "stdio", "--data", f.data, "--log-format", "json")
	require.NoError(t, err)
	stderr, ok := client.GetStderr(c)
	require.True(t, ok)
	lines := make(chan map[string]any, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				l = map[string]any{"unparsed": sc.Text()}
			}
			lines <- l
		}
		close(lines)
	}()
	initialize(t, c)
	res, out := call(t, c, "projects.get_project", map[string]any{"project_id": f.projectA})
	require.False(t, res.IsError, "%v", out)
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l, open := <-lines:
			require.True(t, open, "stderr closed without a call line")
			require.Nil(t, l["unparsed"], "stderr is JSON lines")
			if l["msg"] != "call" {
				continue
			}
			assert.Equal(t, invoke.TransportMCPStdio, l["transport"])
			assert.Equal(t, f.tenantA, l["tenant"])
			assert.Equal(t, "projects.get_project@0.1.0", l["capability"])
			assert.Equal(t, "ok", l["outcome"])
			assert.NotNil(t, l["jsonrpc_id"])
			assert.Regexp(t, madeUpID, l["request_id"])
			return
		case <-deadline:
			t.Fatal("no call line on stderr")
		}
	}
}

// TestTenantLRUMetrics: with room for one open tenant database, calls
// that alternate between two tenants evict one each time.
func TestTenantLRUMetrics(t *testing.T) {
	f := newFixture(t)
	url := startServer(t, f, func(o *serveOptions) { o.maxOpenTenants = 1 })
	base := strings.TrimSuffix(url, "/mcp")
	for _, key := range []string{f.fullA, f.fullB, f.fullA, f.fullB} {
		tapiOK(t, base, key, "projects.list_projects", map[string]any{})
	}
	fams := scrape(t, base+"/metrics", "")
	assert.Equal(t, 4.0, value(t, fams, "capd_tenant_database_opens_total", nil), "each call opens its tenant again")
	assert.Equal(t, 3.0, value(t, fams, "capd_tenant_database_evictions_total", nil), "and evicts the other")
	assert.Equal(t, 1.0, value(t, fams, "capd_tenant_databases_open", nil))
	tapiOK(t, base, f.fullB, "projects.list_projects", map[string]any{})
	fams = scrape(t, base+"/metrics", "")
	assert.Equal(t, 3.0, value(t, fams, "capd_tenant_database_evictions_total", nil), "the open tenant is reused")
	assert.Greater(t, value(t, fams, "capd_tenant_database_hits_total", nil), 0.0)
	_, ok := sample(fams, "capd_store_connections", nil)
	assert.False(t, ok, "no PostgreSQL pool series on SQLite")
}

// TestMetricsEndpoint covers where /metrics is served: beside the API by
// default, behind a key with --catalog-auth, on its own listener with
// --metrics-addr (and then not beside the API), or nowhere.
func TestMetricsEndpoint(t *testing.T) {
	f := newFixture(t)
	status := func(t *testing.T, url, key string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		require.NoError(t, err)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	t.Run("OKBesideTheAPI", func(t *testing.T) {
		url := startServer(t, f)
		assert.Equal(t, http.StatusOK, status(t, strings.TrimSuffix(url, "/mcp")+"/metrics", ""))
	})
	t.Run("ErrCatalogAuthNeedsAKey", func(t *testing.T) {
		url := startServer(t, f, func(o *serveOptions) { o.catalogAuth = true })
		m := strings.TrimSuffix(url, "/mcp") + "/metrics"
		assert.Equal(t, http.StatusUnauthorized, status(t, m, ""))
		assert.Equal(t, http.StatusUnauthorized, status(t, m, "capd_nope"))
		scrape(t, m, f.fullB)
	})
	t.Run("OKOwnListener", func(t *testing.T) {
		url, logs := startServerLogs(t, f, func(o *serveOptions) { o.metricsAddr = "127.0.0.1:0" })
		assert.Equal(t, http.StatusNotFound, status(t, strings.TrimSuffix(url, "/mcp")+"/metrics", ""), "not beside the API")
		m := regexp.MustCompile(`metrics listening.*addr=(http://\S+/metrics)`).FindStringSubmatch(logs.String())
		require.NotNil(t, m, "%s", logs)
		fams := scrape(t, m[1], "")
		assert.Contains(t, fams, "capd_build_info")
		assert.Contains(t, fams, "capd_tenant_databases_open")
	})
	t.Run("ErrOwnListenerAddressTaken", func(t *testing.T) {
		url := startServer(t, f)
		taken := strings.TrimPrefix(strings.TrimSuffix(url, "/mcp"), "http://")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		o := serveOptions{appOptions: appOptions{dataDir: f.data, logOut: io.Discard}, addr: "127.0.0.1:0", metricsAddr: taken}
		err := serve(ctx, o, io.Discard, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "--metrics-addr "+taken)
	})
	t.Run("OKOff", func(t *testing.T) {
		url := startServer(t, f, func(o *serveOptions) { o.metricsOff = true })
		assert.Equal(t, http.StatusNotFound, status(t, strings.TrimSuffix(url, "/mcp")+"/metrics", ""))
	})
}

// TestLogFlags: --log-format and --log-level take only their listed values;
// anything else is a usage error (exit 2) that names the flag and them.
func TestLogFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "--log-format", "xml"}, []string{`"--log-format"`, "xml", "text, json or auto"}},
		{[]string{"serve", "--log-level", "verbose"}, []string{`"--log-level"`, "verbose", "debug, info, warn or error"}},
		{[]string{"serve", "--log-level", "INFO"}, []string{`"--log-level"`, "debug, info, warn or error"}},
		{[]string{"stdio", "--log-format", "JSON"}, []string{`"--log-format"`, "text, json or auto"}},
	} {
		t.Run("Err"+strings.Join(tc.args, "_"), func(t *testing.T) {
			out, err := runCLI(t, append(tc.args, "--data", t.TempDir())...)
			require.Error(t, err, out)
			assert.Equal(t, 2, exitCode(err), "a usage error")
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	t.Run("ErrMetricsAddrWithMetricsOff", func(t *testing.T) {
		out, err := runCLI(t, "serve", "--data", t.TempDir(), "--metrics=false", "--metrics-addr", "127.0.0.1:0")
		require.Error(t, err, out)
		assert.Equal(t, 2, exitCode(err))
		assert.Contains(t, err.Error(), "--metrics-addr")
		assert.Contains(t, err.Error(), "--metrics=false")
	})
	t.Run("OKTextAtWarnHidesCalls", func(t *testing.T) {
		f := newFixture(t)
		var lvl logLevel
		require.NoError(t, lvl.Set("warn"))
		url, logs := startServerLogs(t, f, func(o *serveOptions) { o.logging.level = lvl })
		tapiOK(t, strings.TrimSuffix(url, "/mcp"), f.fullA, "projects.list_projects", map[string]any{})
		tapiCall(t, strings.TrimSuffix(url, "/mcp"), "capd_nope", "projects.list_projects", map[string]any{})
		assert.NotContains(t, logs.String(), "msg=call")
		assert.Contains(t, logs.String(), `level=WARN msg="authentication failed"`, "text format, warnings kept")
	})
}
