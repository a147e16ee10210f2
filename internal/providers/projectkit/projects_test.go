package projectkit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/capd-dev/capd/internal/capability"
)

func TestCreateProject(t *testing.T) {
	e := newEnv(t)
	first := e.ok(t, "projects.create_project", map[string]any{"name": "Billing Revamp", "description": "Invoices"})["project"].(map[string]any)

	t.Run("OK", func(t *testing.T) {
		assert.Equal(t, "Billing Revamp", first["name"])
		assert.Equal(t, "Invoices", first["description"])
		assert.Regexp(t, `^prj_[0-9a-f]{32}$`, first["project_id"])
	})
	for name, dup := range map[string]string{"SameName": "Billing Revamp", "OtherCase": "billing REVAMP", "SurroundingSpaces": "  Billing Revamp "} {
		t.Run("ErrAlreadyExists/"+name, func(t *testing.T) {
			out := e.rejected(t, "projects.create_project", map[string]any{"name": dup}, capability.CodeAlreadyExists)
			assert.Equal(t, first["project_id"], out["existing_project_id"])
		})
	}
	t.Run("OKNothingCreatedByDuplicates", func(t *testing.T) {
		assert.Len(t, e.ok(t, "projects.list_projects", nil)["items"], 1)
	})
	for name, blank := range map[string]string{"Empty": "", "Spaces": "   ", "Tab": "\t"} {
		t.Run("ErrBlankName/"+name, func(t *testing.T) {
			out := e.rejected(t, "projects.create_project", map[string]any{"name": blank}, capability.CodeInvalidInput)
			// "" fails both minLength and pattern, each its own issue.
			paths := issuePaths(out)
			assert.NotEmpty(t, paths)
			for _, p := range paths {
				assert.Equal(t, "/name", p)
			}
		})
	}
}

func TestGetProject(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Counted")
	other := e.createProject(t, "Other")
	for _, title := range []string{"a", "b", "c"} {
		e.createTask(t, project, title, nil)
	}
	moving := e.createTask(t, project, "moving", nil)
	e.transition(t, moving, "doing")
	e.transition(t, moving, "review")
	e.createTask(t, other, "elsewhere", nil)

	t.Run("OKTaskCountsHaveEveryStatus", func(t *testing.T) {
		out := e.ok(t, "projects.get_project", map[string]any{"project_id": project})
		assert.Equal(t, map[string]any{
			"todo": 3.0, "doing": 0.0, "waiting": 0.0, "review": 1.0, "done": 0.0, "cancelled": 0.0,
		}, out["task_counts"])
		assert.Equal(t, project, out["project"].(map[string]any)["project_id"])
	})
	t.Run("OKEmptyProjectCountsZero", func(t *testing.T) {
		out := e.ok(t, "projects.get_project", map[string]any{"project_id": e.createProject(t, "Empty")})
		assert.Equal(t, map[string]any{
			"todo": 0.0, "doing": 0.0, "waiting": 0.0, "review": 0.0, "done": 0.0, "cancelled": 0.0,
		}, out["task_counts"])
	})
	t.Run("ErrUnknownProject", func(t *testing.T) {
		out := e.rejected(t, "projects.get_project", map[string]any{"project_id": "prj_00000000000000000000000000000000"}, capability.CodeUnknownProject)
		assert.Equal(t, []string{"/project_id"}, issuePaths(out))
	})
}
