package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/httpapi"
	"github.com/capd-dev/capd/internal/invoke"
)

// TestToolAPI covers POST /api/v1/tools/{name}: success, and every error
// status with the canonical envelope (checked against its schema in do).
func TestToolAPI(t *testing.T) {
	e := newEnv(t, func(a *httpapi.API) { a.Guard.MaxBody = 4096 })
	create := func(body string) (*http.Response, map[string]any) {
		return e.do(t, "POST", "/api/v1/tools/projects.create_task", e.fullA, body, nil)
	}

	var taskID string
	t.Run("OK", func(t *testing.T) {
		res, out := create(`{"project_id":"` + e.project + `","title":"Write the launch post"}`)
		require.Equal(t, http.StatusOK, res.StatusCode, "%v", out)
		assert.Equal(t, true, out["ok"])
		assert.Equal(t, "todo", out["status"])
		assert.Equal(t, "projects.create_task@0.2.0", res.Header.Get("Capd-Capability"))
		taskID = out["task_id"].(string)
	})
	t.Run("OKPinnedAndFunctionName", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.get_task@0.1.0", e.fullA, `{"task_id":"`+taskID+`"}`, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "%v", out)
		res, out = e.do(t, "POST", "/api/v1/tools/projects__get_task", e.readA, `{"task_id":"`+taskID+`"}`, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "%v", out)
		assert.Equal(t, "todo", out["task"].(map[string]any)["status"])
	})
	t.Run("OKDeprecatedVersionHeader", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.create_task@0.1.0", e.fullA, `{"project_id":"`+e.project+`","title":"Old contract"}`, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "%v", out)
		assert.Equal(t, "true", res.Header.Get("Deprecation"))
		assert.Contains(t, res.Header.Get("Warning"), "projects.create_task@0.2.0")
		assert.NotContains(t, out, "task", "0.1.0 keeps its published output")
	})
	t.Run("Err400MalformedJSON", func(t *testing.T) {
		res, out := create(`{"project_id": "x", "title": `)
		require.Equal(t, http.StatusBadRequest, res.StatusCode)
		assert.Equal(t, "bad_request", out["type"])
	})
	t.Run("Err401NotProvided", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.create_task", "", `{}`, nil)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		assert.Equal(t, "authentication_error", out["type"])
		assert.Contains(t, out["detail"], "not provided")
		assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer")
	})
	t.Run("Err401Failed", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.create_task", "capd_abcdefgh_nope", `{}`, nil)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		assert.Equal(t, "authentication_error", out["type"])
		assert.Contains(t, out["detail"], "failed")
	})
	t.Run("Err403Scope", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.create_task", e.readA, `{"project_id":"`+e.project+`","title":"x"}`, nil)
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.Equal(t, "forbidden", out["type"])
		assert.Contains(t, out["detail"], "projects.write")
	})
	t.Run("Err403Origin", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.create_task", e.fullA, `{}`, map[string]string{"Origin": "https://evil.example"})
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.Equal(t, "forbidden", out["type"])
	})
	t.Run("Err404", func(t *testing.T) {
		for path, body := range map[string]string{
			"/api/v1/tools/projects.nothing":           `{}`,
			"/api/v1/tools/projects.create_task@9.9.9": `{}`,
			"/api/v1/tools/projects.get_task":          `{"task_id":"tsk_00000000000000000000000000000000"}`,
			"/api/v1/tools/projects.create_task":       `{"project_id":"prj_00000000000000000000000000000000","title":"x"}`,
			"/api/v1/nowhere":                          ``,
		} {
			res, out := e.do(t, "POST", path, e.fullA, body, nil)
			require.Equal(t, http.StatusNotFound, res.StatusCode, path)
			assert.Equal(t, "not_found", out["type"], path)
		}
		_, out := create(`{"project_id":"prj_00000000000000000000000000000000","title":"x"}`)
		assert.Equal(t, "unknown_project", out["error"], "the capability's own code travels too")
		assert.Equal(t, []string{"body.project_id"}, locs(out))
	})
	t.Run("Err404OtherTenant", func(t *testing.T) {
		for _, tool := range []string{"projects.get_task", "projects.update_task", "projects.transition_task"} {
			body := map[string]string{
				"projects.get_task":        `{"task_id":"` + taskID + `"}`,
				"projects.update_task":     `{"task_id":"` + taskID + `","title":"mine"}`,
				"projects.transition_task": `{"task_id":"` + taskID + `","to":"doing"}`,
			}[tool]
			res, out := e.do(t, "POST", "/api/v1/tools/"+tool, e.fullB, body, nil)
			require.Equal(t, http.StatusNotFound, res.StatusCode, tool)
			assert.Equal(t, "unknown_task", out["error"], tool)
		}
	})
	t.Run("Err405", func(t *testing.T) {
		res, out := e.do(t, "GET", "/api/v1/tools/projects.create_task", e.fullA, "", nil)
		require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
		assert.Equal(t, "method_not_allowed", out["type"])
		assert.Equal(t, "POST", res.Header.Get("Allow"))
	})
	t.Run("Err406", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.create_task", e.fullA, `{}`, map[string]string{"Accept": "application/xml"})
		require.Equal(t, http.StatusNotAcceptable, res.StatusCode)
		assert.Equal(t, "not_acceptable", out["type"])
		res, _ = e.do(t, "POST", "/api/v1/tools/projects.get_task", e.fullA, `{"task_id":"`+taskID+`"}`, map[string]string{"Accept": "text/html, application/json;q=0.9"})
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})
	t.Run("Err409InvalidTransition", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.transition_task", e.fullA, `{"task_id":"`+taskID+`","to":"done"}`, nil)
		require.Equal(t, http.StatusConflict, res.StatusCode)
		assert.Equal(t, "conflict", out["type"])
		assert.Equal(t, "invalid_transition", out["error"])
		assert.Equal(t, []any{"doing"}, out["result"].(map[string]any)["allowed_transitions"], "the contract's fields travel in result")
	})
	t.Run("Err409AlreadyExists", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.create_project", e.fullA, `{"name":"LAUNCH"}`, nil)
		require.Equal(t, http.StatusConflict, res.StatusCode)
		assert.Equal(t, "already_exists", out["type"])
	})
	t.Run("Err413", func(t *testing.T) {
		res, out := create(`{"project_id":"` + e.project + `","title":"x","description":"` + strings.Repeat("x", 5000) + `"}`)
		require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
		assert.Equal(t, "payload_too_large", out["type"])
	})
	t.Run("Err415", func(t *testing.T) {
		for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", ""} {
			res, out := e.do(t, "POST", "/api/v1/tools/projects.create_task", e.fullA, `{"title":"x"}`, map[string]string{"Content-Type": ct})
			require.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode, ct)
			assert.Equal(t, "unsupported_media_type", out["type"])
		}
	})
	t.Run("Err422OneEntryPerField", func(t *testing.T) {
		res, out := create(`{"project_id":"` + e.project + `","title":"","priority":"urgent","due_date":"2026-02-30","colour":"red"}`)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.Equal(t, "validation_error", out["type"])
		assert.ElementsMatch(t, []string{"body.title", "body.priority", "body.due_date", "body.colour"}, locs(out))
	})
	t.Run("Err426Retired", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.get_task@0.0.9", e.fullA, `{"task_id":"`+taskID+`"}`, nil)
		require.Equal(t, http.StatusUpgradeRequired, res.StatusCode)
		assert.Equal(t, "upgrade_required", out["type"])
		assert.Contains(t, out["detail"], "projects.get_task@0.1.0")
	})
	t.Run("Err500NoInternals", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.list_staff", e.fullA, `{}`, nil)
		require.Equal(t, http.StatusInternalServerError, res.StatusCode)
		assert.Equal(t, "internal_error", out["type"])
		assert.NotContains(t, out["detail"], "secret-path")
		assert.NotContains(t, out["detail"], "disk")
	})
	t.Run("NothingWrittenByRejections", func(t *testing.T) {
		_, out := e.do(t, "POST", "/api/v1/tools/projects.list_tasks", e.fullA, `{"limit":100}`, nil)
		assert.Len(t, out["items"], 2, "only the tasks from the OK calls exist")
	})
}

