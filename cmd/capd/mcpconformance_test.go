package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// conformanceSuite is the official MCP conformance suite's CLI.
const conformanceSuite = "@modelcontextprotocol/conformance/dist/index.js"

// baselineFile lists the server scenarios capd is expected to fail, with a
// reason each; baselineName is how messages name it.
var (
	baselineFile = filepath.Join(mcpToolsDir, "expected-failures.yml")
	baselineName = "e2e/conformance/expected-failures.yml"
)

// requiredScenarios must pass whatever the baseline says.
var requiredScenarios = []string{"server-initialize", "ping", "tools-list", "logging-set-level", "dns-rebinding-protection"}

// TestOfficialMCPConformance runs every server scenario of the official
// MCP conformance suite against a real capd server over streamable HTTP,
// and compares the outcome with the expected-failures baseline. The suite
// cannot send headers, so it talks to capd through a loopback proxy that
// adds the bearer key and nothing else. The suite reads no tenant data: it
// initializes, pings, lists tools, sets a log level and calls tools that
// capd does not have.
func TestOfficialMCPConformance(t *testing.T) {
	node, suite := mcpTool(t, conformanceSuite)
	baseline, err := readBaseline(baselineFile)
	require.NoError(t, err)
	env := mcpToolsEnv(t, node)

	scenarios := listServerScenarios(t, node, suite, env)
	require.Subset(t, scenarios, requiredScenarios, "the suite no longer has a scenario capd must pass")

	url := conformanceTarget(t)

	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, suite, "server", "--url", url, "--suite", "all",
		"--expected-failures", baselineFile, "--output-dir", out)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	output, runErr := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("the conformance suite timed out after %s:\n%s", time.Since(start).Round(time.Millisecond), output)
	}
	results, err := readScenarioResults(out)
	require.NoError(t, err, "%s", output)

	problems := baselineProblems(scenarios, results, baseline, requiredScenarios)
	for _, p := range problems {
		t.Error(p)
	}
	if len(problems) > 0 {
		t.Logf("conformance suite output:\n%s", output)
		return
	}
	// The suite applies the same baseline itself; its exit status must
	// agree, or it failed in a way the results do not show.
	require.NoError(t, runErr, "the suite failed although its results match the baseline:\n%s", output)

	var passed, vacuous []string
	for _, s := range scenarios {
		if !results[s].failed {
			passed = append(passed, s)
		}
		if results[s].checks == 0 {
			vacuous = append(vacuous, s)
		}
	}
	t.Logf("%d server scenarios in %s: %d passed (%s), %d expected failures",
		len(scenarios), time.Since(start).Round(time.Millisecond), len(passed), strings.Join(passed, ", "), len(baseline))
	if len(vacuous) > 0 {
		t.Logf("passed without a check (the suite found them not applicable to capd): %s", strings.Join(vacuous, ", "))
	}
}

// conformanceTarget starts the server under test, fronted by the
// authenticating proxy, and returns the URL for the suite. With
// CAPD_TEST_MCP_URL and CAPD_TEST_MCP_KEY set it fronts that server
// instead, to check one that is already running.
func conformanceTarget(t *testing.T) string {
	t.Helper()
	if url := os.Getenv("CAPD_TEST_MCP_URL"); url != "" {
		key := os.Getenv("CAPD_TEST_MCP_KEY")
		if key == "" {
			t.Fatalf("CAPD_TEST_MCP_URL is set but CAPD_TEST_MCP_KEY is not: set it to an API key of that server (the proxy sends it as the bearer key)")
		}
		t.Logf("checking the server at %s", url)
		return authProxy(t, url, key)
	}
	f := newFixture(t)
	return authProxy(t, startServer(t, f), f.fullA)
}

// readBaseline reads the expected-failures file: the suite's own format
// (`server:` and a list of scenario names), where capd also requires each
// name's reason as a comment on its line.
func readBaseline(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseBaseline(raw)
}

