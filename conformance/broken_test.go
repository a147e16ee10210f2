package conformance_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/conformance"
	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/mcpserver"
	"github.com/capd-dev/capd/internal/registry"
	"github.com/capd-dev/capd/internal/store/sqlite"
)

// brokenTenant is the one tenant every broken provider serves.
const brokenTenant = "broken-org"

// brokenProvider is an MCP server that claims every contract in a registry
// and answers through capd's own invoker, except where its fault steps in.
type brokenProvider struct {
	inv    *invoke.Invoker
	caller capability.Principal
	t      *testing.T
}

// fault rewrites the real answer res to the call of ref with args. It
// returns res itself when the call is not one it breaks.
type fault func(ctx context.Context, p *brokenProvider, ref capability.Ref, args json.RawMessage, res *invoke.Result) *invoke.Result

// call makes a real call through the provider's own invoker.
func (p *brokenProvider) call(ctx context.Context, name string, args map[string]any) *invoke.Result {
	raw, err := json.Marshal(args)
	require.NoError(p.t, err)
	return p.inv.Call(ctx, p.caller, capability.Ref{Name: name}, raw)
}

// serveBroken starts, on a fresh store with one tenant, an MCP server over
// streamable HTTP that applies f (nil: none) to every answer, and returns
// the harness's remote target connected to it.
func serveBroken(t *testing.T, reg *registry.Registry, f fault) conformance.Target {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Options{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Control().CreateTenant(ctx, &capability.Tenant{Slug: brokenTenant}))
	p := &brokenProvider{
		inv:    &invoke.Invoker{Registry: reg, Tenants: db.Tenants(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		caller: capability.Principal{Tenant: brokenTenant, KeyPrefix: "broken", Scopes: capability.AllScopes},
		t:      t,
	}

	mcpSrv := server.NewMCPServer("broken", "0.0.0", server.WithToolCapabilities(true))
	for _, name := range reg.Names() {
		mcpSrv.AddTool(mcpserver.Tool(reg.Latest(name)), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			ref := capability.Ref{Name: req.Params.Name}
			if req.Params.Meta != nil {
				if v, ok := req.Params.Meta.AdditionalFields[mcpserver.MetaVersion].(string); ok {
					ref.Version = v
				}
			}
			args := req.Params.RawArguments
			if len(args) == 0 {
				var err error
				if args, err = json.Marshal(req.GetArguments()); err != nil {
					return nil, err
				}
			}
			res := p.inv.Call(ctx, p.caller, ref, args)
			if f != nil {
				res = f(ctx, p, ref, args, res)
			}
			return mcpserver.Result(res), nil
		})
	}
	httpSrv := httptest.NewServer(server.NewStreamableHTTPServer(mcpSrv,
		server.WithStreamableHTTPLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	t.Cleanup(httpSrv.Close)

	target, err := conformance.NewRemote(ctx, httpSrv.URL+"/mcp", "", "broken")
	require.NoError(t, err)
	t.Cleanup(func() { target.Close() })
	return target
}

// rejectedWith reports whether res is a rejection with code.
func rejectedWith(res *invoke.Result, code string) bool {
	return res.Err != nil && res.Err.Code == code
}

// answer returns a result with out as the whole answer: a success when out
// has ok true, otherwise a rejection carrying out's error code.
func answer(res *invoke.Result, out map[string]any) *invoke.Result {
	raw, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	next := &invoke.Result{Version: res.Version, Output: out, JSON: raw, InContract: true}
	if out["ok"] != true {
		e := *res.Err
		e.Code, _ = out["error"].(string)
		next.Err = &e
	}
	return next
}

// fakeSuccess is the answer of a provider that accepts what it should have
// rejected: a created task that does not exist.
func fakeSuccess(res *invoke.Result) *invoke.Result {
	const id = "tsk_fake0000000000000000000000000000"
	// Shaped to satisfy every create_task version's output schema, so the
	// harness must catch the lie itself, not a malformed answer.
	task := map[string]any{
		"task_id": id, "project_id": "prj_fake0000000000000000000000000000", "title": "fake", "description": "",
		"status": "todo", "priority": nil, "due_date": nil, "assignee_id": nil, "agent_vendor": nil,
		"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
		"budget_usd": nil, "category": nil, "task_type": nil, "requirements": nil, "expires_at": nil, "labels": []any{},
	}
	return answer(res, map[string]any{"ok": true, "task_id": id, "status": "todo", "task": task})
}

// decoded returns a fresh, mutable copy of the answer's JSON object.
func decoded(res *invoke.Result) map[string]any {
	var out map[string]any
	if err := json.Unmarshal(res.JSON, &out); err != nil {
		panic(err)
	}
	return out
}

var (
	acceptsUnknownProject fault = func(_ context.Context, _ *brokenProvider, ref capability.Ref, _ json.RawMessage, res *invoke.Result) *invoke.Result {
		if ref.Name == "projects.create_task" && rejectedWith(res, capability.CodeUnknownProject) {
			return fakeSuccess(res)
		}
		return res
	}

	skipsInputValidation fault = func(_ context.Context, _ *brokenProvider, ref capability.Ref, _ json.RawMessage, res *invoke.Result) *invoke.Result {
		if ref.Name == "projects.create_task" && rejectedWith(res, capability.CodeInvalidInput) {
			return fakeSuccess(res)
		}
		return res
	}

	breaksOutputSchema fault = func(_ context.Context, _ *brokenProvider, ref capability.Ref, _ json.RawMessage, res *invoke.Result) *invoke.Result {
		if ref.Name != "projects.get_task" || !res.OK() {
			return res
		}
		out := decoded(res)
		out["task"].(map[string]any)["status"] = "archived" // not a task status
		return answer(res, out)
	}

	wrongErrorCode fault = func(_ context.Context, _ *brokenProvider, ref capability.Ref, _ json.RawMessage, res *invoke.Result) *invoke.Result {
		if ref.Name != "projects.transition_task" || !rejectedWith(res, capability.CodeInvalidTransition) {
			return res
		}
		out := decoded(res)
		out["error"] = capability.CodeInvalidInput
		return answer(res, out)
	}

	// writesOnRejection validates only after writing: an input it rejects
	// as invalid_input still leaves a task behind in a project that exists.
	writesOnRejection fault = func(ctx context.Context, p *brokenProvider, ref capability.Ref, args json.RawMessage, res *invoke.Result) *invoke.Result {
		if ref.Name != "projects.create_task" || !rejectedWith(res, capability.CodeInvalidInput) {
			return res
		}
		var in map[string]any
		_ = json.Unmarshal(args, &in)
		projectID, ok := in["project_id"].(string)
		if !ok || !p.call(ctx, "projects.get_project", map[string]any{"project_id": projectID}).OK() {
			return res
		}
		leaked := p.call(ctx, "projects.create_task", map[string]any{"project_id": projectID, "title": "leaked"})
		assert.True(p.t, leaked.OK(), "the leaked task is created: %s", leaked.JSON)
		return res
	}
)

// TestHarnessCatchesBrokenProviders runs every case against MCP servers
// that each break one contract rule, through the remote target a real
// conformance run uses, and requires exactly the cases that rule concerns
// to fail, for that reason, and nothing to error.
func TestHarnessCatchesBrokenProviders(t *testing.T) {
	suite := loadSuite(t)
	// The capabilities the faults touch, every version, and those whose
	// cases read them back: enough to show each fault is caught exactly
	// where it should be, at a fraction of the whole suite's time.
	var all []*conformance.Case
	for _, name := range []string{"projects.create_task", "projects.get_task", "projects.transition_task", "projects.update_task", "projects.list_tasks"} {
		all = append(all, suite.Select(conformance.Filter{Capability: name})...)
	}

	// The cases each fault must fail, derived from the cases themselves.
	calls := func(name string) func(*conformance.Case) bool {
		return func(c *conformance.Case) bool { return c.Version.Manifest.Name == name }
	}
	expects := func(code string) func(*conformance.Case) bool {
		return func(c *conformance.Case) bool { return c.Expect.Error == code }
	}
	succeeds := func(c *conformance.Case) bool { return c.Expect.Error == "" }
	readsBack := func(name string) func(*conformance.Case) bool {
		return func(c *conformance.Case) bool {
			for _, ch := range c.Expect.Then {
				if n, _, _ := strings.Cut(ch.Call, "@"); n == name {
					return true
				}
			}
			return false
		}
	}
	// Rejections whose project_id names a project a given step created,
	// so the project exists when the call under test runs.
	existingProject := func(c *conformance.Case) bool {
		in, _ := c.Input.(map[string]any)
		id, _ := in["project_id"].(string)
		return strings.HasPrefix(id, "{{") && len(c.Given) > 0
	}

	tests := []struct {
		name   string
		fault  fault
		fails  []func(*conformance.Case) bool // ORed: a case failing any of these
		reason string                         // every failure message contains it
	}{
		{name: "NoFault"},
		{
			name: "AcceptsUnknownProject", fault: acceptsUnknownProject,
			fails:  []func(*conformance.Case) bool{allOf(calls("projects.create_task"), expects(capability.CodeUnknownProject))},
			reason: "expected rejection unknown_project, got success",
		},
		{
			name: "SkipsInputValidation", fault: skipsInputValidation,
			fails:  []func(*conformance.Case) bool{allOf(calls("projects.create_task"), expects(capability.CodeInvalidInput))},
			reason: "expected rejection invalid_input, got success",
		},
		{
			name: "BreaksOutputSchema", fault: breaksOutputSchema,
			fails:  []func(*conformance.Case) bool{allOf(calls("projects.get_task"), succeeds), readsBack("projects.get_task")},
			reason: "output breaks the output schema of projects.get_task@0.1.0: /task/status must be one of",
		},
		{
			name: "WrongErrorCode", fault: wrongErrorCode,
			fails:  []func(*conformance.Case) bool{allOf(calls("projects.transition_task"), expects(capability.CodeInvalidTransition))},
			reason: "expected error invalid_transition, got invalid_input",
		},
		{
			name: "WritesOnRejection", fault: writesOnRejection,
			fails:  []func(*conformance.Case) bool{allOf(calls("projects.create_task"), expects(capability.CodeInvalidInput), existingProject)},
			reason: "a rejected call changed state",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := map[string]bool{}
			for _, c := range all {
				for _, f := range tt.fails {
					if f(c) {
						want[caseKey(c)] = true
					}
				}
			}
			if tt.fault != nil {
				require.NotEmpty(t, want, "the fault concerns at least one case")
			}

			target := serveBroken(t, suite.Registry, tt.fault)
			ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
			defer cancel()
			results := (&conformance.Runner{Suite: suite, CaseTimeout: 10 * time.Second}).Run(ctx, conformance.NewRunID(time.Now()), target, all)
			require.Len(t, results, len(all))

			failed, errored := map[string]bool{}, map[string]bool{}
			for _, r := range results {
				key := r.Capability + "@" + r.Version + " " + r.CaseID
				switch r.Outcome {
				case capability.OutcomeFail:
					failed[key] = true
					assert.Contains(t, r.Message, tt.reason, "%s fails for the fault's reason", key)
				case capability.OutcomeError:
					errored[key] = true
					t.Errorf("%s errored: %s", key, r.Message)
				}
				assert.Equal(t, "broken", r.Provider)
			}
			assert.Empty(t, sortedSet(errored), "no case errors: every given step works on a broken provider")
			assert.Equal(t, sortedSet(want), sortedSet(failed), "failed cases")
		})
	}
}

func allOf(fs ...func(*conformance.Case) bool) func(*conformance.Case) bool {
	return func(c *conformance.Case) bool {
		for _, f := range fs {
			if !f(c) {
				return false
			}
		}
		return true
	}
}

// caseKey names a case as results do: "capability@version case_id".
func caseKey(c *conformance.Case) string { return c.Ref() + " " + c.ID }

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
