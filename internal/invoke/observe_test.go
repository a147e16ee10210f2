package invoke_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/invoke"
	"github.com/capd-dev/capd/internal/registry"
)

// fakeObserver keeps every event.
type fakeObserver struct {
	mu     sync.Mutex
	events []invoke.CallEvent
}

func (o *fakeObserver) ObserveCall(e invoke.CallEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, e)
}

func (o *fakeObserver) take() []invoke.CallEvent {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.events
	o.events = nil
	return out
}

// callLines decodes the JSON log lines whose msg is "call".
func callLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "%s", sc.Text())
		if line["msg"] == "call" {
			out = append(out, line)
		}
	}
	return out
}

// jsonLogs makes e's invoker log JSON at level into its log buffer.
func (e *env) jsonLogs(level slog.Level) {
	e.inv.Logger = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: level}))
}

func callWith(t *testing.T, e *env, ctx context.Context, p capability.Principal, ref string, args any) *invoke.Result {
	t.Helper()
	r, err := registry.ParseRef(ref)
	require.NoError(t, err)
	return e.inv.Call(ctx, p, r, rawArgs(t, args))
}

// TestCallLogLine checks the one line each call writes: request id,
// transport, JSON-RPC id, tenant, capability@version, outcome and duration,
// and never the arguments or the key.
func TestCallLogLine(t *testing.T) {
	e := newEnv(t, nil)
	e.jsonLogs(slog.LevelInfo)
	a, b := principal(tenantA), principal(tenantB)
	project := e.createProject(t, tenantA, "Logged")
	e.logs.take()
	const secret = "Confidential merger plan"

	t.Run("OK", func(t *testing.T) {
		ctx := invoke.WithRequest(context.Background(), invoke.Request{ID: "req-123", Transport: invoke.TransportMCPHTTP, RPCID: float64(7)})
		res := callWith(t, e, ctx, a, "projects.create_task@0.2.0", map[string]any{"project_id": project, "title": secret})
		mustOK(t, res)
		logs := e.logs.take()
		lines := callLines(t, logs)
		require.Len(t, lines, 1, "one line per call:\n%s", logs)
		l := lines[0]
		assert.Equal(t, "INFO", l["level"])
		assert.Equal(t, "req-123", l["request_id"])
		assert.Equal(t, invoke.TransportMCPHTTP, l["transport"])
		assert.Equal(t, float64(7), l["jsonrpc_id"])
		assert.Equal(t, tenantA, l["tenant"])
		assert.Equal(t, "projects.create_task@0.2.0", l["capability"])
		assert.Equal(t, "ok", l["outcome"])
		assert.Greater(t, l["duration_ms"], 0.0)
		assert.NotContains(t, logs, secret, "arguments are never logged")
		assert.NotContains(t, logs, project, "argument values are never logged")
		assert.NotContains(t, logs, a.KeyPrefix, "keys are never logged")
	})
	t.Run("OKNewRequestIDWhenNoneGiven", func(t *testing.T) {
		seen := map[string]bool{}
		for range 3 {
			mustOK(t, callWith(t, e, context.Background(), a, "projects.list_projects", nil))
			lines := callLines(t, e.logs.take())
			require.Len(t, lines, 1)
			id, _ := lines[0]["request_id"].(string)
			assert.Regexp(t, `^[a-z2-7]{20}$`, id)
			assert.False(t, seen[id], "request ids differ")
			seen[id] = true
			assert.NotContains(t, lines[0], "jsonrpc_id", "no JSON-RPC id outside MCP")
		}
	})
	t.Run("ErrRejections", func(t *testing.T) {
		for _, tc := range []struct {
			ref, args, outcome, logged string
		}{
			{"projects.create_task@0.2.0", `{"project_id":"prj_00000000000000000000000000000000","title":"x"}`, capability.CodeUnknownProject, "projects.create_task@0.2.0"},
			{"projects.create_task@0.2.0", `{"title":""}`, capability.CodeInvalidInput, "projects.create_task@0.2.0"},
			{"projects.nope", `{}`, capability.CodeCapabilityUnknown, "projects.nope"},
		} {
			callWith(t, e, context.Background(), a, tc.ref, tc.args)
			lines := callLines(t, e.logs.take())
			require.Len(t, lines, 1, tc.outcome)
			assert.Equal(t, tc.outcome, lines[0]["outcome"])
			assert.Equal(t, tc.logged, lines[0]["capability"])
		}
	})
	t.Run("OKOtherTenantLogsItsOwnTenant", func(t *testing.T) {
		mustOK(t, callWith(t, e, context.Background(), b, "projects.list_projects", nil))
		lines := callLines(t, e.logs.take())
		require.Len(t, lines, 1)
		assert.Equal(t, tenantB, lines[0]["tenant"])
	})
	t.Run("OKLongClientValuesAreCut", func(t *testing.T) {
		ctx := invoke.WithRequest(context.Background(), invoke.Request{ID: "r", RPCID: strings.Repeat("i", 1000)})
		callWith(t, e, ctx, a, "projects."+strings.Repeat("n", 1000), nil)
		lines := callLines(t, e.logs.take())
		require.Len(t, lines, 1)
		assert.LessOrEqual(t, len(lines[0]["capability"].(string)), 132)
		assert.LessOrEqual(t, len(lines[0]["jsonrpc_id"].(string)), 68)
	})
	t.Run("OKNoCallLinesBelowLevel", func(t *testing.T) {
		e.jsonLogs(slog.LevelWarn)
		defer e.jsonLogs(slog.LevelInfo)
		mustOK(t, callWith(t, e, context.Background(), a, "projects.list_projects", nil))
		assert.Empty(t, e.logs.take())
	})
}

