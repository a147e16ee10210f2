package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const listTools = `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`

// post sends one JSON-RPC message to the MCP endpoint with the given headers.
func post(t *testing.T, url, body string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// envelope decodes the canonical error body.
func envelope(t *testing.T, res *http.Response) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
	return m
}

// TestHTTPGuard checks what the HTTP endpoint refuses before any MCP
// parsing: missing or bad keys, foreign origins and oversized bodies.
func TestHTTPGuard(t *testing.T) {
	f := newFixture(t)
	url := startServer(t, f, func(o *serveOptions) { o.allowedOrigins = []string{"https://app.example.com"} })
	auth := map[string]string{"Authorization": "Bearer " + f.fullA}

	t.Run("OK", func(t *testing.T) {
		res := post(t, url, listTools, auth)
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})
	t.Run("ErrNoKey", func(t *testing.T) {
		res := post(t, url, listTools, nil)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer")
		env := envelope(t, res)
		assert.Equal(t, float64(401), env["code"])
		assert.Equal(t, "authentication_error", env["type"])
	})
	t.Run("ErrBadKey", func(t *testing.T) {
		for _, key := range []string{"capd_nothing_here", "garbage", f.fullA + "x", strings.Replace(f.fullA, "_", "-", 1)} {
			res := post(t, url, listTools, map[string]string{"Authorization": "Bearer " + key})
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, key)
			assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer")
		}
		res := post(t, url, listTools, map[string]string{"Authorization": "Basic " + f.fullA})
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "only bearer tokens")
	})
	t.Run("ErrForeignOrigin", func(t *testing.T) {
		for _, origin := range []string{"https://evil.example", "http://localhost.evil.example", "null"} {
			headers := map[string]string{"Origin": origin, "Authorization": "Bearer " + f.fullA}
			res := post(t, url, listTools, headers)
			require.Equal(t, http.StatusForbidden, res.StatusCode, origin)
			assert.Equal(t, "forbidden", envelope(t, res)["type"])
		}
	})
	t.Run("OKLoopbackAndAllowedOrigins", func(t *testing.T) {
		for _, origin := range []string{"http://localhost:3000", "http://127.0.0.1:6274", "http://[::1]:8080", "https://app.example.com"} {
			res := post(t, url, listTools, map[string]string{"Origin": origin, "Authorization": "Bearer " + f.fullA})
			assert.Equal(t, http.StatusOK, res.StatusCode, origin)
		}
	})
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		big := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"projects.create_project","arguments":{"name":"` + strings.Repeat("x", 1<<20) + `"}}}`
		res := post(t, url, big, auth)
		require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
		assert.Equal(t, float64(413), envelope(t, res)["code"])

		// Without Content-Length (chunked), the limit still holds.
		req, err := http.NewRequest(http.MethodPost, url, io.MultiReader(strings.NewReader(big)))
		require.NoError(t, err)
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer "+f.fullA)
		req.Header.Set("Content-Type", "application/json")
		res2, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res2.Body.Close()
		assert.Equal(t, http.StatusRequestEntityTooLarge, res2.StatusCode)

		// Nothing was created by the refused request.
		c := connectHTTP(t, url, f.fullA)
		_, out := call(t, c, "projects.list_projects", map[string]any{"query": "xxxxxxxxxx", "limit": 100})
		assert.Empty(t, out["items"])
	})
	t.Run("Healthz", func(t *testing.T) {
		res, err := http.Get(strings.TrimSuffix(url, "/mcp") + "/healthz")
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.True(t, bytes.Contains(b, []byte(`"status":"ok"`)), string(b))
	})
}
