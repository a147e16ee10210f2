package sqlite

import (
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

func TestFindTaskTypes(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")
	find := func(category string) []*capability.TaskType {
		var out []*capability.TaskType
		view(t, store, func(tx capability.Tx) error {
			var err error
			out, err = tx.FindTaskTypes(ctx, category)
			return err
		})
		return out
	}

	t.Run("OKSeededTaxonomy", func(t *testing.T) {
		all := find("")
		names := make([]string, len(all))
		for i, tt := range all {
			names[i] = taskTypeName(tt)
		}
		require.True(t, slices.IsSorted(names), "ordered by category, then task type")
		categories := map[string]int{}
		snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
		for _, tt := range all {
			categories[tt.Category]++
			require.Regexp(t, snake, tt.Category)
			require.Regexp(t, snake, tt.TaskType)
			require.NotEmpty(t, tt.Description, taskTypeName(tt))
		}
		require.Len(t, categories, 5)
		for c, n := range categories {
			require.True(t, n >= 3 && n <= 5, "category %s has %d types", c, n)
		}
		require.Contains(t, names, "engineering/bug_fix")
		require.Contains(t, names, "research/user_interviews")
	})

	t.Run("OKFilteredByCategory", func(t *testing.T) {
		got := find("design")
		require.Equal(t, []string{"design/prototype", "design/ux_research", "design/visual_design"}, ids(got, func(tt *capability.TaskType) string { return taskTypeName(tt) }))
	})

	t.Run("OKUnknownCategoryIsEmpty", func(t *testing.T) {
		require.Empty(t, find("astrology"))
	})
}

func TestFindTaskType(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, Options{})
	store := createTenant(t, db, "acme")

	t.Run("OK", func(t *testing.T) {
		view(t, store, func(tx capability.Tx) error {
			tt, err := tx.FindTaskType(ctx, "content", "release_notes")
			require.NoError(t, err)
			require.Equal(t, "content", tt.Category)
			require.Equal(t, "release_notes", tt.TaskType)
			require.NotEmpty(t, tt.Description)
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, store, func(tx capability.Tx) error {
			_, err := tx.FindTaskType(ctx, "content", "bug_fix")
			require.ErrorIs(t, err, capability.ErrNotFound, "a type of another category")
			_, err = tx.FindTaskType(ctx, "Content", "release_notes")
			require.ErrorIs(t, err, capability.ErrNotFound, "names are matched exactly")
			return nil
		})
	})
}
