package invoke_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

func TestCallRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	p := principal(tenantA)

	created := e.call(t, p, "projects.create_project", map[string]any{"name": "Billing", "description": "Invoices"})
	project := mustOK(t, created)["project"].(map[string]any)
	requireInContract(t, created)
	projectID := project["project_id"].(string)
	assert.Equal(t, "Billing", project["name"])

	createdTask := e.call(t, p, "projects.create_task", map[string]any{
		"project_id": projectID, "title": "Backfill tax codes", "priority": "high",
		"due_date": "2026-06-13", "assignee_id": e.staffID, "agent_vendor": "anthropic",
	})
	out := mustOK(t, createdTask)
	requireInContract(t, createdTask)
	taskID := out["task_id"].(string)
	assert.Equal(t, "todo", out["status"])

	got := e.call(t, p, "projects.get_task", map[string]any{"task_id": taskID})
	task := mustOK(t, got)["task"].(map[string]any)
	requireInContract(t, got)
	assert.Equal(t, taskID, task["task_id"])
	assert.Equal(t, projectID, task["project_id"])
	assert.Equal(t, "Backfill tax codes", task["title"])
	assert.Equal(t, "high", task["priority"])
	assert.Equal(t, "2026-06-13", task["due_date"])
	assert.Equal(t, e.staffID, task["assignee_id"])
	assert.Equal(t, "anthropic", task["agent_vendor"])
	assert.Equal(t, "todo", task["status"])
	assert.Equal(t, "projects.get_task@0.1.0", got.Version.Manifest.Ref())

	t.Run("OKOneRecordPerCall", func(t *testing.T) {
		records := e.recorder.all()
		require.Len(t, records, 3)
		want := []string{"projects.create_project@0.1.0", "projects.create_task@0.2.0", "projects.get_task@0.1.0"}
		for i, r := range records {
			assert.Equal(t, tenantA, r.Tenant)
			assert.Equal(t, p.KeyPrefix, r.KeyPrefix)
			assert.Equal(t, want[i], r.Capability)
			assert.Equal(t, "ok", r.Outcome)
			assert.GreaterOrEqual(t, r.Duration, time.Duration(0))
			assert.False(t, r.At.IsZero())
		}
	})

	t.Run("OKRejectionRecordedWithCode", func(t *testing.T) {
		requireCode(t, e.call(t, p, "projects.get_task", map[string]any{"task_id": "tsk_nope"}), capability.CodeUnknownTask)
		records := e.recorder.all()
		last := records[len(records)-1]
		assert.Equal(t, capability.CodeUnknownTask, last.Outcome)
		assert.Equal(t, "projects.get_task@0.1.0", last.Capability)
	})

	t.Run("OKUnresolvedRecordedAsAsked", func(t *testing.T) {
		requireCode(t, e.call(t, p, "projects.nothing", nil), capability.CodeCapabilityUnknown)
		records := e.recorder.all()
		last := records[len(records)-1]
		assert.Equal(t, capability.CodeCapabilityUnknown, last.Outcome)
		assert.Equal(t, "projects.nothing", last.Capability)
	})
}

func TestCallScope(t *testing.T) {
	e := newEnv(t, nil)
	projectID := e.createProject(t, tenantA, "Billing")

	t.Run("ErrForbidden", func(t *testing.T) {
		reader := principal(tenantA, capability.ScopeProjectsRead)
		res := e.call(t, reader, "projects.create_task", map[string]any{"project_id": projectID, "title": "Sneaky"})
		requireCode(t, res, capability.CodeForbidden)
		assert.False(t, res.InContract, "forbidden is not a code create_task declares")
		assert.NotNil(t, res.Version)
		assert.Equal(t, 0, e.taskCount(t, tenantA))
	})
	t.Run("ErrForbiddenBeforeInputIsChecked", func(t *testing.T) {
		reader := principal(tenantA, capability.ScopeProjectsRead)
		requireCode(t, e.call(t, reader, "projects.create_task", `[]`), capability.CodeForbidden)
	})
	t.Run("ErrForbiddenWithoutScopes", func(t *testing.T) {
		nobody := capability.Principal{Tenant: tenantA, KeyPrefix: "capd_none"}
		requireCode(t, e.call(t, nobody, "projects.list_tasks", nil), capability.CodeForbidden)
	})
	t.Run("OKReadScopeReads", func(t *testing.T) {
		reader := principal(tenantA, capability.ScopeProjectsRead)
		mustOK(t, e.call(t, reader, "projects.list_tasks", nil))
	})
	t.Run("ErrWriteScopeDoesNotImplyRead", func(t *testing.T) {
		writer := principal(tenantA, capability.ScopeProjectsWrite)
		requireCode(t, e.call(t, writer, "projects.list_tasks", nil), capability.CodeForbidden)
	})
}

