package projectkit_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

const createTaskV2 = "projects.create_task@0.2.0"

func storedDetails(t *testing.T, e *env, task string) (*capability.TaskDetails, error) {
	t.Helper()
	var d *capability.TaskDetails
	var findErr error
	inTenantStore(t, e, func(ctx context.Context, tx capability.Tx) error {
		d, findErr = tx.FindTaskDetails(ctx, task)
		return nil
	})
	return d, findErr
}

// taskCount is how many tasks the tenant has, to show a rejection created
// nothing.
func taskCount(t *testing.T, e *env) int {
	t.Helper()
	return len(e.ok(t, "projects.list_tasks", map[string]any{"limit": 100})["items"].([]any))
}

func TestCreateTaskV2(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Invoices")
	staff := e.staff(t, "ada")
	base := func(extra map[string]any) map[string]any {
		args := map[string]any{"project_id": project, "title": "Backfill tax codes"}
		for k, v := range extra {
			args[k] = v
		}
		return args
	}
	reject := func(t *testing.T, args map[string]any, code string, paths ...string) map[string]any {
		t.Helper()
		before := taskCount(t, e)
		out := e.rejected(t, createTaskV2, args, code)
		assert.ElementsMatch(t, paths, issuePaths(out))
		assert.Equal(t, before, taskCount(t, e), "a rejected call creates nothing")
		return out
	}

	t.Run("OKEveryField", func(t *testing.T) {
		out := e.ok(t, createTaskV2, base(map[string]any{
			"description": "Derive tax_code from the billing country.", "priority": "high", "due_date": "2026-06-13",
			"assignee_id": staff, "agent_vendor": "anthropic", "budget_usd": 151.5,
			"category": "engineering", "task_type": "bug_fix",
			"requirements": map[string]any{"countries": []any{"DE", "FR"}, "dry_run_first": true, "limits": map[string]any{"rows": 1000.0}},
			"expires_at":   "2026-03-31T17:00:00+02:00",
			"labels":       []any{"billing", "eu"},
		}))
		task := out["task"].(map[string]any)
		id := task["task_id"].(string)
		now := stampOf(e.clock.Now())
		assert.Equal(t, map[string]any{
			"task_id": id, "project_id": project, "title": "Backfill tax codes",
			"description": "Derive tax_code from the billing country.", "status": "todo",
			"priority": "high", "due_date": "2026-06-13", "assignee_id": staff, "agent_vendor": "anthropic",
			"created_at": now, "updated_at": now,
			"budget_usd": 151.5, "category": "engineering", "task_type": "bug_fix",
			"requirements": map[string]any{"countries": []any{"DE", "FR"}, "dry_run_first": true, "limits": map[string]any{"rows": 1000.0}},
			"expires_at":   "2026-03-31T15:00:00.000Z",
			"labels":       []any{"billing", "eu"},
		}, task)
		assert.Equal(t, id, out["task_id"], "0.1.0's top-level fields are kept")
		assert.Equal(t, "todo", out["status"])

		// The task.json part reads back through the 0.1.0-era reads; the
		// details are stored beside it.
		got := e.getTask(t, id)
		for k, v := range got {
			assert.Equal(t, v, task[k], k)
		}
		d, err := storedDetails(t, e, id)
		require.NoError(t, err)
		require.NotNil(t, d.BudgetUSD)
		assert.Equal(t, 151.5, *d.BudgetUSD)
		assert.Equal(t, "engineering", d.Category)
		assert.Equal(t, "bug_fix", d.TaskType)
		assert.JSONEq(t, `{"countries":["DE","FR"],"dry_run_first":true,"limits":{"rows":1000}}`, string(d.Requirements))
		assert.True(t, d.ExpiresAt.Equal(time.Date(2026, 3, 31, 15, 0, 0, 0, time.UTC)))
		assert.Equal(t, []string{"billing", "eu"}, d.Labels)
	})

	t.Run("OKMinimal", func(t *testing.T) {
		out := e.ok(t, createTaskV2, base(nil))
		task := out["task"].(map[string]any)
		for _, k := range []string{"priority", "due_date", "assignee_id", "agent_vendor", "budget_usd", "category", "task_type", "requirements", "expires_at"} {
			assert.Nil(t, task[k], k)
		}
		assert.Equal(t, "", task["description"])
		assert.Equal(t, []any{}, task["labels"])
		d, err := storedDetails(t, e, task["task_id"].(string))
		require.NoError(t, err, "details are stored even when none were given")
		assert.Nil(t, d.BudgetUSD)
		assert.Empty(t, d.Labels)
	})

	t.Run("BudgetBounds", func(t *testing.T) {
		for _, ok := range []float64{3, 3.01, 150, 299.99, 300} {
			out := e.ok(t, createTaskV2, base(map[string]any{"budget_usd": ok}))
			assert.Equal(t, ok, out["task"].(map[string]any)["budget_usd"])
		}
		for _, bad := range []float64{2.99, 300.01, 0, -5, 1e6} {
			reject(t, base(map[string]any{"budget_usd": bad}), capability.CodeInvalidInput, "/budget_usd")
		}
		reject(t, base(map[string]any{"budget_usd": "150"}), capability.CodeInvalidInput, "/budget_usd")
	})

	t.Run("Labels", func(t *testing.T) {
		labels := func(n int) []any {
			out := make([]any, n)
			for i := range out {
				out[i] = fmt.Sprintf("label-%02d", i)
			}
			return out
		}
		out := e.ok(t, createTaskV2, base(map[string]any{"labels": labels(20)}))
		assert.Len(t, out["task"].(map[string]any)["labels"], 20)
		reject(t, base(map[string]any{"labels": labels(21)}), capability.CodeInvalidInput, "/labels")
		reject(t, base(map[string]any{"labels": []any{"eu", "billing", "eu"}}), capability.CodeInvalidInput, "/labels")
		reject(t, base(map[string]any{"labels": []any{""}}), capability.CodeInvalidInput, "/labels/0")
		reject(t, base(map[string]any{"labels": []any{"ok", strings.Repeat("x", 51)}}), capability.CodeInvalidInput, "/labels/1")
		e.ok(t, createTaskV2, base(map[string]any{"labels": []any{strings.Repeat("x", 50)}}))
	})

	t.Run("ErrCategoryWithoutTaskType", func(t *testing.T) {
		out := reject(t, base(map[string]any{"category": "engineering"}), capability.CodeInvalidInput, "/task_type")
		assert.Contains(t, out["message"], "projects.list_task_types")
	})

	t.Run("ErrTaskTypeWithoutCategory", func(t *testing.T) {
		reject(t, base(map[string]any{"task_type": "bug_fix"}), capability.CodeInvalidInput, "/category")
	})

	t.Run("ErrUnknownTaskType", func(t *testing.T) {
		out := reject(t, base(map[string]any{"category": "engineering", "task_type": "astrology"}), capability.CodeUnknownTaskType, "/task_type")
		assert.Contains(t, out["message"], "projects.list_task_types")
		assert.Contains(t, out["message"], "bug_fix", "names the category's task types")
	})

	t.Run("ErrUnknownCategory", func(t *testing.T) {
		out := reject(t, base(map[string]any{"category": "astrology", "task_type": "bug_fix"}), capability.CodeUnknownTaskType, "/category")
		assert.Contains(t, out["message"], "engineering", "names the categories")
	})

	t.Run("ErrTypeOfAnotherCategory", func(t *testing.T) {
		reject(t, base(map[string]any{"category": "design", "task_type": "bug_fix"}), capability.CodeUnknownTaskType, "/task_type")
	})

	t.Run("ExpiresAt", func(t *testing.T) {
		now := e.clock.Now()
		e.ok(t, createTaskV2, base(map[string]any{"expires_at": now.Add(time.Second).Format(time.RFC3339)}))
		reject(t, base(map[string]any{"expires_at": now.Format(time.RFC3339)}), capability.CodeInvalidInput, "/expires_at")
		reject(t, base(map[string]any{"expires_at": "2020-01-01T00:00:00Z"}), capability.CodeInvalidInput, "/expires_at")
		reject(t, base(map[string]any{"expires_at": "2099-02-30T25:61:00Z"}), capability.CodeInvalidInput, "/expires_at")
		reject(t, base(map[string]any{"expires_at": "2099-12-31"}), capability.CodeInvalidInput, "/expires_at")
		// RFC 3339 allows a lowercase t and z.
		lower := e.ok(t, createTaskV2, base(map[string]any{"expires_at": "2099-12-31t17:00:00.5z"}))
		assert.Equal(t, "2099-12-31T17:00:00.500Z", lower["task"].(map[string]any)["expires_at"])
	})

	t.Run("ErrRequirementsNotAnObject", func(t *testing.T) {
		reject(t, base(map[string]any{"requirements": []any{"a"}}), capability.CodeInvalidInput, "/requirements")
		reject(t, base(map[string]any{"requirements": "fast"}), capability.CodeInvalidInput, "/requirements")
	})

	t.Run("ErrInputRulesTogether", func(t *testing.T) {
		reject(t, base(map[string]any{"title": "   ", "category": "engineering", "expires_at": "2020-01-01T00:00:00Z"}),
			capability.CodeInvalidInput, "/title", "/task_type", "/expires_at")
	})

	t.Run("ErrUnknownProject", func(t *testing.T) {
		reject(t, map[string]any{"project_id": "prj_00000000000000000000000000000000", "title": "x", "budget_usd": 10}, capability.CodeUnknownProject, "/project_id")
	})

	t.Run("ErrUnknownAssignee", func(t *testing.T) {
		reject(t, base(map[string]any{"assignee_id": "stf_00000000000000000000000000000000"}), capability.CodeInvalidInput, "/assignee_id")
	})

	t.Run("ErrUnknownField", func(t *testing.T) {
		reject(t, base(map[string]any{"experimentation": 0.3}), capability.CodeInvalidInput, "/experimentation")
	})
}

