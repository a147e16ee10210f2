package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hardenRequest sends one request to the server at base and returns the
// status, the body and how long the answer took.
func hardenRequest(t *testing.T, method, url, body string, headers map[string]string) (int, []byte, time.Duration) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, raw, time.Since(start)
}

// TestHTTPHardening covers what the server refuses before any capability
// runs, and the limits of its HTTP server.
func TestHTTPHardening(t *testing.T) {
	f := newFixture(t)
	mcpURL := startServer(t, f, func(o *serveOptions) { o.readHeaderTimeout, o.readTimeout = time.Second, 2*time.Second })
	base := strings.TrimSuffix(mcpURL, "/mcp")
	jsonHeaders := func(key string) map[string]string {
		h := map[string]string{"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
		if key != "" {
			h["Authorization"] = "Bearer " + key
		}
		return h
	}
	toolURL := base + "/api/v1/tools/projects.create_project"

	t.Run("ErrForeignOriginWithGoodHost", func(t *testing.T) {
		// The Host is the server's own address (what a DNS-rebinding page
		// cannot fake is the Origin); the Origin is foreign: 403 wherever
		// a key is taken.
		for _, url := range []string{mcpURL, toolURL} {
			h := jsonHeaders(f.fullA)
			h["Origin"] = "https://evil.example"
			status, body, _ := hardenRequest(t, http.MethodPost, url, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, h)
			require.Equal(t, http.StatusForbidden, status, "%s: %s", url, body)
			assert.Contains(t, string(body), `"forbidden"`)
		}
	})

	t.Run("ErrKeyInQueryString", func(t *testing.T) {
		before := dumpTenant(t, f.data, f.tenantA)
		for _, param := range []string{"api_key", "key", "access_token", "token", "API_KEY"} {
			for _, target := range []struct{ method, url, body string }{
				{http.MethodPost, toolURL, `{"name":"From the query string ` + param + `"}`},
				{http.MethodPost, mcpURL, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"projects.create_project","arguments":{"name":"MCP query ` + param + `"}}}`},
				{http.MethodGet, base + "/api/v1/capabilities", ""},
			} {
				url := target.url + "?" + param + "=" + f.fullA
				for _, header := range []string{"", f.fullA} {
					status, body, _ := hardenRequest(t, target.method, url, target.body, jsonHeaders(header))
					require.Equal(t, http.StatusBadRequest, status, "%s %s (bearer header: %t): %s", target.method, url, header != "", body)
					var env map[string]any
					require.NoError(t, json.Unmarshal(body, &env))
					assert.Equal(t, "bad_request", env["type"])
					assert.Contains(t, env["detail"], "Authorization header")
					assert.NotContains(t, string(body), f.fullA, "the key is not echoed back")
				}
			}
		}
		assert.Equal(t, before, dumpTenant(t, f.data, f.tenantA), "a key in the query string authenticated a write")
		// Other query parameters still work.
		status, body, _ := hardenRequest(t, http.MethodGet, base+"/api/v1/capabilities?q=task", "", jsonHeaders(f.fullA))
		assert.Equal(t, http.StatusOK, status, "%s", body)
	})

	t.Run("ErrDeeplyNestedJSON", func(t *testing.T) {
		deep := strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat(`}`, 10000)
		deepArray := strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000)
		for _, c := range []struct{ name, url, body string }{
			{"ToolAPIObject", toolURL, deep},
			{"ToolAPIArray", toolURL, deepArray},
			{"MCPBody", mcpURL, deepArray},
			{"MCPArguments", mcpURL, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"projects.create_project","arguments":` + deep + `}}`},
			{"MCPShallowEnoughForGo", mcpURL, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"projects.create_project","arguments":` +
				strings.Repeat(`{"a":`, 9990) + `1` + strings.Repeat(`}`, 9990) + `}}`},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, body, took := hardenRequest(t, http.MethodPost, c.url, c.body, jsonHeaders(f.fullA))
				assert.Less(t, took, time.Second, "took %s", took)
				assert.Less(t, status, 500, "%s", body)
				if status == http.StatusOK {
					// Only MCP answers 200 to a rejection: a tool result
					// with isError.
					assert.Contains(t, string(body), `"isError":true`, "%s", body)
				} else {
					assert.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, status, "%s", body)
				}
			})
		}
		status, _, _ := hardenRequest(t, http.MethodGet, base+"/healthz", "", nil)
		assert.Equal(t, http.StatusOK, status, "the server still answers")
	})

	t.Run("ErrHeadersTooLarge", func(t *testing.T) {
		h := jsonHeaders(f.fullA)
		h["X-Padding"] = strings.Repeat("p", 100<<10)
		status, _, _ := hardenRequest(t, http.MethodPost, mcpURL, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, h)
		assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, status)
		h["X-Padding"] = strings.Repeat("p", 32<<10)
		status, body, _ := hardenRequest(t, http.MethodPost, mcpURL, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, h)
		assert.Equal(t, http.StatusOK, status, "32 KiB of headers are fine: %s", body)
	})

	t.Run("ErrSlowHeaders", func(t *testing.T) {
		// A client that sends its headers a byte a second is cut off once
		// the header timeout (1 s here, 10 s by default) has passed.
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		require.NoError(t, err)
		defer conn.Close()
		start := time.Now()
		request := "GET /healthz HTTP/1.1\r\nHost: " + strings.TrimPrefix(base, "http://") + "\r\nX-Slow: " + strings.Repeat("s", 30) + "\r\n\r\n"
		stop := make(chan struct{})
		defer close(stop)
		sent := make(chan int, 1)
		go func() {
			n := 0
			defer func() { sent <- n }()
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for i := 0; i < len(request); i++ {
				if _, err := conn.Write([]byte{request[i]}); err != nil {
					return
				}
				n++
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		answer, err := io.ReadAll(bufio.NewReader(conn))
		took := time.Since(start)
		var ne net.Error
		require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server kept the connection open for %s", took)
		assert.Less(t, took, 3*time.Second, "disconnected only after %s", took)
		assert.NotContains(t, string(answer), "200 OK")
		conn.Close()
		assert.Less(t, <-sent, len(request), "the whole request got through")
	})

	t.Run("OKLongSSEStream", func(t *testing.T) {
		// The standalone GET stream of streamable HTTP stays open past
		// every server timeout (the read timeout is 2 s here; there is no
		// write timeout, and the guard sets no write deadline on it).
		req, err := http.NewRequest(http.MethodGet, mcpURL, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+f.fullA)
		req.Header.Set("Accept", "text/event-stream")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		done := make(chan error, 1)
		go func() {
			_, err := io.Copy(io.Discard, res.Body)
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("the stream ended after less than 4 s: %v", err)
		case <-time.After(4 * time.Second):
		}
	})
}
