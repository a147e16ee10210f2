package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/mcpserver"
)

// TestREADMEClientSetups runs every client set-up the README shows, as
// written there: Claude Code's own CLI adds capd and checks the connection;
// each JSON configuration (Claude Desktop, Cursor, VS Code) is started the
// way its client starts it — the command, arguments and environment, or the
// URL and headers it names — with a real MCP client; the TypeScript example
// runs under Node with the official SDK. Only the placeholders change: the
// URL, key, binary and data directory.
func TestREADMEClientSetups(t *testing.T) {
	blocks := readmeClientBlocks(t)
	for _, name := range []string{"claude-code", "claude-desktop", "cursor", "vscode", "typescript"} {
		require.NotEmpty(t, blocks[name], "README has no <!-- client-test: %s --> block", name)
	}
	clientsDir, err := filepath.Abs(filepath.Join("..", "..", "e2e", "clients"))
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(clientsDir, "node_modules", ".bin", "claude")); err != nil {
		t.Fatalf("Claude Code and mcp-remote are not installed in %s: run `make client-deps` (make test does): %v", clientsDir, err)
	}

	f := newFixture(t)
	dotted := startServer(t, f)
	fill := func(text, url string) string {
		return strings.NewReplacer(
			"http://127.0.0.1:8080/mcp", url,
			"capd_...", f.fullA,
			"${input:capd-key}", f.fullA, // what VS Code asks the user for
			"/abs/path/bin/capd", capdBinary,
			"/abs/path/capd-data", f.data,
		).Replace(text)
	}
	// Tenant B's projects must never show through tenant A's key.
	_, outB := call(t, connectHTTP(t, dotted, f.fullB), "projects.list_projects", map[string]any{"limit": 100})
	projectsB := projectIDs(outB)
	require.NotEmpty(t, projectsB)

	check := func(t *testing.T, c *client.Client, names mcpserver.ToolNames) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err := c.ListTools(ctx, mcp.ListToolsRequest{})
		require.NoError(t, err)
		var got []string
		for _, tool := range res.Tools {
			got = append(got, tool.Name)
			if names == mcpserver.UnderscoreNames {
				assert.Regexp(t, `^[a-zA-Z0-9_-]{1,64}$`, tool.Name, "the tool-name rule of the clients that need underscore names")
			}
		}
		want := toolNames(t, "")
		for i := range want {
			want[i] = names.Tool(want[i])
		}
		assert.Equal(t, want, got)
		req := mcp.CallToolRequest{}
		req.Params.Name = names.Tool("projects.list_projects")
		req.Params.Arguments = map[string]any{"limit": 100}
		out, err := c.CallTool(ctx, req)
		require.NoError(t, err)
		require.False(t, out.IsError, "%v", out.Content)
		ids := projectIDs(payload(t, out))
		assert.Contains(t, ids, f.projectA)
		for _, id := range projectsB {
			assert.NotContains(t, ids, id, "tenant B's project through tenant A's key")
		}
	}

	t.Run("ClaudeCode", func(t *testing.T) {
		home := t.TempDir()
		run := func(args []string) string {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(clientsDir, "node_modules", ".bin", "claude"), args...)
			cmd.Dir = home
			cmd.Env = append(environWithout("HOME", "CAPD_API_KEY"), "HOME="+home,
				"DISABLE_AUTOUPDATER=1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1", "DISABLE_TELEMETRY=1")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "claude %s:\n%s", strings.Join(args, " "), out)
			return string(out)
		}
		var added []string
		listed := ""
		for _, line := range shellCommands(fill(blocks["claude-code"][0], dotted)) {
			words := shellWords(t, line)
			require.Equal(t, "claude", words[0], line)
			out := run(words[1:])
			if len(words) > 3 && words[1] == "mcp" && words[2] == "add" {
				added = append(added, serverName(words[3:]))
			}
			if len(words) > 2 && words[1] == "mcp" && words[2] == "list" {
				listed = out
			}
		}
		require.Equal(t, []string{"capd", "capd-local"}, added)
		require.NotEmpty(t, listed, "the block ends with claude mcp list")
		for _, name := range added {
			assert.Regexp(t, `(?m)^`+regexp.QuoteMeta(name)+`: .*✔ Connected`, listed)
		}
	})

	for _, tc := range []struct{ test, block string }{{"ClaudeDesktop", "claude-desktop"}, {"Cursor", "cursor"}, {"VSCode", "vscode"}} {
		t.Run(tc.test, func(t *testing.T) {
			var cfg struct {
				MCPServers map[string]clientServerConfig `json:"mcpServers"` // Claude Desktop, Cursor
				Servers    map[string]clientServerConfig `json:"servers"`    // VS Code
			}
			require.NoError(t, json.Unmarshal([]byte(fill(blocks[tc.block][0], dotted)), &cfg))
			servers := cfg.MCPServers
			if servers == nil {
				servers = cfg.Servers
			}
			require.Len(t, servers, 2)
			for name, s := range servers {
				t.Run(name, func(t *testing.T) {
					// Underscored by a capd stdio flag, or by the URL
					// (mcp-remote's argument, or the entry's).
					names := mcpserver.DottedNames
					if all := s.URL + " " + strings.Join(s.Args, " "); strings.Contains(all, "--tool-names underscore") || strings.Contains(all, "?tool_names=underscore") {
						names = mcpserver.UnderscoreNames
					}
					if tc.block == "claude-desktop" {
						require.Equal(t, mcpserver.UnderscoreNames, names, "Claude Desktop rejects dotted tool names")
					}
					check(t, s.connect(t, clientsDir), names)
				})
			}
		})
	}

	t.Run("TypeScript", func(t *testing.T) {
		tsDir, err := filepath.Abs(filepath.Join("..", "..", "e2e", "ts"))
		require.NoError(t, err)
		// Beside the SDK's node_modules, so its imports resolve.
		file, err := os.CreateTemp(tsDir, "readme-example-*.mjs")
		require.NoError(t, err)
		script := file.Name()
		t.Cleanup(func() { os.Remove(script) })
		_, err = file.WriteString(fill(blocks["typescript"][0], dotted))
		require.NoError(t, errors.Join(err, file.Close()))
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "node", script)
		cmd.Dir = tsDir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		assert.Equal(t, toolNames(t, ""), lines[:len(lines)-1], "one tool name per line")
		var result map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &result), "%s", out)
		ids := projectIDs(result)
		assert.Contains(t, ids, f.projectA)
		for _, id := range projectsB {
			assert.NotContains(t, ids, id, "tenant B's project through tenant A's key")
		}
	})
}

