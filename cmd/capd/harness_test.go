package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/demo"
	"github.com/capd-dev/capd/internal/store/pgtest"
	"github.com/capd-dev/capd/internal/store/sqlite"
)

// capdBinary is the capd binary built once for tests that run it as a
// separate process (stdio clients, the TypeScript client).
var capdBinary string

func TestMain(m *testing.M) {
	clearSettingsEnvironment()
	dir, err := os.MkdirTemp("", "capd-bin-")
	if err != nil {
		panic(err)
	}
	capdBinary = filepath.Join(dir, "capd")
	if out, err := exec.Command("go", "build", "-o", capdBinary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic("build capd: " + err.Error())
	}
	code := pgtest.Run(m) // also stops the PostgreSQL server, if a test started it
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixture is a data directory with the demo tenants and keys of each kind.
type fixture struct {
	data     string
	tenantA  string // switchback-engineering
	tenantB  string // driftline-design
	fullA    string // projects.read + projects.write on A
	readA    string // projects.read only on A
	fullB    string // all scopes on B
	projectA string // a project id in A
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{data: t.TempDir(), tenantA: demo.Tenants[0], tenantB: demo.Tenants[1]}
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: f.data})
	require.NoError(t, err)
	defer db.Close()
	_, err = demo.Seed(ctx, db.Control(), db.Tenants(), time.Now())
	require.NoError(t, err)
	key := func(tenant string, scopes ...capability.Scope) string {
		tok, _, err := db.Control().CreateKey(ctx, tenant, scopes, time.Time{})
		require.NoError(t, err)
		return tok
	}
	f.fullA = key(f.tenantA, capability.AllScopes...)
	f.readA = key(f.tenantA, capability.ScopeProjectsRead)
	f.fullB = key(f.tenantB, capability.AllScopes...)
	store, err := db.Tenants().Tenant(ctx, f.tenantA)
	require.NoError(t, err)
	require.NoError(t, store.View(ctx, func(tx capability.Tx) error {
		ps, err := tx.FindProjects(ctx, capability.ProjectFilter{Page: capability.Page{Limit: 1}})
		if err == nil {
			f.projectA = ps[0].ID
		}
		return err
	}))
	return f
}

// startServer runs `capd serve` in-process on a random loopback port over
// f's data directory and returns the MCP URL.
func startServer(t *testing.T, f *fixture, extra ...func(*serveOptions)) string {
	t.Helper()
	url, _ := startServerLogs(t, f, extra...)
	return url
}

// startServerLogs is startServer that also returns the server's log,
// which is shown when the test fails.
func startServerLogs(t *testing.T, f *fixture, extra ...func(*serveOptions)) (string, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log (last 8 KiB):\n%s", tail(logs.String(), 8<<10))
		}
	})
	o := serveOptions{appOptions: appOptions{dataDir: f.data, maxOpenTenants: 100, logOut: logs}, addr: "127.0.0.1:0", maxBody: 1 << 20}
	for _, e := range extra {
		e(&o)
	}
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, o, &bytes.Buffer{}, func(a net.Addr) { ready <- a }) }()
	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return "http://" + addr.String() + "/mcp", logs
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// connectHTTP returns an initialized mcp-go client over streamable HTTP.
func connectHTTP(t *testing.T, url, key string) *client.Client {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + key}))
	require.NoError(t, err)
	require.NoError(t, c.Start(context.Background()))
	initialize(t, c)
	return c
}

// connectListening is connectHTTP with a stream open for the server's
// notifications, counting each tools/list_changed in changed.
func connectListening(t *testing.T, url, key string, changed *atomic.Int32) *client.Client {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url,
		transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + key}), transport.WithContinuousListening())
	require.NoError(t, err)
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == string(mcp.MethodNotificationToolsListChanged) {
			changed.Add(1)
		}
	})
	require.NoError(t, c.Start(context.Background()))
	initialize(t, c)
	return c
}

// connectStdio starts the capd binary as `capd stdio` with key in
// CAPD_API_KEY and returns an initialized mcp-go client over its pipes.
func connectStdio(t *testing.T, data, key string) *client.Client {
	t.Helper()
	env := append(environWithout("CAPD_API_KEY"), "CAPD_API_KEY="+key)
	c, err := client.NewStdioMCPClient(capdBinary, env, "stdio", "--data", data)
	require.NoError(t, err)
	initialize(t, c)
	return c
}

func initialize(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req := mcp.InitializeRequest{}
	req.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	req.Params.ClientInfo = mcp.Implementation{Name: "capd-e2e", Version: "1"}
	_, err := c.Initialize(ctx, req)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
}

// call invokes a tool and returns the result and its decoded JSON payload
// (structured content when present, else the last text block).
func call(t *testing.T, c *client.Client, name string, args map[string]any) (*mcp.CallToolResult, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	require.NoError(t, err, "tools/call %s", name)
	return res, payload(t, res)
}

func payload(t *testing.T, res *mcp.CallToolResult) map[string]any {
	t.Helper()
	var raw []byte
	if res.StructuredContent != nil {
		raw, _ = json.Marshal(res.StructuredContent)
	} else {
		require.NotEmpty(t, res.Content)
		text, ok := res.Content[len(res.Content)-1].(mcp.TextContent)
		require.True(t, ok, "last content block is not text")
		raw = []byte(text.Text)
	}
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), "payload is not a JSON object: %s", raw)
	return out
}

// issuePaths returns the paths named by a rejection's issues.
func issuePaths(out map[string]any) []string {
	var paths []string
	issues, _ := out["issues"].([]any)
	for _, is := range issues {
		if m, ok := is.(map[string]any); ok {
			paths = append(paths, m["path"].(string))
		}
	}
	return paths
}

// runCLI runs capd with args in-process and returns its stdout.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd(&out, &errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return strings.TrimSpace(out.String()), nil
}

// toolNames lists the tools a key with scope sees ("" for every scope), in
// tools/list order, from the same registry the server loads.
func toolNames(t *testing.T, scope capability.Scope) []string {
	t.Helper()
	reg, err := loadRegistry()
	require.NoError(t, err)
	var names []string
	for _, name := range reg.Names() {
		v := reg.Latest(name)
		if v != nil && (scope == "" || v.Manifest.Scope == scope) {
			names = append(names, name)
		}
	}
	return names
}

// latestVersion is the version a bare name resolves to.
func latestVersion(t *testing.T, name string) string {
	t.Helper()
	reg, err := loadRegistry()
	require.NoError(t, err)
	return reg.Latest(name).Manifest.Version
}
