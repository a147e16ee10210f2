package projectkit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/capd-dev/capd/internal/capability"
)

// TestListCursorIsBoundToItsCapability checks the contracts' promise that a
// cursor which is not a next_cursor of the capability being called is
// invalid_input at /cursor. list_projects and list_staff both take only a
// query, so their cursors must still not be interchangeable.
func TestListCursorIsBoundToItsCapability(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"ada", "bob", "cyd"} {
		e.staff(t, name)
	}
	for _, name := range []string{"Alpha", "Beta", "Gamma"} {
		e.createProject(t, name)
	}
	staffCursor := e.ok(t, "projects.list_staff", map[string]any{"limit": 1})["next_cursor"]
	projectCursor := e.ok(t, "projects.list_projects", map[string]any{"limit": 1})["next_cursor"]

	t.Run("ErrStaffCursorOnListProjects", func(t *testing.T) {
		out := e.rejected(t, "projects.list_projects", map[string]any{"limit": 1, "cursor": staffCursor}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/cursor"}, issuePaths(out))
	})
	t.Run("ErrProjectCursorOnListStaff", func(t *testing.T) {
		out := e.rejected(t, "projects.list_staff", map[string]any{"limit": 1, "cursor": projectCursor}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/cursor"}, issuePaths(out))
	})
	t.Run("OKOwnCursors", func(t *testing.T) {
		assert.Len(t, e.ok(t, "projects.list_staff", map[string]any{"limit": 1, "cursor": staffCursor})["items"], 1)
		assert.Len(t, e.ok(t, "projects.list_projects", map[string]any{"limit": 1, "cursor": projectCursor})["items"], 1)
	})
}