func parseBaseline(raw []byte) (map[string]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", baselineName, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: want a mapping with a `server:` list of scenario names", baselineName)
	}
	root := doc.Content[0]
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		key := root.Content[i].Value
		if key != "server" {
			return nil, fmt.Errorf("%s:%d: unexpected key %q: capd runs the server scenarios only, listed under `server:`", baselineName, root.Content[i].Line, key)
		}
		list = root.Content[i+1]
	}
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: want a `server:` list of scenario names", baselineName)
	}
	out := map[string]string{}
	for _, item := range list.Content {
		if item.Kind != yaml.ScalarNode || item.Value == "" {
			return nil, fmt.Errorf("%s:%d: want a scenario name", baselineName, item.Line)
		}
		reason := strings.TrimSpace(strings.TrimPrefix(item.LineComment, "#"))
		if reason == "" {
			return nil, fmt.Errorf("%s:%d: %s has no reason: add why capd fails it as a comment on the same line (`- %s  # needs the suite's fixture tool ...`)", baselineName, item.Line, item.Value, item.Value)
		}
		if _, dup := out[item.Value]; dup {
			return nil, fmt.Errorf("%s:%d: %s is listed twice", baselineName, item.Line, item.Value)
		}
		out[item.Value] = reason
	}
	return out, nil
}

// listServerScenarios asks the suite for every server scenario it has.
func listServerScenarios(t *testing.T, node, suite string, env []string) []string {
	t.Helper()
	cmd := exec.Command(node, suite, "list", "--server")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "conformance list --server:\n%s", out)
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "- "); ok {
			name, _, _ = strings.Cut(name, " ")
			names = append(names, name)
		}
	}
	require.NotEmpty(t, names, "conformance list --server named no scenarios:\n%s", out)
	return names
}

// scenarioResult is one scenario's outcome as the suite judges it: failed
// when any check is a FAILURE or a WARNING.
type scenarioResult struct {
	failed bool
	checks int      // checks other than INFO
	errors []string // the failing checks' messages
}

// resultDirRE matches the directory the suite writes a server scenario's
// checks.json into: server-<scenario>-<timestamp>.
var resultDirRE = regexp.MustCompile(`^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$`)

func readScenarioResults(dir string) (map[string]scenarioResult, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	results := map[string]scenarioResult{}
	for _, e := range entries {
		m := resultDirRE.FindStringSubmatch(e.Name())
		if !e.IsDir() || m == nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name(), "checks.json"))
		if err != nil {
			return nil, err
		}
		var checks []struct {
			ID           string `json:"id"`
			Status       string `json:"status"`
			ErrorMessage string `json:"errorMessage"`
		}
		if err := json.Unmarshal(raw, &checks); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		var r scenarioResult
		for _, c := range checks {
			if c.Status == "INFO" {
				continue
			}
			r.checks++
			if c.Status == "FAILURE" || c.Status == "WARNING" {
				r.failed = true
				r.errors = append(r.errors, c.Status+" "+c.ID+": "+c.ErrorMessage)
			}
		}
		results[m[1]] = r
	}
	return results, nil
}

// baselineProblems compares the suite's results with the baseline and
// says, for each difference, which scenario and what to do.
func baselineProblems(scenarios []string, results map[string]scenarioResult, baseline map[string]string, required []string) []string {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(baseline)) {
		switch {
		case slices.Contains(required, name):
			problems = append(problems, fmt.Sprintf("%s lists %s, which capd must pass: remove its line and fix capd", baselineName, name))
		case !slices.Contains(scenarios, name):
			problems = append(problems, fmt.Sprintf("%s lists %s, which this version of the conformance suite does not have: remove its line", baselineName, name))
		}
	}
	for _, name := range scenarios {
		r, ran := results[name]
		_, expected := baseline[name]
		switch {
		case !ran:
			problems = append(problems, fmt.Sprintf("scenario %s did not run: the suite wrote no results for it", name))
		case r.failed && slices.Contains(required, name):
			problems = append(problems, fmt.Sprintf("scenario %s failed (%s): capd must pass it, fix capd", name, strings.Join(r.errors, "; ")))
		case r.failed && !expected:
			problems = append(problems, fmt.Sprintf("scenario %s newly fails (%s): fix capd; or, if it fails only because it needs the suite's own fixture tools, resources or prompts, add `  - %s  # <reason>` to %s", name, strings.Join(r.errors, "; "), name, baselineName))
		case !r.failed && expected:
			problems = append(problems, fmt.Sprintf("scenario %s now passes but %s lists it as an expected failure: remove its line", name, baselineName))
		}
	}
	return problems
}

