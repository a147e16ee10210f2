package projectkit_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/registry"
)

// TestTenantsDoNotSeeEachOther uses every id kind of tenant acme from a
// second tenant: projects, tasks, staff and list cursors all behave as if
// they did not exist there.
func TestTenantsDoNotSeeEachOther(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	require.NoError(t, e.db.Control().CreateTenant(ctx, &capability.Tenant{Slug: "globex"}))
	other := func(ref string, args map[string]any) map[string]any {
		t.Helper()
		r, err := registry.ParseRef(ref)
		require.NoError(t, err)
		raw, err := json.Marshal(args)
		require.NoError(t, err)
		res := e.inv.Call(ctx, capability.Principal{Tenant: "globex", KeyPrefix: "capd_other", Scopes: capability.AllScopes}, r, raw)
		return decode(t, res.JSON)
	}

	project := e.createProject(t, "Acme secret roadmap")
	staff := e.staff(t, "wile")
	task := e.createTask(t, project, "Acme secret task", map[string]any{"assignee_id": staff})
	e.createTask(t, project, "Acme second task", nil)
	page := e.ok(t, "projects.list_tasks", map[string]any{"limit": 1})
	cursor := page["next_cursor"].(string)

	t.Run("ErrUnknownProject", func(t *testing.T) {
		assert.Equal(t, "unknown_project", other("projects.get_project", map[string]any{"project_id": project})["error"])
		assert.Equal(t, "unknown_project", other("projects.create_task", map[string]any{"project_id": project, "title": "x"})["error"])
		assert.Equal(t, "unknown_project", other("projects.list_tasks", map[string]any{"project_id": project})["error"])
	})
	t.Run("ErrUnknownTask", func(t *testing.T) {
		assert.Equal(t, "unknown_task", other("projects.get_task", map[string]any{"task_id": task})["error"])
		assert.Equal(t, "unknown_task", other("projects.update_task", map[string]any{"task_id": task, "title": "mine"})["error"])
		assert.Equal(t, "unknown_task", other("projects.transition_task", map[string]any{"task_id": task, "to": "doing"})["error"])
	})
	t.Run("ErrForeignAssignee", func(t *testing.T) {
		p := other("projects.create_project", map[string]any{"name": "Globex plans"})["project"].(map[string]any)["project_id"]
		out := other("projects.create_task", map[string]any{"project_id": p, "title": "x", "assignee_id": staff})
		assert.Equal(t, "invalid_input", out["error"])
		assert.Equal(t, []string{"/assignee_id"}, issuePaths(out))
	})
	t.Run("ListsAreEmpty", func(t *testing.T) {
		assert.Empty(t, other("projects.list_tasks", map[string]any{"query": "Acme"})["items"])
		assert.Empty(t, other("projects.list_staff", map[string]any{})["items"])
		projects := other("projects.list_projects", map[string]any{})["items"].([]any)
		for _, p := range projects {
			assert.NotEqual(t, "Acme secret roadmap", p.(map[string]any)["name"])
		}
		// A cursor from acme leaks nothing of acme's rows in globex.
		assert.Empty(t, other("projects.list_tasks", map[string]any{"limit": 1, "cursor": cursor})["items"])
	})
	t.Run("AcmeUnchanged", func(t *testing.T) {
		got := e.getTask(t, task)
		assert.Equal(t, "Acme secret task", got["title"])
		assert.Equal(t, "todo", got["status"])
	})
}