// TestCreateTaskVersions pins down how the two versions of create_task
// live side by side.
func TestCreateTaskVersions(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Versions")
	staff := e.staff(t, "ada")

	t.Run("OKBareNameIs020", func(t *testing.T) {
		res := e.call(t, "projects.create_task", map[string]any{"project_id": project, "title": "Bare", "budget_usd": 10})
		require.Nil(t, res.Err, "%s", res.JSON)
		assert.Equal(t, "0.2.0", res.Version.Manifest.Version)
		assert.Empty(t, res.Warning)
		out := decode(t, res.JSON)
		assert.Equal(t, 10.0, out["task"].(map[string]any)["budget_usd"])
	})

	t.Run("OK010Unchanged", func(t *testing.T) {
		res := e.call(t, "projects.create_task@0.1.0", map[string]any{
			"project_id": project, "title": "Pinned", "priority": "high", "due_date": "2026-12-01",
			"assignee_id": staff, "agent_vendor": "anthropic", "description": "As before.",
		})
		require.Nil(t, res.Err, "%s", res.JSON)
		assert.Equal(t, "0.1.0", res.Version.Manifest.Version)
		assert.Contains(t, res.Warning, "deprecated")
		assert.Contains(t, res.Warning, "projects.create_task@0.2.0")
		out := decode(t, res.JSON)
		id := out["task_id"].(string)
		assert.Equal(t, map[string]any{"ok": true, "task_id": id, "status": "todo"}, out, "0.1.0's output, exactly")
		task := e.getTask(t, id)
		assert.Equal(t, "Pinned", task["title"])
		assert.Equal(t, "high", task["priority"])
		assert.Equal(t, staff, task["assignee_id"])
		_, err := storedDetails(t, e, id)
		assert.True(t, errors.Is(err, capability.ErrNotFound), "0.1.0 stores no details: %v", err)
	})

	t.Run("Err010Unchanged", func(t *testing.T) {
		for _, c := range []struct {
			args map[string]any
			code string
			path string
		}{
			{map[string]any{"project_id": "prj_00000000000000000000000000000000", "title": "x"}, capability.CodeUnknownProject, "/project_id"},
			{map[string]any{"project_id": project, "title": "  "}, capability.CodeInvalidInput, "/title"},
			{map[string]any{"project_id": project, "title": "x", "assignee_id": "stf_00000000000000000000000000000000"}, capability.CodeInvalidInput, "/assignee_id"},
			// 0.2.0's fields are unknown to 0.1.0.
			{map[string]any{"project_id": project, "title": "x", "budget_usd": 10}, capability.CodeInvalidInput, "/budget_usd"},
		} {
			res := e.call(t, "projects.create_task@0.1.0", c.args)
			require.NotNil(t, res.Err, "%s", res.JSON)
			assert.Equal(t, c.code, res.Err.Code)
			assert.Contains(t, issuePaths(decode(t, res.JSON)), c.path)
			assert.Contains(t, res.Warning, "projects.create_task@0.2.0", "a rejection warns too")
		}
	})
}
