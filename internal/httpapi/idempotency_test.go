package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIdempotencyKey: a retry with the same key and arguments replays the
// first result and writes once; other arguments are 409; keys are per
// tenant.
func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	body := `{"project_id":"` + e.project + `","title":"Exactly once"}`
	key := map[string]string{"Idempotency-Key": "6f1c2a7e-retry-1"}

	res, first := e.do(t, "POST", "/api/v1/tools/projects.create_task", e.fullA, body, key)
	require.Equal(t, http.StatusOK, res.StatusCode, "%v", first)
	assert.Empty(t, res.Header.Get("Idempotent-Replayed"))

	t.Run("OKReplay", func(t *testing.T) {
		reordered := `{"title":"Exactly once","project_id":"` + e.project + `"}`
		res, again := e.do(t, "POST", "/api/v1/tools/projects.create_task", e.fullA, reordered, key)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "true", res.Header.Get("Idempotent-Replayed"))
		assert.Equal(t, first, again, "the first result, whatever the key order of the arguments")
	})
	t.Run("Err409OtherArguments", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.create_task", e.fullA, `{"project_id":"`+e.project+`","title":"Something else"}`, key)
		require.Equal(t, http.StatusConflict, res.StatusCode)
		assert.Equal(t, "conflict", out["type"])
	})
	t.Run("Err409OtherCapability", func(t *testing.T) {
		res, _ := e.do(t, "POST", "/api/v1/tools/projects.create_project", e.fullA, `{"name":"Keyed"}`, key)
		assert.Equal(t, http.StatusConflict, res.StatusCode)
	})
	t.Run("Err422BadKey", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.create_project", e.fullA, `{"name":"Spaced key"}`, map[string]string{"Idempotency-Key": "has space"})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.Equal(t, "validation_error", out["type"])
	})
	t.Run("WrittenOnce", func(t *testing.T) {
		_, list := e.do(t, "POST", "/api/v1/tools/projects.list_tasks", e.fullA, `{"query":"Exactly once"}`, nil)
		assert.Len(t, list["items"], 1)
	})
	t.Run("KeysArePerTenant", func(t *testing.T) {
		res, out := e.do(t, "POST", "/api/v1/tools/projects.create_project", e.fullB, `{"name":"Globex keyed"}`, key)
		require.Equal(t, http.StatusOK, res.StatusCode, "%v", out)
		assert.Empty(t, res.Header.Get("Idempotent-Replayed"), "tenant B's first use of the same key")
	})
}