// TestRateLimit checks 429 with Retry-After once a key spends its burst,
// that another tenant is not slowed by it, and that an address failing to
// authenticate is throttled.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(a *httpapi.API) {
		a.Invoker.Limiter = invoke.NewLimiter(invoke.Limits{KeyRate: 0.5, KeyBurst: 3, TenantRate: 0.5, TenantBurst: 3})
		a.Guard.FailedAuthRate, a.Guard.FailedAuthBurst = 0.1, 3
	})
	body := `{"project_id":"` + e.project + `"}`
	var limited *http.Response
	var out map[string]any
	for i := 0; i < 6 && limited == nil; i++ {
		res, o := e.do(t, "POST", "/api/v1/tools/projects.get_project", e.readA, body, nil)
		if res.StatusCode == http.StatusTooManyRequests {
			limited, out = res, o
		}
	}
	require.NotNil(t, limited, "calls beyond the burst are limited")
	assert.Equal(t, "rate_limited", out["type"])
	assert.Regexp(t, `^[1-9]\d*$`, limited.Header.Get("Retry-After"))
	res, _ := e.do(t, "POST", "/api/v1/tools/projects.get_project", e.fullB, `{"project_id":"prj_00000000000000000000000000000000"}`, nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode, "another tenant has its own buckets")

	var throttled bool
	for i := 0; i < 6 && !throttled; i++ {
		res, _ := e.do(t, "POST", "/api/v1/tools/projects.get_project", "capd_abcdefgh_wrong", body, nil)
		throttled = res.StatusCode == http.StatusTooManyRequests
	}
	assert.True(t, throttled, "repeated failed authentications from one address are throttled")
}
