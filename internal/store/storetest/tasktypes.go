package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/capd-dev/capd/internal/capability"
)

// taxonomy is the category/task_type taxonomy every tenant starts with, in
// the order FindTaskTypes returns it. Both engines seed the same one, so a
// tenant moved between them keeps its task types.
var taxonomy = []string{
	"content/blog_post", "content/documentation", "content/release_notes",
	"design/prototype", "design/ux_research", "design/visual_design",
	"engineering/bug_fix", "engineering/code_review", "engineering/feature", "engineering/incident_followup", "engineering/refactor",
	"operations/compliance", "operations/procurement", "operations/vendor_management",
	"research/competitor_analysis", "research/market_research", "research/user_interviews",
}

// taskTypeName is "category/task_type".
func taskTypeName(tt *capability.TaskType) string { return tt.Category + "/" + tt.TaskType }

// testTaskTypes covers the seeded taxonomy and looking it up.
func testTaskTypes(t *testing.T, e *env) {
	ctx := context.Background()
	s := e.tenant(t, "task-types")
	find := func(category string) []*capability.TaskType {
		return read(t, s, func(ctx context.Context, tx capability.Tx) ([]*capability.TaskType, error) {
			return tx.FindTaskTypes(ctx, category)
		})
	}

	t.Run("OKSeededTaxonomy", func(t *testing.T) {
		all := find("")
		require.Equal(t, taxonomy, ids(all, taskTypeName), "ordered by category, then task type")
		for _, tt := range all {
			require.NotEmpty(t, tt.Description, taskTypeName(tt))
		}
	})

	t.Run("OKFilteredByCategory", func(t *testing.T) {
		require.Equal(t, []string{"design/prototype", "design/ux_research", "design/visual_design"}, ids(find("design"), taskTypeName))
	})

	t.Run("OKUnknownCategoryIsEmpty", func(t *testing.T) {
		require.Empty(t, find("astrology"))
		require.Empty(t, find("Design"), "names are matched exactly")
	})

	t.Run("OKFindOne", func(t *testing.T) {
		content := find("content")
		view(t, s, func(tx capability.Tx) error {
			tt, err := tx.FindTaskType(ctx, "engineering", "bug_fix")
			require.NoError(t, err)
			require.Equal(t, &capability.TaskType{Category: "engineering", TaskType: "bug_fix",
				Description: "Find and fix a defect in existing behaviour."}, tt)
			for _, listed := range content {
				got, err := tx.FindTaskType(ctx, listed.Category, listed.TaskType)
				require.NoError(t, err)
				require.Equal(t, listed, got)
			}
			return nil
		})
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		view(t, s, func(tx capability.Tx) error {
			for _, pair := range [][2]string{{"content", "bug_fix"}, {"Content", "release_notes"}, {"engineering", "nope"}, {"", ""}} {
				_, err := tx.FindTaskType(ctx, pair[0], pair[1])
				require.ErrorIs(t, err, capability.ErrNotFound, "%s/%s", pair[0], pair[1])
			}
			return nil
		})
	})
}