// TestMCPConformanceBaseline covers how the baseline is read and compared,
// with made-up results: each kind of difference is reported with the
// scenario and what to do.
func TestMCPConformanceBaseline(t *testing.T) {
	t.Run("ParseOK", func(t *testing.T) {
		b, err := parseBaseline([]byte("server:\n  - tools-call-image  # calls the suite's fixture tool\n"))
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"tools-call-image": "calls the suite's fixture tool"}, b)
	})
	t.Run("ParseRepositoryFile", func(t *testing.T) {
		b, err := readBaseline(baselineFile)
		require.NoError(t, err)
		assert.NotEmpty(t, b)
	})
	for name, tc := range map[string]struct{ yaml, want string }{
		"ErrNoReason":  {"server:\n  - tools-call-image\n", "tools-call-image has no reason"},
		"ErrTwice":     {"server:\n  - ping  # a\n  - ping  # b\n", "ping is listed twice"},
		"ErrClientKey": {"client:\n  - sse-retry  # a\n", `unexpected key "client"`},
		"ErrNotAList":  {"server: ping\n", "want a `server:` list"},
		"ErrEmpty":     {"", "want a mapping"},
	} {
		t.Run("Parse"+name, func(t *testing.T) {
			_, err := parseBaseline([]byte(tc.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), baselineName)
		})
	}

	scenarios := []string{"ping", "tools-call-image", "prompts-list"}
	required := []string{"ping"}
	fail := scenarioResult{failed: true, checks: 1, errors: []string{"FAILURE x: tool not found"}}
	pass := scenarioResult{checks: 1}
	for name, tc := range map[string]struct {
		results  map[string]scenarioResult
		baseline map[string]string
		want     []string // one substring per expected problem, in order
	}{
		"OK": {
			results:  map[string]scenarioResult{"ping": pass, "tools-call-image": fail, "prompts-list": fail},
			baseline: map[string]string{"tools-call-image": "r", "prompts-list": "r"},
		},
		"ErrNewFailure": {
			results:  map[string]scenarioResult{"ping": pass, "tools-call-image": fail, "prompts-list": fail},
			baseline: map[string]string{"tools-call-image": "r"},
			want:     []string{"scenario prompts-list newly fails (FAILURE x: tool not found): fix capd; or"},
		},
		"ErrStaleEntry": {
			results:  map[string]scenarioResult{"ping": pass, "tools-call-image": pass, "prompts-list": fail},
			baseline: map[string]string{"tools-call-image": "r", "prompts-list": "r"},
			want:     []string{"scenario tools-call-image now passes but " + baselineName + " lists it as an expected failure: remove its line"},
		},
		"ErrRequiredFails": {
			results:  map[string]scenarioResult{"ping": fail, "tools-call-image": fail, "prompts-list": fail},
			baseline: map[string]string{"tools-call-image": "r", "prompts-list": "r"},
			want:     []string{"scenario ping failed (FAILURE x: tool not found): capd must pass it, fix capd"},
		},
		"ErrRequiredInBaseline": {
			results:  map[string]scenarioResult{"ping": fail, "tools-call-image": fail, "prompts-list": fail},
			baseline: map[string]string{"ping": "r", "tools-call-image": "r", "prompts-list": "r"},
			want:     []string{"lists ping, which capd must pass", "scenario ping failed"},
		},
		"ErrUnknownEntry": {
			results:  map[string]scenarioResult{"ping": pass, "tools-call-image": fail, "prompts-list": fail},
			baseline: map[string]string{"tools-call-image": "r", "prompts-list": "r", "tools-call-gone": "r"},
			want:     []string{"lists tools-call-gone, which this version of the conformance suite does not have"},
		},
		"ErrDidNotRun": {
			results:  map[string]scenarioResult{"ping": pass, "tools-call-image": fail},
			baseline: map[string]string{"tools-call-image": "r", "prompts-list": "r"},
			want:     []string{"scenario prompts-list did not run"},
		},
	} {
		t.Run("Compare"+name, func(t *testing.T) {
			got := baselineProblems(scenarios, tc.results, tc.baseline, required)
			require.Len(t, got, len(tc.want), "%q", got)
			for i, w := range tc.want {
				assert.Contains(t, got[i], w)
			}
		})
	}
}
