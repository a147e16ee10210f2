package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
	"github.com/capd-dev/capd/internal/store/storecore"
)

// testFindTasks covers FindTasks: each filter alone and combined, the
// literal query, creation order and paging.
func testFindTasks(t *testing.T, e *env) {
	s := e.tenant(t, "find-tasks")
	web := mustCreateProject(t, s, "Website")
	app := mustCreateProject(t, s, "App")
	ada := mustCreateStaff(t, s, "ada")
	bob := mustCreateStaff(t, s, "bob")

	mk := func(task capability.Task) string {
		if task.ProjectID == "" {
			task.ProjectID = web.ID
		}
		return mustCreateTask(t, s, &task).ID
	}
	t0 := mk(capability.Task{Title: "Plan launch", Status: capability.TaskTodo, Priority: "high", DueDate: "2025-04-01", AssigneeID: ada.ID})
	t1 := mk(capability.Task{Title: "Write copy", Description: "100% original", Status: capability.TaskDoing, Priority: "medium", DueDate: "2025-04-10", AssigneeID: bob.ID})
	t2 := mk(capability.Task{Title: "Fix bug_42", Status: capability.TaskWaiting, Priority: "low", DueDate: "2025-04-20"})
	t3 := mk(capability.Task{Title: "Review PR", Status: capability.TaskReview, AssigneeID: ada.ID})
	t4 := mk(capability.Task{Title: "App store listing", ProjectID: app.ID, Status: capability.TaskDone, DueDate: "2025-04-10"})
	t5 := mk(capability.Task{Title: "Dropped idea", Description: "bugX42", ProjectID: app.ID, Status: capability.TaskCancelled, Priority: "high"})
	t6 := mk(capability.Task{Title: "Year end", DueDate: "2025-12-31", Description: `C:\tmp`})
	all := []string{t0, t1, t2, t3, t4, t5, t6}

	find := func(f capability.TaskFilter) []string {
		return ids(read(t, s, func(ctx context.Context, tx capability.Tx) ([]*capability.Task, error) {
			return tx.FindTasks(ctx, f)
		}), taskID)
	}

	for _, tc := range []struct {
		name   string
		filter capability.TaskFilter
		want   []string
	}{
		{"OKNoFilter", capability.TaskFilter{}, all},
		{"OKProject", capability.TaskFilter{ProjectID: app.ID}, []string{t4, t5}},
		{"OKUnknownProject", capability.TaskFilter{ProjectID: "prj_missing"}, nil},
		{"OKOneStatus", capability.TaskFilter{Status: []string{capability.TaskReview}}, []string{t3}},
		{"OKAnyOfStatuses", capability.TaskFilter{Status: []string{capability.TaskTodo, capability.TaskDone, capability.TaskCancelled}}, []string{t0, t4, t5, t6}},
		{"OKEmptyStatusListDoesNotFilter", capability.TaskFilter{Status: []string{}}, all},
		{"OKAssignee", capability.TaskFilter{AssigneeID: ada.ID}, []string{t0, t3}},
		{"OKPriority", capability.TaskFilter{Priority: "high"}, []string{t0, t5}},
		{"OKDueBeforeInclusive", capability.TaskFilter{DueBefore: "2025-04-10"}, []string{t0, t1, t4}},
		{"OKDueAfterInclusive", capability.TaskFilter{DueAfter: "2025-04-10"}, []string{t1, t2, t4, t6}},
		{"OKDueRange", capability.TaskFilter{DueAfter: "2025-04-02", DueBefore: "2025-04-19"}, []string{t1, t4}},
		{"OKDueRangeOneDay", capability.TaskFilter{DueAfter: "2025-04-10", DueBefore: "2025-04-10"}, []string{t1, t4}},
		{"OKDueRangeEmpty", capability.TaskFilter{DueAfter: "2025-04-11", DueBefore: "2025-04-19"}, nil},
		{"OKDueRangeAcrossMonthsAndYears", capability.TaskFilter{DueAfter: "2025-04-15", DueBefore: "2026-01-01"}, []string{t2, t6}},
		{"OKQueryTitleIgnoringCase", capability.TaskFilter{Query: "REVIEW"}, []string{t3}},
		{"OKQueryDescription", capability.TaskFilter{Query: "original"}, []string{t1}},
		{"OKQueryPercentLiteral", capability.TaskFilter{Query: "0%"}, []string{t1}},
		{"OKQueryUnderscoreLiteral", capability.TaskFilter{Query: "bug_4"}, []string{t2}},
		{"OKQueryBackslashLiteral", capability.TaskFilter{Query: `:\t`}, []string{t6}},
		{"OKCombined", capability.TaskFilter{ProjectID: web.ID, Status: []string{capability.TaskTodo, capability.TaskDoing}, AssigneeID: bob.ID}, []string{t1}},
		{"OKCombinedDueAndPriority", capability.TaskFilter{Priority: "high", DueBefore: "2025-12-31"}, []string{t0}},
		{"OKNoMatch", capability.TaskFilter{ProjectID: app.ID, AssigneeID: ada.ID}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, find(tc.filter))
		})
	}

	t.Run("OKPagesWithoutGapsOrDuplicates", func(t *testing.T) {
		var many []string
		for i := range 31 {
			many = append(many, mk(capability.Task{ProjectID: app.ID, Title: fmt.Sprintf("bulk %d", i), Status: capability.TaskTodo}))
		}
		for _, limit := range []int{1, 7, 31, 32} {
			got, _ := allPages(t, limit, func(p capability.Page) []string {
				return find(capability.TaskFilter{ProjectID: app.ID, Status: []string{capability.TaskTodo}, Page: p})
			})
			require.Equal(t, many, got, "limit %d", limit)
		}
		got, pages := allPages(t, 5, func(p capability.Page) []string { return find(capability.TaskFilter{Page: p}) })
		require.Equal(t, append(all, many...), got, "creation order across filters")
		require.Equal(t, 8, pages)
	})

	t.Run("OKDefaultLimit", func(t *testing.T) {
		got := find(capability.TaskFilter{})
		require.Len(t, got, storecore.DefaultPageLimit+1)
		require.Equal(t, all, got[:len(all)])
	})
}