func TestCallInvalidInput(t *testing.T) {
	e := newEnv(t, nil)
	p := principal(tenantA)
	projectID := e.createProject(t, tenantA, "Billing")
	valid := func(edit func(m map[string]any)) map[string]any {
		m := map[string]any{"project_id": projectID, "title": "Write the runbook"}
		edit(m)
		return m
	}

	whole := map[string]any{
		"ErrArray":       `[]`,
		"ErrString":      `"x"`,
		"ErrNumber":      `42`,
		"ErrInvalidJSON": `{"project_id":`,
		"ErrTrailing":    `{"project_id":"x","title":"y"} {}`,
		"ErrTooDeep":     `{"description":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`,
	}
	for name, args := range whole {
		t.Run(name, func(t *testing.T) {
			res := e.call(t, p, "projects.create_task", args)
			requireCode(t, res, capability.CodeInvalidInput)
			assert.Equal(t, []string{""}, issuePaths(res), "the whole input is at fault")
			assert.True(t, res.InContract, "create_task declares invalid_input")
			requireInContract(t, res)
			assert.Equal(t, 0, e.taskCount(t, tenantA))
		})
	}

	fields := []struct {
		name string
		args any
		path []string
	}{
		{"ErrNoArguments", nil, []string{"/project_id", "/title"}},
		{"ErrNullArguments", `null`, []string{"/project_id", "/title"}},
		{"ErrMissingTitle", map[string]any{"project_id": projectID}, []string{"/title"}},
		{"ErrMissingProjectID", map[string]any{"title": "x"}, []string{"/project_id"}},
		{"ErrEmptyTitle", valid(func(m map[string]any) { m["title"] = "" }), []string{"/title"}},
		{"ErrBlankTitle", valid(func(m map[string]any) { m["title"] = "   " }), []string{"/title"}},
		{"ErrLongTitle", valid(func(m map[string]any) { m["title"] = strings.Repeat("x", 201) }), []string{"/title"}},
		{"ErrLongDescription", valid(func(m map[string]any) { m["description"] = strings.Repeat("x", 5001) }), []string{"/description"}},
		{"ErrBadPriority", valid(func(m map[string]any) { m["priority"] = "urgent" }), []string{"/priority"}},
		{"ErrImpossibleDueDate", valid(func(m map[string]any) { m["due_date"] = "2026-02-30" }), []string{"/due_date"}},
		{"ErrProjectIDNotString", valid(func(m map[string]any) { m["project_id"] = 7 }), []string{"/project_id"}},
		{"ErrUnknownField", valid(func(m map[string]any) { m["status"] = "doing" }), []string{"/status"}},
		{"ErrUnknownAssignee", valid(func(m map[string]any) { m["assignee_id"] = "stf_nope" }), []string{"/assignee_id"}},
		{"ErrSeveralFields", valid(func(m map[string]any) { m["priority"] = "urgent"; m["due_date"] = "soon"; delete(m, "title") }),
			[]string{"/due_date", "/priority", "/title"}},
	}
	for _, tc := range fields {
		t.Run(tc.name, func(t *testing.T) {
			res := e.call(t, p, "projects.create_task", tc.args)
			requireCode(t, res, capability.CodeInvalidInput)
			assert.Equal(t, tc.path, issuePaths(res))
			assert.True(t, res.InContract)
			requireInContract(t, res)
			assert.Equal(t, 0, e.taskCount(t, tenantA))
		})
	}

	t.Run("OKAtMaxDepth", func(t *testing.T) {
		// The limit counts the arguments object itself: 63 more levels fit.
		deep := `{"project_id":"` + projectID + `","title":"x","agent_vendor":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`
		res := e.call(t, p, "projects.create_task", deep)
		requireCode(t, res, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/agent_vendor"}, issuePaths(res), "rejected by the schema, not by the depth limit")
	})

	t.Run("ErrOverConfiguredMaxDepth", func(t *testing.T) {
		shallow := *e.inv
		shallow.MaxDepth = 2
		res := shallow.Call(context.Background(), p, capability.Ref{Name: "projects.create_task"},
			rawArgs(t, `{"project_id":"x","title":"y","agent_vendor":[[]]}`))
		requireCode(t, res, capability.CodeInvalidInput)
		assert.Equal(t, []string{""}, issuePaths(res))
	})
}

func TestCallUnknownCapability(t *testing.T) {
	e := newEnv(t, nil)
	for _, ref := range []string{"projects.nothing", "projects.nothing@0.1.0", "nothing"} {
		t.Run("ErrUnknownCapability/"+ref, func(t *testing.T) {
			res := e.call(t, principal(tenantA), ref, nil)
			requireCode(t, res, capability.CodeCapabilityUnknown)
			assert.Nil(t, res.Version)
			assert.False(t, res.InContract)
		})
	}
	t.Run("ErrNotFoundForMissingVersion", func(t *testing.T) {
		res := e.call(t, principal(tenantA), "projects.get_task@9.9.9", map[string]any{"task_id": "x"})
		requireCode(t, res, capability.CodeNotFound)
		assert.Nil(t, res.Version)
	})
}

func TestCallTenant(t *testing.T) {
	e := newEnv(t, nil)
	t.Run("ErrUnauthenticatedForDeletedTenant", func(t *testing.T) {
		res := e.call(t, principal("initech"), "projects.list_tasks", nil)
		requireCode(t, res, capability.CodeUnauthenticated)
	})
}

// TestCallCancelled checks that a call whose context is already cancelled
// answers unavailable, whether or not the tenant's database is open yet.
func TestCallCancelled(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ref := capability.Ref{Name: "projects.list_projects"}

	t.Run("ErrUnavailableWarmTenant", func(t *testing.T) {
		// newEnv wrote to tenant A, so its database is open.
		res := e.inv.Call(ctx, principal(tenantA), ref, nil)
		requireCode(t, res, capability.CodeUnavailable)
	})
	t.Run("ErrUnavailableColdTenant", func(t *testing.T) {
		// Nothing has opened tenant B's database yet.
		res := e.inv.Call(ctx, principal(tenantB), ref, nil)
		requireCode(t, res, capability.CodeUnavailable)
	})
}

func TestCallCrossTenant(t *testing.T) {
	e := newEnv(t, nil)
	projectID := e.createProject(t, tenantA, "Billing")
	taskID := e.createTask(t, tenantA, projectID, "Secret work")
	b := principal(tenantB)

	calls := map[string]func(id string) map[string]any{
		"projects.get_task":        func(id string) map[string]any { return map[string]any{"task_id": id} },
		"projects.update_task":     func(id string) map[string]any { return map[string]any{"task_id": id, "title": "Mine now"} },
		"projects.transition_task": func(id string) map[string]any { return map[string]any{"task_id": id, "to": "doing"} },
	}
	for ref, args := range calls {
		t.Run("ErrUnknownTask/"+ref, func(t *testing.T) {
			foreign := e.call(t, b, ref, args(taskID))
			requireCode(t, foreign, capability.CodeUnknownTask)
			missing := e.call(t, b, ref, args("tsk_0000000000000000000000000000000a"))
			requireCode(t, missing, capability.CodeUnknownTask)
			assert.Equal(t, missing.Err.Issues, foreign.Err.Issues, "another tenant's task must look like one that never existed")
			assert.True(t, foreign.InContract)
		})
	}
	t.Run("OKOtherTenantListsNothing", func(t *testing.T) {
		out := mustOK(t, e.call(t, b, "projects.list_tasks", nil))
		assert.Empty(t, out["items"])
	})
	t.Run("ErrUnknownProjectAcrossTenants", func(t *testing.T) {
		requireCode(t, e.call(t, b, "projects.create_task", map[string]any{"project_id": projectID, "title": "x"}), capability.CodeUnknownProject)
		requireCode(t, e.call(t, b, "projects.get_project", map[string]any{"project_id": projectID}), capability.CodeUnknownProject)
	})
	t.Run("OKOwnerUnchanged", func(t *testing.T) {
		task := mustOK(t, e.call(t, principal(tenantA), "projects.get_task", map[string]any{"task_id": taskID}))["task"].(map[string]any)
		assert.Equal(t, "Secret work", task["title"])
		assert.Equal(t, "todo", task["status"])
	})
}
