package main

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/demo"
)

// serveOnce starts serve, waits until it is ready, stops it and returns
// what it printed.
func serveOnce(t *testing.T, o serveOptions) string {
	t.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- serve(ctx, o, &out, func(net.Addr) { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	cancel()
	require.NoError(t, <-done)
	return out.String()
}

// TestBanner checks what a person sees on start: on an empty data directory,
// how to create a tenant and key; with --demo, the URL, one working key per
// demo tenant and a client configuration, the same keys on every start.
func TestBanner(t *testing.T) {
	t.Run("EmptyDataDir", func(t *testing.T) {
		out := serveOnce(t, serveOptions{appOptions: appOptions{dataDir: t.TempDir()}, addr: "127.0.0.1:0"})
		assert.Regexp(t, `http://127\.0\.0\.1:\d+/mcp`, out)
		assert.Contains(t, out, "capd tenants create")
		assert.Contains(t, out, "capd keys create --tenant")
	})
	t.Run("Demo", func(t *testing.T) {
		o := serveOptions{appOptions: appOptions{dataDir: t.TempDir()}, addr: "127.0.0.1:0", demo: true}
		first := serveOnce(t, o)
		keys := map[string]string{}
		for _, slug := range demo.Tenants {
			m := regexp.MustCompile(regexp.QuoteMeta(slug) + `\s+(capd_\S+)`).FindStringSubmatch(first)
			require.NotNil(t, m, "a key for %s in:\n%s", slug, first)
			keys[slug] = m[1]
		}
		assert.Contains(t, first, `"mcpServers"`)
		assert.Contains(t, first, "Authorization: Bearer "+keys[demo.Tenants[0]])

		second := serveOnce(t, o)
		for slug, key := range keys {
			assert.Contains(t, second, key, "the same key for %s on restart", slug)
		}

		// The printed keys work, and each sees its own tenant's demo data.
		f := &fixture{data: o.dataDir}
		url := startServer(t, f)
		for slug, key := range keys {
			c := connectHTTP(t, url, key)
			_, out := call(t, c, "projects.list_tasks", map[string]any{"limit": 100})
			assert.NotEmpty(t, out["items"], slug)
			_, staff := call(t, c, "projects.list_staff", map[string]any{})
			assert.GreaterOrEqual(t, len(staff["items"].([]any)), 4, slug)
		}
	})
}
