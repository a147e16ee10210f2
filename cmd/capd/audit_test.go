package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAuditCLI: calls through the server show up in the tenant's log with
// key prefix, capability@version, outcome and replays; another tenant's
// calls do not.
func TestAuditCLI(t *testing.T) {
	f := newFixture(t)
	base := strings.TrimSuffix(startServer(t, f), "/mcp")
	post := func(key, body string, headers map[string]string) {
		req, err := http.NewRequest("POST", base+"/api/v1/tools/projects.create_project", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
	}
	idem := map[string]string{"Idempotency-Key": "audit-1"}
	post(f.fullA, `{"name":"Audited"}`, idem)
	post(f.fullA, `{"name":"Audited"}`, idem)
	post(f.fullA, `{"name":""}`, nil)
	post(f.fullB, `{"name":"Other tenant"}`, nil)

	var out string
	require.Eventually(t, func() bool {
		var err error
		out, err = runCLI(t, "audit", "--tenant", f.tenantA, "--since", "1h", "--data", f.data)
		return err == nil && strings.Count(out, "projects.create_project@0.1.0") == 3
	}, 10*time.Second, 100*time.Millisecond, "the batched log reaches the database")
	prefix := strings.Split(f.fullA, "_")[1]
	assert.Contains(t, out, prefix)
	assert.Contains(t, out, "invalid_input")
	replays := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasSuffix(strings.TrimSpace(line), "replay") {
			replays++
		}
	}
	assert.Equal(t, 1, replays, "the retry is logged as a replay")
	assert.NotContains(t, out, strings.Split(f.fullB, "_")[1], "another tenant's calls are not in this log")

	_, err := runCLI(t, "audit", "--data", f.data)
	assert.Error(t, err)
}
