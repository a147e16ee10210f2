package mcpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/mcpserver"
)

// addLevelProbe adds a tool that answers with the log level mcp-go holds
// for the calling session, the level any log notification to it would be
// filtered by. (The probe reads the level instead of sending notifications
// at each level: mcp-go v1.2.1 can drop a notification a tool sends over
// streamable HTTP, mark3labs/mcp-go#969.)
func addLevelProbe(srv *mcpserver.Server) {
	srv.MCP().AddTool(mcp.NewTool("test_level_probe"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		s, ok := server.ClientSessionFromContext(ctx).(server.SessionWithLogging)
		if !ok {
			return mcp.NewToolResultError("the session keeps no log level"), nil
		}
		return mcp.NewToolResultText(string(s.GetLogLevel())), nil
	})
}

// levelOf returns the log level of c's session, through the probe.
func levelOf(t *testing.T, c *client.Client) string {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = "test_level_probe"
	res, err := c.CallTool(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, res.Content, 1)
	text := res.Content[0].(mcp.TextContent).Text
	require.False(t, res.IsError, text)
	return text
}

func setLevel(c *client.Client, level mcp.LoggingLevel) error {
	req := mcp.SetLevelRequest{}
	req.Params.Level = level
	return c.SetLevel(context.Background(), req)
}

// TestLogging covers capd's MCP logging capability: a client sets the
// level of its own session, which never changes another session's, of the
// same tenant or another.
func TestLogging(t *testing.T) {
	srv := mcpserver.New(loadInvoker(t), "test", mcpserver.DottedNames)
	addLevelProbe(srv)
	url := serveWithKeys(t, srv.HTTPHandler(), map[string]capability.Principal{
		"key-a": {Tenant: "tenant-a", KeyPrefix: "capd_a", Scopes: capability.AllScopes},
		"key-b": {Tenant: "tenant-b", KeyPrefix: "capd_b", Scopes: capability.AllScopes},
	})

	t.Run("OKCapabilityDeclared", func(t *testing.T) {
		c := connectSession(t, url, "key-a")
		assert.NotNil(t, c.GetServerCapabilities().Logging)
	})

	t.Run("OKLevelPerSession", func(t *testing.T) {
		a, b, a2 := connectSession(t, url, "key-a"), connectSession(t, url, "key-b"), connectSession(t, url, "key-a")
		before := levelOf(t, a2)
		require.NoError(t, setLevel(a, mcp.LoggingLevelWarning))
		require.NoError(t, setLevel(b, mcp.LoggingLevelDebug))

		assert.Equal(t, "warning", levelOf(t, a))
		assert.Equal(t, "debug", levelOf(t, b), "tenant B's session keeps its own level")
		assert.Equal(t, before, levelOf(t, a2), "another session of the same key keeps its own level")

		require.NoError(t, setLevel(a, mcp.LoggingLevelCritical))
		assert.Equal(t, "critical", levelOf(t, a), "a later setLevel replaces the level")
		assert.Equal(t, "debug", levelOf(t, b), "tenant B unchanged")
	})

	t.Run("ErrUnknownLevel", func(t *testing.T) {
		c := connectSession(t, url, "key-a")
		err := setLevel(c, "verbose")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "invalid logging level")
	})

	t.Run("ErrNoSession", func(t *testing.T) {
		// A request without Mcp-Session-Id is served (a one-off call needs
		// no handshake), but it has no level of its own to set.
		body := `{"jsonrpc":"2.0","id":7,"method":"logging/setLevel","params":{"level":"debug"}}`
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer key-a")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		var answer struct {
			Error *struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal(raw, &answer), "%s", raw)
		require.NotNil(t, answer.Error, "%s", raw)
		assert.Equal(t, mcp.INVALID_REQUEST, answer.Error.Code)
		assert.Contains(t, answer.Error.Message, "Mcp-Session-Id")
	})

	t.Run("OKStdio", func(t *testing.T) {
		serverIn, clientOut := io.Pipe()
		clientIn, serverOut := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		p := capability.Principal{Tenant: "tenant-a", KeyPrefix: "capd_a", Scopes: capability.AllScopes}
		go func() {
			done <- srv.ServeStdio(ctx, func(context.Context) (capability.Principal, error) { return p, nil }, serverIn, serverOut)
		}()
		t.Cleanup(func() {
			cancel()
			clientOut.Close()
			<-done
		})
		c := initializeSession(t, client.NewClient(transport.NewIO(clientIn, clientOut, nil)))
		require.NoError(t, setLevel(c, mcp.LoggingLevelAlert))
		assert.Equal(t, "alert", levelOf(t, c))
	})
}
