package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, url string, mutate func(*http.Request)) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if mutate != nil {
		mutate(req)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

// TestServeCatalog checks that serve mounts the catalog and the JSON API
// beside MCP, publicly by default and behind a key with --catalog-auth.
func TestServeCatalog(t *testing.T) {
	f := newFixture(t)
	t.Run("Public", func(t *testing.T) {
		base := strings.TrimSuffix(startServer(t, f), "/mcp")
		res, body := get(t, base+"/", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, body, "projects.create_task")
		res, body = get(t, base+"/capabilities/projects.create_task", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, body, "Recent conformance runs")
		res, body = get(t, base+"/api/v1/capabilities?format=openai", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, body, "projects__create_task")
		res, _ = get(t, base+"/healthz", nil)
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})
	t.Run("CatalogAuth", func(t *testing.T) {
		base := strings.TrimSuffix(startServer(t, f, func(o *serveOptions) { o.catalogAuth = true }), "/mcp")
		res, _ := get(t, base+"/", nil)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Basic", "a browser is asked for the key")
		res, body := get(t, base+"/", func(r *http.Request) { r.SetBasicAuth("me", f.readA) })
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, body, "projects.create_task")
		res, _ = get(t, base+"/", func(r *http.Request) { r.SetBasicAuth("me", "capd_abcdefgh_wrong") })
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		res, _ = get(t, base+"/api/v1/capabilities", nil)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		res, _ = get(t, base+"/api/v1/capabilities", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+f.readA) })
		assert.Equal(t, http.StatusOK, res.StatusCode)
		res, _ = get(t, base+"/healthz", nil)
		assert.Equal(t, http.StatusOK, res.StatusCode, "health stays public")
	})
}
