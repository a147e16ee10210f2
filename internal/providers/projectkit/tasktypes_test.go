package projectkit_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

func TestListTaskTypes(t *testing.T) {
	e := newEnv(t)

	all := e.ok(t, "projects.list_task_types", map[string]any{})["items"].([]any)
	require.NotEmpty(t, all, "every tenant starts with a default taxonomy")
	categories := map[string]int{}
	var prev string
	for _, it := range all {
		tt := it.(map[string]any)
		key := tt["category"].(string) + "/" + tt["task_type"].(string)
		assert.Less(t, prev, key, "ordered by category, then task type, each pair once")
		prev = key
		categories[tt["category"].(string)]++
	}

	t.Run("OKCategory", func(t *testing.T) {
		items := e.ok(t, "projects.list_task_types", map[string]any{"category": "engineering"})["items"].([]any)
		require.Len(t, items, categories["engineering"])
		for _, it := range items {
			assert.Equal(t, "engineering", it.(map[string]any)["category"])
			assert.NotEmpty(t, it.(map[string]any)["description"])
		}
	})

	t.Run("ErrUnknownCategory", func(t *testing.T) {
		out := e.rejected(t, "projects.list_task_types", map[string]any{"category": "astrology"}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/category"}, issuePaths(out))
		for c := range categories {
			assert.Contains(t, out["message"], c, "the message names the categories that exist")
		}
	})

	t.Run("ErrCategoryIsCaseSensitive", func(t *testing.T) {
		e.rejected(t, "projects.list_task_types", map[string]any{"category": "Engineering"}, capability.CodeInvalidInput)
	})

	t.Run("ErrEmptyCategory", func(t *testing.T) {
		out := e.rejected(t, "projects.list_task_types", map[string]any{"category": ""}, capability.CodeInvalidInput)
		assert.Equal(t, []string{"/category"}, issuePaths(out))
	})
}