// clientServerConfig is one server entry of an MCP client's JSON
// configuration, in the fields Claude Desktop, Cursor and VS Code share.
type clientServerConfig struct {
	Type    string            `json:"type"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Command string            `json:"command"`
	Args    []string          `json:"args"`
	Env     map[string]string `json:"env"`
}

// connect does what a client does with the entry: start the command with
// its arguments and environment (npx resolving packages from clientsDir, as
// if installed), or open the URL with its headers.
func (s clientServerConfig) connect(t *testing.T, clientsDir string) *client.Client {
	t.Helper()
	if s.URL != "" {
		require.Contains(t, []string{"", "http"}, s.Type)
		c, err := client.NewStreamableHttpClient(s.URL, transport.WithHTTPHeaders(s.Headers))
		require.NoError(t, err)
		require.NoError(t, c.Start(context.Background()))
		initialize(t, c)
		return c
	}
	require.Contains(t, []string{"", "stdio"}, s.Type)
	env := environWithout("CAPD_API_KEY")
	for k, v := range s.Env {
		env = append(env, k+"="+v)
	}
	c, err := client.NewStdioMCPClientWithOptions(s.Command, env, s.Args,
		transport.WithCommandFunc(func(ctx context.Context, command string, env, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Env, cmd.Dir = env, clientsDir
			return cmd, nil
		}))
	require.NoError(t, err)
	initialize(t, c)
	return c
}

// readmeClientBlocks returns the fenced blocks that follow a
// <!-- client-test: NAME --> line in the README, by NAME.
func readmeClientBlocks(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	blocks := map[string][]string{}
	marker := regexp.MustCompile(`^<!-- client-test: ([a-z-]+) -->$`)
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	name, in := "", false
	var body strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case in && strings.HasPrefix(line, "```"):
			blocks[name] = append(blocks[name], body.String())
			name, in = "", false
			body.Reset()
		case in:
			body.WriteString(line + "\n")
		case name != "" && strings.HasPrefix(line, "```"):
			in = true
		case marker.MatchString(line):
			name = marker.FindStringSubmatch(line)[1]
		}
	}
	return blocks
}

// shellCommands joins backslash-continued lines and drops comments and
// blank lines.
func shellCommands(script string) []string {
	var cmds []string
	var cur strings.Builder
	for _, line := range strings.Split(script, "\n") {
		if i := strings.Index(line, "  #"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		if s := strings.TrimSpace(cur.String()); s != "" {
			cmds = append(cmds, s)
		}
		cur.Reset()
	}
	return cmds
}

// shellWords splits a command line at spaces outside double quotes, as sh
// does for the README's commands (no variables, no escapes inside quotes).
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	quoted, inWord := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	require.False(t, quoted, "unbalanced quote in %q", line)
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// serverName is the first argument of `claude mcp add` that is not an
// option or an option's value.
func serverName(args []string) string {
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "--transport" || args[i] == "--header" || args[i] == "--env" || args[i] == "-e" || args[i] == "-H" || args[i] == "-t":
			i++
		case strings.HasPrefix(args[i], "-"):
		default:
			return args[i]
		}
	}
	return ""
}

// projectIDs are the project_id of each item of a list_projects answer.
func projectIDs(out map[string]any) []string {
	var ids []string
	items, _ := out["items"].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			if id, ok := m["project_id"].(string); ok {
				ids = append(ids, id)
			}
		}
	}
	return ids
}
