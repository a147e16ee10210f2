package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capd-dev/capd/internal/capability"
)

// tsClientDir holds the TypeScript client scenario and its npm packages.
var tsClientDir = filepath.Join("..", "..", "e2e", "ts")

// TestAgentOverTypeScriptSDK runs e2e/ts/agent.mjs, the agent scenario
// written against the official TypeScript MCP SDK client, against the real
// server over streamable HTTP. `make test` installs its npm packages.
func TestAgentOverTypeScriptSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH (%v): install Node 20+ and run `make test`, which installs the TypeScript client's npm packages", err)
	}
	if _, err := os.Stat(filepath.Join(tsClientDir, "node_modules", "@modelcontextprotocol", "sdk", "package.json")); err != nil {
		t.Fatalf("e2e/ts/node_modules is missing or incomplete (%v): run `make test`, which installs the TypeScript client's npm packages", err)
	}

	f := newFixture(t)
	url := startServer(t, f)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test-reporter=spec", "agent.mjs")
	cmd.Dir = tsClientDir
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(),
		"CAPD_URL="+url,
		"CAPD_KEY_FULL_A="+f.fullA,
		"CAPD_KEY_READ_A="+f.readA,
		"CAPD_KEY_FULL_B="+f.fullB,
		"CAPD_PROJECT_A="+f.projectA,
		"CAPD_TOOLS="+strings.Join(toolNames(t, ""), ","),
		"CAPD_READ_TOOLS="+strings.Join(toolNames(t, capability.ScopeProjectsRead), ","),
		"NO_COLOR=1",
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("node agent.mjs timed out after %s:\n%s", time.Since(start).Round(time.Millisecond), out)
	}
	if err != nil {
		t.Fatalf("node agent.mjs: %v\n%s", err, out)
	}
	t.Logf("node agent.mjs passed in %s", time.Since(start).Round(time.Millisecond))
	if testing.Verbose() {
		t.Logf("\n%s", out)
	}
}
