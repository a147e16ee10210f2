package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSetsAPIErrors checks every refusal of the capability-set endpoints
// answers with the envelope (do validates it) and changes nothing.
func TestSetsAPIErrors(t *testing.T) {
	e := newEnv(t)
	base := "/api/v1/org/acme/capability-sets"
	res, out := e.do(t, "POST", base, e.fullA, `{"name":"triage","members":["projects.get_task","projects.nope"]}`, nil)
	require.Equal(t, http.StatusCreated, res.StatusCode, "%v", out)
	assert.Equal(t, 1.0, out["unresolvable_count"])

	for _, tc := range []struct {
		name, method, path, key, body string
		status                        int
		typ                           string
	}{
		{"422PinnedRange", "POST", base, e.fullA, `{"name":"x","members":["projects.get_task@latest"]}`, 422, "validation_error"},
		{"422BadName", "POST", base, e.fullA, `{"name":"Bad Name","members":[]}`, 422, "validation_error"},
		{"422UnknownField", "POST", base, e.fullA, `{"name":"x","colour":"red"}`, 422, "validation_error"},
		{"409Duplicate", "POST", base, e.fullA, `{"name":"triage"}`, 409, "already_exists"},
		{"400Malformed", "POST", base, e.fullA, `{"name":`, 400, "bad_request"},
		{"403ReadKeyWrites", "POST", base, e.readA, `{"name":"y"}`, 403, "forbidden"},
		{"404OtherOrg", "GET", "/api/v1/org/globex/capability-sets/triage", e.fullA, "", 404, "not_found"},
		{"404OtherTenantsPrivateSet", "GET", "/api/v1/org/globex/capability-sets/triage", e.fullB, "", 404, "not_found"},
		{"404Missing", "PATCH", base + "/nope", e.fullA, `{"description":"x"}`, 404, "not_found"},
		{"422Rename", "PATCH", base + "/triage", e.fullA, `{"name":"other"}`, 422, "validation_error"},
		{"405", "PUT", base + "/triage", e.fullA, `{}`, 405, "method_not_allowed"},
		{"401", "GET", base, "", "", 401, "authentication_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, out := e.do(t, tc.method, tc.path, tc.key, tc.body, nil)
			require.Equal(t, tc.status, res.StatusCode, "%v", out)
			assert.Equal(t, tc.typ, out["type"])
		})
	}
	_, out = e.do(t, "GET", base+"/triage", e.fullA, "", nil)
	assert.Equal(t, "triage", out["name"], "refusals changed nothing")
	assert.Len(t, out["members"], 2)
	assert.Equal(t, "not_found", out["members"].([]any)[1].(map[string]any)["unresolvable_reason"])
}