// TestInternalErrorNamesRequestID checks that an internal failure's log
// line and the answer carry the same request id, so a report can be found.
func TestInternalErrorNamesRequestID(t *testing.T) {
	reg := handlerRegistry(t, map[string]capability.Handler{
		"plainerror": func(ctx context.Context, c *capability.Call) (map[string]any, error) {
			return nil, errors.New("disk on fire")
		},
	})
	e := newEnv(t, reg)
	e.jsonLogs(slog.LevelInfo)
	ctx := invoke.WithRequest(context.Background(), invoke.Request{ID: "req-internal-1"})
	res := callWith(t, e, ctx, principal(tenantA), "test.plainerror", map[string]any{"name": "x"})
	requireCode(t, res, capability.CodeInternal)
	assert.Contains(t, res.Err.Message, "req-internal-1")
	assert.NotContains(t, res.Err.Message, "disk on fire")
	logs := e.logs.take()
	var cause map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var l map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &l))
		if l["level"] == "ERROR" {
			cause = l
		}
	}
	require.NotNil(t, cause, "the cause is logged:\n%s", logs)
	assert.Equal(t, "req-internal-1", cause["request_id"])
	assert.Contains(t, cause["err"], "disk on fire")
	lines := callLines(t, logs)
	require.Len(t, lines, 1)
	assert.Equal(t, capability.CodeInternal, lines[0]["outcome"])
}

// TestObserver checks what metrics are told of each call: the resolved
// capability version (never a name the client made up), the outcome, and
// which rate limit refused a call.
func TestObserver(t *testing.T) {
	e := newEnv(t, nil)
	obs := &fakeObserver{}
	e.inv.Observer = obs
	a := principal(tenantA)
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		mustOK(t, callWith(t, e, ctx, a, "projects.list_projects", nil))
		ev := obs.take()
		require.Len(t, ev, 1)
		assert.Equal(t, "projects.list_projects", ev[0].Capability)
		assert.Equal(t, "0.1.0", ev[0].Version)
		assert.Equal(t, "ok", ev[0].Outcome)
		assert.Empty(t, ev[0].RateLimit)
		assert.Greater(t, ev[0].Duration, time.Duration(0))
	})
	t.Run("ErrInvalidInput", func(t *testing.T) {
		callWith(t, e, ctx, a, "projects.create_task", `{"title":""}`)
		ev := obs.take()
		require.Len(t, ev, 1)
		assert.Equal(t, invoke.CallEvent{Capability: "projects.create_task", Version: "0.2.0", Outcome: capability.CodeInvalidInput, Duration: ev[0].Duration}, ev[0])
	})
	t.Run("ErrUnresolvedHasNoCapability", func(t *testing.T) {
		callWith(t, e, ctx, a, "projects.made_up", nil)
		callWith(t, e, ctx, a, "projects.create_task@9.9.9", nil)
		for _, ev := range obs.take() {
			assert.Empty(t, ev.Capability)
			assert.Empty(t, ev.Version)
			assert.Contains(t, []string{capability.CodeCapabilityUnknown, capability.CodeNotFound}, ev.Outcome)
		}
	})
	t.Run("ErrRateLimitedNamesTheLimit", func(t *testing.T) {
		for _, tc := range []struct {
			limits invoke.Limits
			want   string
		}{
			{invoke.Limits{KeyRate: 0.001, KeyBurst: 1}, invoke.LimitKey},
			{invoke.Limits{KeyRate: 1000, TenantRate: 0.001, TenantBurst: 1}, invoke.LimitTenant},
		} {
			e.inv.Limiter = invoke.NewLimiter(tc.limits)
			mustOK(t, callWith(t, e, ctx, a, "projects.get_project", map[string]any{"project_id": e.createProjectUnlimited(t, "Limits "+tc.want)}))
			obs.take()
			requireCode(t, callWith(t, e, ctx, a, "projects.list_projects", nil), capability.CodeRateLimited)
			ev := obs.take()
			require.Len(t, ev, 1)
			assert.Equal(t, tc.want, ev[0].RateLimit)
			assert.Equal(t, capability.CodeRateLimited, ev[0].Outcome)
			assert.Equal(t, "projects.list_projects", ev[0].Capability, "counted against the capability it was meant for")
			assert.Equal(t, "0.1.0", ev[0].Version)

			// Another tenant has buckets of its own.
			mustOK(t, callWith(t, e, ctx, principal(tenantB), "projects.list_projects", nil))
			assert.Empty(t, obs.take()[0].RateLimit)
		}
		e.inv.Limiter = nil
	})
}

// createProjectUnlimited creates a project in tenant A past any limiter,
// so a rate-limit test spends its one allowed call where it chooses.
func (e *env) createProjectUnlimited(t *testing.T, name string) string {
	t.Helper()
	limiter, obs := e.inv.Limiter, e.inv.Observer
	e.inv.Limiter, e.inv.Observer = nil, nil
	defer func() { e.inv.Limiter, e.inv.Observer = limiter, obs }()
	return e.createProject(t, tenantA, name)
}
