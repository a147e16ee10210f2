package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/httpapi"
)

// record stores a small run: two providers, one failing case.
func (e *env) record(t *testing.T) {
	t.Helper()
	at := time.Date(2026, 5, 18, 19, 53, 0, 0, time.UTC)
	var rs []capability.ConformanceResult
	for i, p := range []string{"projectkit:acme", "projectkit:globex"} {
		for j, c := range []string{"happy_path", "rejects_unknown_project"} {
			outcome, msg := capability.OutcomePass, ""
			if p == "projectkit:globex" && c == "happy_path" {
				outcome, msg = capability.OutcomeFail, "expected ok"
			}
			rs = append(rs, capability.ConformanceResult{RunID: "run_1", Provider: p, Capability: "projects.create_project", Version: "0.1.0",
				CaseID: c, Kind: "happy", Outcome: outcome, Message: msg, Duration: 38 * time.Millisecond,
				StartedAt: at.Add(time.Duration(i*2+j) * time.Second)})
		}
	}
	require.NoError(t, e.db.Control().RecordConformance(context.Background(), rs))
}

func names(items []any, key string) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.(map[string]any)[key].(string))
	}
	return out
}

// TestReadAPI covers the catalog's JSON API.
func TestReadAPI(t *testing.T) {
	e := newEnv(t)
	e.record(t)

	t.Run("ListCapabilities", func(t *testing.T) {
		res, out := e.do(t, "GET", "/api/v1/capabilities", "", "", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		items := out["items"].([]any)
		assert.Equal(t, e.names(""), names(items, "name"))
		var ct, cp map[string]any
		for _, it := range items {
			switch it.(map[string]any)["name"] {
			case "projects.create_task":
				ct = it.(map[string]any)
			case "projects.create_project":
				cp = it.(map[string]any)
			}
		}
		require.NotNil(t, ct)
		assert.Equal(t, "0.2.0", ct["latest_version"], "the latest stable version, not the deprecated 0.1.0")
		assert.Equal(t, "never_run", ct["conformance"].(map[string]any)["status"])
		badge := cp["conformance"].(map[string]any)
		assert.Equal(t, "failing", badge["status"])
		assert.Equal(t, float64(3), badge["passed"])
		assert.Equal(t, float64(4), badge["total"])
		assert.Equal(t, float64(2), badge["providers"])

		_, out = e.do(t, "GET", "/api/v1/capabilities?scope=projects.write", "", "", nil)
		assert.Equal(t, e.names(capability.ScopeProjectsWrite), names(out["items"].([]any), "name"))
		_, out = e.do(t, "GET", "/api/v1/capabilities?q=STAFF", "", "", nil)
		assert.Contains(t, names(out["items"].([]any), "name"), "projects.list_staff")
		assert.NotContains(t, names(out["items"].([]any), "name"), "projects.list_projects")
		_, out = e.do(t, "GET", "/api/v1/capabilities?scope=projects.read", "", "", nil)
		for _, it := range out["items"].([]any) {
			if it.(map[string]any)["name"] == "projects.get_task" {
				assert.Equal(t, "0.1.0", it.(map[string]any)["latest_version"], "bare names show the latest stable version")
				assert.Len(t, it.(map[string]any)["versions"], 2)
			}
		}
	})
	t.Run("ToolFormats", func(t *testing.T) {
		_, mcp := e.do(t, "GET", "/api/v1/capabilities?format=mcp", "", "", nil)
		tools := mcp["tools"].([]any)
		require.Equal(t, e.names(""), names(tools, "name"))
		first := tools[0].(map[string]any)
		for _, k := range []string{"title", "description", "inputSchema", "outputSchema", "annotations", "_meta"} {
			assert.Contains(t, first, k)
		}
		_, openai := e.do(t, "GET", "/api/v1/capabilities?format=openai", "", "", nil)
		fn := openai["tools"].([]any)[0].(map[string]any)
		assert.Equal(t, "function", fn["type"])
		assert.Equal(t, strings.Replace(e.names("")[0], ".", "__", 1), fn["function"].(map[string]any)["name"])
		assert.Contains(t, fn["function"], "parameters")
		_, anthropic := e.do(t, "GET", "/api/v1/capabilities?format=anthropic", "", "", nil)
		at := anthropic["tools"].([]any)[0].(map[string]any)
		assert.Equal(t, strings.Replace(e.names("")[0], ".", "__", 1), at["name"])
		assert.Contains(t, at, "input_schema")

		_, ro := e.do(t, "GET", "/api/v1/capabilities?format=mcp", e.readA, "", nil)
		assert.Equal(t, e.names(capability.ScopeProjectsRead), names(ro["tools"].([]any), "name"), "a key narrows the list to its scopes")
		res, _ := e.do(t, "GET", "/api/v1/capabilities?format=mcp", "capd_abcdefgh_bad", "", nil)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "a bad key is refused, not ignored")
	})
	t.Run("Err422Query", func(t *testing.T) {
		res, out := e.do(t, "GET", "/api/v1/capabilities?format=yaml&scope=projects.admin", "", "", nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.ElementsMatch(t, []string{"query.format", "query.scope"}, locs(out))
		res, out = e.do(t, "GET", "/api/v1/conformance/runs?limit=0&outcome=meh&offset=-1", "", "", nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.ElementsMatch(t, []string{"query.limit", "query.outcome", "query.offset"}, locs(out))
	})
	t.Run("Capability", func(t *testing.T) {
		res, out := e.do(t, "GET", "/api/v1/capabilities/projects.create_project", "", "", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "0.1.0", out["latest_version"])
		c := out["capability"].(map[string]any)
		for _, k := range []string{"semantics", "invariants", "when_to_use", "input_schema", "output_schema", "errors", "examples", "annotations"} {
			assert.Contains(t, c, k)
		}
		assert.Equal(t, "projectkit", c["provider"])
		assert.Len(t, c["providers"], 2)

		res, out = e.do(t, "GET", "/api/v1/capabilities/projects.get_task/versions/0.0.9", "", "", nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "a retired version can still be read")
		assert.Equal(t, "retired", out["status"])
		assert.Equal(t, "projects.get_task@0.1.0", out["replacement"])
	})
	t.Run("Err404", func(t *testing.T) {
		for _, p := range []string{"/api/v1/capabilities/projects.nothing", "/api/v1/capabilities/projects.create_task/versions/9.9.9", "/api/v1/conformance/runs/run_nope"} {
			res, out := e.do(t, "GET", p, "", "", nil)
			require.Equal(t, http.StatusNotFound, res.StatusCode, p)
			assert.Equal(t, "not_found", out["type"])
		}
	})
	t.Run("Runs", func(t *testing.T) {
		_, out := e.do(t, "GET", "/api/v1/conformance/runs?limit=3", "", "", nil)
		items := out["items"].([]any)
		require.Len(t, items, 3)
		assert.Equal(t, "projectkit:globex", items[0].(map[string]any)["provider"], "newest first")
		assert.Equal(t, float64(3), out["next_offset"])
		_, out = e.do(t, "GET", "/api/v1/conformance/runs?limit=3&offset=3", "", "", nil)
		assert.Len(t, out["items"], 1)
		assert.Nil(t, out["next_offset"])
		_, out = e.do(t, "GET", "/api/v1/conformance/runs?outcome=fail&provider=projectkit:globex&capability=projects.create_project&version=0.1.0", "", "", nil)
		require.Len(t, out["items"], 1)
		assert.Equal(t, "expected ok", out["items"].([]any)[0].(map[string]any)["message"])

		_, run := e.do(t, "GET", "/api/v1/conformance/runs/run_1", "", "", nil)
		assert.Equal(t, "run_1", run["run_id"])
		assert.Equal(t, float64(3), run["summary"].(map[string]any)["passed"])
		assert.Len(t, run["results"], 4)
	})
	t.Run("Providers", func(t *testing.T) {
		_, out := e.do(t, "GET", "/api/v1/providers", "", "", nil)
		items := out["items"].([]any)
		require.Len(t, items, 2)
		globex := items[1].(map[string]any)
		assert.Equal(t, "projectkit:globex", globex["provider"])
		assert.Equal(t, "failing", globex["status"])
		cell := globex["cells"].([]any)[0].(map[string]any)
		assert.Equal(t, float64(1), cell["passed"])
		assert.Equal(t, float64(2), cell["total"])
		assert.Equal(t, "happy_path", cell["failing"].([]any)[0].(map[string]any)["case"])
	})
	t.Run("Negotiation", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/capabilities", "", "{}", nil)
		require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
		assert.Equal(t, "GET, HEAD", res.Header.Get("Allow"))
		assert.Equal(t, "method_not_allowed", out["type"])
		res, _ = e.do(t, "GET", "/api/v1/providers", "", "", map[string]string{"Accept": "text/csv"})
		assert.Equal(t, http.StatusNotAcceptable, res.StatusCode)
		res, _ = e.do(t, "HEAD", "/api/v1/providers", "", "", nil)
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})
}

// TestCatalogAuth makes the read API require a key.
func TestCatalogAuth(t *testing.T) {
	e := newEnv(t, func(a *httpapi.API) { a.CatalogAuth = true })
	res, out := e.do(t, "GET", "/api/v1/capabilities", "", "", nil)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Equal(t, "authentication_error", out["type"])
	res, _ = e.do(t, "GET", "/api/v1/capabilities", e.readA, "", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode)
}
