package projectkit_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

func TestListTasksFilters(t *testing.T) {
	e := newEnv(t)
	ada, bob := e.staff(t, "ada"), e.staff(t, "bob")
	alpha, beta := e.createProject(t, "Alpha"), e.createProject(t, "Beta")
	e.createProject(t, "Empty")

	// Created in this order, so ids (and list order) follow it.
	runbook := e.createTask(t, alpha, "Write runbook", map[string]any{"description": "Cut-over steps", "priority": "high", "due_date": "2026-03-01", "assignee_id": ada})
	e.createTask(t, alpha, "Fix login bug", map[string]any{"priority": "low", "due_date": "2026-03-10", "assignee_id": bob})
	e.createTask(t, alpha, "Plan offsite", nil)
	e.createTask(t, beta, "Runbook review", map[string]any{"priority": "high", "due_date": "2026-03-05", "assignee_id": ada})
	e.createTask(t, beta, "Budget 50% cut", map[string]any{"description": "See the RUNBOOK appendix", "priority": "medium", "due_date": "2026-03-10"})
	e.transition(t, runbook, capability.TaskDoing)

	cases := []struct {
		name    string
		filters map[string]any
		want    []string
	}{
		{"OKNoFilters", map[string]any{}, []string{"Write runbook", "Fix login bug", "Plan offsite", "Runbook review", "Budget 50% cut"}},
		{"OKProject", map[string]any{"project_id": alpha}, []string{"Write runbook", "Fix login bug", "Plan offsite"}},
		{"OKProjectWithoutTasks", map[string]any{"project_id": e.createProject(t, "Quiet")}, []string{}},
		{"OKStatusDoing", map[string]any{"status": "doing"}, []string{"Write runbook"}},
		{"OKStatusTodo", map[string]any{"status": "todo"}, []string{"Fix login bug", "Plan offsite", "Runbook review", "Budget 50% cut"}},
		{"OKStatusWithNoTasks", map[string]any{"status": "cancelled"}, []string{}},
		{"OKAssignee", map[string]any{"assignee_id": ada}, []string{"Write runbook", "Runbook review"}},
		{"OKPriority", map[string]any{"priority": "high"}, []string{"Write runbook", "Runbook review"}},
		{"OKDueBeforeIsInclusive", map[string]any{"due_before": "2026-03-05"}, []string{"Write runbook", "Runbook review"}},
		{"OKDueAfterIsInclusive", map[string]any{"due_after": "2026-03-05"}, []string{"Fix login bug", "Runbook review", "Budget 50% cut"}},
		{"OKDueOnOneDay", map[string]any{"due_after": "2026-03-10", "due_before": "2026-03-10"}, []string{"Fix login bug", "Budget 50% cut"}},
		{"OKQueryMatchesTitleAndDescriptionIgnoringCase", map[string]any{"query": "runBOOK"}, []string{"Write runbook", "Runbook review", "Budget 50% cut"}},
		{"OKQueryPercentIsLiteral", map[string]any{"query": "50%"}, []string{"Budget 50% cut"}},
		{"OKQueryUnderscoreIsLiteral", map[string]any{"query": "_"}, []string{}},
		{"OKFiltersCombine", map[string]any{"project_id": beta, "priority": "high", "query": "review", "assignee_id": ada, "status": "todo", "due_before": "2026-03-05", "due_after": "2026-03-05"}, []string{"Runbook review"}},
		{"OKFiltersCombineToNothing", map[string]any{"project_id": alpha, "assignee_id": ada, "status": "todo"}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := e.ok(t, "projects.list_tasks", tc.filters)
			assert.Equal(t, tc.want, titles(out))
			assert.Nil(t, out["next_cursor"])
		})
	}

	t.Run("OKItemsAreFullTasks", func(t *testing.T) {
		out := e.ok(t, "projects.list_tasks", map[string]any{"status": "doing"})
		item := out["items"].([]any)[0].(map[string]any)
		assert.Equal(t, e.getTask(t, runbook), item)
	})
	t.Run("ErrDueAfterLaterThanDueBefore", func(t *testing.T) {
		out := e.rejected(t, "projects.list_tasks", map[string]any{"due_after": "2026-03-06", "due_before": "2026-03-05"}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/due_after"}, issuePaths(out))
	})
	t.Run("ErrUnknownProject", func(t *testing.T) {
		out := e.rejected(t, "projects.list_tasks", map[string]any{"project_id": "prj_00000000000000000000000000000000"}, capability.CodeUnknownProject)
		assert.Equal(t, []string{"/project_id"}, issuePaths(out))
	})
	t.Run("ErrUnknownAssignee", func(t *testing.T) {
		out := e.rejected(t, "projects.list_tasks", map[string]any{"assignee_id": "stf_00000000000000000000000000000000"}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/assignee_id"}, issuePaths(out))
	})
	t.Run("ErrBadStatus", func(t *testing.T) {
		out := e.rejected(t, "projects.list_tasks", map[string]any{"status": "archived"}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/status"}, issuePaths(out))
	})
	t.Run("ErrBadDueDate", func(t *testing.T) {
		out := e.rejected(t, "projects.list_tasks", map[string]any{"due_before": "2026-02-30"}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/due_before"}, issuePaths(out))
	})
	for _, limit := range []int{0, 101} {
		t.Run(fmt.Sprintf("ErrLimit%d", limit), func(t *testing.T) {
			out := e.rejected(t, "projects.list_tasks", map[string]any{"limit": limit}, capability.CodeInvalidInput)
			assert.Equal(t, []string{"/limit"}, issuePaths(out))
		})
	}
}

// pages follows next_cursor from the first page of list_tasks with filters
// and returns every page's titles.
func (e *env) pages(t *testing.T, filters map[string]any) [][]string {
	t.Helper()
	var out [][]string
	args := map[string]any{}
	for k, v := range filters {
		args[k] = v
	}
	for range 20 {
		page := e.ok(t, "projects.list_tasks", args)
		out = append(out, titles(page))
		next, more := page["next_cursor"].(string)
		if !more {
			require.Nil(t, page["next_cursor"], "next_cursor is a string or null")
			return out
		}
		args["cursor"] = next
	}
	t.Fatal("pagination did not end")
	return nil
}

func TestListTasksPagination(t *testing.T) {
	e := newEnv(t)
	project := e.createProject(t, "Paged")
	other := e.createProject(t, "Other")
	var all []string
	for i := range 5 {
		title := fmt.Sprintf("task %d", i)
		e.createTask(t, project, title, nil)
		all = append(all, title)
	}
	e.createTask(t, other, "elsewhere", nil)
	filters := map[string]any{"project_id": project, "limit": 2}

	t.Run("OKNoGapsNoDuplicates", func(t *testing.T) {
		pages := e.pages(t, filters)
		assert.Equal(t, [][]string{{"task 0", "task 1"}, {"task 2", "task 3"}, {"task 4"}}, pages)
	})
	t.Run("OKExactMultipleEndsWithoutEmptyPage", func(t *testing.T) {
		pages := e.pages(t, map[string]any{"project_id": project, "limit": 5})
		assert.Equal(t, [][]string{all}, pages)
	})
	t.Run("OKDefaultLimit", func(t *testing.T) {
		pages := e.pages(t, map[string]any{"project_id": project})
		assert.Equal(t, [][]string{all}, pages)
	})
	t.Run("OKLimitCanChangeBetweenPages", func(t *testing.T) {
		first := e.ok(t, "projects.list_tasks", filters)
		second := e.ok(t, "projects.list_tasks", map[string]any{"project_id": project, "limit": 3, "cursor": first["next_cursor"]})
		assert.Equal(t, []string{"task 2", "task 3", "task 4"}, titles(second))
		assert.Nil(t, second["next_cursor"])
	})
	t.Run("OKTasksCreatedWhilePagingComeLast", func(t *testing.T) {
		first := e.ok(t, "projects.list_tasks", filters)
		e.createTask(t, project, "late", nil)
		rest := e.pages(t, map[string]any{"project_id": project, "limit": 2, "cursor": first["next_cursor"]})
		var seen []string
		seen = append(seen, titles(first)...)
		for _, p := range rest {
			seen = append(seen, p...)
		}
		assert.Equal(t, append(append([]string{}, all...), "late"), seen)
	})

	first := e.ok(t, "projects.list_tasks", filters)
	cursor := first["next_cursor"].(string)
	changed := map[string]map[string]any{
		"ProjectID": {"project_id": other},
		"NoProject": {},
		"Status":    {"project_id": project, "status": "todo"},
		"Query":     {"project_id": project, "query": "task"},
		"Priority":  {"project_id": project, "priority": "low"},
		"DueBefore": {"project_id": project, "due_before": "2030-01-01"},
	}
	for name, f := range changed {
		t.Run("ErrCursorWithOtherFilters/"+name, func(t *testing.T) {
			f["cursor"] = cursor
			out := e.rejected(t, "projects.list_tasks", f, capability.CodeInvalidInput)
			assert.Equal(t, []string{"/cursor"}, issuePaths(out))
		})
	}
	garbage := map[string]string{
		"NotBase64":     "not a cursor!",
		"Base64NotJSON": base64.RawURLEncoding.EncodeToString([]byte("hello")),
		"EmptyPosition": base64.RawURLEncoding.EncodeToString([]byte(`{"a":"","f":1}`)),
		"ForgedHash":    base64.RawURLEncoding.EncodeToString([]byte(`{"a":"tsk_1","f":1}`)),
		"TooLong":       strings.Repeat("A", 513),
	}
	for name, c := range garbage {
		t.Run("ErrGarbageCursor/"+name, func(t *testing.T) {
			out := e.rejected(t, "projects.list_tasks", map[string]any{"project_id": project, "cursor": c}, capability.CodeInvalidInput)
			assert.Equal(t, []string{"/cursor"}, issuePaths(out))
		})
	}
	t.Run("ErrCursorOfAnotherCapability", func(t *testing.T) {
		projects := e.ok(t, "projects.list_projects", map[string]any{"limit": 1})
		out := e.rejected(t, "projects.list_tasks", map[string]any{"cursor": projects["next_cursor"]}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/cursor"}, issuePaths(out))
	})
}
