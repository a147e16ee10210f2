package mcpserver_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/capabilities"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/providers/projectkit"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/schemas"
)

// loadInvoker returns an invoker over the embedded capabilities. It has no
// store: the tests that use it list tools and exchange protocol messages,
// they call no capability.
func loadInvoker(t *testing.T) *invoke.Invoker {
	t.Helper()
	reg, err := registry.Load(capabilities.FS, schemas.FS)
	require.NoError(t, err)
	require.NoError(t, reg.Bind(projectkit.New()))
	return &invoke.Invoker{Registry: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// serveWithKeys serves h over real HTTP on loopback. It stands in for
// capd's guard: a bearer token names one of principals, which goes into the
// request context; any other token is refused.
func serveWithKeys(t *testing.T, h http.Handler, principals map[string]capability.Principal) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := principals[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if !ok {
			http.Error(w, "unknown key", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r.WithContext(capability.WithPrincipal(r.Context(), p)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// connectSession opens an mcp-go client session with key over streamable
// HTTP. It negotiates 2025-11-25, the last protocol version with sessions
// (the one the official conformance suite and most clients speak); from
// 2026-07-28 on, requests carry their own state and have no session.
func connectSession(t *testing.T, url, key string) *client.Client {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + key}))
	require.NoError(t, err)
	return initializeSession(t, c)
}

// initializeSession starts c and runs the initialize handshake at
// 2025-11-25.
func initializeSession(t *testing.T, c *client.Client) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Start(ctx))
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = mcp.LATEST_LEGACY_PROTOCOL_VERSION
	req.Params.ClientInfo = mcp.Implementation{Name: "capd-mcpserver-test", Version: "1"}
	_, err := c.Initialize(ctx, req)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}
